-- BOOTP and DHCP (core/proto/dhcp.c, stdlib/stackforge/codecs/dhcp.lua):
-- built as Scapy builds them, parsed as tshark reads real programs'
-- captures, options typed, bad input kept.
local sf = require("stackforge")
local h = require("helpers")
local df = require("dhcp_fields")
local show = require("stackforge.show")
local Ether, IP, UDP, BOOTP, DHCP, Packet = sf.Ether, sf.IP, sf.UDP, sf.BOOTP, sf.DHCP, sf.Packet

local function err(f)
  local ok, msg = pcall(f)
  assert.is_false(ok)
  return tostring(msg)
end

local function opts(list)  -- an option list through the bytes and back
  local p = Packet((Ether() / IP() / UDP() / BOOTP() / DHCP{options = list}):bytes())
  return p[DHCP].options, p
end

local function option_bytes(list)
  return (BOOTP() / DHCP{options = list}):bytes():sub(241)
end

describe("BOOTP and DHCP building", function()
  it("writes Scapy's ports and the magic cookie", function()
    local p = Packet((Ether() / IP() / UDP() / BOOTP() / DHCP()):bytes())
    assert.equal(67, p.sport)  -- UDP()/BOOTP() in Scapy 2.5
    assert.equal(68, p.dport)
    assert.equal("c\130Sc", p[BOOTP].options)
    assert.equal("Ethernet / IPv4 / UDP / BOOTP", p:summary())  -- no options, no DHCP layer
    p = Packet((Ether() / IP() / UDP{sport = 68, dport = 67} / BOOTP()):bytes())
    assert.equal(68, p.sport)
    assert.equal("", p[BOOTP].options)
    p = Packet((Ether() / IP() / UDP{sport = 5} / BOOTP()):bytes())
    assert.equal(5, p.sport)
    assert.equal(68, p.dport)
    -- options set by the user are theirs: no cookie
    assert.equal(236, #(BOOTP{options = ""} / DHCP()):bytes())
    assert.equal(240, #(BOOTP() / DHCP()):bytes())
  end)

  it("takes chaddr as a MAC address and pads it", function()
    local b = BOOTP{chaddr = "00:0b:82:01:fc:42"}
    assert.equal("\0\11\130\1\252\66" .. ("\0"):rep(10), b:bytes():sub(29, 44))
    assert.equal("00:0b:82:01:fc:42", Packet(b:bytes(), {proto = "BOOTP"})[BOOTP].chaddr)
    local raw = "0123456789abcdef"
    b = BOOTP{chaddr = raw}  -- bytes, as Scapy takes them
    assert.equal(raw, b:bytes():sub(29, 44))
    assert.equal(raw, b[BOOTP].chaddr)  -- not a MAC: the bytes
    b = BOOTP{chaddr = "\1\2\3\4\5\6"}
    assert.equal("01:02:03:04:05:06", b[BOOTP].chaddr)
    local m = err(function() return BOOTP{chaddr = "00:0b:82:01:fc:42:77"} end)
    assert.truthy(m:find("BOOTP.chaddr", 1, true), m)
    assert.truthy(m:find("MAC address", 1, true), m)
    assert.truthy(m:find("dhcp_spec.lua:%d+:"), m)
  end)

  it("reads and writes sname and file as text", function()
    local b = BOOTP{sname = "tftp.example", file = "pxelinux.0"}
    assert.equal("tftp.example" .. ("\0"):rep(52), b:bytes():sub(45, 108))
    assert.equal("pxelinux.0", b[BOOTP].file)
    assert.equal("", BOOTP()[BOOTP].sname)
    local m = err(function() return BOOTP{sname = ("x"):rep(65)} end)
    assert.truthy(m:find("BOOTP.sname", 1, true), m)
    -- bytes after the first NUL (overloaded options) are not text: kept whole
    local raw = BOOTP():bytes()
    raw = raw:sub(1, 44) .. "a\0b" .. raw:sub(48)
    assert.equal(64, #Packet(raw, {proto = "BOOTP"})[BOOTP].sname)
  end)

  it("builds a reply from a request", function()
    local req = sf.rdpcap(h.path("charrua-dhcp2.pcap"))[1]
    local b = req[BOOTP]
    local reply = Ether{dst = req.src} / IP{src = "192.168.0.1", dst = "192.168.0.10"} /
      UDP{sport = 67, dport = 68} /
      BOOTP{op = 2, xid = b.xid, yiaddr = "192.168.0.10", siaddr = "192.168.0.1", chaddr = b.chaddr} /
      DHCP{options = {{"message-type", "offer"}, {"server_id", "192.168.0.1"},
        {"lease_time", 3600}, {"subnet_mask", "255.255.255.0"},
        {"router", "192.168.0.1"}, {"name_server", {"192.168.0.1", "192.168.0.2"}}, "end"}}
    local p = Packet(reply:bytes())
    assert.equal("BOOTREPLY", show.show(p):match("op%s+= (%S+)"))
    assert.equal(0x3d1d, p[BOOTP].xid)
    assert.equal("00:0b:82:01:fc:42", p[BOOTP].chaddr)
    assert.same({"name_server", "192.168.0.1", "192.168.0.2"}, p[DHCP].options[6])
    -- the offer in the same capture, from the same values in another order
    local offer = sf.rdpcap(h.path("charrua-dhcp2.pcap"))[2]
    local again = BOOTP{op = 2, xid = b.xid, yiaddr = "192.168.0.10", siaddr = "192.168.0.1",
      chaddr = b.chaddr} / DHCP{options = offer[DHCP].options}
    assert.equal(offer:bytes():sub(43, 42 + #again:bytes()), again:bytes())
  end)

  it("encodes typed options as the RFCs' examples", function()
    -- RFC 3397 section 4
    assert.equal("\119\27\3eng\5apple\3com\0\9marketing\192\4",
      option_bytes({{"domain_search", {"eng.apple.com", "marketing.apple.com"}}}))
    -- RFC 3442 section 3's encodings: 0/0, 10/8, 10.17/16, 10.27.129/24, 10.229.0.128/25
    assert.equal("\121\35" .. "\0\1\2\3\4" .. "\8\10\1\2\3\4" .. "\16\10\17\1\2\3\4" ..
      "\24\10\27\129\1\2\3\4" .. "\25\10\229\0\128\1\2\3\4",
      option_bytes({{"classless_static_routes", {{"0.0.0.0/0", "1.2.3.4"},
        {"10.0.0.0/8", "1.2.3.4"}, {"10.17.0.0/16", "1.2.3.4"}, "10.27.129.0/24:1.2.3.4",
        {"10.229.0.128/25", "1.2.3.4"}}}}))
    -- RFC 4702: flags, two rcodes, a name in DNS wire format with E
    assert.equal("\81\9\5\0\0\4host\0" .. "\81\8\5\0\0\4host",
      option_bytes({{"client_FQDN", {flags = 5, name = "host."}},
        {"client_FQDN", {flags = 5, name = "host"}}}))
    assert.equal("\81\7\0\255\255host", option_bytes({{"client_FQDN",
      {flags = 0, rcode1 = 255, rcode2 = 255, name = "host"}}}))
    -- RFC 3046 sub-options; RFC 4361 client ids
    assert.equal("\82\13\1\3abc\2\0\5\4\10\0\0\1",
      option_bytes({{"relay_agent_information", {{"circuit_id", "abc"}, {"remote_id", ""},
        {"link_selection", "10.0.0.1"}}}}))
    assert.equal("\61\7\1\0\17\34\51\68\85" .. "\61\4\0abc",
      option_bytes({{"client_id", {1, "00:11:22:33:44:55"}}, {"client_id", {0, "abc"}}}))
    assert.equal("\55\3\1\3\6", option_bytes({{"param_req_list", {"subnet_mask", 3, "name_server"}}}))
    assert.equal("\53\1\3\255\0\0", option_bytes({{"message-type", "request"}, "end", "pad", {"pad"}}))
    assert.equal("\51\4\255\255\255\255\2\4\255\255\255\0",
      option_bytes({{"lease_time", 0xffffffff}, {"time_zone", -256}}))
    assert.equal("\200\2hi", option_bytes({{200, "hi"}}))
    assert.equal("\12\2hi", option_bytes({{12, "hi"}}))  -- by number: the bytes as they are
  end)

  it("reads back every typed value", function()
    local list = {{"message-type", "discover"}, {"requested_addr", "10.0.0.5"},
      {"name_server", "1.1.1.1", "8.8.8.8"}, {"lease_time", 3600}, {"time_zone", -3600},
      {"max_dhcp_size", 1500}, {"default_ttl", 64}, {"hostname", "box"},
      {"param_req_list", {"subnet_mask", "router", 252}},
      {"client_id", {1, "00:0b:82:01:fc:42"}}, {"client_id", {255, "\0\0\0\1duid"}},
      {"client_FQDN", {flags = 5, rcode1 = 0, rcode2 = 0, name = "a.example."}},
      {"relay_agent_information", {{"circuit_id", "eth0"}, {"server_id_override", "10.0.0.1"},
        {"flags", 1}, {99, "x"}}},
      {"domain_search", {"eng.apple.com", "apple.com", "."}},
      {"classless_static_routes", {{"10.0.0.0/8", "10.0.0.1"}, {"0.0.0.0/0", "10.0.0.254"}}},
      {"vendor_specific", "\1\2\3"}, {250, "\9\9"}, "pad", "end"}
    assert.same(list, (opts(list)))
    assert.same({{"message-type", 77}, {"router", "10.0.0.1"}},
      (opts({{"message-type", 77}, {"router", {"10.0.0.1"}}})))
  end)

  it("shows options and reads them as a list", function()
    local p = Ether() / IP() / UDP() / BOOTP() / DHCP{options = {{"message-type", "offer"}, "end"}}
    assert.truthy(show.show(p):find('options   = {{"message-type", "offer"}, "end"}', 1, true))
    p[DHCP].options = {{"message-type", "ack"}, {"lease_time", 60}, "end"}
    local q = Packet(p:bytes())
    assert.same({{"message-type", "ack"}, {"lease_time", 60}, "end"}, q[DHCP].options)
    assert.equal(#p:bytes() - 34, q[UDP].len)  -- lengths follow
  end)
end)

describe("DHCP option errors", function()
  local function build(list) return DHCP{options = list} end

  it("name the option, the value and what is allowed, at the caller's line", function()
    local m = err(function() return build({{"mesage-type", "discover"}}) end)
    assert.truthy(m:find("unknown DHCP option 'mesage-type'", 1, true), m)
    assert.truthy(m:find('"message-type"', 1, true), m)  -- did you mean
    assert.truthy(m:find("dhcp_spec.lua:%d+:"), m)
    m = err(function() return build({{"router", "10.0.0"}}) end)
    assert.truthy(m:find("DHCP option router: bad IPv4 address 10.0.0", 1, true), m)
    m = err(function() return build({{"lease_time", -1 << 40}}) end)
    assert.truthy(m:find("DHCP option lease_time: bad value", 1, true), m)
    m = err(function() return build({{"default_ttl", 256}}) end)
    assert.truthy(m:find("0..255", 1, true), m)
    m = err(function() return build({{"message-type", "discovery"}}) end)
    assert.truthy(m:find("discover, offer", 1, true), m)
    m = err(function() return build({{"param_req_list", {"routers"}}}) end)
    assert.truthy(m:find("bad option routers", 1, true), m)
    m = err(function() return build({"ned"}) end)
    assert.truthy(m:find('item 1 (ned) is not "end"', 1, true), m)
    m = err(function() return build({{"classless_static_routes", {{"10.0.0.0/33", "1.2.3.4"}}}}) end)
    assert.truthy(m:find("bad route", 1, true), m)
    m = err(function() return build({{"hostname", ("x"):rep(256)}}) end)
    assert.truthy(m:find("256 bytes is too long", 1, true), m)
    m = err(function() return build({{"client_id", {"x", "y"}}}) end)
    assert.truthy(m:find("{type, id}", 1, true), m)
    m = err(function() return build({{"relay_agent_information", {{"circuit", "x"}}}}) end)
    assert.truthy(m:find("unknown sub-option 'circuit'", 1, true), m)
    m = err(function() return build({{"domain_search", {("a"):rep(64) .. ".com"}}}) end)
    assert.truthy(m:find("longer than 63", 1, true), m)
    m = err(function() return build({{"hostname", 5}}) end)
    assert.truthy(m:find("expected a string", 1, true), m)
    m = err(function() return build(5) end)
    assert.truthy(m:find("DHCP.options", 1, true), m)
  end)
end)

describe("BOOTP and DHCP parsing", function()
  -- tshark's fields (tests/interop/run_dhcp_tshark.sh makes them; it also
  -- runs this spec over fresh ones through SFLUA_DHCP_REF)
  local refdir = os.getenv("SFLUA_DHCP_REF") or h.datadir
  local function tsv_rows(name)
    return h.read_tsv(refdir .. "/" .. name .. ".dhcp.tsv")
  end

  -- others' captures, and run_dhcp_clients.sh's (udhcpc, dhclient and
  -- sflua against dnsmasq)
  for _, name in ipairs({"charrua-dhcp.pcap", "charrua-dhcp2.pcap", "dhcp-rfc3004.pcap",
                         "dhcp-option-108.pcapng", "dhcp-dnsmasq-udhcpc.pcap",
                         "dhcp-dnsmasq-dhclient.pcap", "dhcp-dnsmasq-sflua.pcap"}) do
    it(name .. " reads as tshark reads it, field by field", function()
      local rows = tsv_rows(name)
      local pkts = sf.rdpcap(h.path(name))
      assert.equal(#rows, #pkts)
      for i, p in ipairs(pkts) do
        assert.is_false(p.truncated)
        local errs = df.check(p, rows[i])
        assert(#errs == 0, ("%s packet %d: %s"):format(name, i, table.concat(errs, "\n")))
      end
    end)
  end

  it("compares all it claims to (a changed value fails)", function()
    local p = sf.rdpcap(h.path("charrua-dhcp2.pcap"))[1]
    local row = tsv_rows("charrua-dhcp2.pcap")[1]
    assert.same({}, df.check(p, row))
    for _, f in ipairs({"dhcp.option.type", "dhcp.option.value", "dhcp.id", "dhcp.hw.mac_addr",
                        "dhcp.option.request_list_item", "dhcp.option.padding"}) do
      local bad = {}
      for k, v in pairs(row) do bad[k] = v end
      bad[f] = (bad[f] or "") .. ",1"
      assert.equal(1, #df.check(p, bad), f)
    end
  end)

  it("keeps BOOTP without the cookie whole: the vendor area is its options", function()
    local p = Packet((Ether() / IP() / UDP{sport = 68, dport = 67} /
      BOOTP{options = "vendor data"}):bytes())
    assert.equal("Ethernet / IPv4 / UDP / BOOTP", p:summary())
    assert.equal("vendor data", p[BOOTP].options)
  end)

  it("puts bytes after the end option in Padding", function()
    local raw = (Ether() / IP() / UDP() / BOOTP() / DHCP{options = {{"message-type", "ack"}, "end"}} /
      ("\0"):rep(7)):bytes()
    local p = Packet(raw)
    assert.equal("Ethernet / IPv4 / UDP / BOOTP / DHCP / Padding", p:summary())
    assert.same({{"message-type", "ack"}, "end"}, p[DHCP].options)
    assert.equal(raw, p:bytes())
  end)

  it("keeps what parsed when an option runs past the end, the rest Raw", function()
    local good = DHCP{options = {{"message-type", "ack"}, {"router", "10.0.0.1"}}}:bytes()
    for _, tail in ipairs({"\6\9\1\2\3", "\6", "\12\255abc"}) do
      local raw = (Ether() / IP() / UDP() / BOOTP() / DHCP{options = good .. tail}):bytes()
      local p = Packet(raw)
      assert.is_true(p.truncated)
      assert.equal("Ethernet / IPv4 / UDP / BOOTP / DHCP / Raw", p:summary():gsub(" / Padding", ""))
      assert.same({{"message-type", "ack"}, {"router", "10.0.0.1"}}, p[DHCP].options)
      assert.equal(tail, p[sf.Raw].load)
      assert.equal(raw, p:bytes())
    end
    -- the first option already broken: no DHCP layer, all Raw
    local p = Packet((Ether() / IP() / UDP{sport = 67, dport = 68} /
      (BOOTP():bytes() .. "c\130Sc\53\9")):bytes())
    assert.is_true(p.truncated)
    assert.equal("Ethernet / IPv4 / UDP / BOOTP / Raw", p:summary())
    -- BOOTP cut short
    p = Packet((Ether() / IP() / UDP{sport = 68, dport = 67} / ("\1"):rep(100)):bytes())
    assert.is_true(p.truncated)
    assert.equal("Ethernet / IPv4 / UDP / Raw", p:summary())
  end)

  it("keeps options whose bytes do not fit their type as {code, bytes}", function()
    local function parse(body)
      return Packet(BOOTP():bytes() .. "c\130Sc" .. body .. "\255", {proto = "BOOTP"})[DHCP].options
    end
    assert.same({{50, "\1\2\3"}, "end"}, parse("\50\3\1\2\3"))
    assert.same({{53, "\1\2"}, "end"}, parse("\53\2\1\2"))
    assert.same({{121, "\33\1\2\3\4\5"}, "end"}, parse("\121\6\33\1\2\3\4\5"))
    assert.same({{119, "\192\0"}, "end"}, parse("\119\2\192\0"))  -- a pointer loop
    assert.same({{119, "\3abc"}, "end"}, parse("\119\4\3abc"))  -- no root label
    assert.same({{119, "\192\9"}, "end"}, parse("\119\2\192\9"))  -- past the data
    assert.same({{82, "\1\5ab"}, "end"}, parse("\82\4\1\5ab"))
    assert.same({{61, ""}, "end"}, parse("\61\0"))
    assert.same({{"relay_agent_information", {{"link_selection", "1.2.3.4"}, {5, "\1\2"}}}, "end"},
      parse("\82\10\5\4\1\2\3\4\5\2\1\2"))
    -- and they build back to the same bytes
    local p = Packet(BOOTP():bytes() .. "c\130Sc\50\3\1\2\3\255", {proto = "BOOTP"})
    assert.equal("\50\3\1\2\3\255", DHCP{options = p[DHCP].options}:bytes())
  end)
end)

describe("Scapy golden packets (tests/data/dhcp_golden.lua)", function()
  local gc = dofile(h.datadir .. "/../interop/dhcp_golden_check.lua")
  local golden = dofile(h.path("dhcp_golden.lua"))

  it("has at least 300 cases, and Scapy's option names", function()
    assert.is_true(#golden.cases >= 300)
    assert.same({}, gc.names(golden))
  end)

  it("build to Scapy's bytes and parse to Scapy's fields", function()
    local failed = {}
    for n, case in ipairs(golden.cases) do
      local errs = gc.check(sf, case, golden.names)
      if #errs > 0 and #failed < 5 then
        failed[#failed + 1] = ("case %d: %s\n  %s"):format(n, case.expr, table.concat(errs, "\n  "))
      end
    end
    assert(#failed == 0, table.concat(failed, "\n"))
  end)
end)
