#!/bin/bash
# Live tshark cross-check: regenerate tshark's field values for the test
# captures that have committed ones (tests/data/*.tshark.tsv, the captures
# the spec reads) into a temporary folder and run tests/lua/tshark_spec.lua
# against them (instead of the committed copies).
#   run_tshark_check.sh SFLUA BUSTED
set -euo pipefail
sflua=$1 busted=$2
here=$(cd "$(dirname "$0")" && pwd)
data=${SFLUA_TESTDATA:-$here/../data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
caps=()
for tsv in "$data"/*.tshark.tsv; do caps+=("${tsv%.tshark.tsv}"); done
bash "$here/tshark_fields.sh" "$tmp" "${caps[@]}"
SFLUA_TSHARK_DIR=$tmp "$sflua" "$busted" --output=TAP "$here/../lua/tshark_spec.lua"
