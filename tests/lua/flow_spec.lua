-- flow_spec.lua: extract_flows and friends, one rule per test, on the
-- handcrafted cases of flow_cases.lua and on bundled captures.
local sf = require("stackforge")
local cases = require("flow_cases")

local DATA = os.getenv("SFLUA_TESTDATA") or "tests/data"

local function case(name)
  for _, c in ipairs(cases.cases()) do
    if c.name == name then return c.pkts end
  end
  error("no case " .. name)
end

-- run Lua code in a fresh sflua, returning what it printed on stderr
local function stderr_of(code)
  local bin = assert(os.getenv("SFLUA_BIN"), "SFLUA_BIN not set")
  local tmp = os.tmpname()
  local ok = os.execute(("%q -e %q 2>%q >/dev/null"):format(bin, code, tmp))
  local f = assert(io.open(tmp))
  local err = f:read("a")
  f:close()
  os.remove(tmp)
  return err, ok
end

local function flows(name, cfg)
  return sf.extract_flows_from_packets(case(name), {config = cfg and sf.FlowConfig(cfg)})
end

describe("extract_flows", function()
  it("matches tshark's conversations on http.pcap", function()
    local c = sf.extract_flows(DATA .. "/http.pcap")
    assert.equal(3, #c)
    local f = c[1]
    assert.equal("145.254.160.237", f.src_addr)
    assert.equal(3372, f.src_port)
    assert.equal("65.208.228.223", f.dst_addr)
    assert.equal(80, f.dst_port)
    assert.equal("TCP", f.protocol)
    assert.equal(16, f.forward_packets)
    assert.equal(1351, f.forward_bytes)
    assert.equal(18, f.reverse_packets)
    assert.equal(34, f.total_packets)
    assert.equal(479, #f.reassembled_forward)
    assert.equal(18364, #f.reassembled_reverse)
    assert.truthy(f.reassembled_forward:find("^GET /download.html HTTP/1.1"))
    assert.equal("Closed", f.status)
    assert.equal(0, f.packet_indices[1])
    assert.equal(34, #f.packet_indices)
    assert.equal("UDP", c[2].protocol)
    assert.is_nil(c[2].reassembled_forward)
    -- sorted by start time
    assert.is_true(c[1].start_time <= c[2].start_time and c[2].start_time <= c[3].start_time)
  end)

  it("reassembles DNS over TCP", function()
    local c = sf.extract_flows(DATA .. "/dns_tcp.pcap")
    assert.equal(1, #c)
    assert.equal(58, #c[1].reassembled_forward)
    assert.equal(226, #c[1].reassembled_reverse)
    assert.equal("Closed", c[1].status)
  end)

  it("takes a PcapReader or a list, and the two agree", function()
    local a = sf.extract_flows(DATA .. "/http.pcap")
    local b = sf.extract_flows_from_packets(sf.PcapReader(DATA .. "/http.pcap"))
    local l = sf.extract_flows_from_packets(sf.rdpcap(DATA .. "/http.pcap"))
    for i = 1, #a do
      for _, k in ipairs{"src_addr", "src_port", "total_bytes", "reassembled_reverse", "start_time"} do
        assert.equal(a[i][k], b[i][k])
        assert.equal(a[i][k], l[i][k])
      end
    end
  end)

  it("reads streams on first use, after the run is collected too", function()
    local c = sf.extract_flows(DATA .. "/http.pcap")
    collectgarbage(); collectgarbage()
    assert.equal(18364, #c[1].reassembled_reverse)
    assert.equal(c[1].reassembled_reverse, rawget(c[1], "reassembled_reverse"))  -- kept
    assert.equal(721, #c[3].reassembled_forward)
    c = nil
    collectgarbage(); collectgarbage()
  end)

  it("raises on a missing file and a damaged one", function()
    assert.has_error(function() sf.extract_flows("/nonexistent.pcap") end)
    assert.has_error(function() sf.extract_flows(DATA .. "/truncated_dns.pcap", {config = 3}) end)
  end)

  it("takes the reader's options: strict makes tshark-tolerated damage an error", function()
    local f = DATA .. "/802_15_4_beacon.pcap"  -- captured lengths above the snaplen
    assert.is_table(sf.extract_flows(f))
    local ok, err = pcall(function() local c = sf.extract_flows(f, {strict = true}); return c end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("strict=true", 1, true))
    assert.truthy(tostring(err):find("flow_spec.lua:%d+:"))
    assert.has_error(function() sf.extract_flows(f, {strictly = true}) end)
  end)

  it("says so when a stream's capture was cut short under it, not zeros", function()
    local copy = os.tmpname()
    local src = assert(io.open(DATA .. "/http.pcap", "rb"))
    local bytes = src:read("a")
    src:close()
    local out = assert(io.open(copy, "wb"))
    out:write(bytes)
    out:close()
    local c = sf.extract_flows(copy)    -- streams still refer to the mapped file
    os.execute(("truncate -s 100 %q"):format(copy))
    local ok, err = pcall(function() return c[1].reassembled_reverse end)
    os.remove(copy)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("cut short", 1, true), tostring(err))
  end)
end)

describe("FlowConfig", function()
  it("fills defaults", function()
    local c = sf.FlowConfig{udp_timeout = 30}
    assert.equal(30, c.udp_timeout)
    assert.equal(86400, c.tcp_established_timeout)
    assert.equal(5, c.tcp_half_open_timeout)
    assert.equal(120, c.tcp_time_wait_timeout)
    assert.equal(16 << 20, c.max_reassembly_buffer)
    assert.is_true(c.store_packet_indices)
    assert.is_nil(c.memory_budget)
  end)
  it("rejects unknown keys and bad values", function()
    assert.has_error(function() sf.FlowConfig{udp_timeot = 3} end)
    assert.has_error(function() sf.FlowConfig{udp_timeout = -1} end)
    assert.has_error(function() sf.FlowConfig{verbose = 1} end)
    assert.has_error(function() sf.FlowConfig{max_ooo_fragments = 1.5} end)
    assert.has_error(function() sf.extract_flows(DATA .. "/http.pcap", {confg = {}}) end)
  end)
  it("anonymizes every packet before keying it", function()
    local pol = sf.AnonymizationPolicy{crypto_pan_key = ("\0"):rep(32)}
    local seen
    local c = sf.extract_flows(DATA .. "/http.pcap", {anonymization = pol,
      on_packet = function(p) seen = seen or p[sf.IP].src end})
    local l = sf.extract_flows_from_packets(sf.rdpcap(DATA .. "/http.pcap"), {anonymization = pol})
    assert.equal(3, #c)
    assert.equal(sf.CryptoPan(("\0"):rep(32)):anonymize("145.254.160.237"), c[1].src_addr)
    assert.equal(c[1].src_addr, seen)              -- callbacks see the rewritten packet
    assert.equal(80, c[1].dst_port)                -- well-known ports kept
    assert.equal(c[1].src_addr, l[1].src_addr)     -- both entry points agree
    assert.equal(34, c[1].total_packets)
    assert.has_error(function() sf.extract_flows(DATA .. "/http.pcap", {anonymization = 3}) end)
  end)
  it("anonymizes packets parsed from their first protocol (Packet(raw, {proto=}))", function()
    local ipbytes = (sf.IP{src = "10.0.0.1", dst = "10.0.0.2"} / sf.UDP{sport = 1234, dport = 53} / "q"):bytes()
    local pkts = {sf.Packet(ipbytes, {proto = "IP"}), sf.Packet(ipbytes, {proto = "IP"})}
    local plain = sf.extract_flows_from_packets(pkts)
    local anon = sf.extract_flows_from_packets(pkts, {anonymization = sf.AnonymizationPolicy{}})
    assert.equal(1, #plain)
    assert.equal(1, #anon)
    assert.equal(2, anon[1].total_packets)
    assert.are_not.equal("10.0.0.1", anon[1].src_addr)
  end)
  it("leaves packet indices out when asked", function()
    local c = sf.extract_flows(DATA .. "/http.pcap", {config = sf.FlowConfig{store_packet_indices = false}})
    assert.is_nil(c[1].packet_indices)
  end)
  it("tracks max lengths when asked", function()
    local c = sf.extract_flows(DATA .. "/http.pcap",
      {config = {track_max_packet_len = true, track_max_flow_len = true}})
    assert.equal(1434, c[1].reverse_max_packet_len)
    assert.equal(c[1].total_bytes, c[1].max_flow_len)
  end)
end)

describe("flow rules", function()
  it("a whole conversation", function()
    local c = flows("basic")
    assert.equal(1, #c)
    assert.equal("10.0.0.1", c[1].src_addr)
    assert.equal("GET / HTTP/1.0\r\n\r\n", c[1].reassembled_forward)
    assert.equal(119, #c[1].reassembled_reverse)
    assert.equal("Closed", c[1].status)
    assert.equal("TIME_WAIT", c[1].tcp_state)
    assert.equal("CLOSED", c[1].tcp_state_reverse)
  end)

  it("mid-stream start: the first sender initiates, both streams reassemble", function()
    local c = flows("midstream")
    assert.equal(1, #c)
    assert.equal("10.0.0.2", c[1].src_addr)
    assert.equal(80, c[1].src_port)
    assert.equal("server first more", c[1].reassembled_forward)
    assert.equal("client data", c[1].reassembled_reverse)
    assert.equal("ESTABLISHED", c[1].tcp_state)
    assert.equal("Active", c[1].status)
  end)

  it("port reuse: a SYN on a closed tuple starts a new conversation", function()
    local c = flows("port_reuse")
    assert.equal(2, #c)
    assert.equal("first", c[1].reassembled_forward)
    assert.equal("second", c[2].reassembled_forward)
    assert.equal(7, c[1].total_packets)
    assert.equal(7, c[2].first_index)
  end)

  it("out of order, retransmitted and overlapping segments", function()
    local c = flows("ooo_retrans_overlap")
    assert.equal("AAAABBBBCCDD", c[1].reassembled_forward)
    assert.equal(0, c[1].dropped_segments)
  end)

  it("overlaps: tshark's Follow TCP Stream rule, byte for byte", function()
    -- tshark -z follow,tcp,raw of the same capture: client lines, then
    -- tab-indented server lines
    local fwd, rev = {}, {}
    for line in io.lines(DATA .. "/flows_overlap.follow") do
      local tab, hex = line:match("^(\t?)(%x+)$")
      if hex then
        local t = tab == "" and fwd or rev
        t[#t + 1] = hex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)
      end
    end
    local c = sf.extract_flows(DATA .. "/flows_overlap.pcap")
    assert.equal(1, #c)
    assert.equal("AAAAAAAAAAbbbbbFFFDDDDDDDDDCCCEEHHHHHHHHGGGGG", table.concat(fwd))
    assert.equal(table.concat(fwd), c[1].reassembled_forward)
    assert.equal(table.concat(rev), c[1].reassembled_reverse)
    assert.is_nil(c[1].gaps_forward)
  end)

  it("sequence wrap-around", function()
    local c = flows("wraparound")
    assert.equal(("A"):rep(200) .. ("B"):rep(200) .. ("C"):rep(200), c[1].reassembled_forward)
  end)

  it("VLAN and IPv6", function()
    local c = flows("vlan_ipv6")
    assert.same({10}, c[1].vlan)
    assert.equal(6, c[1].ip_version)
    assert.equal("2001:db8::1", c[1].src_addr)
    assert.equal("v6 data", c[1].reassembled_forward)
  end)

  it("IPv6 extension headers are walked to the transport", function()
    local c = flows("ipv6_ext")
    assert.equal(1, #c)
    assert.equal("TCP", c[1].protocol)
    assert.equal(80, c[1].dst_port)
    assert.equal("v6 ext", c[1].reassembled_forward)
  end)

  it("a missed SYN+ACK still reaches ESTABLISHED (no half-open timeout)", function()
    local c = cases.conn{t = 1, cport = 41000}
    c:send("c", "S")
    c.seq.s = c.seq.s + 1  -- the SYN+ACK the capture lost
    c:send("c", "A")
    c:send("s", "PA", "x")
    c.t = c.t + 30         -- longer than tcp_half_open_timeout
    c:send("c", "PA", "y")
    local r = sf.extract_flows_from_packets(c.pkts)
    assert.equal(1, #r)
    assert.equal(4, r[1].total_packets)
    assert.equal("ESTABLISHED", r[1].tcp_state)
  end)

  it("reset", function()
    local c = flows("reset")
    assert.equal("Reset", c[1].status)
    assert.equal("CLOSED", c[1].tcp_state)
  end)

  it("UDP idle past udp_timeout splits the conversation", function()
    local c = flows("udp_split")
    assert.equal(2, #c)
    assert.equal("TimedOut", c[1].status)
    assert.equal(2, c[1].total_packets)
    assert.equal(1, c[1].reverse_packets)
    assert.equal(1, c[2].total_packets)
    assert.equal(1, #flows("udp_split", {udp_timeout = 1000}))
  end)

  it("ICMPv6 and ICMP echo correlate by identifier", function()
    local c = flows("icmp_echo")
    assert.equal(2, #c)
    local e6, e4 = c[1], c[2]
    assert.equal("ICMPv6", e6.protocol)
    assert.equal("2001:db8::10", e6.src_addr)
    assert.equal(0x42, e6.icmp_identifier)
    assert.equal(3, e6.icmp_request_count)
    assert.equal(2, e6.icmp_reply_count)
    assert.equal(3, e6.icmp_last_seq)
    assert.equal(5, e6.total_packets)
    assert.equal("ICMP", e4.protocol)
    assert.equal(1, e4.icmp_request_count)
    assert.equal(1, e4.icmp_reply_count)
    assert.equal(9, e4.icmp_last_seq)
    assert.is_nil(e4.src_port)
  end)

  it("an echo reply seen first still makes the requester the source", function()
    local p = case("icmp_echo")
    local c = sf.extract_flows_from_packets({p[2], p[3]})
    assert.equal("2001:db8::10", c[1].src_addr)
  end)

  it("other IP protocols become Other flows", function()
    local c = flows("other")
    assert.equal(1, #c)
    assert.equal("Other", c[1].protocol)
    assert.equal(47, c[1].ip_proto)
    assert.equal(2, c[1].total_packets)
  end)

  it("IPv4 fragments are made whole; a datagram never whole is an Other flow", function()
    local first = cases.at(1, sf.Ether() / sf.IP{src = "10.2.0.1", dst = "10.2.0.2", id = 9, flags = "MF"} /
                              sf.UDP{sport = 5, dport = 6, len = 40} / ("a"):rep(16))
    local later = cases.at(2, sf.Ether() / sf.IP{src = "10.2.0.1", dst = "10.2.0.2", id = 9, frag = 3, proto = 17} /
                              ("b"):rep(16))
    local c = sf.extract_flows_from_packets({first, later})
    assert.equal(1, #c)
    assert.equal("UDP", c[1].protocol)
    assert.equal(1, c[1].total_packets)
    assert.same({0, 1}, c[1].packet_indices)
    assert.equal(#first + #later, c[1].total_bytes)
    c = sf.extract_flows_from_packets({later})  -- its first fragment never came
    assert.equal(1, #c)
    assert.equal("Other", c[1].protocol)
    assert.equal(17, c[1].ip_proto)
    assert.is_nil(c[1].src_port)
    assert.is_nil(c[1].icmp_type)
  end)

  it("SYN flood: half-open conversations time out", function()
    local c = flows("syn_flood")
    assert.equal(51, #c)
    for i = 1, 50 do
      assert.equal("TimedOut", c[i].status)
      assert.equal("SYN_SENT", c[i].tcp_state)
      assert.equal("LISTEN", c[i].tcp_state_reverse)
    end
  end)

  it("endless out-of-order: a hole never filled is a gap, the data after it kept", function()
    -- past max_ooo_fragments held segments the hole is skipped at once
    local c = flows("endless_ooo", {max_ooo_fragments = 100})
    assert.equal(3000, #c[1].reassembled_forward)
    assert.same({{offset = 0, length = 10}}, c[1].gaps_forward)
    assert.is_nil(c[1].gaps_reverse)
    assert.equal(0, c[1].dropped_segments)
    -- under the cap, when the conversation ends
    local d = flows("endless_ooo")
    assert.equal(c[1].reassembled_forward, d[1].reassembled_forward)
    assert.same({{offset = 0, length = 10}}, d[1].gaps_forward)
  end)

  it("max_reassembly_buffer cuts a stream without a budget, spills it with one", function()
    local c = flows("wraparound", {max_reassembly_buffer = 450})
    assert.equal(400, #c[1].reassembled_forward)
    assert.equal(1, c[1].dropped_segments)
    local all = flows("wraparound")
    local s = flows("wraparound", {max_reassembly_buffer = 450, memory_budget = 1 << 20})
    assert.equal(600, #s[1].reassembled_forward)
    assert.equal(all[1].reassembled_forward, s[1].reassembled_forward)
    assert.equal(0, s[1].dropped_segments)
  end)

  it("warns on stderr, verbose or not, naming the option that helps", function()
    local err = stderr_of([[
      package.path = "tests/lua/?.lua;" .. package.path
      local sf = require("stackforge")
      for _, c in ipairs(require("flow_cases").cases()) do
        if c.name == "wraparound" then
          sf.extract_flows_from_packets(c.pkts, {config = {max_reassembly_buffer = 450}})
        elseif c.name == "endless_ooo" then
          sf.extract_flows_from_packets(c.pkts, {config = {max_ooo_fragments = 100}})
        end
      end]])
    assert.truthy(err:find("1 TCP segments dropped: their streams passed max_reassembly_buffer (450 bytes); "
      .. "tip: set memory_budget so long streams spill to disk instead", 1, true), err)
    assert.truthy(err:find("1 holes in TCP streams (10 bytes never seen) skipped as gaps", 1, true), err)
    assert.truthy(err:find("raise max_ooo_fragments", 1, true), err)
  end)
end)

describe("numeric options at the edge", function()
  it("math.huge timeouts mean never: udp_timeout keeps one conversation", function()
    local pkts = {}
    for i = 1, 3 do
      pkts[i] = cases.at(i * 1e6, sf.Ether() / sf.IP{src = "10.3.0.1", dst = "10.3.0.2"} /
                                  sf.UDP{sport = 7, dport = 8})
    end
    local c = sf.extract_flows_from_packets(pkts, {config = {udp_timeout = math.huge}})
    assert.equal(1, #c)
    assert.equal(3, c[1].total_packets)
    assert.equal(2e6, c[1].duration)
    c = sf.extract_flows_from_packets(pkts, {config = {udp_timeout = 1e300}})  -- as good as never
    assert.equal(1, #c)
    assert.equal(3, #sf.extract_flows_from_packets(pkts))                       -- 120 s: split
  end)

  it("limits past what the engine counts, or math.huge, mean no limit", function()
    -- 1500 segments held past a hole that fills at the end: a cap of 0
    -- would skip the hole at once, and the late segment would be dropped
    local c = cases.conn{t = 1, cport = 40200}
    c:handshake()
    local base = c.seq.c
    for i = 1, 1500 do c:frame("c", "PA", "abcdefghij", base + i * 10) end
    c:frame("c", "PA", "0123456789", base)
    for _, cap in ipairs{1 << 32, math.huge, (1 << 63) - 1} do
      local r = sf.extract_flows_from_packets(c.pkts, {config = {max_ooo_fragments = cap}})
      assert.equal(15010, #r[1].reassembled_forward)
      assert.is_nil(r[1].gaps_forward)
      assert.equal(0, r[1].dropped_segments)
    end
    local all = sf.extract_flows_from_packets(c.pkts, {config = {max_ooo_fragments = math.huge,
      max_reassembly_buffer = math.huge, memory_budget = math.huge, progress_interval = math.huge}})
    assert.equal(15010, #all[1].reassembled_forward)
  end)

  it("NaN, negatives, fractions and wrong types are errors naming the field", function()
    for _, bad in ipairs{
      {udp_timeout = 0 / 0, "FlowConfig.udp_timeout: expected a non-negative number, got "},
      {reorder_window = -1, "FlowConfig.reorder_window: expected a non-negative number, got -1"},
      {fragment_timeout = "1", 'FlowConfig.fragment_timeout: expected a non-negative number, got "1"'},
      {max_ooo_fragments = 1.5, "FlowConfig.max_ooo_fragments: expected a non-negative integer, "
        .. "or math.huge for no limit, got 1.5"},
      {memory_budget = -math.huge, "FlowConfig.memory_budget: expected a non-negative integer, "
        .. "or math.huge for no limit, got -inf"},
    } do
      local msg = table.remove(bad)
      local ok, err = pcall(sf.FlowConfig, bad)
      assert.is_false(ok)
      assert.truthy(err:find(msg, 1, true), err)
    end
  end)

  it("TCP behind more IPv6 extension headers than the dissector's layers", function()
    local function conv(n, data)
      local ext = ("\60\0\1\4\0\0\0\0"):rep(n - 1) .. "\6\0\1\4\0\0\0\0"
      local tcp = sf.TCP{sport = 1234, dport = 80, flags = "PA", seq = 1000} / data
      local l4 = tcp:bytes()
      local ip6 = sf.IPv6{src = "2001:db8::1", dst = "2001:db8::2", nh = 60, plen = #ext + #l4}:bytes()
      return sf.Packet(sf.Ether{type = 0x86dd}:bytes() .. ip6 .. ext .. l4)
    end
    for _, n in ipairs{70, 1100, 7000} do
      local c = sf.extract_flows_from_packets({conv(n, "hello"), conv(n, "hello")})
      assert.equal(1, #c)
      assert.equal("TCP", c[1].protocol)
      assert.equal(1234, c[1].src_port)
      assert.equal(6, c[1].ip_proto)
      assert.equal("hello", c[1].reassembled_forward)
    end
  end)
end)

describe("IP fragments", function()
  local function by_src(convs)
    local t = {}
    for _, c in ipairs(convs) do t[c.src_addr .. "/" .. c.protocol] = c end
    return t
  end
  local function body(n, c)  -- make_frag.py's payloads
    local t = {}
    for i = 0, n - 1 do t[#t + 1] = string.char((c + i) % 256) end
    return table.concat(t)
  end

  it("are made whole before classification: one packet, all its frames' bytes", function()
    local c = by_src(sf.extract_flows(DATA .. "/flows_frag.pcap"))
    local u = c["10.0.0.1/UDP"]
    assert.equal(2222, u.dst_port)
    assert.equal(1, u.forward_packets)                -- 6 fragments, one datagram
    assert.equal(1, u.reverse_packets)
    assert.same({0, 1, 2, 3, 4, 5, 6}, u.packet_indices)  -- every frame
    assert.equal(1, c["10.0.0.3/UDP"].forward_packets)   -- reversed order
    assert.equal(1, c["10.0.0.4/UDP"].forward_packets)   -- same id, other source
    assert.equal(1, c["10.0.0.5/UDP"].forward_packets)
    assert.equal(5, #c["10.0.0.6/UDP"].packet_indices)   -- a duplicate frame counts
    assert.same({42}, c["10.0.0.7/UDP"].vlan)
    assert.equal(1, c["10.0.0.8/UDP"].forward_packets)   -- tiny first fragment
    local o = c["10.0.0.9/Other"]                          -- never whole
    assert.equal(2, o.forward_packets)
    assert.equal(17, o.ip_proto)
    for _, src in ipairs{"10.0.1.1/TCP", "2001:db8::1/TCP"} do
      local t = c[src]
      assert.equal("Closed", t.status)
      assert.equal("GET / HTTP/1.0\r\n\r\n", t.reassembled_forward)
      assert.equal(body(4000, 5), t.reassembled_reverse)  -- a fragmented segment
    end
    assert.equal(1, c["2001:db8::3/UDP"].forward_packets)
  end)

  it("follow Linux's rules: an overlap discards the datagram, so do the limits", function()
    local c = sf.extract_flows(DATA .. "/flows_frag_attacks.pcap")
    local other, udp = 0, {}
    for _, x in ipairs(c) do
      if x.protocol == "Other" then other = other + x.total_packets else udp[#udp + 1] = x end
    end
    assert.equal(14, other)  -- every frame of the 5 bad datagrams, none lost
    assert.equal(1, #udp)    -- only the good one after them
    assert.equal("10.1.0.9", udp[1].src_addr)
    assert.equal(9, udp[1].src_port)
    -- the ports of the overlapping fragment (0x1111 -> 0x2222) never show
    for _, x in ipairs(c) do assert.are_not.equal(0x1111, x.src_port) end
  end)

  it("wait fragment_timeout for the rest", function()
    local c = sf.extract_flows(DATA .. "/flows_frag_attacks.pcap", {config = {fragment_timeout = 60}})
    local found
    for _, x in ipairs(c) do if x.src_addr == "10.1.0.5" then found = x end end
    assert.equal("UDP", found.protocol)  -- 40 s apart: whole within 60 s
    assert.equal(2, #found.packet_indices)
  end)
end)

describe("callbacks", function()
  it("on_flow gets every conversation and nothing is returned", function()
    local seen, len = {}, {}
    local r = sf.extract_flows(DATA .. "/http.pcap", {on_flow = function(c)
      seen[#seen + 1] = c
      len[#len + 1] = c.reassembled_forward and #c.reassembled_forward
    end})
    assert.is_nil(r)
    assert.equal(3, #seen)
    assert.equal(479, len[1])
    assert.equal(479, #seen[1].reassembled_forward)  -- read inside: kept
  end)

  it("lends streams to on_flow: unread ones are gone after it returns", function()
    local kept
    sf.extract_flows(DATA .. "/http.pcap", {on_flow = function(c)
      if c.protocol == "TCP" and not kept then kept = c end
    end})
    assert.equal(3372, kept.src_port)
    assert.has_error(function() return kept.reassembled_reverse end,
      "conversation streams are lent to on_flow: read them (or conv:chunks()) inside the callback, not after it returned")
  end)

  it("reads a stream in chunks, in on_flow and in the list", function()
    local pieces, whole = {}, nil
    sf.extract_flows(DATA .. "/http.pcap", {on_flow = function(c)
      if c.src_port ~= 3372 then return end
      for chunk in c:chunks("reverse", 1000) do pieces[#pieces + 1] = chunk end
      whole = c.reassembled_reverse
    end})
    assert.equal(19, #pieces)                    -- 18364 bytes in 1000s
    assert.equal(364, #pieces[19])
    assert.equal(whole, table.concat(pieces))
    local l = sf.extract_flows(DATA .. "/http.pcap", {config = {memory_budget = 32 << 10}})
    local n = 0
    for chunk in l[1]:chunks("reverse") do n = n + 1; assert.equal(whole, chunk) end
    assert.equal(1, n)
    assert.has_error(function() l[1]:chunks("sideways") end)
  end)

  it("on_flow sees timed-out conversations before the end", function()
    local order = {}
    sf.extract_flows_from_packets(case("udp_split"), {
      on_packet = function(p, conv) order[#order + 1] = "p" .. conv.total_packets end,
      on_flow = function(c) order[#order + 1] = "f" .. c.total_packets end})
    assert.same({"p1", "p2", "f2", "p1", "f1"}, order)
  end)

  it("on_packet gets the packet, its conversation and direction", function()
    local dirs = {}
    sf.extract_flows(DATA .. "/http.pcap", {on_packet = function(p, conv, dir)
      if conv.src_port == 3372 and #dirs < 3 then
        dirs[#dirs + 1] = dir
        assert.truthy(p:has_layer(sf.TCP))
      end
    end})
    assert.same({"forward", "reverse", "forward"}, dirs)
  end)

  it("on_packet sees custom layers", function()
    local FlowHdr = sf.CustomLayer("FlowSpecHdr", {sf.ByteField("version", 1), sf.ShortField("kind", 7)})
    sf.bind_layers(sf.UDP, FlowHdr, {dport = 47999})
    local pkts = {}
    for i = 1, 3 do
      pkts[i] = cases.at(i, sf.Ether() / sf.IP{src = "10.1.0.1", dst = "10.1.0.2"} /
                            sf.UDP{sport = 1000, dport = 47999} / FlowHdr{kind = i})
    end
    local kinds = {}
    local c = sf.extract_flows_from_packets(pkts, {on_packet = function(p, conv)
      kinds[#kinds + 1] = p[FlowHdr].kind
      assert.equal("UDP", conv.protocol)
    end})
    assert.same({1, 2, 3}, kinds)
    assert.equal(1, #c)
    sf.split_layers(sf.UDP, FlowHdr, {dport = 47999})
  end)

  it("an error in a callback propagates and leaks nothing", function()
    assert.has_error(function()
      sf.extract_flows(DATA .. "/http.pcap", {on_flow = function() error("boom") end})
    end, nil)
    collectgarbage()
  end)
end)

-- n UDP conversations, one packet each, 1 ms apart (of 100 bytes each)
local function udp_many(n)
  local pkts = {}
  for i = 1, n do
    pkts[i] = cases.at(i / 1000, sf.Ether() / sf.IP{src = ("10.%d.%d.1"):format(i // 256, i % 256), dst = "10.255.0.1"}
      / sf.UDP{sport = 1000, dport = 53} / ("q"):rep(58))
  end
  return pkts
end

describe("memory budget", function()
  -- Lua's collections while f runs, counted by a finalizer that renews
  -- itself (in generational mode, as sflua runs: every step collects)
  local function collections(f)
    local n, live = 0, true
    local function sentinel()
      setmetatable({}, {__gc = function() if live then n = n + 1; sentinel() end end})
    end
    local mode = collectgarbage("generational")
    sentinel()
    f()
    live = false
    collectgarbage(mode)
    return n
  end

  it("on_flow keeps Lua's heap down by its growth, not a collection a conversation", function()
    -- a collection costs what the program holds (weak tables are traversed
    -- whole at every step): one per conversation made on_flow quadratic
    local udp, syn = udp_many(3000), {}
    for i = 1, 3000 do
      syn[i] = cases.at(i / 1000, sf.Ether() / sf.IP{src = "10.0.0.1", dst = "10.0.0.2"}
        / sf.TCP{sport = 1024 + i, dport = 443, flags = "S"})
    end
    for _, pkts in ipairs{udp, syn} do
      local seen = 0
      local n = collections(function()
        sf.extract_flows_from_packets(pkts, {on_flow = function() seen = seen + 1 end})
      end)
      assert.equal(3000, seen)
      assert.is_true(n < 300, n .. " collections for 3000 conversations")
    end
  end)

  it("spills streams to files and reads them back", function()
    local big = sf.FlowConfig{memory_budget = 32 << 10}
    local a = sf.extract_flows(DATA .. "/http.pcap")
    local b = sf.extract_flows(DATA .. "/http.pcap", {config = big})
    assert.equal(#a, #b)
    for i = 1, #a do
      assert.equal(a[i].reassembled_forward, b[i].reassembled_forward)
      assert.equal(a[i].reassembled_reverse, b[i].reassembled_reverse)
      assert.equal(a[i].status, b[i].status)
    end
  end)

  it("covers the conversations too: past it the idlest end early as Evicted", function()
    local pkts = udp_many(3000)
    local seen, evicted = {}, 0
    sf.extract_flows_from_packets(pkts, {config = {memory_budget = 256 << 10}, on_flow = function(c)
      seen[#seen + 1] = c
      if c.status == "Evicted" then evicted = evicted + 1 end
    end})
    assert.equal(3000, #seen)                -- every one delivered, none lost
    assert.is_true(evicted > 2000)
    assert.equal("Evicted", seen[1].status)   -- the oldest first, as they end
    assert.equal("10.0.1.1", seen[1].src_addr)
    -- in list mode they are listed, with the same status
    local l = sf.extract_flows_from_packets(pkts, {config = {memory_budget = 256 << 10}})
    assert.equal(3000, #l)
    local n = 0
    for _, c in ipairs(l) do n = n + (c.status == "Evicted" and 1 or 0) end
    assert.equal(evicted, n)
  end)

  it("ends nothing early when the conversations fit", function()
    local l = sf.extract_flows_from_packets(udp_many(3000), {config = {memory_budget = 16 << 20}})
    assert.equal(3000, #l)
    for _, c in ipairs(l) do assert.equal("Active", c.status) end
  end)

  it("says on stderr, without verbose, when it ended conversations early", function()
    local err = stderr_of([[
      local sf = require("stackforge")
      local pkts = {}
      for i = 1, 3000 do
        pkts[i] = sf.Ether() / sf.IP{src = ("10.%d.%d.1"):format(i // 256, i % 256), dst = "10.9.0.1"}
          / sf.UDP{sport = 1, dport = 53}
      end
      sf.extract_flows_from_packets(pkts, {config = {memory_budget = 256 << 10}})]])
    assert.truthy(err:find('conversations ended early %(status "Evicted"%) to stay inside memory_budget'), err)
    assert.truthy(err:find("raise memory_budget", 1, true))
  end)
end)

describe("write_flows", function()
  local tmp = os.tmpname()
  after_each(function() os.remove(tmp) end)

  it("writes JSONL", function()
    local n = sf.write_flows(sf.extract_flows(DATA .. "/http.pcap"), tmp, {format = "jsonl"})
    assert.equal(3, n)
    local f = assert(io.open(tmp))
    local first = f:read("l")
    f:close()
    assert.truthy(first:find('^{"src_addr":"145.254.160.237","src_port":3372,'))
    assert.truthy(first:find('"reassembled_reverse_len":18364'))
    assert.truthy(first:find('"packet_indices":%[0,1,2,'))
  end)

  it("writes CSV from an iterator", function()
    local list = sf.extract_flows(DATA .. "/http.pcap")
    local i = 0
    sf.write_flows(function() i = i + 1 return list[i] end, tmp, {format = "csv"})
    local lines = {}
    for l in io.lines(tmp) do lines[#lines + 1] = l end
    assert.equal(4, #lines)
    assert.truthy(lines[1]:find("^src_addr,src_port,dst_addr,dst_port,protocol,"))
    assert.truthy(lines[2]:find("^145.254.160.237,3372,65.208.228.223,80,TCP,6,4,"))
  end)

  it("FlowWriter takes conversations from on_flow", function()
    do
      local w <close> = sf.FlowWriter(tmp)
      sf.extract_flows(DATA .. "/http.pcap", {on_flow = function(c) w:write(c) end})
      assert.equal(3, w.count)
    end
    local n = 0
    for _ in io.lines(tmp) do n = n + 1 end
    assert.equal(3, n)
  end)

  it("writes streams in hex when asked", function()
    sf.write_flows(sf.extract_flows(DATA .. "/dns_tcp.pcap"), tmp, {streams = true})
    local line = io.open(tmp):read("a")
    assert.truthy(line:find('"reassembled_forward":"00384319', 1, true))
  end)

  it("rejects an unknown format", function()
    assert.has_error(function() sf.write_flows({}, tmp, {format = "xml"}) end)
  end)
end)
