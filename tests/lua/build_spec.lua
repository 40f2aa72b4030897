-- Building packets: defaults, stacking, automatic fields, user-set fields.
local sf = require("stackforge")
local Ether, IP, IPv6, TCP, UDP, ICMP, Raw, ARP, Dot1Q, Packet =
  sf.Ether, sf.IP, sf.IPv6, sf.TCP, sf.UDP, sf.ICMP, sf.Raw, sf.ARP, sf.Dot1Q, sf.Packet

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

-- Reference bytes from Debian's python3-scapy 2.5.0 for the same stacks.
describe("building", function()
  it("matches Scapy for Ether/IP/TCP SYN", function()
    local s = Ether{dst = "ff:ff:ff:ff:ff:ff"} / IP{dst = "192.168.1.1"} / TCP{dport = 80, flags = "S"}
    assert.equal("ffffffffffff0000000000000800450000280001000040063a257f000001c0a80101"
      .. "001400500000000000000000500220004ed40000", hex(s:bytes()))
  end)

  it("makes a string on either side of / a Raw layer", function()
    local p = Ether() / IP() / UDP{dport = 53} / "payload"
    assert.equal("Ethernet / IPv4 / UDP / Raw", p:summary())
    assert.equal("payload", p[Raw].load)
    local q = "head" / Raw{load = "tail"}
    assert.equal("headtail", q:bytes())
  end)

  it("fills lengths, protocol numbers and checksums", function()
    local p = (Ether() / IP{src = "10.0.0.1", dst = "10.0.0.2"} / UDP{sport = 1234, dport = 53} / "abcd"):build()
    assert.equal(0x0800, p.type)
    assert.equal(17, p[IP].proto)
    assert.equal(32, p[IP].len)
    assert.equal(12, p[UDP].len)
    -- an independent checksum: IPv4 header sums to 0xffff with its checksum
    assert.equal(0, sf.checksum(p:get_layer_bytes(IP):sub(1, 20)))
  end)

  it("keeps fields the user set, even chksum=0", function()
    local p = Ether() / IP{chksum = 0, len = 99} / TCP{chksum = 0x1234, dataofs = 6}
    assert.equal(0, p[IP].chksum)
    assert.equal(99, p[IP].len)
    assert.equal(0x1234, p[TCP].chksum)
    assert.equal(6, p[TCP].dataofs)
  end)

  it("restores automatic behaviour when a field is set to nil", function()
    local p = Ether() / IP{chksum = 0} / TCP{}
    p[IP].chksum = nil
    assert.is_not.equal(0, p[IP].chksum)
  end)

  it("uses Scapy's defaults", function()
    local p = IP() / TCP()
    assert.equal(64, p.ttl)
    assert.equal(1, p.id)
    assert.equal(20, p.sport)
    assert.equal(80, p.dport)
    assert.equal("S", p[TCP].flags)
    assert.equal(8192, p.window)
    local u = UDP()
    assert.equal(53, u.sport)
    assert.equal(53, u.dport)
    assert.equal(0x9000, Ether().type)
    assert.equal(1, Dot1Q().vlan)
  end)

  it("takes flags by name or number", function()
    assert.equal("SA", TCP{flags = "SA"}.flags)
    assert.equal("SA", TCP{flags = 0x12}.flags)
    assert.equal("DF", IP{flags = "DF"}.flags)
    assert.equal("MF+DF", IP{flags = 3}.flags)
    assert.equal("MF+DF", IP{flags = "MF+DF"}.flags)
  end)

  it("takes enum names", function()
    assert.equal(2, ARP{op = "is-at"}.op)
    assert.equal(1, ARP{op = "who-has"}.op)
    assert.equal(0x86dd, Ether{type = "IPv6"}.type)
  end)

  it("builds TCP options as Scapy does (EOL padding to 4)", function()
    local p = TCP{options = {{"MSS", 1460}, {"NOP"}, {"WScale", 7}, {"SAckOK", ""},
      {"Timestamp", {1, 2}}}}
    assert.equal(10, p.dataofs)
    assert.same({{"MSS", 1460}, {"NOP"}, {"WScale", 7}, {"SAckOK", ""}, {"Timestamp", {1, 2}}},
      p.options)
    local q = TCP{options = {{"WScale", 2}}}
    assert.equal("030302" .. "00", hex(q:bytes()):sub(41))
  end)

  it("builds IPv4 options padded to 4", function()
    local p = IP{options = {{"RR", {"1.2.3.4"}}}} / UDP()
    assert.equal(7, p.ihl)
    assert.equal("0707040102030400", hex(p:get_layer_bytes(IP)):sub(41, 56))
  end)

  it("builds ICMP messages with their constructors", function()
    local e = ICMP.echo_request{id = 0x1234, seq = 1}
    assert.equal(8, e.type)
    assert.equal(0x1234, e.id)
    assert.equal(0, ICMP.echo_reply{}.type)
    local r = ICMP.redirect{code = 1, gateway = nil, gw = "10.0.0.1"}
    assert.equal("10.0.0.1", r.gw)
    assert.equal(11, ICMP.time_exceeded{code = 0}.type)
    assert.equal(12, ICMP.param_problem{ptr = 4}.type)
    assert.equal(3, ICMP.dest_unreach{code = 3}.type)
  end)

  it("quotes the offending datagram in ICMP errors", function()
    local p = Ether() / IP() / ICMP.dest_unreach{code = 3} / IP{dst = "10.0.0.1"} / UDP{dport = 53}
    local q = Packet(p:bytes())
    assert.equal("Ethernet / IPv4 / ICMP / IPv4 / UDP", q:summary())
    assert.equal(1, q[IP].proto)
    assert.equal(0, sf.checksum(q:get_layer_bytes(ICMP)))
  end)

  it("builds IPv6 extension header chains", function()
    local p = IPv6() / sf.IPv6ExtHdrHopByHop() / sf.IPv6ExtHdrRouting{addresses = {"2001:db8::1"}}
      / sf.IPv6ExtHdrFragment{id = 7} / sf.IPv6ExtHdrDestOpt{} / UDP() / "x"
    local q = Packet(p:bytes(), {linktype = 229})
    assert.equal("IPv6 / IPv6 Hop-by-Hop Options / IPv6 Routing Header / IPv6 Fragment Header"
      .. " / IPv6 Destination Options / UDP / Raw", q:summary())
    assert.equal(0, q.nh)
    assert.equal(1, q[sf.IPv6ExtHdrRouting].segleft)
    assert.same({"2001:db8::1"}, q[sf.IPv6ExtHdrRouting].addresses)
  end)

  it("builds neighbour discovery with Scapy's addressing", function()
    local p = Ether() / IPv6() / sf.ICMPv6ND_NS{tgt = "fe80::1"}
      / sf.ICMPv6NDOptSrcLLAddr{lladdr = "00:11:22:33:44:55"}
    assert.equal(255, p.hlim)
    assert.equal("ff02::1", p[IPv6].dst)
    assert.equal("fe80::1", p.tgt)
    assert.equal(1, p[sf.ICMPv6NDOpt].len)
  end)

  it("has Raw helpers", function()
    assert.equal("\222\173\190\239", Raw.from_hex("deadbeef").load)
    assert.equal(("\0"):rep(10), Raw.zeros(10).load)
    assert.equal("AAAAA", Raw.rep(0x41, 5).load)
    assert.equal("ABABABA", Raw.pattern("AB", 7).load)
    assert.has_error(function() Raw.from_hex("xyz") end)
  end)

  it("build() returns a new packet and leaves the stack alone", function()
    local s = IP() / TCP()
    local p = s:build()
    p[TCP].dport = 8080
    assert.equal(80, s.dport)
    assert.equal(8080, p.dport)
  end)

  -- Constructors set plain fields (fixed place, no variant) the short way
  -- and the rest (presets, variant selectors, options, names, aliases) the
  -- full way; either must build what setting the fields on the layer does.
  it("build from a table what setting each field on the layer builds", function()
    local cases = {
      {Ether, {dst = "00:11:22:33:44:55", src = "AA:BB:cc:dd:EE:ff", type = 0x86dd}},
      {Ether, {type = "IPv6"}},
      {IP, {src = "10.0.0.1", dst = "192.168.255.254", ttl = 1, tos = 0xb8, id = 0xffff}},
      {IP, {flags = "MF+DF", frag = 100, chksum = 0, len = 99}},
      {IP, {flags = 3, proto = 17, checksum = 0x1234}},
      {IPv6, {hlim = 7, tc = 3, fl = 0xfffff, src = "2001:DB8::1", dst = "::1"}},
      {IPv6, {hop_limit = 9, next_header = 59}},
      {TCP, {sport = 1234, dport = 80, flags = "S", seq = 0xffffffff, window = 0}},
      {TCP, {flags = 0x12, ack = 1, urgptr = 7, reserved = 0, chksum = 0}},
      {TCP, {options = {{"MSS", 1460}, {"NOP"}, {"WScale", 7}}, dport = 443}},
      {UDP, {sport = 53, dport = 5353, len = 8, chksum = 0}},
      {ICMP, {type = 3, code = 1}},
      {ICMP.echo_request, {id = 7, seq = 9}},
      {ARP, {op = "is-at", psrc = "10.0.0.1", hwsrc = "00:00:00:00:00:01"}},
      {Dot1Q, {vlan = 100, prio = 5, id = true}},
      {Raw, {load = "payload"}},
    }
    for i, c in ipairs(cases) do
      local ctor, fields = c[1], c[2]
      local want = ctor()
      local view = want:layer(1)
      for _, k in ipairs({"type"}) do  -- a variant's selector first
        if fields[k] ~= nil then view[k] = fields[k] end
      end
      for k, v in pairs(fields) do view[k] = v end
      assert.equal(hex(want:bytes()), hex(ctor(fields):bytes()), "case " .. i)
    end
  end)

  it("finds field names made at run time, and refuses other keys", function()
    local name = ("d"):rep(1) .. "port"
    assert.equal(81, TCP{[name] = 81}.dport)
    for i = 1, 2000 do local _ = {["dport" .. i] = i} end  -- strings come and go
    collectgarbage()
    assert.equal(82, TCP{[name] = 82}.dport)
    assert.equal(83, UDP{dport = 83}.dport)
    local ok, msg = pcall(function() return TCP{[1] = 2} end)
    assert.is_false(ok)
    assert.truthy(tostring(msg):find("TCP: field names must be strings", 1, true))
    ok, msg = pcall(function() return TCP{dst = "10.0.0.1"} end)
    assert.is_false(ok)
    assert.truthy(tostring(msg):find("TCP has no field 'dst'", 1, true))
  end)

  it("keeps the names it found even when the keys table lets one go", function()
    -- core.Packet is the table of names; a field map the name cache points
    -- to must outlive its entry there (the cache keeps it)
    local core = require("stackforge.core")
    local Zq = sf.CustomLayer("BuildSpecZq", {sf.ByteField("zzq", 1), sf.ShortField("zzr", 2)})
    assert.equal("\2\0\2", Zq{zzq = 2}:bytes())
    core.Packet.zzq = nil
    for _ = 1, 3 do collectgarbage() end
    for i = 1, 200 do local _ = {["zzq" .. i] = i} end
    assert.equal("\3\0\2", Zq{zzq = 3}:bytes())
  end)

  it("calls a constructor made without core.constructor", function()
    local layers = require("stackforge.layers")
    local mine = setmetatable({kind = TCP.kind, name = "TCP2"}, layers.Constructor)
    assert.equal(hex(TCP{dport = 8}:bytes()), hex(mine{dport = 8}:bytes()))
    local echo = setmetatable({kind = ICMP.kind, name = "e", preset = {type = 8}},
      layers.Constructor)
    assert.equal(8, echo{}.type)
    assert.equal(TCP.kind * 2, TCP[1])  -- what core.constructor keeps
  end)

  it("supports #, == and tostring", function()
    local a, b = IP() / TCP(), IP() / TCP()
    assert.equal(40, #a)
    assert.is_true(a == b)
    b.ttl = 1
    assert.is_false(a == b)
    assert.equal("IPv4 / TCP", tostring(a))
  end)
end)
