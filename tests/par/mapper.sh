#!/bin/bash
# tests/par/mapper.sh SFLUA CAPTURE...: docs/scale.md's GNU parallel recipe
# over the captures -- paths on stdin, `sflua -m` as the mapper, its JSONL
# merged in input order -- gives exactly what one sflua -m process gives,
# with one capture per job and with two (the shape Hadoop Streaming and
# Spark's RDD.pipe give a mapper: a share of the lines).  With reduce, one
# line per capture.  A path that cannot be read is named on stderr, the
# others are still mapped, the exit status is 1.  Skips (77) without GNU
# parallel (Debian package parallel).
set -u
sflua=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
script=$here/mapper_map.lua
command -v parallel >/dev/null || { echo "GNU parallel not installed: skipped"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
printf '%s\n' "$@" > "$tmp/paths"

for args in "" "reduce"; do
  "$sflua" -m "$script" $args < "$tmp/paths" > "$tmp/one.jsonl" || { echo "FAIL single process ($args)"; fail=1; }
  # docs/scale.md's recipe: paths on stdin, N per job, output in input order
  for n in 1 2; do
    parallel --will-cite -k -j2 --pipe -N$n "$sflua" -m "$script" $args < "$tmp/paths" > "$tmp/par$n.jsonl" \
      || { echo "FAIL parallel --pipe -N$n ($args)"; fail=1; }
    if ! cmp -s "$tmp/one.jsonl" "$tmp/par$n.jsonl"; then
      echo "FAIL ($args): parallel -N$n's JSONL differs from one process's"
      diff "$tmp/one.jsonl" "$tmp/par$n.jsonl" | head -5; fail=1
    fi
  done
  lines=$(wc -l < "$tmp/one.jsonl")
  if [ "$lines" -lt "$#" ]; then echo "FAIL ($args): only $lines lines"; fail=1; fi
  echo "sflua -m ${args:-map}: $lines JSONL lines from $# captures, the same through GNU parallel"
done

# every line is JSON (python3's parser), each record as the script made it
if command -v python3 >/dev/null; then
  "$sflua" -m "$script" < "$tmp/paths" | python3 -c '
import json, sys
n = 0
for line in sys.stdin:
    r = json.loads(line); n += 1
    assert set(r) == {"file", "frame", "src", "dst", "proto", "len"}, r
print("python3 parsed", n, "records")' || { echo "FAIL: not JSON"; fail=1; }
fi

# a path that cannot be read: named, the rest mapped, status 1
printf '%s\n' "$1" "$tmp/missing.pcap" "$1" | "$sflua" -m "$script" > "$tmp/some.jsonl" 2> "$tmp/err"
rc=$?
single=$(printf '%s\n' "$1" | "$sflua" -m "$script" | wc -l)
if [ $rc -ne 1 ] || ! grep -q "missing.pcap" "$tmp/err" || [ "$(wc -l < "$tmp/some.jsonl")" -ne $((2 * single)) ]; then
  echo "FAIL: a missing capture: status $rc, stderr: $(cat "$tmp/err")"; fail=1
fi
exit $fail
