-- mqtt_send.lua HOST PORT TOPIC PAYLOAD: a CONNECT and a QoS 1 PUBLISH built
-- by sflua, sent on a TCP socket (luv); the broker's CONNACK and PUBACK are
-- parsed by sflua and printed.  Exit 1 unless both say yes.
local sf = require("stackforge")
local uv = require("luv")
local host, port, topic, payload = arg[1], tonumber(arg[2]), arg[3], arg[4]
local request = (sf.MQTT.connect{client_id = "sflua-sender"} /
                 sf.MQTT.publish{topic = topic, payload = payload, qos = 1, msgid = 7}):bytes()
local got, ok = "", false
local tcp = uv.new_tcp()
local timer = uv.new_timer()
timer:start(5000, 0, function() tcp:close(); timer:close() end)
tcp:connect(host, port, function(err)
  assert(not err, err)
  tcp:write(request)
  tcp:read_start(function(rerr, data)
    assert(not rerr, rerr)
    if data then got = got .. data end
    local ms = sf.messages(got, sf.MQTT)
    local connack, puback
    for _, m in ipairs(ms) do
      if m[sf.MQTTConnack] then connack = m[sf.MQTTConnack] end
      if m[sf.MQTTPuback] then puback = m[sf.MQTTPuback] end
    end
    if not data or (connack and puback) then
      if connack and puback then
        print(("CONNACK retcode %d, PUBACK msgid %d"):format(connack.retcode, puback.msgid))
        ok = connack.retcode == 0 and puback.msgid == 7
        tcp:write(sf.MQTT.disconnect():bytes())
      end
      tcp:read_stop()
      tcp:shutdown(function() tcp:close(); timer:close() end)
    end
  end)
end)
uv.run()
os.exit(ok and 0 or 1)
