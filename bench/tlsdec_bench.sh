#!/usr/bin/env bash
# tlsdec_bench.sh: TLS decryption's speed, in MB of plaintext per second,
# from a capture: extract_flows{tls_keylog=} reading each conversation's
# decrypted streams in chunks (tlsdec_bench.lua), the same extraction
# reading the ciphertext streams only (what decryption adds), and tshark
# decrypting the same capture (-z follow,tls,raw); then the peak RSS of
# decrypting it from a pipe under memory_budget = 64 MiB, read in chunks
# and read as whole strings.
# Usage: bash bench/tlsdec_bench.sh [BUILD_DIR] [RUNS] [MB]
#   records BUILD_DIR/bench/tlsdec.pcap (+ .keys) once, as root in a network
#   namespace of its own: openssl s_server sends MB megabytes (default 64)
#   to s_client under TLS 1.3 AES-128-GCM, TLS 1.3 ChaCha20-Poly1305 and
#   TLS 1.2 AES-256-GCM; prints each figure's median of RUNS (default 3).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
runs=${2:-3} mb=${3:-64}
cap="$build/bench/tlsdec.pcap" keys="$build/bench/tlsdec.keys"
mkdir -p "$build/bench"
cmake --build "$build" --target sflua benchclock >/dev/null
export LUA_CPATH="$build/?.so;$build/bench/?.so;;"

record() {  # in a namespace: three connections, MB each from the server
  ip link set lo up
  local tmp
  tmp=$(mktemp -d)
  trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
  cd "$tmp"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem \
    -out cert.pem -days 1 -subj "/CN=bench" 2>/dev/null
  tcpdump -i lo -U -B 65536 -s 0 -w cap.pcap tcp portrange 6000-6010 2>tcpdump.log &
  local tpid=$!
  until grep -q "listening on" tcpdump.log 2>/dev/null; do sleep 0.05; done
  local port=6000 o
  for o in "-tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256" "-tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256" \
           "-tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384"; do
    port=$((port + 1))
    # shellcheck disable=SC2086
    { sleep 0.5; head -c "${mb}M" /dev/zero; } |
      openssl s_server -accept $port -cert cert.pem -key key.pem -naccept 1 -quiet $o >/dev/null 2>&1 &
    until ss -ltn | grep -q ":$port "; do sleep 0.05; done
    # shellcheck disable=SC2086
    echo hello | openssl s_client -connect 127.0.0.1:$port -keylogfile keys -quiet $o >/dev/null 2>&1
    wait %2 2>/dev/null || true
  done
  sleep 1
  kill -INT $tpid
  wait $tpid || true
  cp cap.pcap "$cap"
  cp keys "$keys"
}
if [[ ! -s $cap ]]; then
  [[ $(id -u) == 0 ]] || { echo "recording the capture needs root (a network namespace)"; exit 1; }
  export -f record
  export cap keys mb
  unshare --net bash -c record
fi

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for mode in decrypted reassembled; do
  for _ in $(seq "$runs"); do "$build/sflua" "$here/tlsdec_bench.lua" "$cap" "$keys" "$mode"; done \
    >"$build/bench/tlsdec_$mode.txt"
done
if command -v tshark >/dev/null; then
  n=$(tshark -r "$cap" -T fields -e tcp.stream 2>/dev/null | sort -u | wc -l)
  z=()
  for i in $(seq 0 $((n - 1))); do z+=(-z "follow,tls,raw,$i"); done
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %U %S" tshark -r "$cap" -o "tls.keylog_file:$keys" -q "${z[@]}" 2>&1 >/dev/null |
      tail -1
  done >"$build/bench/tlsdec_tshark.txt"
fi
plain=$(awk '$1 == "BYTES" {print $2; exit}' "$build/bench/tlsdec_decrypted.txt")
# every byte sent was decrypted: three servers' MB and three "hello\n"
want=$((3 * mb * 1048576 + 18))
[[ $plain == "$want" ]] || { echo "decrypted $plain bytes, $want were sent"; exit 1; }
echo "capture: $cap ($(du -m "$cap" | cut -f1) MB, $((plain / 1000000)) MB of plaintext), median of $runs runs; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-40s %12s %12s\n" figure "MB/s wall" "MB/s CPU"
for mode in decrypted reassembled; do
  w=$(awk '$1 == "WALL" {print $2}' "$build/bench/tlsdec_$mode.txt" | median)
  c=$(awk '$1 == "CPU" {print $2}' "$build/bench/tlsdec_$mode.txt" | median)
  printf "%-40s %12s %12s\n" "sflua extract_flows, $mode chunks" "$w" "$c"
done
if [[ -s $build/bench/tlsdec_tshark.txt ]]; then
  w=$(awk -v b="$plain" '{printf "%.1f\n", b / 1e6 / $1}' "$build/bench/tlsdec_tshark.txt" | median)
  c=$(awk -v b="$plain" '{printf "%.1f\n", b / 1e6 / ($2 + $3)}' "$build/bench/tlsdec_tshark.txt" | median)
  printf "%-40s %12s %12s\n" "tshark -z follow,tls,raw (every stream)" "$w" "$c"
fi

# memory: from a pipe (no mapping), streams spilled past 64 MiB
rss() {  # LUA_BODY_READING_c -> peak RSS in MB
  cat "$cap" | /usr/bin/time -f "%M" "$build/sflua" -e "
    extract_flows('-', {tls_keylog = '$keys', config = FlowConfig{memory_budget = 64 << 20},
      on_flow = function(c) $1 end})" 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1 / 1024}'
}
echo "peak RSS from a pipe, memory_budget 64 MiB: chunks $(rss 'for _, d in ipairs({"decrypted_forward", "decrypted_reverse"}) do for _ in c:chunks(d) do end end') MB, whole strings $(rss 'local _ = #c.decrypted_forward + #c.decrypted_reverse') MB"
