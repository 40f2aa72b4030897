#!/bin/bash
# run_scapy_wireless_text.sh: sflua's p:summary("scapy") of 802.11 and
# 802.15.4 frames against Debian's python3-scapy 2.5, live: every frame of
# the wireless captures and gen_wireless.lua's random builds (a new seed
# each run, printed), with frames cut short or with a flipped FCS,
# checked by tests/lua/scapy_text_wireless_spec.lua.
#
#   run_scapy_wireless_text.sh SFLUA BUSTED [SEED]
#   run_scapy_wireless_text.sh --golden   rewrite tests/data/scapy_text_wireless.tsv
#                                         (seed 20261130, 400 builds)
# Exit 0 when all agree, 1 otherwise, 77 when Scapy cannot be imported.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
d="$root/tests/data"
PY=${SCAPY_PYTHON:-/usr/bin/python3}
"$PY" -c 'import scapy.all' 2>/dev/null || { echo "SKIP: $PY cannot import scapy"; exit 77; }
captures="$d/dot11_scapy.pcap $d/dot11_no_radiotap.pcap $d/ieee802.11_exthdr.pcap
  $d/ieee802.11_htc.pcap $d/bad_rsn_parsing_overrides_ssid.pcap $d/llc_snap.pcap
  $d/802_15_4-data.pcap $d/802_15_4-oobr-1.pcap $d/802_15_4_beacon.pcap
  $d/zigbee-join-authenticate.pcap"
golden() {  # seed out lua
  { echo "# Scapy $("$PY" -c 'import scapy; print(scapy.VERSION)') by tests/interop/run_scapy_wireless_text.sh (seed $1):"
    echo "# hex, link type, source, Scapy's classes, summary()"
    "$3" "$here/gen_wireless.lua" "$1" 400 | "$PY" "$here/scapy_wireless_text.py" "$1" $captures
  } >"$2"
}
if [ "${1:-}" = --golden ]; then
  golden 20261130 "$d/scapy_text_wireless.tsv" lua5.4
  echo "wrote $d/scapy_text_wireless.tsv"
  exit 0
fi
sflua=$1 busted=$2 seed=${3:-$RANDOM$RANDOM}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "seed $seed (reproduce: $0 $sflua $busted $seed)"
golden "$seed" "$tmp/golden.tsv" "$sflua"
SFLUA_SCAPY_WIRELESS_GOLDEN=$tmp/golden.tsv "$sflua" "$busted" --output=TAP \
  "$root/tests/lua/scapy_text_wireless_spec.lua"
