#!/bin/bash
# dig against dnsmasq on loopback, recorded with tcpdump, compared field
# by field with tshark -T fields (A, AAAA, MX, TXT, SRV, CNAME, PTR, CAA,
# HINFO, EDNS, a truncated UDP answer and dig's fallback to TCP); then a
# query built in Lua and sent over a UDP socket gets dnsmasq's answer.
#   run_dnsmasq.sh SFLUA [--record OUT.pcap]   (--record: keep the capture,
#                                               to refresh tests/data's copy)
# DNS_PORT chooses the port (default: a random one from 20000).
# Exit 77 (skip) without dnsmasq, dig, tcpdump or tshark; runs as root (the
# capture on lo).  The server listens on 127.0.0.1 at a high port.
set -uo pipefail
sflua=$1
record=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
for t in dnsmasq dig tcpdump tshark; do
  command -v "$t" >/dev/null || [[ -x /usr/sbin/$t ]] || { echo "SKIP: no $t"; exit 77; }
done
[[ $(id -u) == 0 ]] || { echo "SKIP: capturing on lo needs root"; exit 77; }
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
port=${DNS_PORT:-$((20000 + RANDOM % 20000))}
tmp=$(mktemp -d)
cleanup() {
  [[ -n ${dpid:-} ]] && kill "$dpid" 2>/dev/null
  [[ -n ${tpid:-} ]] && kill "$tpid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
long=$(printf 'x%.0s' $(seq 1 200))
"$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
  --listen-address=127.0.0.1 --bind-interfaces --port="$port" --pid-file="$tmp/pid" \
  --local=/test/ --log-facility="$tmp/log" \
  --host-record=www.test,10.1.2.3,2001:db8::53 \
  --cname=alias.test,www.test \
  --mx-host=test,mail.test,10 --mx-host=test,backup.test,20 \
  --txt-record=test,"hello world","v=spf1 -all" \
  --txt-record=big.test,"$long","$long","$long" \
  --srv-host=_sip._tcp.test,sip.test,5060,1,2 \
  --caa-record=test,0,issue,ca.example \
  --dns-rr=box.test,13,03783836054c494e5558 &
dpid=$!
tcpdump -i lo --immediate-mode -U -n -w "$tmp/dig.pcap" "port $port" 2>"$tmp/tcpdump.log" &
tpid=$!
for _ in $(seq 50); do  # both up
  grep -q "listening" "$tmp/tcpdump.log" 2>/dev/null && dig +short +tries=1 +time=1 -p "$port" @127.0.0.1 www.test >/dev/null 2>&1 && break
  sleep 0.1
done
q() { dig +tries=1 +time=2 -p "$port" @127.0.0.1 "$@" >>"$tmp/dig.txt" 2>&1; }
q www.test A
q www.test AAAA
q alias.test A
q test MX
q test TXT
q _sip._tcp.test SRV
q -x 10.1.2.3
q test CAA
q box.test HINFO
q +noedns www.test A
q +dnssec +bufsize=1232 test MX
q +noedns big.test TXT          # 600+ bytes: truncated over UDP, dig asks again over TCP
q +tcp www.test AAAA
grep -q "Truncated, retrying in TCP mode" "$tmp/dig.txt" || { echo "FAIL: dig did not fall back to TCP"; status=1; }
# a query built in Lua, sent over a UDP socket: dnsmasq answers it
"$sflua" "$here/udp_query.lua" 127.0.0.1 "$port" www.test 10.1.2.3 || { echo "FAIL: the Lua-built query"; status=1; }
sleep 0.3
kill "$tpid"; wait "$tpid" 2>/dev/null; tpid=
n=$(tshark -r "$tmp/dig.pcap" -d "udp.port==$port,dns" -d "tcp.port==$port,dns" -Y dns 2>/dev/null | wc -l)
echo "dig and the Lua query: $n DNS packets captured"
(( n >= 26 )) || { echo "FAIL: only $n DNS packets captured"; cat "$tmp/tcpdump.log"; status=1; }
"$sflua" "$here/compare.lua" "$tmp/dig.pcap" - "$port" || status=1
[[ -n $record ]] && cp "$tmp/dig.pcap" "$record" && echo "kept $record (port $port)"
exit ${status:-0}
