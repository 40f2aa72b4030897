-- Display filters (docs/filters.md): the corpus against tshark's answers
-- (tests/filter/golden.tsv, written by tshark -Y), the API, errors, the
-- command line against tshark -T fields, and fuzzing of the compiler.
local sf = require("stackforge")
local dfilter = require("stackforge.dfilter")
local corpus = dofile("tests/filter/check_corpus.lua")

local data = os.getenv("SFLUA_TESTDATA") or "tests/data"
local capture = data .. "/filter_corpus.pcapng"

describe("the filter corpus", function()
  it("selects the frames tshark -Y selects, refuses what it refuses", function()
    local pass, fails = corpus.run(capture, "tests/filter/golden.tsv")
    assert.are.same({}, fails)
    assert.is_true(pass >= 300)
  end)
end)

describe("DisplayFilter", function()
  local syn = (sf.Ether{src = "00:11:22:33:44:55"} / sf.IP{src = "10.1.2.3", dst = "192.0.2.9", ttl = 7}
               / sf.TCP{sport = 40000, dport = 443, flags = "S"}):build()
  local dns = (sf.Ether() / sf.IP{src = "192.168.1.1"} / sf.UDP{sport = 53, dport = 5353} / "payload"):build()

  it("is a callable object and p:matches takes the text", function()
    local f = sf.DisplayFilter("tcp.port == 443 and ip.src == 10.0.0.0/8")
    assert.is_true(f(syn))
    assert.is_false(f(dns))
    assert.is_true(syn:matches("tcp.flags.syn == 1 && ip.ttl < 8"))
    assert.is_false(dns:matches("tcp"))
    assert.is_true(dns:matches("udp contains \"pay\" and not tcp"))
    assert.matches("DisplayFilter", tostring(f))
  end)

  it("takes sflua's names (Constructor.field, aliases) beside Wireshark's", function()
    assert.is_true(syn:matches("TCP.dport == 443 and IP.ttl == 7 and TCP"))
    assert.is_true(syn:matches("IP.checksum == ip.checksum"))
    assert.is_true(dns:matches("UDP.sport == 53 and Raw.load contains 70:61"))
    assert.is_false(syn:matches("UDP"))
  end)

  it("has xor, whitespace-separated sets and nested functions (beyond tshark 4.0)", function()
    assert.is_true(syn:matches("tcp xor udp"))
    assert.is_false(syn:matches("tcp xor ip"))
    assert.is_true(syn:matches("tcp.port in {22 443 8443}"))
    assert.is_true(syn:matches("lower(upper(frame.protocols)) contains \"tcp\""))
  end)

  it("reads fields through the generic API: conditional and Lua-defined layouts", function()
    local Hdr = sf.CustomLayer("FilterHdr", {sf.ByteField("version", 2), sf.ShortField("length", 0),
      sf.StrLenField("body", "", {length_from = function(p) return p.length end})})
    sf.bind_layers(sf.UDP, Hdr, {dport = 9999})
    local p = (sf.Ether() / sf.IP() / sf.UDP{sport = 1, dport = 9999} / Hdr{version = 3, length = 4, body = "abcd"}):build()
    p = sf.Packet(p:bytes())
    assert.is_true(p:matches("FilterHdr.version == 3 and FilterHdr.body == \"abcd\""))
    assert.is_true(p:matches("FilterHdr and len(FilterHdr.body) == 4"))
    assert.is_false(p:matches("FilterHdr.version > 3"))
    local gre = sf.Packet((sf.Ether() / sf.IP() / sf.GRE{key_present = 1, seqnum_present = 1, key = 5,
      sequence_number = 6} / sf.IP()):bytes())
    assert.is_true(gre:matches("gre.key == 5 and gre.sequence_number == 6"))
  end)

  it("takes the Wireshark-style names a CustomLayer declares", function()
    local Tel = sf.CustomLayer("FilterTel", {sf.ShortField("src", 0), sf.ShortField("dst", 0), sf.ByteField("kind", 0)},
      {ws = "tel", ws_fields = {{"tel.port", "src", "dst"}, {"tel.kind", "kind"}}})
    sf.bind_layers(sf.UDP, Tel, {dport = 7777})
    local p = sf.Packet((sf.Ether() / sf.IP() / sf.UDP{sport = 1, dport = 7777} / Tel{src = 5, dst = 6, kind = 2}):bytes())
    assert.is_true(p:matches("tel && tel.port == 6 && tel.kind == 2 && FilterTel.src == 5"))
    assert.is_false(p:matches("tel.port == 7"))
    assert.has_error(function() sf.CustomLayer("FilterBad", {sf.ByteField("a", 0)}, {ws_fields = {{"bad.b", "b"}}}) end)
  end)

  it("tests flows in Lua: flow.* fields over conversation tables", function()
    local f = sf.DisplayFilter('flow.bytes > 1e6 and flow.protocol == "TCP"')
    assert.is_true(f{total_bytes = 2000000, protocol = "TCP"})
    assert.is_false(f{total_bytes = 2000000, protocol = "UDP"})
    assert.is_false(f{total_bytes = 10, protocol = "TCP"})
    local g = sf.DisplayFilter("flow.src_addr == 10.0.0.0/8 and flow.dst_port in {80, 443}")
    assert.is_true(g{src_addr = "10.9.8.7", dst_port = 443})
    assert.is_false(g{src_addr = "11.9.8.7", dst_port = 443})
    assert.has_error(function() return f(syn) end)
  end)
end)

describe("filter errors", function()
  local function err(text)
    local f, msg = dfilter.compile(text)
    assert.is_nil(f)
    return msg
  end

  it("name the position and what was expected", function()
    assert.matches("position 13: expected a field or a value at the end", err("tcp.port == "), 1, true)
    assert.matches("position 5: expected a comparison", err("(tcp"), 1, true)
    assert.matches("position 11: '1.2.3' is not an IPv4 address", err("ip.src == 1.2.3"), 1, true)
  end)

  it("suggest the nearest names for an unknown field", function()
    assert.matches("unknown field or protocol 'tcp.prot' (did you mean tcp.port", err("tcp.prot == 80"), 1, true)
    assert.matches("did you mean ip.src", err("ip.srcc == 1.2.3.4"), 1, true)
  end)

  it("point at the caller's line", function()
    local ok, msg = pcall(function()
      local f = sf.DisplayFilter("tcp.port ==")
      return f
    end)
    assert.is_false(ok)
    assert.matches("^[^:]*dfilter_spec%.lua:%d+:", msg)
    ok, msg = pcall(function()
      local r = sf.PcapReader(capture, {filter = "nosuch.field"})
      return r
    end)
    assert.is_false(ok)
    assert.matches("^[^:]*dfilter_spec%.lua:%d+: PcapReader: filter", msg)
    assert.matches("unknown field", msg, 1, true)
  end)
end)

describe("filtered reading", function()
  it("numbers packets from 1 as tshark's frame.number, filtered or not", function()
    local n = 0
    for p in sf.PcapReader(capture) do
      n = n + 1
      assert.are.equal(n, p.frame_number)
    end
    assert.is_nil(sf.Packet("\0\0\0\0\0\0\0\0\0\0\0\0\0\0").frame_number)
  end)

  it("PcapReader and rdpcap give what a loop over DisplayFilter gives", function()
    local f = sf.DisplayFilter("tcp.port == 80 or icmpv6")
    local want = {}
    for p in sf.PcapReader(capture) do
      if f(p) then want[#want + 1] = p.frame_number end
    end
    local got = {}
    for p in sf.PcapReader(capture, {filter = "tcp.port == 80 or icmpv6"}) do got[#got + 1] = p.frame_number end
    assert.are.same(want, got)
    local list = sf.rdpcap(capture, {filter = f})
    assert.are.equal(#want, #list)
    assert.are.equal(want[#want], list[#list].frame_number)
    assert.is_true(#want > 40)
  end)
end)

describe("sflua -r -Y -T fields", function()
  local bin = os.getenv("SFLUA_BIN")
  it("prints what tshark -T fields prints", function()
    if not bin then pending("SFLUA_BIN not set") return end
    local args = io.open("tests/filter/fields.args"):read("l")
    local cmd = ("%s -r %s -Y 'not tcp.port == 443' -T fields %s"):format(bin, capture, args)
    local out = io.popen(cmd):read("a")
    local want = io.open("tests/filter/fields.tshark.tsv"):read("a")
    assert.are.equal(want, out)
  end)

  it("takes tshark's -E and -c as tshark does (outputs written by tshark 4.0)", function()
    if not bin then pending("SFLUA_BIN not set") return end
    local function run(args)
      return io.popen(("%s -r %s %s"):format(bin, capture, args)):read("a")
    end
    assert.are.equal("arp.opcode,eth.addr\n1,66:77:88:99:aa:bb\n2,ff:ff:ff:ff:ff:ff\n"
      .. "1,ff:ff:ff:ff:ff:ff\n2,02:1a:2b:ad:00:b6\n",
      run("-Y arp -T fields -e arp.opcode -e eth.addr -E header=y -E occurrence=f -E separator=,"))
    assert.are.equal("", run("-Y arp -T fields -e frame.number -c 2"))  -- -c counts packets read
    assert.are.equal("81\t00:11:22:33:44:55\n", run("-Y arp -T fields -e frame.number -e eth.addr -E occurrence=l -c 81"))
    assert.matches("^%s+81%s+0%.000000 00:11:22:33:44:55 → 66:77:88:99:aa:bb Ethernet / ARP 42\n", run("-Y arp -c 81"))
  end)

  it("writes the packets that pass with -w", function()
    if not bin then pending("SFLUA_BIN not set") return end
    local out = os.tmpname()
    os.execute(("%s -r %s -Y 'icmpv6 or arp' -w %s"):format(bin, capture, out))
    local n = #sf.rdpcap(out)
    os.remove(out)
    assert.are.equal(#sf.rdpcap(capture, {filter = "icmpv6 or arp"}), n)
  end)

  it("reports a bad filter and fails", function()
    if not bin then pending("SFLUA_BIN not set") return end
    local pipe = io.popen(("%s -r %s -Y 'tcp.prot == 1' 2>&1"):format(bin, capture))
    local text = pipe:read("a")
    local ok = pipe:close()
    assert.is_falsy(ok)
    assert.matches("did you mean tcp.port", text, 1, true)
  end)
end)

describe("fuzzing the compiler", function()
  local pkts = sf.rdpcap(capture, {count = 120})

  it("answers random strings with a filter or an error, never a crash", function()
    local alphabet = {"tcp", "ip.src", "==", "!=", "(", ")", "{", "}", "[", "]", ":", "..", ",",
      "and", "or", "not", "\"", "\\", "0x", "1", "10.0.0.0/8", "contains", "matches", "in",
      "len(", "&", "!", "~", "-", "ff:", "eth.src", "frame", " ", "xor", "all", "any", "::1"}
    math.randomseed(20261129)
    for _ = 1, 3000 do
      local parts = {}
      for i = 1, math.random(1, 8) do parts[i] = alphabet[math.random(#alphabet)] end
      local text = table.concat(parts, math.random() < 0.5 and " " or "")
      local f, msg = dfilter.compile(text)
      if f then
        for i = 1, 5 do f(pkts[i]) end
      else
        assert.matches("position %d+:", msg)
      end
    end
  end)

  it("compiles and runs random valid filters", function()
    local fields = {{"tcp.port", "80"}, {"ip.src", "10.0.0.0/8"}, {"ip.ttl", "64"},
      {"eth.src", "00:11:22:33:44:55"}, {"ipv6.addr", "2001:db8::/32"}, {"frame.len", "100"},
      {"udp.length", "0x2e"}, {"icmpv6.opt.type", "1"}, {"frame.protocols", "\"ip\""}}
    local ops = {"==", "!=", ">", "<=", "~=", "==="}
    local function leaf()
      local f = fields[math.random(#fields)]
      local r = math.random(5)
      if r == 1 then return f[1] end
      if r == 2 and f[1] ~= "frame.protocols" and not f[2]:find("/") and not f[2]:find(":") then
        return ("%s in {%s, %s}"):format(f[1], f[2], f[2])
      end
      return ("%s %s %s"):format(f[1], ops[math.random(#ops)], f[2])
    end
    local function expr(d)
      if d == 0 or math.random() < 0.3 then return leaf() end
      local r = math.random(4)
      if r == 1 then return "not " .. expr(d - 1) end
      if r == 2 then return "(" .. expr(d - 1) .. ")" end
      return expr(d - 1) .. (r == 3 and " and " or " or ") .. expr(d - 1)
    end
    for _ = 1, 500 do
      local text = expr(4)
      local f, msg = dfilter.compile(text)
      assert.is_truthy(f, msg)
      for _, p in ipairs(pkts) do f(p) end
    end
  end)
end)

describe("filters elsewhere", function()
  it("extract_flows(f, {filter=}) tracks only the packets that pass", function()
    local all = sf.extract_flows(capture)
    local tcp80 = sf.extract_flows(capture, {filter = "tcp.port == 80 and not icmp and not gre"})
    assert.is_true(#tcp80 > 0 and #tcp80 < #all)
    for _, c in ipairs(tcp80) do
      assert.are.equal("TCP", c.protocol)
      assert.is_true(c.src_port == 80 or c.dst_port == 80)
    end
    -- the same conversation keeps the packets' places in the capture
    local key = function(c) return ("%s %s %s %s"):format(c.src_addr, c.src_port, c.dst_addr, c.dst_port) end
    local whole = {}  -- a tuple may come back later: keep every one
    for _, c in ipairs(all) do
      whole[key(c) .. " " .. c.first_index] = c
    end
    for _, c in ipairs(tcp80) do
      local same = whole[key(c) .. " " .. c.first_index]
      assert.is_table(same, key(c))
      assert.are.same(same.packet_indices, c.packet_indices)
    end
    local ok, msg = pcall(function()
      local convs = sf.extract_flows(capture, {filter = "tcp.prot == 1"})
      return convs
    end)
    assert.is_false(ok)
    assert.matches("^[^:]*dfilter_spec%.lua:%d+: extract_flows: filter", msg)
  end)

  it("anonymize_pcap(in, out, policy, {filter=}) writes only the packets that pass", function()
    local out = os.tmpname() .. ".pcapng"
    local policy = sf.AnonymizationPolicy{timestamp_mode = "preserve"}
    local stats = sf.anonymize_pcap(capture, out, policy, {filter = "icmpv6"})
    local pkts = sf.rdpcap(out)
    os.remove(out)
    assert.are.equal(#sf.rdpcap(capture, {filter = "icmpv6"}), stats.packets)
    assert.are.equal(stats.packets, #pkts)
    for _, p in ipairs(pkts) do assert.is_true(p:matches("icmpv6")) end
  end)
end)
