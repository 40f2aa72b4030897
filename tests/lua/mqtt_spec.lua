-- mqtt_spec.lua: MQTT 3.1.1 and 5.0 (core's mqtt protocol file and
-- stdlib/stackforge/mqtt.lua).  Oracles: mosquitto's own traffic read by
-- tshark (tests/data/mqtt_mosquitto.pcap and .tsv, from
-- tests/iot/run_mosquitto.sh --update), the MQTT 5.0 specification's
-- encodings (1.5.5 Variable Byte Integer), Scapy's bytes (iot_golden_spec).
package.path = "tests/iot/?.lua;" .. package.path
local sf = require("stackforge")
local h = require("helpers")
local fields = require("mqtt_fields")

local MQTT, Packet = sf.MQTT, sf.Packet
local function parse(b) return Packet(b, {proto = MQTT}) end

describe("MQTT", function()
  it("reads every message of mosquitto's traffic as tshark does, field by field", function()
    local ours = fields.lines(sf, h.path("mqtt_mosquitto.pcap"))
    local n, diffs = fields.compare(ours, fields.tshark_lines(h.path("mqtt_mosquitto.tsv")))
    assert.are.same({}, diffs)
    assert.is_true(n >= 100)
  end)

  it("reads the capture packet by packet: messages several a segment, one over several segments", function()
    local kinds, cut, v5pub = {}, 0, 0
    for p in sf.PcapReader(h.path("mqtt_mosquitto.pcap")) do
      if p:has_layer(MQTT) then
        for i = 1, p.layer_count do kinds[p:layer(i).name] = true end
        if p.truncated then cut = cut + 1 end
        local pub = p[sf.MQTTPublish]
        if pub and pub.topic:match("^iot5/") and pub.properties then v5pub = v5pub + 1 end
      end
    end
    for _, n in ipairs({"MQTT", "MQTT connect", "MQTT connack", "MQTT publish", "MQTT puback",
        "MQTT pubrec", "MQTT pubrel", "MQTT pubcomp", "MQTT subscribe", "MQTT suback"}) do
      assert.is_true(kinds[n], n)
    end
    assert.is_true(cut > 0)      -- the 16,400-byte messages' first segments
    assert.is_true(v5pub >= 10)  -- 5.0's publishes read as 5.0 without their CONNECT
  end)

  it("encodes the remaining length as the specification's examples", function()
    for _, c in ipairs({{0, "00"}, {127, "7f"}, {128, "8001"}, {16383, "ff7f"}, {16384, "808001"},
        {2097151, "ffff7f"}, {2097152, "80808001"}, {268435455, "ffffff7f"}}) do
      local b = MQTT{type = 12, len = c[1]}:bytes()
      assert.are.equal("c0" .. c[2], h.hex(b))
      assert.are.equal(c[1], parse(b .. ("\0"):rep(0))[MQTT].len)
    end
    assert.has_error(function() return MQTT{len = 268435456} end)
  end)

  it("fills the remaining length, one to four bytes, and keeps a length the user set", function()
    for _, n in ipairs({0, 120, 126, 127, 16376, 16377, 70000}) do
      local p = sf.MQTT.publish{topic = "t/x", payload = ("p"):rep(n)}
      local q = parse(p:bytes())
      assert.are.equal(5 + n, q[MQTT].len)
      assert.are.equal(n, #q[sf.MQTTPublish].value)
      assert.is_false(q.truncated)
    end
    assert.are.equal("3005000161", h.hex((MQTT{len = 5} / sf.MQTTPublish{topic = "a"}):bytes()))
  end)

  it("gives PUBLISH a message id when the fixed header's QoS is above 0, as Scapy", function()
    local p1 = MQTT{QOS = 1} / sf.MQTTPublish{topic = "a", value = "b"}
    assert.are.equal("3206000161000062", h.hex(p1:bytes()))
    local p0 = MQTT{QOS = 0} / sf.MQTTPublish{topic = "a", value = "b", msgid = 5}
    assert.are.equal("300400016162", h.hex(p0:bytes()))
    assert.is_nil(p0[sf.MQTTPublish].msgid)
    p0[MQTT].QOS = 2  -- the id comes back with the QoS
    assert.are.equal("340600016100" .. "0062", h.hex(p0:bytes()))
    p0[sf.MQTTPublish].msgid = 9
    assert.are.equal(9, parse(p0:bytes())[sf.MQTTPublish].msgid)
  end)

  it("reads and writes 5.0 properties by name", function()
    local props = {content_type = "text/plain", message_expiry_interval = 60, topic_alias = 3,
      user_property = {{"a", "1"}, {"b", "2"}}, subscription_identifier = 300,
      correlation_data = "\1\2", payload_format_indicator = 1, response_topic = "r"}
    local p = parse(sf.MQTT.publish{topic = "t", payload = "hi", qos = 1, properties = props}:bytes())
    local got = p[sf.MQTTPublish]
    assert.are.same(props, got.properties)
    assert.are.equal("hi", got.value)
    -- the block as 5.0 lays it out: ids in order, lengths, a varint
    local c = sf.MQTT.connack{code = 0, properties = {receive_maximum = 20, topic_alias_maximum = 10}}
    assert.are.equal("200900000621001422000a", h.hex(c:bytes()))
    assert.has_error(function() sf.MQTT.publish{topic = "t", properties = {nonsense = 1}} end)
    assert.has_error(function() sf.MQTT.publish{topic = "t", properties = {topic_alias = "x"}} end)
    assert.has_error(function() sf.MQTT.publish{topic = "t", properties = {topic_alias = 70000}} end)
  end)

  it("takes the version from a CONNECT earlier in the packet, else from the bytes", function()
    local v3 = (sf.MQTT.connect{client_id = "c"} / sf.MQTT.publish{topic = "a", payload = "\0\1"}):bytes()
    local p = parse(v3)
    assert.are.equal("\0\1", p[sf.MQTTPublish].value)  -- 3.1.1: a zero byte is payload
    assert.is_nil(p[sf.MQTTPublish].properties)
    -- alone, a payload that starts with a zero byte reads as an empty 5.0 block
    local alone = parse(sf.MQTT.publish{topic = "a", payload = "\0\1"}:bytes())
    assert.are.same({}, alone[sf.MQTTPublish].properties)
    -- 5.0's CONNACK, acknowledgements and DISCONNECT say so by their length
    local ack = parse(sf.MQTT.puback{msgid = 3, reason = 0x10, properties = {reason_string = "no"}}:bytes())
    assert.are.equal(0x10, ack[sf.MQTTPuback].reasonCode)
    assert.are.same({reason_string = "no"}, ack[sf.MQTTPuback].properties)
    assert.is_nil(parse(sf.MQTT.puback{msgid = 3}:bytes())[sf.MQTTPuback].reasonCode)
  end)

  it("lays CONNECT out as its flags say, and builds what brokers take", function()
    local c = sf.MQTT.connect{client_id = "me", username = "u", password = "p",
      will = {topic = "w", message = "bye", qos = 1, retain = true}}
    local v = parse(c:bytes())[sf.MQTTConnect]
    assert.are.same({"MQTT", 4, 1, 1, 1, 1, 1, "w", "bye", "u", "p", "me"},
      {v.protoname, v.protolevel, v.usernameflag, v.passwordflag, v.willflag, v.willQOSflag,
       v.willretainflag, v.willtopic, v.willmsg, v.username, v.password, v.clientId})
    -- setting a flag later brings its fields in, in their place
    local p = MQTT() / sf.MQTTConnect{clientId = "abc", usernameflag = 1, username = "bob"}
    p[sf.MQTTConnect].willflag = 1
    p[sf.MQTTConnect].willtopic = "t"
    local w = parse(p:bytes())[sf.MQTTConnect]
    assert.are.same({"abc", "t", "bob"}, {w.clientId, w.willtopic, w.username})
    assert.is_nil(parse(sf.MQTT.connect{}:bytes())[sf.MQTTConnect].willtopic)
  end)

  it("parses several messages in a segment, and a message the segment cuts short as Raw", function()
    local s = (sf.MQTT.publish{topic = "a", payload = "1"} / sf.MQTT.pingreq() /
               sf.MQTT.subscribe{msgid = 2, topics = {"x/#", {"y", 1}}} / sf.MQTT.disconnect()):bytes()
    local p = parse(s)
    assert.are.equal("MQTT / MQTT publish / MQTT / MQTT / MQTT subscribe / MQTT", p:summary())
    assert.are.same({{topic = "x/#", QOS = 0}, {topic = "y", QOS = 1}}, p[sf.MQTTSubscribe].topics)
    local cut = parse(s:sub(1, 9))
    assert.is_true(cut.truncated)
    assert.are.equal("MQTT / MQTT publish / MQTT / Raw", cut:summary())
    -- messages() splits a reassembled stream by the protocol's framing
    local ms = sf.messages(s, MQTT)
    assert.are.equal(4, #ms)
    assert.are.equal("MQTT / MQTT subscribe", ms[3]:summary())
  end)

  it("has every packet type, and TCP port 1883 both ways", function()
    local built = {sf.MQTT.connect{}, sf.MQTT.connack{}, sf.MQTT.publish{topic = "t"},
      sf.MQTT.puback{}, sf.MQTT.pubrec{}, sf.MQTT.pubrel{}, sf.MQTT.pubcomp{},
      sf.MQTT.subscribe{topics = {"a"}}, sf.MQTT.suback{codes = {1}}, sf.MQTT.unsubscribe{topics = {"a"}},
      sf.MQTT.unsuback{}, sf.MQTT.pingreq(), sf.MQTT.pingresp(), sf.MQTT.disconnect{reason = 4},
      sf.MQTT.auth{reason = 0x18, properties = {authentication_method = "x"}}}
    for t, m in ipairs(built) do
      local up = sf.Packet((sf.IP() / sf.TCP{sport = 40000, dport = 1883} / m):bytes(), {proto = sf.IP})
      local down = sf.Packet((sf.IP() / sf.TCP{sport = 1883, dport = 40000} / m):bytes(), {proto = sf.IP})
      assert.are.equal(t, up[MQTT].type)
      assert.are.equal(up:summary(), down:summary())
      assert.is_false(up.truncated)
    end
    assert.are.equal(0x12, sf.MQTT.subscribe{}:bytes():byte(1) & 0x02 | 0x10)  -- flags 0010
  end)

  it("names the constructor, the field and what is allowed in errors, at the caller's line", function()
    local ok, err = pcall(function() local _ = sf.MQTT.publish{topik = "x"} end)
    assert.is_false(ok)
    assert.matches("mqtt_spec.lua:%d+: MQTT.publish: unknown field 'topik' %(.*topic", err)
    ok, err = pcall(function() local _ = sf.MQTTPublish{nope = 1} end)
    assert.matches("mqtt_spec.lua:%d+:.*MQTTPublish.*nope", err)
    ok, err = pcall(function() local _ = sf.MQTTSubscribe{topics = {42}} end)
    assert.matches("mqtt_spec.lua:%d+:.*topics: item 1", err)
  end)

  it("never reads past malformed bytes", function()
    math.randomseed(12)
    local seeds = {sf.MQTT.connect{client_id = "x", version = 5, will = {topic = "w"}}:bytes(),
      sf.MQTT.publish{topic = "a/b", payload = "xyz", qos = 1, properties = {topic_alias = 1}}:bytes(),
      sf.MQTT.subscribe{topics = {"a", "b"}}:bytes()}
    for i = 1, 3000 do
      local s = seeds[i % #seeds + 1]
      local t = {s:byte(1, -1)}
      for _ = 1, math.random(1, 4) do t[math.random(1, #t)] = math.random(0, 255) end
      local p = parse(string.char(table.unpack(t)):sub(1, math.random(1, #t)))
      for k = 1, p.layer_count do
        for _, f in ipairs(p:layer(k).fields) do local _ = p:layer(k)[f] end
      end
      assert.is_string(p:show())
    end
  end)
end)
