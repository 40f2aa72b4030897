#!/bin/bash
# l2tp_live.sh SFLUA [--update]: Debian's xl2tpd as an LNS and as a LAC, in
# two network namespaces joined by a veth pair (created here, gone with
# the script), sets a tunnel up for a bounded time, recorded with tcpdump
# and read by tshark and by sflua: every L2TP, PPP, LCP and IPCP field
# ws_tshark.sh lists must agree, frame by frame (SCCRQ, SCCRP, SCCCN,
# ICRQ and on, whatever pppd gets to).  Then the committed L2TP captures
# are read by today's tshark.  --update keeps the recording and tshark's
# reading in tests/data (l2tp_xl2tpd.pcap, l2tp_xl2tpd.pcap.tsv).
# Exit 77 (skip) without root, ip netns, xl2tpd, tcpdump or tshark.
set -uo pipefail
sflua=$(realpath "$1") mode=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for t in xl2tpd tcpdump tshark ip; do
  command -v "$t" >/dev/null || { echo "SKIP: no $t"; exit 77; }
done
[[ $(id -u) == 0 ]] || { echo "SKIP: network namespaces need root"; exit 77; }
tmp=$(mktemp -d)
lns=sflua-lns-$$ lac=sflua-lac-$$
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null
  wait 2>/dev/null
  ip netns del "$lns" 2>/dev/null
  ip netns del "$lac" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$lns" && ip netns add "$lac" || { echo "SKIP: cannot add network namespaces"; exit 77; }
ip link add veth-lns netns "$lns" type veth peer name veth-lac netns "$lac" || exit 1
ip -n "$lns" addr add 10.77.0.1/24 dev veth-lns && ip -n "$lns" link set veth-lns up
ip -n "$lac" addr add 10.77.0.2/24 dev veth-lac && ip -n "$lac" link set veth-lac up
ip -n "$lns" link set lo up && ip -n "$lac" link set lo up
cd "$tmp"
cat >ppp-options <<CONF
noauth
nodefaultroute
lcp-echo-interval 1
CONF
cat >lns.conf <<CONF
[global]
listen-addr = 10.77.0.1
port = 1701
[lns default]
ip range = 10.78.0.10-10.78.0.20
local ip = 10.78.0.1
require authentication = no
hostname = sflua-lns
pppoptfile = $tmp/ppp-options
CONF
cat >lac.conf <<CONF
[global]
listen-addr = 10.77.0.2
port = 1701
[lac sflua]
lns = 10.77.0.1
autodial = yes
hostname = sflua-lac
redial = no
pppoptfile = $tmp/ppp-options
CONF
: >secrets
ip netns exec "$lns" tcpdump -i veth-lns -U --immediate-mode -s 0 -w l2tp.pcap udp port 1701 \
  2>tcpdump.log & pids+=($!)
for _ in $(seq 100); do grep -q "listening on" tcpdump.log 2>/dev/null && break; sleep 0.05; done
ip netns exec "$lns" xl2tpd -D -c lns.conf -s secrets -p lns.pid -C lns.ctl >lns.log 2>&1 & pids+=($!)
sleep 0.3
ip netns exec "$lac" xl2tpd -D -c lac.conf -s secrets -p lac.pid -C lac.ctl >lac.log 2>&1 & pids+=($!)
sleep 4  # the tunnel, the call, and pppd's first words if it can start
kill "${pids[2]}" "${pids[1]}" 2>/dev/null  # StopCCN on the way out
sleep 0.5
kill -INT "${pids[0]}"
wait "${pids[0]}" 2>/dev/null
status=0
bash "$here/ws_tshark.sh" l2tp l2tp.pcap >l2tp.tsv || exit 1
"$sflua" "$here/ws_compare.lua" l2tp.pcap l2tp.tsv || status=1
for want in sflua-lns sflua-lac; do
  grep -q -- "$want" l2tp.tsv || { echo "FAIL: tshark saw no $want"; status=1; }
done
for pcap in "$root"/tests/data/l2tp_*.pcap; do
  bash "$here/ws_tshark.sh" l2tp "$pcap" >today.tsv || exit 1
  "$sflua" "$here/ws_compare.lua" "$pcap" today.tsv || status=1
done
if [[ $mode == --update && $status == 0 ]]; then
  cp l2tp.pcap "$root/tests/data/l2tp_xl2tpd.pcap"
  cp l2tp.tsv "$root/tests/data/l2tp_xl2tpd.pcap.tsv"
  echo "wrote tests/data/l2tp_xl2tpd.pcap and its tshark reading"
fi
exit $status
