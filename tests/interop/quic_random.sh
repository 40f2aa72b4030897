#!/bin/bash
# quic_random.sh SFLUA [SEED | --golden]: 300 random QUIC packets built by
# sflua (quic_random.lua: every long header type, coalesced packets,
# client Initials with random frames, encrypted) read by tshark, which must
# read every field as sflua does (quic_fields.lua; tshark decrypts the
# Initials).  A new seed each run (printed; pass it to reproduce).
# --golden writes tests/data/quic_random.pcap and its tshark reading from
# seed 20251130, which tests/lua/quic_spec.lua checks offline.
# Exit 77 (skip) without tshark.  (Scapy 2.5 has no QUIC layer to compare
# bytes with; tshark is the oracle.)
set -uo pipefail
sflua=$(realpath "$1") arg=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
command -v tshark >/dev/null || { echo "SKIP: no tshark"; exit 77; }
seed=${arg:-$(( $(date +%s%N) % 1000000007 ))}
[[ $arg == --golden ]] && seed=20251130
echo "quic_random: seed $seed"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$sflua" "$here/quic_random.lua" "$tmp/r.pcap" "$seed" 300 || exit 1
bash "$here/quic_tshark.sh" "$sflua" "$tmp/r.pcap" >"$tmp/r.tsv" || exit 1
"$sflua" "$here/quic_fields.lua" "$tmp/r.pcap" "$tmp/r.tsv" || exit 1
if [[ $arg == --golden ]]; then
  cp "$tmp/r.pcap" "$root/tests/data/quic_random.pcap"
  cp "$tmp/r.tsv" "$root/tests/data/quic_random.pcap.quic.tsv"
  echo "wrote tests/data/quic_random.pcap and its tshark reading"
fi
