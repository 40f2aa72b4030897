-- Errors raised by the stdlib (codecs, files, show/ls, options) point at
-- the caller's line, never at sflua's own files: each case below is a
-- one-line function, and its error must name that line of this file (no
-- "return f()": a tail call leaves no line to point at).
local sf = require("stackforge")
local h = require("helpers")

local tmp = os.tmpname()
os.remove(tmp)
local missing = tmp .. "/no/such/dir/out"

-- the "chunkname:line:" a one-line function's error must start with
local function expected_where(f)
  local info = debug.getinfo(f, "S")
  return ("%s:%d:"):format(info.short_src, info.linedefined)
end

-- every case of an 'it' is tried; the failures are reported together
local failures

local function check(f)
  local ok, msg = pcall(f)
  local where = expected_where(f)
  msg = tostring(msg)
  if ok then
    failures[#failures + 1] = where .. " raised no error"
  elseif msg:sub(1, #where) ~= where or msg:find("stackforge/[%w_]+%.lua:%d+:") then
    failures[#failures + 1] = ("%s expected, got: %s"):format(where, msg)
  end
  return msg
end

describe("errors raised in the stdlib point at the caller's line", function()
  before_each(function() failures = {} end)
  after_each(function() assert.same({}, failures) end)

  it("TCP, IP and IPv6 option codecs", function()
    check(function() local _ = sf.TCP{options = {{"Bogus", 1}}} end)
    check(function() local _ = sf.TCP{options = {{"MSS", {}}}} end)
    check(function() local _ = sf.TCP{options = {"MSS"}} end)
    check(function() local _ = sf.TCP{options = 5} end)
    check(function() local p = sf.IP() / sf.TCP(); p[sf.TCP].options = {{"Bogus"}} end)
    check(function() local p = sf.IP() / sf.TCP(); p.options = {{"Nope"}} end)
    check(function() local _ = sf.IP{options = {{"Bogus"}}} end)
    check(function() local _ = sf.IP{options = {{"RR", {"not-an-ip"}}}} end)
    check(function() local _ = sf.IPv6ExtHdrHopByHop{options = {{"Bogus"}}} end)
    check(function() local _ = sf.IPv6ExtHdrDestOpt{options = {{"HAO", {}}}} end)
    check(function() local _ = sf.IPv6ExtHdrRouting{addresses = {"1.2.3.4"}} end)
    local m = check(function() local _ = sf.TCP{options = {{"Bogus", 1}}} end)
    assert.truthy(m:find("unknown TCP option 'Bogus'", 1, true))
  end)

  it("files opened by extract_flows, anonymize_pcap and the flow writers", function()
    local pcap = h.path("http.pcap")
    check(function() local _ = sf.extract_flows(missing) end)
    check(function() local _ = sf.extract_flows(h.path("SOURCES")) end)
    check(function() local _ = sf.extract_flows(missing, {on_flow = function() end}) end)
    check(function() local _ = sf.anonymize_pcap(missing, tmp .. ".pcap") end)
    check(function() local _ = sf.anonymize_pcap(pcap, missing) end)
    check(function() local _ = sf.write_flows({}, missing) end)
    check(function() local _ = sf.FlowWriter(missing) end)
    local m = check(function() local _ = sf.extract_flows(missing) end)
    assert.truthy(m:find(missing, 1, true))
  end)

  it("show, hexdump and ls", function()
    check(function() local _ = sf.show(5) end)
    check(function() local _ = sf.show({}) end)
    check(function() local _ = sf.hexdump(5) end)
    check(function() local _ = sf.hexdump({}) end)
    check(function() local _ = sf.ls(5) end)
    check(function() local _ = sf.ls(true) end)
    local m = check(function() local _ = sf.show(5) end)
    assert.truthy(m:find("bad argument #1 to 'show'", 1, true))
  end)

  it("flow options, directly and through extract_flows", function()
    local pcap = h.path("http.pcap")
    check(function() local _ = sf.FlowConfig{udp_timeout = "x"} end)
    check(function() local _ = sf.FlowConfig{verbose = 1} end)
    check(function() local _ = sf.FlowConfig{spill_dir = 1} end)
    check(function() local _ = sf.FlowConfig{bogus = 1} end)
    check(function() local _ = sf.extract_flows(pcap, {config = {udp_timeout = -1}}) end)
    check(function() local _ = sf.extract_flows(pcap, {config = {bogus = 1}}) end)
    check(function() local _ = sf.extract_flows(pcap, {bogus = 1}) end)
    check(function() local _ = sf.extract_flows_from_packets({}, {config = {verbose = "yes"}}) end)
    check(function() local _ = sf.write_flows({}, missing, {format = "xml"}) end)
    check(function() local _ = sf.AnonymizationPolicy{bogus = 1} end)
    check(function() local _ = sf.AnonymizationPolicy.ml_optimized{bogus = 1} end)
  end)

  it("bindings of custom layers", function()
    check(function() local _ = sf.bind_layers(sf.UDP, "NoSuchLayer", {dport = 1}) end)
    check(function() local _ = sf.bind_layers(sf.UDP, sf.TCP, {bogus = 1}) end)
    check(function() local _ = sf.bind_layers(sf.UDP, sf.TCP, {dport = "x"}) end)
    check(function() local _ = sf.bind_heuristic(sf.UDP, "NoSuchLayer", function() end) end)
    check(function() local _ = sf.split_layers(sf.UDP, "NoSuchLayer", {dport = 1}) end)
  end)

  it("live traffic: options, packets, filters, routes (no privilege needed)", function()
    local pcap = h.path("http.pcap")
    check(function() local _ = sf.sniff{bogus = 1} end)
    check(function() local _ = sf.sniff{count = -1} end)
    check(function() local _ = sf.sniff{offline = 5} end)
    check(function() local _ = sf.sniff{offline = missing} end)
    check(function() local _ = sf.sniff{offline = pcap, filter = "tcp port x"} end)
    check(function() local _ = sf.Sniffer{bogus = 1} end)
    check(function() local _ = sf.Sniffer{}:next() end)
    check(function() local _ = sf.AsyncSniffer{offline = pcap} end)
    check(function() local _ = sf.send("x") end)
    check(function() local _ = sf.send(sf.Ether() / sf.IP()) end)
    check(function() local _ = sf.sendp(sf.Ether(), {count = 1.5}) end)
    check(function() local _ = sf.sr({sf.IP()}, {retry = "x"}) end)
    check(function() local _ = sf.sr1(sf.IP(), {timeout = -1}) end)
    check(function() local _ = sf.srp1(5) end)
    check(function() local _ = sf.srloop(sf.IP(), {bogus = 1}) end)
    check(function() local _ = sf.traceroute(5) end)
    check(function() local _ = sf.arping("not an address") end)
    check(function() local _ = sf.validate_filter("tcp port x") end)
    check(function() local _ = sf.get_if_hwaddr("nosuch0") end)
    check(function() local _ = sf.answers(1, 2) end)
    check(function() sf.conf.bogus = 1 end)
    check(function() local _ = sf.conf.route:get("no address") end)
  end)
end)
