#!/bin/bash
# Write tshark's view of each capture's fields as TSV, the reference the
# tshark spec (tests/lua/tshark_spec.lua) compares sflua's parse against.
#   tshark_fields.sh OUTDIR CAPTURE...
set -euo pipefail
out=$1; shift
fields=(frame.len eth.src eth.dst eth.type vlan.id ip.src ip.dst ip.ttl ip.id
        ip.len ip.proto ip.checksum ip.flags tcp.srcport tcp.dstport tcp.seq_raw
        tcp.ack_raw tcp.flags tcp.window_size_value tcp.checksum tcp.hdr_len
        udp.srcport udp.dstport udp.length udp.checksum icmp.type icmp.code
        icmp.checksum ipv6.src ipv6.dst ipv6.hlim ipv6.plen ipv6.nxt
        icmpv6.type icmpv6.code icmpv6.checksum)
args=()
for f in "${fields[@]}"; do args+=(-e "$f"); done
mkdir -p "$out"
for cap in "$@"; do
  name=$(basename "$cap")
  { (IFS=$'\t'; echo "${fields[*]}")
    # (a capture cut short gives what tshark read: its exit status is not ours)
    tshark -n -r "$cap" -T fields -E separator=/t -E occurrence=f "${args[@]}" 2>/dev/null || true
  } > "$out/$name.tshark.tsv"
done
