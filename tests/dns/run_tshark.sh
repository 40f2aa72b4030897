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
for ref in "$tmp"/*.tsv; do
  diff -u "$here/../data/dns/${ref##*/}" "$ref" ||
    { echo "FAIL: tshark reads ${ref##*/} differently from tests/data/dns"; status=1; }
done
SFLUA_DNS_TSHARK_DIR=$tmp "$sflua" "$busted" --output=TAP "$here/../lua/dns_spec.lua" || status=1
exit $status
