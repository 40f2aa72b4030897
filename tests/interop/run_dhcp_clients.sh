#!/bin/bash
# Real DHCP clients against a real server, recorded and read by tshark and
# sflua.  Two network namespaces joined by a veth pair (made here, removed
# on exit even on failure: no traffic leaves them): dnsmasq serves in one;
# in the other busybox's udhcpc, then ISC's dhclient, get a lease and
# release it, and a DISCOVER and REQUEST built by sflua (dhcp_client.lua,
# sent from a packet socket) get an OFFER and an ACK.  tcpdump records the
# server's side; every DHCP packet must read in sflua as tshark's fields say
# (tests/lua/dhcp_fields.lua), and each exchange must hold its messages.
#   run_dhcp_clients.sh SFLUA [KEEPDIR]   (KEEPDIR: keep the captures there)
# Exit 77 (skip) unless root with ip netns, dnsmasq, tcpdump, tshark and
# python3; a client that is not installed is skipped with a note.  Each
# step is bounded in time.
set -uo pipefail
sflua=$(realpath "$1") keep=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export LUA_PATH="$root/tests/lua/?.lua;${LUA_PATH:-$root/stdlib/?.lua;$root/stdlib/?/init.lua;;}"

skip() { echo "SKIP: $*"; exit 77; }
[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces)"
for t in ip dnsmasq tcpdump tshark python3 timeout; do
  command -v "$t" >/dev/null || skip "no $t"
done

tag=sfd$$
ns_s=${tag}s ns_c=${tag}c if_s=${tag}a if_c=${tag}b
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  ip netns del "$ns_c" 2>/dev/null
  ip netns del "$ns_s" 2>/dev/null
  [[ -n $keep ]] && mkdir -p "$keep" && cp "$tmp"/*.pcap "$tmp"/*.log "$keep"/ 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$ns_s" 2>/dev/null || skip "cannot create network namespaces"
ip netns add "$ns_c" || exit 1
ip link add "$if_s" type veth peer name "$if_c" || exit 1
ip link set "$if_s" netns "$ns_s" && ip link set "$if_c" netns "$ns_c" || exit 1
ip -n "$ns_c" link set "$if_c" address 02:00:00:5f:d1:01
ip -n "$ns_s" addr add 10.77.0.1/24 dev "$if_s"
for n in "$ns_s:$if_s" "$ns_c:$if_c"; do
  ip -n "${n%%:*}" link set lo up && ip -n "${n%%:*}" link set "${n#*:}" up || exit 1
done
# The server's MAC known to the client: a release is unicast, and on a
# loaded machine the client's hook took the address away while ARP still
# asked for the server -- the release was never sent
ip -n "$ns_c" neigh replace 10.77.0.1 dev "$if_c" nud permanent \
  lladdr "$(ip -n "$ns_s" -br link show "$if_s" | awk '{print $3}')" || exit 1

# wait (up to 5 s) until the file holds the text
wait_for() {
  local i
  for ((i = 0; i < 50; i++)); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "FAIL: no '$2' in $1"; cat "$1"; return 1
}

# record DHCP on the server's side into $tmp/$1.pcap
start_tcpdump() {
  ip netns exec "$ns_s" tcpdump -i "$if_s" -U --immediate-mode -Z root -n -w "$tmp/$1.pcap" \
    udp port 67 or udp port 68 2>"$tmp/$1.tcpdump.log" &
  pids+=($!)
  wait_for "$tmp/$1.tcpdump.log" "listening on"
}

stop_last() {  # the last process started, stopped and waited for
  local p=${pids[-1]}
  sleep 0.3  # the last packets reach the capture
  kill -INT "$p" 2>/dev/null
  wait "$p" 2>/dev/null
  unset 'pids[-1]'
}

ip netns exec "$ns_s" dnsmasq --no-daemon --no-ping --conf-file=/dev/null --port=0 \
  --interface="$if_s" --bind-interfaces --log-dhcp \
  --dhcp-range=10.77.0.50,10.77.0.99,255.255.255.0,1h --dhcp-leasefile="$tmp/leases" \
  --domain=example.test --dhcp-fqdn \
  --dhcp-option=option:router,10.77.0.1 \
  --dhcp-option=option:dns-server,10.77.0.1,10.77.0.2 \
  --dhcp-option=option:ntp-server,10.77.0.3 \
  --dhcp-option=option:domain-search,eng.example.test,example.test,lab.example.test \
  --dhcp-option=option:classless-static-route,10.0.0.0/8,10.77.0.1,192.168.0.0/16,10.77.0.2 \
  >"$tmp/dnsmasq.log" 2>&1 &
pids+=($!)
wait_for "$tmp/dnsmasq.log" "sockets bound" || exit 1

# the clients' hook: take the address leased (udhcpc says $ip, dhclient
# $new_ip_address), so the release goes out to the server
cat >"$tmp/hook.sh" <<'EOF'
#!/bin/sh
case "$1$reason" in
  bound*|renew*) ip addr add "$ip/$mask" dev "$interface" ;;
  BOUND|RENEW|REBOOT) ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
  deconfig*|RELEASE|EXPIRE|STOP) ip addr flush dev "$interface" ;;
esac
exit 0
EOF
chmod +x "$tmp/hook.sh"

status=0
check() {  # name, message types that must be there
  local name=$1
  shift
  tshark -n -r "$tmp/$name.pcap" -Y dhcp -T fields -E header=y -E occurrence=a -E aggregator=, \
    $("$sflua" -e 'io.write(require("dhcp_fields").tshark_args())') >"$tmp/$name.tsv" 2>/dev/null
  if "$sflua" "$here/dhcp_client.lua" check "$tmp/$name.pcap" "$tmp/$name.tsv" "$@"; then
    echo "ok: $name"
  else
    echo "FAIL: $name"; status=1; return 1
  fi
}

# busybox udhcpc: discover, request, and a release when stopped (-R), with
# a host name, a vendor class, an FQDN (option 81) and options it asks for
if command -v busybox >/dev/null && busybox udhcpc --help >/dev/null 2>&1; then
  start_tcpdump udhcpc || exit 1
  timeout 20 ip netns exec "$ns_c" busybox udhcpc -f -R -i "$if_c" -t 4 -T 1 \
    -s "$tmp/hook.sh" -x hostname:sfclient -V sflua-test -F sfclient -O 119 -O 121 -O 42 \
    >"$tmp/udhcpc.log" 2>&1 &
  pids+=($!)
  if wait_for "$tmp/udhcpc.log" "lease of"; then
    # the hook has put the address on: udhcpc logs the lease before its
    # hook runs, and a TERM that cuts the wait for the hook short leaves
    # the release nothing to be sent from (seen under load in CI)
    for ((i = 0; i < 50; i++)); do
      ip -n "$ns_c" -4 addr show dev "$if_c" | grep -q "inet 10\.77\." && break
      sleep 0.1
    done
    kill -TERM "${pids[-1]}"  # -R: it releases the lease
    wait "${pids[-1]}"
    wait_for "$tmp/dnsmasq.log" "DHCPRELEASE" >/dev/null || echo "note: dnsmasq logged no release"
  else
    echo "FAIL: udhcpc got no lease"; status=1
    kill "${pids[-1]}"
  fi
  unset 'pids[-1]'
  stop_last
  check udhcpc discover offer request ack release || { echo "--- udhcpc"; cat "$tmp/udhcpc.log"; }
else
  echo "note: busybox udhcpc not installed (apt-get install busybox): skipped"
fi

# ISC dhclient: a lease, then released (-r)
if command -v dhclient >/dev/null; then
  cat >"$tmp/dhclient.conf" <<EOF
send host-name "sfdhclient";
send dhcp-client-identifier 1:02:00:00:5f:d1:01;
request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers,
        domain-search, host-name, ntp-servers, interface-mtu;
EOF
  start_tcpdump dhclient || exit 1
  dh=(-cf "$tmp/dhclient.conf" -lf "$tmp/dhclient.leases" -pf "$tmp/dhclient.pid" -sf "$tmp/hook.sh")
  timeout 20 ip netns exec "$ns_c" dhclient -1 -v "${dh[@]}" "$if_c" >"$tmp/dhclient.log" 2>&1 &&
    timeout 10 ip netns exec "$ns_c" dhclient -r -v "${dh[@]}" "$if_c" >>"$tmp/dhclient.log" 2>&1 ||
    { echo "FAIL: dhclient"; cat "$tmp/dhclient.log"; status=1; }
  stop_last
  check dhclient discover offer request ack release
else
  echo "note: dhclient not installed (apt-get install isc-dhcp-client): skipped"
fi

# sflua as the client: its DISCOVER gets an OFFER, its REQUEST an ACK
send() {  # a pcap's frames out of the client's veth, from a packet socket
  ip netns exec "$ns_c" python3 - "$if_c" "$1" <<'EOF'
import socket, struct, sys
iface, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
pos = 24
while pos + 16 <= len(data):
    caplen = struct.unpack("<I", data[pos + 8:pos + 12])[0]
    s.send(data[pos + 16:pos + 16 + caplen])
    pos += 16 + caplen
EOF
}
answer() {  # send $1, record the first server answer into $2
  ip netns exec "$ns_c" timeout 10 tcpdump -i "$if_c" -U --immediate-mode -Z root -n -c 1 \
    -w "$tmp/$2.pcap" udp src port 67 2>"$tmp/$2.tcpdump.log" &
  pids+=($!)
  wait_for "$tmp/$2.tcpdump.log" "listening on" || return 1
  send "$tmp/$1.pcap" || return 1
  wait "${pids[-1]}"
  local rc=$?
  unset 'pids[-1]'
  return $rc
}
start_tcpdump sflua || exit 1
if "$sflua" "$here/dhcp_client.lua" discover "$tmp/discover.pcap" 02:00:00:5f:d1:01 $RANDOM &&
   answer discover offer &&
   "$sflua" "$here/dhcp_client.lua" request "$tmp/offer.pcap" "$tmp/request.pcap" &&
   answer request ack &&
   "$sflua" "$here/dhcp_client.lua" ack "$tmp/ack.pcap" "$tmp/offer.pcap"; then
  stop_last
  check sflua discover offer request ack
else
  echo "FAIL: dnsmasq did not answer sflua's DISCOVER and REQUEST"; status=1
  stop_last
fi
((status)) && { echo "--- dnsmasq"; cat "$tmp/dnsmasq.log"; }
exit $status
