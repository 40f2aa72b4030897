#!/usr/bin/env bash
# Set everything up and run an example on a bundled capture:
# installs the Debian packages (scripts/setup.sh), builds into build/, and
# runs examples/quickstart.lua on tests/data/http.pcap.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
build/sflua examples/quickstart.lua tests/data/http.pcap
