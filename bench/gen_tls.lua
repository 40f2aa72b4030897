-- gen_tls.lua: a capture of TLS ClientHellos for the SNI benchmarks
-- (bench/tls_bench.sh): N frames Ether/IPv4/TCP(443)/TLS/ClientHello with
-- the shapes of four clients -- a browser with GREASE and 16 extensions, a
-- TLS 1.3 library, curl-like, an old TLS 1.2 client -- each with its own
-- server name, built with tls_client_hello and extension layers.
--   sflua bench/gen_tls.lua OUT.pcap [N] [SEED]
local sf = require("stackforge")
local out, n, seed = arg[1], tonumber(arg[2] or 200000), tonumber(arg[3] or 1)
math.randomseed(seed)

local function name(i)
  local tld = ({"com", "org", "net", "io", "example"})[i % 5 + 1]
  return ("host%d.service%d.%s"):format(i, i % 977, tld)
end

local function key() return ("k"):rep(32) end

local shapes = {
  function(sni)  -- a browser: GREASE first and last, many extensions
    return sf.TLS{version = 0x0301} / sf.TLSClientHello{sid = ("s"):rep(32),
        ciphers = {0x4a4a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
                   0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}}
      / sf.TLS_Ext_Unknown{type = 0x5a5a} / sf.TLS_Ext_ServerName{servername = sni}
      / sf.TLS_Ext_ExtendedMasterSecret() / sf.TLS_Ext_RenegotiationInfo()
      / sf.TLS_Ext_SupportedGroups{groups = {0x6a6a, 29, 23, 24}}
      / sf.TLS_Ext_SupportedPointFormat{ecpl = {0}} / sf.TLS_Ext_SessionTicket()
      / sf.TLS_Ext_ALPN{protocols = {"h2", "http/1.1"}} / sf.TLS_Ext_CSR{req = "\0\0\0\0"}
      / sf.TLS_Ext_SignatureAlgorithms{sig_algs = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}}
      / sf.TLS_Ext_Unknown{type = 18} / sf.TLS_Ext_KeyShare_CH{client_shares = {{0x6a6a, "\0"}, {29, key()}}}
      / sf.TLS_Ext_PSKKeyExchangeModes{kxmodes = {1}}
      / sf.TLS_Ext_SupportedVersion_CH{versions = {0x7a7a, 0x0304, 0x0303}}
      / sf.TLS_Ext_Unknown{type = 27, val = "\2\0\2"} / sf.TLS_Ext_Unknown{type = 0x8a8a, val = "\0"}
      / sf.TLS_Ext_Padding{padding = ("\0"):rep(30)}
  end,
  function(sni)
    return sf.tls_client_hello{sni = sni, alpn = {"h2"}, random = ("r"):rep(32), session_id = ""}
  end,
  function(sni)
    return sf.tls_client_hello{sni = sni, alpn = {"http/1.1"}, random = ("c"):rep(32),
      session_id = ("i"):rep(32), key_share = {{29, key()}}}
  end,
  function(sni)
    return sf.TLS{version = 0x0301} / sf.TLSClientHello{ciphers = {0xc02f, 0xc013, 0x002f, 0x0035, 0x000a}}
      / sf.TLS_Ext_ServerName{servername = sni} / sf.TLS_Ext_SupportedGroups{groups = {23, 24}}
      / sf.TLS_Ext_SupportedPointFormat{ecpl = {0}} / sf.TLS_Ext_SessionTicket()
  end,
}

local w <close> = sf.PcapWriter(out)
for i = 1, n do
  local hello = shapes[i % #shapes + 1](name(i))
  local p = sf.Ether{src = "02:00:00:00:00:01", dst = "02:00:00:00:00:02"}
    / sf.IP{src = ("10.%d.%d.%d"):format(i >> 16 & 255, i >> 8 & 255, i & 255), dst = "192.0.2.1"}
    / sf.TCP{sport = 1024 + i % 60000, dport = 443, flags = "PA", seq = i} / hello
  local pkt = p:build()
  pkt.time = 1700000000 + i / 1000
  w:write(pkt)
end
