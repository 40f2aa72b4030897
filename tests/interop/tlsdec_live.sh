#!/bin/bash
# tlsdec_live.sh SFLUA [--update]: TLS decryption against the programs that
# wrote the keys.  In a network namespace of its own (removed on exit,
# traffic only on its loopback), openssl s_client talks to openssl
# s_server with -keylogfile, one connection per cipher suite (TLS 1.2:
# AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305; TLS 1.3: all five suites, and
# a HelloRetryRequest followed by a KeyUpdate),
# each side sending known plaintext; curl (SSLKEYLOGFILE) fetches a page
# from `openssl s_server -WWW` over HTTP/1.1 and from nghttpd over HTTP/2.
# tcpdump records it all; tlsdec_check.lua then requires sflua's decrypted
# streams to equal what each side sent and what tshark decrypts with the
# same key log (-z follow,tls,raw).
# --update keeps a small recording (the TLS 1.2 ChaCha20 and TLS 1.3 AES-128
# connections, the HTTP/1.1 and HTTP/2 fetches, a CBC connection and the
# HelloRetryRequest + KeyUpdate one) and its key log in tests/data for
# tests/lua/tlsdec_spec.lua.
# Exit 77 (skip) without root, unshare, openssl, curl, tcpdump or tshark.
set -uo pipefail
sflua=$(realpath "$1") mode=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for t in openssl curl tcpdump tshark unshare ip; do
  command -v "$t" >/dev/null || { echo "SKIP: no $t"; exit 77; }
done
if [[ -z ${TLSDEC_LIVE_NS:-} ]]; then
  [[ $(id -u) == 0 ]] || { echo "SKIP: a network namespace needs root"; exit 77; }
  TLSDEC_LIVE_NS=1 exec unshare --net bash "$0" "$sflua" "$mode"
fi
ip link set lo up
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; [[ -n ${TLSDEC_KEEP:-} ]] && cp -r "$tmp" "$TLSDEC_KEEP"; rm -rf "$tmp"' EXIT
cd "$tmp"
mkdir exp www
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem \
  -out cert.pem -days 30 -subj "/CN=sflua.test/O=sflua tlsdec test" 2>/dev/null || exit 1
tcpdump -i lo -U -s 0 -w all.pcap 'tcp portrange 5000-5099' 2>tcpdump.log & pids+=($!)
for _ in $(seq 100); do grep -q "listening on" tcpdump.log 2>/dev/null && break; sleep 0.05; done

# wait (up to 20 s) until FILE holds SIZE bytes
wait_size() { for _ in $(seq 400); do [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0; sleep 0.05; done; return 1; }
wait_port() { for _ in $(seq 100); do ss -ltn | grep -q ":$1 " && return 0; sleep 0.05; done; return 1; }

# one s_client -> s_server connection on PORT with LINES lines each way
status=0
tls_case() {  # PORT LINES SERVER_OPTIONS...
  local port=$1 lines=$2
  shift 2
  seq -f "client to server on $port, line %g: the quick brown fox" "$lines" >"exp/$port.client"
  seq -f "server to client on $port, line %g: jumps over the lazy dog" "$lines" >"exp/$port.server"
  # the server answers once the client's lines are in (a fixed sleep let
  # a loaded machine close the connection before the client had sent)
  { wait_size "got.$port.server" "$(stat -c %s "exp/$port.client")"; cat "exp/$port.server"; } |
    timeout 20 openssl s_server -accept "$port" -cert cert.pem -key key.pem -naccept 1 -quiet "$@" \
      >"got.$port.server" 2>"server.$port.log" &
  local spid=$!
  wait_port "$port" || { echo "FAIL: s_server on $port did not listen"; status=1; return; }
  timeout 20 openssl s_client -connect "127.0.0.1:$port" -keylogfile "keys.$port.log" -quiet "$@" \
    <"exp/$port.client" >"got.$port.client" 2>"client.$port.log"
  wait "$spid"
  # what each program received is what the other sent
  cmp -s "got.$port.server" "exp/$port.client" || { echo "FAIL: s_server on $port got other bytes"; status=1; }
  cmp -s "got.$port.client" "exp/$port.server" || { echo "FAIL: s_client on $port got other bytes"; status=1; }
}
tls_case 5001 400 -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
tls_case 5002 400 -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384
tls_case 5003 40 -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305
tls_case 5004 40 -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256
tls_case 5005 400 -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384
tls_case 5006 400 -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256
tls_case 5007 400 -tls1_3 -ciphersuites TLS_AES_128_CCM_SHA256
tls_case 5008 400 -tls1_3 -ciphersuites TLS_AES_128_CCM_8_SHA256
tls_case 5009 4000 -tls1_3   # 170 KB each way: many records and segments
# a CBC suite: not decrypted, and said so
tls_case 5012 10 -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA
echo "cipher suite 0xc009 is not decrypted" >exp/5012.unsupported
rm exp/5012.client

# TLS 1.3 with a HelloRetryRequest (the client's key share is X25519, the
# server wants P-256) and a KeyUpdate from the server (its "k" command,
# halfway through what it sends: a line of its own, read alone)
seq -f "client to server on 5013, line %g: before and after" 50 >exp/5013.client
seq -f "server to client on 5013, line %g: before the key update" 20 >exp/5013.server
seq -f "server to client on 5013, line %g: after the key update" 20 >>exp/5013.server
{ wait_size server.5013.log "$(stat -c %s exp/5013.client)"; head -20 exp/5013.server; sleep 0.5; echo k; sleep 0.5; tail -20 exp/5013.server; sleep 1; } |
  timeout 20 openssl s_server -accept 5013 -cert cert.pem -key key.pem -naccept 1 -groups P-256 \
    >server.5013.log 2>&1 &
spid=$!
wait_port 5013
timeout 20 openssl s_client -connect 127.0.0.1:5013 -keylogfile keys.5013.log -quiet \
  -groups X25519:P-256 <exp/5013.client >got.5013.client 2>client.5013.log
wait "$spid"
cmp -s got.5013.client exp/5013.server || { echo "FAIL: s_client on 5013 got other bytes"; status=1; }

# curl with SSLKEYLOGFILE: HTTP/1.1 from s_server -WWW, HTTP/2 from nghttpd
seq -f "page line %g" 300 >www/page.txt
(cd www && exec openssl s_server -accept 5010 -cert ../cert.pem -key ../key.pem -WWW -quiet \
   >../www.log 2>&1) & pids+=($!)
wait_port 5010
SSLKEYLOGFILE=$tmp/keys.curl.log timeout 20 curl -sk --http1.1 https://127.0.0.1:5010/page.txt \
  -o got.page.txt || { echo "FAIL: curl over HTTP/1.1"; status=1; }
cmp -s got.page.txt www/page.txt || { echo "FAIL: curl got another page"; status=1; }
cp www/page.txt exp/5010.page
if command -v nghttpd >/dev/null; then
  nghttpd -d www 5011 key.pem cert.pem >nghttpd.log 2>&1 & pids+=($!)
  wait_port 5011
  SSLKEYLOGFILE=$tmp/keys.curl.log timeout 20 curl -sk --http2 https://127.0.0.1:5011/page.txt \
    -o got.page2.txt || { echo "FAIL: curl over HTTP/2"; status=1; }
  cmp -s got.page2.txt www/page.txt || { echo "FAIL: curl got another page over HTTP/2"; status=1; }
  cp www/page.txt exp/5011.page
fi

# tcpdump may lag behind on a loaded machine: stop it once it has written
# the last connection's FINs
last=5010
[[ -e exp/5011.page ]] && last=5011
for _ in $(seq 200); do
  fins=$(tcpdump -r all.pcap "tcp port $last and tcp[tcpflags] & tcp-fin != 0" 2>/dev/null | wc -l)
  [[ $fins -ge 2 ]] && break
  sleep 0.1
done
kill -INT "${pids[0]}"
wait "${pids[0]}" 2>/dev/null
cat keys.*.log >keys.log
"$sflua" "$here/tlsdec_check.lua" all.pcap keys.log exp || status=1
# 5013 did go through a HelloRetryRequest and a KeyUpdate, as tshark reads it
for what in "tls.handshake.type == 24" "tls.handshake.random == cf:21:ad:74:e5:9a:61:11:be:1d:8c:02:1e:65:b8:91:c2:a2:11:16:7a:bb:8c:5e:07:9e:09:e2:c8:a8:33:9c"; do
  [[ -n $(tshark -r all.pcap -o "tls.keylog_file:keys.log" -Y "tcp.port == 5013 && $what" 2>/dev/null) ]] ||
    { echo "FAIL: 5013 has no $what"; status=1; }
done
if [[ $mode == --update && $status == 0 ]]; then
  # the small recording: three connections, their keys only
  tshark -r all.pcap -F pcap -w small.pcap -Y 'tcp.port == 5003 || tcp.port == 5004 || tcp.port == 5010 || tcp.port == 5011 || tcp.port == 5012 || tcp.port == 5013' 2>/dev/null || exit 1
  cat keys.5003.log keys.5004.log keys.curl.log keys.5012.log keys.5013.log >small.keys
  "$sflua" "$here/tlsdec_check.lua" small.pcap small.keys exp "5003 5004 5010 5011 5012 5013" || exit 1
  cp small.pcap "$root/tests/data/tlsdec_openssl.pcap"
  cp small.keys "$root/tests/data/tlsdec_openssl.keys"
  echo "wrote tests/data/tlsdec_openssl.pcap and tlsdec_openssl.keys"
fi
[[ $status == 0 ]] && echo "tlsdec_live: all connections decrypted as sent and as tshark decrypts"
exit $status
