#!/bin/bash
# run_scapy_text.sh: sflua's Scapy-style text (p:summary("scapy"),
# p:sprintf, p:show2) against Debian's python3-scapy, live.
#
#   run_scapy_text.sh [SEED [COUNT]]   random packets of gen_cases.lua (a new
#                                      seed each run unless given; printed),
#                                      the per-protocol cases of tests/data/cases
#                                      and every packet of the captures below
#   run_scapy_text.sh --golden         rewrite tests/data/scapy_text_golden.tsv
#                                      (seed 20261129, 400 packets)
#   run_scapy_text.sh --layers [SEED [COUNT] | --golden]
#        the same after load_layer("tls") and load_layer("http"), as a Scapy
#        user loads them: COUNT random packets each of tls_random.lua and
#        http_random.lua (built by sflua) and every packet of the TLS, HTTP
#        HTTP/2 and L2TP captures below; --golden rewrites
#        tests/data/scapy_text_layers_golden.tsv (seed 20261130, 150 each)
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
layers=
if [ "${1:-}" = "--layers" ]; then layers=tls,http; shift; fi
if ! "$PY" -c 'import scapy.all, scapy.layers.tls.all, scapy.layers.http' >/dev/null 2>&1; then
  echo "SKIP: $PY cannot import scapy (with its TLS and HTTP layers)"
  exit 77
fi
export LUA_PATH=${LUA_PATH:-"$root/stdlib/?.lua;$root/stdlib/?/init.lua;;"}
export LUA_CPATH=${LUA_CPATH:-"$root/build/?.so;;"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out="$tmp/golden.tsv"
d="$root/tests/data"
if [ -z "$layers" ]; then
  golden=scapy_text_golden.tsv gseed=20261129 gcount=400 count=600 loaded=
  captures="$d/http.pcap $d/icmpv6.pcap $d/LINKTYPE_IPV6.pcap $d/quic_handshake.pcap
    $d/mptcp-v1.pcap $d/tcp-handshake-nano.pcap $d/charrua-dhcp.pcap $d/charrua-dhcp2.pcap
    $d/dhcp-dnsmasq-dhclient.pcap $d/flows_frag.pcap $d/filter_mix.pcap
    $d/dnsmasq_dig.pcap $d/dns_udp.pcap"
else
  golden=scapy_text_layers_golden.tsv gseed=20261130 gcount=150 count=300
  loaded=" with load_layer($layers)"
  captures="$d/tls_new-session-ticket.pcap $d/tls_tcp_frag.pcap.gz $d/tls_tcp_frag_withnss.pcap.gz
    $d/http.pcap $d/http_content_length.pcap $d/http_chunk.pcap.gz $d/http_head.pcapng.gz
    $d/http2_h2c.pcap $d/tls_openssl.pcap $d/filter_mix.pcap $d/flows_frag.pcap
    $d/l2tp_scapy.pcap $d/l2tp_xl2tpd.pcap $d/l2tp-avp-overflow.pcap"
fi
if [ "${1:-}" = "--golden" ]; then seed=$gseed count=$gcount out="$root/tests/data/$golden"
else seed=${1:-$(date +%s)} count=${2:-$count}; fi
echo "seed $seed, $count random packets (reproduce: $0 ${layers:+--layers }$seed $count)"
# the packets, as "HEX<TAB>LINKTYPE" lines
inputs() {
  if [ -z "$layers" ]; then
    { "$LUA" "$here/gen_cases.lua" "$seed" "$count" || exit 1
      cat "$d"/cases/*.scapy.tsv; } | "$SFLUA" "$here/text_inputs.lua" $captures
  else
    for family in tls_random http_random; do
      "$SFLUA" "$here/random_inputs.lua" $family "$seed" "$count" || exit 1
    done
    "$SFLUA" "$here/text_inputs.lua" $captures </dev/null
  fi
}
inputs >"$tmp/in.tsv" || exit 1
"$PY" "$here/scapy_text.py" --formats >"$tmp/formats.txt"
{ echo "# Scapy $("$PY" -c 'import scapy; print(scapy.VERSION)' 2>/dev/null)$loaded by tests/interop/run_scapy_text.sh (seed $seed); formats:"
  sed 's/^/# /' "$tmp/formats.txt"
  "$PY" "$here/scapy_text.py" ${layers:+--layers $layers} <"$tmp/in.tsv"; } >"$tmp/golden.tsv" || exit 1
"$SFLUA" "$here/check_text.lua" "$tmp/golden.tsv" 10 "$count"
rc=$?
if [ "$out" != "$tmp/golden.tsv" ]; then
  [ $rc -eq 0 ] || { echo "not writing $out: sflua and Scapy disagree"; exit 1; }
  cp "$tmp/golden.tsv" "$out" && echo "wrote $out"
fi
exit $rc
