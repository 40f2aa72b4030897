-- flow_bench.lua: flow extraction speed, with reassembly, over a capture.
-- Usage: sflua bench/flow_bench.lua CAPTURE [RUNS] [on_flow]
--   on_flow: stream conversations to a callback instead of a list
-- Prints packets/s (CPU time, best and median of RUNS) and the flow count.
local sf = require("stackforge")
local cap, runs, mode = arg[1], tonumber(arg[2] or 5), arg[3]
assert(cap, "usage: flow_bench.lua CAPTURE [RUNS] [on_flow]")
local npkts = 0
for _ in sf.PcapReader(cap) do npkts = npkts + 1 end
local times, nflows = {}, 0
for r = 1, runs do
  collectgarbage()
  local t0 = os.clock()
  if mode == "on_flow" then
    nflows = 0
    sf.extract_flows(cap, {on_flow = function() nflows = nflows + 1 end})
  else
    nflows = #sf.extract_flows(cap)
  end
  times[r] = os.clock() - t0
end
table.sort(times)
print(("flow_bench: %s: %d packets, %d conversations; %.0f pkt/s best, %.0f pkt/s median (%d runs, %s)")
  :format(cap, npkts, nflows, npkts / times[1], npkts / times[(runs + 1) // 2], runs, mode or "list"))
