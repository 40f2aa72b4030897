#!/usr/bin/env bash
# Live traffic against real kernels: namespaces A -- B -- C joined by veth
# pairs (tests/live/netns.sh), the spec run by sflua inside A.  Oracles:
# tcpdump on the peer, the peer's kernel (its replies, its listening
# sockets: nc), traceroute(8).  Skips (77) without root or `ip netns`.
#   run_live.sh SFLUA BUSTED
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sflua=$1 busted=$2
source "$here/netns.sh"
netns_up
rc=$?
if ((rc == 77)); then exit 77; fi
if ((rc != 0)); then echo "live: could not build the namespaces"; exit 1; fi
for tool in tcpdump nc traceroute capsh; do
  command -v $tool >/dev/null || { echo "live: $tool is missing (scripts/setup.sh --test)"; exit 1; }
done
export SFLUA_BIN=$sflua LIVE_TMP=$(mktemp -d)
trap 'rm -rf "$LIVE_TMP"; netns_down' EXIT
ip netns exec "$NS_A" env \
  LUA_PATH="$root/stdlib/?.lua;$root/stdlib/?/init.lua;$root/?.lua;;" \
  "$sflua" "$busted" --output=TAP ${LIVE_FILTER:+--filter="$LIVE_FILTER"} "$here/live_spec.lua"
