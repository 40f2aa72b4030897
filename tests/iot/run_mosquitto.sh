#!/bin/bash
# MQTT against real programs: mosquitto and its clients in a network
# namespace of their own (mosquitto_scenario.sh: 3.1.1 and 5.0, QoS 0-2,
# retained, will, a 16,400-byte payload, properties, and a CONNECT +
# PUBLISH built by sflua delivered to a subscriber), recorded with tcpdump;
# tshark's reading of every message (tshark_msgs.py) against sflua's
# (check_msgs.lua).
#   run_mosquitto.sh SFLUA            check
#   run_mosquitto.sh SFLUA --update   also keep the capture and tshark's
#                                     reading in tests/data (mqtt_spec reads them)
# Exit 77 without root, unshare, mosquitto, tcpdump or tshark.
set -uo pipefail
sflua=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
for t in unshare mosquitto mosquitto_pub mosquitto_sub tcpdump tshark; do
  command -v $t >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
[[ $(id -u) -eq 0 ]] && unshare -n true 2>/dev/null || { echo "SKIP: needs root and unshare -n"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
timeout 120 unshare -n bash "$here/mosquitto_scenario.sh" "$work" "$sflua" || { echo "FAIL: the scenario"; exit 1; }
echo "Lua-built CONNECT + PUBLISH: $(cat "$work/send_lua.out"); the subscriber got: $(cat "$work/sub_lua.out")"
tshark -r "$work/mqtt.pcap" -T json --no-duplicate-keys -J "mqtt tcp" 2>/dev/null |
  /usr/bin/python3 "$here/tshark_msgs.py" mqtt > "$work/mqtt.tsv"
"$sflua" "$here/check_msgs.lua" mqtt "$work/mqtt.pcap" "$work/mqtt.tsv" || exit 1
if [[ ${2:-} == --update ]]; then
  cp "$work/mqtt.pcap" "$here/../data/mqtt_mosquitto.pcap"
  cp "$work/mqtt.tsv" "$here/../data/mqtt_mosquitto.tsv"
fi
