#!/bin/bash
# Modbus/TCP against real programs: python3-pymodbus's server and client in
# a network namespace of their own (modbus_scenario.sh: reads and writes of
# coils and registers, codes 1-6, 15, 16, 22, 23 and 43, an exception, and
# a read built by sflua answered by the server), recorded with tcpdump;
# tshark's reading of every ADU (tshark_msgs.py) against sflua's
# (check_msgs.lua).
#   run_pymodbus.sh SFLUA            check
#   run_pymodbus.sh SFLUA --update   also keep the capture and tshark's
#                                    reading in tests/data (modbus_spec reads them)
# Exit 77 without root, unshare, pymodbus, tcpdump or tshark.
set -uo pipefail
sflua=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
for t in unshare tcpdump tshark; do
  command -v $t >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
/usr/bin/python3 -c 'import pymodbus' 2>/dev/null || { echo "SKIP: python3-pymodbus is not installed"; exit 77; }
[[ $(id -u) -eq 0 ]] && unshare -n true 2>/dev/null || { echo "SKIP: needs root and unshare -n"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
timeout 120 unshare -n bash "$here/modbus_scenario.sh" "$work" "$sflua" || {
  cat "$work"/client.out "$work"/send_lua.out 2>/dev/null; echo "FAIL: the scenario"; exit 1; }
cat "$work/client.out"
echo "Lua-built Read Holding Registers answered: $(cat "$work/send_lua.out")"
tshark -r "$work/modbus.pcap" -T json --no-duplicate-keys -J "mbtcp modbus tcp" 2>/dev/null |
  /usr/bin/python3 "$here/tshark_msgs.py" mbtcp > "$work/modbus.tsv"
"$sflua" "$here/check_msgs.lua" modbus "$work/modbus.pcap" "$work/modbus.tsv" || exit 1
if [[ ${2:-} == --update ]]; then
  cp "$work/modbus.pcap" "$here/../data/modbus_pymodbus.pcap"
  cp "$work/modbus.tsv" "$here/../data/modbus_pymodbus.tsv"
fi
