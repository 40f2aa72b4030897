#!/bin/bash
# modbus_scenario.sh OUTDIR SFLUA -- run inside a network namespace of its
# own (run_pymodbus.sh does so): pymodbus's server on 127.0.0.1:502, its
# client reading and writing (modbus_client.py), and a read built by sflua
# (modbus_send.lua) answered by the server; tcpdump records it all to
# OUTDIR/modbus.pcap.
set -u
out=$1 sflua=$2
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
ip link set lo up || exit 1
cd "$out" || exit 1
tcpdump -i lo -U --immediate-mode -s 0 -w modbus.pcap 'tcp port 502' 2> tcpdump.log &
dump=$!
"$PY" "$here/modbus_server.py" 127.0.0.1 502 > server.log 2>&1 &
server=$!
for _ in $(seq 50); do  # both ready
  grep -q listening tcpdump.log 2>/dev/null && "$PY" -c 'import socket; socket.create_connection(("127.0.0.1", 502)).close()' 2>/dev/null && break
  sleep 0.1
done
fail=0
timeout 20 "$PY" "$here/modbus_client.py" 127.0.0.1 502 > client.out 2>&1 || fail=1
timeout 10 "$sflua" "$here/modbus_send.lua" 127.0.0.1 502 > send_lua.out 2>&1 || fail=1
sleep 1  # tcpdump writes what it has
kill -INT $dump; wait $dump
kill $server; wait $server 2>/dev/null
exit $fail
