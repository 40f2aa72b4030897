#!/bin/bash
# run_scapy_text.sh: sflua's Scapy-style text (p:summary("scapy"),
# p:sprintf) against Debian's python3-scapy, live.
#
#   run_scapy_text.sh [SEED [COUNT]]   random packets of gen_cases.lua (a new
#                                      seed each run unless given; printed),
#                                      the per-protocol cases of tests/data/cases
#                                      and every packet of the captures below
#   run_scapy_text.sh --golden         rewrite tests/data/scapy_text_golden.tsv
#                                      (seed 20261129, 400 packets)
#
# Exit 0 when all agree, 1 otherwise, 77 when Scapy cannot be imported.
# Environment: SFLUA (build/sflua), LUA (lua5.4), SCAPY_PYTHON
# (/usr/bin/python3), LUA_PATH and LUA_CPATH (this checkout's).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
SFLUA=${SFLUA:-$root/build/sflua}
LUA=${LUA:-lua5.4}
PY=${SCAPY_PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import scapy.all' >/dev/null 2>&1; then
  echo "SKIP: $PY cannot import scapy"
  exit 77
fi
export LUA_PATH=${LUA_PATH:-"$root/stdlib/?.lua;$root/stdlib/?/init.lua;;"}
export LUA_CPATH=${LUA_CPATH:-"$root/build/?.so;;"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out="$tmp/golden.tsv"
if [ "${1:-}" = "--golden" ]; then seed=20261129 count=400 out="$root/tests/data/scapy_text_golden.tsv"
else seed=${1:-$(date +%s)} count=${2:-600}; fi
echo "seed $seed, $count random packets (reproduce: $0 $seed $count)"
d="$root/tests/data"
captures="$d/http.pcap $d/icmpv6.pcap $d/LINKTYPE_IPV6.pcap $d/quic_handshake.pcap
  $d/mptcp-v1.pcap $d/tcp-handshake-nano.pcap $d/charrua-dhcp.pcap $d/charrua-dhcp2.pcap
  $d/dhcp-dnsmasq-dhclient.pcap $d/flows_frag.pcap $d/filter_mix.pcap
  $d/dnsmasq_dig.pcap $d/dns_udp.pcap"
{ "$LUA" "$here/gen_cases.lua" "$seed" "$count" || exit 1
  cat "$d"/cases/*.scapy.tsv; } |
  "$SFLUA" "$here/text_inputs.lua" $captures >"$tmp/in.tsv" || exit 1
"$PY" "$here/scapy_text.py" --formats >"$tmp/formats.txt"
{ echo "# Scapy $("$PY" -c 'import scapy; print(scapy.VERSION)' 2>/dev/null) by tests/interop/run_scapy_text.sh (seed $seed); formats:"
  sed 's/^/# /' "$tmp/formats.txt"
  "$PY" "$here/scapy_text.py" <"$tmp/in.tsv"; } >"$tmp/golden.tsv" || exit 1
"$SFLUA" "$here/check_text.lua" "$tmp/golden.tsv" 10 "$count"
rc=$?
if [ "$out" != "$tmp/golden.tsv" ]; then
  [ $rc -eq 0 ] || { echo "not writing $out: sflua and Scapy disagree"; exit 1; }
  cp "$tmp/golden.tsv" "$out" && echo "wrote $out"
fi
exit $rc
