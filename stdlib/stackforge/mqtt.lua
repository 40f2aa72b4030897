-- mqtt.lua: the Lua half of MQTT (the MQTT protocol file in core): 5.0's properties,
-- topic lists and return codes as Lua values (the fields' codecs), and
-- named constructors that build a whole message, fixed header included:
--   MQTT.publish{topic = "a/b", payload = "hi", qos = 1, msgid = 7}
--   MQTT.connect{client_id = "me", version = 5, properties = {session_expiry_interval = 60}}
local core = require("stackforge.core")
local layers = require("stackforge.layers")

local spack, sunpack = string.pack, string.unpack

local M = {}

-- ---- base-128 integers (the property block's length, subscription ids) ------

local function varint(n)
  local out = {}
  repeat
    local b = n % 128
    n = n // 128
    out[#out + 1] = string.char(n > 0 and b + 128 or b)
  until n == 0
  return table.concat(out)
end

-- value and the position after it, or nil
local function read_varint(d, i)
  local v, mul = 0, 1
  for k = 0, 3 do
    local b = d:byte(i + k)
    if not b then return nil end
    v = v + (b % 128) * mul
    if b < 128 then return v, i + k + 1 end
    mul = mul * 128
  end
  return nil
end

-- ---- properties (MQTT 5.0, 2.2.2.2) -------------------------------------------

local prop_names = {
  [0x01] = "payload_format_indicator", [0x02] = "message_expiry_interval",
  [0x03] = "content_type", [0x08] = "response_topic", [0x09] = "correlation_data",
  [0x0b] = "subscription_identifier", [0x11] = "session_expiry_interval",
  [0x12] = "assigned_client_identifier", [0x13] = "server_keep_alive",
  [0x15] = "authentication_method", [0x16] = "authentication_data",
  [0x17] = "request_problem_information", [0x18] = "will_delay_interval",
  [0x19] = "request_response_information", [0x1a] = "response_information",
  [0x1c] = "server_reference", [0x1f] = "reason_string", [0x21] = "receive_maximum",
  [0x22] = "topic_alias_maximum", [0x23] = "topic_alias", [0x24] = "maximum_qos",
  [0x25] = "retain_available", [0x26] = "user_property",
  [0x27] = "maximum_packet_size", [0x28] = "wildcard_subscription_available",
  [0x29] = "subscription_identifier_available", [0x2a] = "shared_subscription_available",
}
local prop_ids = {}
for id, name in pairs(prop_names) do prop_ids[name] = id end
M.property_names = prop_names

local forms = {
  [0x01] = "B", [0x17] = "B", [0x19] = "B", [0x24] = "B", [0x25] = "B", [0x28] = "B",
  [0x29] = "B", [0x2a] = "B", [0x13] = ">I2", [0x21] = ">I2", [0x22] = ">I2",
  [0x23] = ">I2", [0x02] = ">I4", [0x11] = ">I4", [0x18] = ">I4", [0x27] = ">I4",
  [0x0b] = "varint", [0x03] = ">s2", [0x08] = ">s2", [0x12] = ">s2", [0x15] = ">s2",
  [0x1a] = ">s2", [0x1c] = ">s2", [0x1f] = ">s2", [0x09] = ">s2", [0x16] = ">s2",
  [0x26] = "pair",
}

local function read_prop(d, i, stop)
  local id = d:byte(i)
  local form = forms[id]
  if not form then return nil end
  local ok, v, nxt
  if form == "varint" then
    v, nxt = read_varint(d, i + 1)
    ok = v ~= nil
  elseif form == "pair" then
    ok, v, nxt = pcall(function()
      local k, val, n = sunpack(">s2s2", d, i + 1)
      return {k, val}, n
    end)
  else
    ok, v, nxt = pcall(sunpack, form, d, i + 1)
  end
  if not ok or not nxt or nxt > stop then return nil end
  return id, v, nxt
end

-- the block's bytes (its length first) -> {name = value, user_property = {{k, v}, ...}};
-- "" (no block: MQTT 3.x) -> nil; bytes that are no block stay bytes
local function decode_props(d)
  if d == "" then return nil end
  local total, i = read_varint(d, 1)
  if not total or i + total - 1 ~= #d then return d end
  local r, stop = {}, i + total
  while i < stop do
    local id, v, nxt = read_prop(d, i, stop)
    if not id then return d end
    local name = prop_names[id]
    if name == "user_property" then
      r[name] = r[name] or {}
      table.insert(r[name], v)
    elseif r[name] ~= nil then  -- a repeated subscription identifier
      if type(r[name]) ~= "table" then r[name] = {r[name]} end
      table.insert(r[name], v)
    else
      r[name] = v
    end
    i = nxt
  end
  return r
end

local function prop_error(name, msg)
  error(("MQTT properties: %s %s"):format(tostring(name), msg), 0)
end

local function encode_value(id, name, v)
  local form = forms[id]
  if form == "pair" then
    if type(v) ~= "table" or type(v[1]) ~= "string" or type(v[2]) ~= "string" then
      prop_error(name, "takes {key, value} strings")
    end
    return spack(">Bs2s2", id, v[1], v[2])
  elseif form == ">s2" then
    if type(v) ~= "string" then prop_error(name, "takes a string") end
    return spack(">Bs2", id, v)
  end
  local max = ({B = 0xff, [">I2"] = 0xffff, [">I4"] = 0xffffffff, varint = 268435455})[form]
  if math.type(v) ~= "integer" or v < 0 or v > max then
    prop_error(name, ("takes an integer 0..%d"):format(max))
  end
  if form == "varint" then return string.char(id) .. varint(v) end
  return spack(">B" .. form:gsub(">", ""), id, v)
end

-- a table by name (or by id) -> the block's bytes; a string is taken as they are
local function encode_props(t)
  if type(t) ~= "table" then return t end
  local items = {}
  for name, v in pairs(t) do
    local id = math.type(name) == "integer" and name or prop_ids[name]
    if not id or not forms[id] then
      local known = {}
      for n in pairs(prop_ids) do known[#known + 1] = n end
      table.sort(known)
      prop_error(name, "is no property (" .. table.concat(known, ", ") .. ")")
    end
    local many = (id == 0x26 or id == 0x0b) and type(v) == "table" and
      (id == 0x0b or type(v[1]) == "table")
    for _, one in ipairs(many and v or {v}) do
      items[#items + 1] = {id, encode_value(id, name, one), #items}
    end
  end
  -- the same bytes every time: by id, repeated ones in the order given
  table.sort(items, function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[3] < b[3]) end)
  local out = {}
  for i, it in ipairs(items) do out[i] = it[2] end
  local body = table.concat(out)
  return varint(#body) .. body
end

-- ---- lists -----------------------------------------------------------------------

local function topic_of(item, i, what)
  if type(item) == "string" then return item end
  if type(item) == "table" then
    local t = item.topic or item[1]
    if type(t) == "string" then return t end
  end
  error(("%s: item %d is %s, not a topic (a string or {topic = ...})"):format(what, i, tostring(item)), 0)
end

-- SUBSCRIBE's topics, {{topic = "a/#", QOS = 1}, ...} (QOS is the whole
-- options byte, as Scapy's MQTTTopicQOS has it; strings subscribe with QoS
-- 0), and UNSUBSCRIBE's, {{topic = "a/#"}, ...} (strings too): with_qos says
-- which.
local function topics(with_qos)
  local fmt = with_qos and ">s2B" or ">s2"
  return {
    decode = function(d)
      local r, i = {}, 1
      while i <= #d do
        local ok, topic, a, b = pcall(sunpack, fmt, d, i)
        if not ok then return d end
        r[#r + 1] = with_qos and {topic = topic, QOS = a} or {topic = topic}
        i = with_qos and b or a
      end
      return r
    end,
    encode = function(list)
      if type(list) ~= "table" then return list end
      local out = {}
      for i, item in ipairs(list) do
        local q = with_qos and type(item) == "table" and (item.QOS or item.qos or item[2]) or 0
        if math.type(q) ~= "integer" or q < 0 or q > 255 then
          error(("topics: item %d's QOS is %s, not an integer 0..255"):format(i, tostring(q)), 0)
        end
        out[i] = spack(fmt, topic_of(item, i, "topics"), with_qos and q or nil)
      end
      return table.concat(out)
    end,
  }
end
local topic_qos_list, topic_list = topics(true), topics(false)

-- SUBACK's codes: one is an integer (Scapy's retcode), several a list
local codes = {
  decode = function(d)
    if #d == 1 then return d:byte() end
    return {d:byte(1, -1)}
  end,
  encode = function(v)
    if math.type(v) == "integer" then v = {v} end
    if type(v) ~= "table" then return v end
    local out = {}
    for i, c in ipairs(v) do
      if math.type(c) ~= "integer" or c < 0 or c > 255 then
        error(("retcode: item %d is %s, not an integer 0..255"):format(i, tostring(c)), 0)
      end
      out[i] = string.char(c)
    end
    return table.concat(out)
  end,
}

core.codecs.mqtt_properties = {decode = decode_props, encode = encode_props}
core.codecs.mqtt_topic_qos_list = topic_qos_list
core.codecs.mqtt_topic_list = topic_list
core.codecs.mqtt_codes = codes

-- ---- named constructors: a whole message -----------------------------------------

local L = layers
local header_keys = {qos = "QOS", retain = "RETAIN", dup = "DUP"}

-- Check a constructor's table: every key one it takes (an error at the caller's caller).
local function check(name, t, allowed)
  if t ~= nil and type(t) ~= "table" then
    error(("MQTT.%s: a table of fields expected, got %s"):format(name, type(t)), 3)
  end
  t = t or {}
  for k in pairs(t) do
    if not allowed[k] then
      local names = {}
      for a in pairs(allowed) do names[#names + 1] = a end
      table.sort(names)
      error(("MQTT.%s: unknown field '%s' (%s)"):format(name, tostring(k), table.concat(names, ", ")), 3)
    end
  end
  return t
end

local function set(keys)
  local r = {}
  for k in keys:gmatch("[%w_]+") do r[k] = true end
  return r
end

-- the fixed header: its type, the flags the table gives
local function header(mtype, t, flags)
  local h = {type = mtype}
  for k, f in pairs(header_keys) do
    local v = t[k]
    if type(v) == "boolean" then v = v and 1 or 0 end
    if v ~= nil then h[f] = v end
  end
  for k, v in pairs(flags or {}) do h[k] = v end
  return L.MQTT(h)
end

local function drop_nils(t)
  local r = {}
  for k, v in pairs(t) do r[k] = v end
  return r
end

local function connect(t)
  t = check("connect", t, set("client_id clean keep_alive version username password will properties"))
  local version = t.version or 4
  local f = {
    protoname = version == 3 and "MQIsdp" or "MQTT", protolevel = version,
    cleansess = t.clean == false and 0 or 1, klive = t.keep_alive or 60,
    clientId = t.client_id or "", properties = t.properties,
  }
  if version == 5 and f.properties == nil then f.properties = {} end
  if t.username then f.usernameflag, f.username = 1, t.username end
  if t.password then f.passwordflag, f.password = 1, t.password end
  if t.will then
    local w = t.will
    f.willflag, f.willtopic, f.willmsg = 1, w.topic or "", w.message or w.payload or ""
    f.willQOSflag, f.willretainflag = w.qos or 0, w.retain and 1 or 0
    if version == 5 then f.willproperties = w.properties or {} end
  end
  return header(1, {}) / L.MQTTConnect(drop_nils(f))
end

local function publish(t)
  t = check("publish", t, set("topic payload value qos retain dup msgid properties"))
  local f = {topic = t.topic or "", value = t.payload or t.value or "", properties = t.properties}
  if (t.qos or 0) > 0 then f.msgid = t.msgid or 1 end
  return header(3, t) / L.MQTTPublish(drop_nils(f))
end

-- acknowledgements: a message id, and in 5.0 a reason code and properties
local function ack(name, mtype, cls, flags)
  return function(t)
    t = check(name, t, set("msgid reason properties"))
    local f = {msgid = t.msgid or 1}
    if t.reason or t.properties then f.reasonCode = t.reason or 0 end
    f.properties = t.properties
    return header(mtype, {}, flags) / cls(drop_nils(f))
  end
end

local function listed(name, mtype, cls, list)
  return function(t)
    t = check(name, t, set("msgid topics codes properties"))
    local f = {msgid = t.msgid or 1, properties = t.properties}
    f[list] = t[list == "retcode" and "codes" or list] or {}
    return header(mtype, {}, mtype ~= 9 and {QOS = 1} or nil) / cls(drop_nils(f))
  end
end

local function reason(name, mtype, cls)
  return function(t)
    t = check(name, t, set("reason properties"))
    if t.reason == nil and t.properties == nil then return header(mtype, {}) end
    return header(mtype, {}) / cls(drop_nils({reasonCode = t.reason or 0, properties = t.properties}))
  end
end

local MQTT = L.MQTT
MQTT.connect = connect
MQTT.connack = function(t)
  t = check("connack", t, set("session_present code properties"))
  return header(2, {}) / L.MQTTConnack(drop_nils({sessPresentFlag = t.session_present and 1 or 0,
    retcode = t.code or 0, properties = t.properties}))
end
MQTT.publish = publish
MQTT.puback = ack("puback", 4, L.MQTTPuback)
MQTT.pubrec = ack("pubrec", 5, L.MQTTPubrec)
MQTT.pubrel = ack("pubrel", 6, L.MQTTPubrel, {QOS = 1})  -- its flags are 0010
MQTT.pubcomp = ack("pubcomp", 7, L.MQTTPubcomp)
MQTT.subscribe = listed("subscribe", 8, L.MQTTSubscribe, "topics")
MQTT.suback = listed("suback", 9, L.MQTTSuback, "retcode")
MQTT.unsubscribe = listed("unsubscribe", 10, L.MQTTUnsubscribe, "topics")
MQTT.unsuback = function(t)
  t = check("unsuback", t, set("msgid codes properties"))
  local f = {msgid = t.msgid or 1, properties = t.properties}
  if t.codes then f.reasonCodes = t.codes end
  return header(11, {}) / L.MQTTUnsuback(drop_nils(f))
end
MQTT.pingreq = function(t) check("pingreq", t, {}); return header(12, {}) end
MQTT.pingresp = function(t) check("pingresp", t, {}); return header(13, {}) end
MQTT.disconnect = reason("disconnect", 14, L.MQTTDisconnect)
MQTT.auth = reason("auth", 15, L.MQTTAuth)

M.varint = varint
M.read_varint = read_varint
return M
