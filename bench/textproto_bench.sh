#!/usr/bin/env bash
# textproto_bench.sh: FTP, SMTP, POP3 and IMAP lines parsed by the LPeg
# grammars (textproto_bench.lua): whole streams (one match a stream, and
# the session readers over them), and per packet over a capture (a
# CustomLayer a line) against `tshark -T fields` printing the same fields
# of the same capture, same run.
# Usage: bash bench/textproto_bench.sh [BUILD_DIR] [RUNS] [PACKETS]
#   writes BUILD_DIR/bench/textproto.pcap (PACKETS, default 200000) once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
runs=${2:-5} pkts=${3:-200000}
cap="$build/bench/textproto.pcap"
mkdir -p "$build/bench"
cmake --build "$build" --target sflua benchclock >/dev/null
export LUA_CPATH="$build/bench/?.so;;"
[[ -s "$cap" ]] || "$build/sflua" "$here/textproto_bench.lua" gen "$cap" "$pkts"
"$build/sflua" "$here/textproto_bench.lua" streams "$runs"
out=$("$build/sflua" "$here/textproto_bench.lua" read "$cap" "$runs")
echo "$out"
lines=$(echo "$out" | sed -E 's/per packet: ([0-9]+) lines.*/\1/')
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
if command -v tshark >/dev/null; then
  t=$(for _ in $(seq "$runs"); do
        /usr/bin/time -f "%e" tshark -r "$cap" -n -T fields -e ftp.request.command -e ftp.response.code \
          -e smtp.req.command -e smtp.response.code -e pop.request.command -e pop.response.indicator \
          -e imap.request.command -e imap.response.status 2>&1 >/dev/null | tail -1
      done | median)
  awk -v m="$lines" -v t="$t" 'BEGIN{printf "tshark -T fields, the same fields: %s s (wall, median) = %.0f lines/s\n", t, m/t}'
fi
