#!/usr/bin/env bash
# tls_bench.sh: the SNI of TLS ClientHellos, per second -- in C
# (tls_bench.c: Ethernet frames, and the records alone), from Lua over the
# capture (tls_sni.lua: PcapReader + p.servername), and tshark -T fields -e
# tls.handshake.extensions_server_name on the same capture.
# Usage: bash bench/tls_bench.sh [BUILD_DIR] [RUNS] [HELLOS]
#   writes BUILD_DIR/bench/tls_hellos.pcap with bench/gen_tls.lua once
#   (HELLOS frames, default 200,000); prints each figure's median of RUNS
#   (default 3) by wall clock and per CPU second, and the ratios to tshark.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
runs=${2:-3} hellos=${3:-200000} name=tls
. "$here/compare.sh"
cmake --build "$build" --target tls_bench benchclock sflua >/dev/null
cap="$build/bench/tls_hellos.pcap"
[[ -s $cap ]] || "$build/sflua" "$here/gen_tls.lua" "$cap" "$hellos"
n=$(count_frames "$cap")
collect "$build/bench/tls_bench" "$cap" 1.5
collect "$build/sflua" "$here/tls_sni.lua" "$cap" 1.5
tshark_rate tshark "$n" "$cap" -T fields -e tls.handshake.extensions_server_name
echo "capture: $cap ($n ClientHellos), median of $runs runs; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
report 34 c_tls_sni_frames:tshark c_tls_sni_records:tshark lua_tls_sni:tshark tshark
