#!/bin/sh
# check_tshark.sh SFLUA [--shared DIR] CAPTURE... [--policies CAPTURE...]
# -- anonymize captures and
# ask tshark (checksum validation on) about what comes out:
#  1. with the default policy, with maximum_privacy(), and with the
#     default rewriting lengths (payload_rewrite_lengths=true): no packet
#     malformed and no bad IP/TCP/UDP/ICMP/ICMPv6 checksum that was not so
#     in the original (rewritten lengths may make a cut message malformed:
#     there only checksums are judged); ml_optimized() writes the same
#     bytes as the default (it has the same contents);
#  2. with payloads and timestamps kept (the CAPTUREs before --policies
#     only: ports a dissector keys on, once permuted, change what tshark
#     warns about): the same
#     packet count, the same expert warnings count (TCP analysis sees the
#     same connections), and the same conversations (tshark -z
#     conv,tcp/udp/ip: frames, bytes, start and duration per conversation)
#     apart from addresses and ports.
# --shared DIR adds the captures under DIR that tshark reads whole, one in
# SFLUA_ANON_SAMPLE (default 6, in name order from an offset the seed picks)
# unless SFLUA_ANON_ALL=1.
# Every capture is anonymized with every policy; tshark judges each one's
# output under one of the three judged policies, in turn from one the seed
# picks, so each policy is judged every run (tests/sampling.sh:
# SFLUA_TEST_SEED; SFLUA_TEST_EXHAUSTIVE=1 judges all three and takes every
# shared capture).
# Exit 0 when all hold; 77 (skipped) without tshark.
set -u
sflua=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
command -v tshark >/dev/null 2>&1 || { echo "tshark not found: skipped"; exit 77; }
. "$here/../sampling.sh"
sample_announce "anon tshark"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
CK="-o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE"
CKBAD='ip.checksum.status == "Bad" || tcp.checksum.status == "Bad" || udp.checksum.status == "Bad" || icmp.checksum.status == "Bad" || icmpv6.checksum.status == "Bad"'

# judge FILE TAG: the frames tshark finds malformed ($tmp/mal.TAG) and
# those with a bad checksum ($tmp/ck.TAG), one tshark run (status 0 is Bad);
# fails when tshark cannot read FILE to its end
judge() {
  tshark -r "$1" $CK -Y "_ws.malformed || $CKBAD" -T fields -E separator='|' -E occurrence=a \
    -E aggregator=, -e frame.number -e _ws.malformed -e ip.checksum.status -e tcp.checksum.status \
    -e udp.checksum.status -e icmp.checksum.status -e icmpv6.checksum.status 2>/dev/null > "$tmp/judged"
  read_whole=$?
  awk -F'|' '$2 != "" { print $1 }' "$tmp/judged" > "$tmp/mal.$2"
  awk -F'|' '{ for (i = 3; i <= NF; i++) if (("," $i ",") ~ /,0,/) { print $1; break } }' \
    "$tmp/judged" > "$tmp/ck.$2"
  return $read_whole
}
# From one tshark run: the expert warnings count (frames with a severity of
# Warning or more, 0x600000, as -Y '_ws.expert.severity >= "Warning"'
# counts them), then the packet count, then the conversations without their
# endpoints (the numbers after the last address).  Warnings as tshark shows
# them by default: originals may carry checksums left to the NIC (offload),
# which the anonymized copy has fixed.
convs() {
  tshark -r "$1" -T fields -e _ws.expert.severity -z conv,tcp -z conv,udp -z conv,ip \
    2>/dev/null > "$tmp/z"
  sed -n '/^====/q;p' "$tmp/z" > "$tmp/frames"
  awk -F, '{ for (i = 1; i <= NF; i++) if ($i >= 6291456) { n++; break } } END { print n + 0 }' \
    "$tmp/frames"
  wc -l < "$tmp/frames"
  grep '<->' "$tmp/z" | sed 's/^.*<-> *[^ ]* *//' | sort
}

anon() { "$sflua" "$here/anonymize.lua" "$1" "$2" "$3" >/dev/null 2>"$tmp/err"; }

# Frames in the list $2 that are not in the list $1 (files, one a line).
newly() { sort "$1" > "$tmp/was"; sort "$2" | comm -13 "$tmp/was" -; }

# the policies whose output tshark judges for the Nth capture: one, in turn
judged() {
  if [ "$test_exhaustive" = 1 ]; then echo default maximum_privacy rewrite; return; fi
  set -- default maximum_privacy rewrite "$1"
  shift "$(sample_pick "$4" 3)"
  echo "$1"
}

# The policies' outputs (the original judged already): what tshark finds
# wrong that was right before (malformed compared with malformed, checksums
# with checksums).
check_policies() {
  cap=$1; name=$2; ext=${cap##*.}; judge=" $(judged "$count") "
  for mode in default ml_optimized maximum_privacy rewrite; do
    out="$tmp/$mode.$ext"
    if ! anon "$cap" "$out" "$mode"; then
      echo "FAIL $name ($mode): anonymize_pcap failed: $(head -1 "$tmp/err")"; fail=$((fail + 1)); continue
    fi
    if [ $mode = ml_optimized ]; then
      cmp -s "$out" "$tmp/default.$ext" ||
        { echo "FAIL $name: ml_optimized differs from the default"; fail=$((fail + 1)); }
      continue
    fi
    case $judge in *" $mode "*) ;; *) continue ;; esac
    judge "$out" out
    newly "$tmp/ck.in" "$tmp/ck.out" > "$tmp/new"
    [ $mode = rewrite ] || newly "$tmp/mal.in" "$tmp/mal.out" >> "$tmp/new"
    [ -s "$tmp/new" ] && {
      echo "FAIL $name ($mode): packets newly malformed or with a bad checksum:" \
           "$(sort -un "$tmp/new" | head -5 | tr '\n' ' ')"; fail=$((fail + 1)); }
  done
}

# Payloads and timing kept: the conversations tshark sees are the same.
check_keep() {
  cap=$1; name=$2; out="$tmp/keep.${cap##*.}"
  anon "$cap" "$out" keep || { echo "FAIL $name (keep): anonymize_pcap failed"; fail=$((fail + 1)); return; }
  convs "$cap" > "$tmp/in.z"; convs "$out" > "$tmp/out.z"
  a=$(head -n 1 "$tmp/in.z"); b=$(head -n 1 "$tmp/out.z")
  [ "$a" -eq "$b" ] || { echo "FAIL $name: $a expert warnings in, $b out"; fail=$((fail + 1)); }
  tail -n +2 "$tmp/in.z" > "$tmp/in.conv"; tail -n +2 "$tmp/out.z" > "$tmp/out.conv"
  if ! cmp -s "$tmp/in.conv" "$tmp/out.conv"; then
    echo "FAIL $name: packet counts or conversations differ"; diff "$tmp/in.conv" "$tmp/out.conv" | head -5; fail=$((fail + 1))
  fi
}

# The sample of the captures under a folder (one in SFLUA_ANON_SAMPLE, from
# an offset the seed picks; all with SFLUA_ANON_ALL=1 or exhaustive).
shared_list() {
  n=${SFLUA_ANON_SAMPLE:-6}
  all=${SFLUA_ANON_ALL:-0}
  [ "$test_exhaustive" = 1 ] && all=1
  find "$1" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.pcap.gz' -o -name '*.pcapng.gz' \) | sort |
    awk -v n="$n" -v all="$all" -v off="$(sample_pick 0 "$n")" 'all == 1 || (NR - 1) % n == off'
}

shared=""
if [ "${1:-}" = "--shared" ]; then shared=$2; shift 2; fi
count=0
keep=1
for cap in "$@"; do
  [ "$cap" = "--policies" ] && { keep=0; continue; }
  before=$fail
  judge "$cap" in
  check_policies "$cap" "$(basename "$cap")"
  [ $keep -eq 1 ] && check_keep "$cap" "$(basename "$cap")"
  count=$((count + 1))
  [ $fail -eq $before ] && echo "ok $(basename "$cap")"
done
if [ -n "$shared" ] && [ -d "$shared" ]; then
  for cap in $(shared_list "$shared"); do
    # tshark must read it to its end (not cut short, not unreadable:
    # anonymize_pcap reports those)
    judge "$cap" in || continue
    before=$fail
    name=${cap#"$shared"/}
    check_policies "$cap" "$name"
    count=$((count + 1))
    [ $fail -eq $before ] && echo "ok $name"
  done
fi
echo "$count captures checked"
[ $fail -eq 0 ]
