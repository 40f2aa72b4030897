# Sourced (POSIX sh) by the shell interop tests: the sample a slow test
# checks in one run, as tests/sampling.py does for the Python ones
# (docs/testing.md, "Samples").  Sets
#   test_seed        SFLUA_TEST_SEED, default the clock
#   test_exhaustive  1 when SFLUA_TEST_EXHAUSTIVE=1 (check every case), else 0
# and defines sample_announce NAME (prints how to replay the run) and
# sample_pick I N: the seed's choice of 0..N-1 for the I-th case, rotating
# with I so that N consecutive cases take every choice once.
test_seed=${SFLUA_TEST_SEED:-$(date +%s)}
case $test_seed in
  '' | *[!0-9]*)
    echo "SFLUA_TEST_SEED must be a non-negative integer, got '$test_seed'" >&2
    exit 2 ;;
esac
case ${SFLUA_TEST_EXHAUSTIVE:-0} in
  '' | 0) test_exhaustive=0 ;;
  *) test_exhaustive=1 ;;
esac

sample_announce() {
  if [ "$test_exhaustive" = 1 ]; then
    echo "$1: every case (SFLUA_TEST_EXHAUSTIVE=1)"
  else
    echo "$1: a sample, seed $test_seed (SFLUA_TEST_SEED=$test_seed replays it," \
      "SFLUA_TEST_EXHAUSTIVE=1 checks every case)"
  fi
}

sample_pick() {
  echo $(( (test_seed % $2 + $1) % $2 ))
}
