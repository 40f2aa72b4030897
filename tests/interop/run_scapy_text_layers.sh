#!/bin/bash
# run_scapy_text_layers.sh: sflua's Scapy-style text (p:summary("scapy"),
# p:sprintf, p:show2) against Debian's python3-scapy, live, for the layers
# a Scapy user loads first (load_layer("tls"), load_layer("http")): random
# TLS and HTTP packets of tls_random.lua and http_random.lua, built by
# sflua, and every packet of the TLS, HTTP and L2TP captures below.
# tests/interop/run_scapy_text.sh does the same for what scapy.all loads.
#
#   run_scapy_text_layers.sh [SEED [COUNT]]   a new seed each run unless
#                                             given (printed); COUNT random
#                                             packets of each family
#   run_scapy_text_layers.sh --golden         rewrite
#                                 tests/data/scapy_text_layers_golden.tsv
#                                 (seed 20261130, 150 of each family)
#
# Exit 0 when all agree, 1 otherwise, 77 when Scapy cannot be imported.
# Environment: SFLUA (build/sflua), SCAPY_PYTHON (/usr/bin/python3),
# LUA_PATH and LUA_CPATH (this checkout's).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
SFLUA=${SFLUA:-$root/build/sflua}
PY=${SCAPY_PYTHON:-/usr/bin/python3}
layers=tls,http
if ! "$PY" -c 'import scapy.all, scapy.layers.tls.all, scapy.layers.http' >/dev/null 2>&1; then
  echo "SKIP: $PY cannot import scapy (with its TLS and HTTP layers)"
  exit 77
fi
export LUA_PATH=${LUA_PATH:-"$root/stdlib/?.lua;$root/stdlib/?/init.lua;;"}
export LUA_CPATH=${LUA_CPATH:-"$root/build/?.so;;"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out="$tmp/golden.tsv"
if [ "${1:-}" = "--golden" ]; then seed=20261130 count=150 out="$root/tests/data/scapy_text_layers_golden.tsv"
else seed=${1:-$(date +%s)} count=${2:-300}; fi
echo "seed $seed, $count random packets of each family (reproduce: $0 $seed $count)"
d="$root/tests/data"
captures="$d/tls_new-session-ticket.pcap $d/tls_tcp_frag.pcap.gz $d/tls_tcp_frag_withnss.pcap.gz
  $d/http.pcap $d/http_content_length.pcap $d/http_chunk.pcap.gz $d/http_head.pcapng.gz
  $d/l2tp_scapy.pcap $d/l2tp_xl2tpd.pcap $d/l2tp-avp-overflow.pcap"
{ for family in tls_random http_random; do
    "$SFLUA" "$here/random_inputs.lua" $family "$seed" "$count" || exit 1
  done
  "$SFLUA" "$here/text_inputs.lua" $captures </dev/null || exit 1
} >"$tmp/in.tsv" || exit 1
"$PY" "$here/scapy_text.py" --formats >"$tmp/formats.txt"
{ echo "# Scapy $("$PY" -c 'import scapy; print(scapy.VERSION)' 2>/dev/null) with load_layer($layers) by tests/interop/run_scapy_text_layers.sh (seed $seed); formats:"
  sed 's/^/# /' "$tmp/formats.txt"
  "$PY" "$here/scapy_text.py" --layers $layers <"$tmp/in.tsv"; } >"$tmp/golden.tsv" || exit 1
"$SFLUA" "$here/check_text.lua" "$tmp/golden.tsv" 10 "$count"
rc=$?
if [ "$out" != "$tmp/golden.tsv" ]; then
  [ $rc -eq 0 ] || { echo "not writing $out: sflua and Scapy disagree"; exit 1; }
  cp "$tmp/golden.tsv" "$out" && echo "wrote $out"
fi
exit $rc
