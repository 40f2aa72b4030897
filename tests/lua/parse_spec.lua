-- Parsing, inspecting and changing packets.
local sf = require("stackforge")
local h = require("helpers")
local Packet, Ether, IP, TCP, UDP, LayerKind = sf.Packet, sf.Ether, sf.IP, sf.TCP, sf.UDP, sf.LayerKind

-- frame 4 of dpkt's http.pcap: Ethernet / IPv4 / TCP / HTTP GET
local cap = h.read_pcap(h.path("http.pcap"))
local get_raw = cap.packets[4].data

describe("parsing", function()
  it("finds the layers and reads fields from the bytes", function()
    local p = Packet(get_raw)
    assert.equal(4, p.layer_count)
    assert.equal("Ethernet / IPv4 / TCP / HTTP Request", p:summary())
    assert.equal(3372, p.sport)
    assert.equal(80, p.dport)
    assert.equal("00:00:01:00:00:00", p.src)     -- the outermost "src": Ether's
    assert.equal("145.254.160.237", p[IP].src)
    assert.equal("/download.html", p[sf.HTTPRequest].Path)
  end)

  it("parse() is idempotent and returns the packet", function()
    local p = Packet(get_raw)
    assert.equal(p, p:parse():parse())
    assert.equal(4, p.layer_count)
  end)

  it("has_layer takes a LayerKind, a constructor or a name", function()
    local p = Packet(get_raw)
    assert.is_true(p:has_layer(LayerKind.Tcp))
    assert.is_true(p:has_layer(TCP))
    assert.is_true(p:has_layer("TCP"))
    assert.is_false(p:has_layer(UDP))
    assert.has_error(function() p:has_layer("NoSuchLayer") end)
  end)

  it("getfieldval, fields and get_layer_bytes", function()
    local p = Packet(get_raw)
    assert.equal(p[IP].id, p:getfieldval(LayerKind.Ipv4, "id"))
    assert.is_nil(p:getfieldval(UDP, "sport"))
    local names = p.fields
    assert.equal("dst", names[1])
    assert.truthy(#names > 20)
    local tcp = p:get_layer_bytes(TCP)
    assert.equal(#get_raw - 34, #tcp)
  end)

  it("returns the same bytes it was given, unchanged", function()
    assert.equal(get_raw, Packet(get_raw):bytes())
    assert.is_true(Packet(get_raw) == Packet(get_raw))
    assert.equal(#get_raw, #Packet(get_raw))
  end)

  it("recomputes lengths and checksums after a change", function()
    local p = Packet(get_raw)
    p[TCP].dport = 8080
    p[IP].ttl = 1
    local q = Packet(p:bytes())
    assert.equal(8080, q.dport)
    assert.equal(0, sf.checksum(q:get_layer_bytes(IP):sub(1, 20)))
    -- TCP checksum over the pseudo-header, computed independently
    local ip = q:get_layer_bytes(IP)
    local seg = q:get_layer_bytes(TCP)
    local pseudo = ip:sub(13, 20) .. string.pack(">BBI2", 0, 6, #seg)
    assert.equal(0, sf.checksum(pseudo .. seg))
    -- the original string is untouched (copy on write)
    assert.equal(80, Packet(get_raw).dport)
  end)

  it("grows and shrinks headers when variable fields change", function()
    local p = Packet(get_raw)
    p[TCP].options = {{"MSS", 1400}, {"NOP"}, {"NOP"}, {"SAckOK", ""}}
    local q = Packet(p:bytes())
    assert.equal(7, q.dataofs)
    assert.equal(#get_raw + 8, #q)
    assert.equal(#get_raw + 8 - 14, q.len)
    assert.equal("/download.html", q[sf.HTTPRequest].Path)
  end)

  it("makes trailing bytes past IP's length Padding", function()
    local p = (Ether() / IP() / TCP{flags = "A"}):bytes() .. ("\0"):rep(6)
    local q = Packet(p)
    assert.equal("Ethernet / IPv4 / TCP / Padding", q:summary())
    assert.equal(("\0"):rep(6), q[sf.Padding].load)
    q.ttl = 9  -- lengths stay those of the datagram, padding stays behind
    local r = Packet(q:bytes())
    assert.equal(40, r.len)
    assert.equal(60, #r)
  end)

  it("does not dissect past IP in non-first fragments", function()
    local raw = (Ether() / IP{frag = 100} / UDP() / "data"):bytes()
    assert.equal("Ethernet / IPv4 / Raw", Packet(raw):summary())
    local v6 = (sf.IPv6() / sf.IPv6ExtHdrFragment{offset = 3, id = 1} / UDP()):bytes()
    assert.equal("IPv6 / IPv6 Fragment Header / Raw", Packet(v6, {linktype = 229}):summary())
  end)

  it("walks VLAN tags, QinQ included", function()
    local raw = (Ether() / sf.Dot1AD{vlan = 100} / sf.Dot1Q{vlan = 20, prio = 5} / IP() / UDP()):bytes()
    local p = Packet(raw)
    assert.equal("Ethernet / 802.1AD / 802.1Q / IPv4 / UDP", p:summary())
    assert.equal(0x88a8, p[Ether].type)
    assert.equal(20, p[sf.Dot1Q].vlan)
    assert.equal(5, p[sf.Dot1Q].prio)
  end)

  it("carries capture metadata", function()
    local p = Packet(get_raw, {time = 1084443427.311224, linktype = 1})
    assert.is_true(math.abs(p.time - 1084443427.311224) < 1e-6)
    assert.is_true(math.abs(p.time_ns - 1084443427311224000) < 1000)
    assert.equal(1, p.linktype)
    p.time = 5
    assert.equal(5e9, p.time_ns)
  end)

  it("shows packets as Scapy does, as a string", function()
    local s = Packet(get_raw):show()
    assert.truthy(s:find("###%[ Ethernet %]###"))
    assert.truthy(s:find("        dport     = http", 1, true))  -- Scapy's names, indented by layer
    assert.truthy(s:find("        flags     = PA", 1, true))
    assert.truthy(sf.hexdump(Packet(get_raw)):find("^0000  FE FF 20 00 01 00"))
    assert.truthy(sf.ls(TCP):find("dport"))
    assert.truthy(sf.show(Ether() / IP()):find("###[ IPv4 ]###", 1, true))
  end)

  it("ls() lists every layer, ls(text) those whose names contain it", function()
    assert.truthy(sf.ls():find("\nTCP ", 1, true))
    local nd = sf.ls("nd_n")
    assert.truthy(nd:find("^ICMPv6ND_NA "))
    assert.truthy(nd:find("\nICMPv6ND_NS ", 1, true))
    assert.falsy(nd:find("TCP", 1, true))
    assert.equal("", sf.ls("NoSuchLayer"))
  end)
end)

describe("layer views", function()
  it("read and write one layer of several of a kind", function()
    local p = Ether() / IP{ttl = 5} / sf.ICMP.time_exceeded{} / IP{ttl = 1} / UDP()
    local outer = p[IP]
    assert.equal(5, outer.ttl)
    assert.equal(1, p:layer(4).ttl)
    p:layer(4).ttl = 2
    assert.equal(2, p:layer(4).ttl)
    assert.equal(5, p.ttl)
    assert.equal("IPv4", outer.name)
    assert.same({"sport", "dport", "len", "chksum"}, p[UDP].fields)
    assert.equal("UDP", p:layer(-1).name)
  end)
end)
