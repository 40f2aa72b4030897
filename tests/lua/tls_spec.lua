-- TLS: RFC 8448's handshake and a browser's TLS 1.2 hello parse to their
-- published values; JA3 equals tshark's, JA4 FoxIO's published vectors;
-- Scapy's real captures; records several a segment and across segments
-- (flows); certificates' names equal openssl x509's; building, changing,
-- errors and damaged bytes.  (Scapy's bytes and tshark's fields for
-- builds: tests/interop/cases/tls.lua; real openssl client and server:
-- tests/interop/tls_live.sh.)
local sf = require("stackforge")
local h = require("helpers")
local V = dofile(h.path("tls_vectors.lua"))

local function bytes(name) return h.unhex(V[name]) end

local function kinds(p)
  local t = {}
  for i = 1, p.layer_count do t[i] = require("stackforge.layers").protos[p:_layer_info(i) + 1].name end
  return table.concat(t, " ")
end

-- the layer views of constructor c in p, in order
local function all(p, c)
  local r = {}
  for i = 1, p.layer_count do
    if p:_layer_info(i) == c.kind then r[#r + 1] = p:layer(i) end
  end
  return r
end

local function have(cmd)
  return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == true
end

describe("RFC 8448 section 3", function()
  it("parses the ClientHello to its published values", function()
    local p = sf.Packet(bytes("rfc8448_ch"), {proto = "TLS"})
    assert.is_false(p.truncated)
    assert.equal("TLS TLSClientHello TLS_Ext_ServerName TLS_Ext_RenegotiationInfo "
      .. "TLS_Ext_SupportedGroups TLS_Ext_SessionTicket TLS_Ext_KeyShare_CH "
      .. "TLS_Ext_SupportedVersion_CH TLS_Ext_SignatureAlgorithms "
      .. "TLS_Ext_PSKKeyExchangeModes TLS_Ext_RecordSizeLimit", kinds(p))
    local rec, ch = p[sf.TLS], p[sf.TLSClientHello]
    assert.same({22, 0x0301, 196}, {rec.type, rec.version, rec.len})
    assert.same({1, 192, 0x0303}, {ch.msgtype, ch.msglen, ch.version})
    assert.equal("cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7",
      ("%08x"):format(ch.gmt_unix_time) .. h.hex(ch.random_bytes))
    assert.same({0, ""}, {ch.sidlen, ch.sid})
    assert.same({6, {0x1301, 0x1303, 0x1302}}, {ch.cipherslen, ch.ciphers})
    assert.same({1, {0}, 145}, {ch.complen, ch.comp, ch.extlen})
    local sni = p[sf.TLS_Ext_ServerName]
    assert.same({0, 11, 9, 0, 6, "server"},
      {sni.type, sni.len, sni.servernameslen, sni.nametype, sni.namelen, sni.servername})
    assert.same({0x1d, 0x17, 0x18, 0x19, 0x100, 0x101, 0x102, 0x103, 0x104},
      p[sf.TLS_Ext_SupportedGroups].groups)
    local ks = p[sf.TLS_Ext_KeyShare_CH]
    assert.equal(36, ks.client_shares_len)
    assert.equal(29, ks.client_shares[1][1])
    assert.equal("99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c",
      h.hex(ks.client_shares[1][2]))
    assert.same({0x0304}, p[sf.TLS_Ext_SupportedVersion_CH].versions)
    assert.same({0x0403, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501,
      0x0601, 0x0201, 0x0402, 0x0502, 0x0602, 0x0202}, p[sf.TLS_Ext_SignatureAlgorithms].sig_algs)
    assert.same({1}, p[sf.TLS_Ext_PSKKeyExchangeModes].kxmodes)
    assert.equal(0x4001, p[sf.TLS_Ext_RecordSizeLimit].record_size_limit)
    assert.equal(h.hex(bytes("rfc8448_ch")), h.hex(p:bytes()))
  end)

  it("computes tshark's JA3 for it", function()
    local p = sf.Packet(bytes("rfc8448_ch"), {proto = "TLS"})
    local hash, s = sf.ja3(p)
    assert.equal("da4dea34fe6d4ce5f0725df3f2682fa0", hash)
    assert.equal("771,4865-4867-4866,0-65281-10-35-51-43-13-45-28,29-23-24-25-256-257-258-259-260,", s)
  end)

  it("parses the ServerHello to its published values", function()
    local p = sf.Packet(bytes("rfc8448_sh"), {proto = "TLS"})
    assert.equal("TLS TLSServerHello TLS_Ext_KeyShare_SH TLS_Ext_SupportedVersion_SH", kinds(p))
    local sh = p[sf.TLSServerHello]
    assert.same({2, 86, 0x0303, 0x1301, 0, 46}, {sh.msgtype, sh.msglen, sh.version, sh.cipher, sh.comp, sh.extlen})
    assert.equal("a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e26928",
      ("%08x"):format(sh.gmt_unix_time) .. h.hex(sh.random_bytes))
    local ks = p[sf.TLS_Ext_KeyShare_SH]
    assert.same({29, 32}, {ks.group, ks.kxlen})
    assert.equal("c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f", h.hex(ks.key_exchange))
    assert.equal(0x0304, p[sf.TLS_Ext_SupportedVersion_SH].version)
    assert.equal("771,4865,51-43", p.ja3s)
  end)

  it("keeps the encrypted records as application data", function()
    local p = sf.Packet(bytes("rfc8448_server_flight") .. bytes("rfc8448_client_finished"), {proto = "TLS"})
    assert.equal("TLS TLSApplicationData TLS TLSApplicationData", kinds(p))
    local data = all(p, sf.TLSApplicationData)
    assert.same({674, 53}, {#data[1].data, #data[2].data})
    assert.equal(V.rfc8448_client_finished:sub(11), h.hex(data[2].data))
  end)

  it("gives tls_info for the ClientHello, in a record or as bare handshake bytes", function()
    local want = {sni = "server", alpn = {}, versions = {0x0304}, ciphers = {0x1301, 0x1303, 0x1302},
      ja3 = "771,4865-4867-4866,0-65281-10-35-51-43-13-45-28,29-23-24-25-256-257-258-259-260,",
      ja3_hash = "da4dea34fe6d4ce5f0725df3f2682fa0", ja4 = "t13d030900_55b375c5d22e_59cd3dafc54d"}
    assert.same(want, sf.tls_info(sf.Packet(bytes("rfc8448_ch"), {proto = "TLS"})))
    local bare = bytes("rfc8448_ch"):sub(6)  -- a QUIC Initial's CRYPTO data has no record
    assert.same(want, sf.tls_info(bare))
    want.ja4 = "q" .. want.ja4:sub(2)
    assert.same(want, sf.tls_info(bare, {quic = true}))
    assert.is_nil(sf.tls_info(sf.Packet(bytes("rfc8448_sh"), {proto = "TLS"})))
    assert.is_nil(sf.tls_info("\2\0\0\0"))
  end)
end)

describe("a TLS 1.2 browser hello (Scapy's tls.uts)", function()
  it("parses to the values Scapy's test asserts and tshark prints", function()
    local p = sf.Packet(bytes("tls12_ch"), {proto = "TLS"})
    assert.is_false(p.truncated)
    assert.same({0x0301, 213}, {p[sf.TLS].version, p[sf.TLS].len})
    local ch = p[sf.TLSClientHello]
    assert.same({0x0303, 0x17f24dc3, 146}, {ch.version, ch.gmt_unix_time, ch.extlen})
    assert.same({0xc02b, 0xc02f, 0xc00a, 0xc009, 0xc013, 0xc014, 0x33, 0x39, 0x2f, 0x35, 0x0a}, ch.ciphers)
    assert.equal("camo.githubusercontent.com", p.servername)
    assert.same({"h2-16", "h2-15", "h2-14", "h2", "spdy/3.1", "http/1.1"}, p[sf.TLS_Ext_ALPN].protocols)
    assert.same({0, 65281, 10, 11, 35, 13172, 16, 5, 13}, (function()
      local t = {}
      for i = 3, p.layer_count do t[#t + 1] = p:layer(i).type end
      return t
    end)())
    assert.equal("TLS_Ext_Unknown", require("stackforge.layers").protos[p:_layer_info(8) + 1].name)
    assert.equal("07b4162d4db57554961824a21c4a0fde", (sf.ja3(p)))
    assert.equal("771,49195-49199-49162-49161-49171-49172-51-57-47-53-10,0-65281-10-11-35-13172-16-5-13,23-24-25,0",
      select(2, sf.ja3(p)))
  end)

  it("parses the ServerHello with its ALPN choice", function()
    local p = sf.Packet(bytes("tls12_sh"), {proto = "TLS"})
    assert.equal(0xc02f, p[sf.TLSServerHello].cipher)
    assert.same({"http/1.1"}, p[sf.TLS_Ext_ALPN].protocols)
    assert.equal(0, p[sf.TLS_Ext_ServerName].len)
    assert.is_nil(p[sf.TLS_Ext_ServerName].servername and #p[sf.TLS_Ext_ServerName].servername > 0 or nil)
    local hash, s = sf.ja3s(p)
    assert.equal("771,49199,0-65281-11-35-5-16", s)
    assert.equal(32, #hash)
  end)
end)

describe("JA4", function()
  -- FoxIO JA4 with its JA4_r (../shared/refdata/11-ja4.md): a ClientHello
  -- built with those lists must give that JA4.
  local function hello_from_raw(r, sni, alpn)
    local _, ciphers, exts, sigs = r:match("^(%w+)_([%x,]+)_([%x,]+)_([%x,]+)$")
    local function list(s)
      local t = {}
      for x in s:gmatch("%x+") do t[#t + 1] = tonumber(x, 16) end
      return t
    end
    local s = sf.TLS() / sf.TLSClientHello{ciphers = list(ciphers)}
    if sni then s = s / sf.TLS_Ext_ServerName{servername = "example.org"} end
    if alpn then s = s / sf.TLS_Ext_ALPN{protocols = {alpn}} end
    for _, t in ipairs(list(exts)) do
      if t == 13 then s = s / sf.TLS_Ext_SignatureAlgorithms{sig_algs = list(sigs)}
      elseif t == 43 then s = s / sf.TLS_Ext_SupportedVersion_CH{versions = {0x0304, 0x0303}}
      else s = s / sf.TLS_Ext_Unknown{type = t} end
    end
    return sf.Packet(s:bytes(), {proto = "TLS"})
  end

  it("equals the published fingerprints", function()
    local vectors = {
      {"t13d1516h2_8daaf6152771_d8a2da3f94cd", "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0017,001b,0023,002b,002d,0033,44cd,fe0d,ff01_0403,0804,0401,0503,0805,0501,0806,0601"},
      {"t13d1011h2_61a7ad8aa9b6_3fcd1a44f3e3", "t13d1011h2_00ff,1301,1302,1303,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0017,0023,002b,002d,0033_0503,0403,0807,0806,0805,0804,0601,0501,0401"},
    }
    for _, v in ipairs(vectors) do
      local p = hello_from_raw(v[2], true, "h2")
      local ja4, raw = sf.ja4(p)
      assert.equal(v[2], raw)
      assert.equal(v[1], ja4)
    end
  end)

  it("leaves GREASE out, counts to 99, and says 00 and i without ALPN or SNI", function()
    local p = sf.Packet((sf.TLS() / sf.TLSClientHello{ciphers = {0x0a0a, 0x1301}}
      / sf.TLS_Ext_Unknown{type = 0x1a1a} / sf.TLS_Ext_SupportedVersion_CH{versions = {0x2a2a, 0x0303}}):bytes(),
      {proto = "TLS"})
    assert.equal("t12i010100_", p.ja4:sub(1, 11))
    assert.equal("771,4865,43,,", p.ja3)
    local many = sf.TLS() / sf.TLSClientHello{ciphers = (function()
      local t = {}
      for i = 1, 120 do t[i] = 0x1000 + i end
      return t
    end)()}
    assert.equal("t12i9900", sf.Packet(many:bytes(), {proto = "TLS"}).ja4:sub(1, 8))
    local odd = sf.Packet((sf.TLS() / sf.TLSClientHello() / sf.TLS_Ext_ALPN{protocols = {"\1x\255"}}):bytes(),
      {proto = "TLS"})
    assert.equal("0f", odd.ja4:sub(9, 10))  -- not alphanumeric: hex digits of its ends
  end)
end)

describe("real captures (Scapy's test/pcaps)", function()
  it("reads NewSessionTicket, ChangeCipherSpec and an encrypted Finished in one segment", function()
    local n = 0
    for p in sf.PcapReader(h.path("tls_new-session-ticket.pcap")) do
      n = n + 1
      assert.equal("TCP TLS TLSNewSessionTicket TLS TLSChangeCipherSpec TLS TLSEncryptedContent",
        kinds(p):match("TCP.*"))
      assert.same({22, 20, 22}, (function()
        local t = {}
        for _, r in ipairs(all(p, sf.TLS)) do t[#t + 1] = r.type end
        return t
      end)())
      assert.equal(#p[sf.TLSNewSessionTicket].ticket, p[sf.TLSNewSessionTicket].ticketlen)
      assert.is_false(p.truncated)
    end
    assert.equal(12, n)
  end)

  it("reassembles records over segments and reads the certificate chain from the flow", function()
    local convs = sf.extract_flows(h.path("tls_tcp_frag_withnss.pcap.gz"))
    assert.equal(1, #convs)
    local c = convs[1]
    local recs = {}
    for r, off in sf.tls_records(c.reassembled_reverse) do recs[#recs + 1] = {off, kinds(r)} end
    assert.same({0, "TLS TLSServerHello TLS_Ext_RenegotiationInfo TLS_Ext_SessionTicket"}, recs[1])
    assert.same({58, "TLS TLSCertificate TLSCertificateEntry TLSCertificateEntry TLSCertificateEntry TLSCertificateEntry"}, recs[2])
    assert.equal("TLS TLSChangeCipherSpec", recs[6][2])
    assert.equal("TLS TLSEncryptedContent", recs[7][2])
    -- the same records when the stream comes in chunks of 100 bytes
    local s, at, again = c.reassembled_reverse, 1, {}
    for r, off in sf.tls_records(function()
      if at > #s then return nil end
      at = at + 100
      return s:sub(at - 100, at - 1)
    end) do again[#again + 1] = {off, kinds(r)} end
    assert.same(recs, again)
    local client = sf.tls_info(sf.Packet(c.reassembled_forward, {proto = "TLS"}))
    assert.equal("httpbin.org", client.sni)
  end)

  it("names the certificates as openssl x509 does", function()
    local c = sf.extract_flows(h.path("tls_tcp_frag_withnss.pcap.gz"))[1]
    local certs
    for m in sf.tls_handshakes(c.reassembled_reverse) do
      if m:has_layer(sf.TLSCertificate) then certs = all(m, sf.TLSCertificateEntry) end
    end
    assert.equal(4, #certs)
    assert.equal("CN=httpbin.org", certs[1].subject)
    assert.equal("CN=Amazon,OU=Server CA 1B,O=Amazon,C=US", certs[1].issuer)
    assert.equal("0158F30AD59D62AF209F15EE4FC2BB33", certs[1].serial)
    assert.equal("2022-12-19T23:59:59Z", certs[1].not_after)
    assert.equal("CN=Amazon Root CA 1,O=Amazon,C=US", certs[3].subject)
    if not have("openssl") then return end
    for i, e in ipairs(certs) do  -- openssl's own reading, live
      local path = os.tmpname()
      local f = assert(io.open(path, "wb"))
      f:write(e.cert)
      f:close()
      local pipe = io.popen("openssl x509 -inform DER -in " .. path
        .. " -noout -subject -issuer -serial -nameopt RFC2253 2>&1")
      local out = pipe:read("a")
      pipe:close()
      os.remove(path)
      assert.equal(("subject=%s\nissuer=%s\nserial=%s\n"):format(e.subject, e.issuer, e.serial), out,
        "certificate " .. i)
      assert.equal(#e.cert, e.certlen)
    end
  end)
end)

describe("tshark's reading of TLS captures", function()
  -- tests/interop/tls_live.sh records openssl s_client and s_server (TLS
  -- 1.3 and 1.2, SNI, ALPN, hellos built in Lua) and writes tshark's
  -- fields next to each capture; here sflua's reading must equal them.
  local compare = dofile("tests/interop/tls_compare.lua").compare
  for _, name in ipairs({"tls_openssl.pcap", "tls_new-session-ticket.pcap", "tls_tcp_frag_withnss.pcap.gz"}) do
    it(name .. " field by field", function()
      local n, bad = compare(h.path(name), h.path(name .. ".tls.tsv"))
      assert.same({}, bad)
      assert.is_true(n >= 30, n .. " values compared")
    end)
  end

  it("saw SNI, ALPN, both versions and the Lua-built hellos in openssl's capture", function()
    local f = assert(io.open(h.path("tls_openssl.pcap.tls.tsv")))
    local s = f:read("a")
    f:close()
    for _, want in ipairs({"www.sflua.test", "tls12.sflua.test", "lua.sflua.test", "\th2\t",
                           "http/1.1", "0x0304", "0x0303"}) do
      assert.truthy(s:find(want, 1, true), want)
    end
  end)

  -- tshark -Y 'tls.handshake.extensions_server_name == "tls12.sflua.test"'
  -- gives frame 19, and 4 19 62 72 for contains "sflua": a server name is
  -- text to a filter, as Wireshark's string fields are
  it("filters by server name as tshark does", function()
    local function frames(filter)
      local got = {}
      for i, p in ipairs(sf.rdpcap(h.path("tls_openssl.pcap"))) do
        if p:matches(filter) then got[#got + 1] = i end
      end
      return got
    end
    assert.same({19}, frames('tls.handshake.extensions_server_name == "tls12.sflua.test"'))
    assert.same({4, 19, 62, 72}, frames('tls.handshake.extensions_server_name contains "sflua"'))
    assert.same({62, 72}, frames('tls.handshake.extensions_server_name matches "^lua"'))
  end)
end)

describe("Scapy's bytes for random TLS packets", function()
  -- tests/interop/tls_random.sh builds a new random set with Scapy each
  -- run; here the set of its --golden seed, against Scapy's bytes kept
  it("builds them byte for byte and parses them back whole", function()
    local diffs, golden = h.random_golden("tls")
    assert.equal(golden.count, #golden.hex)
    assert.same({}, diffs)
  end)
end)

describe("detection", function()
  local function segment(sport, dport, payload)
    return sf.Packet((sf.Ether() / sf.IP() / sf.TCP{sport = sport, dport = dport, flags = "PA"} / payload):bytes())
  end

  it("finds records on any TCP port by their look, and on 443 and 853", function()
    local rec = bytes("rfc8448_ch")
    for _, port in ipairs({443, 853, 4433, 25, 50000}) do
      local p = segment(40000, port, rec)
      assert.is_true(p:has_layer(sf.TLSClientHello), "port " .. port)
      assert.equal("server", p.servername)
    end
  end)

  it("leaves other payloads alone, on 443 too (a record's middle) and not truncated", function()
    for _, port in ipairs({443, 5555}) do
      for _, payload in ipairs({"GET / HTTP/1.1\r\n\r\n", "\22\3\9\0\5hello", "\23\3\3\0\0", "\20\3\3\0\2\1\1",
                                bytes("rfc8448_ch"):sub(20)}) do
        local p = segment(40000, port, payload)
        assert.is_false(p:has_layer(sf.TLS), ("%d %q"):format(port, payload:sub(1, 8)))
        assert.is_false(p.truncated)
      end
    end
  end)

  it("reads several records a segment and marks a record continued in the next one", function()
    local two = bytes("rfc8448_sh") .. bytes("rfc8448_server_flight"):sub(1, 300)
    local p = segment(443, 40000, two)
    assert.equal("TCP TLS TLSServerHello TLS_Ext_KeyShare_SH TLS_Ext_SupportedVersion_SH TLS TLSApplicationData",
      kinds(p):match("TCP.*"))
    assert.same({90, 674}, {all(p, sf.TLS)[1].len, all(p, sf.TLS)[2].len})
    assert.equal(295, #p[sf.TLSApplicationData].data)
    local cut = segment(443, 40000, bytes("rfc8448_ch"):sub(1, 120))
    assert.is_true(cut.truncated)
    assert.is_true(cut:has_layer(sf.TLS_Ext_ServerName))
  end)
end)

describe("building and changing", function()
  it("builds a hello whose lengths follow its extensions", function()
    local s = sf.TLS() / sf.TLSClientHello{ciphers = {0x1301}} / sf.TLS_Ext_ServerName{servername = "a.b"}
      / sf.TLS_Ext_ALPN{protocols = {"h2"}}
    local p = sf.Packet(s:bytes(), {proto = "TLS"})
    assert.same({22, 0x0303}, {p[sf.TLS].type, p[sf.TLS].version})
    assert.equal(#s:bytes() - 5, p[sf.TLS].len)
    assert.equal(#s:bytes() - 9, p[sf.TLSClientHello].msglen)
    assert.equal(12 + 9, p[sf.TLSClientHello].extlen)
    assert.same({8, 6, 3}, {p[sf.TLS_Ext_ServerName].len, p[sf.TLS_Ext_ServerName].servernameslen,
      p[sf.TLS_Ext_ServerName].namelen})
    assert.same({5, 3}, {p[sf.TLS_Ext_ALPN].len, p[sf.TLS_Ext_ALPN].protocolslen})
  end)

  it("changes the server name of a captured hello, every length and checksum after", function()
    local p = sf.Packet((sf.Ether() / sf.IP() / sf.TCP{dport = 443} / bytes("rfc8448_ch")):bytes())
    p[sf.TLS_Ext_ServerName].servername = "a-much-longer-name.example"
    local q = sf.Packet(p:bytes())
    assert.equal("a-much-longer-name.example", q.servername)
    assert.equal(196 + 20, q[sf.TLS].len)
    assert.equal(192 + 20, q[sf.TLSClientHello].msglen)
    assert.equal(145 + 20, q[sf.TLSClientHello].extlen)
    assert.same({31, 29, 26}, {q[sf.TLS_Ext_ServerName].len, q[sf.TLS_Ext_ServerName].servernameslen,
      q[sf.TLS_Ext_ServerName].namelen})
    assert.equal(#q - 14, q[sf.IP].len)
    assert.is_true(q:has_layer(sf.TLS_Ext_RecordSizeLimit))  -- everything after it still parses
    q[sf.TLSClientHello].ciphers = {0x1302}
    local r = sf.Packet(q:bytes())
    assert.same({2, {0x1302}}, {r[sf.TLSClientHello].cipherslen, r[sf.TLSClientHello].ciphers})
    assert.equal(r.servername, "a-much-longer-name.example")
  end)

  it("keeps a cut record's lengths when another field changes", function()
    local p = sf.Packet((sf.Ether() / sf.IP() / sf.TCP{dport = 443} / bytes("rfc8448_ch"):sub(1, 100)):bytes())
    p[sf.TCP].window = 1000
    local q = sf.Packet(p:bytes())
    assert.same({196, 192}, {q[sf.TLS].len, q[sf.TLSClientHello].msglen})
  end)

  it("builds with tls_client_hello a hello with SNI and ALPN", function()
    local s = sf.tls_client_hello{sni = "example.com", alpn = {"h2", "http/1.1"}}
    local info = sf.tls_info(sf.Packet(s:bytes(), {proto = "TLS"}))
    assert.equal("example.com", info.sni)
    assert.same({"h2", "http/1.1"}, info.alpn)
    assert.same({0x0304, 0x0303}, info.versions)
    assert.equal("t13d1510h2", info.ja4:sub(1, 10))
    local twelve = sf.tls_client_hello{versions = {0x0303}, ciphers = {0xc02f}, random = ("r"):rep(32)}
    local p = sf.Packet(twelve:bytes(), {proto = "TLS"})
    assert.is_false(p:has_layer(sf.TLS_Ext_KeyShare_CH))
    assert.equal(("r"):rep(28), p[sf.TLSClientHello].random_bytes)
  end)

  it("lists the computed values with the fields", function()
    assert.truthy(sf.ls(sf.TLSClientHello):find("ja3%s+: computed"))
    assert.truthy(sf.ls(sf.TLSCertificateEntry):find("subject%s+: computed"))
  end)
end)

describe("errors", function()
  it("names the function, the option and what is allowed", function()
    local ok, err = pcall(sf.tls_client_hello, {snii = "x"})
    assert.is_false(ok)
    assert.truthy(err:find("tls_client_hello: unknown option 'snii' %(allowed: alpn, "))
    ok, err = pcall(sf.tls_client_hello, {alpn = "h2"})
    assert.truthy(err:find("option 'alpn' is a string, expected a table"))
    ok, err = pcall(sf.ja3, 5)
    assert.truthy(err:find("bad argument #1 to 'ja3' %(packet expected, got number%)"))
    ok, err = pcall(sf.tls_info, {})
    assert.truthy(err:find("bad argument #1 to 'tls_info'"))
    ok, err = pcall(sf.tls_info, "x", {quick = true})
    assert.truthy(err:find("unknown option 'quick'"))
    ok, err = pcall(function() return sf.TLS_Ext_ALPN{protocols = {"h2", 5}} end)
    assert.truthy(err:find("item 2 is 5"))
    ok, err = pcall(function() return sf.TLSClientHello{ciphers = {70000}} end)
    assert.truthy(err:find("item 1 is 70000, not an integer 0..65535"))
  end)

  it("reads no value where the layer computes none", function()
    local p = sf.Packet(bytes("rfc8448_sh"), {proto = "TLS"})
    assert.is_nil(p.ja3)
    assert.is_nil(sf.ja3(p))
    assert.is_nil(sf.ja4(p))
    local ok, err = pcall(function() return p[sf.TLSServerHello].ja3 end)
    assert.is_false(ok)
    assert.truthy(err:find("TLSServerHello has no field 'ja3'"))
    local junk = sf.Packet((sf.TLS() / sf.TLSCertificate() / sf.TLSCertificateEntry{cert = "not DER"}):bytes(),
      {proto = "TLS"})
    assert.is_nil(junk[sf.TLSCertificateEntry].subject)
  end)
end)

describe("damaged bytes", function()
  it("never crash: every cut and every flipped byte parses, what parses kept", function()
    local whole = bytes("rfc8448_ch") .. bytes("tls12_sh") .. bytes("rfc8448_client_finished")
    for n = 0, #whole do
      local p = sf.Packet(whole:sub(1, n), {proto = "TLS"})
      assert.equal(n, #p:bytes())
      local _ = p.ja3, p.ja4, p.ja3s, p:summary()
    end
    for i = 1, #whole do
      local b = whole:sub(1, i - 1) .. string.char((whole:byte(i) + 0x55) % 256) .. whole:sub(i + 1)
      local p = sf.Packet(b, {proto = "TLS"})
      assert.equal(#b, #p:bytes())
      local _ = p.ja3, p.ja4, p.ja3s, p.servername, sf.tls_info(p)
    end
  end)
end)
