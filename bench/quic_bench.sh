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
runs=${2:-3} initials=${3:-50000} name=quic
. "$here/compare.sh"
cmake --build "$build" --target quic_bench benchclock sflua >/dev/null
cap="$build/bench/quic_initials.pcap"
[[ -s $cap ]] || "$build/sflua" "$here/gen_quic.lua" "$cap" "$initials"
n=$(count_frames "$cap")
collect "$build/bench/quic_bench" "$cap" 1.5
collect "$build/sflua" "$here/quic_sni.lua" "$cap" 1.5
tshark_rate tshark "$n" "$cap" -T fields -e tls.handshake.extensions_server_name
echo "capture: $cap ($n Initials), median of $runs runs; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
report 34 c_quic_sni:tshark lua_quic_sni:tshark tshark
