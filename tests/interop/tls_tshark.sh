#!/bin/bash
# tls_tshark.sh SFLUA PCAP: tshark's TLS fields of each frame of PCAP (the
# fields tests/interop/tls_fields.lua lists, every occurrence joined by
# ","), with TCP and TLS reassembly off (one frame, one reading, as sflua
# parses a packet) and port 4433 (openssl s_server's) read as TLS.
set -euo pipefail
sflua=$1 pcap=$2
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t fields < <("$sflua" "$here/tls_fields.lua" --fields)
args=()
for f in "${fields[@]}"; do args+=(-e "$f"); done
(IFS=$'\t'; echo "${fields[*]}")
tshark -n -r "$pcap" -d tcp.port==4433,tls -o tcp.desegment_tcp_streams:FALSE \
  -o tls.desegment_ssl_records:FALSE -o tls.desegment_ssl_application_data:FALSE \
  -T fields -E separator=/t -E occurrence=a -E aggregator=, "${args[@]}" 2>/dev/null
