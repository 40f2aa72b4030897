-- Scapy's navigation habits: p[2], payload, underlayer, getlayer(cls, n),
-- haslayer/firstlayer/lastlayer, copy, decode_payload_as, constructors
-- parsing bytes, LayerKind names; command() rebuilding Scapy's golden
-- packets byte for byte.
local sf = require("stackforge")
local h = require("helpers")

describe("navigation", function()
  local p = sf.Ether() / sf.IP{dst = "10.0.0.2"} / sf.IP{dst = "10.0.0.3"} / sf.UDP{dport = 53} / "x"

  it("p[i] is the i-th layer, p[-1] the last; names still name layers", function()
    assert.equal("IPv4", p[2].name)
    assert.equal("Raw", p[-1].name)
    assert.is_nil(p[6])
    assert.is_nil(p[0])
    assert.equal("10.0.0.2", p[sf.IP].dst)
    assert.equal("10.0.0.2", p[sf.LayerKind.Ipv4].dst)
    assert.equal("10.0.0.2", p["IP"].dst)
    assert.equal("Ipv4", sf.LayerKind.Ipv4)
    assert.equal(sf.UDP.kind, p[4].kind)
    assert.is_true(p:has_layer(sf.LayerKind.Udp))
  end)

  it("payload and underlayer walk the layers", function()
    assert.equal("IPv4", p.payload.name)
    assert.equal("10.0.0.3", p[2].payload.dst)
    assert.equal("10.0.0.2", p[3].underlayer.dst)
    assert.is_nil(p[1].underlayer)
    assert.is_nil(p[-1].payload)
    assert.is_nil(sf.TCP().payload)
  end)

  it("getlayer(cls, n), haslayer, firstlayer, lastlayer, layers", function()
    assert.equal("10.0.0.3", p:getlayer(sf.IP, 2).dst)
    assert.is_nil(p:getlayer(sf.IP, 3))
    assert.equal("UDP", p:getlayer(4).name)
    assert.is_true(p:haslayer("UDP"))
    assert.is_false(p:haslayer(sf.TCP))
    assert.equal("Ethernet", p:firstlayer().name)
    assert.equal("Raw", p:lastlayer().name)
    assert.equal(sf.UDP, p:layers()[4])
    assert.equal("10.0.0.3", p[2]:getlayer(sf.IP, 2).dst)
    local ok, err = pcall(p.getlayer, p, sf.IP, 0)
    assert.is_false(ok)
    assert.matches("count from 1", err)
  end)

  it("a layer view answers as Scapy's layers: show, summary, bytes, copy", function()
    assert.equal("IP / UDP 127.0.0.1:domain > 10.0.0.3:domain / Raw", p[3]:summary("scapy"))
    assert.equal(p:bytes():sub(15), p[2]:bytes())
    assert.matches("###%[ UDP %]###", p[sf.UDP]:show())
    assert.is_true(p[2]:haslayer(sf.UDP))
    assert.equal("x", p[sf.UDP]:copy()[sf.Raw].load)
  end)

  it("copy keeps what was set and what was automatic", function()
    local q = p:copy()
    q[sf.UDP].dport = 54
    assert.equal(53, p.dport)
    assert.equal(54, q.dport)
    assert.equal(#p, #q)
  end)

  it("constructors parse bytes as Scapy's do", function()
    local raw = (sf.IP{dst = "192.0.2.9"} / sf.TCP{dport = 22}):bytes()
    local q = sf.IP(raw)
    assert.equal("192.0.2.9", q.dst)
    assert.equal(22, q.dport)
    assert.equal(raw, q:bytes())
    assert.equal("TCP", sf.TCP(raw:sub(21)):layer(1).name)
    local ok, err = pcall(sf.TCP, 5)
    assert.is_false(ok)
    assert.matches("table of fields or bytes expected, got number", err)
  end)

  it("decode_payload_as dissects what follows the first layer as another layer", function()
    local q = sf.IP() / sf.UDP{dport = 9999} / sf.TCP{dport = 80}:bytes()
    assert.equal("IPv4 / UDP / Raw", q:summary())
    local r = q:getlayer(sf.UDP):copy():decode_payload_as(sf.TCP)
    assert.equal("UDP / TCP", r:summary())
    assert.equal(80, r[2].dport)
  end)

  it("command() gives the Lua that builds Scapy's golden packets again", function()
    local n = 0
    for line in io.lines(h.path("scapy_text_golden.tsv")) do
      local hex, linktype = line:match("^(%x+)\t(%d+)\t")
      if hex and linktype == "1" and n < 300 then
        n = n + 1
        local q = sf.Packet(h.unhex(hex))
        local cmd = q:command()
        local built = assert(load("return " .. cmd, "command", "t", sf))()
        assert.equal(hex, h.hex(built:bytes()), cmd)
      end
    end
    assert.equal(300, n)
  end)
end)
