#!/usr/bin/env bash
# flow_bench.sh: flow extraction with TCP reassembly on the ~350k-packet mix,
# against ndpiReader (libndpi-bin) and `tshark -q -z conv,tcp`, same run.
# Usage: bash bench/flow_bench.sh [BUILD_DIR] [RUNS]
#   needs BUILD_DIR/sflua and BUILD_DIR/bench/flow_bench (cmake build); writes
#   the capture to BUILD_DIR/bench/flow_mix.pcap with bench/gen_traffic.lua once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
runs=${2:-5}
cap="$build/bench/flow_mix.pcap"
mkdir -p "$build/bench"
[[ -s "$cap" ]] || "$build/sflua" "$here/gen_traffic.lua" "$cap" 350000p 1 >/dev/null
export FLOW_CAP="$cap"
pk=$("$build/sflua" -e "local n=0 for _ in require('stackforge').PcapReader(os.getenv('FLOW_CAP')) do n=n+1 end print(n)")
cmake --build "$build" --target flow_bench sflua >/dev/null

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
wall() {  # seconds of wall time of a command, median of $runs
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1
  done | median
}

# the same traffic with capture order not sending order (issue 10 item 4),
# and the generator's ground truth for it
rcap="$build/bench/flow_mix_reordered.pcap"
[[ -s "$rcap" ]] || "$build/sflua" "$here/gen_traffic.lua" "$rcap" 350000p 1 --jitter=20 \
  --truth="$build/bench/flow_mix_reordered.truth" 2>/dev/null

rate() { awk -v p="$pk" -v t="$1" 'BEGIN{printf "%.0f", p/t}'; }
echo "capture: $cap ($pk packets), $runs runs each, median"
"$build/bench/flow_bench" "$cap" "$runs" stream
"$build/bench/flow_bench" "$cap" "$runs" copy
"$build/sflua" "$here/flow_bench.lua" "$cap" "$runs"
"$build/sflua" "$here/flow_bench.lua" "$cap" "$runs" on_flow
# write_flows over a SYN flood's 60,020 short conversations
scap="$build/bench/synflood_60k.pcap"
[[ -s "$scap" ]] || "$build/sflua" "$here/gen_synflood.lua" "$scap" 60000 20 2>/dev/null
"$build/sflua" "$here/write_flows_bench.lua" "$scap" "$runs"
t=$(wall "$build/sflua" -e "require('stackforge').extract_flows(os.getenv('FLOW_CAP'))")
echo "sflua extract_flows, whole process (wall): $t s = $(rate "$t") pkt/s"
if command -v ndpiReader >/dev/null; then
  t=$(wall ndpiReader -i "$cap" -q)
  echo "ndpiReader -i CAP -q (wall): $t s = $(rate "$t") pkt/s"
fi
if command -v tshark >/dev/null; then
  t=$(wall tshark -r "$cap" -n -q -z conv,tcp)
  echo "tshark -q -z conv,tcp (wall): $t s = $(rate "$t") pkt/s"
fi

echo "reordered capture: $rcap (--jitter=20), $runs runs each, median"
"$build/sflua" "$here/../tests/flow/check_truth.lua" "$rcap" "$build/bench/flow_mix_reordered.truth" | head -1
"$build/sflua" "$here/flow_bench.lua" "$rcap" "$runs"
export FLOW_RCAP="$rcap"
ts=$(wall "$build/sflua" -e "require('stackforge').extract_flows(os.getenv('FLOW_RCAP'))")
echo "sflua extract_flows, whole process (wall): $ts s = $(rate "$ts") pkt/s"
if command -v ndpiReader >/dev/null; then
  tn=$(wall ndpiReader -i "$rcap" -q)
  echo "ndpiReader -i CAP -q (wall): $tn s = $(rate "$tn") pkt/s; sflua/ndpiReader $(awk -v a="$tn" -v b="$ts" 'BEGIN{printf "%.1f", a/b}')x"
fi
