#!/bin/bash
# l2tp_random.sh SFLUA [SEED [COUNT]]: random L2TP packets (control
# messages with AVPs, data messages carrying PPP, LCP, IPCP, IPv4 and IPv6;
# l2tp_random.lua) built by Debian's python3-scapy 2.5 and by sflua: the
# bytes must be equal, and Scapy's must parse back whole; then tshark
# reads Scapy's packets and every L2TP, AVP, PPP, LCP and IPCP field it
# shows must equal sflua's (ws_compare.lua; skipped without tshark).  A new seed
# each run unless given (printed, to reproduce); 300 by default.
#   l2tp_random.sh SFLUA --golden   rewrite tests/data/l2tp_random_golden.lua
# Exit 77 (skip) when Scapy cannot be imported.
set -uo pipefail
sflua=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PY=${SCAPY_PYTHON:-/usr/bin/python3}
"$PY" -c 'import scapy.layers.l2tp, scapy.layers.ppp' >/dev/null 2>&1 || { echo "SKIP: $PY cannot import scapy's L2TP and PPP"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [[ ${2:-} == --golden ]]; then seed=20261129 count=300
else seed=${2:-$(date +%s)} count=${3:-300}; fi
echo "seed $seed, $count packets (reproduce: $0 $sflua $seed $count)"
"$sflua" "$here/l2tp_random.lua" gen "$seed" "$count" >"$tmp/cases.tsv" || exit 1
cut -f1 "$tmp/cases.tsv" | "$PY" "$here/scapy_cases.py" --pcap "$tmp/scapy.pcap" 1 >"$tmp/scapy.tsv" || exit 1
"$sflua" "$here/l2tp_random.lua" check "$tmp/cases.tsv" "$tmp/scapy.tsv" || exit 1
if command -v tshark >/dev/null; then
  bash "$here/ws_tshark.sh" l2tp "$tmp/scapy.pcap" >"$tmp/scapy.pcap.tsv" || exit 1
  "$sflua" "$here/ws_compare.lua" "$tmp/scapy.pcap" "$tmp/scapy.pcap.tsv" || exit 1
fi
if [[ ${2:-} == --golden ]]; then
  "$sflua" "$here/l2tp_random.lua" golden "$root/tests/data/l2tp_random_golden.lua" "$seed" "$count" "$tmp/scapy.tsv" &&
    echo "wrote tests/data/l2tp_random_golden.lua"
  if [[ -s $tmp/scapy.pcap.tsv ]]; then
    cp "$tmp/scapy.pcap" "$root/tests/data/l2tp_scapy.pcap"
    cp "$tmp/scapy.pcap.tsv" "$root/tests/data/l2tp_scapy.pcap.tsv"
    echo "wrote tests/data/l2tp_scapy.pcap and tshark's reading of it"
  fi
fi
