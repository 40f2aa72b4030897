#!/usr/bin/env bash
# bench/live_bench.sh -- live traffic speed, in network namespaces (root),
# sflua against Debian's python3-scapy in the same run:
#   1. a Lua prn on a veth while tcpreplay sends at RATE (200,000/s): packets
#      seen, drops the kernel reports (AsyncSniffer's stats);
#   2. sr1 round trip over a veth against ping's RTT on the same path;
#   3. sendp of a capture (SENDP_PKTS frames) in packets per second, with
#      tcpreplay --topspeed as the anchor.
# Environment: BUILD (./build), RATE (200000), PKTS (400000 for the sniff),
# SR1_N (500), SCAPY_SR1_N (100), SCAPY_SENDP_PKTS (20000), PYTHON
# (/usr/bin/python3), BUFFER (capture buffer bytes; default libpcap's).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
BUILD=${BUILD:-$root/build}
RATE=${RATE:-200000} PKTS=${PKTS:-400000} SR1_N=${SR1_N:-500}
SCAPY_SR1_N=${SCAPY_SR1_N:-100} SCAPY_SENDP_PKTS=${SCAPY_SENDP_PKTS:-20000}
PYTHON=${PYTHON:-/usr/bin/python3}
SFLUA=$BUILD/sflua
export LUA_PATH="$root/stdlib/?.lua;$root/stdlib/?/init.lua;;"
source "$root/tests/live/netns.sh"
netns_up || { echo "live_bench: needs root and ip netns"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; netns_down' EXIT
inA() { ip netns exec "$NS_A" "$@"; }
inB() { ip netns exec "$NS_B" "$@"; }
have_scapy=0
"$PYTHON" -c 'import scapy.all' 2>/dev/null && have_scapy=1

echo "generating $PKTS frames..."
"$SFLUA" "$here/live_bench.lua" gen "$tmp/frames.pcap" "$PKTS" || exit 1
"$SFLUA" -e "wrpcap('$tmp/small.pcap', (function() local t = {} local all = rdpcap('$tmp/frames.pcap') for i = 1, $SCAPY_SENDP_PKTS do t[i] = all[i] end return t end)())"

# 1. sniff: start the listener, wait until it says ready, replay into it
sniff_run() {  # tool -> "got dropped seconds" and tcpreplay's rate
  local out="$tmp/sniff.$1"
  if [[ $1 == sflua ]]; then
    inA env BUFFER="${BUFFER:-}" "$SFLUA" "$here/live_bench.lua" sniff "$IF_A" "$PKTS" 20 >"$out" 2>&1 &
  else
    inA "$PYTHON" "$here/py_live.py" sniff "$IF_A" "$PKTS" 20 >"$out" 2>&1 &
  fi
  local pid=$!
  for _ in $(seq 100); do grep -q ready "$out" && break; sleep 0.1; done
  sleep 0.2
  inB tcpreplay -q -i "$IF_B" --pps="$RATE" --pps-multi=16 "$tmp/frames.pcap" >"$tmp/replay.$1" 2>&1
  wait $pid
  echo "$(tail -1 "$out") $(grep -o 'Rated: [0-9.]* Bps, [0-9.]* Mbps, [0-9.]* pps' "$tmp/replay.$1" | awk '{print $6}')"
}
read -r got drop secs rate <<<"$(sniff_run sflua)"
printf '%-46s %s of %s packets, %s dropped (tcpreplay at %s pps)\n' "sniff, Lua prn (AsyncSniffer):" "$got" "$PKTS" "$drop" "$rate"
read -r n secs <<<"$("$SFLUA" "$here/live_bench.lua" prn "$tmp/frames.pcap")"
printf '%-46s %s pps\n' "  info: the same prn over the file (Lua side):" "$(awk -v n="$n" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')"
if ((have_scapy)); then
  read -r sgot sdrop ssecs srate <<<"$(sniff_run scapy)"
  printf '%-46s %s of %s packets (tcpreplay at %s pps)\n' "sniff, Scapy prn:" "$sgot" "$PKTS" "$srate"
fi

# 2. sr1 against ping
ping_us=$(inA ping -n -q -c "$SR1_N" -i 0.002 "$IP_B" | awk -F'/' '/^rtt/ {printf "%.1f", $5 * 1000}')
sr1_us=$(inA "$SFLUA" "$here/live_bench.lua" sr1 "$IP_B" "$SR1_N")
printf '%-46s %s us per call; ping RTT %s us: overhead %s us\n' "sr1 echo round trip:" "$sr1_us" "$ping_us" \
  "$(awk -v a="$sr1_us" -v b="$ping_us" 'BEGIN {printf "%.1f", a - b}')"
if ((have_scapy)); then
  ssr1_us=$(inA "$PYTHON" "$here/py_live.py" sr1 "$IP_B" "$SCAPY_SR1_N")
  printf '%-46s %s us per call: overhead %s us\n' "sr1, Scapy:" "$ssr1_us" \
    "$(awk -v a="$ssr1_us" -v b="$ping_us" 'BEGIN {printf "%.1f", a - b}')"
fi

# 3. sendp of a capture
read -r n secs <<<"$(inA "$SFLUA" "$here/live_bench.lua" sendp "$IF_A" "$tmp/frames.pcap")"
printf '%-46s %s pps (%s packets)\n' "sendp(rdpcap(f)):" "$(awk -v n="$n" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')" "$n"
trate=$(inA tcpreplay -q -t -i "$IF_A" "$tmp/frames.pcap" 2>&1 | grep -o 'Rated: [0-9.]* Bps, [0-9.]* Mbps, [0-9.]* pps' | awk '{print $6}')
printf '%-46s %s pps\n' "tcpreplay --topspeed, same file:" "$trate"
if ((have_scapy)); then
  read -r n secs <<<"$(inA "$PYTHON" "$here/py_live.py" sendp "$IF_A" "$tmp/small.pcap")"
  printf '%-46s %s pps (%s packets)\n' "sendp, Scapy:" "$(awk -v n="$n" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')" "$n"
fi
