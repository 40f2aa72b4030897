#!/bin/bash
# tls_live.sh SFLUA [--update]: openssl s_client against openssl s_server on
# loopback, in a network namespace of its own (TLS 1.3 and 1.2, with and
# without SNI, ALPN h2 and http/1.1), recorded with tcpdump and read by
# tshark and by sflua: every TLS field tls_fields.lua lists must agree,
# frame by frame.  Then ClientHellos built in Lua (tls_client_hello) are
# sent to the same s_server, which must answer with a ServerHello.
# --update keeps the recording and tshark's reading in tests/data
# (tls_openssl.pcap, tls_openssl.pcap.tls.tsv) for tests/lua/tls_spec.lua.
# Exit 77 (skip) without root, unshare, openssl, tcpdump or tshark.
set -uo pipefail
sflua=$(realpath "$1") mode=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for t in openssl tcpdump tshark unshare ip; do
  command -v "$t" >/dev/null || { echo "SKIP: no $t"; exit 77; }
done
if [[ -z ${TLS_LIVE_NS:-} ]]; then
  [[ $(id -u) == 0 ]] || { echo "SKIP: a network namespace needs root"; exit 77; }
  TLS_LIVE_NS=1 exec unshare --net bash "$0" "$sflua" "$mode"
fi
ip link set lo up
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem \
  -out cert.pem -days 30 -subj "/CN=sflua.test/O=sflua live test" 2>/dev/null || exit 1
tcpdump -i lo -U -s 0 -w tls.pcap tcp port 4433 2>tcpdump.log & pids+=($!)
openssl s_server -accept 4433 -cert cert.pem -key key.pem -alpn h2,http/1.1 -quiet \
  >server.log 2>&1 </dev/null & pids+=($!)
for _ in $(seq 100); do  # both listening
  grep -q "listening on" tcpdump.log 2>/dev/null && ss -ltn | grep -q ':4433 ' && break
  sleep 0.05
done

client() { echo | timeout 10 openssl s_client -connect 127.0.0.1:4433 "$@" >>client.log 2>&1; }
client -tls1_3 -servername www.sflua.test -alpn h2
client -tls1_2 -servername tls12.sflua.test -alpn http/1.1
client -tls1_3 -noservername
client -tls1_2 -noservername -alpn h2,http/1.1

# ClientHellos built in Lua, over a plain TCP connection: s_server answers
status=0
lua_hello() {  # OPTIONS (a Lua table) WANT_VERSION
  "$sflua" -e "io.write(tls_client_hello($1):bytes())" >hello.bin || return 1
  exec 3<>/dev/tcp/127.0.0.1/4433 || return 1
  cat hello.bin >&3
  timeout 2 cat <&3 >reply.bin
  exec 3>&-
  "$sflua" -e '
    local f = io.open("reply.bin", "rb"); local s = f:read("a"); f:close()
    for rec in tls_records(s) do
      local sh = rec[TLSServerHello]
      if sh then
        local v = rec[TLS_Ext_SupportedVersion_SH]
        v = v and v.version or sh.version
        print(("ServerHello: version 0x%04x, cipher 0x%04x, JA3S %s"):format(v, sh.cipher, rec.ja3s))
        os.exit(v == '"$2"' and 0 or 1)
      end
    end
    print("no ServerHello in " .. #s .. " bytes"); os.exit(1)' || return 1
}
lua_hello '{sni="lua.sflua.test", alpn={"h2", "http/1.1"}}' 0x0304 || { echo "FAIL: TLS 1.3 hello built in Lua"; status=1; }
lua_hello '{sni="lua12.sflua.test", versions={0x0303}, ciphers={0xc02b, 0xc02f}}' 0x0303 ||
  { echo "FAIL: TLS 1.2 hello built in Lua"; status=1; }

sleep 0.3
kill -INT "${pids[0]}"
wait "${pids[0]}" 2>/dev/null
bash "$here/tls_tshark.sh" "$sflua" tls.pcap >tls.tsv || exit 1
"$sflua" "$here/tls_compare.lua" tls.pcap tls.tsv || status=1
for want in www.sflua.test tls12.sflua.test lua.sflua.test "h2" "http/1.1" 0x0304; do
  grep -q -- "$want" tls.tsv || { echo "FAIL: tshark saw no $want"; status=1; }
done
# the committed captures, read by today's tshark
for ref in "$root"/tests/data/tls_*.tls.tsv; do
  pcap=${ref%.tls.tsv}
  [[ $pcap == */tls_openssl.pcap ]] && continue
  bash "$here/tls_tshark.sh" "$sflua" "$pcap" >today.tsv || exit 1
  "$sflua" "$here/tls_compare.lua" "$pcap" today.tsv || status=1
done
if [[ $mode == --update && $status == 0 ]]; then
  cp tls.pcap "$root/tests/data/tls_openssl.pcap"
  cp tls.tsv "$root/tests/data/tls_openssl.pcap.tls.tsv"
  echo "wrote tests/data/tls_openssl.pcap and its tshark reading"
fi
exit $status
