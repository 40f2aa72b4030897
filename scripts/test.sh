#!/usr/bin/env bash
# The project's test command (the README's): install what is missing
# (scripts/setup.sh --test: the test tools too), then build and test three ways.
#   1. build/        gcc (cc), -Werror, full ctest
#   2. build-asan/   clang, ASan + UBSan, full ctest
#   3. build-fuzz/   clang, libFuzzer targets, a short fuzz run of each,
#                    seeded with tests/fuzz/corpus and packets split from
#                    ../shared/captures when that folder is there
# Every stage runs even if an earlier one failed; the exit status is
# non-zero if any failed.  Knobs: SFLUA_JOBS (2), SFLUA_FUZZ_SECONDS (60,
# shared by all targets), SFLUA_CI_STAGES ("build asan fuzz").
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${SFLUA_JOBS:-2}
stages=${SFLUA_CI_STAGES:-build asan fuzz}
fuzz_seconds=${SFLUA_FUZZ_SECONDS:-60}
status=0

bash scripts/setup.sh --test </dev/null || exit 1

stage() { printf '\n==== %s ====\n' "$*"; }
fail() { echo "FAILED: $*"; status=1; }
has() { [[ " $stages " == *" $1 "* ]]; }

run_ctest() {  # dir
  ctest --test-dir "$1" --output-on-failure -j"$jobs" --timeout 600 </dev/null ||
    fail "ctest in $1"
}

if has build; then
  stage "build (cc, -Werror)"
  if cmake -S . -B build -DSFLUA_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
     cmake --build build -j"$jobs"; then
    stage "ctest build/"
    run_ctest build
  else
    fail "build/"
  fi
fi

if has asan; then
  stage "build-asan (clang, ASan + UBSan)"
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  if CC=clang cmake -S . -B build-asan -DSFLUA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug &&
     cmake --build build-asan -j"$jobs"; then
    stage "ctest build-asan/"
    run_ctest build-asan
  else
    fail "build-asan/"
  fi
fi

if has fuzz; then
  stage "build-fuzz (clang, libFuzzer)"
  targets=()
  for src in tests/fuzz/fuzz_*.c; do
    [[ -e "$src" ]] && targets+=("$(basename "$src" .c)")
  done
  if ((${#targets[@]} == 0)); then
    echo "no fuzz targets"
  elif CC=clang cmake -S . -B build-fuzz -DSFLUA_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
       cmake --build build-fuzz -j"$jobs" --target "${targets[@]}"; then
    corpus=build-fuzz/corpus-seed
    rm -rf "$corpus"
    mkdir -p "$corpus"
    cp tests/fuzz/corpus/* "$corpus"/ 2>/dev/null || true
    rm -f "$corpus/SOURCES"
    bash tests/fuzz/make_corpus.sh "$corpus" "$root/../shared/captures" 20 || true
    per=$((fuzz_seconds / ${#targets[@]}))
    ((per < 5)) && per=5
    # the capture readers start from whole files, the dissector from packets
    mkdir -p build-fuzz/seed-files
    cp tests/data/*.pcap tests/data/*.pcapng tests/data/pcapng-conformance/*/*/*.pcapng \
      build-fuzz/seed-files/ 2>/dev/null || true
    for t in "${targets[@]}"; do
      stage "fuzz $t (${per}s)"
      work=build-fuzz/corpus-$t
      art=build-fuzz/artifacts-$t
      seeds=$corpus
      [[ $t == fuzz_pcap* ]] && seeds=build-fuzz/seed-files
      mkdir -p "$work" "$art"
      if ASAN_OPTIONS=detect_leaks=1 timeout $((per * 3 + 120)) \
           "build-fuzz/tests/fuzz/$t" -max_total_time="$per" -timeout=10 \
           -rss_limit_mb=2048 -print_final_stats=1 \
           -artifact_prefix="$art/" "$work" "$seeds" </dev/null \
           >"build-fuzz/$t.log" 2>&1; then
        grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "build-fuzz/$t.log"
        echo "FUZZ-RESULT $t ok"
      else
        tail -60 "build-fuzz/$t.log"
        ls -l "$art"
        for a in "$art"/*; do
          [[ -f "$a" ]] && { echo "reproducer $a:"; od -An -tx1 "$a" | head -20; }
        done
        echo "FUZZ-RESULT $t failed"
        fail "fuzz $t"
      fi
    done
  else
    fail "build-fuzz/"
    for t in "${targets[@]}"; do echo "FUZZ-RESULT $t failed"; done
  fi
fi

exit "$status"
