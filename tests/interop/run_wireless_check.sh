#!/bin/bash
# Live tshark cross-check of the wireless captures: regenerate tshark's
# field values into a temporary folder and run tests/lua/wireless_spec.lua
# against them (instead of the committed copies).
#   run_wireless_check.sh SFLUA BUSTED
set -euo pipefail
sflua=$1 busted=$2
here=$(cd "$(dirname "$0")" && pwd)
data=${SFLUA_TESTDATA:-$here/../data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
caps=()
for f in "$data"/*.wireless.tsv; do caps+=("${f%.wireless.tsv}"); done
bash "$here/wireless_fields.sh" "$tmp" "${caps[@]}"
SFLUA_WIRELESS_DIR=$tmp "$sflua" "$busted" --output=TAP "$here/../lua/wireless_spec.lua"
