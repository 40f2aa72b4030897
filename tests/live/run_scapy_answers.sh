#!/usr/bin/env bash
# Today's python3-scapy judges the request/reply pairs of
# tests/live/scapy_answers.py again; tests/lua/answers_spec.lua compares
# sflua with that verdict (the committed one is tests/data/scapy_answers.lua:
# `run_scapy_answers.sh --golden` rewrites it).  77 without Scapy.
#   run_scapy_answers.sh SFLUA BUSTED [--golden]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PY=${SCAPY_PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import scapy.all' >/dev/null 2>&1; then
  echo "SKIP: $PY cannot import scapy"; exit 77
fi
if [[ ${3:-} == --golden ]]; then
  "$PY" "$here/scapy_answers.py" > "$root/tests/data/scapy_answers.lua"; exit $?
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PY" "$here/scapy_answers.py" > "$tmp/answers.lua" || exit 1
SFLUA_ANSWERS="$tmp/answers.lua" "$1" "$2" --output=TAP "$root/tests/lua/answers_spec.lua"
