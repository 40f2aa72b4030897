#!/bin/bash
# scapy_habits_bench.sh [ROUNDS]: issue 16's speed goals, each measurement
# in a fresh process, ROUNDS times (default 5); prints the medians.
#   rdpcap of build/bench/traffic.pcap (350,000 packets): packets/s and
#     resident memory against the file's size      goal >= 1,500,000/s, < 1.3x
#   summary() of every packet (pl:summary(), Scapy's text)  goal >= 500,000/s
#     and python3-scapy's summary() of 20,000 of them, for scale
#   fuzz(TCP()):bytes()                             goal >= 300,000/s
# Needs build/sflua and build/bench/benchclock.so (bench/run.sh builds
# them) and the capture (bench/run.sh or gen_traffic.lua writes it).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
rounds=${1:-5}
sflua=${SFLUA:-$root/build/sflua}
cap=${CAPTURE:-$root/build/bench/traffic.pcap}
[ -f "$cap" ] || "$sflua" "$here/gen_traffic.lua" "$cap" 350000p 1 || exit 1
export LUA_PATH="$root/stdlib/?.lua;$root/stdlib/?/init.lua;;"
export LUA_CPATH="$root/build/bench/?.so;$root/build/?.so;;"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for ((r = 1; r <= rounds; r++)); do
  "$sflua" "$here/scapy_habits_bench.lua" rdpcap "$cap" >>"$tmp"
  "$sflua" "$here/scapy_habits_bench.lua" summary "$cap" >>"$tmp"
  "$sflua" "$here/scapy_habits_bench.lua" fuzz - 1000000 >>"$tmp"
  if /usr/bin/python3 -c 'import scapy.all' 2>/dev/null; then
    /usr/bin/python3 "$here/py_summary.py" "$cap" 20000 >>"$tmp"
  fi
done
# medians, one line a measurement
for k in $(awk '{print $1}' "$tmp" | sort -u); do
  vals=$(awk -v k="$k" '$1 == k {print $2}' "$tmp" | sort -g)
  n=$(echo "$vals" | wc -l)
  med=$(echo "$vals" | sed -n "$(( (n + 1) / 2 ))p")
  unit=$(awk -v k="$k" '$1 == k {print $3; exit}' "$tmp")
  printf "%-22s %14s %s (median of %d: %s)\n" "$k" "$med" "$unit" "$n" "$(echo $vals)"
done
