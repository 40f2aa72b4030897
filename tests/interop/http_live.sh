#!/bin/bash
# http_live.sh SFLUA: HTTP/1 and HTTP/2 against real programs, in a
# network namespace of its own (traffic on its loopback only), recorded
# with tcpdump and read by tshark and by sflua (http_live.lua compares):
#  - curl against python3 -m http.server on port 80 (the tcp.port table)
#    and 8123 (the heuristic): GET of a page and of a 100 kB file, HEAD,
#    a request with headers of its own, a 404, HTTP/1.0: request and
#    status lines and headers frame by frame equal tshark's, and the
#    messages split from the reassembled streams are the ones tshark
#    counts, with the bodies the server sent;
#  - nghttp against nghttpd (h2c with prior knowledge: Debian's nghttpd
#    does not take HTTP/1.1's Upgrade; tests/data/http2_h2c.pcap has one,
#    tests/lua/http_spec.lua): every header list sflua decodes from the reassembled streams
#    equals tshark's http2.header.name/value, in order;
#  - an HTTPRequest built in Lua gets http.server's 200, and an HTTP/2
#    request built in Lua (preface, SETTINGS, HEADERS with its list
#    encoded) gets nghttpd's HEADERS with :status 200.
# Exit 77 (skip) without root, unshare, python3, curl, nghttp(d), tcpdump or tshark.
set -uo pipefail
sflua=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
for t in python3 curl nghttp nghttpd tcpdump tshark unshare ip ss; do
  command -v "$t" >/dev/null || { echo "SKIP: no $t"; exit 77; }
done
if [[ -z ${HTTP_LIVE_NS:-} ]]; then
  [[ $(id -u) == 0 ]] || { echo "SKIP: a network namespace needs root"; exit 77; }
  HTTP_LIVE_NS=1 exec unshare --net bash "$0" "$sflua"
fi
ip link set lo up
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp"
mkdir www
printf '<html><body>sflua live test</body></html>\n' >www/index.html
head -c 100000 /dev/urandom >www/big.bin

listening() { for _ in $(seq 100); do ss -ltn | grep -q ":$1 " && return 0; sleep 0.05; done; return 1; }

tcpdump -i lo -U -s 0 -w http.pcap 'tcp port 80 or tcp port 8123 or tcp port 8080' 2>tcpdump.log & pids+=($!)
(cd www && exec python3 -m http.server 80 --bind 127.0.0.1) >server80.log 2>&1 & pids+=($!)
(cd www && exec python3 -m http.server 8123 --bind 127.0.0.1) >server8123.log 2>&1 & pids+=($!)
nghttpd --no-tls -d www 8080 >nghttpd.log 2>&1 & pids+=($!)
for _ in $(seq 100); do grep -q "listening on" tcpdump.log 2>/dev/null && break; sleep 0.05; done
listening 80 && listening 8123 && listening 8080 || { echo "FAIL: servers did not start"; exit 1; }

c() { timeout 10 curl -s -o /dev/null "$@" || echo "curl $* failed" >>client.log; }
c http://127.0.0.1/
c http://127.0.0.1/big.bin
c -I http://127.0.0.1/index.html
c -H 'X-Sflua-Test: one two' -H 'Accept-Language: en' -A 'sflua-live/1.0' http://127.0.0.1:8123/index.html
c http://127.0.0.1:8123/missing
c --http1.0 http://127.0.0.1:8123/big.bin

status=0
# an HTTPRequest built in Lua, over a plain TCP connection
"$sflua" -e 'io.write(HTTPRequest{Path="/index.html", Host="127.0.0.1", User_Agent="sflua", Connection="close"}:bytes())' >req.bin
exec 3<>/dev/tcp/127.0.0.1/80 && cat req.bin >&3 && timeout 5 cat <&3 >reply.bin; exec 3>&-
"$sflua" -e '
  local f = io.open("reply.bin", "rb"); local s = f:read("a"); f:close()
  local m, _, body = http_messages(s)()
  print(("Lua-built request: %s %s, %d bytes of body"):format(m and m.Status_Code, m and m.Reason_Phrase, body and #body or 0))
  os.exit(m and m.Status_Code == "200" and body:find("sflua live test", 1, true) and 0 or 1)' ||
  { echo "FAIL: http.server did not answer the request built in Lua"; status=1; }

nghttp -n -H 'x-sflua: h2c' http://127.0.0.1:8080/index.html >>client.log 2>&1 || echo "nghttp failed" >>client.log
nghttp -n http://127.0.0.1:8080/big.bin http://127.0.0.1:8080/missing >>client.log 2>&1 || true

# an HTTP/2 request built in Lua: nghttpd answers with :status 200
"$sflua" -e '
  io.write((H2Preface() / H2SettingsFrame() / H2HeadersFrame{flags = "EH+ES", stream_id = 1,
    hdrs = {{":method", "GET"}, {":scheme", "http"}, {":path", "/index.html"},
            {":authority", "127.0.0.1:8080"}, {"user-agent", "sflua"}}}):bytes())' >h2req.bin
exec 3<>/dev/tcp/127.0.0.1/8080 && cat h2req.bin >&3 && timeout 2 cat <&3 >h2reply.bin; exec 3>&-
"$sflua" -e '
  local f = io.open("h2reply.bin", "rb"); local s = f:read("a"); f:close()
  for _, b in ipairs(h2_headers(s)) do
    if b.stream_id == 1 and b.headers and b.headers[1][2] == "200" then
      print("Lua-built HTTP/2 request: :status 200 on stream 1"); os.exit(0)
    end
  end
  print("no :status 200 in " .. #s .. " bytes"); os.exit(1)' ||
  { echo "FAIL: nghttpd did not answer the HTTP/2 request built in Lua"; status=1; }

sleep 0.3
kill -INT "${pids[0]}"
wait "${pids[0]}" 2>/dev/null
[[ -s client.log ]] && cat client.log

# tshark's reading: HTTP/1 per segment (no reassembly), messages (with
# it), HTTP/2 header fields per frame
tshark -r http.pcap -o tcp.desegment_tcp_streams:FALSE -d tcp.port==8123,http -Y http \
  -T fields -E separator=/t -e frame.number -e http.request.method -e http.request.uri \
  -e http.request.version -e http.host -e http.user_agent -e http.accept_language \
  -e http.response.version -e http.response.code -e http.response.phrase \
  -e http.content_length_header -e http.server -e http.content_type >http1.tsv 2>/dev/null || exit 1
tshark -r http.pcap -d tcp.port==8123,http -Y 'http.response' -T fields -e tcp.stream \
  -e http.response.code -e http.content_length >http1_msgs.tsv 2>/dev/null || exit 1
tshark -r http.pcap -d tcp.port==8080,http2 -Y http2.header -T fields -E separator=/t \
  -E aggregator='|' -e frame.number -e tcp.srcport -e tcp.dstport -e http2.streamid -e http2.header.name \
  -e http2.header.value >http2.tsv 2>/dev/null || exit 1
"$sflua" "$here/http_live.lua" http.pcap http1.tsv http1_msgs.tsv http2.tsv www/big.bin || status=1
exit $status
