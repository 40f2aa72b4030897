#!/bin/bash
# quic_tshark.sh SFLUA PCAP: tshark's QUIC fields of each frame of PCAP (the
# fields tests/interop/quic_fields.lua lists, every occurrence joined by
# ","), ports 443 and 4433 read as QUIC (tshark's own heuristics want a
# connection's first Initial before a Version Negotiation).  tshark decrypts Initials itself.
set -euo pipefail
sflua=$1 pcap=$2
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t fields < <("$sflua" "$here/quic_fields.lua" --fields)
args=()
for f in "${fields[@]}"; do args+=(-e "$f"); done
(IFS=$'\t'; echo "${fields[*]}")
tshark -n -r "$pcap" -d udp.port==443,quic -d udp.port==4433,quic -T fields -E separator=/t -E occurrence=a \
  -E aggregator=, "${args[@]}" 2>/dev/null
