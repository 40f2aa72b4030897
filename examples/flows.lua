-- flows.lua: a capture's conversations as a JSONL or CSV table.
--   sflua examples/flows.lua CAPTURE [OUT.jsonl|OUT.csv|-] [--udp-timeout=S]
--                            [--budget=MB] [--streams] [-v]
-- One row per conversation (TCP with reassembled stream lengths, UDP, ICMP,
-- ICMPv6, other IP protocols), streamed through on_flow so memory stays flat
-- however long the capture.  Read it with pandas.read_json(path, lines=True)
-- or DuckDB's read_json_auto / read_csv_auto.
local sf = require("stackforge")

local cap, out = arg[1], arg[2] or "-"
if not cap or cap == "-h" or cap == "--help" then
  io.stderr:write("usage: sflua examples/flows.lua CAPTURE [OUT.jsonl|OUT.csv|-] " ..
                  "[--udp-timeout=S] [--budget=MB] [--streams] [-v]\n")
  os.exit(cap and 0 or 2)
end

local cfg, opts = {}, {}
for i = 3, #arg do
  local a = arg[i]
  local k, v = a:match("^%-%-([%w-]+)=(.*)$")
  if k == "udp-timeout" then cfg.udp_timeout = tonumber(v)
  elseif k == "budget" then cfg.memory_budget = math.tointeger(tonumber(v) * 1024 * 1024)
  elseif a == "--streams" then opts.streams = true
  elseif a == "-v" then cfg.verbose = true
  else io.stderr:write("flows.lua: unknown argument " .. a .. "\n") os.exit(2) end
end
if out:match("%.csv$") then opts.format = "csv" end
cfg.store_packet_indices = false  -- a table for analysis: counts, not indices

-- on_flow hands each conversation to the writer as it ends, so nothing
-- piles up in memory.
local w <close> = sf.FlowWriter(out, opts)
sf.extract_flows(cap, {config = sf.FlowConfig(cfg), on_flow = function(c) w:write(c) end})
if out ~= "-" then io.stderr:write(("flows.lua: %d conversations -> %s\n"):format(w.count, out)) end
