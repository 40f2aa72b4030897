#!/bin/sh
# check_tshark.sh SFLUA CAPTURE... -- anonymize each capture and ask tshark:
#  1. with every policy (default, maximum_privacy, payloads kept): nothing
#     malformed and no bad IP/TCP/UDP/ICMP/ICMPv6 checksum, with checksum
#     validation on;
#  2. with payloads and timing kept: the same packet count, the same expert
#     warnings count as the original (TCP analysis sees the same
#     connections), and the same conversations (tshark -z conv,tcp/udp/ip:
#     frames, bytes, start and duration per conversation) apart from
#     addresses and ports.
# Exit 0 when all hold; 77 (skipped) without tshark.
set -u
sflua=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
command -v tshark >/dev/null 2>&1 || { echo "tshark not found: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
CK="-o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE"
BAD='_ws.malformed || ip.checksum.status == "Bad" || tcp.checksum.status == "Bad" || udp.checksum.status == "Bad" || icmp.checksum.status == "Bad" || icmpv6.checksum.status == "Bad"'
WARN='_ws.expert.severity >= "Warning"'

count() { tshark -r "$1" $CK -Y "$2" 2>/dev/null | wc -l; }
# warnings as tshark shows them by default: originals may carry checksums
# left to the NIC (offload), which the anonymized copy has fixed
warnings() { tshark -r "$1" -Y "$WARN" 2>/dev/null | wc -l; }

# conversations without their endpoints: the numbers after the last address
convs() {
  for z in conv,tcp conv,udp conv,ip; do
    tshark -r "$1" -q -z $z 2>/dev/null | grep '<->' | sed 's/^.*<-> *[^ ]* *//' | sort
  done
}

for cap in "$@"; do
  name=$(basename "$cap")
  for mode in default max keep; do
    out="$tmp/$mode-$name"
    if ! "$sflua" "$here/anonymize.lua" "$cap" "$out" "$mode" >/dev/null; then
      echo "FAIL $name ($mode): anonymize_pcap failed"; fail=1; continue
    fi
    n=$(count "$out" "$BAD")
    [ "$n" -eq 0 ] || { echo "FAIL $name ($mode): $n malformed or bad-checksum packets"; fail=1; }
  done
  out="$tmp/keep-$name"
  a=$(tshark -r "$cap" 2>/dev/null | wc -l); b=$(tshark -r "$out" 2>/dev/null | wc -l)
  [ "$a" -eq "$b" ] || { echo "FAIL $name: $a packets in, $b out"; fail=1; }
  a=$(warnings "$cap"); b=$(warnings "$out")
  [ "$a" -eq "$b" ] || { echo "FAIL $name: $a expert warnings in, $b out"; fail=1; }
  convs "$cap" > "$tmp/in.conv"; convs "$out" > "$tmp/out.conv"
  if ! cmp -s "$tmp/in.conv" "$tmp/out.conv"; then
    echo "FAIL $name: conversations differ"; diff "$tmp/in.conv" "$tmp/out.conv" | head -5; fail=1
  fi
  [ $fail -eq 0 ] && echo "ok $name ($a warnings, $(wc -l < "$tmp/in.conv") conversations)"
done
exit $fail
