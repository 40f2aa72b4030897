-- pcap_loop.lua: the Lua capture-reading benchmarks.
-- Usage: sflua bench/pcap_loop.lua CAPTURE [SECONDS]   (run.sh sets it up)
-- One warm-up pass, then whole passes over CAPTURE until SECONDS (default
-- 1.5) of CLOCK_MONOTONIC time (benchclock) have passed.  Prints
-- "RESULT <name> <packets/s>" and "CHECK <name> <sum>".
local sf = require("stackforge")
local PcapReader, TCP = sf.PcapReader, sf.TCP

local path = assert(arg[1], "usage: pcap_loop.lua CAPTURE [SECONDS]")
local secs = tonumber(arg[2] or 1.5)
local ok, clock = pcall(require, "benchclock")
local now = ok and clock.now or os.clock
if not ok then io.stderr:write("pcap_loop: benchclock not found, using os.clock (CPU time)\n") end

local function measure(name, pass)
  pass()  -- warm-up: the file in the page cache
  collectgarbage()
  local done, t0, el, check = 0, now(), 0, nil
  repeat
    local k, c = pass()
    done, check = done + k, c
    el = now() - t0
  until el >= secs
  print(("RESULT %s %.0f"):format(name, done / el))
  print(("CHECK %s %d"):format(name, check))
  io.stdout:flush()
end

-- the loop of issue 3, item 8, as written there
measure("lua_pcap_loop", function()
  local n, k = 0, 0
  for p in PcapReader(path) do
    k = k + 1
    if p:has_layer(TCP) then n = n + p.dport end
  end
  return k, n
end)

-- the reader alone: a Packet per record, nothing else
measure("lua_pcap_count", function()
  local k = 0
  for _ in PcapReader(path) do k = k + 1 end
  return k, k
end)
