-- Capture files: PcapReader, PcapWriter, rdpcap, wrpcap, wrpcapng.
-- tests/pcap/interop.py checks the same against tshark and capinfos.
local sf = require("stackforge")
local h = require("helpers")
local PcapReader, PcapWriter = sf.PcapReader, sf.PcapWriter
local rdpcap, wrpcap, wrpcapng = sf.rdpcap, sf.wrpcap, sf.wrpcapng

local function tmpname(ext)
  local n = os.tmpname()
  os.remove(n)
  return n .. ext
end

local function write_file(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local d = f:read("a")
  f:close()
  return d
end

local function err(f)
  local ok, msg = pcall(f)
  assert.is_false(ok)
  return tostring(msg)
end

-- every packet of path through PcapReader, and the error if it stopped
local function read_all(path, opts)
  local pkts, r = {}, PcapReader(path, opts)
  local ok, msg = pcall(function() for p in r do pkts[#pkts + 1] = p end end)
  return pkts, not ok and tostring(msg) or nil
end

-- ---- hand-made files ------------------------------------------------------

local function pcap_header(e, magic, snaplen, linktype)
  return string.pack(e .. "I4I2I2i4I4I4I4", magic, 2, 4, 0, 0, snaplen, linktype)
end

local function pcap_record(e, sec, frac, data, wirelen)
  return string.pack(e .. "I4I4I4I4", sec, frac, #data, wirelen or #data) .. data
end

local function pad4(s) return s .. ("\0"):rep((4 - #s % 4) % 4) end

-- pcapng block: type, body (padded), framed by its total length
local function block(e, btype, body, len)
  body = pad4(body)
  len = len or #body + 12
  return string.pack(e .. "I4I4", btype, len) .. body .. string.pack(e .. "I4", len)
end

local function shb(e) return block(e, 0x0a0d0d0a, string.pack(e .. "I4I2I2i8", 0x1a2b3c4d, 1, 0, -1)) end

local function option(e, code, value)
  return string.pack(e .. "I2I2", code, #value) .. pad4(value)
end

local function idb(e, linktype, snaplen, opts)
  return block(e, 1, string.pack(e .. "I2I2I4", linktype, 0, snaplen or 0) .. (opts or ""))
end

local function epb(e, iface, ts, data, opts, wirelen)
  return block(e, 6, string.pack(e .. "I4I4I4I4I4", iface, ts >> 32, ts & 0xffffffff,
    #data, wirelen or #data) .. pad4(data) .. (opts or ""))
end

local frame = (sf.Ether() / sf.IP{dst = "192.0.2.1"} / sf.UDP{dport = 53} / "hello"):bytes()

describe("PcapReader", function()
  it("reads classic pcap with the times, lengths and bytes of the file", function()
    local ref = h.read_pcap(h.path("http.pcap"))
    local pkts = read_all(h.path("http.pcap"))
    assert.equal(#ref.packets, #pkts)
    for i, p in ipairs(pkts) do
      assert.equal(ref.packets[i].data, p:bytes())
      assert.equal(ref.packets[i].wirelen, p.wirelen)
      assert.near(ref.packets[i].time, p.time, 1e-6)
      assert.equal(1, p.linktype)
      assert.equal(0, p.interface_id)
    end
    assert.equal(1084443427311224000, pkts[1].time_ns)
  end)

  it("keeps nanosecond times exact", function()
    local ref = h.read_pcap(h.path("tcp-handshake-nano.pcap"))
    local pkts = read_all(h.path("tcp-handshake-nano.pcap"))
    assert.equal(#ref.packets, #pkts)
    local f = assert(io.open(h.path("tcp-handshake-nano.pcap"), "rb"))
    local d = f:read("a")
    f:close()
    local sec, ns = string.unpack("<I4I4", d, 25)
    assert.equal(sec * 1000000000 + ns, pkts[1].time_ns)
    assert.is_true(PcapReader(h.path("tcp-handshake-nano.pcap")).nanosecond)
  end)

  it("reads both byte orders", function()
    for _, e in ipairs({"<", ">"}) do
      local path = tmpname(".pcap")
      write_file(path, pcap_header(e, 0xa1b2c3d4, 65535, 1) ..
        pcap_record(e, 1700000000, 123456, frame) .. pcap_record(e, 1700000001, 5, frame, 1000))
      local pkts = read_all(path)
      os.remove(path)
      assert.equal(2, #pkts)
      assert.equal(1700000000123456000, pkts[1].time_ns)
      assert.equal(1000, pkts[2].wirelen)
      assert.equal(frame, pkts[2]:bytes())
      assert.equal("Ethernet / IPv4 / UDP / Raw", pkts[1]:summary())
    end
  end)

  it("reads the modified (Kuznetzov) pcap variant", function()
    local path = tmpname(".pcap")
    local rec = string.pack("<I4I4I4I4I4I2I1I1", 1, 2, #frame, #frame, 3, 0x0800, 0, 0) .. frame
    write_file(path, pcap_header("<", 0xa1b2cd34, 65535, 1) .. rec .. rec)
    local pkts = read_all(path)
    os.remove(path)
    assert.equal(2, #pkts)
    assert.equal(frame, pkts[2]:bytes())
  end)

  it("reads the pcapng conformance suite in both byte orders", function()
    for _, t in ipairs({"basic/test001", "basic/test006", "basic/test010", "basic/test012",
                        "advanced/test100", "advanced/test102", "difficult/test202"}) do
      local txt = read_file(h.path("pcapng-conformance/le/" .. t .. ".txt"))
      local want = 0
      for kind, n in txt:gmatch("\n\t(%u+): (%d+)") do
        if kind == "EPB" or kind == "SPB" or kind == "PB" then want = want + tonumber(n) end
      end
      local le = read_all(h.path("pcapng-conformance/le/" .. t .. ".pcapng"))
      local be = read_all(h.path("pcapng-conformance/be/" .. t .. ".pcapng"))
      assert.equal(want, #le, t)
      assert.equal(want, #be, t)
      for i = 1, #le do
        assert.equal(le[i]:bytes(), be[i]:bytes())
        assert.equal(le[i].time_ns, be[i].time_ns)
        assert.equal(le[i].linktype, be[i].linktype)
      end
    end
  end)

  it("applies if_tsresol and if_tsoffset", function()
    local e, path = "<", tmpname(".pcapng")
    write_file(path, shb(e) ..
      idb(e, 1, 0, option(e, 9, "\x03") .. option(e, 14, string.pack("<i8", 1000))) ..  -- ms
      idb(e, 1, 0, option(e, 9, "\x94")) ..                                             -- 2^-20 s
      epb(e, 0, 1500, frame) .. epb(e, 1, 3 << 19, frame))
    local pkts = read_all(path)
    os.remove(path)
    assert.equal((1000 + 1) * 1000000000 + 500000000, pkts[1].time_ns)
    assert.equal(1500000000, pkts[2].time_ns)
    assert.same({0, 1}, {pkts[1].interface_id, pkts[2].interface_id})
  end)

  it("reads packet comments and interfaces of several link types", function()
    local pkts = read_all(h.path("pcapng-conformance/le/basic/test009.pcapng"))
    assert.equal("test009-1", pkts[1].comment)
    local lts = {}
    for _, p in ipairs(read_all(h.path("pcapng-conformance/le/basic/test006.pcapng"))) do
      lts[p.linktype] = (lts[p.linktype] or 0) + 1
    end
    assert.same({[1] = 4, [0] = 1}, lts)
    assert.is_nil(read_all(h.path("http.pcap"))[1].comment)
  end)

  it("numbers interfaces across sections", function()
    local pkts = read_all(h.path("pcapng-conformance/le/difficult/test202.pcapng"))
    assert.equal(4, pkts[#pkts].interface_id)
  end)

  it("dissects each packet from its link type", function()
    local cases = {
      {"mptcp-v1.pcap", 113, "Linux cooked / IP"},
      {"quic_handshake.pcap", 0, "Loopback / IP"},
      {"LINKTYPE_IPV6.pcap", 229, "IPv6"},
      {"ieee802.11_htc.pcap", 127, "Raw"},
      {"zigbee-join-authenticate.pcap", 230, "Raw"},
    }
    for _, c in ipairs(cases) do
      local p = rdpcap(h.path(c[1]), {count = 1, strict = false})[1]
      assert.equal(c[2], p.linktype, c[1])
      assert.equal(c[3], p:summary():sub(1, #c[3]), c[1])
    end
    local sll = rdpcap(h.path("mptcp-v1.pcap"), {count = 1})[1]
    assert.truthy(sll:has_layer(sf.TCP))
    assert.equal(0x0800, sll[sf.CookedLinux].proto)
  end)

  it("makes Packet(raw, {linktype=N}) dissect the same way", function()
    local sll = string.pack(">I2I2I2", 0, 1, 6) .. ("\1"):rep(8) .. string.pack(">I2", 0x86dd)
    local ip6 = (sf.IPv6() / sf.UDP()):bytes()
    assert.equal("Linux cooked / IPv6 / UDP", sf.Packet(sll .. ip6, {linktype = 113}):summary())
    local sll2 = string.pack(">I2I2I4I2I1I1", 0x0800, 0, 3, 1, 0, 6) .. ("\2"):rep(8)
    local ip4 = (sf.IP() / sf.TCP()):bytes()
    local p = sf.Packet(sll2 .. ip4, {linktype = 276})
    assert.equal("Linux cooked v2 / IPv4 / TCP", p:summary())
    assert.equal(3, p[sf.CookedLinuxV2].ifindex)
    assert.equal("Loopback / IPv4 / TCP", sf.Packet("\2\0\0\0" .. ip4, {linktype = 0}):summary())
    assert.equal("Loopback / IPv6 / UDP", sf.Packet("\0\0\0\30" .. ip6, {linktype = 108}):summary())
    assert.equal("Loopback / IPv6 / UDP", sf.Packet("\28\0\0\0" .. ip6, {linktype = 0}):summary())
    assert.equal("Raw", sf.Packet(ip4, {linktype = 105}):summary())
  end)

  it("builds the new link layers", function()
    local p = sf.Loopback() / sf.IPv6() / sf.UDP()
    assert.equal(("<I4"):pack(24), p:bytes():sub(1, 4))
    p = sf.LoopbackBE() / sf.IP() / sf.UDP()
    assert.equal((">I4"):pack(2), p:bytes():sub(1, 4))
    p = sf.CookedLinux() / sf.IPv6() / sf.UDP()
    assert.equal(0x86dd, string.unpack(">I2", p:bytes(), 15))
    p = sf.CookedLinuxV2() / sf.IP() / sf.TCP()
    assert.equal(0x0800, string.unpack(">I2", p:bytes(), 1))
  end)

  it("reads gzip-compressed captures", function()
    local pkts = read_all(h.path("http_head.pcapng.gz"))
    assert.equal(10, #pkts)
    assert.truthy(pkts[1]:has_layer(sf.TCP))
  end)

  it("streams from stdin", function()
    local bin = os.getenv("SFLUA_BIN")
    if not bin then return end
    local cmd = ("%s -e 'local n = 0 for p in PcapReader(\"-\") do n = n + #p end print(n)' < %s")
      :format(bin, h.path("http.pcap"))
    local out = io.popen(cmd):read("a")
    local total = 0
    for _, p in ipairs(h.read_pcap(h.path("http.pcap")).packets) do total = total + #p.data end
    assert.equal(tostring(total), out:match("%d+"))
  end)

  it("is closed like a Lua file", function()
    local r = PcapReader(h.path("http.pcap"))
    assert.truthy(tostring(r):find("PcapReader (pcap", 1, true))
    assert.equal("pcap", r.format)
    assert.equal(1, r.linktype)
    r:close()
    r:close()  -- harmless
    assert.is_true(r.closed)
    assert.truthy(err(function() return r:read() end):find("attempt to use a closed PcapReader", 1, true))
    assert.equal("PcapReader (closed)", tostring(r))
    do
      local r2 <close> = PcapReader(h.path("http.pcap"))
      r = r2
      assert.truthy(r2:read())
    end
    assert.is_true(r.closed)
  end)

  it("keeps packets alive and changeable after the reader is gone", function()
    local r = PcapReader(h.path("http.pcap"))
    local p, q = r:read(), r:read()
    local before = p:bytes()
    r:close()
    r = nil
    collectgarbage()
    collectgarbage()
    assert.equal(before, p:bytes())
    p[sf.TCP].dport = 8080
    assert.equal(8080, p.dport)
    assert.are_not.equal(before, p:bytes())  -- copy on write
    assert.equal(80, q.sport)
    local again = rdpcap(h.path("http.pcap"), {count = 1})[1]
    assert.equal(before, again:bytes())      -- the file is untouched
  end)

  it("gives rdpcap a count", function()
    assert.equal(5, #rdpcap(h.path("http.pcap"), {count = 5}))
    assert.equal(0, #rdpcap(h.path("http.pcap"), {count = 0}))
    assert.equal(43, #rdpcap(h.path("http.pcap")))
  end)
end)

describe("damaged captures", function()
  local good = read_file(h.path("http.pcap"))

  it("give every good packet, then the file and the byte offset", function()
    local path = tmpname(".pcap")
    write_file(path, good:sub(1, #good - 10))
    local pkts, msg = read_all(path)
    assert.equal(42, #pkts)
    assert.truthy(msg:find(path, 1, true))
    assert.truthy(msg:find("truncated packet record", 1, true))
    assert.truthy(msg:find("at byte offset 25733", 1, true))
    local list, m2 = rdpcap(path, {partial = true})
    assert.equal(42, #list)
    assert.equal(msg, m2)
    assert.truthy(err(function() return rdpcap(path) end):find("byte offset", 1, true))
    os.remove(path)
  end)

  it("report a captured length above the snaplen unless told not to", function()
    local path = tmpname(".pcap")
    write_file(path, pcap_header("<", 0xa1b2c3d4, 20, 1) .. pcap_record("<", 1, 0, frame))
    local pkts, msg = read_all(path)
    assert.equal(0, #pkts)
    assert.truthy(msg:find("captured length of " .. #frame .. " > the file's snaplen of 20", 1, true))
    assert.truthy(msg:find("at byte offset 24", 1, true))
    pkts, msg = read_all(path, {strict = false})
    assert.equal(1, #pkts)
    assert.is_nil(msg)
    os.remove(path)
  end)

  local function pcapng_error(data)
    local path = tmpname(".pcapng")
    write_file(path, data)
    local pkts, msg = read_all(path)
    os.remove(path)
    return pkts, msg
  end

  it("report a packet block before any interface block", function()
    local e = "<"
    local pkts, msg = pcapng_error(shb(e) .. epb(e, 0, 0, frame))
    assert.equal(0, #pkts)
    assert.truthy(msg:find("before any interface description block at byte offset 28", 1, true))
    pkts, msg = pcapng_error(shb(e) .. idb(e, 1) .. epb(e, 0, 0, frame) .. epb(e, 3, 0, frame))
    assert.equal(1, #pkts)
    assert.truthy(msg:find("refers to interface 3", 1, true))
  end)

  it("report a block length that is not a multiple of 4", function()
    local e = ">"
    local b = idb(e, 1)
    local bad = b:sub(1, 4) .. string.pack(">I4", #b + 1) .. b:sub(9)
    local pkts, msg = pcapng_error(shb(e) .. idb(e, 1) .. epb(e, 0, 0, frame) .. bad)
    assert.equal(1, #pkts)
    assert.truthy(msg:find("not a multiple of 4", 1, true))
    assert.truthy(msg:find("at byte offset " .. #shb(e) + #idb(e, 1) + #epb(e, 0, 0, frame), 1, true))
  end)

  it("report mismatched lengths, bad options and cut blocks", function()
    local e = "<"
    local b = epb(e, 0, 0, frame)
    local pkts, msg = pcapng_error(shb(e) .. idb(e, 1) .. b:sub(1, -5) .. string.pack("<I4", 8))
    assert.equal(0, #pkts)
    assert.truthy(msg:find("trailing length", 1, true))
    pkts, msg = pcapng_error(shb(e) .. idb(e, 1) .. b .. b:sub(1, 30))
    assert.equal(1, #pkts)
    assert.truthy(msg:find("truncated block", 1, true))
    pkts, msg = pcapng_error(shb(e) .. idb(e, 1, 0, string.pack("<I2I2", 9, 200)))
    assert.truthy(msg:find("option 9", 1, true))
    pkts, msg = pcapng_error(shb(e) .. idb(e, 1, 20) .. b)
    assert.truthy(msg:find("interface's snaplen of 20", 1, true))
  end)

  it("say what is wrong with a file that is not a capture", function()
    local path = tmpname(".pcap")
    write_file(path, "hello world, this is text")
    assert.truthy(err(function() return PcapReader(path) end):find("not a pcap or pcapng file", 1, true))
    write_file(path, "")
    assert.truthy(err(function() return PcapReader(path) end):find("empty", 1, true))
    os.remove(path)
    assert.equal(path .. ": No such file or directory", err(function() return PcapReader(path) end))
    assert.truthy(err(function() return rdpcap("/") end):find("Is a directory", 1, true))
  end)
end)

describe("PcapWriter", function()
  local src = rdpcap(h.path("http.pcap"))

  it("round-trips pcap in microseconds and nanoseconds", function()
    for _, ns in ipairs({false, true}) do
      local path = tmpname(".pcap")
      wrpcap(path, src, {nanosecond = ns})
      local back = rdpcap(path)
      local r = PcapReader(path)
      assert.equal(ns, r.nanosecond)
      r:close()
      os.remove(path)
      assert.equal(#src, #back)
      for i = 1, #src do
        assert.equal(src[i]:bytes(), back[i]:bytes())
        assert.equal(src[i].time_ns, back[i].time_ns)
        assert.equal(src[i].wirelen, back[i].wirelen)
      end
    end
  end)

  it("writes pcapng with comments, interfaces and link types kept", function()
    local a = sf.Packet(frame, {time = 1700000000.5})
    a.comment = "first"
    a.interface_id = 3
    local b = sf.Packet((sf.IPv6() / sf.UDP()):bytes(), {linktype = 229})
    b.time_ns = 1700000001123456789
    local c = sf.Packet(frame, {time = 2})
    local path = tmpname(".pcapng")
    wrpcap(path, {a, b, c})
    local back = rdpcap(path)
    os.remove(path)
    assert.equal(3, #back)
    assert.equal("first", back[1].comment)
    assert.is_nil(back[2].comment)
    assert.equal(229, back[2].linktype)
    assert.equal(1700000001123456789, back[2].time_ns)
    assert.same({0, 1, 2}, {back[1].interface_id, back[2].interface_id, back[3].interface_id})
    assert.equal(1700000000500000000, back[1].time_ns)
  end)

  it("refuses a second link type in a pcap file", function()
    local path = tmpname(".pcap")
    local m = err(function()
      wrpcap(path, {sf.Packet(frame), sf.Packet(frame, {linktype = 101})})
    end)
    assert.truthy(m:find("write pcapng to mix them", 1, true))
    os.remove(path)
  end)

  it("writes changed packets with their fields fixed", function()
    local p = rdpcap(h.path("http.pcap"), {count = 1})[1]
    p[sf.IP].ttl = 7
    local path = tmpname(".pcap")
    local w <close> = PcapWriter(path)
    w:write(p):write(sf.Ether() / sf.IP() / sf.TCP())
    assert.equal(2, w.count)
    w:close()
    local back = rdpcap(path)
    os.remove(path)
    assert.equal(7, back[1].ttl)
    assert.equal(p:bytes(), back[1]:bytes())
  end)

  it("honours format, linktype and snaplen", function()
    local path = tmpname(".cap")
    local w = PcapWriter(path, {format = "pcapng", snaplen = 20})
    assert.equal("pcapng", w.format)
    w:write(src[1])
    w:close()
    local back = rdpcap(path)
    assert.equal(20, #back[1])
    assert.equal(src[1].wirelen, back[1].wirelen)
    wrpcapng(path, {})  -- an empty file still opens
    assert.equal(0, #rdpcap(path))
    wrpcap(path, {}, {linktype = 101})
    assert.equal(101, PcapReader(path).linktype)
    os.remove(path)
    assert.truthy(err(function() PcapWriter(path, {format = "xml"}) end):find("pcapng", 1, true))
  end)

  it("copies a reader straight into a writer", function()
    local path = tmpname(".pcapng")
    wrpcap(path, PcapReader(h.path("http.pcap")))
    assert.equal(43, #rdpcap(path))
    os.remove(path)
  end)

  it("is closed like a Lua file", function()
    local path = tmpname(".pcap")
    local w = PcapWriter(path)
    w:close()
    w:close()
    assert.truthy(err(function() w:write(src[1]) end):find("attempt to use a closed PcapWriter", 1, true))
    assert.equal("PcapWriter (closed)", tostring(w))
    os.remove(path)
    assert.truthy(err(function() PcapWriter("/nonexistent/dir/x.pcap") end)
      :find("No such file or directory", 1, true))
  end)
end)
