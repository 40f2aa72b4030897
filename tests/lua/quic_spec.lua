-- QUIC: RFC 9001 and RFC 9369 Appendix A reproduced byte for byte (both
-- ways: decrypting the published packets, building and encrypting them
-- again); RFC 9000's varint examples; tshark's fields of four captures
-- (tcpdump's handshake, Retry and Version Negotiation tests, and ngtcp2's
-- client and server with Initials built by sflua, recorded by
-- tests/interop/quic_live.sh); CRYPTO frames joined across Initials;
-- building, changing, errors and damaged bytes.
local sf = require("stackforge")
local h = require("helpers")
local V = dofile(h.path("quic_vectors.lua"))
local layers = require("stackforge.layers")

local function kinds(p)
  local t = {}
  for i = 1, p.layer_count do t[i] = layers.protos[p:_layer_info(i) + 1].name end
  return table.concat(t, " ")
end

local function udp(payload, sport, dport)
  return sf.Packet((sf.Ether() / sf.IP{src = "10.0.0.1", dst = "10.0.0.2"}
    / sf.UDP{sport = sport or 50000, dport = dport or 443} / sf.Raw{load = payload}):bytes())
end

local function head_of(p) return p:get_layer_bytes(sf.QUIC_Initial) end

for _, ver in ipairs({"v1", "v2"}) do
  local v = V[ver]
  local version = ver == "v1" and 1 or 0x6b3343cf
  describe("RFC " .. (ver == "v1" and "9001" or "9369") .. " Appendix A (QUIC " .. ver .. ")", function()
    local raw = h.unhex(v.client_initial)

    it("parses the protected client Initial", function()
      local p = udp(raw)
      assert.equal("Ether IP UDP QUIC_Initial QUIC_Protected", kinds(p))
      local q = p[sf.QUIC_Initial]
      assert.equal(version, q.Version)
      assert.equal(V.dcid, h.hex(q.DstConnID))
      assert.equal("", q.SrcConnID)
      assert.equal(1182, q.Length)
      assert.equal(0, q.TokenLen)
      assert.equal(1200 - 18 - (q.PacketNumberLen + 1), #p[sf.QUIC_Protected].data)
    end)

    it("decrypts it to the published unprotected header and frames", function()
      local d = assert(sf.quic_decrypt(udp(raw)))
      assert.equal("Ether IP UDP QUIC_Initial QUIC_CRYPTO TLSClientHello TLS_Ext_ServerName "
        .. "TLS_Ext_RenegotiationInfo TLS_Ext_SupportedGroups TLS_Ext_ALPN TLS_Ext_CSR "
        .. "TLS_Ext_KeyShare_CH TLS_Ext_SupportedVersion_CH TLS_Ext_SignatureAlgorithms "
        .. "TLS_Ext_PSKKeyExchangeModes TLS_Ext_RecordSizeLimit TLS_Ext_Unknown QUIC_PADDING",
        kinds(d))
      local q = head_of(d)
      assert.equal(1184, #q)  -- header, frames, no tag: the RFC's unprotected packet
      assert.equal(v.client_header, h.hex(q:sub(1, 22)))
      assert.equal(V.v1.client_crypto, h.hex(q:sub(23, 22 + 245)))
      assert.equal(("00"):rep(917), h.hex(q:sub(23 + 245)))
      assert.equal(2, d[sf.QUIC_Initial].PacketNumber)
      assert.equal(3, d[sf.QUIC_Initial].PacketNumberLen)
      assert.equal(241, d[sf.QUIC_CRYPTO].length)
      assert.equal(0, d[sf.QUIC_CRYPTO].offset)
      assert.equal(916, #d[sf.QUIC_PADDING].padding)
      assert.equal("example.com", d.servername)
    end)

    it("tls_info reads the ClientHello inside (JA3 equal to tshark's)", function()
      local info = sf.tls_info(udp(raw))
      assert.equal("example.com", info.sni)
      assert.same({"alpn"}, info.alpn)
      assert.same({0x0304}, info.versions)
      assert.same({0x1301, 0x1302}, info.ciphers)
      -- tshark 4.0.17 on this packet: tls.handshake.ja3_full and ja3
      assert.equal("771,4865-4866,0-65281-10-16-5-51-43-13-45-28-57,29-23-24,", info.ja3)
      assert.equal("41bc9ae914d6cb3bd0bd0a5453ab7d7f", info.ja3_hash)
      assert.equal("q", info.ja4:sub(1, 1))
    end)

    it("encrypts the decrypted packet back to the published bytes", function()
      local d = assert(sf.quic_decrypt(udp(raw)))
      d[sf.QUIC_Initial]:encrypt()
      assert.equal(raw, head_of(d))
      assert.equal("Ether IP UDP QUIC_Initial QUIC_Protected", kinds(d))
      assert.equal(1208, d[sf.UDP].len)
    end)

    it("builds the unprotected packet and encrypts it to the published bytes", function()
      local s = sf.QUIC_Initial{Version = version, DstConnID = h.unhex(V.dcid), PacketNumber = 2,
        PacketNumberLen = 3}
        / sf.QUIC_CRYPTO{offset = 0} / sf.Raw{load = h.unhex(V.v1.client_crypto):sub(5)}
        / sf.QUIC_PADDING{padding = ("\0"):rep(916)}
      local p = s:build()
      assert.equal(v.client_header, h.hex(p:bytes():sub(1, 22)))
      assert.equal(V.v1.client_crypto, h.hex(p:bytes():sub(23, 22 + 245)))
      p[sf.QUIC_Initial]:encrypt()
      assert.equal(v.client_initial, h.hex(p:bytes()))
    end)

    it("parses the server Initial and the Retry", function()
      local p = udp(h.unhex(v.server_initial), 443, 50000)
      assert.equal("Ether IP UDP QUIC_Initial QUIC_Protected", kinds(p))
      assert.equal("f067a5502a4262b5", h.hex(p.SrcConnID))
      assert.equal(117, p.Length)
      -- a server's Initial needs the client's first ID: its own opens nothing
      local d, why = sf.quic_decrypt(p)
      assert.is_nil(d)
      assert.matches("no Initial opens", why)
      d = assert(sf.quic_decrypt(p, {dcid = h.unhex(V.dcid)}))
      assert.equal("Ether IP UDP QUIC_Initial QUIC_ACK QUIC_CRYPTO TLSServerHello "
        .. "TLS_Ext_KeyShare_SH TLS_Ext_SupportedVersion_SH", kinds(d))
      assert.equal(v.server_header, h.hex(head_of(d):sub(1, 20)))
      assert.equal(V.v1.server_payload, h.hex(head_of(d):sub(21)))  -- RFC's A.3 payload
      assert.equal(1, d[sf.QUIC_Initial].PacketNumber)
      assert.equal(0x1301, d[sf.TLSServerHello].cipher)
      assert.is_nil(sf.quic_decrypt(p, {dcid = "\0\1\2\3"}))
      local r = udp(h.unhex(v.retry), 443, 50000)
      assert.equal("Ether IP UDP QUIC_Retry", kinds(r))
      assert.equal("token", r.RetryToken)
      assert.equal(v.retry:sub(-32), h.hex(r.RetryIntegrityTag))
      assert.equal(version, r.Version)
    end)
  end)
end

describe("RFC 9000 variable-length integers", function()
  it("reads and writes Appendix A.1's examples", function()
    for _, c in ipairs({{"c2197c5eff14e88c", 151288809941952652}, {"9d7f3e7d", 494878333},
                        {"7bbd", 15293}, {"25", 37}, {"4025", 37}}) do
      local p = sf.Packet(h.unhex("06" .. c[1] .. "00"), {proto = "QUIC_CRYPTO"})
      assert.equal(c[2], p[sf.QUIC_CRYPTO].offset)
    end
    local function built(n) return h.hex(sf.QUIC_CRYPTO{offset = n}:bytes()) end
    assert.equal("06c2197c5eff14e88c00", built(151288809941952652))
    assert.equal("069d7f3e7d00", built(494878333))
    assert.equal("067bbd00", built(15293))
    assert.equal("062500", built(37))
  end)

  it("keeps a varint's width when a new value fits, widens it when not", function()
    local p = sf.Packet(h.unhex("06402500"), {proto = "QUIC_CRYPTO"}):build()
    p[sf.QUIC_CRYPTO].offset = 38
    assert.equal("06402600", h.hex(p:bytes()))
    p[sf.QUIC_CRYPTO].offset = 20000
    assert.equal("0680004e2000", h.hex(p:bytes()))  -- 20000 needs 4 bytes
  end)
end)

describe("QUIC captures against tshark", function()
  local compare = dofile("tests/interop/quic_fields.lua").compare
  for _, name in ipairs({"quic_handshake.pcap", "quic_retry.pcap", "quic_vn.pcap", "quic_ngtcp2.pcap",
                         "quic_random.pcap"}) do
    it(name .. " reads as tshark 4.0 read it", function()
      local n, bad = compare(h.path(name), h.path(name .. ".quic.tsv"))
      assert.same({}, bad)
      assert.is_true(n > 50)
    end)
  end

  it("the random builds tshark read are what sflua builds today (seed 20251130)", function()
    local gen = dofile("tests/interop/quic_random.lua")
    local want = sf.rdpcap(h.path("quic_random.pcap"))
    local got = gen.packets(20251130, 300)
    assert.equal(#want, #got)
    for i = 1, #got do assert.equal(h.hex(want[i]:bytes()), h.hex(got[i]:bytes())) end
  end)

  it("coalesced packets are layers one after another", function()
    local p = sf.rdpcap(h.path("quic_ngtcp2.pcap"))[2]
    assert.equal("Ether IP UDP QUIC_Initial QUIC_Protected QUIC_Handshake QUIC_Protected "
      .. "QUIC_1RTT QUIC_Protected", kinds(p))
    -- the short header's connection ID: the long headers' of the datagram
    assert.equal(p[sf.QUIC_Initial].DstConnID, p[sf.QUIC_1RTT].DstConnID)
  end)

  it("a greased QUIC bit (RFC 9287) on a long header of a known version", function()
    local greased = 0
    for _, p in ipairs(sf.rdpcap(h.path("quic_ngtcp2.pcap"))) do
      for i = 1, p.layer_count do
        local v = p:layer(i)
        if v.name:match("^QUIC %- [IH0]") and v.FixedBit == 0 then greased = greased + 1 end
      end
    end
    assert.is_true(greased > 0)
  end)

  it("a connection's Initials, both sides, open with the client's first ID", function()
    local track, opened, server = sf.quic_tracker(), 0, 0
    for _, p in ipairs(sf.rdpcap(h.path("quic_retry.pcap"))) do
      local d, client = track(p)
      if d then
        opened = opened + 1
        if not client then server = server + 1 end
      end
    end
    -- the client's two first Initials (before and after the Retry), its
    -- later one, and the server's: the four tshark opens
    assert.equal(4, opened)
    assert.equal(1, server)
  end)

  it("ngtcp2's and sflua's client Initials carry their SNI", function()
    local snis = {}
    for i in sf.quic_initials(h.path("quic_ngtcp2.pcap")) do
      snis[#snis + 1] = i.tls.sni .. "/" .. i.version
      assert.equal("q", i.tls.ja4:sub(1, 1))
    end
    -- (vn.sflua.test's Initial, of version 0x1a2a3a4a, opens for nobody: tshark neither)
    assert.same({"localhost/1", "localhost/1", "lua.sflua.test/1", "lua2.sflua.test/1798521807"},
      snis)
  end)

  it("finds QUIC on any port by version, not other datagrams", function()
    local raw = h.unhex(V.v1.client_initial)
    assert.equal("Ether IP UDP QUIC_Initial QUIC_Protected", kinds(udp(raw, 40000, 8443)))
    assert.equal("Ether IP UDP Raw", kinds(udp(("\xc0"):rep(40), 40000, 8443)))
    assert.equal("Ether IP UDP Raw", kinds(udp(h.unhex("0a0b0c0d") .. ("x"):rep(40), 40000, 8443)))
    -- on 443 a short header needs its fixed bit
    assert.equal("Ether IP UDP QUIC_1RTT QUIC_Protected", kinds(udp("\x41" .. ("x"):rep(40))))
    assert.equal("Ether IP UDP Raw", kinds(udp("\x01" .. ("x"):rep(40))))
  end)
end)

describe("CRYPTO frames over several Initials", function()
  -- a ClientHello split in two CRYPTO frames, each in an Initial of its own
  local plain = sf.quic_initial{sni = "split.sflua.test", alpn = {"h3"}, plain = true,
    dcid = "12345678", scid = "abcdefgh"}
  local _, off, hl = plain:_layer_info(2)  -- QUIC_Initial QUIC_CRYPTO TLSClientHello ...
  local msg = plain:bytes():sub(off + hl + 1, off + hl + plain[sf.QUIC_CRYPTO].length)
  local function part(at, data, pn)
    local p = (sf.QUIC_Initial{DstConnID = "12345678", SrcConnID = "abcdefgh", PacketNumber = pn}
      / sf.QUIC_CRYPTO{offset = at} / sf.Raw{load = data}
      / sf.QUIC_PADDING{padding = ("\0"):rep(900)}):build()
    p[sf.QUIC_Initial]:encrypt()
    return udp(p:bytes())
  end

  it("are joined into the ClientHello, in order or not", function()
    local a, b = msg:sub(1, 100), msg:sub(101)
    for _, order in ipairs({{part(0, a, 0), part(100, b, 1)}, {part(100, b, 1), part(0, a, 0)}}) do
      local got = {}
      for i in sf.quic_initials(order) do got[#got + 1] = i end
      assert.equal(1, #got)
      assert.equal("split.sflua.test", got[1].tls.sni)
      assert.same({"h3"}, got[1].tls.alpn)
      assert.equal(2, got[1].packets)
      assert.equal("6162636465666768", got[1].scid)
      assert.equal("TLSClientHello", layers.protos[got[1].hello:_layer_info(1) + 1].name)
    end
    -- the first part alone is no whole hello: nothing, and no TLS layers
    local n = 0
    for _ in sf.quic_initials({part(0, a, 0)}) do n = n + 1 end
    assert.equal(0, n)
    assert.equal("Ether IP UDP QUIC_Initial QUIC_CRYPTO Raw QUIC_PADDING",
      kinds(sf.quic_decrypt(part(0, a, 0))))
  end)
end)

describe("building QUIC", function()
  it("quic_initial makes a padded, protected Initial that decrypts to its hello", function()
    local p = sf.quic_initial{sni = "b.sflua.test", alpn = {"h3", "hq-interop"}, dcid = "\1\2\3\4\5\6\7\8"}
    assert.equal(1200, #p:bytes())
    assert.equal("QUIC_Initial QUIC_Protected", kinds(p))
    local info = sf.tls_info(udp(p:bytes()))
    assert.equal("b.sflua.test", info.sni)
    assert.same({"h3", "hq-interop"}, info.alpn)
    assert.equal(1300, #sf.quic_initial{sni = "x", size = 1300}:bytes())
  end)

  it("short headers: RFC 9001 A.5's unprotected header", function()
    local p = sf.QUIC_1RTT{PacketNumberLen = 2, PacketNumber = 0xbff4} / sf.QUIC_PING()
    assert.equal("4200bff401", h.hex(p:bytes()))
    local q = sf.QUIC_1RTT{DstConnID = "\1\2\3\4", PacketNumber = 0x1234, SpinBit = 1} / sf.QUIC_PING()
    assert.equal("6101020304123401", h.hex(q:bytes()))
  end)

  it("headers and frames with their lengths filled in", function()
    local p = sf.QUIC_Handshake{DstConnID = "abc", SrcConnID = "defg", PacketNumber = 300}
      / sf.QUIC_ACK{largest_acknowledged = 5, first_ack_range = 2}
      / sf.QUIC_CONNECTION_CLOSE{error_code = 10, reason_phrase = "bye"}
    -- type 2 | pn length 2 bytes; Length = 2 + 5 + 7 + 16
    assert.equal("e100000001036162630464656667" .. "1e" .. "012c" .. "0205000002"
      .. "1c0a0003627965", h.hex(p:bytes()))
  end)

  it("LongPacketType follows the version (RFC 9369 swaps them)", function()
    assert.equal(1, sf.Packet(sf.QUIC_Initial{Version = 0x6b3343cf}:bytes(), {proto = "QUIC_Initial"}).LongPacketType)
    assert.equal(3, sf.Packet(sf.QUIC_Handshake{Version = 0x6b3343cf}:bytes(), {proto = "QUIC_Handshake"}).LongPacketType)
    assert.equal(0, sf.Packet(sf.QUIC_Retry{Version = 0x6b3343cf}:bytes(), {proto = "QUIC_Retry"}).LongPacketType)
  end)

  it("Version Negotiation lists versions", function()
    local p = sf.QUIC_Version{DstConnID = "ab", SrcConnID = "cd", SupportedVersions = {1, 0x6b3343cf}}
    assert.equal("8000000000026162026364000000016b3343cf", h.hex(p:bytes()))
    local q = udp(p:bytes(), 443, 5000)
    assert.same({1, 0x6b3343cf}, q.SupportedVersions)
  end)

  it("a changed captured Initial keeps its Length", function()
    local p = sf.rdpcap(h.path("quic_handshake.pcap"))[1]
    local q = p:build()
    q[sf.QUIC_Initial].DstConnID = "\0\1\2\3"
    local r = sf.Packet(q:bytes(), {linktype = p.linktype})
    assert.equal(p.Length, r.Length)
    assert.equal("00010203", h.hex(r.DstConnID))
    assert.equal(p[sf.UDP].len - 4, r[sf.UDP].len)
  end)
end)

describe("QUIC errors and damaged bytes", function()
  it("names the function and what is allowed", function()
    assert.error_matches(function() sf.quic_initial{sny = "x"} end, "quic_initial: unknown option 'sny'")
    assert.error_matches(function() sf.quic_initial{sni = 3} end, "option 'sni' expected a string, got 3")
    assert.error_matches(function() sf.quic_initial{version = -1} end, "option 'version' expected")
    assert.error_matches(function() sf.quic_decrypt("x") end, "bad argument #1 to 'quic_decrypt'")
    assert.error_matches(function() sf.quic_initials(3) end, "bad argument #1 to 'quic_initials'")
    local n, why = sf.quic_decrypt(sf.Packet((sf.Ether() / sf.IP() / sf.UDP()):bytes()))
    assert.is_nil(n)
    assert.matches("no protected QUIC Initial", why)
    local p = udp(h.unhex(V.v1.client_initial))
    assert.error_matches(function() p[sf.QUIC_Initial]:encrypt() end,
      "QUIC_Initial:encrypt%(%): not possible on this layer")
    assert.error_matches(function() p[sf.QUIC_Initial]:encrypt("x") end, "takes no argument")
    assert.error_matches(function() sf.quic_decrypt(p, {dcid = 5}) end,
      "quic_decrypt: option 'dcid' expected a string")
  end)

  it("a damaged Initial does not open, and tls_info says nil", function()
    local raw = h.unhex(V.v1.client_initial)
    local bad = raw:sub(1, 600) .. string.char(raw:byte(601) ~ 1) .. raw:sub(602)
    assert.is_nil(sf.quic_decrypt(udp(bad)))
    assert.is_nil(sf.tls_info(udp(bad)))
  end)

  it("every truncation parses, keeps what parsed and decrypts nothing", function()
    local raw = h.unhex(V.v1.client_initial) .. h.unhex(V.v1.server_initial)
    for n = 0, #raw, 7 do
      local p = udp(raw:sub(1, n))
      assert.is_true(p.layer_count >= 3)
      if n < 1200 then assert.is_nil(sf.quic_decrypt(p)) end
    end
    local whole = udp(raw)
    assert.equal("Ether IP UDP QUIC_Initial QUIC_Protected QUIC_Initial QUIC_Protected", kinds(whole))
  end)
end)
