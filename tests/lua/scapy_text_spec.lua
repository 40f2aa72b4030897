-- Scapy's text without Scapy: tests/data/scapy_text_golden.tsv holds
-- Debian python3-scapy 2.5's summary() and sprintf() of 650 packets
-- (random ones of tests/interop/gen_cases.lua, the per-protocol cases and
-- every packet of eleven captures), written by
-- tests/interop/run_scapy_text.sh --golden.  Packets that Scapy and sflua
-- dissect into different layers (a protocol one of them lacks) are
-- counted, not compared.  Port, protocol and EtherType names come from
-- /etc/services, /etc/protocols and /etc/ethertypes, as Scapy's do.
local sf = require("stackforge")
local core = require("stackforge.core")
local h = require("helpers")

local check = require("scapy_text_check")

describe("Scapy-style text", function()
  local formats, cases = check.read_golden(h.path("scapy_text_golden.tsv"))

  it("matches Scapy's summary(), sprintf() and show2() values byte for byte", function()
    local same, diffs = check.compare_cases(cases, formats)
    assert(#diffs == 0, table.concat(diffs, "\n"))
    assert.is_true(#cases >= 600 and same >= 550, ("%d of %d compared"):format(same, #cases))
  end)

  it("keeps the seed's layer list as p:summary() and tostring(p)", function()
    local p = sf.Ether() / sf.IP{dst = "10.0.0.2"} / sf.TCP{dport = 80, flags = "S"}
    assert.equal("Ethernet / IPv4 / TCP", p:summary())
    assert.equal("Ethernet / IPv4 / TCP", tostring(p))
    assert.equal("Ether / IP / TCP 127.0.0.1:ftp_data > 10.0.0.2:http S", p:summary("scapy"))
  end)

  it("keeps both summaries when the module is loaded again (busted's insulation)", function()
    -- in a process of its own: a core loaded again is a fresh state
    local bin = os.getenv("SFLUA_BIN")
    if not bin then return pending("SFLUA_BIN not set") end
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write([[
      local sf = require("stackforge")
      package.loaded["stackforge.core"] = nil
      require("stackforge.core")  -- wraps the packets' summary again
      local p = sf.IP{dst = "10.0.0.2"} / sf.UDP{sport = 20, dport = 53}
      print(p:summary()) print(p:summary("scapy"))]])
    f:close()
    local pipe = io.popen(bin .. " " .. script .. " 2>&1")
    local out = pipe:read("a")
    pipe:close()
    os.remove(script)
    assert.equal("IPv4 / UDP\nIP / UDP 127.0.0.1:20 > 10.0.0.2:domain\n", out)
  end)

  it("prints an 802.3 frame as Scapy's Dot3 and EAPOL's types by Scapy's names", function()
    local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end
    -- python3-scapy 2.5: Ether(bytes.fromhex(h)).summary()
    for h, scapy in pairs{
      ["020000000002020000000001000baaaa0300000c2000636470"] = "802.3 02:00:00:00:00:01 > 02:00:00:00:00:02 / LLC / SNAP / Raw",
      ["0200000000020200000000010029aaaa0300000008004500002100010000401166c90a0000010a00000203e807d0000d9c4768656c6c6f"]
        = "Dot3 / LLC / SNAP / IP / UDP 10.0.0.1:1000 > 10.0.0.2:2000 / Raw",
      ["ffffffffffff020000000001888e0103005f02"] = "Ether / EAPOL EAPOL-Key / Raw",
    } do
      assert.equal(scapy, sf.Packet(unhex(h)):summary("scapy"))
    end
  end)

  it("show and show2 take Scapy's indent, lvl and label_lvl", function()
    local p = sf.IP{src = "10.0.0.1", dst = "10.0.0.2"} / sf.UDP()
    -- python3-scapy: p.show2(indent=2, lvl='>', label_lvl='|'), its UDP part
    local scapy = "|###[ UDP ]### \n|>    sport     = domain\n|>    dport     = domain\n"
      .. "|>    len       = 8\n|>    chksum    = 0xeb71\n"
    local text = p:show2{indent = 2, lvl = ">", label_lvl = "|"}
    assert.equal(scapy, text:sub(text:find("|###[ UDP ]###", 1, true), -1))
    assert.matches("^|###%[ IPv4 %]### \n|>  version   = 4\n", text)
    local ok, err = pcall(p.show, p, {level = 2})
    assert.is_false(ok)
    assert.matches("show: option 'level' must be one of indent %(number%), lvl, label_lvl %(strings%)", err)
    ok, err = pcall(p.show2, p, 5)
    assert.matches("bad argument #2 to 'show2' %(table of options expected, got number%)", err)
  end)

  it("names ports from /etc/services as Scapy does (ftp-data is ftp_data)", function()
    local p = sf.IP{src = "10.0.0.1", dst = "10.0.0.2"} / sf.UDP{sport = 20, dport = 53}
    assert.equal("IP / UDP 10.0.0.1:20 > 10.0.0.2:domain", p:summary("scapy"))
    assert.equal("ftp_data", core.scapy_name("services/tcp", 20))
    assert.is_nil(core.scapy_name("services/udp", 20))
    assert.equal("n_802_1Q", core.scapy_name("ethertypes", 0x8100))
    assert.equal("802_AD", core.scapy_name("ethertypes", 0x88a8))
  end)

  it("sprintf: directives, conditions, widths, raw values, escapes", function()
    local p = sf.Ether() / sf.IP{src = "10.0.0.1", dst = "10.0.0.2", ttl = 9} / sf.TCP{dport = 443}
    assert.equal("10.0.0.1 -> https", p:sprintf("%IP.src% -> %TCP.dport%"))
    assert.equal("[     9]", p:sprintf("[%6dr,IP.ttl%]"))
    assert.equal("tcp {yes} ??", p:sprintf("%IP.proto% {TCP:%(yes%)}{UDP:no} %UDP.dport%"))
    assert.equal("443", p:sprintf("%dport%"))  -- found past the outer layer: a number, as Scapy
  end)

  it("raises clear errors at the caller's line", function()
    local p = sf.IP() / sf.TCP()
    local ok, err = pcall(p.sprintf, p, "%5q,IP.ttl%")
    assert.is_false(ok)
    assert.matches("bad format string", err)
    ok, err = pcall(p.sprintf, p, "%IP.ttl")
    assert.is_false(ok)
    assert.matches("unclosed directive", err)
    ok, err = pcall(p.summary, p, "wireshark")
    assert.is_false(ok)
    assert.matches("unknown style 'wireshark'", err)
  end)
end)
