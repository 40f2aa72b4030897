#!/usr/bin/env bash
# bench/automata_bench.sh -- answering machines' speed, in network
# namespaces (root; tests/live/netns.sh: A -- B, plus a bare veth pair for
# DHCP), each figure beside an anchor measured in the same run:
#   1. IcmpEchoAM in A answering an address no kernel has: tcpreplay in B
#      sends PINGS echo requests at RATE per second (one pcap, checksums
#      right); B's kernel counts the replies (vethB rx), the machine its
#      requests, replies and its capture's drops.  Then ping -f -l 256 -c
#      PINGS from B against the machine, and against A's kernel.
#   2. DhcpServerAM in A: the Lua load generator (automata_bench.lua dora,
#      in B) runs CLIENTS complete DORA exchanges, WINDOW in flight, and
#      counts the lost; then the same generator against dnsmasq on the same
#      veth, with --leasefile-ro and with its lease file (LEASEFILE_CLIENTS:
#      it rewrites the file at every change).
# The machines, tcpreplay, ping and dnsmasq run under SCHED_FIFO (chrt -f
# 10) where chrt works: on a shared machine other builds otherwise take the
# CPU a machine needs and its capture drops what it had no time to read.
# Environment: BUILD (./build), RATE (100000), PINGS (400000), CLIENTS
# (10000), WINDOW (64), BUFFER (the machines' capture buffer, 64 MiB).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
BUILD=${BUILD:-$root/build}
RATE=${RATE:-100000} PINGS=${PINGS:-400000} CLIENTS=${CLIENTS:-10000} WINDOW=${WINDOW:-64}
LEASEFILE_CLIENTS=${LEASEFILE_CLIENTS:-2000}
BUFFER=${BUFFER:-$((64 << 20))}
SFLUA=$BUILD/sflua
export LUA_PATH="$root/stdlib/?.lua;$root/stdlib/?/init.lua;;"
source "$root/tests/live/netns.sh"
netns_up || { echo "automata_bench: needs root and ip netns"; exit 1; }
for tool in tcpreplay dnsmasq ping; do
  command -v $tool >/dev/null || { echo "automata_bench: $tool is missing"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; netns_down' EXIT
rt=()
chrt -f 10 true 2>/dev/null && rt=(chrt -f 10)
inA() { "${rt[@]}" ip netns exec "$NS_A" "$@"; }
inB() { "${rt[@]}" ip netns exec "$NS_B" "$@"; }
rx_B() { ip netns exec "$NS_B" cat /sys/class/net/$1/statistics/rx_packets; }
wait_ready() { for _ in $(seq 100); do grep -q ready "$1" && return; sleep 0.1; done; }
echo "scheduling: ${rt[*]:-normal (chrt unavailable)}"

# ---- 1. IcmpEchoAM --------------------------------------------------------------------
ADDR=10.99.1.90
"$SFLUA" -e "
local t = {}
for i = 1, $PINGS do
  t[i] = Ether{dst = '$MAC_A', src = '$MAC_B'} / IP{src = '$IP_B', dst = '$ADDR'}
    / ICMP.echo_request{id = 0x5151, seq = i & 0xffff} / ('%056d'):format(i)
end
wrpcap('$tmp/echo.pcap', t)" || exit 1
ip netns exec "$NS_B" ip neigh replace "$ADDR" lladdr "$MAC_A" dev "$IF_B"

echo_run() {  # one IcmpEchoAM; then "$@" in B; prints the machine's counts and CPU
  inA /usr/bin/time -f "%U %S" "$SFLUA" "$here/automata_bench.lua" echo "$IF_A" "$ADDR" 120 "$BUFFER" \
    >"$tmp/echo.out" 2>&1 &
  local pid=$!
  wait_ready "$tmp/echo.out"
  "$@"
  wait $pid
}

rx0=$(rx_B "$IF_B")
echo_run inB tcpreplay -q -i "$IF_B" --pps="$RATE" --pps-multi=16 "$tmp/echo.pcap" >"$tmp/replay.out" 2>&1
sleep 0.5
rx1=$(rx_B "$IF_B")
read -r req rep recv drop <<<"$(sed -n 2p "$tmp/echo.out")"
read -r u s <<<"$(tail -1 "$tmp/echo.out")"
rate=$(grep -o 'Rated: [0-9.]* Bps, [0-9.]* Mbps, [0-9.]* pps' "$tmp/replay.out" | awk '{print $6}')
printf '%-44s %s of %s answered at %s pps (tcpreplay), %s dropped by its capture, %s replies reached B; %s us CPU a reply\n' \
  "IcmpEchoAM, tcpreplay flood:" "$rep" "$PINGS" "$rate" "$drop" "$((rx1 - rx0))" \
  "$(awk -v u="$u" -v s="$s" -v n="$rep" 'BEGIN {printf "%.1f", (u + s) / n * 1e6}')"

ping_flood() {  # dst -> "received seconds"
  inB ping -q -f -l 256 -c "$PINGS" "$1" 2>&1 |
    awk '/transmitted/ {r = $4} /^rtt|time/ {for (i = 1; i <= NF; i++) if ($i ~ /ms$/ && $(i-1) == "time") t = $i}
         END {sub("ms", "", t); print r, t / 1000}'
}
echo_run ping_flood "$ADDR" >"$tmp/pingam.out"
read -r got secs <<<"$(cat "$tmp/pingam.out")"
read -r req rep recv drop <<<"$(sed -n 2p "$tmp/echo.out")"
printf '%-44s %s of %s replies in %s s (%s pings/s); the machine answered %s, its capture dropped %s\n' \
  "IcmpEchoAM, ping -f -l 256:" "$got" "$PINGS" "$secs" \
  "$(awk -v n="$got" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')" "$rep" "$drop"
read -r got secs <<<"$(ping_flood "$IP_A")"
printf '%-44s %s of %s replies in %s s (%s pings/s)\n' "  anchor: A's kernel, same ping -f:" "$got" \
  "$PINGS" "$secs" "$(awk -v n="$got" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')"

# ---- 2. DhcpServerAM against dnsmasq ----------------------------------------------------
ip link add vethDA netns "$NS_A" type veth peer name vethDB netns "$NS_B" || exit 1
ip -n "$NS_A" link set vethDA up && ip -n "$NS_B" link set vethDB up || exit 1
dora() {  # -> "done lost seconds retries" of CLIENTS exchanges
  inB "$SFLUA" "$here/automata_bench.lua" dora vethDB "$CLIENTS" "$WINDOW" 1
}
report() {  # name, "done lost seconds retries", cpu seconds
  read -r done lost secs retries <<<"$2"
  printf '%-44s %s DORA in %s s: %s DORA/s, %s lost, %s resent; server CPU %s s\n' "$1" "$done" \
    "$(printf '%.2f' "$secs")" "$(awk -v n="$done" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')" \
    "$lost" "$retries" "$3"
}

inA /usr/bin/time -f "%U %S" "$SFLUA" "$here/automata_bench.lua" dhcp vethDA 300 >"$tmp/dhcp.out" 2>&1 &
pid=$!
wait_ready "$tmp/dhcp.out"
result=$(dora)
wait $pid
read -r u s <<<"$(tail -1 "$tmp/dhcp.out")"
report "DhcpServerAM ($CLIENTS clients, $WINDOW in flight):" "$result" "$(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}')"
read -r req rep errs drop bound <<<"$(sed -n 2p "$tmp/dhcp.out")"
echo "  the server: $req requests, $rep replies, $errs errors, $drop dropped by its capture, $bound leases bound"

ip -n "$NS_A" addr add 10.97.0.1/16 dev vethDA  # dnsmasq serves an interface's subnet
dnsmasq_run() {  # name, clients, lease option
  local pidf=$tmp/dnsmasq.pid
  inA dnsmasq --keep-in-foreground --pid-file="$pidf" --conf-file=/dev/null --port=0 \
    --interface=vethDA --bind-interfaces --dhcp-range=10.97.1.0,10.97.255.254,255.255.0.0,1h \
    --dhcp-lease-max=1000000 --no-ping --dhcp-authoritative --quiet-dhcp \
    --log-facility="$tmp/dnsmasq.log" "$3" 2>>"$tmp/dnsmasq.log" &
  local job=$!
  for _ in $(seq 50); do grep -q "sockets bound" "$tmp/dnsmasq.log" 2>/dev/null && break; sleep 0.1; done
  local r cpu pid
  pid=$(cat "$pidf")
  r=$(CLIENTS=$2 dora)
  cpu=$(awk '{print ($14 + $15) / 100}' "/proc/$pid/stat")  # utime + stime, in ticks
  kill "$pid"
  wait "$job" 2>/dev/null
  rm -f "$tmp/dnsmasq.log" "$tmp/dnsmasq.leases"
  report "$1" "$r" "$cpu"
}
# with its lease file dnsmasq writes every lease out at each change
# (quadratic): fewer clients
dnsmasq_run "dnsmasq 2.90, --leasefile-ro:" "$CLIENTS" --leasefile-ro
dnsmasq_run "dnsmasq 2.90, lease file ($LEASEFILE_CLIENTS clients):" "$LEASEFILE_CLIENTS" \
  --dhcp-leasefile="$tmp/dnsmasq.leases"
