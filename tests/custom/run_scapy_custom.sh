#!/bin/bash
# run_scapy_custom.sh: custom layers (CustomLayer) against Debian's
# python3-scapy, live: the layers of defs.lua declared as Scapy classes
# (scapy_custom_oracle.py), every field type, built and dissected by both.
#
#   run_scapy_custom.sh [SEED [PER_LAYER]]   fixed cases plus random ones (seed:
#                                            SEED, else SFLUA_TEST_SEED, else
#                                            the clock)
#   run_scapy_custom.sh --golden             rewrite tests/data/scapy_custom_golden.lua
#                                            from the fixed seed
#
# Exit 0 when sflua and Scapy agree (cases of known bugs, check_custom.lua
# KNOWN, are counted apart), 1 otherwise, 77 when Scapy cannot be imported.
# Environment: LUA (lua5.4), SCAPY_PYTHON (/usr/bin/python3), LUA_PATH and
# LUA_CPATH (default: this checkout's stdlib/ and build/).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
LUA=${LUA:-lua5.4}
PY=${SCAPY_PYTHON:-/usr/bin/python3}
GOLDEN_SEED=20240701
GOLDEN_PER_LAYER=20

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
  seed=$GOLDEN_SEED per=$GOLDEN_PER_LAYER
  out="$root/tests/data/scapy_custom_golden.lua"
  echo "seed $seed, $per random cases per layer"
else
  seed=${1:-$test_seed} per=${2:-40}
  out="$tmp/golden.lua"
  echo "seed $seed, $per random cases per layer (reproduce: $0 $seed $per)"
fi

"$LUA" "$here/gen_custom_cases.lua" "$seed" "$per" >"$tmp/cases.txt" || exit 1
"$PY" "$here/scapy_custom_oracle.py" --golden "$tmp/golden.lua" --seed "$seed" \
  <"$tmp/cases.txt"
rc_scapy=$?
"$LUA" "$here/check_golden.lua" "$tmp/golden.lua"
rc_sflua=$?
if [ "${1:-}" = "--golden" ]; then
  # Scapy's side is the reference: it is written even where sflua has known
  # bugs (the spec marks those), never when Scapy itself failed.
  if [ $rc_scapy -ne 0 ]; then echo "not writing $out: Scapy failed"; exit 1; fi
  cp "$tmp/golden.lua" "$out" && echo "wrote $out"
fi
[ $rc_scapy -eq 0 ] && [ $rc_sflua -eq 0 ]
