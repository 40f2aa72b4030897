#!/bin/bash
# DHCP captures against today's tshark: its fields for every DHCP packet of
# the captures below (tests/lua/dhcp_fields.lua names them, all
# occurrences) are compared with the committed references
# (tests/data/NAME.dhcp.tsv), then tests/lua/dhcp_spec.lua holds sflua
# against the fresh ones.
#   run_dhcp_tshark.sh SFLUA BUSTED            check
#   run_dhcp_tshark.sh SFLUA BUSTED --update   rewrite the references
# Exit 77 (skip) without tshark.
set -uo pipefail
sflua=$1 busted=$2 mode=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
data=$root/tests/data
captures=(charrua-dhcp.pcap charrua-dhcp2.pcap dhcp-rfc3004.pcap dhcp-option-108.pcapng
          dhcp-dnsmasq-udhcpc.pcap dhcp-dnsmasq-dhclient.pcap dhcp-dnsmasq-sflua.pcap)
command -v tshark >/dev/null || { echo "SKIP: no tshark"; exit 77; }
cd "$root"
export LUA_PATH="$root/tests/lua/?.lua;${LUA_PATH:-$root/stdlib/?.lua;$root/stdlib/?/init.lua;;}"
read -ra args <<<"$("$sflua" -e 'io.write(require("dhcp_fields").tshark_args())')"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for c in "${captures[@]}"; do
  tshark -n -r "$data/$c" -Y dhcp -T fields -E header=y -E occurrence=a -E aggregator=, \
    "${args[@]}" > "$tmp/$c.dhcp.tsv" 2>/dev/null || { echo "FAIL: tshark on $c"; status=1; }
  if [[ $mode == --update ]]; then
    cp "$tmp/$c.dhcp.tsv" "$data/"
  elif ! diff -u "$data/$c.dhcp.tsv" "$tmp/$c.dhcp.tsv"; then
    echo "FAIL $c: today's tshark differs from tests/data/$c.dhcp.tsv"
    status=1
  fi
done
[[ $mode == --update ]] && { echo "references rewritten in $data"; exit 0; }
SFLUA_DHCP_REF=$tmp "$sflua" "$busted" --output=TAP "$root/tests/lua/dhcp_spec.lua" || status=1
exit $status
