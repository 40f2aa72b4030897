#!/bin/bash
# DNS benchmark (issue 11): responses dissected in C and their fields read
# from C and from Lua, against tshark -T fields on the same capture.
#   bench/dns_bench.sh            (ROUNDS=3 SECS=1.5 N=200000 to change)
# Writes build/bench/dns.pcap (bench/gen_dns.lua) when missing, prints the
# medians and the ratios to tshark, and writes them to bench/dns_results.txt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
BUILD=${BUILD:-$root/build}
ROUNDS=${ROUNDS:-3} SECS=${SECS:-1.5} N=${N:-200000}
[ -f "$BUILD/CMakeCache.txt" ] || cmake -S "$root" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j2 --target sflua dns_bench benchclock >/dev/null
mkdir -p "$BUILD/bench"
cap=$BUILD/bench/dns.pcap
if [ ! -f "$cap" ] || [ "$here/gen_dns.lua" -nt "$cap" ]; then
  "$BUILD/sflua" "$here/gen_dns.lua" "$cap" "$N" 1
fi
npk=$(capinfos -c -M "$cap" 2>/dev/null | awk '/Number of packets/ {print $NF}')
export LUA_CPATH="$BUILD/bench/?.so;${LUA_CPATH:-;;}"
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
for r in $(seq "$ROUNDS"); do
  "$BUILD/bench/dns_bench" "$cap" "$SECS" >> "$raw" 2>/dev/null
  "$BUILD/sflua" "$here/dns_bench.lua" "$cap" "$SECS" >> "$raw" 2>/dev/null
  t0=$(date +%s.%N)
  tshark -n -r "$cap" -T fields -e dns.id -e dns.qry.name -e dns.a -e dns.aaaa -e dns.cname \
    -e dns.mx.mail_exchange > /dev/null 2>&1
  t1=$(date +%s.%N)
  echo "RESULT tshark_fields $(echo "$npk / ($t1 - $t0)" | bc -l)" >> "$raw"
done
median() { grep "^RESULT $1 " "$raw" | awk '{print $3}' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ts=$(median tshark_fields)
{
  echo "DNS benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$root" rev-parse --short HEAD)"
  echo "capture: $cap ($npk responses, bench/gen_dns.lua seed 1); $ROUNDS rounds of ${SECS} s, medians"
  echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo
  printf "%-52s %14s %10s  %s\n" "benchmark" "messages/s" "x tshark" "goal"
  for row in "c_dns_dissect|C: sf_dissect, every layer|>= 2,000,000" \
             "c_dns_fields|C: dissect + id, qname, answers' rdata|>= 2,000,000" \
             "lua_dns_reader|Lua: PcapReader loop, the same fields|>= 1,000,000" \
             "lua_dns_list|Lua: Packet(raw) over the capture in memory|>= 1,000,000" \
             "tshark_fields|tshark -T fields, the same fields|"; do
    IFS='|' read -r key label goal <<<"$row"
    v=$(median "$key")
    met=""
    if [ -n "$goal" ]; then
      g=$(echo "$goal" | tr -dc 0-9)
      met=$(awk -v v="$v" -v g="$g" 'BEGIN {print (v >= g) ? "met" : "MISSED"}')
    fi
    printf "%-52s %14s %9.0fx  %s %s\n" "$label" "$(printf "%'.0f" "$v")" "$(echo "$v / $ts" | bc -l)" "$goal" "$met"
  done
} | tee "$here/dns_results.txt"
