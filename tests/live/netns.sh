# netns.sh -- sourced: a small network of namespaces for live tests and
# benchmarks, removed on exit even after a failure.
#
#   A (vethA 10.99.1.1, fd99:1::1) -- (vethB 10.99.1.2, fd99:1::2) B
#   B (vethB2 10.99.2.1) -- (vethC 10.99.2.2) C      B routes between them
#
# Names carry the shell's pid, so runs side by side do not meet.  Traffic
# stays inside these namespaces.  netns_up returns 77 (ctest's "skipped")
# when not root or when `ip netns` cannot work here.
NS_A="sfA$$" NS_B="sfB$$" NS_C="sfC$$"
IF_A=vethA IF_B=vethB IF_B2=vethB2 IF_C=vethC
IP_A=10.99.1.1 IP_B=10.99.1.2 IP_B2=10.99.2.1 IP_C=10.99.2.2
IP6_A=fd99:1::1 IP6_B=fd99:1::2

netns_down() {
  local ns
  for ns in "$NS_A" "$NS_B" "$NS_C"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  return 0
}

netns_up() {
  if [[ $(id -u) -ne 0 ]]; then echo "skip: live tests need root"; return 77; fi
  if ! command -v ip >/dev/null || ! ip netns add "$NS_A" 2>/dev/null; then
    echo "skip: ip netns is not available here"; return 77
  fi
  trap netns_down EXIT
  ip netns add "$NS_B" && ip netns add "$NS_C" || return 1
  ip link add "$IF_A" netns "$NS_A" type veth peer name "$IF_B" netns "$NS_B" || return 1
  ip link add "$IF_B2" netns "$NS_B" type veth peer name "$IF_C" netns "$NS_C" || return 1
  local ns
  for ns in "$NS_A" "$NS_B" "$NS_C"; do
    ip -n "$ns" link set lo up
    # answer at once: no rate limits on ICMP errors and echo replies
    ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 \
      net.ipv4.icmp_msgs_burst=100000 net.ipv6.icmp.ratelimit=0 2>/dev/null
  done
  ip -n "$NS_A" addr add "$IP_A/24" dev "$IF_A"
  ip -n "$NS_A" addr add "$IP6_A/64" dev "$IF_A" nodad
  ip -n "$NS_B" addr add "$IP_B/24" dev "$IF_B"
  ip -n "$NS_B" addr add "$IP6_B/64" dev "$IF_B" nodad
  ip -n "$NS_B" addr add "$IP_B2/24" dev "$IF_B2"
  ip -n "$NS_C" addr add "$IP_C/24" dev "$IF_C"
  ip -n "$NS_A" link set "$IF_A" up
  ip -n "$NS_B" link set "$IF_B" up
  ip -n "$NS_B" link set "$IF_B2" up
  ip -n "$NS_C" link set "$IF_C" up
  ip -n "$NS_A" route add default via "$IP_B"
  ip -n "$NS_C" route add default via "$IP_B2"
  ip netns exec "$NS_B" sysctl -qw net.ipv4.ip_forward=1
  # neighbours known up front: no ARP before the first packet
  ip netns exec "$NS_A" ping -c1 -W2 "$IP_B" >/dev/null &&
    ip netns exec "$NS_A" ping -c1 -W2 "$IP_C" >/dev/null || return 1
  export NS_A NS_B NS_C IF_A IF_B IF_B2 IF_C IP_A IP_B IP_B2 IP_C IP6_A IP6_B
  export MAC_A=$(ip netns exec "$NS_A" cat /sys/class/net/$IF_A/address)
  export MAC_B=$(ip netns exec "$NS_B" cat /sys/class/net/$IF_B/address)
}
