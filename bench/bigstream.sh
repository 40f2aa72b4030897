#!/usr/bin/env bash
# bigstream.sh: peak RSS of one MB-megabyte TCP stream (bench/gen_stream.lua,
# default 300) read from a pipe with memory_budget = 64 MiB, when on_flow
# takes it whole (conv.reassembled_forward) and in chunks (conv:chunks).
# Usage: bash bench/bigstream.sh [BUILD_DIR] [MB]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
mb=${2:-300}
for how in whole chunks; do
  "$build/sflua" "$here/gen_stream.lua" - "$mb" | HOW=$how "$build/sflua" -e '
    local sf = require("stackforge")
    local function hwm()
      for l in io.lines("/proc/self/status") do
        local v = l:match("^VmHWM:%s+(%d+)") if v then return v / 1024 end
      end
    end
    local how, n, t0, before = os.getenv("HOW"), 0, os.clock(), hwm()
    sf.extract_flows("-", {config = sf.FlowConfig{memory_budget = 64 << 20}, on_flow = function(c)
      if c.protocol ~= "TCP" then return end
      if how == "whole" then n = n + #c.reassembled_forward
      else for chunk in c:chunks("forward") do n = n + #chunk end end
    end})
    print(("bigstream (%s): %d stream bytes through on_flow, peak RSS %.1f MiB (%.1f before), %.2f s CPU")
      :format(how, n, hwm(), before, os.clock() - t0))'
done
