-- Scapy's text for the layers a Scapy user loads first, without Scapy:
-- tests/data/scapy_text_layers_golden.tsv holds Debian python3-scapy
-- 2.5's summary(), sprintf() and show2() after load_layer("tls") and
-- load_layer("http") (HTTP/2 with it) for random TLS and HTTP packets (tls_random.lua,
-- http_random.lua, built by sflua) and every packet of TLS, HTTP and L2TP
-- captures (TLS off port 443 too), written by tests/interop/run_scapy_text.sh --layers --golden.
-- Packets Scapy and sflua dissect into different layers (scapy_text_check
-- lists a TLS record's messages in its class) are counted, not compared.
local sf = require("stackforge")
local h = require("helpers")
local check = require("scapy_text_check")

describe("Scapy-style text of TLS, HTTP and L2TP", function()
  local formats, cases = check.read_golden(h.path("scapy_text_layers_golden.tsv"))

  it("matches Scapy's summary(), sprintf() and show2() values byte for byte", function()
    local kinds = {tls = 0, http = 0, l2tp = 0, enc = 0, h2 = 0}
    local same, diffs = check.compare_cases(cases, formats, function(c)
      if c[3]:find("TLS[", 1, true) then kinds.tls = kinds.tls + 1 end
      if c[3]:find("HTTP", 1, true) then kinds.http = kinds.http + 1 end
      if c[3]:find("L2TP", 1, true) then kinds.l2tp = kinds.l2tp + 1 end
      if c[3]:find("H2Frame", 1, true) then kinds.h2 = kinds.h2 + 1 end
      if c[4]:find("Encrypted Content", 1, true) or c[4]:find("Hello Request", 1, true) then
        kinds.enc = kinds.enc + 1
      end
    end)
    assert(#diffs == 0, table.concat(diffs, "\n"))
    -- each kind is compared, not left out as dissected differently
    assert.is_true(#cases >= 1000 and same >= 950, ("%d of %d compared"):format(same, #cases))
    assert.is_true(kinds.tls >= 150 and kinds.http >= 120 and kinds.l2tp >= 150 and kinds.enc >= 5
      and kinds.h2 >= 20, ("compared: %d TLS, %d HTTP, %d L2TP, %d encrypted TLS, %d HTTP/2"):format(
        kinds.tls, kinds.http, kinds.l2tp, kinds.enc, kinds.h2))
  end)

  it("keeps DHCP's pad options inside DHCP, as Scapy's options field does", function()
    -- the DHCP packets of the other golden set (captures with zeros after
    -- the end option): each one dissected alike and printed alike
    local formats2, cases2 = check.read_golden(h.path("scapy_text_golden.tsv"))
    local dhcp = {}
    for _, c in ipairs(cases2) do
      if c[3]:find("DHCP", 1, true) then dhcp[#dhcp + 1] = c end
    end
    local same, diffs = check.compare_cases(dhcp, formats2)
    assert(#diffs == 0, table.concat(diffs, "\n"))
    assert.is_true(#dhcp >= 15 and same == #dhcp, ("%d of %d DHCP packets alike"):format(same, #dhcp))
  end)

  -- python3-scapy 2.5, load_layer("tls"), load_layer("http"):
  -- Ether(bytes(...)).summary() of the same packets built in Scapy
  it("prints built TLS and HTTP packets as Scapy does", function()
    local ip = sf.IP{src = "10.0.0.1", dst = "10.0.0.2"}
    local p = sf.Ether() / ip / sf.TCP{sport = 1234, dport = 443, flags = "PA"} / sf.TLS()
      / sf.TLSClientHello() / sf.TLS() / sf.TLSAlert{level = 2, descr = 40}
    assert.equal("Ether / IP / TCP / TLS / TLS 10.0.0.1:1234 > 10.0.0.2:443 / TLS / TLS Alert",
      p:summary("scapy"))
    assert.equal("Ethernet / IPv4 / TCP / TLS / TLS Handshake - Client Hello / TLS / TLS Alert", p:summary())
    p = sf.Ether() / ip / sf.TCP{sport = 1234, dport = 443} / sf.TLS() / sf.TLSClientHello()
    assert.equal("Ether / IP / TCP / TLS 10.0.0.1:1234 > 10.0.0.2:443 / TLS / TLS Handshake - Client Hello",
      p:summary("scapy"))
    p = sf.Ether() / ip / sf.TCP{sport = 1234, dport = 80, flags = "PA"}
      / sf.HTTPRequest{Path = "/caf\xc3\xa9'x"}
    assert.equal([[Ether / IP / TCP / HTTP / 'GET' "/café'x" 'HTTP/1.1']], p:summary("scapy"))
    assert.equal([["/café'x"]], p:sprintf("%HTTPRequest.Path%"))
    p = sf.Ether() / ip / sf.TCP{sport = 80, dport = 1234, flags = "PA"} / sf.Raw("\0\1body")
    assert.equal("Ether / IP / TCP 10.0.0.1:http > 10.0.0.2:1234 PA / HTTP / Raw", p:summary("scapy"))
    -- Scapy binds TLS to port 443 and HTTP to 80 and 8080 alone
    p = sf.Ether() / ip / sf.TCP{sport = 1234, dport = 4433} / sf.TLS() / sf.TLSClientHello()
      / sf.TLS() / sf.TLSAlert()
    assert.equal("Ether / IP / TCP 10.0.0.1:1234 > 10.0.0.2:4433 S / Raw", p:summary("scapy"))
    p = sf.Packet((sf.Ether() / ip / sf.TCP{sport = 1234, dport = 443} / sf.Raw("GET / HTTP/1.1\r\n\r\n")):bytes())
    assert.equal("Ethernet / IPv4 / TCP / HTTP Request", p:summary())  -- sflua finds it all the same
    assert.equal("Ether / IP / TCP 10.0.0.1:1234 > 10.0.0.2:https S / _TLSEncryptedContent", p:summary("scapy"))
  end)
end)
