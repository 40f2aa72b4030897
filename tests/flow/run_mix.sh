#!/usr/bin/env bash
# run_mix.sh SFLUA SRCDIR BINDIR: generate mixes with bench/gen_traffic.lua
# and check them against tshark and tcpflow.  Each mix has every kind of
# traffic the generator makes, so a run checks one of the two mixes, the
# seed's choice (tests/sampling.sh); SFLUA_TEST_EXHAUSTIVE=1 checks both.
set -euo pipefail
sflua=$1 src=$2 bin=$3
. "$src/tests/sampling.sh"
sample_announce "flow mix"
mixes=(7 11)
if [[ $test_exhaustive == 0 ]]; then
  mixes=("${mixes[$(sample_pick 0 ${#mixes[@]})]}")
fi
caps=()
for mix in "${mixes[@]}"; do
  cap="$bin/flow_mix_$mix.pcap"
  [[ -s "$cap" ]] || "$sflua" "$src/bench/gen_traffic.lua" "$cap" 20000p "$mix" >/dev/null
  caps+=("$cap")
done
exec python3 "$src/tests/flow/check_oracles.py" "$sflua" "${caps[@]}"
