-- check_truth.lua: every TCP stream extract_flows finds in a capture of
-- bench/gen_traffic.lua against the generator's own ground truth (--truth).
-- Usage: sflua check_truth.lua CAPTURE TRUTH [--quiet]
-- Prints the stream score (streams equal to what the application sent,
-- of all the streams of conversations that ended before the capture did),
-- how many lost their beginning or more, and the conversations whose
-- initiator came out wrong; exit status 0 when every stream is equal and
-- every initiator right.
local sf = require("stackforge")
local here = arg[0]:match("^(.*)/") or "."
local stream_hash = dofile(here .. "/../../bench/stream_hash.lua")
local cap, truth_path = arg[1], arg[2]
assert(cap and truth_path, "usage: check_truth.lua CAPTURE TRUTH")

local function key(a, ap, b, bp, vlan) return ("%s:%d>%s:%d/%s"):format(a, ap, b, bp, vlan or "-") end

-- our conversations by (src, dst) in both orientations
local ours = {}
for _, c in ipairs(sf.extract_flows(cap)) do
  if c.protocol == "TCP" then
    local vlan = c.vlan and c.vlan[#c.vlan]
    local k = key(c.src_addr, c.src_port, c.dst_addr, c.dst_port, vlan)
    ours[k] = ours[k] or {}
    table.insert(ours[k], c)
  end
end

local streams, equal, prefix_lost, other, wrong_init, missing = 0, 0, 0, 0, 0, 0
local bad = {}
local function judge(name, got, want_len, want_hash)
  streams = streams + 1
  if #got == want_len and stream_hash(got) == want_hash then
    equal = equal + 1
    return
  end
  if #got < want_len then prefix_lost = prefix_lost + 1 else other = other + 1 end
  if #bad < 5 then bad[#bad + 1] = ("%s: %d bytes, want %d"):format(name, #got, want_len) end
end

for line in io.lines(truth_path) do
  local t = {}
  for k, v in line:gmatch('"([%w_]+)":"?([^,"}]*)"?') do t[k] = v end
  for _, k in ipairs{"cport", "sport", "fwd_len", "rev_len", "vlan"} do t[k] = math.tointeger(tonumber(t[k])) end
  local fwd = key(t.client, t.cport, t.server, t.sport, t.vlan)
  local rev = key(t.server, t.sport, t.client, t.cport, t.vlan)
  local c, swapped = ours[fwd] and table.remove(ours[fwd], 1), false
  if not c then
    c, swapped = ours[rev] and table.remove(ours[rev], 1), true
  end
  if not c then
    missing = missing + 1
    if #bad < 5 then bad[#bad + 1] = "no conversation " .. fwd end
  else
    if swapped then wrong_init = wrong_init + 1 end
    local to_server = swapped and c.reassembled_reverse or c.reassembled_forward
    local to_client = swapped and c.reassembled_forward or c.reassembled_reverse
    judge(fwd, to_server, t.fwd_len, t.fwd_hash)
    judge(rev, to_client, t.rev_len, t.rev_hash)
  end
end

print(("%s: %d/%d TCP streams equal the generator's (%.2f%%); %d short, %d otherwise "
  .. "different; %d conversations with the initiator wrong, %d not found")
  :format(cap, equal, streams, streams > 0 and 100 * equal / streams or 0, prefix_lost, other,
    wrong_init, missing))
for _, b in ipairs(bad) do print("  " .. b) end
os.exit((equal == streams and wrong_init == 0 and missing == 0 and streams > 0) and 0 or 1)
