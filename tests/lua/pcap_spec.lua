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
      {"ieee802.11_htc.pcap", 127, "RadioTap / 802.11 / 802.11 QoS / LLC / SNAP / IPv4"},
      {"zigbee-join-authenticate.pcap", 230, "802.15.4 / Raw"},
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
    assert.equal("802.11", sf.Packet(ip4, {linktype = 105}):summary():sub(1, 6))
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
    assert.equal(m2, msg:sub(-#m2))  -- the same, without the caller's line
    assert.truthy(err(function() return rdpcap(path) end):find("byte offset", 1, true))
    os.remove(path)
  end)

  it("count a captured length above the snaplen as a warning, an error when strict", function()
    local path = tmpname(".pcap")
    write_file(path, pcap_header("<", 0xa1b2c3d4, 20, 1) .. pcap_record("<", 1, 0, frame) ..
      pcap_record("<", 2, 0, frame))
    local r = PcapReader(path)
    local pkts = {}
    for p in r do pkts[#pkts + 1] = p end
    assert.equal(2, #pkts)
    assert.equal(2, r.warnings)
    assert.truthy(r.warning:find("captured length of " .. #frame .. " > the file's snaplen of 20", 1, true))
    assert.truthy(r.warning:find("at byte offset 24", 1, true))
    local msg
    pkts, msg = read_all(path, {strict = true})
    assert.equal(0, #pkts)
    assert.truthy(msg:find("snaplen of 20 at byte offset 24 (an error because strict=true)", 1, true))
    assert.equal(2, #rdpcap(path, {strict = false}))
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
    local path = tmpname(".pcapng")
    write_file(path, shb(e) .. idb(e, 1, 20) .. b)
    pkts, msg = read_all(path, {strict = true})
    assert.truthy(msg:find("interface's snaplen of 20", 1, true))
    local r = PcapReader(path)
    assert.equal(#frame, #r:read())
    assert.equal(1, r.warnings)
    os.remove(path)
  end)

  it("say what is wrong with a file that is not a capture", function()
    local path = tmpname(".pcap")
    write_file(path, "hello world, this is text")
    assert.truthy(err(function() return PcapReader(path) end):find("not a pcap or pcapng file", 1, true))
    write_file(path, "")
    assert.truthy(err(function() return PcapReader(path) end):find("empty", 1, true))
    os.remove(path)
    assert.truthy(err(function() PcapReader(path) end)  -- not a tail call: a line
      :find("pcap_spec.lua:%d+: " .. (path:gsub("%p", "%%%0")) .. ": No such file or directory$"))
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

-- ---- issue 10: nothing lost, nothing silent ----------------------------------

local function listdir(dir)
  local names = {}
  for n in io.popen("ls -A '" .. dir .. "'"):lines() do names[#names + 1] = n end
  table.sort(names)
  return names
end

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p '" .. d .. "'"))
  return d
end

local function rmdir(d) os.execute("rm -rf '" .. d .. "'") end

-- n packets big enough to fill many pages
local function many(n, size)
  local pkts = {}
  for i = 1, n do
    pkts[i] = sf.Packet((sf.Ether() / sf.IP{dst = "192.0.2." .. (i % 250 + 1)} /
      sf.UDP{dport = i % 60000 + 1} / ("x"):rep(size or 200)):bytes(), {time = 1700000000 + i})
  end
  return pkts
end

local function same_packets(a, b)
  assert.equal(#a, #b)
  for i = 1, #a do assert.equal(a[i]:bytes(), b[i]:bytes(), "packet " .. i) end
end

-- a new folder holding x<ext> with pkts: folder, path
local function capture_in_dir(ext, pkts)
  local d = tmpdir()
  local path = d .. "/x" .. ext
  wrpcap(path, pkts)
  return d, path
end

local function truncate(path, size)
  assert(os.execute(("truncate -s %d '%s'"):format(size, path)), "truncate(1) failed")
end

describe("writing over a capture that is being read", function()
  for _, ext in ipairs({".pcap", ".pcapng"}) do
    it("wrpcap(f, rdpcap(f)) keeps every packet (" .. ext .. ")", function()
      local d, path = capture_in_dir(ext, many(3000))
      local before = rdpcap(path)
      wrpcap(path, rdpcap(path))
      same_packets(before, rdpcap(path))
      same_packets(before, rdpcap(path))       -- and the packets read first still are
      assert.same({"x" .. ext}, listdir(d))    -- no temporary file is left
      rmdir(d)
    end)

    it("wrpcap(f, PcapReader(f)) and a PcapWriter over the file being read (" .. ext .. ")", function()
      local pkts = many(2000)
      local d, path = capture_in_dir(ext, pkts)
      wrpcap(path, PcapReader(path))
      same_packets(pkts, rdpcap(path))
      local r = PcapReader(path)
      local w = PcapWriter(path)
      for p in r do w:write(p) end
      assert.equal(#pkts, #rdpcap(path))      -- the old file, until close
      w:close()
      same_packets(pkts, rdpcap(path))
      assert.same({"x" .. ext}, listdir(d))
      rmdir(d)
    end)
  end

  it("leaves the old file whole and no temporary file when writing fails", function()
    local pkts = many(50)
    local d, path = capture_in_dir(".pcap", pkts)
    local old = read_file(path)
    local cases = {
      {function() wrpcap(path, {pkts[1], pkts[2], 42}) end, "item 3 is a number"},
      {function() wrpcap(path, function() error("iterator broke") end) end, "iterator broke"},
      {function() wrpcap(path, {pkts[1], sf.Packet(frame, {time = -5})}) end,
       "does not fit a pcap file"},
      {function() wrpcap(path, {pkts[1], sf.Packet(frame, {linktype = 101})}) end,
       "write pcapng to mix them"},
      {function()
        local w <close> = PcapWriter(path)
        w:write(pkts)
        error("the script failed")                 -- leaves a <close> block
      end, "the script failed"},
    }
    for i, c in ipairs(cases) do
      local m = err(c[1])
      assert.truthy(m:find(c[2], 1, true), ("case %d: %s"):format(i, m))
      assert.equal(old, read_file(path), "case " .. i)
      assert.same({"x.pcap"}, listdir(d), "case " .. i)
    end
    rmdir(d)
  end)

  it("puts a PcapWriter's file in place on close, <close> and collection", function()
    local d = tmpdir()
    local path = d .. "/x.pcapng"
    local w = PcapWriter(path)
    w:write(many(3))
    assert.is_nil(io.open(path))  -- not there until closed
    w = nil
    collectgarbage()
    collectgarbage()
    assert.equal(3, #rdpcap(path))
    do
      local w2 <close> = PcapWriter(path)
      w2:write(many(5))
    end
    assert.equal(5, #rdpcap(path))
    assert.same({"x.pcapng"}, listdir(d))
    rmdir(d)
  end)

  it("keeps the old file's permissions and writes through a symbolic link", function()
    local d, path = capture_in_dir(".pcap", many(2))
    assert(os.execute("chmod 640 '" .. path .. "' && ln -s x.pcap '" .. d .. "/link.pcap'"))
    wrpcap(d .. "/link.pcap", many(4))
    assert.equal(4, #rdpcap(path))
    assert.equal("640", io.popen("stat -c %a '" .. path .. "'"):read("l"))
    assert.equal("link", io.popen("stat -c %F '" .. d .. "/link.pcap'"):read("l"):match("link"))
    rmdir(d)
  end)

  it("anonymize_pcap(f, f) replaces f only when complete", function()
    local pkts = many(500)
    local d, path = capture_in_dir(".pcap", pkts)
    local pol = sf.AnonymizationPolicy{crypto_pan_key = ("\1"):rep(32)}
    local st = sf.anonymize_pcap(path, path, pol)
    assert.equal(500, st.packets)
    local back = rdpcap(path)
    assert.equal(500, #back)
    assert.are_not.equal(pkts[1][sf.IP].dst, back[1][sf.IP].dst)
    -- a damaged input: the output does not appear, an old one is untouched
    local bad = d .. "/bad.pcap"
    local good = read_file(path)
    write_file(bad, good:sub(1, #good - 30))
    assert.is_false(pcall(sf.anonymize_pcap, bad, d .. "/new.pcap", pol))
    assert.is_nil(io.open(d .. "/new.pcap"))
    assert.is_false(pcall(sf.anonymize_pcap, bad, path, pol))
    assert.equal(good, read_file(path))
    assert.same({"bad.pcap", "x.pcap"}, listdir(d))
    rmdir(d)
  end)
end)

describe("a capture cut short while it is read", function()
  for _, ext in ipairs({".pcap", ".pcapng"}) do
    it("is an error naming the file, after the packets before the cut (" .. ext .. ")", function()
      local d, path = capture_in_dir(ext, many(3000))
      local r = PcapReader(path)
      for _ = 1, 10 do assert.truthy(r:read()) end
      truncate(path, 100000)
      local n, ok, msg = 10, pcall(function() for _ in r do end end)
      ok, msg = pcall(function() for _ in r do n = n + 1 end end)
      assert.is_false(ok)
      assert.truthy(msg:find(path .. ": the file was cut short while it was being read", 1, true), msg)
      assert.truthy(n < 3000)
      rmdir(d)
    end)
  end

  it("is an error when the cut is inside the last page (no fault shows it)", function()
    local d, path = capture_in_dir(".pcap", many(20, 100))  -- about 3 KB: one page
    local r = PcapReader(path)
    r:read()
    truncate(path, 1000)
    local ok, msg = pcall(function() for _ in r do end end)
    assert.is_false(ok)
    assert.truthy(msg:find("cut short", 1, true), msg)
    rmdir(d)
  end)

  it("leaves packets held from it readable, and refuses to write them", function()
    local d, path = capture_in_dir(".pcap", many(3000))
    local held = rdpcap(path)
    truncate(path, 0)
    assert.equal(("\0"):rep(14), held[2000]:bytes():sub(1, 14))  -- zeros, not a signal
    local m = err(function() wrpcap(d .. "/out.pcap", held) end)
    assert.truthy(m:find(path .. ": the file was cut short", 1, true), m)
    assert.is_nil(io.open(d .. "/out.pcap"))
    rmdir(d)
  end)
end)

describe("gzip-compressed captures", function()
  local gzip_ok = os.execute("gzip --version > /dev/null 2>&1")
  local dir = (io.open("/dev/shm/.") and "/dev/shm") or "/tmp"

  local function gz(path, data)
    write_file(path .. ".raw", data)
    assert(os.execute(("gzip -n -c '%s' > '%s'"):format(path .. ".raw", path)))
    os.remove(path .. ".raw")
    return read_file(path)
  end

  local function outcome(path, opts)
    local n, r = 0, nil
    local ok, msg = pcall(function()
      r = PcapReader(path, opts)
      for _ in r do n = n + 1 end
    end)
    return n, not ok and msg or nil, r
  end

  it("detect a cut at every offset of a small capture", function()
    if not gzip_ok then return pending("gzip(1) not installed") end
    local path = ("%s/sflua-gz-%d.pcap.gz"):format(dir, math.random(1 << 30))
    finally(function() os.remove(path) end)
    local data = pcap_header("<", 0xa1b2c3d4, 65535, 1)
    for i = 1, 4 do data = data .. pcap_record("<", 1700000000 + i, i, frame) end
    local z = gz(path, data)
    assert.equal(4, (outcome(path)))
    for cut = 0, #z - 1 do
      write_file(path, z:sub(1, cut))
      local n, msg = outcome(path)
      assert.truthy(msg, "a cut at " .. cut .. " read as complete")
      assert.truthy(n <= 4)
      if cut >= 10 then  -- past the gzip header: both offsets
        assert.truthy(msg:find("compressed byte offset %d+ %(uncompressed byte offset %d+%)"), msg)
      end
    end
    os.remove(path)
  end)

  it("deliver every packet of a file whose only damage is its CRC, then say so", function()
    if not gzip_ok then return pending("gzip(1) not installed") end
    local path = ("%s/sflua-gz-%d.pcap.gz"):format(dir, math.random(1 << 30))
    finally(function() os.remove(path) end)
    local z = gz(path, read_file(h.path("http.pcap")))
    local crc = string.unpack("<I4", z, #z - 7)
    write_file(path, z:sub(1, -9) .. string.pack("<I4", crc ~ 1) .. z:sub(-4))
    local n, msg = outcome(path)
    assert.equal(43, n)  -- tshark reads 43 too (tests/pcap/interop.py checks it)
    assert.truthy(msg:find(("gzip trailer: its CRC-32 is 0x%08x but the data's is 0x%08x"):format(
      crc ~ 1, crc), 1, true), msg)
    assert.truthy(msg:find("(uncompressed byte offset 25803)", 1, true), msg)
    -- corrupt data: the good packets, then both offsets
    local bad = z:sub(1, 3999) .. string.char(z:byte(4000) ~ 0x55) .. z:sub(4001)
    write_file(path, bad)
    n, msg = outcome(path)
    assert.truthy(n > 10 and n < 43)
    assert.truthy(msg:find("the gzip data is damaged", 1, true), msg)
    assert.truthy(msg:find("compressed byte offset %d+ %(uncompressed byte offset %d+%)"), msg)
    os.remove(path)
  end)

  it("read members one after another; anything else after them is a warning", function()
    if not gzip_ok then return pending("gzip(1) not installed") end
    local path = ("%s/sflua-gz-%d.pcap.gz"):format(dir, math.random(1 << 30))
    finally(function() os.remove(path) end)
    local data = read_file(h.path("http.pcap"))
    local z = gz(path, data:sub(1, 10000))
    local z2 = gz(path, data:sub(10001))
    write_file(path, z .. z2)
    assert.equal(43, (outcome(path)))
    write_file(path, z .. z2 .. "trailing junk")
    local n, msg, r = outcome(path)
    assert.equal(43, n)
    assert.is_nil(msg)
    assert.equal(1, r.warnings)
    assert.truthy(r.warning:find("13 bytes after the last gzip member ignored", 1, true))
    n, msg = outcome(path, {strict = true})
    assert.equal(43, n)
    assert.truthy(msg:find("13 bytes follow the last gzip member", 1, true), msg)
    os.remove(path)
  end)
end)

describe("what tshark reads without a word", function()
  it("reads the 802.15.4 captures whose packets exceed the snaplen, with warnings", function()
    -- tshark reads the one packet of each (tests/pcap/interop.py checks)
    for name, want in pairs({["802_15_4-data.pcap"] = 1, ["802_15_4-oobr-1.pcap"] = 1,
                             ["802_15_4_beacon.pcap"] = 1}) do
      local r = PcapReader(h.path(name))
      local n = 0
      for _ in r do n = n + 1 end
      assert.equal(want, n, name)
      assert.equal(want, r.warnings, name)
      assert.truthy(r.warning:find("> the file's snaplen", 1, true))
      assert.is_false(pcall(rdpcap, h.path(name), {strict = true}))
      assert.equal(want, #rdpcap(h.path(name)))
    end
  end)

  it("carries pcap fractions of a second of 1 s or more into the seconds", function()
    local path = tmpname(".pcap")
    for _, c in ipairs({{0xa1b2c3d4, 1500000, 1001500000000}, {0xa1b23c4d, 2000000005, 1002000000005}}) do
      write_file(path, pcap_header("<", c[1], 65535, 1) .. pcap_record("<", 1000, 5, frame) ..
        pcap_record("<", 1000, c[2], frame))
      local r = PcapReader(path)
      local a, b = r:read(), r:read()
      assert.is_nil(r:read())
      assert.equal(c[3], b.time_ns)
      assert.truthy(a.time_ns < b.time_ns)
      assert.equal(1, r.warnings)
      assert.truthy(r.warning:find("fraction of a second is " .. c[2], 1, true), r.warning)
      local _, msg = read_all(path, {strict = true})
      assert.truthy(msg:find("1 s or more", 1, true))
    end
    os.remove(path)
  end)

  it("holds pcapng times that overflow at the nearest end, with warnings", function()
    local e, path = "<", tmpname(".pcapng")
    write_file(path, shb(e) .. idb(e, 1) ..
      idb(e, 1, 0, option(e, 14, string.pack("<i8", 1 << 62))) ..
      idb(e, 1, 0, option(e, 14, string.pack("<i8", -(1 << 62)))) ..
      idb(e, 1, 0, option(e, 9, "\0")) ..
      epb(e, 0, -1, frame) .. epb(e, 1, 5, frame) .. epb(e, 2, 5, frame) .. epb(e, 3, 1 << 63, frame) ..
      epb(e, 0, 1700000000 * 1000000, frame))
    local r = PcapReader(path)
    local t = {}
    for p in r do t[#t + 1] = p.time_ns end
    assert.same({math.maxinteger, math.maxinteger, math.mininteger, math.maxinteger,
                 1700000000 * 1000000000}, t)
    assert.equal(4, r.warnings)
    assert.truthy(r.warning:find("outside the years 1677 to 2262", 1, true))
    local pkts, msg = read_all(path, {strict = true})
    assert.equal(0, #pkts)
    assert.truthy(msg:find("(an error because strict=true)", 1, true))
    os.remove(path)
  end)

  it("reads every if_tsresol exactly, the finest too", function()
    local e, path = "<", tmpname(".pcapng")
    local ts = 1700000000 * 1000000
    write_file(path, shb(e) .. idb(e, 1, 0, option(e, 9, "\x13")) .. idb(e, 1, 0, option(e, 9, "\x14")) ..
      idb(e, 1, 0, option(e, 9, "\xc0")) .. idb(e, 1, 0, option(e, 9, "\xc6")) ..
      idb(e, 1, 0, option(e, 9, "\x7f")) ..
      epb(e, 0, ts, frame) .. epb(e, 1, ts, frame) .. epb(e, 2, ts, frame) .. epb(e, 3, ts, frame) ..
      epb(e, 4, ts, frame))
    local t = {}
    for p in PcapReader(path) do t[#t + 1] = p.time_ns end
    -- floor(ts * 10^9 / 10^19), / 10^20, / 2^64, / 2^70, / 10^127
    assert.same({170000, 17000, 92157, 1439, 0}, t)
    os.remove(path)
  end)
end)

describe("link types of written packets", function()
  local function linktypes(path)
    local out = {}
    for p in PcapReader(path) do out[#out + 1] = {p.linktype, p.interface_id} end
    return out
  end

  it("come from the first layer", function()
    local cases = {
      {sf.IP() / sf.UDP(), 101}, {sf.IPv6() / sf.UDP(), 101}, {sf.Ether() / sf.IP(), 1},
      {sf.CookedLinux() / sf.IP(), 113}, {sf.CookedLinuxV2() / sf.IPv6(), 276},
      {sf.Loopback() / sf.IP(), 0}, {sf.LoopbackBE() / sf.IPv6(), 108},
      {sf.Packet((sf.IP() / sf.TCP()):bytes(), {proto = sf.IP}), 101},
    }
    local path = tmpname(".pcap")
    for i, c in ipairs(cases) do
      wrpcap(path, c[1])
      local p = rdpcap(path)[1]
      assert.equal(c[2], p.linktype, "case " .. i)
      assert.equal(c[1]:bytes(), p:bytes())
      assert.equal(c[1]:summary(), p:summary(), "case " .. i)
    end
    os.remove(path)
  end)

  it("are kept for packets read from a file", function()
    local path = tmpname(".pcap")
    for _, name in ipairs({"LINKTYPE_IPV6.pcap", "mptcp-v1.pcap", "quic_handshake.pcap",
                           "ieee802.11_htc.pcap", "zigbee-join-authenticate.pcap"}) do
      local src = rdpcap(h.path(name))
      wrpcap(path, src)
      assert.equal(src[1].linktype, rdpcap(path)[1].linktype, name)
    end
    os.remove(path)
  end)

  it("honour linktype=, give pcapng one interface per link type, refuse two in pcap", function()
    local path = tmpname(".pcap")
    wrpcap(path, {sf.IP() / sf.UDP(), sf.IP() / sf.TCP()}, {linktype = 228})
    assert.same({{228, 0}, {228, 0}}, linktypes(path))
    local m = err(function() wrpcap(path, {sf.IP() / sf.UDP(), sf.Ether() / sf.IP()}) end)
    assert.truthy(m:find("packet 2 has link type 1 but the file's is 101", 1, true), m)
    os.remove(path)
    path = tmpname(".pcapng")
    wrpcap(path, {sf.IP() / sf.UDP(), sf.Ether() / sf.IP(), sf.IPv6() / sf.UDP(),
                  sf.CookedLinux() / sf.IP()})
    assert.same({{101, 0}, {1, 1}, {101, 0}, {113, 2}}, linktypes(path))
    os.remove(path)
  end)
end)

describe("appending", function()
  it("adds to a pcap file of the same link type, and only that", function()
    local path = tmpname(".pcap")
    local a, b = many(5), many(7)
    wrpcap(path, a)
    wrpcap(path, b, {append = true})
    local back = rdpcap(path)
    assert.equal(12, #back)
    assert.equal(b[7]:bytes(), back[12]:bytes())
    local old = read_file(path)
    local m = err(function() wrpcap(path, {sf.IP() / sf.UDP()}, {append = true}) end)
    assert.truthy(m:find("link type 101 but the file's is 1", 1, true), m)
    m = err(function() wrpcap(path, a, {append = true, linktype = 101}) end)
    assert.truthy(m:find("cannot append link type 101 to a pcap file of link type 1", 1, true), m)
    m = err(function() wrpcap(path, {a[1], "x"}, {append = true}) end)
    assert.truthy(m:find("item 2 is a string", 1, true), m)
    assert.equal(old, read_file(path))  -- cut back to what it was
    os.remove(path)
    wrpcap(path, a, {append = true})    -- no file yet: made
    assert.equal(5, #rdpcap(path))
    os.remove(path)
  end)

  it("keeps a pcap file's byte order and time resolution", function()
    local path = tmpname(".pcap")
    write_file(path, pcap_header(">", 0xa1b23c4d, 65535, 1) .. pcap_record(">", 1, 2, frame))
    local p = sf.Packet(frame, {time = 5})
    p.time_ns = 5000000007
    wrpcap(path, p, {append = true})
    local back = rdpcap(path)
    assert.equal(2, #back)
    assert.equal(5000000007, back[2].time_ns)
    assert.equal(frame, back[2]:bytes())
    os.remove(path)
  end)

  it("adds a section to a pcapng file, with any link types", function()
    local path = tmpname(".pcapng")
    wrpcap(path, many(3))
    wrpcap(path, {sf.IP() / sf.UDP(), sf.Ether() / sf.IP()}, {append = true})
    local back = rdpcap(path)
    assert.equal(5, #back)
    assert.same({1, 1, 1, 101, 1}, {back[1].linktype, back[2].linktype, back[3].linktype,
                                    back[4].linktype, back[5].linktype})
    local m = err(function() wrpcap(path, many(1), {append = true, format = "pcap"}) end)
    assert.truthy(m:find("cannot append pcap to a pcapng file", 1, true), m)
    os.remove(path)
  end)

  it("refuses a damaged file and leaves it as it was", function()
    local path = tmpname(".pcap")
    local good = read_file(h.path("http.pcap"))
    write_file(path, good:sub(1, -5))
    local m = err(function() wrpcap(path, many(1), {append = true}) end)
    assert.truthy(m:find("cannot append to " .. path .. ": truncated packet record", 1, true), m)
    assert.equal(good:sub(1, -5), read_file(path))
    os.remove(path)
  end)
end)

describe("options and errors of the capture functions", function()
  local path = h.path("http.pcap")

  -- each case: a function that must fail, and what its message must say
  local function expect_errors(cases)
    for _, c in ipairs(cases) do
      local m = err(c[1])
      assert.truthy(m:find(c[2], 1, true), m)
    end
  end

  it("name the valid keys of an unknown option", function()
    local out = tmpname(".pcap")
    local cases = {
      {function() rdpcap(path, {cout = 1}) end, "rdpcap: unknown option 'cout' (options: count, filter, partial, strict, threads)"},
      {function() PcapReader(path, {strcit = true}) end, "PcapReader: unknown option 'strcit' (options: filter, strict, threads)"},
      {function() PcapWriter(out, {bogus = 1}) end,
       "PcapWriter: unknown option 'bogus' (options: append, format, linktype, nanosecond, snaplen)"},
      {function() wrpcap(out, {}, {nano = true}) end, "wrpcap: unknown option 'nano'"},
      {function() wrpcapng(out, {}, {x = 1}) end, "wrpcapng: unknown option 'x'"},
      {function() sf.anonymize_pcap(path, out, nil, {strict = true, y = 2}) end,
       "anonymize_pcap: unknown option 'y' (options: filter, strict, threads)"},
    }
    expect_errors(cases)
    os.remove(out)
  end)

  it("refuse values of the wrong type", function()
    local out = tmpname(".pcap")
    local cases = {
      {function() rdpcap(path, {count = "5"}) end, "rdpcap: option 'count' expected a non-negative integer, got \"5\""},
      {function() rdpcap(path, {count = -1}) end, "got -1"},
      {function() PcapReader(path, {strict = 1}) end, "PcapReader: option 'strict' expected a boolean, got 1"},
      {function() PcapWriter(out, {format = "xml"}) end, "expected one of \"pcap\", \"pcapng\", got \"xml\""},
      {function() wrpcap(out, {}, {linktype = 1.5}) end, "option 'linktype' expected an integer"},
      {function() wrpcap(out, {}, {snaplen = true}) end, "option 'snaplen'"},
      {function() wrpcap(out, {}, {append = "yes"}) end, "option 'append' expected a boolean"},
      {function() rdpcap(path, 5) end, "rdpcap: options must be a table, got 5"},
    }
    expect_errors(cases)
    os.remove(out)
  end)

  it("point at the caller's line and name the argument", function()
    local cut = tmpname(".pcap")
    write_file(cut, read_file(path):sub(1, -3))
    local here = debug.getinfo(1, "l").currentline
    local cases = {
      {function() rdpcap("/nonexistent.pcap") end, 1, "/nonexistent.pcap: No such file or directory"},
      {function() PcapReader("/etc/hostname") end, 2, "not a pcap or pcapng file"},
      {function() wrpcap("/nonexistent/x.pcap", {}) end, 3, "/nonexistent/x.pcap: "},
      {function() wrpcap(tmpname(".pcap"), {sf.Ether(), 7}) end, 4,
       "bad argument #2 to 'wrpcap' (item 2 is a number, expected a Packet)"},
      {function() wrpcap(42, {}) end, 6, "bad argument #1 to 'wrpcap' (file name expected, got number)"},
      {function() wrpcapng(tmpname(".pcapng")) end, 7, "bad argument #2 to 'wrpcapng' (packets expected"},
      {function() PcapWriter(tmpname(".pcap")):write({sf.Ether(), true}) end, 8,
       "bad argument #1 to 'write' (item 2 is a boolean, expected a Packet)"},
      {function() sf.anonymize_pcap("/nonexistent.pcap", tmpname(".pcap")) end, 10,
       "/nonexistent.pcap: No such file"},
      {function() for _ in PcapReader(cut) do end end, 12, "truncated packet record"},
      {function() rdpcap(cut) end, 13, "truncated packet record"},
    }
    for i, c in ipairs(cases) do
      local m = err(c[1])
      local want = ("pcap_spec.lua:%d: "):format(here + 1 + c[2])
      assert.truthy(m:find(want, 1, true), ("case %d: %s"):format(i, m))
      assert.truthy(m:find(c[3], 1, true), ("case %d: %s"):format(i, m))
      assert.falsy(m:find("stackforge/", 1, true), m)
    end
    os.remove(cut)
  end)
end)
