-- MQTT-SN (the protocol file in core) against scapy.contrib.mqttsn and
-- tshark's mqttsn dissector, over UDP 1883: one- and three-byte lengths,
-- every topic form, an encapsulated message.
local E = "Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP(src='192.0.2.1', dst='192.0.2.2')/UDP(sport=40000, dport=1883)/"
local function first(layer, field)
  return function(p, sf)
    local v = p[sf[layer]]
    return v and v[field]
  end
end
return {
  linktype = 1,
  -- Wireshark registers MQTT-SN on no port: decode as (the seed's and Scapy's 1883)
  tshark_args = {"-d", "udp.port==1883,mqttsn"},
  tshark = {
    ["mqttsn.msg.len"] = {"MQTTSN", "len"},
    ["mqttsn.msg.type"] = {"MQTTSN", "type"},
    ["mqttsn.msg.id"] = function(p) return p.mid end,
    ["mqttsn.topic.id"] = function(p) return p.tid end,
    ["mqttsn.qos"] = function(p) return p.qos end,
    ["mqttsn.retain"] = function(p) return p.retain end,
    ["mqttsn.topic.id.type"] = function(p) return p.tid_type end,
    ["mqttsn.client.id"] = first("MQTTSNConnect", "client_id"),
    ["mqttsn.keep.alive"] = first("MQTTSNConnect", "duration"),
    ["mqttsn.pub.msg"] = first("MQTTSNPublish", "data"),
    ["mqttsn.topic"] = function(p) return p.topic_name end,
    ["mqttsn.return.code"] = function(p) return p.return_code end,
    ["mqttsn.gw.id"] = function(p) return p.gw_id end,
    ["mqttsn.sleep.timer"] = first("MQTTSNDisconnect", "duration"),
  },
  cases = {
    {E .. "MQTTSN()/MQTTSNConnect(cleansess=1, duration=30, client_id='sensor-1')"},
    {E .. "MQTTSN()/MQTTSNConnack(return_code=0)"},
    {E .. "MQTTSN()/MQTTSNRegister(tid=0, mid=5, topic_name='plant/temp')"},
    {E .. "MQTTSN()/MQTTSNRegack(tid=17, mid=5, return_code=0)"},
    {E .. "MQTTSN()/MQTTSNPublish(qos=1, retain=1, tid=17, mid=6, data='21.5')"},
    {E .. "MQTTSN()/MQTTSNPublish(qos=0, tid=17, mid=0, data='x'*300)",
     E:gsub("(%u%w*)%(", "%1{"):gsub("%)/", "}/") .. "MQTTSN{}/MQTTSNPublish{qos=0, tid=17, mid=0, data=('x'):rep(300)}"},
    {E .. "MQTTSN()/MQTTSNSubscribe(qos=1, tid_type=1, mid=7, tid=17)"},
    {E .. "MQTTSN()/MQTTSNSubscribe(tid_type=0, mid=8, topic_name='plant/#')"},
    {E .. "MQTTSN()/MQTTSNSuback(qos=1, tid=17, mid=8, return_code=0)"},
    {E .. "MQTTSN()/MQTTSNAdvertise(gw_id=3, duration=900)"},
    {E .. "MQTTSN()/MQTTSNDisconnect(duration=60)"},
  },
}
