#!/bin/bash
# run_tshark.sh SFLUA: the filter corpus and the -T fields output checked
# against the installed tshark, live (ctest filter_tshark): tshark's
# answers must equal the committed golden files, and sflua's must equal
# tshark's.  One tshark run per filter: a run asks tshark about a sample,
# every 8th filter of each section of corpus.txt from an offset the seed
# picks (tests/sampling.sh: SFLUA_TEST_SEED; SFLUA_TEST_EXHAUSTIVE=1 asks
# about every filter).  filter_corpus checks sflua on all of golden.tsv.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sflua=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$here/../sampling.sh"
sample_announce "filter tshark"
# the sampled corpus lines, and their numbers among the filters (golden.tsv
# has one line per filter, in order)
awk -v all="$test_exhaustive" -v off="$(sample_pick 0 8)" \
    -v corpus="$tmp/corpus.txt" -v picked="$tmp/picked" '
  /^# --/ { section++; i = 0 }
  /^#/ || /^$/ { next }
  { k++
    if (all || (i++ + off + section) % 8 == 0) { print > corpus; print k > picked } }' \
  "$here/corpus.txt"
echo "filter tshark: $(wc -l < "$tmp/picked") of the corpus's filters"
bash "$here/gen_golden.sh" "$tmp/golden.tsv" "$tmp/corpus.txt"
awk 'NR == FNR { want[$1]; next } FNR in want' "$tmp/picked" "$here/golden.tsv" > "$tmp/committed.tsv"
diff -u "$tmp/committed.tsv" "$tmp/golden.tsv"
(cd "$here/../.." && "$sflua" tests/filter/check_corpus.lua "$tmp/golden.tsv")
cap=$here/../data/filter_corpus.pcapng
# shellcheck disable=SC2046
tshark -o ip.defragment:FALSE -o ipv6.defragment:FALSE -r "$cap" -Y 'not tcp.port == 443' \
  -T fields $(cat "$here/fields.args") 2>/dev/null > "$tmp/fields.tsv"
diff -u "$here/fields.tshark.tsv" "$tmp/fields.tsv"
# shellcheck disable=SC2046
"$sflua" -r "$cap" -Y 'not tcp.port == 443' -T fields $(cat "$here/fields.args") > "$tmp/mine.tsv"
diff -u "$tmp/fields.tsv" "$tmp/mine.tsv"
echo "filter_tshark: corpus and fields agree with tshark"
