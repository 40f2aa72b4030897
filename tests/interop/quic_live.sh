#!/bin/bash
# quic_live.sh SFLUA [--update]: Debian's ngtcp2 example client and server
# (gtlsclient, gtlsserver) in a network namespace this script makes and
# removes, recorded with tcpdump: every QUIC field quic_fields.lua lists
# (the client Initial's SNI, ALPN, version and connection IDs among them)
# must read the same in tshark (which decrypts Initials itself) and in
# sflua.  Then Initials built in Lua (quic_initial: v1, v2, and a version
# the server does not speak) are sent over a UDP socket to the same server,
# which must answer (an Initial whose ServerHello sflua decrypts, or a
# Version Negotiation for the versions it lacks), and tshark must read
# their SNI.  --update keeps the recording and
# tshark's reading in tests/data (quic_ngtcp2.pcap, .quic.tsv) for
# tests/lua/quic_spec.lua.  Exit 77 (skip) without root or the programs.
set -uo pipefail
sflua=$(realpath "$1") mode=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for t in gtlsclient gtlsserver openssl tcpdump tshark ip; do
  command -v "$t" >/dev/null || { echo "SKIP: no $t"; exit 77; }
done
[[ $(id -u) == 0 ]] || { echo "SKIP: a network namespace needs root"; exit 77; }
ns=sfquic$$
tmp=$(mktemp -d)
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null
  wait 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns" || exit 1
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up
cd "$tmp"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem \
  -out cert.pem -days 30 -subj "/CN=sflua.test/O=sflua live test" 2>/dev/null || exit 1
ip netns exec "$ns" tcpdump --immediate-mode -i lo -U -s 0 -w quic.pcap udp port 4433 \
  2>tcpdump.log & pids+=($!)
ip netns exec "$ns" gtlsserver -q 127.0.0.1 4433 key.pem cert.pem >server.log 2>&1 & pids+=($!)
for _ in $(seq 100); do  # both listening
  grep -q "listening on" tcpdump.log 2>/dev/null && in_ns ss -lun | grep -q ':4433 ' && break
  sleep 0.05
done

status=0
client() {  # SNI [OPTIONS...]
  local sni=$1
  shift
  in_ns timeout 10 gtlsclient -q --exit-on-all-streams-close --sni="$sni" "$@" \
    127.0.0.1 4433 "https://$sni:4433/" >>client.log 2>&1 ||
    { echo "FAIL: gtlsclient $sni $*"; status=1; }
}
client www.sflua.test  # (ngtcp2's example client names "localhost")
client www2.sflua.test --session-file=session.bin

# Initials built in Lua, over a UDP socket: the server answers (a version it
# does not speak with a Version Negotiation)
lua_initial() {  # OPTIONS (a Lua table) WANT (Lua pattern of the reply's summary)
  "$sflua" -e "io.write(quic_initial($1):bytes())" >initial.bin || return 1
  in_ns bash -c 'exec 3<>/dev/udp/127.0.0.1/4433 && cat initial.bin >&3 &&
    timeout 3 dd bs=65535 count=1 <&3 >reply.bin 2>/dev/null' || return 1
  "$sflua" -e '
    local f = io.open("reply.bin", "rb"); local s = f:read("a"); f:close()
    local p = Packet((Ether() / IP() / UDP{sport = 4433, dport = 40000} / s):bytes())
    print("answer: " .. p:summary())
    if not p:summary():find("'"$2"'") then os.exit(1) end
    local dcid = os.getenv("DCID")  -- the server answered with its ServerHello
    if dcid then
      local d = assert(quic_decrypt(p, {dcid = dcid}), "the answer does not open")
      print(("ServerHello: cipher 0x%04x"):format(d[TLSServerHello].cipher))
    end' || return 1
}
DCID=sflua-01 lua_initial '{sni="lua.sflua.test", alpn={"h3"}, dcid="sflua-01"}' "QUIC %- Initial" ||
  { echo "FAIL: a v1 Initial built in Lua"; status=1; }
# Debian's ngtcp2 speaks QUIC v1 (and v2's drafts): a v2 Initial gets a Version
# Negotiation, and tshark, decrypting it, shows its ClientHello
lua_initial '{sni="lua2.sflua.test", alpn={"h3"}, version=0x6b3343cf}' "QUIC %- Version Negotiation" ||
  { echo "FAIL: a v2 Initial built in Lua"; status=1; }
lua_initial '{sni="vn.sflua.test", alpn={"h3"}, version=0x1a2a3a4a}' "QUIC %- Version Negotiation" ||
  { echo "FAIL: an Initial of an unknown version built in Lua"; status=1; }

sleep 0.3
kill -INT "${pids[0]}"
wait "${pids[0]}" 2>/dev/null
bash "$here/quic_tshark.sh" "$sflua" quic.pcap >quic.tsv || exit 1
[[ -n ${QUIC_LIVE_KEEP:-} ]] && cp quic.pcap quic.tsv client.log "$QUIC_LIVE_KEEP"/
"$sflua" "$here/quic_fields.lua" quic.pcap quic.tsv || status=1
for want in localhost lua.sflua.test lua2.sflua.test 0x6b3343cf; do
  grep -q -- "$want" quic.tsv || { echo "FAIL: tshark saw no $want"; status=1; }
done
# the committed captures, read by today's tshark
for ref in "$root"/tests/data/*.quic.tsv; do
  pcap=${ref%.quic.tsv}
  [[ $pcap == */quic_ngtcp2.pcap ]] && continue
  bash "$here/quic_tshark.sh" "$sflua" "$pcap" >today.tsv || exit 1
  "$sflua" "$here/quic_fields.lua" "$pcap" today.tsv || status=1
done
if [[ $mode == --update && $status == 0 ]]; then
  cp quic.pcap "$root/tests/data/quic_ngtcp2.pcap"
  cp quic.tsv "$root/tests/data/quic_ngtcp2.pcap.quic.tsv"
  echo "wrote tests/data/quic_ngtcp2.pcap and its tshark reading"
fi
exit $status
