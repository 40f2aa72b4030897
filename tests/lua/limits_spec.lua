-- Natural "unlimited" values and silent limits (issue 10, items 7, 9, 12):
-- every numeric option is checked at the API edge, typed option values
-- are typed, and the engine's limits say so when they are reached.
local sf = require("stackforge")
local Packet, Ether, Dot1Q, IP, TCP = sf.Packet, sf.Ether, sf.Dot1Q, sf.IP, sf.TCP

local function err(f)
  local ok, msg = pcall(f)
  assert.is_false(ok, "no error")
  msg = tostring(msg)
  assert.truthy(msg:find("limits_spec.lua:%d+:"), "not at the caller's line: " .. msg)
  return msg
end

describe("numeric values at the API edge", function()
  it("time is a finite number of seconds a 64-bit nanosecond clock holds", function()
    for _, bad in ipairs({math.huge, -math.huge, 0 / 0, 1e300, -1e19}) do
      assert.truthy(err(function() local p = Packet("x"); p.time = bad end):find("Packet.time: bad value", 1, true))
      assert.truthy(err(function() return Packet("x", {time = bad}) end):find("Packet.time", 1, true))
    end
    local p = Packet("x", {time = 1700000000.25})
    assert.equal(1700000000250000000, p.time_ns)
    p.time = -1.5  -- before 1970 is a time too
    assert.equal(-1500000000, p.time_ns)
  end)

  it("wirelen, linktype and interface_id are integers in range", function()
    assert.truthy(err(function() return Packet("abc", {wirelen = -1}) end):find("out of range", 1, true))
    assert.truthy(err(function() return Packet("abc", {wirelen = 2}) end):find("less than the packet", 1, true))
    assert.truthy(err(function() return Packet("abc", {wirelen = 1.5}) end):find("expected an integer", 1, true))
    assert.truthy(err(function() return Packet("abc", {linktype = 1 << 40}) end):find("Packet.linktype", 1, true))
    assert.truthy(err(function() local p = Packet("abc"); p.interface_id = -3 end):find("interface_id", 1, true))
    assert.equal(1500, Packet("abc", {wirelen = 1500}).wirelen)
  end)

  it("Packet takes bytes and known options only", function()
    assert.truthy(err(function() return Packet(42) end):find("string expected, got number", 1, true))
    local m = err(function() return Packet("ab", {tme = 1}) end)
    assert.truthy(m:find("unknown option 'tme' (options: linktype, time, wirelen, proto)", 1, true))
  end)

  it("booleans fit one-bit fields only", function()
    assert.truthy(err(function() return TCP{flags = true} end):find("TCP.flags: bad value true", 1, true))
    assert.truthy(err(function() return IP{ttl = false} end):find("IP.ttl: bad value false", 1, true))
    assert.equal(1, sf.GRE{key_present = true}.key_present)
  end)
end)

describe("typed option values", function()
  it("are checked by name", function()
    assert.truthy(err(function() return TCP{options = {{"MSS", "big"}}} end)
      :find("TCP option MSS: bad value big (expected an integer 0..65535)", 1, true))
    assert.truthy(err(function() return TCP{options = {{"MSS", 70000}}} end):find("MSS", 1, true))
    assert.truthy(err(function() return TCP{options = {{"WScale", 256}}} end):find("0..255", 1, true))
    assert.truthy(err(function() return TCP{options = {{"Timestamp", "now"}}} end):find("tsval", 1, true))
    assert.truthy(err(function() return IP{options = {{"LSRR", {"1.2.3"}}}} end):find("IPv4", 1, true))
    assert.truthy(err(function() return TCP{options = {{"MD5", ("x"):rep(300)}}} end):find("too long", 1, true))
  end)

  it("take raw bytes by number, and a malformed option read back keeps its bytes", function()
    local p = Packet((IP() / TCP{options = {{2, "abc"}}}):bytes(), {linktype = 101})
    local o = p[TCP].options
    assert.same({2, "abc"}, o[1])           -- a 3-byte MSS: by number, as bytes
    p[TCP].options = o                      -- and it goes back as it was
    assert.same({2, "abc"}, Packet(p:bytes(), {linktype = 101})[TCP].options[1])
    assert.same({"MSS", 1460}, Packet((IP() / TCP{options = {{"MSS", 1460}}}):bytes(),
      {linktype = 101})[TCP].options[1])
  end)
end)

describe("layer limits", function()
  local function vlans(n)
    local s = Ether()
    for _ = 1, n do s = s / Dot1Q() end
    return s
  end

  it("build hundreds of layers, and name the limit past it", function()
    assert.equal(14 + 4 * 300, #vlans(300):bytes())
    assert.truthy(err(function() return vlans(1030) end):find("too many layers (1024 at most)", 1, true))
  end)

  it("parse up to the limit and mark the packet truncated past it, nothing lost", function()
    local raw = Ether{type = 0x8100}:bytes() .. Dot1Q{type = 0x8100}:bytes():rep(1500)
    local p = Packet(raw)
    assert.is_true(p.truncated)
    assert.is_true(p.layer_count <= 1024)
    assert.equal(#raw, #p:bytes())
    local q = Packet(vlans(200):bytes())
    assert.equal(201, q.layer_count)
    assert.is_false(q.truncated)
  end)

  it("mark the packet truncated when padding nests deeper than it can keep", function()
    -- IPv4-in-IPv4, each header claiming less than follows: padding per level
    local inner = ""
    for _ = 1, 70 do inner = IP{proto = 4, len = 20 + #inner}:bytes() .. inner .. "pad!" end
    local p = Packet(inner, {linktype = 101})
    assert.is_true(p.truncated)
    assert.equal(#inner, #p:bytes())
  end)
end)
