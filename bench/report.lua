-- report.lua: medians and ratios from the "RESULT <name> <pkts/s>" lines
-- that run.sh collected.  Usage: lua report.lua RAWLOG OUT [HEADER-FILE]
-- Prints the table and writes it, with every run's figures, to OUT.
local rawlog, out, header = arg[1], arg[2], arg[3]

local runs, order = {}, {}
local checks, corder = {}, {}  -- "CHECK <name> <value>": sums that must agree
for line in io.lines(rawlog) do
  local name, v = line:match("^RESULT (%S+) ([%d.]+)")
  if name then
    if not runs[name] then runs[name] = {}; order[#order + 1] = name end
    table.insert(runs[name], tonumber(v))
  end
  local cname, cv = line:match("^CHECK (%S+) (.-)%s*$")
  if cname then
    if not checks[cname] then corder[#corder + 1] = cname; checks[cname] = {} end
    checks[cname][cv] = true
  end
end

local function median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  return n % 2 == 1 and s[(n + 1) // 2] or (s[n // 2] + s[n // 2 + 1]) / 2
end
local med = {}
for name, t in pairs(runs) do med[name] = median(t) end

local function num(v)  -- 1234567 -> "1,234,567"
  if not v then return "n/a" end
  local s = ("%.0f"):format(v)
  return (s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end
local function ratio(a, b)
  if not (a and b) or b == 0 then return "n/a" end
  return a / b >= 10 and ("%.0fx"):format(a / b) or ("%.2fx"):format(a / b)
end
-- median over rounds of (a / b) measured in the same round: pairs the two
-- figures, so a neighbour's load spike hurts both sides of a ratio alike
local function paired(a, b)
  local ra, rb, t = runs[a], runs[b], {}
  if not (ra and rb) then return nil end
  for i = 1, math.min(#ra, #rb) do
    if rb[i] > 0 then t[#t + 1] = ra[i] / rb[i] end
  end
  return median(t)
end
local function pratio(a, b)
  local r = paired(a, b)
  if not r then return "n/a" end
  return r >= 10 and ("%.0fx"):format(r) or ("%.2fx"):format(r)
end

-- {sflua figure, description, goal (pkts/s or {anchor, factor}), anchors}
local rows = {
  {"lua_build_new", "(a) Lua: (Ether{..}/IP{..}/TCP{..}):bytes()", 1e6,
    {{"scapy_build_default", "Scapy bytes(Ether()/IP()/TCP())"},
     {"scapy_build_fields", "Scapy, same fields as sflua"}}},
  {"lua_build_template", "(a) Lua: p[TCP].sport = i; p:bytes()", 1e6,
    {{"scapy_build_default", "Scapy bytes(Ether()/IP()/TCP())"},
     {"scapy_build_template", "Scapy p[TCP].sport = i; bytes(p)"}}},
  {"lua_parse_dport", "(c) Lua: Packet(raw).dport over the mix", 1.5e6,
    {{"scapy_parse_dport", "Scapy Ether(raw).dport"},
     {"dpkt_parse_dport", "dpkt Ethernet(raw).data.data.dport"}}},
  -- issue 4: custom protocols
  {"lua_parse_custom", "(4) Lua: Packet(raw).seq, 4-field custom/UDP", 1e6,
    {{"lua_parse_dport", "sflua built-in parse (same run)"}}},
  {"lua_parse_dport_custom_bound", "(4) Lua: the mix again, custom bound to UDP", nil,
    {{"lua_parse_dport", "before any custom protocol"}}},
  {"c_dissect_sfcore", "(b) C: sf_dissect, every layer, mix", {"c_dissect_libtins", 2},
    {{"c_dissect_libtins", "libtins EthernetII(data, len) + PDUs"}}},
  -- issue 3, item 8: capture files (build/bench/traffic.pcap, gen_traffic.lua)
  {"lua_pcap_loop", "(8a) Lua: PcapReader, has_layer(TCP), dport", 1.5e6,
    {{"c_read_libpcap", "libpcap pcap_next_ex, bare (ceiling)"},
     {"dpkt_pcap_loop", "dpkt pcap.Reader + Ethernet..dport"},
     {"scapy_pcap_loop", "Scapy PcapReader (first 20k pkts)"}}},
  {"lua_pcap_count", "  info: Lua PcapReader loop, empty body", nil,
    {{"c_read_libpcap", "libpcap pcap_next_ex, bare (ceiling)"}}},
  {"c_read_sfcore", "  info: C sf_reader_next, bare", nil,
    {{"c_read_libpcap", "libpcap pcap_next_ex, bare (ceiling)"}}},
  {"c_read_dissect_sfcore", "  info: C sf_reader + sf_dissect + dport", nil,
    {{"c_read_libpcap", "libpcap pcap_next_ex, bare (ceiling)"}}},
  {"c_write_sfcore_mix", "(8b) C: sf_writer_write, capture's pkts", 3e6,
    {{"c_write_libpcap_mix", "libpcap pcap_dump, same packets"}}},
  {"c_write_sfcore_small", "(8b) C: sf_writer_write, 1M pkts <= 128 B", 3e6,
    {{"c_write_libpcap_small", "libpcap pcap_dump, same packets"}}},
  -- issue 6: anonymization (no external anchor: the goals are absolute)
  {"cpan_v4_repeated", "(6) Crypto-PAn, repeated IPv4 addresses", 5e6, {}},
  {"cpan_v4_distinct", "(6) Crypto-PAn, all-distinct IPv4", 5e5, {}},
  {"cpan_v6_distinct", "(6) Crypto-PAn, all-distinct IPv6", 5e5, {}},
  {"anonymize_pcap", "(6) anonymize_pcap, bench capture", 1e6, {}},
}

local lines = {}
local function put(fmt, ...) lines[#lines + 1] = fmt:format(...) end
local nruns = 0
for _, t in pairs(runs) do nruns = math.max(nruns, #t) end
put("Medians of %d runs, packets/s (CLOCK_MONOTONIC / time.perf_counter).", nruns)
put("ratio = median sflua / median anchor; paired = median over runs of the")
put("ratio within one run (robust to load that comes and goes; goals use it")
put("for ratios).")
put("")
put("%-44s %11s  %-38s %10s %7s %7s  %s", "benchmark", "sflua", "anchor",
    "anchor", "ratio", "paired", "goal")
put("%s", ("-"):rep(140))
for _, r in ipairs(rows) do
  local name, desc, goal, anchors = r[1], r[2], r[3], r[4]
  local v, goaltxt = med[name], ""
  if goal == nil then
    goaltxt = ""
  elseif type(goal) == "number" then
    goaltxt = (">= %s: %s"):format(num(goal), not v and "n/a" or v >= goal and "met" or "MISSED")
  else
    local a = med[goal[1]]
    local pr = paired(name, goal[1])
    goaltxt = (">= %gx %s: %s"):format(goal[2], goal[1]:match("[^_]+$"),
      not (pr and a) and "n/a" or pr >= goal[2] and "met" or "MISSED")
  end
  for i, a in ipairs(anchors) do
    put("%-44s %11s  %-38s %10s %7s %7s  %s", i == 1 and desc or "",
        i == 1 and num(v) or "", a[2], num(med[a[1]]), ratio(v, med[a[1]]),
        pratio(name, a[1]), i == 1 and goaltxt or "")
  end
end
put("")
put("Every run (packets/s):")
for _, name in ipairs(order) do
  local t = {}
  for i, v in ipairs(runs[name]) do t[i] = num(v) end
  put("  %-22s %s", name, table.concat(t, "  "))
end

if #corder > 0 then
  put("")
  put("Checks (dport sums, byte counts; one value per name unless a run differed):")
  for _, name in ipairs(corder) do
    local vs = {}
    for v in pairs(checks[name]) do vs[#vs + 1] = v end
    table.sort(vs)
    put("  %-22s %s", name, table.concat(vs, " | "))
  end
end

local text = table.concat(lines, "\n") .. "\n"
io.write(text)
local f = assert(io.open(out, "w"))
if header then
  local h = io.open(header)
  if h then f:write(h:read("a"), "\n"); h:close() end
end
f:write(text)
f:close()
