-- Volatile values, fuzz() and implicit packet sets.
local sf = require("stackforge")
local layers = require("stackforge.layers")
local h = require("helpers")

local function ip4n(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  return ((a * 256 + b) * 256 + c) * 256 + d
end

describe("volatile values", function()
  it("differ between processes started together, and repeat with random_seed(n)", function()
    local sflua = assert(os.getenv("SFLUA_BIN"), "SFLUA_BIN")
    local script = [[local hex = function(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
      io.write(RandShort():draw(), " ", RandLong():draw(), " ", hex(quic_initial{sni = "a"}:layer(1).DstConnID))
      random_seed(5)
      io.write("|", RandInt():draw(), " ", hex(quic_initial{sni = "a"}:layer(1).SrcConnID))]]
    local runs = {}
    for i = 1, 3 do  -- within the same second: a clock seed was the same
      local f = assert(io.popen(("%s -e %q"):format(sflua, script)))
      runs[i] = {f:read("a"):match("^(%d+ %d+ %x+)|(%d+ %x+)$")}
      f:close()
      assert.truthy(runs[i][2])
    end
    assert.are_not.equal(runs[1][1], runs[2][1])  -- drawn from the system's entropy
    assert.are_not.equal(runs[2][1], runs[3][1])
    assert.equal(runs[1][2], runs[2][2])  -- random_seed(5): the same draws
    assert.equal(runs[2][2], runs[3][2])
  end)

  it("are drawn again at each build, within their ranges", function()
    sf.random_seed(7)
    local p = sf.IP{dst = "10.0.0.1", id = sf.RandShort(), ttl = sf.RandNum(10, 12)} / sf.TCP{sport = sf.RandByte()}
    local ids, seen = {}, 0
    for _ = 1, 200 do
      local q = sf.Packet(p:bytes(), {linktype = 101})
      assert.is_true(q.ttl >= 10 and q.ttl <= 12)
      assert.is_true(q.sport >= 0 and q.sport <= 255)
      assert.equal(q.id, p.id)  -- the packet holds the last draw
      if not ids[q.id] then seen = seen + 1; ids[q.id] = true end
    end
    assert.is_true(seen > 150, "ids drawn again: " .. seen)
  end)

  it("repeat with the same seed", function()
    local function run()
      sf.random_seed(42)
      local p = sf.fuzz(sf.Ether() / sf.IP() / sf.UDP())
      local out = {}
      for i = 1, 20 do out[i] = p:bytes() end
      return table.concat(out)
    end
    assert.equal(run(), run())
  end)

  it("addresses: RandIP in its net, RandIP6 under its prefix, RandMAC's template", function()
    sf.random_seed(3)
    local p = sf.Ether{src = sf.RandMAC("00:11:22:*")} / sf.IP{src = sf.RandIP("10.1.0.0/16")} /
      sf.UDP() / sf.IPv6{src = sf.RandIP6("2001:db8::/32")}
    for _ = 1, 100 do
      p:bytes()
      assert.matches("^00:11:22:%x%x:%x%x:%x%x$", p.src)
      assert.equal(ip4n("10.1.0.0"), ip4n(p[2].src) & 0xffff0000)
      assert.matches("^2001:db8:", p[4].src)
    end
  end)

  it("strings, choices and enumerations", function()
    sf.random_seed(5)
    local s = sf.RandString(8, "ab")
    for _ = 1, 20 do assert.matches("^[ab]+$", s:draw()); assert.equal(8, #s:draw()) end
    assert.equal(12, #sf.RandBin(12):draw())
    assert.equal("\0", sf.RandTermString(3, "\0"):draw():sub(-1))
    local c = sf.RandChoice(1, 5, 9)
    for _ = 1, 20 do local v = c:draw(); assert.is_true(v == 1 or v == 5 or v == 9) end
    local e, got = sf.RandEnum(1, 50), {}
    for _ = 1, 50 do got[e:draw()] = true end
    for i = 1, 50 do assert.is_true(got[i]) end  -- each once per round
    assert.is_true(sf.RandLong():draw() >= 0)
    assert.equal("<RandShort>", tostring(sf.RandShort()))
  end)

  it("a plain value replaces a volatile one; copies and stacks keep them", function()
    local p = sf.IP{id = sf.RandShort()}
    p.id = 5
    p:bytes()
    assert.equal(5, p.id)
    local q = sf.Ether() / sf.IP{ttl = sf.RandNum(1, 3)}
    local c = q:copy()
    local seen = {}
    for _ = 1, 60 do c:bytes(); seen[c.ttl] = true end
    assert.is_true(seen[1] and seen[2] and seen[3])
  end)

  it("are drawn for each packet wrpcap writes", function()
    local p = sf.Ether() / sf.IP{id = sf.RandShort()} / sf.UDP()
    local path = os.tmpname()
    sf.wrpcap(path, {p, p, p, p, p, p})
    local ids, n = {}, 0
    for q in sf.PcapReader(path) do
      if not ids[q.id] then ids[q.id] = true; n = n + 1 end
    end
    os.remove(path)
    assert.is_true(n >= 5)
  end)

  it("raise clear errors", function()
    local ok, err = pcall(sf.RandNum, 5, 1)
    assert.is_false(ok)
    assert.matches("RandNum", err)
    ok, err = pcall(sf.RandIP, "10.0.0/8")
    assert.is_false(ok)
    assert.matches("bad network", err)
    ok, err = pcall(sf.random_seed, "x")
    assert.is_false(ok)
    assert.matches("integer expected", err)
  end)
end)

describe("fuzz", function()
  it("fills the fields the user did not set, keeps automatic ones automatic", function()
    sf.random_seed(11)
    local f = sf.IP{dst = "192.0.2.1"} / sf.fuzz(sf.TCP{dport = 80})
    local ports = {}
    for _ = 1, 50 do
      local q = sf.IP(f:bytes())
      assert.equal("192.0.2.1", q.dst)
      assert.equal(80, q.dport)
      assert.equal(q[sf.TCP].dataofs * 4, #q[sf.TCP]:bytes() - #(q[sf.Raw] and q[sf.Raw].load or ""))
      ports[q.sport] = true
    end
    local ttls = ports
    local n = 0
    for _ in pairs(ttls) do n = n + 1 end
    assert.is_true(n > 30)
  end)

  it("builds 10,000 packets of every protocol that parse again", function()
    sf.random_seed(2026)
    local count = 0
    local names = {}  -- in a fixed order: the seed makes the same packets
    for name, ctor in pairs(layers) do
      if getmetatable(ctor) == layers.Constructor and not ctor.custom and name ~= "Raw"
         and name ~= "Padding" then
        names[#names + 1] = name
      end
    end
    table.sort(names)
    for _, name in ipairs(names) do
      local ctor = layers[name]
      do
        local f = sf.fuzz(ctor())
        for _ = 1, 10000 do  -- (luassert per packet would take most of the time)
          local raw = f:bytes()
          local q = sf.Packet(raw, {proto = ctor})
          if not (#raw == 0 or q.layer_count >= 1) or raw ~= q:bytes() then
            error(name .. ": " .. h.hex(raw) .. " does not parse back")
          end
        end
        count = count + 1
      end
    end
    assert.is_true(count >= 100)
  end)

  it("works on custom layers", function()
    local L = sf.CustomLayer("FuzzMe", {sf.ByteField("a", 1), sf.ShortField("b", 2),
      sf.IntField("c", 3), sf.IPField("ip", "0.0.0.0")})
    local f = sf.fuzz(L())
    local seen = {}
    for _ = 1, 30 do
      local q = sf.Packet(f:bytes(), {proto = L})
      seen[q.b] = true
    end
    local n = 0
    for _ in pairs(seen) do n = n + 1 end
    assert.is_true(n > 20)
  end)
end)

describe("implicit packet sets", function()
  it("expand in Scapy's order", function()
    local p = sf.IP{dst = "10.0.0.0/31", ttl = {1, 2}} / sf.TCP{dport = {80, 443}}
    local got = {}
    for q in p:expand() do got[#got + 1] = ("%s %d %d"):format(q.dst, q.ttl, q.dport) end
    -- python3-scapy: [(p.dst, p.ttl, p.dport) for p in IP(dst="10.0.0.0/31", ttl=[1,2])/TCP(dport=[80,443])]
    assert.same({"10.0.0.0 1 80", "10.0.0.0 1 443", "10.0.0.0 2 80", "10.0.0.0 2 443",
                 "10.0.0.1 1 80", "10.0.0.1 1 443", "10.0.0.1 2 80", "10.0.0.1 2 443"}, got)
    local n = 0
    for _ in sf.TCP{sport = sf.Range(1, 1024)}:expand() do n = n + 1 end
    assert.equal(1024, n)
    n = 0
    for _ in sf.TCP():expand() do n = n + 1 end
    assert.equal(1, n)
    assert.is_true(p:has_sets())
  end)

  it("an option list is a value, not a set", function()
    local p = sf.TCP{options = {{"MSS", 1460}}}
    assert.is_false(p:has_sets())
  end)
end)
