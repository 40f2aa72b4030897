#!/bin/bash
# gen_golden.sh [OUT [CORPUS]]: tshark's answers to the filter corpus
# (tests/filter/corpus.txt, or CORPUS: a sample of its lines).
# For each line of corpus.txt, the frame numbers tshark -Y selects from
# tests/data/filter_corpus.pcapng (ranges "1-3,7"), or ERROR when tshark
# refuses the filter; one line per filter: SFLUA_FILTER<TAB>FRAMES.
# Reassembly is off: sflua dissects each packet by itself.
# Without OUT it writes tests/filter/golden.tsv.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cap=$here/../data/filter_corpus.pcapng
out=${1:-$here/golden.tsv}
corpus=${2:-$here/corpus.txt}
TSHARK=${TSHARK:-tshark}
ranges() {  # numbers on stdin -> "1-3,7"
  awk 'BEGIN{s=""; a=-1; b=-1}
       {n=$1+0; if (a<0) {a=n; b=n} else if (n==b+1) {b=n}
        else {s=s (s==""?"":",") (a==b?a:a "-" b); a=n; b=n}}
       END{if (a>=0) s=s (s==""?"":",") (a==b?a:a "-" b); print s}'
}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
while IFS= read -r line; do
  [[ -z $line || $line == \#* ]] && continue
  mine=${line%%$'\t'*}
  theirs=${line#*$'\t'}
  if [[ $mine == ERROR ]]; then mine=$theirs; fi
  if frames=$("$TSHARK" -o ip.defragment:FALSE -o ipv6.defragment:FALSE -r "$cap" \
                -Y "$theirs" -T fields -e frame.number 2>/dev/null); then
    printf '%s\t%s\n' "$mine" "$(printf '%s\n' "$frames" | grep . | ranges)"
  else
    printf '%s\tERROR\n' "$mine"
  fi
done < "$corpus" > "$tmp"
chmod 644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
