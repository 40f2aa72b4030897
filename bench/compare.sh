# compare.sh: what the benchmarks that compare sflua with tshark share
# (tls_bench.sh, quic_bench.sh, ssh_bench.sh, http_bench.sh).  Sourced
# after setting here (bench/), build (the build directory), runs (how many
# runs make a median) and name (the prefix of its files in build/bench);
# it sets LUA_PATH and LUA_CPATH for build's sflua and bench/'s modules.
#   collect CMD ARGS...            RUNS runs of a benchmark printing
#                                  "RESULT figure n" and "CPU figure n":
#                                  each figure's medians in wall[] and cpu[]
#   tshark_rate FIGURE N CAP ARGS  RUNS runs of tshark -n -r CAP ARGS over N
#                                  items: the medians of N / seconds
#   report WIDTH ROW...            the table; a ROW is "figure" or
#                                  "figure:anchor" (ratios to the anchor)
root=$(dirname "$here")
export LUA_PATH="$root/stdlib/?.lua;$root/stdlib/?/init.lua;$here/?.lua;;"
export LUA_CPATH="$build/?.so;$build/bench/?.so;;"
mkdir -p "$build/bench"
declare -A wall cpu

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

collect() {
  local f="$build/bench/${name}_runs.txt" k
  for _ in $(seq "$runs"); do "$@" 2>/dev/null; done >"$f"
  for k in $(awk '{print $2}' "$f" | sort -u); do
    wall[$k]=$(awk -v k="$k" '$1=="RESULT" && $2==k {print $3}' "$f" | median)
    cpu[$k]=$(awk -v k="$k" '$1=="CPU" && $2==k {print $3}' "$f" | median)
  done
}

tshark_rate() {
  local figure=$1 n=$2 cap=$3 f="$build/bench/${name}_tshark.txt"
  shift 3
  command -v tshark >/dev/null || return 0
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %U" tshark -n -r "$cap" "$@" 2>&1 >/dev/null | tail -1
  done >"$f"
  wall[$figure]=$(awk -v n="$n" '{printf "%.0f\n", n / $1}' "$f" | median)
  cpu[$figure]=$(awk -v n="$n" '{printf "%.0f\n", n / $2}' "$f" | median)
}

report() {
  local width=$1 row k t rw rc
  shift
  printf "%-${width}s %14s %14s %10s %10s\n" figure "wall /s" "CPU /s" "x tshark" "x (CPU)"
  for row in "$@"; do
    k=${row%%:*} t=${row#"$k"} t=${t#:}
    [[ -n ${wall[$k]:-} ]] || continue
    rw=- rc=-
    if [[ -n $t && -n ${wall[$t]:-} ]]; then
      rw=$(awk -v a="${wall[$k]}" -v b="${wall[$t]}" 'BEGIN{printf "%.0fx", a/b}')
      rc=$(awk -v a="${cpu[$k]}" -v b="${cpu[$t]}" 'BEGIN{printf "%.0fx", a/b}')
    fi
    printf "%-${width}s %14s %14s %10s %10s\n" "$k" "${wall[$k]}" "${cpu[$k]}" "$rw" "$rc"
  done
}

# the frames of a capture, counted by sflua
count_frames() {
  CAP="$1" "$build/sflua" -e "local n=0 for _ in PcapReader(os.getenv('CAP')) do n=n+1 end print(n)"
}
