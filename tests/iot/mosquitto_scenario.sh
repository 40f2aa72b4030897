#!/bin/bash
# mosquitto_scenario.sh OUTDIR SFLUA -- run inside a network namespace of
# its own (run_mosquitto.sh does so): mosquitto on 127.0.0.1:1883, its
# clients publishing and subscribing in MQTT 3.1.1 and 5.0 (QoS 0, 1 and 2,
# a retained message, a will, a 16,400-byte payload (a three-byte length), 5.0 properties), and a
# CONNECT + PUBLISH built by sflua (mqtt_send.lua) delivered to a
# subscriber; tcpdump records it all to OUTDIR/mqtt.pcap.
set -u
out=$1 sflua=$2
here=$(cd "$(dirname "$0")" && pwd)
ip link set lo up mtu 1500 || exit 1  # messages over several segments
cd "$out" || exit 1
printf 'listener 1883 127.0.0.1\nallow_anonymous true\npersistence false\n' > mosquitto.conf
mosquitto -c mosquitto.conf > mosquitto.log 2>&1 &
broker=$!
tcpdump -i lo -U --immediate-mode -s 0 -w mqtt.pcap 'tcp port 1883' 2> tcpdump.log &
dump=$!
for _ in $(seq 50); do  # both ready
  grep -q listening tcpdump.log 2>/dev/null && mosquitto_pub -t ping -n 2>/dev/null && break
  sleep 0.1
done
head -c 16400 /dev/zero | tr '\0' 'B' > big.bin
fail=0
for v in 311 5; do
  props=() connprops=()
  [[ $v == 5 ]] && props=(-D publish user-property k v -D publish content-type text/plain) &&
    connprops=(-D connect session-expiry-interval 30)
  timeout 20 mosquitto_sub -V $v -i "sub$v" -t "iot$v/#" -q 2 -C 6 -v "${connprops[@]}" > "sub$v.out" &
  sub=$!
  sleep 0.5
  mosquitto_pub -V $v -i "pubA$v" -t "iot$v/a" -m hello -q 0
  mosquitto_pub -V $v -i "pubB$v" -t "iot$v/b" -m world -q 1 "${props[@]}"
  mosquitto_pub -V $v -i "pubC$v" -t "iot$v/c" -m exactly -q 2
  mosquitto_pub -V $v -i "pubR$v" -t "iot$v/r" -m kept -q 1 -r
  mosquitto_pub -V $v -i "pubL$v" -t "iot$v/big" -f big.bin -q 1
  mosquitto_sub -V $v -i "willer$v" -t "nothing$v" --will-topic "iot$v/will" \
    --will-payload gone --will-qos 1 -k 5 &
  willer=$!
  disown $willer
  sleep 0.5
  kill -9 $willer 2>/dev/null
  wait $sub || { echo "subscriber $v did not get its six messages"; fail=1; }
  mosquitto_pub -V $v -t "iot$v/r" -r -n  # the retained message cleared
done
# a CONNECT + PUBLISH built in Lua, sent on a TCP socket, delivered
timeout 10 mosquitto_sub -t lua/t -C 1 > sub_lua.out &
sub=$!
sleep 0.5
"$sflua" "$here/mqtt_send.lua" 127.0.0.1 1883 lua/t "built by sflua" > send_lua.out 2>&1 || fail=1
wait $sub || fail=1
sleep 1  # tcpdump writes what it has
kill -INT $dump; wait $dump
kill $broker; wait $broker 2>/dev/null
exit $fail
