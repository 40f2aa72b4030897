#!/usr/bin/env bash
# http_bench.sh: HTTP/1 request line and Host from Lua over a capture
# (http_lua.lua h1: PcapReader + p.Method, p.Path, p.Host), HTTP/2 header
# lists decoded from Lua (http_lua.lua h2: p.hdrs, HPACK by libnghttp2),
# each against tshark -T fields on the same capture (http.request.method,
# http.request.uri, http.host; http2.header.name, http2.header.value).
# Usage: bash bench/http_bench.sh [BUILD_DIR] [RUNS] [FRAMES]
#   writes BUILD_DIR/bench/http1.pcap and http2.pcap with bench/gen_http.lua
#   once (FRAMES each, default 200,000); prints each figure's median of RUNS
#   (default 3) by wall clock and per CPU second, and the ratios to tshark.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
runs=${2:-3} frames=${3:-200000} name=http
. "$here/compare.sh"
cmake --build "$build" --target benchclock sflua >/dev/null
for k in 1 2; do
  cap="$build/bench/http$k.pcap"
  [[ -s $cap ]] || "$build/sflua" "$here/gen_http.lua" "h$k" "$cap" "$frames"
done
collect "$build/sflua" "$here/http_lua.lua" h1 "$build/bench/http1.pcap" 1.5
collect "$build/sflua" "$here/http_lua.lua" h2 "$build/bench/http2.pcap" 1.5
tshark_rate tshark_http1 "$frames" "$build/bench/http1.pcap" -T fields -e http.request.method \
  -e http.request.uri -e http.host
tshark_rate tshark_http2 "$frames" "$build/bench/http2.pcap" -d tcp.port==8080,http2 -T fields \
  -e http2.header.name -e http2.header.value
echo "captures: $build/bench/http{1,2}.pcap ($frames frames each), median of $runs runs; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
report 26 lua_http1_request_host:tshark_http1 tshark_http1 lua_http2_headers:tshark_http2 tshark_http2
