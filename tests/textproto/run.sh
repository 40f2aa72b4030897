#!/bin/bash
# The text protocols and TFTP against real programs: vsftpd, tftpd-hpa,
# python3-aiosmtpd, dovecot, driven by curl, tftp-hpa, swaks and a TFTP
# request built in Lua, in a network namespace of their own (scenario.sh,
# removed with it), recorded with tcpdump; tshark's reading of every
# message (fields.sh) against sflua's (check.lua).
#   run.sh SFLUA            check
#   run.sh SFLUA --update   also keep the capture and tshark's reading in
#                           tests/data (textproto_spec reads them)
# Exit 77 without root, unshare or the programs.
set -uo pipefail
sflua=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
for t in unshare tcpdump tshark vsftpd in.tftpd tftp curl swaks dovecot openssl; do
  command -v $t >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { echo "SKIP: python3-aiosmtpd is not installed"; exit 77; }
[[ $(id -u) -eq 0 ]] && unshare -n true 2>/dev/null || { echo "SKIP: needs root and unshare -n"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
timeout 120 unshare -n bash "$here/scenario.sh" "$work" "$sflua" || { echo "FAIL: the scenario"; exit 1; }
echo "TFTP RRQ built in Lua: $(cat "$work/rrq_lua.out")"
bash "$here/fields.sh" "$work/textproto.pcap" > "$work/textproto.tsv"
"$sflua" "$here/check.lua" "$work/textproto.pcap" "$work/textproto.tsv" 40069 || exit 1
if [[ ${2:-} == --update ]]; then
  cp "$work/textproto.pcap" "$here/../data/textproto_live.pcap"
  cp "$work/textproto.tsv" "$here/../data/textproto_live.tsv"
fi
