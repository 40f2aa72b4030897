#!/bin/bash
# Today's tshark over the DNS test captures: its values must equal the
# committed references (tests/data/dns/) and sflua's (dns_spec.lua run
# over the fresh ones).
#   run_tshark.sh SFLUA BUSTED
set -uo pipefail
sflua=$1 busted=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash "$here/tshark_refs.sh" "$sflua" "$tmp" || exit 1
status=0
diff -ru "$here/../data/dns" "$tmp" || { echo "FAIL: tshark reads the captures differently from tests/data/dns"; status=1; }
SFLUA_DNS_TSHARK_DIR=$tmp "$sflua" "$busted" --output=TAP "$here/../lua/dns_spec.lua" || status=1
exit $status
