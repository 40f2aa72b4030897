#!/bin/bash
# tshark's dns.* values of the DNS test captures, the references
# tests/lua/dns_spec.lua compares sflua against (tests/data/dns/NAME.tsv).
#   tshark_refs.sh SFLUA OUTDIR    (OUTDIR: tests/data/dns to refresh them)
set -euo pipefail
sflua=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
data=$here/../data
mapfile -t fields < <("$sflua" -e "package.path='$here/?.lua;'..package.path
  for _, f in ipairs(require('tshark_dns').fields) do print(f) end")
args=()
for f in "${fields[@]}"; do args+=(-e "$f"); done
mkdir -p "$out"
while read -r cap port; do
  dec=()
  [[ $port != - ]] && dec=(-d "udp.port==$port,dns" -d "tcp.port==$port,dns")
  { (IFS=$'\t'; echo "${fields[*]}")
    tshark -n -r "$data/$cap" "${dec[@]}" -T fields -E separator=/t -E occurrence=a \
      -E aggregator=, "${args[@]}" 2>/dev/null
  } > "$out/$cap.tsv"
done < "$here/captures.txt"
