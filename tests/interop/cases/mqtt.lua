-- MQTT (the protocol file in core) against scapy.contrib.mqtt and tshark's
-- mqtt dissector over TCP 1883: 3.1.1 messages as Scapy builds them (it
-- has no 5.0 properties; tests/iot compares 5.0 against mosquitto's).
-- each case its own client port: tshark reads them as separate connections
local port = 40000
local function E()
  port = port + 1
  return ("Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP(src='192.0.2.1', dst='192.0.2.2')/TCP(sport=%d, dport=1883, flags='PA')/"):format(port)
end
local function lua(s) return (s:gsub("(%u%w*)%(", "%1{"):gsub("%)/", "}/"):gsub("%)$", "}")) end
-- a Scapy case and its Lua, the topic list as Lua writes it
local function c(s, list)
  local l = lua(s)
  if list then l = l:gsub("topics=%b[]", "topics=" .. list) end
  return {s, l}
end
return {
  linktype = 1,
  tshark = {
    ["mqtt.msgtype"] = {"MQTT", "type"},
    ["mqtt.len"] = {"MQTT", "len"},
    ["mqtt.qos"] = function(p, sf) local h = p[sf.MQTT] return h and h.type == 3 and h.QOS or nil end,
    ["mqtt.topic"] = function(p, sf)  -- a PUBLISH's, or a (un)subscription's first
      local s = p[sf.MQTTSubscribe] or p[sf.MQTTUnsubscribe]
      return s and s.topics[1].topic or p.topic
    end,
    ["mqtt.msgid"] = function(p) return p.msgid end,
    ["mqtt.clientid"] = function(p) return p.clientId end,
    ["mqtt.kalive"] = function(p) return p.klive end,
    ["mqtt.ver"] = function(p) return p.protolevel end,
  },
  cases = {
    c(E() .. "MQTT()/MQTTConnect(protoname='MQTT', protolevel=4, cleansess=1, klive=60, clientId='sensor')"),
    c(E() .. "MQTT(QOS=1)/MQTTPublish(topic='plant/temp', msgid=9, value='21.5')"),
    c(E() .. "MQTT(QOS=0, RETAIN=1)/MQTTPublish(topic='plant/state', value='on')"),
    c(E() .. "MQTT(QOS=1)/MQTTSubscribe(msgid=3, topics=[MQTTTopicQOS(topic='plant/#', QOS=1)])",
      "{{topic='plant/#', QOS=1}}"),
    c(E() .. "MQTT(type=4)/MQTTPuback(msgid=9)"),
    c(E() .. "MQTT(QOS=1)/MQTTUnsubscribe(msgid=4, topics=[MQTTTopic(topic='plant/#')])",
      "{{topic='plant/#'}}"),
    c(E() .. "MQTT(type=12)"),
  },
}
