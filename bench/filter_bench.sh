#!/bin/bash
# filter_bench.sh [CAPTURE]: display filters against tshark on the benchmark
# capture (build/bench/traffic.pcap, made by bench/run.sh or gen_traffic.lua):
#   1. PcapReader(f, {filter=...}) (bench/filter_bench.lua)
#   2. sflua -r -Y ... -T fields and tshark -r -Y ... -T fields, the same
#      fields: wall and CPU seconds of each, and the outputs compared.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
cap=${1:-$root/build/bench/traffic.pcap}
sflua=${SFLUA:-$root/build/sflua}
expr='tcp.port == 443 and ip.src == 10.0.0.0/8'
fields=(-e frame.number -e frame.time_epoch -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport -e tcp.flags -e frame.len)
[ -f "$cap" ] || "$sflua" "$here/gen_traffic.lua" "$cap" 350000p 1
echo "load: $(uptime)"
"$sflua" "$here/filter_bench.lua" "$cap" "$expr"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in 1 2 3; do
  /usr/bin/time -f "sflua -r -Y -T fields: %e s wall, %U+%S s cpu" \
    "$sflua" -r "$cap" -Y "$expr" -T fields "${fields[@]}" > "$tmp/sflua.tsv"
done
/usr/bin/time -f "tshark -r -Y -T fields: %e s wall, %U+%S s cpu" \
  tshark -r "$cap" -Y "$expr" -T fields "${fields[@]}" > "$tmp/tshark.tsv" 2> >(grep -v "^Running as" >&2)
wait
cmp "$tmp/sflua.tsv" "$tmp/tshark.tsv" && echo "same output: $(wc -l < "$tmp/sflua.tsv") lines"
