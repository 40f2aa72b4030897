-- Randomized wireless builds against Scapy 2.5's bytes: RadioTap, the
-- Dot11 family, Dot15d4/Dot15d4FCS, Dot3/LLC/SNAP.  Golden cases in
-- tests/data/wireless_scapy.tsv (tests/interop/gen_wireless.lua, seed
-- 20241129, through tests/interop/wireless_oracle.py); ctest
-- wireless_scapy makes a new random set with Scapy each run and points
-- SFLUA_WIRELESS_GOLDEN at it.  Each case: sflua builds Scapy's bytes,
-- and parses them back to the same bytes without a malformed layer.
local sf = require("stackforge")
local h = require("helpers")

local golden = os.getenv("SFLUA_WIRELESS_GOLDEN") or h.path("wireless_scapy.tsv")

local function cases()
  local out = {}
  for line in io.lines(golden) do
    if not line:find("^#") then
      local lua, hex, lt = line:match("^(.-)\t(%x*)\t(%d+)$")
      assert(lua, "bad golden line: " .. line)
      out[#out + 1] = {lua = lua, hex = hex, linktype = tonumber(lt)}
    end
  end
  return out
end

describe("wireless builds against Scapy 2.5", function()
  local all = cases()

  it("has enough cases of each family", function()
    local n = {rt = 0, d11 = 0, wpan = 0, llc = 0}
    for _, c in ipairs(all) do
      if c.linktype == 127 then n.rt = n.rt + 1 end
      if c.linktype == 127 or c.linktype == 105 then n.d11 = n.d11 + 1 end
      if c.linktype == 195 or c.linktype == 230 then n.wpan = n.wpan + 1 end
      if c.linktype == 1 then n.llc = n.llc + 1 end
    end
    assert.is_true(#all >= 300)
    assert.is_true(n.rt >= 50 and n.d11 >= 100 and n.wpan >= 60 and n.llc >= 20)
  end)

  it("builds Scapy's bytes and parses them back", function()
    for i, c in ipairs(all) do
      local chunk = assert(load("return " .. c.lua, "case " .. i, "t", sf))
      local built = chunk()
      local got = h.hex(built:bytes())
      if got ~= c.hex then
        error(("case %d: %s\n sflua %s\n scapy %s"):format(i, c.lua, got, c.hex))
      end
      local p = sf.Packet(h.unhex(c.hex), {linktype = c.linktype})
      assert.equal(c.hex, h.hex(p:bytes()), "case " .. i .. " parsed back")
      for k = 1, p.layer_count do
        local l = p:layer(k)
        assert(l.name ~= "Raw" or k > 1, "case " .. i .. ": " .. p:summary())
      end
      -- the same layers, but for what a secured 802.15.4 frame hides and
      -- a probe request's empty body
      -- (an 802.3 frame is read as Ethernet with a length, as tshark reads it)
      local want = built:summary():gsub(" / Raw$", ""):gsub(" / 802%.11 Probe Request", "")
        :gsub("^802%.3 ", "Ethernet ")
      local seen = p:summary():gsub(" / Raw$", "")
      if c.lua:find("fcf_security=1", 1, true) then want = want:sub(1, #seen) end
      assert.equal(want, seen, "case " .. i .. " layers")
    end
  end)
end)
