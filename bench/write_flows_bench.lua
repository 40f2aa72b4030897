-- write_flows_bench.lua: write_flows speed, JSONL and CSV, over a
-- capture's conversations (extracted once, outside the timing).
-- Usage: sflua bench/write_flows_bench.lua CAPTURE [RUNS]
-- Prints microseconds a conversation (CPU time, median and best of RUNS)
-- for each format; the output goes to a temporary file.
local sf = require("stackforge")
local cap, runs = arg[1], tonumber(arg[2] or 5)
assert(cap, "usage: write_flows_bench.lua CAPTURE [RUNS]")
local convs = sf.extract_flows(cap)
local tmp = os.tmpname()
for _, fmt in ipairs({"jsonl", "csv"}) do
  local times = {}
  for r = 1, runs do
    collectgarbage()
    local t0 = os.clock()
    sf.write_flows(convs, tmp, {format = fmt})
    times[r] = os.clock() - t0
  end
  table.sort(times)
  print(("write_flows_bench: %s: %d conversations, %s: %.2f us each median, %.2f best"
    .. " (%.3f s median, %d runs)"):format(cap, #convs, fmt,
    times[(runs + 1) // 2] / #convs * 1e6, times[1] / #convs * 1e6,
    times[(runs + 1) // 2], runs))
end
os.remove(tmp)
