-- Bad input gets a clear error; malformed bytes never crash and lose nothing.
local sf = require("stackforge")
local h = require("helpers")
local Packet, Ether, IP, TCP, UDP = sf.Packet, sf.Ether, sf.IP, sf.TCP, sf.UDP

local function err(f)
  local ok, msg = pcall(f)
  assert.is_false(ok)
  return tostring(msg)
end

describe("errors", function()
  it("name the layer, the field and the valid fields for a wrong name", function()
    local m = err(function() return TCP{dprot = 80} end)
    assert.truthy(m:find("TCP has no field 'dprot'", 1, true))
    assert.truthy(m:find("sport, dport", 1, true))
    m = err(function() local p = IP() / TCP(); p[TCP].dprot = 1 end)
    assert.truthy(m:find("TCP has no field 'dprot'", 1, true))
    m = err(function() local p = IP() / TCP(); return p.dprot end)
    assert.truthy(m:find("'dprot'", 1, true))
    assert.truthy(m:find("IPv4 / TCP", 1, true))
  end)

  it("point at the caller's line", function()
    local m = err(function() return TCP{dprot = 80} end)
    assert.truthy(m:find("errors_spec.lua:%d+:"))
  end)

  it("name the field and the value for a bad value", function()
    local m = err(function() return IP{ttl = 300} end)
    assert.truthy(m:find("IP.ttl", 1, true))
    assert.truthy(m:find("300", 1, true))
    m = err(function() return IP{dst = "1.2.3"} end)
    assert.truthy(m:find("IP.dst", 1, true))
    assert.truthy(m:find("1.2.3", 1, true))
    m = err(function() return Ether{src = "zz:00"} end)
    assert.truthy(m:find("Ether.src", 1, true))
    m = err(function() return TCP{flags = "SXQ"} end)
    assert.truthy(m:find("TCP.flags", 1, true))
    m = err(function() return TCP{sport = -1} end)
    assert.truthy(m:find("TCP.sport", 1, true))
    m = err(function() return TCP{options = {{"Bogus", 1}}} end)
    assert.truthy(m:find("Bogus", 1, true))
    m = err(function() return sf.ICMP{type = 3, id = 1} end)
    assert.truthy(m:find("ICMP.id", 1, true))
  end)

  it("refuse to stack things that are not layers", function()
    assert.truthy(err(function() return IP() / 42 end):find("stack"))
    assert.truthy(err(function() return IP() / {} end):find("stack"))
  end)

  it("known field names absent from this packet read as nil", function()
    assert.is_nil((IP() / UDP()).window)
  end)
end)

describe("malformed bytes", function()
  local samples = {}
  for _, name in ipairs({"http.pcap", "dns_icmp.pcap", "icmpv6.pcap", "edns-opts.pcap"}) do
    local cap = h.read_pcap(h.path(name))
    for i = 1, math.min(#cap.packets, 8) do samples[#samples + 1] = cap.packets[i].data end
  end
  samples[#samples + 1] = (Ether() / sf.IPv6() / sf.IPv6ExtHdrHopByHop() / sf.IPv6ExtHdrRouting{addresses = {"::1"}}
    / sf.ICMPv6ND_RA{} / sf.ICMPv6NDOptPrefixInfo{} / sf.ICMPv6NDOptMTU{}):bytes()
  samples[#samples + 1] = (Ether() / sf.Dot1Q() / IP{options = {{"NOP"}, {"RR", {"1.1.1.1"}}}}
    / sf.ICMP.dest_unreach{} / IP() / TCP{options = {{"MSS", 1}}}):bytes()

  it("keep what parses at every truncation, the rest as Raw", function()
    for _, raw in ipairs(samples) do
      local full = Packet(raw)
      for n = 0, #raw do
        local p = Packet(raw:sub(1, n))
        assert.equal(raw:sub(1, n), p:bytes())
        -- the layers before the cut are the same protocols
        local kinds = {}
        for i = 1, p.layer_count do kinds[i] = (p:_layer_info(i)) end
        for i = 1, #kinds - 1 do
          assert.equal((full:_layer_info(i)), kinds[i])
        end
        local s = p:show()
        assert.is_string(s)
      end
    end
  end)

  it("say the packet was truncated", function()
    local raw = samples[1]
    local p = Packet(raw:sub(1, 40))  -- inside the TCP header
    assert.is_true(p.truncated)
    assert.equal("Ethernet / IPv4 / Raw", p:summary())
    assert.truthy(p:show():find("(truncated)", 1, true))
    assert.is_false(Packet(raw).truncated)
  end)

  it("survive random bytes and random corruption", function()
    math.randomseed(1234)
    for _ = 1, 3000 do
      local base = samples[math.random(#samples)]
      local b = {base:byte(1, -1)}
      for _ = 1, math.random(1, 6) do
        local i = math.random(#b)
        b[i] = math.random(0, 255)
      end
      local raw = string.char(table.unpack(b))
      local p = Packet(raw, {linktype = ({1, 101, 228, 229})[math.random(4)]})
      assert.equal(raw, p:bytes())
      for _, name in ipairs(p.fields) do local _ = p[name] end
      p:show()
      -- changing a field rebuilds without reading out of bounds
      if p.layer_count > 0 then pcall(function() p.ttl = 3 end) end
      local _ = p:bytes()
    end
  end)
end)
