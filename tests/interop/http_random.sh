#!/bin/bash
# http_random.sh SFLUA [SEED [COUNT]]: random HTTP/1 requests and responses
# and HTTP/2 frames (all ten types, several a segment; http_random.lua)
# built by Debian's python3-scapy 2.5 (scapy.layers.http, contrib.http2) and
# by sflua: the bytes must be equal, and Scapy's must parse back whole.  A
# new seed each run unless given (printed, to reproduce); 300 by default.
#   http_random.sh SFLUA --golden   rewrite tests/data/http_random_golden.lua
# Exit 77 (skip) when Scapy cannot be imported.
set -uo pipefail
sflua=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PY=${SCAPY_PYTHON:-/usr/bin/python3}
"$PY" -c 'import scapy.contrib.http2' >/dev/null 2>&1 || { echo "SKIP: $PY cannot import scapy's TLS"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [[ ${2:-} == --golden ]]; then seed=20261129 count=200
else seed=${2:-$(date +%s)} count=${3:-300}; fi
echo "seed $seed, $count packets (reproduce: $0 $sflua $seed $count)"
"$sflua" "$here/http_random.lua" gen "$seed" "$count" >"$tmp/cases.tsv" || exit 1
cut -f1 "$tmp/cases.tsv" | "$PY" "$here/scapy_cases.py" >"$tmp/scapy.tsv" || exit 1
"$sflua" "$here/http_random.lua" check "$tmp/cases.tsv" "$tmp/scapy.tsv" || exit 1
if [[ ${2:-} == --golden ]]; then
  "$sflua" "$here/http_random.lua" golden "$root/tests/data/http_random_golden.lua" "$seed" "$count" "$tmp/scapy.tsv" &&
    echo "wrote tests/data/http_random_golden.lua"
fi
