#!/usr/bin/env bash
# synflood.sh: flow memory under a budget (issue 10 item 2).  A SYN flood of
# NSYN conversations with 100 live ones inside (bench/gen_synflood.lua),
# read from a pipe by extract_flows with memory_budget = BUDGET MiB and
# on_flow; tests/flow/synflood_check.lua checks every conversation and peak
# RSS (budget + 10% above the process before the extraction).  Then the
# same in list mode, for information (the list itself is the caller's).
# Usage: bash bench/synflood.sh [BUILD_DIR] [NSYN] [BUDGET_MIB]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
nsyn=${2:-2000000}
mib=${3:-64}
rounds=$(( (nsyn + 40000) / 20000 ))
check=$here/../tests/flow/synflood_check.lua
"$build/sflua" "$here/gen_synflood.lua" - "$nsyn" 100 2>/dev/null |
  "$build/sflua" "$check" - "$mib" "$nsyn" 100 "$rounds" 2>/dev/null
"$build/sflua" "$here/gen_synflood.lua" - "$nsyn" 100 2>/dev/null |
  "$build/sflua" "$check" - "$mib" "$nsyn" 100 "$rounds" list 2>/dev/null
