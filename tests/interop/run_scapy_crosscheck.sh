#!/bin/bash
# run_scapy_crosscheck.sh: sflua against Debian's python3-scapy, live.
#
#   run_scapy_crosscheck.sh [SEED [COUNT]]   random packets (seed: SEED, else
#                                            SFLUA_TEST_SEED, else the clock;
#                                            printed), bytes and dissections
#                                            compared both ways
#   run_scapy_crosscheck.sh --golden         rewrite tests/data/scapy_golden.lua
#                                            from the fixed seed
#
# Exit 0 when all agree, 1 on a mismatch (the first ones are shown), 77 when
# Scapy cannot be imported (ctest reports a skip).
# Environment: LUA (lua5.4), SCAPY_PYTHON (/usr/bin/python3), LUA_PATH and
# LUA_CPATH (default: this checkout's stdlib/ and build/).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
LUA=${LUA:-lua5.4}
PY=${SCAPY_PYTHON:-/usr/bin/python3}
GOLDEN_SEED=20240601
GOLDEN_COUNT=400

if ! "$PY" -c 'import scapy.all' >/dev/null 2>&1; then
  echo "SKIP: $PY cannot import scapy"
  exit 77
fi
export LUA_PATH=${LUA_PATH:-"$root/stdlib/?.lua;$root/stdlib/?/init.lua;;"}
export LUA_CPATH=${LUA_CPATH:-"$root/build/?.so;;"}

. "$root/tests/sampling.sh"  # test_seed: SFLUA_TEST_SEED or the clock
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "${1:-}" = "--golden" ]; then
  seed=$GOLDEN_SEED count=$GOLDEN_COUNT
  out="$root/tests/data/scapy_golden.lua"
else
  seed=${1:-$test_seed} count=${2:-600}
  out="$tmp/golden.lua"
fi
if [ "${1:-}" = "--golden" ]; then echo "seed $seed, $count packets"
else echo "seed $seed, $count packets (reproduce: $0 $seed $count)"; fi

"$LUA" "$here/gen_cases.lua" "$seed" "$count" >"$tmp/cases.txt" || exit 1
"$PY" "$here/scapy_oracle.py" --golden "$tmp/golden.lua" --seed "$seed" \
  <"$tmp/cases.txt"
rc_bytes=$?
"$LUA" "$here/check_golden.lua" "$tmp/golden.lua"
rc_parse=$?
if [ "${1:-}" = "--golden" ]; then
  if [ $rc_bytes -ne 0 ] || [ $rc_parse -ne 0 ]; then
    echo "not writing $out: sflua and Scapy disagree (fix that first)"
    exit 1
  fi
  cp "$tmp/golden.lua" "$out" && echo "wrote $out"
fi
[ $rc_bytes -eq 0 ] && [ $rc_parse -eq 0 ]
