#!/bin/bash
# 802.11 beacons with their information elements dissected in C (sfcore,
# bench/wireless_bench.c) against `tshark -T fields` on the same capture.
#   bench/wireless_bench.sh [BUILD]       (ROUNDS=3 SECS=2 by default)
# The capture: five real radiotap beacons (tests/data's and four of Scapy's
# test suite; 5 to 24 elements: SSID, rates, DS, TIM, country, ERP, RSN, HT,
# vendor...), repeated to 100,000 frames by bench/gen_beacons.lua
# (build/bench/beacons.pcap).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-$root/build}
rounds=${ROUNDS:-3} secs=${SECS:-2}
cmake --build "$build" --target sf_wireless_bench sflua -j2 >/dev/null
cap=$build/bench/beacons.pcap
mkdir -p "$build/bench"
(cd "$root" && "$build/sflua" bench/gen_beacons.lua "$cap" 100000)
for r in $(seq "$rounds"); do
  "$build/bench/sf_wireless_bench" "$cap" "$secs"
  t0=$(date +%s.%N)
  tshark -n -r "$cap" -T fields -e wlan.fc.type_subtype -e wlan.ssid -e wlan.tag.number \
    -e wlan.ds.current_channel -e wlan.rsn.version > /dev/null 2>&1
  t1=$(date +%s.%N)
  echo "RESULT tshark_fields_dot11 $(echo "100000 / ($t1 - $t0)" | bc -l | cut -d. -f1)"
done
