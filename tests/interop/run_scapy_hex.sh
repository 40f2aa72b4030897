#!/bin/bash
# run_scapy_hex.sh: sflua's hexdiff, hexstr, linehexdump, chexdump, hexdump
# and import_hexcap (of hexdump's, tcpdump -xx's, tshark -x's and
# Wireshark's dumps) against Debian's python3-scapy on random cases.
#
#   run_scapy_hex.sh [SEED [COUNT]]   new cases (a new seed each run unless
#                                     given; printed)
#   run_scapy_hex.sh --golden         rewrite tests/data/scapy_hex_golden.tsv
#                                     (seed 20261130, 150 of each)
#
# Exit 0 when all agree, 1 otherwise, 77 when Scapy cannot be imported.
# Environment: SFLUA (build/sflua), SCAPY_PYTHON (/usr/bin/python3).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
SFLUA=${SFLUA:-$root/build/sflua}
PY=${SCAPY_PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import scapy.all' >/dev/null 2>&1; then
  echo "SKIP: $PY cannot import scapy"
  exit 77
fi
export LUA_PATH=${LUA_PATH:-"$root/stdlib/?.lua;$root/stdlib/?/init.lua;;"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out="$tmp/golden.tsv"
if [ "${1:-}" = "--golden" ]; then seed=20261130 count=150 out="$root/tests/data/scapy_hex_golden.tsv"
else seed=${1:-$(date +%s)} count=${2:-300}; fi
echo "seed $seed, $count cases of each (reproduce: $0 $seed $count)"
{ echo "# Scapy $("$PY" -c 'import scapy; print(scapy.VERSION)' 2>/dev/null) by tests/interop/run_scapy_hex.sh (seed $seed)"
  "$PY" "$here/scapy_hex.py" "$seed" "$count"; } >"$tmp/golden.tsv" || exit 1
"$SFLUA" "$here/check_hex.lua" "$tmp/golden.tsv" 10
rc=$?
if [ "$out" != "$tmp/golden.tsv" ]; then
  [ $rc -eq 0 ] || { echo "not writing $out: sflua and Scapy disagree"; exit 1; }
  cp "$tmp/golden.tsv" "$out" && echo "wrote $out"
fi
exit $rc
