-- tests/par/equal.lua CAPTURE...: what the parallel drivers give equals
-- what one thread gives, on each capture (issue 15's "parallel results
-- equal single-threaded results on every bench capture"):
--   pool:map           the values, in capture order; a filter; reduce
--   extract_flows      every column of every conversation, streams and
--                      packet indices included, in the list's order and
--                      in on_flow's order (threads=2 and 3)
--   anonymize_pcap     the output's bytes (threads=2 and 3, a filter too)
--   rdpcap/PcapReader  with filter= and threads=: the same packets,
--                      frame numbers, times and bytes
-- The captures are the bench generators' (tests/par/CMakeLists.txt), a few
-- MB each so that they split into several chunks.  Exit status 1 and a
-- line per difference when anything differs.
local sf = require("stackforge")
local bad = 0

local function check(ok, what, cap)
  if not ok then
    bad = bad + 1
    print(("FAIL %s: %s"):format(cap, what))
  end
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  os.remove(path)
  return s
end

local function same_list(a, b)
  if #a ~= #b then return false, ("%d values vs %d"):format(#a, #b) end
  for i = 1, #a do
    if a[i] ~= b[i] then return false, ("value %d: %s vs %s"):format(i, tostring(a[i]), tostring(b[i])) end
  end
  return true
end

local FILTER = "tcp.port == 443 or dns or udp.length > 100 or wlan.fc.subtype == 8"
  .. " or (tcp.port == 80 and frame.len > 1000)"

-- pool:map against a loop over the capture
local function maps(cap, pool)
  local fn = "function(p) return p.frame_number .. ' ' .. p.wirelen .. ' ' .. p:summary() end"
  local serial, filtered, total = {}, {}, 0
  local f = sf.DisplayFilter(FILTER)
  for p in sf.PcapReader(cap) do
    local v = p.frame_number .. " " .. p.wirelen .. " " .. p:summary()
    serial[#serial + 1] = v
    if f(p) then filtered[#filtered + 1] = v end
    total = total + p.wirelen
  end
  local ok, why = same_list(serial, pool:map(cap, fn))
  check(ok, "pool:map: " .. tostring(why), cap)
  ok, why = same_list(filtered, pool:map(cap, fn, {filter = FILTER}))
  check(ok, "pool:map{filter=}: " .. tostring(why), cap)
  local sum = pool:map(cap, "function(p) return p.wirelen end",
                       {reduce = "function(a, b) return a + b end"})
  check(sum == total, ("pool:map{reduce=}: %s vs %d"):format(tostring(sum), total), cap)
  return #serial
end

-- conversations as write_flows writes them, every column, and in the
-- list their streams (compared as they are: hex would cost more than the
-- check; read in on_flow they cost about 1 ms a conversation, threads or
-- not, so on_flow's order is checked by the columns)
local function flows_text(cap, opts, on_flow_order)
  local out, streams = os.tmpname(), {}
  local function keep(c)
    streams[#streams + 1] = (c.reassembled_forward or "") .. "|" .. (c.reassembled_reverse or "")
  end
  if on_flow_order then
    local w = sf.FlowWriter(out)
    local o = {on_flow = function(c) w:write(c) end}
    for k, v in pairs(opts) do o[k] = v end
    sf.extract_flows(cap, o)
    w:close()
  else
    local list = sf.extract_flows(cap, opts)
    sf.write_flows(list, out)
    for _, c in ipairs(list) do keep(c) end
  end
  return slurp(out) .. table.concat(streams, "\n")
end

-- the list on 3 threads, on_flow's order on 2
local function flows(cap)
  for n, order in pairs{[3] = false, [2] = true} do
    local one = flows_text(cap, {}, order)
    local many = flows_text(cap, {threads = n}, order)
    check(one == many, ("extract_flows{threads=%d}%s: %d vs %d bytes"):format(
      n, order and " on_flow" or "", #one, #many), cap)
  end
end

local POLICY = sf.AnonymizationPolicy{crypto_pan_key = ("k"):rep(32), hash_salt = ("s"):rep(32),
                                      timestamp_jitter_ms = 3, payload_truncate_bytes = 64}

local function anon_bytes(cap, opts)
  local out = os.tmpname() .. ".pcap"
  local st = sf.anonymize_pcap(cap, out, POLICY, opts)
  return slurp(out), st
end

-- all on 3 threads, the filter's on 2
local function anonymized(cap)
  for n, filter in pairs{[3] = false, [2] = FILTER} do
    local one, st1 = anon_bytes(cap, {filter = filter or nil})
    local many, st = anon_bytes(cap, {filter = filter or nil, threads = n})
    check(one == many and st.packets == st1.packets and st.bytes_out == st1.bytes_out
          and st.timestamps_clamped == st1.timestamps_clamped,
          ("anonymize_pcap{threads=%d%s}: %d vs %d bytes, %d vs %d packets"):format(
            n, filter and ", filter" or "", #one, #many, st1.packets, st.packets), cap)
  end
end

local function sig(p)
  return table.concat({p.frame_number, p.time_ns, p.wirelen, p.linktype, p:bytes()}, "|")
end

-- PcapReader whole, one packet alive at a time; rdpcap's list cut by
-- count= (the threads stopped early).  A long list of packets with many
-- layers each is slow to read fields from (Lua's finalizer list), so the
-- list stays short.
local function filtered_reads(cap)
  local one, many = {}, {}
  for p in sf.PcapReader(cap, {filter = FILTER}) do one[#one + 1] = sig(p) end
  for p in sf.PcapReader(cap, {filter = FILTER, threads = 3}) do many[#many + 1] = sig(p) end
  local ok, why = same_list(one, many)
  check(ok, "PcapReader{filter=, threads=3}: " .. tostring(why), cap)
  many = {}
  for _, p in ipairs(sf.rdpcap(cap, {filter = FILTER, threads = 2, count = 2000})) do
    many[#many + 1] = sig(p)
  end
  ok, why = same_list(table.move(one, 1, 2000, 1, {}), many)
  check(ok, "rdpcap{filter=, threads=2, count=2000}: " .. tostring(why), cap)
  return #one
end

local t0 = os.clock()
local function stage(name, cap)
  io.stderr:write(("  %s %s: %.1f s CPU\n"):format(cap:match("[^/]*$"), name, os.clock() - t0))
  t0 = os.clock()
end

local pool = sf.WorkerPool{threads = 2}
for _, cap in ipairs(arg) do
  local n = maps(cap, pool)
  stage("pool:map", cap)
  flows(cap)
  stage("extract_flows", cap)
  anonymized(cap)
  stage("anonymize_pcap", cap)
  local passed = filtered_reads(cap)
  stage("filtered reads", cap)
  print(("%s: %d packets (%d pass the filter): map, flows, anonymization and filtered reads checked")
    :format(cap:match("[^/]*$"), n, passed))
end
if bad > 0 then
  print(("%d differences"):format(bad))
  os.exit(1)
end
print("parallel results equal one thread's")
