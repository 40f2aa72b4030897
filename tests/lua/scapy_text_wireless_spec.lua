-- Scapy's summary() of 802.11 and 802.15.4 frames, byte for byte, without
-- Scapy: tests/data/scapy_text_wireless.tsv holds Debian python3-scapy
-- 2.5's classes and summary() of every frame of the wireless captures
-- and of random builds (tests/interop/gen_wireless.lua, seed 20261130),
-- with frames Scapy cannot fully parse made from them (cut short, FCS
-- flipped, 802.15.4 data without payload) and 802.11 and 802.15.4 frames
-- of random frame control and bytes, written by
-- tests/interop/run_scapy_wireless_text.sh --golden; ctest
-- interop_scapy_wireless_text makes a new random set with Scapy each run
-- and points SFLUA_SCAPY_WIRELESS_GOLDEN at it.
--
-- Where sflua reads Scapy's layers alike (scapy_text_check.layers), the
-- summaries must be equal.  Where not, the frame must be one of the
-- differences docs/scapy.md names: a protocol sflua lacks (6LoWPAN,
-- ZigBee, STP); a QoS frame with an HT control field (Scapy 2.5 reads it
-- as LLC; the random frames leave the order bit out); a secured 802.15.4
-- frame (Scapy 2.5 reads the auxiliary security header as the command or
-- beacon); an 802.15.4 frame of version 2 (Scapy 2.5 places its PAN IDs
-- by the 2006 rules, so the command it reads may be another); in a
-- random frame, an element whose length byte disagrees with its fields
-- (Scapy 2.5's typed elements read their fields anyway); or a frame or
-- element cut short or mangled (sflua leaves a header or element its
-- bytes are too short for Raw, Scapy reads what is there).
local sf = require("stackforge")
local core = require("stackforge.core")
local h = require("helpers")
local check = require("scapy_text_check")

local golden = os.getenv("SFLUA_SCAPY_WIRELESS_GOLDEN") or h.path("scapy_text_wireless.tsv")

local function unescape(s)
  return (s:gsub("\\(.)", {t = "\t", n = "\n", ["\\"] = "\\"}))
end

local function cases()
  local out = {}
  for line in io.lines(golden) do
    if not line:find("^#") then
      local cols = {}
      for c in (line .. "\t"):gmatch("([^\t]*)\t") do cols[#cols + 1] = c end
      assert(#cols == 5, "bad golden line: " .. line)
      out[#out + 1] = {hex = cols[1], linktype = tonumber(cols[2]), kind = cols[3],
                       classes = unescape(cols[4]), summary = unescape(cols[5])}
    end
  end
  return out
end

local function split(s)
  local t = {}
  for x in (s .. " / "):gmatch("(.-) / ") do t[#t + 1] = x end
  return t
end

-- Is sflua's last layer Raw where Scapy reads a class its bytes are too
-- short for?  (What class: with elements, any frame; any, in a frame cut
-- short or whose last bytes are flipped.)
local function raw_tail(c, mine)
  local a, b = split(c.classes), split(mine)
  local mangled = c.kind == "cut" or c.kind == "flipped" or c.kind == "random"
  for i = 1, #b do
    if a[i] ~= b[i] then
      return i == #b and b[i] == "Raw" and a[i] ~= nil and (mangled or a[i]:find("^Dot11Elt"))
    end
  end
end

-- Do the layers first differ at an element of a random frame?  (Scapy
-- 2.5's typed elements read their fields whatever the length byte says:
-- a DSSS set of length 0 takes a channel byte, an RSN element its suites.)
local function element_length(c, mine)
  local a, b = split(c.classes), split(mine)
  if c.kind ~= "random" then return false end
  for i = 1, math.max(#a, #b) do
    if a[i] ~= b[i] then
      local function elt(x) return x and (x:find("^Dot11Elt") or x == "Raw") end
      return (elt(a[i]) or a[i] == nil) and (elt(b[i]) or b[i] == nil) and i > 1 and
        (a[i - 1]:find("^Dot11Elt") or a[i - 1]:find("^Dot11[A-Z][a-z]+[A-Z]?[a-z]*$"))
    end
  end
  return false
end

-- why sflua's layers may differ from Scapy's for this frame, or nil
local function explained(c, mine)
  local b = h.unhex(c.hex)
  if raw_tail(c, mine) then return "cut short or mangled" end
  if element_length(c, mine) then return "element length" end
  if c.classes:find("LoWPAN") or c.classes:find("Zig[Bb]ee") or c.classes:find("STP") then
    return "a protocol sflua lacks"
  end
  if c.classes:find("Dot11QoS / LLC / Raw", 1, true) and mine:find("Dot11QoS / LLC / SNAP", 1, true) then
    return "HT control"
  end
  if (c.linktype == 195 or c.linktype == 230) and #b >= 1 and b:byte(1) & 0x08 ~= 0 then
    return "802.15.4 security"
  end
  if (c.linktype == 195 or c.linktype == 230) and #b >= 2 and (b:byte(2) >> 4) & 3 == 2 then
    return "802.15.4-2015 PAN IDs"  -- (Scapy 2.5 reads them by the 2006 rules)
  end
  -- (a header its bytes are too short for: a cut frame, or flipped bytes
  -- that ask for addresses an acknowledgement has not)
  if c.kind == "cut" or ((c.kind == "flipped" or c.kind == "random") and mine == "Raw") then
    return "cut short"
  end
end

describe("Scapy's summary of 802.11 and 802.15.4 frames", function()
  local all = cases()

  it("matches Scapy's summary() byte for byte where the layers are Scapy's", function()
    local diffs, compared, why = {}, {}, {}
    for i, c in ipairs(all) do
      local p = sf.Packet(h.unhex(c.hex), {linktype = c.linktype})
      local mine = check.layers(p)
      if mine == c.classes then
        compared[c.linktype] = (compared[c.linktype] or 0) + 1
        compared[c.kind] = (compared[c.kind] or 0) + 1
        local got = p:summary("scapy")
        if got ~= c.summary and #diffs < 10 then
          diffs[#diffs + 1] = ("frame %d (%s, %s):\n  Scapy %q\n  sflua %q"):format(i, c.kind, c.hex:sub(1, 80),
            c.summary, got)
        end
      else
        local reason = explained(c, mine)
        why[reason or "?"] = (why[reason or "?"] or 0) + 1
        if not reason and #diffs < 10 then
          diffs[#diffs + 1] = ("frame %d (%s, %s): layers\n  Scapy %s\n  sflua %s"):format(i, c.kind,
            c.hex:sub(1, 80), c.classes, mine)
        end
      end
    end
    assert(#diffs == 0, table.concat(diffs, "\n"))
    -- enough of each: radiotap, bare 802.11, 802.15.4 with and without
    -- FCS, 802.3; captured, built, and not fully parsed frames
    local function n(k) return compared[k] or 0 end
    assert(n(127) >= 100 and n(105) >= 60 and n(195) >= 40 and n(230) >= 25 and n(1) >= 20,
      ("compared by link type: 127 %d, 105 %d, 195 %d, 230 %d, 1 %d"):format(n(127), n(105), n(195), n(230), n(1)))
    assert(n("capture") >= 60 and n("build") >= 300 and n("cut") >= 30 and n("flipped") >= 40
      and n("bare") >= 10 and n("random") >= 300,
      ("compared: %d captured, %d built, %d cut, %d flipped, %d bare, %d random"):format(
      n("capture"), n("build"), n("cut"), n("flipped"), n("bare"), n("random")))
  end)

  it("prints what Scapy prints for the frames of the issue", function()
    -- python3-scapy 2.5: RadioTap(raw).summary() of dot11_scapy.pcap's beacon
    local p = sf.rdpcap(h.path("dot11_scapy.pcap"))[1]
    assert.equal("RadioTap / Dot11FCS / Dot11Beacon / SSID='lab' / Dot11EltRates / Dot11EltDSSSet"
      .. " / Dot11Elt / Dot11EltCountry / Dot11EltRSN / Dot11Elt / Dot11EltVendorSpecific",
      p:summary("scapy"))
    assert.equal("RadioTap / 802.11-FCS / 802.11 Beacon", p:summary(), "the seed's layer list stays")
    -- built in sflua, as Scapy prints them read back
    local b = sf.RadioTap() / sf.Dot11{addr1 = "ff:ff:ff:ff:ff:ff", addr2 = "00:11:22:33:44:55",
      addr3 = "00:11:22:33:44:55"} / sf.Dot11Beacon() / sf.Dot11Elt{ID = 0, info = "lab"}
    assert.equal("RadioTap / 802.11 Management Beacon 00:11:22:33:44:55 (TA=SA) > "
      .. "ff:ff:ff:ff:ff:ff (RA=DA) / Dot11Beacon / SSID='lab'", b:summary("scapy"))
    -- (an acknowledgement with sflua's default addressing: Scapy reads no
    -- addresses there, its bytes are Raw)
    local w = sf.Dot15d4FCS{fcf_frametype = 2, seqnum = 9}
    assert.equal("802.15.4 ?? ackreq(??) ( ?? -> ?? ) Seq#?? / Dot15d4Ack / Raw", w:summary("scapy"))
  end)

  it("leaves SNAP to Scapy's Raw after an LLC Scapy binds no SNAP to", function()
    -- python3-scapy 2.5: Ether(bytes(Dot3()/LLC(dsap=0xaa, ssap=X, ctrl=3)/
    -- SNAP(code=0x800)/IP(src="10.0.0.1", dst="10.0.0.2")/UDP(sport=1, dport=2))).summary()
    local frame = "0102030405060a0b0c0d0e0f0024aa%s0300000008004500001c00010000401166ce0a0000010a00"
      .. "0002000100020008ebd8"
    local unbound = sf.Packet(h.unhex(frame:format("42")), {linktype = 1})
    assert.equal("802.3 0a:0b:0c:0d:0e:0f > 01:02:03:04:05:06 / LLC / Raw", unbound:summary("scapy"))
    assert.equal("LLC / Raw", select(2, core.scapy_class(unbound, 2)))
    assert.is_nil(select(2, core.scapy_class(unbound, 3)), "SNAP is in Scapy's Raw")
    local bound = sf.Packet(h.unhex(frame:format("aa")), {linktype = 1})
    assert.equal("Dot3 / LLC / SNAP / IP / UDP 10.0.0.1:1 > 10.0.0.2:2", bound:summary("scapy"))
  end)

  it("shows an SSID as Python's str of its bytes", function()
    -- python3-scapy 2.5: Dot11(bytes(Dot11()/Dot11Beacon()/Dot11Elt(ID=0,
    -- info=b'caf\xc3\xa9\xff\x00x'))).summary()
    local b = sf.Dot11() / sf.Dot11Beacon() / sf.Dot11Elt{ID = 0, info = "caf\195\169\255\0x"}
    assert.equal("802.11 Management Beacon 00:00:00:00:00:00 (TA=SA) > 00:00:00:00:00:00 (RA=DA)"
      .. " / Dot11Beacon / SSID='caf\195\169\\xff\0x'", b:summary("scapy"))
  end)
end)
