#!/bin/bash
# ws_tshark.sh SET PCAP: tshark's reading of a capture as TSV (a header of
# field names, then one row per frame, every occurrence joined by ","),
# for the fields of SET (ssh, l2tp), which ws_compare.lua compares sflua's
# reading with.
set -euo pipefail
case $1 in
  ssh) fields=(ssh.protocol ssh.packet_length ssh.padding_length ssh.message_code
               ssh.cookie ssh.kex_algorithms_length ssh.kex_algorithms
               ssh.server_host_key_algorithms
               ssh.encryption_algorithms_client_to_server
               ssh.encryption_algorithms_server_to_client
               ssh.mac_algorithms_client_to_server ssh.mac_algorithms_server_to_client
               ssh.compression_algorithms_client_to_server
               ssh.compression_algorithms_server_to_client
               ssh.languages_client_to_server_length ssh.first_kex_packet_follows
               ssh.ecdh.q_c_length ssh.ecdh.q_c ssh.host_key.length ssh.ecdh.q_s
               ssh.host_sig.length ssh.padding_string
               ssh.kex.hassh ssh.kex.hasshserver ssh.kex.hassh_algorithms
               ssh.kex.hasshserver_algorithms) ;;
  l2tp) fields=(l2tp.type l2tp.length_bit l2tp.seq_bit l2tp.offset_bit l2tp.priority
                l2tp.version l2tp.length l2tp.tunnel l2tp.session l2tp.Ns l2tp.Nr
                l2tp.offset l2tp.avp.mandatory l2tp.avp.hidden l2tp.avp.length
                l2tp.avp.vendor_id l2tp.avp.type l2tp.avp.message_type
                l2tp.avp.protocol_version l2tp.avp.protocol_revision
                l2tp.avp.host_name l2tp.avp.vendor_name l2tp.avp.assigned_tunnel_id
                l2tp.avp.receive_window_size l2tp.avp.assigned_session_id
                l2tp.avp.call_serial_number l2tp.avp.firmware_revision
                ppp.address ppp.control ppp.protocol ppp.code ppp.identifier ppp.length
                lcp.opt.mru lcp.opt.magic_number
                lcp.opt.auth_protocol lcp.opt.algorithm lcp.opt.asyncmap lcp.magic_number
                l2tp.tie_breaker ipcp.opt.pri_nbns_address ipcp.opt.sec_nbns_address
                ipcp.opt.type ipcp.opt.length ipcp.opt.ip_address
                ipcp.opt.pri_dns_address ipcp.opt.sec_dns_address) ;;
  # (not lcp.opt.type and lcp.opt.length: Wireshark gives them only for
  # options of the types it knows, with the lengths it expects)
  *) echo "usage: ws_tshark.sh ssh|l2tp PCAP" >&2; exit 2 ;;
esac
fields+=(_ws.malformed)  # frames tshark calls malformed: not compared
args=()
for f in "${fields[@]}"; do args+=(-e "$f"); done
(IFS=$'\t'; echo "${fields[*]}")
# a capture cut short gives what tshark read: its exit status is not ours
tshark -n -r "$2" -T fields -E separator=/t -E occurrence=a -E aggregator=, "${args[@]}" 2>/dev/null || true
