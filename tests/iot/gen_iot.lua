-- gen_iot.lua SEED COUNT: random MQTT, MQTT-SN and Modbus/TCP messages for
-- the Scapy 2.5 cross-check (scapy.contrib.mqtt, mqttsn, modbus).  Prints
-- one line per case: the Scapy expression, a tab, the same packet as a Lua
-- expression for sflua, a tab, sflua's bytes in hex.
--
-- What Scapy builds differently on purpose is left out or given
-- explicitly: its MQTTConnect defaults to protocol level 5 without 5.0's
-- properties (a CONNECT no broker takes), so the cases give level 3 or 4;
-- stacked MQTT messages get a fixed header length counting the messages
-- after them, so a case holds one message; a default MQTTSNDisconnect has
-- a duration its length does not count, so the cases give one or none.
local sf = require("stackforge")
local seed, count = tonumber(arg[1]) or 20261129, tonumber(arg[2]) or 400
math.randomseed(seed)
local R = math.random
local function pick(t) return t[R(1, #t)] end
local function chance(p) return R() < p end

local function bytes(n, text)
  local t = {}
  for i = 1, n do t[i] = string.char(text and R(97, 122) or R(0, 255)) end
  return table.concat(t)
end
local function topic()
  local t = {}
  for i = 1, R(1, 4) do t[i] = bytes(R(1, 8), true) end
  return table.concat(t, "/")
end
-- a long run of one byte, written short in both languages
local function rep(c, n) return {rep = c, n = n} end

local function payload()
  if chance(0.08) then return rep(bytes(1, true), R(16384, 20000)) end  -- 3-byte lengths
  local n = pick({0, 1, 5, 40, 127, 128, 200, R(1, 300)})
  return bytes(n, chance(0.5))
end

-- ---- both languages' spelling ----------------------------------------------------

-- text Scapy takes as a str (addresses, TCP flags): {txt = "..."}
local function txt(s) return {txt = s} end

local function py(v)
  if math.type(v) then return tostring(v) end
  if type(v) == "table" then
    if v.txt then return "'" .. v.txt .. "'" end
    if v.rep then return ("b'%s'*%d"):format(v.rep, v.n) end
    if v.cls then return v.cls .. "(" .. table.concat(v.args, ", ") .. ")" end
    local t = {}
    for i, x in ipairs(v) do t[i] = py(x) end
    return "[" .. table.concat(t, ", ") .. "]"
  end
  return "b'" .. v:gsub(".", function(c)
    if c:match("[%w%./ ]") then return c end
    return ("\\x%02x"):format(c:byte())
  end) .. "'"
end

local function lua(v)
  if math.type(v) then return tostring(v) end
  if type(v) == "table" then
    if v.txt then return '"' .. v.txt .. '"' end
    if v.rep then return ('("%s"):rep(%d)'):format(v.rep, v.n) end
    if v.cls then return v.lua end
    local t = {}
    for i, x in ipairs(v) do t[i] = lua(x) end
    return "{" .. table.concat(t, ", ") .. "}"
  end
  return '"' .. v:gsub("[^%w%./ ]", function(c) return ("\\%03d"):format(c:byte()) end) .. '"'
end

-- a layer: class and {{field, value}, ...}, written for each language
local function layer(cls, fields)
  local pa, la = {}, {}
  for i, f in ipairs(fields or {}) do
    pa[i] = ("%s=%s"):format(f[1], py(f[2]))
    la[i] = ("%s = %s"):format(f[1], lua(f[2]))
  end
  return {py = ("%s(%s)"):format(cls, table.concat(pa, ", ")),
          lua = ("%s{%s}"):format(cls, table.concat(la, ", "))}
end

-- a list item that is a packet in Scapy and a table in Lua
local function item(cls, fields)
  local args, lt = {}, {}
  for i, f in ipairs(fields) do
    args[i] = ("%s=%s"):format(f[1], py(f[2]))
    lt[i] = ("%s = %s"):format(f[1], lua(f[2]))
  end
  return {cls = cls, args = args, lua = "{" .. table.concat(lt, ", ") .. "}"}
end

local function u16() return R(0, 0xffff) end
local function u8() return R(0, 0xff) end
local function port() return R(10000, 60000) end

-- ---- MQTT ---------------------------------------------------------------------------

local function mqtt_connect()
  local f = {{"protoname", pick({"MQTT", "MQIsdp"})}, {"protolevel", pick({3, 4})},
    {"cleansess", R(0, 1)}, {"klive", u16()}, {"clientId", bytes(R(0, 23), true)}}
  if chance(0.4) then
    f[#f + 1] = {"willflag", 1}
    f[#f + 1] = {"willQOSflag", R(0, 2)}
    f[#f + 1] = {"willretainflag", R(0, 1)}
    f[#f + 1] = {"willtopic", topic()}
    f[#f + 1] = {"willmsg", bytes(R(0, 30))}
  end
  if chance(0.4) then f[#f + 1] = {"usernameflag", 1}; f[#f + 1] = {"username", bytes(R(0, 12), true)} end
  if chance(0.3) then f[#f + 1] = {"passwordflag", 1}; f[#f + 1] = {"password", bytes(R(0, 12))} end
  return {layer("MQTT", {{"type", 1}}), layer("MQTTConnect", f)}
end

local function mqtt_publish()
  local q = R(0, 2)
  local h = {{"QOS", q}, {"RETAIN", R(0, 1)}, {"DUP", R(0, 1)}}
  local f = {{"topic", topic()}, {"value", payload()}}
  if q > 0 or chance(0.2) then f[#f + 1] = {"msgid", u16()} end  -- QoS 0: dropped by both
  return {layer("MQTT", h), layer("MQTTPublish", f)}
end

local function mqtt_subscribe()
  local ts = {}
  for i = 1, R(1, 4) do ts[i] = item("MQTTTopicQOS", {{"topic", topic()}, {"QOS", R(0, 2)}}) end
  return {layer("MQTT", {{"QOS", 1}}), layer("MQTTSubscribe", {{"msgid", u16()}, {"topics", ts}})}
end

local function mqtt_unsubscribe()
  local ts = {}
  for i = 1, R(1, 4) do ts[i] = item("MQTTTopic", {{"topic", topic()}}) end
  return {layer("MQTT", {{"QOS", 1}}), layer("MQTTUnsubscribe", {{"msgid", u16()}, {"topics", ts}})}
end

local function mqtt_ack()
  local cls = pick({"MQTTPuback", "MQTTPubrec", "MQTTPubrel", "MQTTPubcomp", "MQTTUnsuback"})
  return {layer("MQTT", {{"QOS", cls == "MQTTPubrel" and 1 or 0}}), layer(cls, {{"msgid", u16()}})}
end

local function mqtt_other()
  local k = R(1, 4)
  if k == 1 then
    return {layer("MQTT", {{"type", 2}}),
            layer("MQTTConnack", {{"sessPresentFlag", R(0, 1)}, {"retcode", R(0, 5)}})}
  elseif k == 2 then
    return {layer("MQTT", {{"type", 9}}), layer("MQTTSuback", {{"msgid", u16()}, {"retcode", pick({1, 2, 0x80})}})}
  elseif k == 3 then
    return {layer("MQTT", {{"type", 14}}), layer("MQTTDisconnect")}
  end
  return {layer("MQTT", {{"type", pick({12, 13})}})}
end

local function mqtt()
  local msg = pick({mqtt_connect, mqtt_publish, mqtt_publish, mqtt_subscribe, mqtt_unsubscribe,
                    mqtt_ack, mqtt_other})()
  if chance(0.6) then
    table.insert(msg, 1, layer("TCP", {{"sport", port()}, {"dport", 1883}, {"flags", txt("PA")},
      {"seq", R(0, 0x7fffffff)}}))
    table.insert(msg, 1, layer("IP", {{"src", txt("192.0.2.1")}, {"dst", txt("192.0.2.2")}}))
  end
  return msg
end

-- ---- MQTT-SN --------------------------------------------------------------------------

local function flags()
  return {{"dup", R(0, 1)}, {"qos", R(0, 3)}, {"retain", R(0, 1)}, {"will", R(0, 1)},
          {"cleansess", R(0, 1)}}
end
local function with(a, b)
  for _, x in ipairs(b) do a[#a + 1] = x end
  return a
end
local function str(n) return bytes(R(0, n), chance(0.7)) end

local mqttsn_bodies = {
  function() return "MQTTSNAdvertise", {{"gw_id", u8()}, {"duration", u16()}} end,
  function() return "MQTTSNSearchGW", {{"radius", u8()}} end,
  function() return "MQTTSNGwInfo", {{"gw_id", u8()}, {"gw_addr", str(16)}} end,
  function() return "MQTTSNConnect", with(flags(), {{"tid_type", R(0, 3)}, {"prot_id", u8()},
    {"duration", u16()}, {"client_id", str(23)}}) end,
  function() return "MQTTSNConnack", {{"return_code", R(0, 3)}} end,
  function() return "MQTTSNWillTopic", with(flags(), {{"tid_type", R(0, 3)}, {"will_topic", str(30)}}) end,
  function() return "MQTTSNWillMsg", {{"will_msg", str(40)}} end,
  function() return "MQTTSNRegister", {{"tid", u16()}, {"mid", u16()}, {"topic_name", str(30)}} end,
  function() return "MQTTSNRegack", {{"tid", u16()}, {"mid", u16()}, {"return_code", R(0, 3)}} end,
  function() return "MQTTSNPublish", with(flags(), {{"tid_type", R(0, 3)}, {"tid", u16()},
    {"mid", u16()}, {"data", bytes(pick({0, 3, 50, 250, R(260, 600)}), chance(0.5))}}) end,
  function() return "MQTTSNPuback", {{"tid", u16()}, {"mid", u16()}, {"return_code", R(0, 3)}} end,
  function() return pick({"MQTTSNPubcomp", "MQTTSNPubrec", "MQTTSNPubrel", "MQTTSNUnsuback"}),
    {{"mid", u16()}} end,
  function()
    local t = R(0, 3)
    local f = with(flags(), {{"tid_type", t}, {"mid", u16()}})
    if t == 1 then f[#f + 1] = {"tid", u16()}
    elseif t == 2 then f[#f + 1] = {"short_topic", bytes(2, true)}
    else f[#f + 1] = {"topic_name", str(30)} end
    return pick({"MQTTSNSubscribe", "MQTTSNUnsubscribe"}), f
  end,
  function() return "MQTTSNSuback", with(flags(), {{"tid_type", R(0, 3)}, {"tid", u16()},
    {"mid", u16()}, {"return_code", R(0, 3)}}) end,
  function() return "MQTTSNPingReq", {{"client_id", str(23)}} end,
  function() return "MQTTSNDisconnect", {{"duration", u16()}} end,
  function() return "MQTTSNWillTopicUpd", with(flags(), {{"tid_type", R(0, 3)}, {"will_topic", str(30)}}) end,
  function() return pick({"MQTTSNWillTopicResp", "MQTTSNWillMsgResp"}), {{"return_code", R(0, 3)}} end,
  function() return "MQTTSNWillMsgUpd", {{"will_msg", str(40)}} end,
}

local function mqttsn()
  local cls, f = pick(mqttsn_bodies)()
  local msg = {layer("MQTTSN"), layer(cls, f)}
  if chance(0.1) then  -- forwarded by a gateway
    table.insert(msg, 1, layer("MQTTSNEncaps", {{"radius", R(0, 3)}, {"w_node_id", bytes(R(1, 8))}}))
    table.insert(msg, 1, layer("MQTTSN"))
  end
  if chance(0.6) then
    table.insert(msg, 1, layer("UDP", {{"sport", port()}, {"dport", 1883}}))
    table.insert(msg, 1, layer("IP", {{"src", txt("192.0.2.1")}, {"dst", txt("192.0.2.2")}}))
  end
  return msg
end

-- ---- Modbus/TCP -------------------------------------------------------------------------

local function regs(n) local t = {} for i = 1, n do t[i] = u16() end return t end
local function bytelist(n) local t = {} for i = 1, n do t[i] = u8() end return t end

-- {request class and fields, response class and fields, error class}
local modbus_pairs = {
  function()
    local q = pick({{"01ReadCoils", "coilStatus"}, {"02ReadDiscreteInputs", "inputStatus"}})
    return {"ModbusPDU" .. q[1] .. "Request", {{"startAddr", u16()}, {"quantity", R(1, 2000)}}},
           {"ModbusPDU" .. q[1] .. "Response", {{q[2], bytelist(R(1, 20))}}}, "ModbusPDU" .. q[1] .. "Error"
  end,
  function()
    local q = pick({"03ReadHoldingRegisters", "04ReadInputRegisters"})
    return {"ModbusPDU" .. q .. "Request", {{"startAddr", u16()}, {"quantity", R(1, 125)}}},
           {"ModbusPDU" .. q .. "Response", {{"registerVal", regs(R(1, 30))}}}, "ModbusPDU" .. q .. "Error"
  end,
  function()
    local f = {{"outputAddr", u16()}, {"outputValue", pick({0, 0xff00})}}
    return {"ModbusPDU05WriteSingleCoilRequest", f}, {"ModbusPDU05WriteSingleCoilResponse", f},
      "ModbusPDU05WriteSingleCoilError"
  end,
  function()
    local f = {{"registerAddr", u16()}, {"registerValue", u16()}}
    return {"ModbusPDU06WriteSingleRegisterRequest", f}, {"ModbusPDU06WriteSingleRegisterResponse", f},
      "ModbusPDU06WriteSingleRegisterError"
  end,
  function()
    local a, n = u16(), R(1, 40)
    return {"ModbusPDU0FWriteMultipleCoilsRequest", {{"startAddr", a}, {"quantityOutput", n},
             {"outputsValue", bytelist((n + 7) // 8)}}},
           {"ModbusPDU0FWriteMultipleCoilsResponse", {{"startAddr", a}, {"quantityOutput", n}}},
           "ModbusPDU0FWriteMultipleCoilsError"
  end,
  function()
    local a, v = u16(), regs(R(1, 20))
    return {"ModbusPDU10WriteMultipleRegistersRequest", {{"startAddr", a}, {"outputsValue", v}}},
           {"ModbusPDU10WriteMultipleRegistersResponse", {{"startAddr", a}, {"quantityRegisters", #v}}},
           "ModbusPDU10WriteMultipleRegistersError"
  end,
  function()
    local f = {{"refAddr", u16()}, {"andMask", u16()}, {"orMask", u16()}}
    return {"ModbusPDU16MaskWriteRegisterRequest", f}, {"ModbusPDU16MaskWriteRegisterResponse", f},
      "ModbusPDU16MaskWriteRegisterError"
  end,
  function()
    return {"ModbusPDU17ReadWriteMultipleRegistersRequest", {{"readStartingAddr", u16()},
             {"readQuantityRegisters", R(1, 125)}, {"writeStartingAddr", u16()},
             {"writeRegistersValue", regs(R(1, 20))}}},
           {"ModbusPDU17ReadWriteMultipleRegistersResponse", {{"registerVal", regs(R(1, 30))}}},
           "ModbusPDU17ReadWriteMultipleRegistersError"
  end,
  function()
    local objs = {}
    for i = 1, R(0, 3) do objs[i] = {{"id", i - 1}, {"value", bytes(R(0, 20), true)}} end
    return {"ModbusPDU2B0EReadDeviceIdentificationRequest", {{"readCode", R(1, 4)}, {"objectId", R(0, 6)}}},
           {"ModbusPDU2B0EReadDeviceIdentificationResponse", {{"readCode", R(1, 4)},
             {"conformityLevel", pick({1, 2, 3, 0x81, 0x82, 0x83})}, {"more", R(0, 1)},
             {"nextObjId", R(0, 6)}, {"objCount", #objs}}, objs},
           "ModbusPDU2B0EReadDeviceIdentificationError"
  end,
}

local function modbus()
  local req, resp, err = pick(modbus_pairs)()
  local adu = {{"transId", u16()}, {"unitId", u8()}}
  local which = R(1, 3)
  local msg
  if which == 1 then
    msg = {layer("ModbusADURequest", adu), layer(req[1], req[2])}
  elseif which == 2 then
    msg = {layer("ModbusADUResponse", adu), layer(resp[1], resp[2])}
    for _, o in ipairs(resp[3] or {}) do msg[#msg + 1] = layer("ModbusObjectId", o) end
  else
    msg = {layer("ModbusADUResponse", adu), layer(err, {{"exceptCode", pick({1, 2, 3, 4, 5, 6, 8, 10, 11})}})}
  end
  if chance(0.7) then  -- a request to port 502, a response from it
    local up = which == 1
    table.insert(msg, 1, layer("TCP", {{"sport", up and port() or 502}, {"dport", up and 502 or port()},
      {"flags", txt("PA")}}))
    table.insert(msg, 1, layer("IP", {{"src", txt("192.0.2.1")}, {"dst", txt("192.0.2.2")}}))
  end
  return msg
end

-- ---- the cases ----------------------------------------------------------------------------

local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
local env = setmetatable({}, {__index = function(_, k) return sf[k] or _G[k] end})

for _ = 1, count do
  local msg = pick({mqtt, mqtt, mqttsn, modbus, modbus})()
  local pys, luas = {}, {}
  for i, l in ipairs(msg) do pys[i], luas[i] = l.py, l.lua end
  local luax = table.concat(luas, " / ")
  local p = assert(load("return " .. luax, "case", "t", env))()
  print(table.concat(pys, "/") .. "\t" .. luax .. "\t" .. hex(p:bytes()))
end
