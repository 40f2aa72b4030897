-- mqttsn_spec.lua: MQTT-SN 1.2 (the protocol file in core).  Oracles:
-- Scapy's bytes (iot_golden_spec, interop cases) and tshark's mqttsn
-- dissector (interop cases); here the specification's forms.
local sf = require("stackforge")
local h = require("helpers")

local function parse(b) return sf.Packet(b, {proto = sf.MQTTSN}) end

describe("MQTT-SN", function()
  it("has a one-byte length up to 255 bytes, and 0x01 and 16 bits past it", function()
    local short = sf.MQTTSN() / sf.MQTTSNPublish{tid = 1, mid = 2, data = ("d"):rep(248)}
    local b = short:bytes()
    assert.are.equal(255, b:byte(1))
    local long = sf.MQTTSN() / sf.MQTTSNPublish{tid = 1, mid = 2, data = ("d"):rep(249)}
    b = long:bytes()
    assert.are.equal("010102" .. "0c", h.hex(b:sub(1, 4)))  -- 258 bytes with the longer header
    local p = parse(b)
    assert.are.equal(258, p[sf.MQTTSN].len)
    assert.are.equal(0x0c, p[sf.MQTTSN].type)
    assert.are.equal(249, #p[sf.MQTTSNPublish].data)
    -- and back to one byte when the message shrinks
    long[sf.MQTTSNPublish].data = "x"
    assert.are.equal("080c", h.hex(long:bytes():sub(1, 2)))
  end)

  it("lays the topic out as its id type says, and changes with it", function()
    local s = sf.MQTTSN() / sf.MQTTSNSubscribe{mid = 1, topic_name = "a/b"}
    assert.are.equal("a/b", parse(s:bytes())[sf.MQTTSNSubscribe].topic_name)
    s[sf.MQTTSNSubscribe].tid_type = 1
    s[sf.MQTTSNSubscribe].tid = 77
    local v = parse(s:bytes())[sf.MQTTSNSubscribe]
    assert.are.same({77, nil}, {v.tid, v.topic_name})
    local short = parse((sf.MQTTSN() / sf.MQTTSNUnsubscribe{tid_type = 2, mid = 3, short_topic = "xy"}):bytes())
    assert.are.equal("xy", short.short_topic)
  end)

  it("reads a message's bytes only: what follows its length is Padding", function()
    local b = (sf.MQTTSN() / sf.MQTTSNPingReq{client_id = "c"}):bytes() .. "\0\0"
    local p = sf.Packet((sf.IP() / sf.UDP{dport = 1883} / b):bytes(), {proto = sf.IP})
    assert.are.equal("IPv4 / UDP / MQTT-SN / MQTT-SN ping request / Padding", p:summary())
    assert.are.equal("c", p.client_id)
  end)

  it("carries a forwarded message after an encapsulation", function()
    local e = sf.MQTTSN() / sf.MQTTSNEncaps{radius = 1, w_node_id = "\1\2\3"} /
      sf.MQTTSN() / sf.MQTTSNConnect{client_id = "node"}
    local p = parse(e:bytes())
    assert.are.equal("MQTT-SN / MQTT-SN encapsulated message / MQTT-SN / MQTT-SN connect command", p:summary())
    assert.are.equal(6, p[sf.MQTTSN].len)  -- the encapsulation's own part
    assert.are.equal("node", p.client_id)
  end)

  it("sits on UDP 1883 both ways; DISCONNECT's duration is optional", function()
    for _, ports in ipairs({{40000, 1883}, {1883, 40000}}) do
      local p = sf.Packet((sf.IP() / sf.UDP{sport = ports[1], dport = ports[2]} /
        sf.MQTTSN() / sf.MQTTSNDisconnect{duration = 30}):bytes(), {proto = sf.IP})
      assert.are.equal(30, p[sf.MQTTSNDisconnect].duration)
    end
    assert.are.equal("0218", h.hex((sf.MQTTSN() / sf.MQTTSNDisconnect()):bytes()))
  end)

  it("never reads past malformed bytes", function()
    math.randomseed(5)
    local seeds = {(sf.MQTTSN() / sf.MQTTSNPublish{data = ("p"):rep(300)}):bytes(),
      (sf.MQTTSN() / sf.MQTTSNEncaps{w_node_id = "\1"} / sf.MQTTSN() / sf.MQTTSNSubscribe{topic_name = "t"}):bytes()}
    for i = 1, 3000 do
      local t = {seeds[i % 2 + 1]:byte(1, -1)}
      for _ = 1, math.random(1, 4) do t[math.random(1, #t)] = math.random(0, 255) end
      local p = parse(string.char(table.unpack(t)):sub(1, math.random(1, #t)))
      assert.is_string(p:show())
    end
  end)
end)
