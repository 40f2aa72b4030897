#!/usr/bin/env bash
# The project's test command (the README's): install what is missing
# (scripts/setup.sh --test: the test tools too), then build and test three ways.
#   1. build/        gcc (cc), -Werror; ctest: the oracle comparisons and
#                    what build-asan/ lacks (stock lua5.4's specs, RSS checks)
#   2. build-asan/   clang, ASan + UBSan; ctest: every other test
#   3. build-fuzz/   clang, libFuzzer targets, a short fuzz run of each,
#                    seeded with tests/fuzz/corpus and packets split from
#                    ../shared/captures when that folder is there
#   4. build-tsan/   clang, ThreadSanitizer: sflua and test_split only, the
#                    tests labelled tsan (the parallel drivers, tests/par)
# The clang trees compile in the background, each while the stage before
# it tests: build-asan/ during build/'s tests, build-fuzz/ during
# build-asan/'s, build-tsan/ during the fuzzing.  (At a lower priority they starved when the machine
# was busy: build-fuzz/ took 8 minutes instead of 1.)
# Every stage runs even if an earlier one failed.  The last line is
# "N passed, M failed" over every ctest test of both suites and every fuzz
# target (a tree that does not build counts as one failure); the exit
# status is non-zero if anything failed.
# Knobs: SFLUA_JOBS (2), SFLUA_FUZZ_SECONDS (60: each target fuzzes for its
# share, SFLUA_JOBS targets at a time), SFLUA_CI_STAGES ("build asan fuzz tsan"),
# SFLUA_TEST_SEED (the slow interop tests' sample; build-asan/ uses the seed
# + 1) and SFLUA_TEST_EXHAUSTIVE=1 (every case), see docs/testing.md.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${SFLUA_JOBS:-2}
stages=${SFLUA_CI_STAGES:-build asan fuzz tsan}
fuzz_seconds=${SFLUA_FUZZ_SECONDS:-60}
seed=${SFLUA_TEST_SEED:-$(date +%s)}
status=0
passed=0 failed=0
summary=()
start=$SECONDS
fuzz_targets=()
for src in tests/fuzz/fuzz_*.c; do
  [[ -e "$src" ]] && fuzz_targets+=("$(basename "$src" .c)")
done

if [[ ! $seed =~ ^[0-9]+$ ]]; then
  echo "SFLUA_TEST_SEED must be a non-negative integer, got '$seed'"
  echo "0 passed, 1 failed"
  exit 1
fi

bash scripts/setup.sh --test </dev/null || { echo "0 passed, 1 failed"; exit 1; }

stage() { printf '\n==== %s ====\n' "$*"; }
fail() { echo "FAILED: $*"; status=1; }
has() { [[ " $stages " == *" $1 "* ]]; }
count() { passed=$((passed + $1)); failed=$((failed + $2)); }  # passed failed
since() { echo "$((SECONDS - $1))s"; }

if [[ ${SFLUA_TEST_EXHAUSTIVE:-0} =~ ^0?$ ]]; then
  echo "interop samples: seed $seed for build/, $((seed + 1)) for build-asan/" \
    "(SFLUA_TEST_SEED=$seed replays them; SFLUA_TEST_EXHAUSTIVE=1 checks every case)"
else
  echo "interop tests: every case (SFLUA_TEST_EXHAUSTIVE)"
fi

# configure and build one tree; compiler and flags by tree
build_tree() {  # dir
  case $1 in
    build) cmake -S . -B build -DSFLUA_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
           cmake --build build -j"$jobs" ;;
    build-asan) CC=clang cmake -S . -B build-asan -DSFLUA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug &&
                cmake --build build-asan -j"$jobs" ;;
    build-fuzz) CC=clang cmake -S . -B build-fuzz -DSFLUA_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
                cmake --build build-fuzz -j"$jobs" --target "${fuzz_targets[@]}" ;;
    build-tsan) CC=clang cmake -S . -B build-tsan -DSFLUA_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
                cmake --build build-tsan -j"$jobs" --target sflua test_split ;;
  esac
}

# the trees still to build in the background, in order, and the pid of
# the one building
behind=()
has asan && behind+=(build-asan)
has fuzz && ((${#fuzz_targets[@]} > 0)) && behind+=(build-fuzz)
has tsan && behind+=(build-tsan)
background=

# start the next tree of $behind building in the background; DIR/build.log
# gets its output, DIR/build.status "STATUS SECONDS"
build_behind() {
  ((${#behind[@]} > 0)) || return 0
  local dir=${behind[0]}
  behind=("${behind[@]:1}")
  mkdir -p "$dir"
  rm -f "$dir/build.status"
  (
    t0=$SECONDS
    build_tree "$dir" >"$dir/build.log" 2>&1
    echo "$? $((SECONDS - t0))" >"$dir/build.status"
  ) </dev/null &
  background=$!
}

# the output and status of the background build of DIR, once it is done;
# the next tree starts building
collect_build() {  # dir -> 0 if it built; sets built_seconds
  local rc
  [[ -z $background ]] || wait "$background"
  background=
  build_behind
  cat "$1/build.log"
  read -r rc built_seconds <"$1/build.status" || return 1
  return "$rc"
}

# ctest in DIR with the sample seed SEED; counts its tests, and one failure
# when ctest fails without saying how many tests did
# Each test runs once, in the tree that tells most: build-asan/ runs all
# but the tests labelled oracle (comparisons with tshark and Scapy over many
# cases, whose time goes to the oracles), build/ the oracle tests and what
# build-asan/ does not have (stock lua5.4's specs, RSS and install checks);
# see docs/testing.md.
run_ctest() {  # dir seed [regex of tests to leave out [label of the only tests]]
  local log="$1/ctest.log" rc line total bad skip=()
  [[ $1 == build-asan ]] && skip=(-LE oracle)
  [[ -n ${3:-} ]] && skip=(-E "$3")
  [[ -n ${4:-} ]] && skip+=(-L "$4")
  SFLUA_TEST_SEED=$2 ctest --test-dir "$1" --output-on-failure -j"$jobs" \
    --timeout 120 "${skip[@]}" </dev/null 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  # "97% tests passed, 1 tests failed out of 35"
  line=$(sed -nE 's/^[0-9]+% tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\2 \1/p' "$log")
  if [[ -n $line ]]; then
    read -r total bad <<<"$line"
    count $((total - bad)) "$bad"
    ((rc == 0 || bad > 0)) || count 0 1
  else
    count 0 1
  fi
  ((rc == 0)) || fail "ctest in $1"
}

# The tests build-asan/ will run, as a regex of their names, once its
# configuration is written (it builds in the background meanwhile); empty
# when build-asan/ is not a stage or did not configure (build/ runs all).
asan_twins() {
  local i names
  has asan || return 0
  for i in $(seq 1200); do
    grep -q "Build files have been written" build-asan/build.log 2>/dev/null && break
    [[ -f build-asan/build.status ]] && break
    sleep 0.5
  done
  grep -q "Build files have been written" build-asan/build.log 2>/dev/null || return 0
  names=$(ctest --test-dir build-asan -N -LE oracle 2>/dev/null |
          sed -nE 's/^ *Test +#[0-9]+: ([A-Za-z0-9_.-]+)$/\1/p')
  [[ -n $names ]] || return 0
  printf '^(%s)$' "$(paste -sd'|' <<<"$names")"
}

ctest_stage() {  # label dir seed [label of the only tests to run]
  local label=$1 dir=$2 seed=$3 only=${4:-} t0=$SECONDS built_seconds rc p0=$passed f0=$failed skip=
  if [[ $dir == build ]]; then
    stage "$dir ($label)"
    build_tree "$dir"
    rc=$?
    built_seconds=$((SECONDS - t0))
    build_behind
  else
    stage "$dir ($label, built in the background)"
    collect_build "$dir"
    rc=$?
  fi
  if ((rc != 0)); then
    fail "$dir/"
    count 0 1
    summary+=("$dir/: did not build (${built_seconds}s)")
    return
  fi
  [[ $dir == build ]] && skip=$(asan_twins)
  t0=$SECONDS
  stage "ctest $dir/"
  [[ -n $skip ]] && echo "(the tests build-asan/ runs are left to it)"
  run_ctest "$dir" "$seed" "$skip" "$only"
  summary+=("$dir/: $((passed - p0)) passed, $((failed - f0)) failed (build ${built_seconds}s, ctest $(since "$t0"))")
}

# one libFuzzer run; its log goes to build-fuzz/T.log, its verdict
# ("ok" or "failed") to build-fuzz/T.result
fuzz_one() {  # target seconds seeds
  local t=$1 per=$2 seeds=$3 work=build-fuzz/corpus-$1 art=build-fuzz/artifacts-$1
  mkdir -p "$work" "$art"
  if ASAN_OPTIONS=detect_leaks=1 timeout $((per * 3 + 120)) \
       "build-fuzz/tests/fuzz/$t" -max_total_time="$per" -timeout=10 \
       -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$art/" "$work" "$seeds" </dev/null \
       >"build-fuzz/$t.log" 2>&1; then
    echo ok >"build-fuzz/$t.result"
  else
    echo failed >"build-fuzz/$t.result"
  fi
}

fuzz_report() {  # target
  local t=$1 art=build-fuzz/artifacts-$1
  stage "fuzz $t"
  if [[ $(cat "build-fuzz/$t.result" 2>/dev/null) == ok ]]; then
    grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "build-fuzz/$t.log"
    echo "FUZZ-RESULT $t ok"
    count 1 0
  else
    tail -60 "build-fuzz/$t.log"
    ls -l "$art"
    for a in "$art"/*; do
      [[ -f "$a" ]] && { echo "reproducer $a:"; od -An -tx1 "$a" | head -20; }
    done
    echo "FUZZ-RESULT $t failed"
    fail "fuzz $t"
    count 0 1
  fi
}

# every target for its share of SFLUA_FUZZ_SECONDS, SFLUA_JOBS at a time
run_fuzz() {
  local corpus=build-fuzz/corpus-seed per t pids=()
  rm -rf "$corpus"
  mkdir -p "$corpus"
  cp tests/fuzz/corpus/* "$corpus"/ 2>/dev/null || true
  rm -f "$corpus/SOURCES"
  bash tests/fuzz/make_corpus.sh "$corpus" "$root/../shared/captures" 20 || true
  # the capture readers start from whole files, the dissector from packets
  mkdir -p build-fuzz/seed-files
  cp tests/data/*.pcap tests/data/*.pcapng tests/data/pcapng-conformance/*/*/*.pcapng \
    build-fuzz/seed-files/ 2>/dev/null || true
  per=$((fuzz_seconds / ${#fuzz_targets[@]}))
  ((per < 5)) && per=5
  stage "fuzz ${#fuzz_targets[@]} targets, ${per}s each, $jobs at a time"
  for t in "${fuzz_targets[@]}"; do
    rm -f "build-fuzz/$t.result"
    if [[ $t == fuzz_pcap* ]]; then
      fuzz_one "$t" "$per" build-fuzz/seed-files &
    else
      fuzz_one "$t" "$per" "$corpus" &
    fi
    pids+=($!)
    if ((${#pids[@]} >= jobs)); then
      wait "${pids[0]}"
      pids=("${pids[@]:1}")
    fi
  done
  wait "${pids[@]}"
  for t in "${fuzz_targets[@]}"; do fuzz_report "$t"; done
}

fuzz_stage() {
  local t0 built_seconds p0=$passed f0=$failed
  stage "build-fuzz (clang, libFuzzer, built in the background)"
  if ! collect_build build-fuzz; then
    fail "build-fuzz/"
    for t in "${fuzz_targets[@]}"; do echo "FUZZ-RESULT $t failed"; done
    count 0 "${#fuzz_targets[@]}"
    summary+=("build-fuzz/: did not build (${built_seconds}s)")
    return
  fi
  t0=$SECONDS
  run_fuzz
  summary+=("build-fuzz/: $((passed - p0)) passed, $((failed - f0)) failed (build ${built_seconds}s, fuzz $(since "$t0"))")
}

has build || build_behind

if has build; then
  ctest_stage "cc, -Werror" build "$seed"
fi

if has asan; then
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  ctest_stage "clang, ASan + UBSan" build-asan $((seed + 1))
fi

if has fuzz; then
  if ((${#fuzz_targets[@]} == 0)); then
    echo "no fuzz targets"
  else
    fuzz_stage
  fi
fi
if has tsan; then
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
  ctest_stage "clang, ThreadSanitizer, the parallel tests" build-tsan "$seed" tsan
fi
[[ -z $background ]] || wait "$background"

stage "summary"
printf '%s\n' "${summary[@]}"
if ((passed + failed == 0)); then
  echo "no test ran"
  failed=1
fi
((failed == 0)) || status=1
echo "took $(since "$start"), exit status $status"
echo "$passed passed, $failed failed"
exit "$status"
