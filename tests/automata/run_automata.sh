#!/usr/bin/env bash
# Answering machines and automata against real clients, in network
# namespaces (tests/live/netns.sh: A -- B -- C, B routing), removed on exit
# even after a failure.  The machines run in A (the spec runs there, under
# busted) or in B (as separate sflua processes); the clients are other
# people's programs: arping, ping, ndisc6, nc, a Python socket.  Traffic
# stays inside the namespaces; every client has a count and a deadline.
# Skips (77) without root or `ip netns`.
#   run_automata.sh SFLUA BUSTED
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sflua=$1 busted=$2
source "$root/tests/live/netns.sh"
netns_up
rc=$?
if ((rc == 77)); then exit 77; fi
if ((rc != 0)); then echo "automata: could not build the namespaces"; exit 1; fi
for tool in arping ndisc6 ping nc python3 dot busybox dhclient; do
  command -v $tool >/dev/null || { echo "automata: $tool is missing (scripts/setup.sh --test)"; exit 1; }
done
# a link for DHCP, without addresses: the servers in A, the clients in B
ip link add vethDA netns "$NS_A" type veth peer name vethDB netns "$NS_B" || exit 1
ip -n "$NS_B" link set vethDB address 02:00:00:5f:d1:01
ip -n "$NS_A" link set vethDA up && ip -n "$NS_B" link set vethDB up || exit 1
# link-local addresses finish duplicate address detection first (~1.5 s):
# before that, B cannot send to a link-local target
for _ in $(seq 50); do
  [[ -z "$(ip -n "$NS_A" -6 addr show tentative; ip -n "$NS_B" -6 addr show tentative)" ]] && break
  sleep 0.1
done
export SFLUA_BIN=$sflua AM_TMP=$(mktemp -d) SFLUA_ROOT=$root
trap 'rm -rf "$AM_TMP"; netns_down' EXIT
ip netns exec "$NS_A" env \
  LUA_PATH="$root/stdlib/?.lua;$root/stdlib/?/init.lua;$root/?.lua;;" \
  "$sflua" "$busted" --output=${AM_OUTPUT:-TAP} ${AM_FILTER:+--filter="$AM_FILTER"} "$here/automata_spec.lua"
