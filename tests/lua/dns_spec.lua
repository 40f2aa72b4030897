-- DNS (core/proto/dns.c): RFC and third-party vectors, tshark's reading of
-- real captures (dig against dnsmasq, tcpdump's and dpkt's DNS captures),
-- Scapy 2.5's bytes, building (counts, TCP length, names of another
-- length), compression, and malformed messages.
local sf = require("stackforge")
local h = require("helpers")
package.path = "tests/dns/?.lua;" .. package.path
local T = require("tshark_dns")

local function hex(s) return h.hex(s) end
local unhex = h.unhex

describe("DNS vectors", function()
  -- RFC 1035 4.1.4: F.ISI.ARPA written out, FOO.F.ISI.ARPA as FOO and a
  -- pointer to it, ARPA as a pointer into it, and the root
  it("follows RFC 1035 4.1.4's compression example", function()
    local msg = unhex("000081000000000400000000" ..
      "014603495349044152504100" .. "0001000100000000" .. "0000" ..   -- F.ISI.ARPA at 12
      "03464f4fc00c" .. "0001000100000000" .. "0000" ..               -- FOO, a pointer to 12
      "c012" .. "0001000100000000" .. "0000" ..                       -- ARPA: a pointer to 18
      "00" .. "0001000100000000" .. "0000")                           -- the root
    local p = sf.Packet(msg, {proto = "DNS"})
    local an = p[sf.DNS].an
    assert.equal(4, #an)
    assert.equal("F.ISI.ARPA.", an[1].rrname)
    assert.equal("FOO.F.ISI.ARPA.", an[2].rrname)
    assert.equal("ARPA.", an[3].rrname)
    assert.equal(".", an[4].rrname)
    assert.is_false(p.truncated)
  end)

  -- dnspython's tests/test_message.py goodhex and goodhex2 (../shared/refdata/05-dns.md)
  it("reads dnspython's query with EDNS0", function()
    local p = sf.Packet(unhex("04d201000001000000000001047777777709646e73707974686f6e036f726700"
      .. "000100010000291000000080000000"), {proto = "DNS"})
    local d = p[sf.DNS]
    assert.same({1234, 1, 1, 1}, {d.id, d.rd, d.qdcount, d.arcount})
    assert.equal("wwww.dnspython.org.", d.qd[1].qname)
    local opt = d.ar[1]
    assert.same({"DNS OPT Resource Record", 4096, 32768, 0}, {opt.name, opt.rclass, opt.z, opt.rdlen})
  end)

  it("reads dnspython's compressed SOA response", function()
    local p = sf.Packet(unhex("04d28500000100010003000109646e73707974686f6e036f72670000060001c0"
      .. "0c0006000100000e10002804776f6f66c00c0a686f73746d6173746572c00c77"
      .. "64289c00000e100000070800093a8000000e10c00c0002000100000e10001403"
      .. "6e7331057374616666076e6f6d696e756dc016c00c0002000100000e10000603"
      .. "6e7332c063c00c0002000100000e10001004776f6f6608706c61792d626f77c0"
      .. "16c0910001000100000e100004cc98ba96"), {proto = "DNS"})
    local d = p[sf.DNS]
    local soa = d.an[1]
    assert.same({"dnspython.org.", "woof.dnspython.org.", "hostmaster.dnspython.org.",
      2003052700, 3600, 1800, 604800, 3600},
      {soa.rrname, soa.mname, soa.rname, soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum})
    local ns = {}
    for i, r in ipairs(d.ns) do ns[i] = r.rdata end
    assert.same({"ns1.staff.nominum.org.", "ns2.staff.nominum.org.", "woof.play-bow.org."}, ns)
    assert.same({"woof.play-bow.org.", "204.152.186.150"}, {d.ar[1].rrname, d.ar[1].rdata})
    assert.equal(hex(p:bytes()), hex(p:build():bytes()))
  end)

  -- Scapy's test/scapy/layers/dns.uts "DNS frames with MX records"
  it("reads Scapy's MX frame with its checksums", function()
    local p = sf.Packet(unhex("450000a4931d00007911dcfc08080808c0a800770035b49b00906b8000008180"
      .. "000100050000000006676f6f676c6503636f6d00000f0001c00c000f00010000"
      .. "02420011001e04616c7432056173706d78016cc00cc00c000f00010000024200"
      .. "09001404616c7431c02fc00c000f0001000002420009003204616c7434c02fc0"
      .. "0c000f0001000002420009002804616c7433c02fc00c000f0001000002420004"
      .. "000ac02f"), {linktype = 101})
    local got = {}
    for i, mx in ipairs(p[sf.DNS].an) do got[i] = mx.preference .. " " .. mx.exchange end
    assert.same({"30 alt2.aspmx.l.google.com.", "20 alt1.aspmx.l.google.com.",
      "50 alt4.aspmx.l.google.com.", "40 alt3.aspmx.l.google.com.", "10 aspmx.l.google.com."}, got)
    assert.equal("IPv4 / UDP / DNS", p:summary())
    p[sf.IP].ttl = p[sf.IP].ttl  -- rebuilt: the checksums come out as captured
    assert.same({0xdcfc, 0x6b80}, {p[sf.IP].chksum, p[sf.UDP].chksum})
  end)
end)

describe("DNS against tshark's reading of real captures", function()
  for line in io.lines("tests/dns/captures.txt") do
    local cap, port = line:match("^(%S+)%s+(%S+)")
    it(cap, function()
      if port ~= "-" then T.bind(sf, tonumber(port)) end
      local lines = {}
      for l in io.lines((os.getenv("SFLUA_DNS_TSHARK_DIR") or h.path("dns")) .. "/" .. cap .. ".tsv") do
        lines[#lines + 1] = l
      end
      local bad, n, checked = T.compare(h.path(cap), lines, sf)
      assert.same({}, bad)
      assert.is_true(n > 0 and checked > n)
      if port ~= "-" then
        sf.split_layers(sf.UDP, sf.DNS, {dport = tonumber(port)})
        sf.split_layers(sf.TCP, sf.DNS, {dport = tonumber(port)})
      end
    end)
  end
end)

describe("DNS building", function()
  it("makes Scapy 2.5's bytes", function()
    -- Scapy: IP(src=.., dst=..)/UDP(sport=53, dport=33333)/DNS(id=9, qr=1,
    --   qd=DNSQR(qname="www.example.com"), an=DNSRR(rrname="www.example.com",
    --   type="CNAME", rdata="web.example.com")/DNSRR(rrname="web.example.com",
    --   rdata="192.0.2.80"), ns=DNSRRSOA(...)/DNSRR(type="NS", ...))
    local p = sf.IP{src = "192.0.2.1", dst = "192.0.2.2"} / sf.UDP{sport = 53, dport = 33333} /
      sf.DNS{id = 9, qr = 1, qd = sf.DNSQR{qname = "www.example.com"},
        an = {sf.DNSRR{rrname = "www.example.com", type = "CNAME", rdata = "web.example.com"},
              sf.DNSRR{rrname = "web.example.com", rdata = "192.0.2.80"}},
        ns = {sf.DNSRRSOA{rrname = "example.com", mname = "ns.example.com",
                          rname = "admin.example.com", serial = 1},
              sf.DNSRR{rrname = "example.com", type = "NS", rdata = "ns.example.com"}}}
    local scapy = "450000fd000100004011f5ebc0000201c00002020035823500e98ad400098100000100020002000003777777076578616d706c6503636f6d000001000103777777076578616d706c6503636f6d000005000100000000001103776562076578616d706c6503636f6d0003776562076578616d706c6503636f6d0000010001000000000004c0000250076578616d706c6503636f6d0000060001000000000037026e73076578616d706c6503636f6d000561646d696e076578616d706c6503636f6d000000000100000000000000000000000000000000076578616d706c6503636f6d0000020001000000000010026e73076578616d706c6503636f6d00"
    assert.equal(scapy, hex(p:bytes()))
    -- and Scapy's dns_compress(p)
    local compressed = "4500009a000100004011f64ec0000201c00002020035823500862ba400098100000100020002000003777777076578616d706c6503636f6d0000010001c00c0005000100000000000603776562c010c02d00010001000000000004c0000250c01000060001000000000021026e73c0100561646d696ec0100000000100000000000000000000000000000000c01000020001000000000002c04f"
    local c = sf.dns_compress(p)
    assert.equal(compressed, hex(c:bytes()))
    assert.equal(scapy, hex(p:bytes()))  -- the argument is left alone
    local q = sf.Packet(c:bytes(), {linktype = 101})
    assert.same({"www.example.com.", "web.example.com.", "web.example.com.", "admin.example.com."},
      {q[sf.DNS].an[1].rrname, q[sf.DNS].an[1].rdata, q[sf.DNS].an[2].rrname, q[sf.DNS].ns[1].rname})
    q[sf.DNS]:compress()  -- compressed again: the same bytes
    assert.equal(compressed, hex(q:bytes()))
  end)

  it("counts the records that follow a plain stack, and keeps counts given", function()
    local p = sf.DNS{id = 1} / sf.DNSQR{} / sf.DNSRR{} / sf.DNSRR{type = "AAAA"}
    assert.same({1, 2, 0, 0}, {p.qdcount, p.ancount, p.nscount, p.arcount})
    local q = sf.DNS{qd = sf.DNSQR{}, ar = sf.DNSRROPT{}, ancount = 5}
    assert.same({1, 5, 0, 1}, {q.qdcount, q.ancount, q.nscount, q.arcount})
    local parsed = sf.Packet(q:bytes(), {proto = "DNS"})
    assert.equal(5, parsed.ancount)  -- as the bytes say
  end)

  it("lays a record out again when a name of another length is set", function()
    local p = sf.UDP{sport = 5000} / sf.DNS{qd = sf.DNSQR{qname = "a.b"},
      an = sf.DNSRRMX{rrname = "a.b", preference = 10, exchange = "mx.a.b"}}
    local mx = p[sf.DNS].an[1]
    assert.equal(10, mx.rdlen)
    mx.exchange = "a-much-longer-exchange.example.org"
    assert.equal(2 + 36, mx.rdlen)
    assert.equal(10, mx.preference)
    p[sf.DNS].qd[1].qname = "another.name.example"
    local q = sf.Packet(p:bytes(), {proto = "UDP"})
    assert.same({"another.name.example.", "a-much-longer-exchange.example.org.", 10},
      {q[sf.DNS].qd[1].qname, q[sf.DNS].an[1].exchange, q[sf.DNS].an[1].preference})
    assert.equal(#p:bytes(), q[sf.UDP].len)
    -- a type of another kind of rdata: the rdata follows it
    local rr = sf.DNSRR{rrname = "x", type = "A", rdata = "192.0.2.1"}
    rr.type = "TXT"
    rr.rdata = {"one", "two"}
    assert.same({"one", "two"}, sf.Packet(rr:bytes(), {proto = "DNSRR"}).rdata)
    assert.equal(8, rr.rdlen)
  end)

  it("over TCP: the length first, several messages in one segment", function()
    local m1 = sf.DNS{id = 1, qd = sf.DNSQR{qname = "one.example"}}
    local m2 = sf.DNS{id = 2, qd = sf.DNSQR{qname = "two.example", qtype = "MX"}}
    local p = sf.IP() / sf.TCP{sport = 40000, flags = "PA"} / m1
    assert.equal(53, p.dport)
    local b = p:bytes()
    assert.equal(hex(b:sub(43)), hex(m1:bytes()))  -- 20 + 20 + 2: the message after its length
    assert.equal(#m1:bytes(), string.unpack(">I2", b, 41))
    local seg = sf.IP() / sf.TCP{sport = 53, dport = 40000, flags = "PA"} /
      (string.pack(">s2", m1:bytes()) .. string.pack(">s2", m2:bytes()))
    local two = sf.Packet(seg:bytes(), {linktype = 101})
    assert.equal("IPv4 / TCP / DNS / DNS", two:summary())
    local ids, names = {}, {}
    for i = 1, two.layer_count do
      local v = two:layer(i)
      if v.name == "DNS" then ids[#ids + 1] = v.id; names[#names + 1] = v.qd[1].qname end
    end
    assert.same({1, 2}, ids)
    assert.same({"one.example.", "two.example."}, names)
    assert.is_false(two.truncated)
  end)

  it("mDNS on 5353 and LLMNR on 5355", function()
    local m = sf.IP{dst = "224.0.0.251"} / sf.UDP{sport = 5353, dport = 5353} /
      sf.DNS{rd = 0, qd = sf.DNSQR{qname = "printer.local", qtype = "PTR", qclass = 0x8001}}
    local pm = sf.Packet(m:bytes(), {linktype = 101})
    assert.same({"printer.local.", 0x8001}, {pm[sf.DNS].qd[1].qname, pm[sf.DNS].qd[1].qclass})
    local l = sf.IP{dst = "224.0.0.252"} / sf.UDP{} / sf.LLMNRQuery{id = 7, qd = sf.DNSQR{qname = "host"}}
    local pl = sf.Packet(l:bytes(), {linktype = 101})
    assert.same({5355, 5355}, {pl.sport, pl.dport})
    assert.equal("IPv4 / UDP / LLMNR", pl:summary())
    assert.equal("host.", pl[sf.LLMNRQuery].qd[1].qname)
    assert.equal(1, sf.LLMNRResponse{}.qr)
  end)

  it("says what a bad value is", function()
    assert.error_matches(function() return sf.DNSQR{qname = ("a"):rep(64) .. ".com"} end,
      "DNSQR.qname: bad value .* %(expected a domain name")
    assert.error_matches(function() return sf.DNSQR{qname = "a..b"} end, "DNSQR.qname: bad value")
    local long = ("a"):rep(300) .. ".com"  -- a long value: shown by its start and length
    assert.error_matches(function() return sf.DNSQR{qname = long} end,
      "DNSQR.qname: bad value " .. ("a"):rep(60) .. "%.%.%. %(304 bytes%) %(expected a domain name")
    assert.error_matches(function() return sf.DNSRR{type = "A", rdata = "1.2.3"} end,
      "DNSRR.rdata: bad value 1.2.3 %(expected an IPv4 address")
    assert.error_matches(function() return sf.DNS{an = 5} end,
      "DNS: an must be a layer or a list of layers, got number")
    assert.error_matches(function() return sf.DNS{an = {sf.DNSRR{}, "x"}} end,
      "DNS: an%[2%] is a string, not a layer")
    assert.error_matches(function() return sf.DNS{}[sf.DNS].an2 end, "DNS has no field 'an2'")
    assert.error_matches(function() return sf.dns_compress(sf.IP()) end, "dns_compress: the packet has no DNS layer")
  end)

  it("reads names with escapes, and takes names in wire form as Scapy does", function()
    local q = sf.DNSQR{qname = "a\\.b.c"}
    assert.equal("\3a.b\1c\0\0\1\0\1", q:bytes())
    assert.equal("a\\.b.c.", q.qname)
    q.qname = "\3www\0"
    assert.equal("www.", q.qname)
    q.qname = "."
    assert.equal(".", q.qname)
    assert.equal(5, #q:bytes())
  end)
end)

describe("DNS malformed input", function()
  local function dns(hexstr) return sf.Packet(unhex(hexstr), {proto = "DNS"}) end

  it("stops at a compression loop and at pointers out of bounds, keeping the bytes", function()
    -- "\4data\xc0\x0c": the name points at itself
    local p = dns("000081000001000000000000" .. "0464617461c00c" .. "00010001")
    assert.equal("\4data\192\12", p[sf.DNS].qd[1].qname)  -- undecodable: its bytes
    assert.is_false(p.truncated)
    local far = dns("000081000001000000000000" .. "c0ff" .. "00010001")
    assert.equal("\192\255", far[sf.DNS].qd[1].qname)
  end)

  it("keeps the records that parse and marks the rest Raw", function()
    local good = sf.DNS{qd = sf.DNSQR{qname = "x.example"},
      an = {sf.DNSRR{rrname = "x.example", rdata = "192.0.2.7"}, sf.DNSRR{rrname = "y", rdata = "192.0.2.8"}}}:bytes()
    for cut = 1, #good - 1 do
      local p = sf.Packet(good:sub(1, cut), {proto = "DNS"})
      assert.equal(cut, #p:bytes())
      local d = p[sf.DNS]
      -- cut inside a record: the rest is Raw; at a record's end: records missing
      assert.is_true(p.truncated or (#d.qd + #d.an < 3 and p:layer(-1).name ~= "Raw"), "cut " .. cut)
    end
    local p = sf.Packet(good:sub(1, #good - 3), {proto = "DNS"})
    assert.equal(2, #p[sf.DNS].qd + #p[sf.DNS].an)
    assert.equal("192.0.2.7", p[sf.DNS].an[1].rdata)
    assert.equal("Raw", p:layer(-1).name)
  end)

  it("reads a typed record whose fields overrun its rdata as a DNSRR", function()
    -- an MX with rdlen 1: too short for its preference and exchange
    local p = dns("000081000000000200000000" .. "00000f0001000000000001ff" .. "0000010001000000000004c0000201")
    local an = p[sf.DNS].an
    assert.equal("DNS Resource Record", an[1].name)
    assert.equal("\255", an[1].rdata)
    assert.equal("192.0.2.1", an[2].rdata)
    -- an A record with rdlen 0 (an RFC 2136 deletion) is no address
    local del = dns("000028000000000100000000" .. "0000010001000000000000")
    assert.same({1, 0, ""}, {del[sf.DNS].an[1].type, del[sf.DNS].an[1].rdlen, del[sf.DNS].an[1].rdata})
  end)

  it("survives tcpdump's malformed DNS captures", function()
    for _, cap in ipairs({"dns_fwdptr.pcap", "dns-badlabel.pcap", "dns-zlip-1.pcap"}) do
      for p in sf.PcapReader(h.path(cap)) do
        local d = p[sf.DNS]
        if d then
          for _, sec in ipairs({"qd", "an", "ns", "ar"}) do
            for _, r in ipairs(d[sec]) do assert.is_not_nil(r.name) end
          end
        end
        assert.equal(#p:bytes(), #p)
        p:show()
      end
    end
  end)

  it("survives random damage", function()
    local base = h.read_pcap(h.path("dnssec.pcap")).packets[2].data
    math.randomseed(7)
    for _ = 1, 2000 do
      local b = {base:byte(1, -1)}
      for _ = 1, math.random(1, 6) do b[math.random(43, #b)] = math.random(0, 255) end
      local p = sf.Packet(string.char(table.unpack(b)))
      p:show()
      assert.equal(#base, #p:bytes())
    end
  end)
end)

-- tests/data/dns/scapy_golden.tsv: random messages (tests/dns/gen_dns.lua,
-- seed 20241130) and the bytes Scapy 2.5 built for each
describe("DNS against Scapy's golden bytes", function()
  local env = setmetatable({}, {__index = function(_, k) return sf[k] or _G[k] end})
  local cases = {}
  for line in io.lines(h.path("dns/scapy_golden.tsv")) do
    local lua_expr, scapy = line:match("^(.-)\t(%x+)$")
    cases[#cases + 1] = {lua_expr, scapy}
  end

  it("builds Scapy's bytes", function()
    assert.is_true(#cases >= 300)
    for _, c in ipairs(cases) do
      local p = assert(load("return " .. c[1], "=case", "t", env))()
      assert.equal(c[2], hex(p:bytes()), c[1])
    end
  end)

  -- every record of the message, as sflua reads each field
  local function records(p)
    local out = {}
    for i = 1, p.layer_count do
      local id, _, _, _, flags = p:_layer_info(i)
      local info = require("stackforge.layers").protos[id + 1]
      if info.record then
        local vals = {}
        for fi, f in ipairs(info.fields) do
          local v = p:_field(i, fi - 1)
          if v ~= nil then
            if type(v) == "table" then
              local t = {}
              for k, x in ipairs(v) do t[k] = type(x) == "userdata" and hex(x:bytes()) or tostring(x) end
              v = table.concat(t, "|")
            end
            vals[#vals + 1] = f.name .. "=" .. tostring(v)
          end
        end
        out[#out + 1] = info.name .. " " .. table.concat(vals, " ")
        assert.equal(0, flags & 4)
      end
    end
    return out
  end

  it("parses Scapy's bytes to the records built", function()
    for _, c in ipairs(cases) do
      local built = assert(load("return " .. c[1], "=case", "t", env))():build()
      local first = c[1]:match("^IP") and {linktype = 101} or {proto = "DNS"}
      local p = sf.Packet(unhex(c[2]), first)
      assert.is_false(p.truncated, c[1])
      assert.equal(c[2], hex(p:bytes()))
      local d = p[sf.DNS]
      assert.equal(d.qdcount + d.ancount + d.nscount + d.arcount, #d.qd + #d.an + #d.ns + #d.ar)
      -- a record reads back as the class its type picks (a DNSRR of
      -- type MX as a DNSRRMX): the same class, the same values
      local want, got = records(built), records(p)
      assert.equal(#want, #got, c[1])
      for i = 1, #want do
        if want[i]:match("^%S+") == got[i]:match("^%S+") then assert.equal(want[i], got[i], c[1]) end
      end
    end
  end)
end)
