#!/usr/bin/env bash
# run_mix.sh SFLUA SRCDIR BINDIR: generate mixes with bench/gen_traffic.lua
# (two seeds) and check them against tshark and tcpflow.
set -euo pipefail
sflua=$1 src=$2 bin=$3
caps=()
for seed in 7 11; do
  cap="$bin/flow_mix_$seed.pcap"
  [[ -s "$cap" ]] || "$sflua" "$src/bench/gen_traffic.lua" "$cap" 20000p "$seed" >/dev/null
  caps+=("$cap")
done
exec python3 "$src/tests/flow/check_oracles.py" "$sflua" "${caps[@]}"
