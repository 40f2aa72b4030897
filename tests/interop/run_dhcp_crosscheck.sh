#!/bin/bash
# run_dhcp_crosscheck.sh: sflua's BOOTP/DHCP against Debian's python3-scapy.
#
#   run_dhcp_crosscheck.sh [SEED [COUNT]]   random packets (gen_dhcp.lua; a new
#                                           seed each run unless given, printed)
#                                           built by both, bytes compared, and
#                                           Scapy's dissection held against
#                                           sflua's (dhcp_golden_check.lua)
#   run_dhcp_crosscheck.sh --golden         rewrite tests/data/dhcp_golden.lua
#                                           from the fixed seed
#
# Exit 0 when all agree, 1 on a mismatch, 77 when Scapy cannot be imported.
# Environment: LUA (lua5.4), SCAPY_PYTHON (/usr/bin/python3), LUA_PATH and
# LUA_CPATH (default: this checkout's stdlib/ and build/).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
LUA=${LUA:-lua5.4}
PY=${SCAPY_PYTHON:-/usr/bin/python3}
GOLDEN_SEED=20250611
GOLDEN_COUNT=300

if ! "$PY" -c 'import scapy.all' >/dev/null 2>&1; then
  echo "SKIP: $PY cannot import scapy"
  exit 77
fi
export LUA_PATH=${LUA_PATH:-"$root/stdlib/?.lua;$root/stdlib/?/init.lua;;"}
export LUA_CPATH=${LUA_CPATH:-"$root/build/?.so;;"}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "${1:-}" = "--golden" ]; then
  seed=$GOLDEN_SEED count=$GOLDEN_COUNT
  out="$root/tests/data/dhcp_golden.lua"
  echo "seed $seed, $count packets"
else
  seed=${1:-$(date +%s)} count=${2:-400}
  echo "seed $seed, $count packets (reproduce: $0 $seed $count)"
fi

"$LUA" "$here/gen_dhcp.lua" "$seed" "$count" >"$tmp/cases.txt" || exit 1
"$PY" "$here/dhcp_oracle.py" --golden "$tmp/golden.lua" --seed "$seed" <"$tmp/cases.txt"
rc_bytes=$?
"$LUA" "$here/check_dhcp_golden.lua" "$tmp/golden.lua"
rc_parse=$?
if [ "${1:-}" = "--golden" ]; then
  if [ $rc_bytes -ne 0 ] || [ $rc_parse -ne 0 ]; then
    echo "not writing $out: sflua and Scapy disagree (fix that first)"
    exit 1
  fi
  cp "$tmp/golden.lua" "$out" && echo "wrote $out"
fi
[ $rc_bytes -eq 0 ] && [ $rc_parse -eq 0 ]
