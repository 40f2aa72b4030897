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
runs=${2:-3} frames=${3:-200000}
root=$(dirname "$here")
export LUA_PATH="$root/stdlib/?.lua;$root/stdlib/?/init.lua;;"
export LUA_CPATH="$build/?.so;$build/bench/?.so;;"
cmake --build "$build" --target benchclock sflua >/dev/null
mkdir -p "$build/bench"
for k in 1 2; do
  cap="$build/bench/http$k.pcap"
  [[ -s $cap ]] || "$build/sflua" "$here/gen_http.lua" "h$k" "$cap" "$frames"
done

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A wall cpu
lua_runs() {  # h1|h2
  for _ in $(seq "$runs"); do "$build/sflua" "$here/http_lua.lua" "$1" "$build/bench/http${1#h}.pcap" 1.5 2>/dev/null; done \
    >"$build/bench/http_runs.txt"
  for name in $(awk '{print $2}' "$build/bench/http_runs.txt" | sort -u); do
    wall[$name]=$(awk -v k="$name" '$1=="RESULT" && $2==k {print $3}' "$build/bench/http_runs.txt" | median)
    cpu[$name]=$(awk -v k="$name" '$1=="CPU" && $2==k {print $3}' "$build/bench/http_runs.txt" | median)
  done
}
tshark_runs() {  # NAME CAPTURE tshark-args...
  local name=$1 cap=$2
  shift 2
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %U" tshark -n -r "$cap" "$@" 2>&1 >/dev/null | tail -1
  done >"$build/bench/http_tshark.txt"
  wall[$name]=$(awk -v n="$frames" '{printf "%.0f\n", n / $1}' "$build/bench/http_tshark.txt" | median)
  cpu[$name]=$(awk -v n="$frames" '{printf "%.0f\n", n / $2}' "$build/bench/http_tshark.txt" | median)
}
lua_runs h1
lua_runs h2
if command -v tshark >/dev/null; then
  tshark_runs tshark_http1 "$build/bench/http1.pcap" -T fields -e http.request.method \
    -e http.request.uri -e http.host
  tshark_runs tshark_http2 "$build/bench/http2.pcap" -d tcp.port==8080,http2 -T fields \
    -e http2.header.name -e http2.header.value
fi
echo "captures: $build/bench/http{1,2}.pcap ($frames frames each), median of $runs runs; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-26s %14s %14s %10s %10s\n" figure "wall /s" "CPU /s" "x tshark" "x (CPU)"
for pair in lua_http1_request_host:tshark_http1 tshark_http1: lua_http2_headers:tshark_http2 tshark_http2:; do
  k=${pair%%:*} t=${pair#*:}
  [[ -n ${wall[$k]:-} ]] || continue
  rw=- rc=-
  if [[ -n $t && -n ${wall[$t]:-} ]]; then
    rw=$(awk -v a="${wall[$k]}" -v b="${wall[$t]}" 'BEGIN{printf "%.0fx", a/b}')
    rc=$(awk -v a="${cpu[$k]}" -v b="${cpu[$t]}" 'BEGIN{printf "%.0fx", a/b}')
  fi
  printf "%-26s %14s %14s %10s %10s\n" "$k" "${wall[$k]}" "${cpu[$k]}" "$rw" "$rc"
done
