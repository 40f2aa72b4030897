#!/bin/bash
# tshark's view of the wireless captures (radiotap, 802.11, 802.15.4,
# LLC/SNAP), every occurrence of each field, as TSV: the reference that
# tests/lua/wireless_spec.lua compares sflua's parse against.
#   wireless_fields.sh OUTDIR CAPTURE...
# FCS checking is on: wlan.fcs.status is 1 (good) or 0 (bad).  A capture
# cut short (bad_rsn_parsing_overrides_ssid.pcap) gives what tshark read.
set -euo pipefail
out=$1; shift
fields=(frame.len
  radiotap.length radiotap.present.word radiotap.mactime radiotap.flags
  radiotap.datarate radiotap.channel.freq radiotap.channel.flags
  radiotap.dbm_antsignal radiotap.dbm_antnoise radiotap.antenna radiotap.rxflags
  radiotap.txflags radiotap.mcs.index
  wlan.fc.type wlan.fc.subtype wlan.flags wlan.duration wlan.ra wlan.ta wlan.addr
  wlan.seq wlan.frag wlan.fcs wlan.fcs.status wlan.qos.tid wlan.qos.ack
  wlan.fixed.timestamp wlan.fixed.beacon wlan.fixed.capabilities
  wlan.fixed.listen_ival wlan.fixed.status_code wlan.fixed.aid wlan.fixed.auth.alg
  wlan.fixed.auth_seq wlan.fixed.reason_code wlan.fixed.category_code
  wlan.tag.number wlan.tag.length wlan.ssid wlan.supported_rates
  wlan.extended_supported_rates wlan.ds.current_channel wlan.tim.dtim_count
  wlan.tim.dtim_period wlan.country_info.code wlan.rsn.version wlan.rsn.pcs.count
  wlan.rsn.akms.count wlan.ht.capabilities wlan.ht.ampduparam wlan.tag.oui
  wlan.fixed.current_ap wlan.tim.bmapctl wlan.vht.capabilities eapol.version
  eapol.type eapol.len
  llc.dsap llc.ssap llc.control llc.oui llc.type eth.len
  wpan.frame_type wpan.security wpan.pending wpan.ack_request
  wpan.pan_id_compression wpan.dst_addr_mode wpan.version wpan.src_addr_mode
  wpan.seq_no wpan.dst_pan wpan.dst16 wpan.dst64 wpan.src_pan wpan.src16
  wpan.src64 wpan.fcs wpan.fcs_ok wpan.cmd wpan.beacon_order
  wpan.superframe_order wpan.cap wpan.bcn_coord wpan.assoc_permit wpan.gts.count)
args=()
for f in "${fields[@]}"; do args+=(-e "$f"); done
mkdir -p "$out"
for cap in "$@"; do
  name=$(basename "$cap")
  { (IFS=$'\t'; echo "${fields[*]}")
    tshark -n -o wlan.check_checksum:TRUE -r "$cap" -T fields \
      -E separator=/t -E occurrence=a -E aggregator=, "${args[@]}" 2>/dev/null || true
  } > "$out/$name.wireless.tsv"
done
