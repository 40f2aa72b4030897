#!/usr/bin/env bash
# iot_bench.sh: MQTT and Modbus/TCP fields read from Lua over a capture
# (iot_bench.lua: every message's type, a PUBLISH's topic and message id,
# an ADU's transaction id, function code and first register) against
# `tshark -T fields` printing the same fields of the same capture, same run.
# Usage: bash bench/iot_bench.sh [BUILD_DIR] [RUNS] [PACKETS]
#   writes BUILD_DIR/bench/iot.pcap (PACKETS, default 200000) once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
runs=${2:-5} pkts=${3:-200000}
cap="$build/bench/iot.pcap"
mkdir -p "$build/bench"
cmake --build "$build" --target sflua benchclock >/dev/null
export LUA_CPATH="$build/bench/?.so;;"
[[ -s "$cap" ]] || "$build/sflua" "$here/iot_bench.lua" gen "$cap" "$pkts"
out=$("$build/sflua" "$here/iot_bench.lua" read "$cap" "$runs")
echo "$out"
msgs=$(echo "$out" | awk '{print $2}')
sf_rate=$(echo "$out" | sed -E 's/.*: ([0-9]+) messages\/s.*/\1/')
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
if command -v tshark >/dev/null; then
  t=$(for _ in $(seq "$runs"); do
        /usr/bin/time -f "%e" tshark -r "$cap" -n -T fields -e mqtt.msgtype -e mqtt.topic \
          -e mqtt.msgid -e mbtcp.trans_id -e modbus.func_code -e modbus.regval_uint16 \
          2>&1 >/dev/null | tail -1
      done | median)
  ts_rate=$(awk -v m="$msgs" -v t="$t" 'BEGIN{printf "%.0f", m/t}')
  echo "tshark -T fields, the same fields: $t s (wall, median of $runs) = $ts_rate messages/s"
  awk -v a="$sf_rate" -v b="$ts_rate" 'BEGIN{printf "sflua/tshark: %.0fx\n", a/b}'
fi
