#!/bin/sh
# bench/run.sh -- the one command for sflua's benchmarks (see bench/README.md).
#   bench/run.sh                  build if needed, run everything 5 times
#   ROUNDS=3 SECS=1 bench/run.sh  fewer / shorter runs
# Environment: BUILD (build dir, default ./build), ROUNDS (5), SECS (seconds
# per measurement, 1.5), PYTHON (/usr/bin/python3, the one with Debian's
# python3-scapy and python3-dpkt), SCAPY_PKTS (packets of the capture Scapy's
# PcapReader reads per run, 20000), TMPDIR (where the write benchmark writes).  Prints the table; writes bench/results.txt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
BUILD=${BUILD:-$root/build}
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-1.5}
PYTHON=${PYTHON:-/usr/bin/python3}

# ---- build -------------------------------------------------------------------
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
btype=${btype:-RelWithDebInfo}  # the top-level CMakeLists' default
case "$btype" in
  Release|RelWithDebInfo) ;;
  *) echo "run.sh: warning: $BUILD is a '$btype' build; figures will be low" >&2 ;;
esac
targets="stackforge_core sf_dissect_bench benchclock"
if make -C "$BUILD" help 2>/dev/null | grep '\.\.\. tins_anchor$' >/dev/null; then
  targets="$targets tins_anchor"
fi
if make -C "$BUILD" help 2>/dev/null | grep '\.\.\. pcap_bench$' >/dev/null; then
  targets="$targets pcap_bench"
fi
if ! make -C "$BUILD" -j2 --no-print-directory $targets >/dev/null 2>"$BUILD/bench-build.log"; then
  if [ -x "$BUILD/bench/sf_dissect_bench" ] && [ -f "$BUILD/bench/benchclock.so" ]; then
    echo "run.sh: warning: build failed (see $BUILD/bench-build.log); using the binaries already built" >&2
  else
    cat "$BUILD/bench-build.log" >&2
    exit 1
  fi
fi
# sflua itself; if it does not build, stock lua5.4 with the module paths
LUA="$BUILD/sflua"
if ! make -C "$BUILD" -j2 --no-print-directory sflua >/dev/null 2>&1; then
  if [ -x "$LUA" ]; then
    echo "run.sh: warning: sflua did not build; using the one already built" >&2
  else
    echo "run.sh: sflua did not build; using lua5.4 + require('stackforge')" >&2
    LUA=lua5.4
  fi
fi
LUA_PATH="$root/stdlib/?.lua;$root/stdlib/?/init.lua;;"
LUA_CPATH="$BUILD/?.so;$BUILD/bench/?.so;;"
export LUA_PATH LUA_CPATH

# ---- the packet mix ----------------------------------------------------------
mixf="$BUILD/bench/mix.bin"
if [ ! -f "$mixf" ] || [ "$here/gen_mix.lua" -nt "$mixf" ]; then
  "$LUA" "$here/gen_mix.lua" "$mixf" 100000
fi

# ---- the capture (issue 3, item 8): 350,000 packets from gen_traffic.lua -------
capf="$BUILD/bench/traffic.pcap"
if [ ! -f "$capf" ] || [ "$here/gen_traffic.lua" -nt "$capf" ]; then
  "$LUA" "$here/gen_traffic.lua" "$capf" 350000p 1
fi
SCAPY_PKTS=${SCAPY_PKTS:-20000}

# ---- runs --------------------------------------------------------------------
raw="$BUILD/bench/raw.txt"
: > "$raw"
have_py=1
"$PYTHON" -c 'import sys' 2>/dev/null || { have_py=0; echo "run.sh: no $PYTHON; Python anchors skipped" >&2; }
r=1
while [ "$r" -le "$ROUNDS" ]; do
  echo "run.sh: round $r of $ROUNDS" >&2
  "$BUILD/bench/sf_dissect_bench" "$mixf" "$SECS" >> "$raw"
  [ -x "$BUILD/bench/tins_anchor" ] && "$BUILD/bench/tins_anchor" "$mixf" "$SECS" >> "$raw"
  "$LUA" "$here/lua_bench.lua" "$mixf" "$SECS" >> "$raw"
  [ "$have_py" = 1 ] && "$PYTHON" "$here/py_anchors.py" "$mixf" "$SECS" >> "$raw"
  # capture files: read (libpcap, sfcore in C, the Lua loop, dpkt, Scapy), write
  [ -x "$BUILD/bench/pcap_bench" ] && "$BUILD/bench/pcap_bench" read "$capf" "$SECS" >> "$raw"
  "$LUA" "$here/pcap_loop.lua" "$capf" "$SECS" >> "$raw"
  [ "$have_py" = 1 ] && "$PYTHON" "$here/py_pcap.py" "$capf" "$SECS" "$SCAPY_PKTS" >> "$raw"
  [ -x "$BUILD/bench/pcap_bench" ] && "$BUILD/bench/pcap_bench" write "$capf" "$SECS" "${TMPDIR:-/tmp}/sflua_bench_write.$$.pcap" >> "$raw"
  [ -x "$BUILD/bench/anon_bench" ] && "$BUILD/bench/anon_bench" "$capf" >> "$raw"
  r=$((r + 1))
done

# ---- report ------------------------------------------------------------------
hdr="$BUILD/bench/header.txt"
{
  echo "sflua benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet 2>/dev/null || echo ' (+ local changes)'), $btype build, Lua: $LUA"
  echo "machine: $(nproc) cpus, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
  echo "mix: $mixf ($(wc -c < "$mixf") bytes, 100000 packets)"
  echo "capture: $capf ($(wc -c < "$capf") bytes, 350000 packets, gen_traffic.lua seed 1)"
} > "$hdr"
cat "$hdr"
echo
"$LUA" "$here/report.lua" "$raw" "$here/results.txt" "$hdr"
