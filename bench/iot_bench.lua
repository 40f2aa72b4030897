-- iot_bench.lua: MQTT and Modbus/TCP fields read from Lua over a capture.
--   sflua bench/iot_bench.lua gen CAPTURE [PACKETS]   write the capture:
--     MQTT PUBLISH (QoS 1, two a segment every fourth packet) and their
--     PUBACKs, Modbus Read Holding Registers requests and responses
--   sflua bench/iot_bench.lua read CAPTURE [RUNS]     the loop below
-- The loop: for every packet of PcapReader, every MQTT message's type and,
-- for a PUBLISH, its topic and message id; every Modbus ADU's transaction
-- id and function code and, in a response, its first register.  Prints
-- messages per second (wall time on a monotonic clock, median of RUNS).
local sf = require("stackforge")
local mode, cap = arg[1], arg[2]

if mode == "gen" then
  local n = tonumber(arg[3]) or 400000
  local w = sf.PcapWriter(cap)
  local e = sf.Ether() / sf.IP{src = "10.0.0.1", dst = "10.0.0.2"}
  for i = 1, n do
    local k = i % 4
    local p
    if k == 0 then
      local pub = sf.MQTT.publish{topic = "plant/line" .. (i % 7) .. "/temp", payload = "21.5",
        qos = 1, msgid = i % 65536}
      if i % 16 == 0 then pub = pub / sf.MQTT.publish{topic = "plant/alarm", payload = "ok", qos = 1, msgid = 1} end
      p = e / sf.TCP{sport = 40000 + i % 100, dport = 1883, flags = "PA"} / pub
    elseif k == 1 then
      p = e / sf.TCP{sport = 1883, dport = 40000 + i % 100, flags = "PA"} / sf.MQTT.puback{msgid = i % 65536}
    elseif k == 2 then
      p = e / sf.TCP{sport = 50000 + i % 50, dport = 502, flags = "PA"} /
        sf.ModbusADURequest{transId = i % 65536, unitId = 1} /
        sf.ModbusPDU03ReadHoldingRegistersRequest{startAddr = i % 100, quantity = 4}
    else
      p = e / sf.TCP{sport = 502, dport = 50000 + i % 50, flags = "PA"} /
        sf.ModbusADUResponse{transId = i % 65536, unitId = 1} /
        sf.ModbusPDU03ReadHoldingRegistersResponse{registerVal = {i % 1000, 2, 3, 4}}
    end
    w:write(p)
  end
  w:close()
  return
end

assert(mode == "read" and cap, "usage: iot_bench.lua gen|read CAPTURE [N]")
local clock = require("benchclock")
local runs = tonumber(arg[3]) or 5
local MQTT, Pub, Modbus = sf.MQTT, sf.MQTTPublish, sf.Modbus
local Resp = sf.ModbusPDU03ReadHoldingRegistersResponse

local mqtt_kind, pub_kind = MQTT.kind, Pub.kind

-- The further messages of a segment (after Ether, IP, TCP and the first
-- message's two layers), by their layers' kinds.
local function more(p, n, check)
  local msgs = 0
  for i = 6, n do
    local kind = p:_layer_info(i)
    if kind == mqtt_kind then
      msgs = msgs + 1
      check = check + p:layer(i).type
    elseif kind == pub_kind then
      local v = p:layer(i)
      check = check + #v.topic + v.msgid
    end
  end
  return msgs, check
end

local function pass()
  local msgs, check = 0, 0
  for p in sf.PcapReader(cap) do
    local h = p[MQTT]
    if h then
      msgs = msgs + 1
      check = check + h.type
      local topic = p.topic  -- p.field: the first layer that has it
      if topic then check = check + #topic + p.msgid end
      local n = p.layer_count
      if n > 5 then
        local m
        m, check = more(p, n, check)
        msgs = msgs + m
      end
    else
      local tid = p.transId
      if tid then
        msgs = msgs + 1
        check = check + tid + p.funcCode
        local regs = p.registerVal
        if regs then check = check + regs[1] end
      end
    end
  end
  return msgs, check
end

local rates, msgs, check = {}, 0, 0
pass()  -- warm up
for r = 1, runs do
  collectgarbage()
  local t0 = clock.now()
  msgs, check = pass()
  rates[r] = msgs / (clock.now() - t0)
end
table.sort(rates)
print(("iot_bench: %d messages (check %d): %.0f messages/s median of %d (best %.0f)")
  :format(msgs, check, rates[(runs + 1) // 2], runs, rates[runs]))
