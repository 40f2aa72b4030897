#!/usr/bin/env bash
# quic_bench.sh: QUIC client Initials decrypted to their SNI, per second --
# in C (quic_bench.c: Ethernet frames, the Initial's decrypt method), from
# Lua over the capture (quic_sni.lua: PcapReader + quic_decrypt +
# .servername), and tshark -T fields -e tls.handshake.extensions_server_name
# on the same capture (tshark decrypts Initials itself).
# Usage: bash bench/quic_bench.sh [BUILD_DIR] [RUNS] [INITIALS]
#   writes BUILD_DIR/bench/quic_initials.pcap with bench/gen_quic.lua once
#   (INITIALS frames, default 50,000); prints each figure's median of RUNS
#   (default 3) by wall clock and per CPU second, and the ratios to tshark.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
runs=${2:-3} initials=${3:-50000}
root=$(dirname "$here")
export LUA_PATH="$root/stdlib/?.lua;$root/stdlib/?/init.lua;;"
export LUA_CPATH="$build/?.so;$build/bench/?.so;;"
cmake --build "$build" --target quic_bench benchclock sflua >/dev/null
cap="$build/bench/quic_initials.pcap"
[[ -s $cap ]] || "$build/sflua" "$here/gen_quic.lua" "$cap" "$initials"
n=$(QUIC_CAP="$cap" "$build/sflua" -e "local n=0 for _ in PcapReader(os.getenv('QUIC_CAP')) do n=n+1 end print(n)")

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A wall cpu
collect() {  # the median of this run's lines
  for _ in $(seq "$runs"); do "$@" 2>/dev/null; done >"$build/bench/quic_runs.txt"
  for name in $(awk '{print $2}' "$build/bench/quic_runs.txt" | sort -u); do
    wall[$name]=$(awk -v k="$name" '$1=="RESULT" && $2==k {print $3}' "$build/bench/quic_runs.txt" | median)
    cpu[$name]=$(awk -v k="$name" '$1=="CPU" && $2==k {print $3}' "$build/bench/quic_runs.txt" | median)
  done
}
collect "$build/bench/quic_bench" "$cap" 1.5
collect "$build/sflua" "$here/quic_sni.lua" "$cap" 1.5
if command -v tshark >/dev/null; then
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %U" tshark -n -r "$cap" -T fields \
      -e tls.handshake.extensions_server_name 2>&1 >/dev/null | tail -1
  done >"$build/bench/quic_tshark.txt"
  wall[tshark]=$(awk -v n="$n" '{printf "%.0f\n", n / $1}' "$build/bench/quic_tshark.txt" | median)
  cpu[tshark]=$(awk -v n="$n" '{printf "%.0f\n", n / $2}' "$build/bench/quic_tshark.txt" | median)
fi
echo "capture: $cap ($n Initials), median of $runs runs; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-34s %14s %14s %10s %10s\n" figure "wall /s" "CPU /s" "x tshark" "x (CPU)"
for k in c_quic_sni lua_quic_sni tshark; do
  [[ -n ${wall[$k]:-} ]] || continue
  rw=- rc=-
  if [[ -n ${wall[tshark]:-} && $k != tshark ]]; then
    rw=$(awk -v a="${wall[$k]}" -v b="${wall[tshark]}" 'BEGIN{printf "%.0fx", a/b}')
    rc=$(awk -v a="${cpu[$k]}" -v b="${cpu[tshark]}" 'BEGIN{printf "%.0fx", a/b}')
  fi
  printf "%-34s %14s %14s %10s %10s\n" "$k" "${wall[$k]}" "${cpu[$k]}" "$rw" "$rc"
done
