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
runs=${2:-3} count=${3:-100000} name=ssh
. "$here/compare.sh"
cmake --build "$build" --target ssh_bench benchclock sflua >/dev/null
cap="$build/bench/ssh_kexinit.pcap" mixf="$build/bench/ssh_kexinit.mix"
[[ -s $cap && -s $mixf ]] || "$build/sflua" "$here/gen_ssh.lua" "$cap" "$mixf" "$count"
n=$(count_frames "$cap")
collect "$build/bench/ssh_bench" "$mixf" 1.5
collect "$build/sflua" "$here/ssh_hassh.lua" "$cap" 1.5
tshark_rate tshark "$n" "$cap" -T fields -e ssh.kex.hassh -e ssh.kex.hasshserver
echo "capture: $cap ($n KEXINITs), median of $runs runs; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
report 20 c_hassh:tshark lua_hassh:tshark tshark
