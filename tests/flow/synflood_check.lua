-- synflood_check.lua: extract_flows over bench/gen_synflood.lua's output
-- under a memory budget, then check what must hold and report peak RSS.
-- Usage: sflua synflood_check.lua CAPTURE|- BUDGET_MIB NSYN NLIVE ROUNDS [list]
--   Checks: every SYN and live conversation is delivered once (on_flow) or
--   listed; the SYN ones are Evicted or Active, and some were evicted when
--   they could not fit; every live conversation is whole (Closed, every
--   packet, every stream byte, none Evicted); peak RSS (VmHWM) stays under
--   budget + 10% above what the process held before the extraction.
-- Exit status 0 when all hold; prints one line of figures either way.
local sf = require("stackforge")
local cap, mib, nsyn, nlive, rounds, mode = arg[1], tonumber(arg[2]), tonumber(arg[3]),
  tonumber(arg[4]), tonumber(arg[5]), arg[6]
assert(cap and mib and nsyn and nlive and rounds,
  "usage: synflood_check.lua CAPTURE|- BUDGET_MIB NSYN NLIVE ROUNDS [list]")

local function vm(field)
  for l in io.lines("/proc/self/status") do
    local v = l:match("^" .. field .. ":%s+(%d+) kB")
    if v then return tonumber(v) / 1024 end
  end
end

local base = vm("VmHWM")
local budget = math.floor(mib * 1048576)
local syn, evicted, whole, live, bad = 0, 0, 0, 0, {}
local function check(c)
  if c.dst_port == 443 and c.total_packets == 1 then
    syn = syn + 1
    if c.status == "Evicted" then evicted = evicted + 1
    elseif c.status ~= "Active" then bad[#bad + 1] = "SYN conversation " .. c.status end
    return
  end
  live = live + 1
  if c.status == "Closed" and c.forward_packets == rounds + 4 and c.reverse_packets == rounds + 2
     and #c.reassembled_forward == rounds * 100 and #c.reassembled_reverse == rounds * 100 then
    whole = whole + 1
  elseif #bad < 5 then
    bad[#bad + 1] = ("live %s:%d %s, %d/%d packets"):format(c.src_addr, c.src_port, c.status,
      c.forward_packets, c.reverse_packets)
  end
end
local cfg = sf.FlowConfig{memory_budget = budget}
local t0 = os.clock()
if mode == "list" then
  for _, c in ipairs(sf.extract_flows(cap, {config = cfg})) do check(c) end
else
  sf.extract_flows(cap, {config = cfg, on_flow = check})
end
local secs = os.clock() - t0
local peak = vm("VmHWM")
local limit = base + mib * 1.1
if syn ~= nsyn then bad[#bad + 1] = ("%d SYN conversations, want %d"):format(syn, nsyn) end
if whole ~= nlive then bad[#bad + 1] = ("%d of %d live conversations whole"):format(whole, nlive) end
if mode ~= "list" and peak > limit then
  bad[#bad + 1] = ("peak RSS %.1f MiB over %.1f (budget + 10%% + %.1f MiB before)"):format(peak, limit, base)
end
print(("synflood (%s): %d SYN conversations (%d evicted), %d/%d live whole; budget %d MiB, "
  .. "peak RSS %.1f MiB (%.1f before the extraction; %.0f%% of the budget above it), %.2f s CPU")
  :format(mode or "on_flow", syn, evicted, whole, nlive, mib, peak, base,
    100 * (peak - base) / mib, secs))
for _, b in ipairs(bad) do print("FAIL " .. b) end
os.exit(#bad == 0 and 0 or 1)
