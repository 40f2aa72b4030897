#!/usr/bin/env bash
# ssh_bench.sh: hassh of SSH KEXINIT packets, per second -- in C
# (ssh_bench.c), from Lua over the capture (ssh_hassh.lua: PcapReader +
# p.hassh), and tshark -T fields -e ssh.kex.hassh -e ssh.kex.hasshserver on
# the same capture.
# Usage: bash bench/ssh_bench.sh [BUILD_DIR] [RUNS] [N]
#   writes BUILD_DIR/bench/ssh_kexinit.pcap (and .mix) with bench/gen_ssh.lua
#   once (N frames, default 100,000); prints each figure's median of RUNS
#   (default 3) by wall clock and per CPU second, and the ratios to tshark.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
runs=${2:-3} count=${3:-100000}
root=$(dirname "$here")
export LUA_PATH="$root/stdlib/?.lua;$root/stdlib/?/init.lua;;"
export LUA_CPATH="$build/?.so;$build/bench/?.so;;"
cmake --build "$build" --target ssh_bench benchclock sflua >/dev/null
cap="$build/bench/ssh_kexinit.pcap" mixf="$build/bench/ssh_kexinit.mix"
[[ -s $cap && -s $mixf ]] || "$build/sflua" "$here/gen_ssh.lua" "$cap" "$mixf" "$count"
n=$(SSH_CAP="$cap" "$build/sflua" -e "local n=0 for _ in PcapReader(os.getenv('SSH_CAP')) do n=n+1 end print(n)")

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A wall cpu
collect() {  # the median of this run's lines, by figure
  for _ in $(seq "$runs"); do "$@" 2>/dev/null; done >"$build/bench/ssh_runs.txt"
  for name in $(awk '{print $2}' "$build/bench/ssh_runs.txt" | sort -u); do
    wall[$name]=$(awk -v k="$name" '$1=="RESULT" && $2==k {print $3}' "$build/bench/ssh_runs.txt" | median)
    cpu[$name]=$(awk -v k="$name" '$1=="CPU" && $2==k {print $3}' "$build/bench/ssh_runs.txt" | median)
  done
}
collect "$build/bench/ssh_bench" "$mixf" 1.5
collect "$build/sflua" "$here/ssh_hassh.lua" "$cap" 1.5
if command -v tshark >/dev/null; then
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %U" tshark -n -r "$cap" -T fields \
      -e ssh.kex.hassh -e ssh.kex.hasshserver 2>&1 >/dev/null | tail -1
  done >"$build/bench/ssh_tshark.txt"
  wall[tshark]=$(awk -v n="$n" '{printf "%.0f\n", n / $1}' "$build/bench/ssh_tshark.txt" | median)
  cpu[tshark]=$(awk -v n="$n" '{printf "%.0f\n", n / $2}' "$build/bench/ssh_tshark.txt" | median)
fi
echo "capture: $cap ($n KEXINITs), median of $runs runs; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-20s %14s %14s %10s %10s\n" figure "wall /s" "CPU /s" "x tshark" "x (CPU)"
for k in c_hassh lua_hassh tshark; do
  [[ -n ${wall[$k]:-} ]] || continue
  rw=- rc=-
  if [[ -n ${wall[tshark]:-} && $k != tshark ]]; then
    rw=$(awk -v a="${wall[$k]}" -v b="${wall[tshark]}" 'BEGIN{printf "%.0fx", a/b}')
    rc=$(awk -v a="${cpu[$k]}" -v b="${cpu[tshark]}" 'BEGIN{printf "%.0fx", a/b}')
  fi
  printf "%-20s %14s %14s %10s %10s\n" "$k" "${wall[$k]}" "${cpu[$k]}" "$rw" "$rc"
done
