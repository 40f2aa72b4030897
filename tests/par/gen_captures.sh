#!/bin/sh
# tests/par/gen_captures.sh SFLUA BENCHDIR OUTDIR [NAME...]: the bench
# generators' captures at a few MB each (several of core/io/split.c's 4 MB
# chunks), made once per build directory; prints their paths (only the
# NAMEs given, if any).
set -e
sflua=$1 bench=$2 out=$3
shift 3
want=" $* "
mkdir -p "$out"
gen() {  # name generator [args...]
  name=$1 script=$2
  shift 2
  [ "$want" = "  " ] || case $want in *" $name "*) ;; *) return 0 ;; esac
  if [ ! -s "$out/$name" ]; then  # from the source tree, as bench/ runs them
    (cd "$bench/.." && "$sflua" "$bench/$script" "$out/$name.tmp" "$@" >"$out/$name.log" 2>&1) ||
      { echo "gen_captures.sh: $script failed:" >&2; cat "$out/$name.log" >&2; exit 1; }
    mv "$out/$name.tmp" "$out/$name"
  fi
  echo "$out/$name"
}
gen traffic.pcap gen_traffic.lua 30000p 3
gen dns.pcap gen_dns.lua 60000
gen tls.pcap gen_tls.lua 20000
gen stream.pcap gen_stream.lua 12
gen synflood.pcap gen_synflood.lua 60000 20
gen beacons.pcap gen_beacons.lua 20000
