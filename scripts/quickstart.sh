#!/usr/bin/env bash
# Set everything up and run an example on a bundled capture: installs the
# Debian packages that building and running need (scripts/setup.sh; the
# test tools are scripts/test.sh's), builds sflua into build/, and runs
# examples/quickstart.lua on tests/data/http.pcap.  The build is quiet
# unless it fails: then its output is shown.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p build
log=build/quickstart-build.log
if ! { cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
       cmake --build build -j"$(nproc)" --target sflua; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "quickstart: the build failed (output above, also in $log)" >&2
  exit 1
fi
build/sflua examples/quickstart.lua tests/data/http.pcap
