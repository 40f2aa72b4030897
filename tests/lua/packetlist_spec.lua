-- PacketList against Scapy's, without Scapy: tests/data/scapy_plist_golden.lua
-- holds python3-scapy 2.5's text for four captures (repr, slices, filters,
-- nsummary, hexdump, make_table, sessions, conversations), written by
-- tests/interop/scapy_plist.py with TZ=UTC.  sflua numbers nsummary and
-- hexdump lines by Lua index (Scapy's 0000 is sflua's 0001).
local sf = require("stackforge")
local h = require("helpers")
local core = require("stackforge.core")

local golden = dofile(h.path("scapy_plist_golden.lua"))

-- Scapy's "0000 " line numbers, one more (not hexdump's "0000  " offsets)
local function lua_numbers(text)
  return (text:gsub("(%f[^\n%z])(%d%d%d%d) (%S)", function(pre, n, c)
    return pre .. ("%04d "):format(tonumber(n) + 1) .. c
  end))
end

-- Line by line; a line where Scapy shows a DNS layer is skipped while
-- sflua has none (the DNS protocol lands separately), one where
-- sflua's Raw is a layer Scapy dissects further (a BOOTP header cut short),
-- and one where Scapy's Raw is HTTP to sflua (the golden's Scapy had not
-- loaded scapy.layers.http).
local function same_lines(want, got)
  local a, b = {}, {}
  for l in want:gmatch("[^\n]*") do a[#a + 1] = l end
  for l in got:gmatch("[^\n]*") do b[#b + 1] = l end
  assert.equal(#a, #b)
  for i = 1, #a do
    local further = b[i]:find(" / Raw$") and a[i]:sub(1, #b[i] - 6) == b[i]:sub(1, -7)
    local http = a[i]:find(" / Raw$") and
      b[i]:gsub(" / Raw$", ""):match("^(.- / )HTTPRe[qs][a-z]+$") == a[i]:sub(1, -4)
    if a[i] ~= b[i] and not further and not http and
        not (sf.DNS == nil and a[i]:find(" / DNS ", 1, true)) then
      assert.equal(a[i], b[i])
    end
  end
end

local function rss_kib()
  local f = io.open("/proc/self/status")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

describe("PacketList", function()
  for _, g in ipairs(golden) do
    describe(g.file, function()
      local pl = sf.rdpcap(h.path(g.file))
      it("prints Scapy's repr, also for slices, concatenations and filters", function()
        assert.equal(g.repr, tostring(pl))
        assert.equal(g.slice, tostring(pl:slice(3, 5)))
        assert.equal(g.concat, tostring(pl .. pl:slice(1, 2)))
        assert.equal(g.filtered, tostring(pl:filter(function(p) return p:has_layer(sf.TCP) end)))
      end)
      it("nsummary and hexdump as Scapy's, numbered by index", function()
        same_lines(lua_numbers(g.nsummary), pl:nsummary() .. "\n")
        same_lines(lua_numbers(g.hexdump3), pl:slice(1, 3):hexdump() .. "\n")
      end)
      it("make_table as Scapy's", function()
        local tcp4 = pl:filter(function(p) return p[sf.IP] and p[sf.TCP] end)
        assert.equal(g.table, tcp4:make_table(function(p) return p[sf.IP].src, p[sf.IP].dst, p[sf.TCP].dport end))
      end)
      it("sessions with Scapy's keys", function()
        local s, keys = pl:sessions(), {}
        for k in pairs(s) do keys[#keys + 1] = k end
        table.sort(keys)
        for i, k in ipairs(keys) do keys[i] = k .. " " .. tostring(s[k]) end
        assert.equal(g.sessions, table.concat(keys, "\n"))
      end)
      it("conversations as Scapy's dot graph", function()
        assert.equal(g.conversations, pl:conversations())
      end)
    end)
  end

  it("indexes, iterates, slices and keeps changes", function()
    local pl = sf.rdpcap(h.path("http.pcap"))
    assert.equal(43, #pl)
    assert.equal(pl[43], pl[-1])
    assert.is_true(rawequal(pl[5], pl[5]))  -- the same packet every time
    assert.is_nil(pl[44])
    pl[2].ttl = 7
    assert.equal(7, pl[2].ttl)
    local n = 0
    for i, p in ipairs(pl) do n = n + 1; assert.equal(pl[i], p) end
    assert.equal(43, n)
    n = 0
    for _ in pl:iter() do n = n + 1 end
    assert.equal(43, n)
    local k = 0
    for i in pairs(pl) do k = k + 1; assert.equal(k, i) end
    assert.equal(43, k)
    pl[#pl + 1] = sf.IP() / sf.ICMP()
    assert.equal(44, #pl)
    assert.matches("ICMP:1", tostring(pl))
    assert.equal(3, #pl:slice(-3))
    assert.equal("<PacketList: TCP:1 UDP:0 ICMP:0 Other:0>", tostring(sf.PacketList{sf.IP() / sf.TCP()}))
  end)

  it("filters with a display filter, over records and added packets alike", function()
    local pl = sf.rdpcap(h.path("http.pcap"))
    assert.equal(2, #pl:filter("udp"))
    assert.equal(41, #pl:filter("tcp"))
    pl[#pl + 1] = sf.Ether() / sf.IP() / sf.UDP{dport = 53}
    assert.equal(3, #pl:filter("udp.port == 53"))
    local ok, err = pcall(pl.filter, pl, "tcp.prot == 1")
    assert.is_false(ok)
    assert.matches("tcp.prot", err)
  end)

  it("is written by wrpcap and read by flows without a copy of the list", function()
    local pl = sf.rdpcap(h.path("http.pcap"))
    local tmp = os.tmpname()
    sf.wrpcap(tmp, pl)
    local back = sf.rdpcap(tmp)
    os.remove(tmp)
    assert.equal(#pl, #back)
    for i = 1, #pl do assert.equal(pl[i]:bytes(), back[i]:bytes()) end
    assert.equal(3, #sf.extract_flows_from_packets(pl))
    local w <close> = sf.PcapWriter(os.tmpname())
    w:write(pl)
  end)

  it("keeps one copy of a big capture's bytes: the mapping", function()
    -- 20,000 packets of 1,400 bytes: a list of packets would add ~8 MB
    local path = os.tmpname()
    local w = sf.PcapWriter(path)
    local p = sf.Ether() / sf.IP() / sf.UDP() / ("x"):rep(1400)
    for _ = 1, 20000 do w:write(p) end
    w:close()
    collectgarbage("collect")
    local before = rss_kib()
    local pl = sf.rdpcap(path)
    assert.equal(20000, #pl)
    local after = rss_kib()
    os.remove(path)
    if before then
      -- the file is ~28.6 MB; its index is 20,000 * 40 bytes
      assert.is_true(after - before < 28600 * 1.1 + 2000, ("grew %d KiB"):format(after - before))
    end
    -- python3-scapy: Ether(raw(Ether()/IP()/UDP()/Raw(b'x'*1400))).summary()
    -- (port 53 both ways: the x's read as a DNS query)
    assert.equal("Ether / IP / UDP / DNS Qry  / Raw", pl[20000]:summary("scapy"))
  end)

  it("SndRcvList summarizes pairs and counts what was received", function()
    local plist = require("stackforge.packetlist")
    local s, r = sf.IP{dst = "10.0.0.2"} / sf.ICMP(), sf.IP{src = "10.0.0.2"} / sf.ICMP{type = 0}
    local ans = plist.SndRcvList_new({{s, r, sent = s, received = r}})
    assert.equal("<Results: TCP:0 UDP:0 ICMP:1 Other:0>", tostring(ans))
    assert.equal("IP / ICMP 127.0.0.1 > 10.0.0.2 echo-request 0 ==> IP / ICMP 10.0.0.2 > 127.0.0.1 echo-reply 0",
      ans:summary())
  end)

  it("plots a value per packet as SVG, and as PNG through gnuplot", function()
    local pl = sf.rdpcap(h.path("http.pcap"))
    local n, lo, hi = 0, math.huge, 0
    for _, p in ipairs(pl) do
      if p:haslayer(sf.TCP) then n, lo, hi = n + 1, math.min(lo, #p), math.max(hi, #p) end
    end
    local svg = pl:plot(function(p) if p:haslayer(sf.TCP) then return #p end end, {title = "a<b"})
    local pts = svg:match('<polyline[^>]* points="([^"]*)"')
    local count = 0
    for x, y in pts:gmatch("([%d.]+),([%d.]+)") do
      count = count + 1
      assert.is_true(tonumber(x) >= 50 and tonumber(x) <= 590 and tonumber(y) >= 50 and tonumber(y) <= 350)
    end
    assert.equal(n, count)  -- a point a TCP packet, inside the axes
    assert.truthy(svg:find(">" .. lo .. "</text>", 1, true) and svg:find(">" .. hi .. "</text>", 1, true))
    assert.truthy(svg:find(">a&lt;b</text>", 1, true))
    local png = os.tmpname() .. ".png"
    local ok, err = pcall(pl.plot, pl, function(p) return #p end, {file = png})
    if os.execute("command -v gnuplot >/dev/null") then
      assert.is_true(ok, err)
      local f = assert(io.open(png, "rb"))
      local b = f:read("a")
      f:close()
      assert.equal("\137PNG\r\n\26\n", b:sub(1, 8))
      assert.equal(640, string.unpack(">I4", b, 17))  -- IHDR's width
      os.remove(png)
    else
      assert.matches("needs gnuplot", err)
    end
    assert.has_error(function() pl:plot(function() end, {format = "gif"}) end, "plot: format 'gif' (svg or png)")
  end)

  it("raises errors at the caller's line", function()
    local pl = sf.PacketList{}
    local ok, err = pcall(pl.filter, pl, 42)
    assert.is_false(ok)
    assert.matches("function or display filter expected", err)
    ok, err = pcall(sf.PacketList, 5)
    assert.is_false(ok)
    assert.matches("table of packets expected", err)
    assert.is_nil(core.nothing)
  end)
end)
