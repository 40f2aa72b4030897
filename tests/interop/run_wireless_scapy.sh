#!/bin/bash
# Live Scapy cross-check of wireless builds: 400 new random cases (the
# seed is printed; `run_wireless_scapy.sh SFLUA BUSTED SEED` repeats a
# run), built by python3-scapy 2.5 and checked by
# tests/lua/wireless_scapy_spec.lua.  `--golden` instead rewrites
# tests/data/wireless_scapy.tsv from seed 20241129.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" = --golden ]; then
  lua5.4 "$here/gen_wireless.lua" 20241129 400 |
    /usr/bin/python3 "$here/wireless_oracle.py" "$here/../data/wireless_scapy.tsv"
  exit 0
fi
sflua=$1 busted=$2 seed=${3:-$RANDOM$RANDOM}
/usr/bin/python3 -c 'import scapy' 2>/dev/null || { echo "python3-scapy missing: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "seed $seed"
"$sflua" "$here/gen_wireless.lua" "$seed" 400 > "$tmp/cases"
/usr/bin/python3 "$here/wireless_oracle.py" "$tmp/golden.tsv" < "$tmp/cases"
SFLUA_WIRELESS_GOLDEN=$tmp/golden.tsv "$sflua" "$busted" --output=TAP "$here/../lua/wireless_scapy_spec.lua"
