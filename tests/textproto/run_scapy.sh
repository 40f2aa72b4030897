#!/bin/bash
# TFTP against Debian's python3-scapy 2.5, live: random messages (a new
# seed each run unless given; printed) built by both, byte for byte.
#   run_scapy.sh SFLUA [SEED [COUNT]]   check (COUNT default 300)
#   run_scapy.sh SFLUA --golden         rewrite tests/data/tftp_scapy_golden.tsv
#                                       (seed 20261129, 300 messages), which
#                                       tests/lua/tftp_spec.lua checks offline
# Exit 77 when Scapy cannot be imported.
set -uo pipefail
sflua=$1
here=$(cd "$(dirname "$0")" && pwd)
PY=${SCAPY_PYTHON:-/usr/bin/python3}
cmp="$here/../iot/scapy_iot.py"  # Scapy's side: builds each expression, compares
export SCAPY_LABEL=TFTP
"$PY" -c 'import scapy.all' >/dev/null 2>&1 || { echo "SKIP: $PY cannot import scapy"; exit 77; }
if [[ ${2:-} == --golden ]]; then
  "$sflua" "$here/gen_tftp.lua" 20261129 300 |
    "$PY" "$cmp" --golden "$here/../data/tftp_scapy_golden.tsv"
  exit
fi
seed=${2:-$(date +%s)} count=${3:-300}
echo "seed $seed, $count messages (reproduce: $0 $sflua $seed $count)"
"$sflua" "$here/gen_tftp.lua" "$seed" "$count" | "$PY" "$cmp"
