#!/bin/bash
# Per-protocol interop cases (tests/interop/cases/*.lua), live: Scapy builds
# each case, tshark reads what Scapy built, and both are compared with the
# committed references (tests/data/cases/) and with sflua
# (tests/lua/cases_spec.lua run over the fresh references).
#   run_cases.sh SFLUA BUSTED            check
#   run_cases.sh SFLUA BUSTED --update   rewrite the committed references
# Exit 77 (skip) when neither python3-scapy nor tshark is installed.
set -uo pipefail
sflua=$1 busted=$2 mode=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PY=${SCAPY_PYTHON:-/usr/bin/python3}
ref=$root/tests/data/cases
cd "$root"

have_scapy=0 have_tshark=0
"$PY" -c 'import scapy.all' >/dev/null 2>&1 && have_scapy=1
command -v tshark >/dev/null && have_tshark=1
if ((!have_scapy)); then echo "SKIP: $PY cannot import scapy"; exit 77; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for name in $("$sflua" "$here/cases.lua" names); do
  lt=$("$sflua" "$here/cases.lua" linktype "$name")
  "$sflua" "$here/cases.lua" scapy "$name" |
    "$PY" "$here/scapy_cases.py" --pcap "$tmp/$name.pcap" "$lt" > "$tmp/$name.scapy.tsv" || {
      echo "FAIL $name: Scapy could not build the cases"; status=1; continue; }
  mapfile -t fields < <("$sflua" "$here/cases.lua" fields "$name")
  if ((have_tshark && ${#fields[@]})); then
    mapfile -t args < <("$sflua" "$here/cases.lua" tshark_args "$name")
    for f in "${fields[@]}"; do args+=(-e "$f"); done
    { (IFS=$'\t'; echo "${fields[*]}")
      tshark -n -r "$tmp/$name.pcap" -T fields -E separator=/t -E occurrence=f "${args[@]}" 2>/dev/null
    } > "$tmp/$name.tshark.tsv"
  fi
  for kind in scapy tshark; do
    [[ -f $tmp/$name.$kind.tsv ]] || continue
    if [[ $mode == --update ]]; then
      mkdir -p "$ref"
      cp "$tmp/$name.$kind.tsv" "$ref/"
    elif ! diff -u "$ref/$name.$kind.tsv" "$tmp/$name.$kind.tsv"; then
      echo "FAIL $name: today's $kind differs from tests/data/cases/$name.$kind.tsv"
      status=1
    fi
  done
done
[[ $mode == --update ]] && { echo "references rewritten in $ref"; exit 0; }
# sflua against today's oracles (the committed references are checked by
# the busted suite itself)
cp -n "$ref"/*.tsv "$tmp"/ 2>/dev/null
SFLUA_CASES_REF=$tmp "$sflua" "$busted" --output=TAP "$root/tests/lua/cases_spec.lua" || status=1
exit $status
