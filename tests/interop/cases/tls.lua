-- TLS (core/proto/tls.c) against Scapy 2.5's TLS layers (scapy.layers.tls)
-- and tshark's tls dissector: records, hellos with their extensions, a
-- certificate, alerts, change-cipher-spec, application data, several
-- records in one segment.
local cert = "308201ab30820151a003020102021466ab0339abe5bcf691129e2eba928003285221d1300a06082a8648ce3d040302302b3113301106035504030c0a73666c75612e7465737431143012060355040a0c0b73666c7561207465737473301e170d3236313132393231343533315a170d3336313132363231343533315a302b3113301106035504030c0a73666c75612e7465737431143012060355040a0c0b73666c75612074657374733059301306072a8648ce3d020106082a8648ce3d03010703420004ecfc577cdd4442d88fecad7afc0e362052d86f7aef8715d669a123751e1e09e291e7a8aa19ace9c2b287014353c865067abd1d21685ada5a3c056475016d6069a3533051301d0603551d0e041604144cd25ccf27a1495eda191686255c4b766332c98d301f0603551d230418301680144cd25ccf27a1495eda191686255c4b766332c98d300f0603551d130101ff040530030101ff300a06082a8648ce3d040302034800304502206b6972e4914780c4d9c372c742c3743986d2153830e8ed0fca9575382df0fbd0022100a8b71dd24c3d1524b1e93ec38a868e263f9d2d65f4636e08f44f353e004438e7"  -- openssl req -x509 -newkey ec (CN=sflua.test)

local function lua_bytes(hex)
  return '"' .. hex:gsub("%x%x", function(x) return "\\x" .. x end) .. '"'
end

local function first(p, sf, layer, field, i)
  local v = p[sf[layer]] and p[sf[layer]][field]
  if type(v) == "table" then v = v[i or 1] end
  return v
end

-- each case its own connection (tshark takes one port pair's second
-- segment at the same sequence number for a retransmission)
local n = 0
local function head()
  n = n + 1
  return ("Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP(src='10.0.0.1', dst='10.0.0.2')/TCP(sport=%d, dport=443, flags='PA')/"):format(40000 + n)
end
local rand = "gmt_unix_time=1, random_bytes=b'\\x00'*28"
local lrand = "gmt_unix_time=1, random_bytes=('\\0'):rep(28)"

-- a Scapy expression and its Lua twin, after the same Ether/IP/TCP
local function case(py, lua)
  local h = head()
  return {h .. py, (h:gsub("(%w+)(%b())", function(name, a)
    return a == "()" and name .. "()" or name .. "{" .. a:sub(2, -2) .. "}" end)) .. lua}
end

return {
  linktype = 1,
  tshark = {
    ["tls.record.content_type"] = {"TLS", "type"},
    ["tls.record.version"] = {"TLS", "version"},
    ["tls.record.length"] = {"TLS", "len"},
    ["tls.handshake.type"] = function(p, sf)
      for i = 1, p.layer_count do
        local ok, v = pcall(function() return p:layer(i).msgtype end)
        if ok and v and p:layer(i).name ~= "TLS ChangeCipherSpec" then return v end
      end
    end,
    ["tls.handshake.version"] = function(p, sf)
      return first(p, sf, "TLSClientHello", "version") or first(p, sf, "TLSServerHello", "version")
    end,
    ["tls.handshake.extensions_server_name"] = {"TLS_Ext_ServerName", "servername"},
    ["tls.handshake.ciphersuite"] = function(p, sf)
      return first(p, sf, "TLSClientHello", "ciphers") or first(p, sf, "TLSServerHello", "cipher")
    end,
    ["tls.handshake.extensions_alpn_str"] = function(p, sf) return first(p, sf, "TLS_Ext_ALPN", "protocols") end,
    ["tls.handshake.extension.type"] = function(p, sf)
      for i = 1, p.layer_count do
        if p:layer(i).name:find("^TLS Extension") then return p:layer(i).type end
      end
    end,
    ["tls.handshake.extensions.supported_version"] = function(p, sf)
      return first(p, sf, "TLS_Ext_SupportedVersion_CH", "versions") or first(p, sf, "TLS_Ext_SupportedVersion_SH", "version")
    end,
    ["tls.handshake.extensions_supported_group"] = function(p, sf) return first(p, sf, "TLS_Ext_SupportedGroups", "groups") end,
    ["tls.handshake.sig_hash_alg"] = function(p, sf)
      return first(p, sf, "TLS_Ext_SignatureAlgorithms", "sig_algs") or first(p, sf, "TLS_Ext_SignatureAlgorithmsCert", "sig_algs")
    end,
    ["tls.handshake.extensions_key_share_group"] = function(p, sf)
      local cs = first(p, sf, "TLS_Ext_KeyShare_CH", "client_shares")
      return cs and cs[1] or first(p, sf, "TLS_Ext_KeyShare_SH", "group")
    end,
    ["tls.handshake.ja3"] = function(p) return p.ja3_hash end,
    ["tls.handshake.ja3_full"] = function(p) return p.ja3 end,
    ["tls.handshake.ja3s"] = function(p) return p.ja3s_hash end,
    ["tls.handshake.ja3s_full"] = function(p) return p.ja3s end,
    ["tls.alert_message.level"] = {"TLSAlert", "level"},
    ["tls.alert_message.desc"] = {"TLSAlert", "descr"},
    ["tls.handshake.session_ticket_lifetime_hint"] = {"TLSNewSessionTicket", "lifetime"},
    ["tls.handshake.certificates_length"] = {"TLSCertificate", "certslen"},
    ["tls.handshake.certificate_length"] = {"TLSCertificateEntry", "certlen"},
    ["tls.handshake.extensions_length"] = function(p, sf)
      return first(p, sf, "TLSClientHello", "extlen") or first(p, sf, "TLSServerHello", "extlen")
    end,
  },
  cases = {
    case("TLS(version=0x0301, msg=[TLSClientHello(" .. rand .. ", ciphers=[0x1301, 0xc02b], ext=[TLS_Ext_ServerName(servernames=[ServerName(servername=b'example.com')])])])",
         "TLS{version=0x0301}/TLSClientHello{" .. lrand .. ", ciphers={0x1301, 0xc02b}}/TLS_Ext_ServerName{servername='example.com'}"),
    case("TLS(version=0x0301, msg=[TLSClientHello(" .. rand .. ", sid=b'\\x11'*32, ciphers=[0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02f], ext=[TLS_Ext_Unknown(type=0x1a1a, val=b''), TLS_Ext_ServerName(servernames=[ServerName(servername=b'www.sflua.test')]), TLS_Ext_ExtendedMasterSecret(), TLS_Ext_RenegotiationInfo(renegotiated_connection=b''), TLS_Ext_SupportedGroups(groups=[0x2a2a, 29, 23, 24]), TLS_Ext_SupportedPointFormat(ecpl=[0]), TLS_Ext_SessionTicket(ticket=b''), TLS_Ext_ALPN(protocols=[ProtocolName(protocol=b'h2'), ProtocolName(protocol=b'http/1.1')]), TLS_Ext_SignatureAlgorithms(sig_algs=[0x0403, 0x0804, 0x0401]), TLS_Ext_KeyShare_CH(client_shares=[KeyShareEntry(group=29, key_exchange=b'\\x01'*32)]), TLS_Ext_PSKKeyExchangeModes(kxmodes=[1]), TLS_Ext_SupportedVersion_CH(versions=[0x3a3a, 0x0304, 0x0303]), TLS_Ext_Padding(padding=b'\\x00'*7)])])",
         "TLS{version=0x0301}/TLSClientHello{" .. lrand .. ", sid=('\\17'):rep(32), ciphers={0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02f}}/TLS_Ext_Unknown{type=0x1a1a}/TLS_Ext_ServerName{servername='www.sflua.test'}/TLS_Ext_ExtendedMasterSecret()/TLS_Ext_RenegotiationInfo()/TLS_Ext_SupportedGroups{groups={0x2a2a, 29, 23, 24}}/TLS_Ext_SupportedPointFormat{ecpl={0}}/TLS_Ext_SessionTicket()/TLS_Ext_ALPN{protocols={'h2', 'http/1.1'}}/TLS_Ext_SignatureAlgorithms{sig_algs={0x0403, 0x0804, 0x0401}}/TLS_Ext_KeyShare_CH{client_shares={{29, ('\\1'):rep(32)}}}/TLS_Ext_PSKKeyExchangeModes{kxmodes={1}}/TLS_Ext_SupportedVersion_CH{versions={0x3a3a, 0x0304, 0x0303}}/TLS_Ext_Padding{padding=('\\0'):rep(7)}"),
    case("TLS(msg=[TLSClientHello(" .. rand .. ", ciphers=[0x002f], comp=[1, 0], ext=[TLS_Ext_RecordSizeLimit(record_size_limit=16385), TLS_Ext_SignatureAlgorithmsCert(sig_algs=[0x0804])])])",
         "TLS()/TLSClientHello{" .. lrand .. ", ciphers={0x002f}, comp={1, 0}}/TLS_Ext_RecordSizeLimit{record_size_limit=16385}/TLS_Ext_SignatureAlgorithmsCert{sig_algs={0x0804}}"),
    case("TLS(msg=[TLSServerHello(" .. rand .. ", sid=b'\\x22'*32, cipher=0x1301, ext=[TLS_Ext_SupportedVersion_SH(version=0x0304), TLS_Ext_KeyShare_SH(server_share=KeyShareEntry(group=29, key_exchange=b'\\x02'*32))])])",
         "TLS()/TLSServerHello{" .. lrand .. ", sid=('\\34'):rep(32), cipher=0x1301}/TLS_Ext_SupportedVersion_SH{version=0x0304}/TLS_Ext_KeyShare_SH{group=29, key_exchange=('\\2'):rep(32)}"),
    case("TLS(msg=[TLSServerHello(" .. rand .. ", cipher=0xc02f, ext=[TLS_Ext_RenegotiationInfo(renegotiated_connection=b''), TLS_Ext_ALPN(protocols=[ProtocolName(protocol=b'h2')]), TLS_Ext_SupportedPointFormat(ecpl=[0, 1, 2])]), TLSCertificate(certs=[Cert(bytes.fromhex('" .. cert .. "'))]), TLSServerHelloDone()])",
         "TLS()/TLSServerHello{" .. lrand .. ", cipher=0xc02f}/TLS_Ext_RenegotiationInfo()/TLS_Ext_ALPN{protocols={'h2'}}/TLS_Ext_SupportedPointFormat{ecpl={0, 1, 2}}/TLSCertificate()/TLSCertificateEntry{cert=" .. lua_bytes(cert) .. "}/TLSServerHelloDone()"),
    case("TLS(msg=[TLSNewSessionTicket(lifetime=7200, ticket=b'ticket-bytes')])/TLS(type=22, msg=[TLSFinished(vdata=b'\\x05'*12)])",
         "TLS()/TLSNewSessionTicket{lifetime=7200, ticket='ticket-bytes'}/TLS{type=22}/TLSFinished{vdata=('\\5'):rep(12)}"),
    case("TLS(msg=[TLSAlert(level=2, descr=40)])", "TLS()/TLSAlert{level=2, descr=40}"),
    case("TLS(msg=[TLSAlert(level=1, descr=0)])/TLS(type=23, msg=[TLSApplicationData(data=b'hello')])",
         "TLS()/TLSAlert{level=1, descr=0}/TLS()/TLSApplicationData{data='hello'}"),
    case("TLS(type=23, msg=[TLSApplicationData(data=b'x'*300)])", "TLS()/TLSApplicationData{data=('x'):rep(300)}"),
    case("TLS(msg=[TLSChangeCipherSpec()])", "TLS()/TLSChangeCipherSpec()"),
  },
}
