#!/bin/bash
# run_tshark.sh SFLUA: the filter corpus and the -T fields output checked
# against the installed tshark, live (ctest filter_tshark): tshark's
# answers must equal the committed golden files, and sflua's must equal
# tshark's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sflua=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash "$here/gen_golden.sh" "$tmp/golden.tsv"
diff -u "$here/golden.tsv" "$tmp/golden.tsv"
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
