-- mqtt_fields.lua: sflua's reading of an MQTT capture as tshark_msgs.py
-- writes tshark's: one line per message, "SPORT>DPORT<TAB>name=value...",
-- with Wireshark's mqtt.* names.  The messages come from each TCP
-- conversation's reassembled streams (messages(stream, MQTT)), so a
-- message over several segments is one, as tshark reassembles it.
--   lines(sf, path) -> {["SPORT>DPORT"] = {line, ...}}
-- Properties are compared as sorted lists (the codec gives them by name).
local compare = require("tshark_compare")

local M = {}

local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
local function b(v) return v and 1 or 0 end

local sorted = compare.sorted

local function varint_len(n) return n < 128 and 1 or n < 16384 and 2 or n < 2097152 and 3 or 4 end

-- Wireshark names some properties on their own
local special = {content_type = "mqtt.property.content_type", topic_alias = "mqtt.property.topic_alias",
  maximum_qos = "mqtt.property.max_qos"}
local strings = {content_type = 1, response_topic = 1, assigned_client_identifier = 1,
  authentication_method = 1, response_information = 1, server_reference = 1, reason_string = 1}

-- a property block's fields, added to f (a message may have two: CONNECT's
-- own and its will's): the lengths in order, the rest sorted
local function add(f, name, list, keep_order)
  if #list == 0 then return end
  if not keep_order then sorted(list) end
  f[name] = (f[name] and f[name] .. "," or "") .. table.concat(list, ",")
  if not keep_order then  -- sort what two blocks gave together
    local all = {}
    for x in f[name]:gmatch("[^,]+") do all[#all + 1] = x end
    f[name] = table.concat(sorted(all), ",")
  end
end

local function properties(sf, props, f)
  local ids, nums, strs, keys, vals, slen, klen, vlen = {}, {}, {}, {}, {}, {}, {}, {}
  local mqtt = require("stackforge.mqtt")
  local bytes = 0
  for name, v in pairs(props) do
    local id
    for i, n in pairs(mqtt.property_names) do if n == name then id = i end end
    local list = (name == "user_property" or (type(v) == "table" and name ~= "user_property")) and v or {v}
    if name == "user_property" then
      for _, kv in ipairs(v) do
        ids[#ids + 1] = ("0x%02x"):format(id)
        keys[#keys + 1], vals[#vals + 1] = kv[1], kv[2]
        klen[#klen + 1], vlen[#vlen + 1] = tostring(#kv[1]), tostring(#kv[2])
        bytes = bytes + 1 + 4 + #kv[1] + #kv[2]
      end
    else
      for _, x in ipairs(list) do
        ids[#ids + 1] = ("0x%02x"):format(id)
        if special[name] then f[special[name]] = tostring(x)
        elseif strings[name] then strs[#strs + 1] = x; slen[#slen + 1] = tostring(#x)
        elseif type(x) == "string" then strs[#strs + 1] = hex(x)
        else nums[#nums + 1] = tostring(x) end
        local size = ({payload_format_indicator = 1, request_problem_information = 1,
          request_response_information = 1, maximum_qos = 1, retain_available = 1,
          wildcard_subscription_available = 1, subscription_identifier_available = 1,
          shared_subscription_available = 1, server_keep_alive = 2, receive_maximum = 2,
          topic_alias_maximum = 2, topic_alias = 2})[name]
        if name == "subscription_identifier" then size = varint_len(x)
        elseif not size then size = type(x) == "string" and 2 + #x or 4 end
        bytes = bytes + 1 + size
      end
    end
  end
  add(f, "mqtt.property_len", {tostring(bytes)}, true)
  add(f, "mqtt.property_id", ids)
  add(f, "mqtt.prop_number", nums)
  add(f, "mqtt.prop_string", strs)
  add(f, "mqtt.prop_string_len", slen)
  add(f, "mqtt.prop_key", keys)
  add(f, "mqtt.prop_key_len", klen)
  add(f, "mqtt.prop_value", vals)
  add(f, "mqtt.prop_value_len", vlen)
end

-- the fields tshark shows for one message (a Packet from messages())
function M.fields(sf, m)
  local f = {}
  local h = m[sf.MQTT]
  local t = h.type
  local low = h.DUP << 3 | h.QOS << 1 | h.RETAIN
  f["mqtt.msgtype"] = tostring(t)
  f["mqtt.len"] = tostring(h.len)
  f["mqtt.hdrflags"] = ("0x%02x"):format(t << 4 | low)
  if t == 3 then
    f["mqtt.dupflag"], f["mqtt.qos"], f["mqtt.retain"] = tostring(h.DUP), tostring(h.QOS), tostring(h.RETAIN)
  else
    f["mqtt.hdr_reserved"] = tostring(low)
  end
  local v = m:layer(2)
  local function set(name, x) if x ~= nil then f[name] = tostring(x) end end
  if t == 1 then
    v = m[sf.MQTTConnect]
    set("mqtt.proto_len", v.length); set("mqtt.protoname", v.protoname); set("mqtt.ver", v.protolevel)
    f["mqtt.conflags"] = ("0x%02x"):format(v.usernameflag << 7 | v.passwordflag << 6 |
      v.willretainflag << 5 | v.willQOSflag << 3 | v.willflag << 2 | v.cleansess << 1 | v.reserved)
    set("mqtt.conflag.uname", v.usernameflag); set("mqtt.conflag.passwd", v.passwordflag)
    set("mqtt.conflag.retain", v.willretainflag); set("mqtt.conflag.qos", v.willQOSflag)
    set("mqtt.conflag.willflag", v.willflag); set("mqtt.conflag.cleansess", v.cleansess)
    set("mqtt.conflag.reserved", v.reserved); set("mqtt.kalive", v.klive)
    set("mqtt.clientid_len", v.clientIdlen); set("mqtt.clientid", v.clientId)
    set("mqtt.willtopic_len", v.wtoplen); set("mqtt.willtopic", v.willtopic)
    set("mqtt.willmsg_len", v.wmsglen); if v.willmsg then f["mqtt.willmsg"] = hex(v.willmsg) end
    set("mqtt.username_len", v.userlen); set("mqtt.username", v.username)
    set("mqtt.passwd_len", v.passlen); if v.password then f["mqtt.passwd"] = hex(v.password) end
    if v.properties then properties(sf, v.properties, f) end
    if v.willproperties then properties(sf, v.willproperties, f) end
  elseif t == 2 then
    v = m[sf.MQTTConnack]
    f["mqtt.conack.flags"] = ("0x%02x"):format(v.sessPresentFlag)
    set("mqtt.conack.flags.sp", v.sessPresentFlag & 1); f["mqtt.conack.flags.reserved"] = "0"
    if v.properties then
      set("mqtt.connack.reason_code", v.retcode)
      properties(sf, v.properties, f)
    else
      set("mqtt.conack.val", v.retcode)
    end
  elseif t == 3 then
    v = m[sf.MQTTPublish]
    set("mqtt.topic_len", v.length); set("mqtt.topic", v.topic); set("mqtt.msgid", v.msgid)
    f["mqtt.msg"] = hex(v.value)
    if v.properties then properties(sf, v.properties, f) end
  elseif t >= 4 and t <= 7 or t == 11 then
    set("mqtt.msgid", v and v.msgid)
    local names = {[4] = "puback", [5] = "pubrec", [6] = "pubrel", [7] = "pubcomp"}
    if v and v.reasonCode and names[t] then set(("mqtt.%s.reason_code"):format(names[t]), v.reasonCode) end
    if v and v.properties then properties(sf, v.properties, f) end
  elseif t == 8 or t == 10 then
    set("mqtt.msgid", v.msgid)
    local tl, tt, qs = {}, {}, {}
    for i, x in ipairs(v.topics) do tl[i], tt[i], qs[i] = tostring(#x.topic), x.topic, x.QOS end
    f["mqtt.topic_len"], f["mqtt.topic"] = table.concat(tl, ","), table.concat(tt, ",")
    if v.properties then
      properties(sf, v.properties, f)
      if t == 8 then
        local o = {}
        for _, k in ipairs({"", "_qos", "_nl", "_rap", "_retain", "_reserved"}) do o[k] = {} end
        for i, q in ipairs(qs) do
          o[""][i] = ("0x%02x"):format(q); o._qos[i] = q & 3; o._nl[i] = q >> 2 & 1
          o._rap[i] = q >> 3 & 1; o._retain[i] = q >> 4 & 3; o._reserved[i] = ("0x%02x"):format(q & 0xc0)
        end
        for k, list in pairs(o) do
          for i, x in ipairs(list) do list[i] = tostring(x) end
          f["mqtt.subscription_options" .. k] = table.concat(list, ",")
        end
      end
    elseif t == 8 then
      for i, q in ipairs(qs) do qs[i] = tostring(q) end
      f["mqtt.sub.qos"] = table.concat(qs, ",")
    end
  elseif t == 9 then
    set("mqtt.msgid", v.msgid)
    local codes = type(v.retcode) == "table" and v.retcode or {v.retcode}
    for i, c in ipairs(codes) do codes[i] = tostring(c) end
    if v.properties then
      properties(sf, v.properties, f)
      f["mqtt.suback.reason_code"] = table.concat(codes, ",")
    else
      f["mqtt.suback.qos"] = table.concat(codes, ",")
    end
  end
  return f
end

local line = compare.line

-- {["SPORT>DPORT"] = {line, ...}} over every MQTT conversation of the capture
function M.lines(sf, path)
  local out = {}
  for _, c in ipairs(sf.extract_flows(path)) do
    if c.protocol == "TCP" and (c.src_port == 1883 or c.dst_port == 1883) then
      for _, dir in ipairs({{"forward", c.src_port, c.dst_port}, {"reverse", c.dst_port, c.src_port}}) do
        local key = dir[2] .. ">" .. dir[3]
        out[key] = out[key] or {}
        for _, m in ipairs(sf.messages(c["reassembled_" .. dir[1]], sf.MQTT)) do
          table.insert(out[key], line(M.fields(sf, m)))
        end
      end
    end
  end
  return out
end

-- Every field tshark gave against sflua's; properties other than their
-- lengths as sorted lists (the codec gives them by name)
function M.compare(ours, theirs, limit)
  return compare.compare(ours, theirs, limit, function(name)
    return name:match("^mqtt%.prop_") or name == "mqtt.property_id"
  end)
end

M.tshark_lines = compare.tshark_lines
return M
