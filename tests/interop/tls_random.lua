-- tls_random.lua: random TLS packets for the Scapy cross-check
-- (tests/interop/tls_random.sh): records with hellos carrying random
-- extensions, certificates, tickets, alerts, change-cipher-spec and
-- application data, each as a Scapy expression and its sflua twin.
--   sflua tls_random.lua gen SEED COUNT          "python<TAB>lua" lines
--   sflua tls_random.lua check CASES SCAPY_TSV   sflua against Scapy's bytes
--   sflua tls_random.lua golden OUT SEED COUNT SCAPY_TSV
-- As a module: check(cases, scapy) -> failures (the golden spec's way).
local M = {}

local R = math.random
local function pick(t) return t[R(#t)] end

-- a byte string in both languages
local function bytes(n)
  local t = {}
  for i = 1, n do t[i] = ("%02x"):format(R(0, 255)) end
  local hex = table.concat(t)
  return "bytes.fromhex('" .. hex .. "')", '"' .. hex:gsub("%x%x", "\\x%0") .. '"'
end

local function word(min, max)
  local t = {}
  for i = 1, R(min, max) do t[i] = string.char(R(97, 122)) end
  return table.concat(t)
end

local function hostname()
  local t = {}
  for i = 1, R(1, 4) do t[i] = word(1, 12) end
  return table.concat(t, ".")
end

local function ints(n, lo, hi)
  local t = {}
  for i = 1, n do t[i] = R(lo, hi) end
  return t
end

local function grease() return R(0, 15) * 0x1010 + 0x0a0a end

local function num_list(list)
  local t = {}
  for i, v in ipairs(list) do t[i] = ("0x%x"):format(v) end
  return table.concat(t, ", ")
end

local function py_list(list) return "[" .. num_list(list) .. "]" end
local function lua_list(list) return "{" .. num_list(list) .. "}" end

-- "Name(args)" and "Name{args}" from one argument text
local function both(name, pyargs, luaargs)
  return ("%s(%s)"):format(name, pyargs or ""),
    (luaargs or pyargs) and ("%s{%s}"):format(name, luaargs or pyargs) or name .. "()"
end

local function list_ext(name, field, list)
  return both(name, ("%s=%s"):format(field, py_list(list)), ("%s=%s"):format(field, lua_list(list)))
end

-- ---- extensions ----------------------------------------------------------------

local CH_EXTS = {
  function()
    local h = hostname()
    return "TLS_Ext_ServerName(servernames=[ServerName(servername=b'" .. h .. "')])",
      "TLS_Ext_ServerName{servername='" .. h .. "'}"
  end,
  function()
    local p, l = {}, {}
    for i = 1, R(1, 4) do
      local w = word(1, 10)
      p[i] = "ProtocolName(protocol=b'" .. w .. "')"
      l[i] = "'" .. w .. "'"
    end
    return "TLS_Ext_ALPN(protocols=[" .. table.concat(p, ", ") .. "])",
      "TLS_Ext_ALPN{protocols={" .. table.concat(l, ", ") .. "}}"
  end,
  function() return list_ext("TLS_Ext_SupportedGroups", "groups", {grease(), 29, 23, R(0, 0xffff)}) end,
  function() return list_ext("TLS_Ext_SignatureAlgorithms", "sig_algs", ints(R(1, 12), 0, 0xffff)) end,
  function() return list_ext("TLS_Ext_SignatureAlgorithmsCert", "sig_algs", ints(R(1, 4), 0, 0xffff)) end,
  function() return list_ext("TLS_Ext_SupportedPointFormat", "ecpl", ints(R(1, 3), 0, 2)) end,
  function() return list_ext("TLS_Ext_PSKKeyExchangeModes", "kxmodes", ints(R(1, 2), 0, 1)) end,
  function() return list_ext("TLS_Ext_SupportedVersion_CH", "versions", {grease(), 0x0304, 0x0303}) end,
  function()
    local p, l = {}, {}
    for i = 1, R(1, 2) do
      local g = pick({29, 23, 0x11ec, grease()})
      local pb, lb = bytes(R(1, 64))
      p[i] = ("KeyShareEntry(group=0x%x, key_exchange=%s)"):format(g, pb)
      l[i] = ("{0x%x, %s}"):format(g, lb)
    end
    return "TLS_Ext_KeyShare_CH(client_shares=[" .. table.concat(p, ", ") .. "])",
      "TLS_Ext_KeyShare_CH{client_shares={" .. table.concat(l, ", ") .. "}}"
  end,
  function()
    local pb, lb = bytes(R(0, 40))
    return both("TLS_Ext_Padding", "padding=" .. pb, "padding=" .. lb)
  end,
  function()
    local pb, lb = bytes(R(0, 8))
    local t = pick({grease(), R(60, 0xfe00)})
    return both("TLS_Ext_Unknown", ("type=0x%x, val=%s"):format(t, pb), ("type=0x%x, val=%s"):format(t, lb))
  end,
  function()
    local pb, lb = bytes(R(0, 12))
    return both("TLS_Ext_RenegotiationInfo", "renegotiated_connection=" .. pb,
      "renegotiated_connection=" .. lb)
  end,
  function()
    local pb, lb = bytes(R(0, 30))
    return both("TLS_Ext_SessionTicket", "ticket=" .. pb, "ticket=" .. lb)
  end,
  function() return both("TLS_Ext_ExtendedMasterSecret") end,
  function() return both("TLS_Ext_EncryptThenMAC") end,
  function() return both("TLS_Ext_EarlyDataIndication") end,
  function() return both("TLS_Ext_RecordSizeLimit", "record_size_limit=" .. R(64, 16385)) end,
  function()
    local pb, lb = bytes(R(1, 20))
    return both("TLS_Ext_Cookie", "cookie=" .. pb, "cookie=" .. lb)
  end,
}

local SH_EXTS = {
  function() return both("TLS_Ext_SupportedVersion_SH", "version=0x0304") end,
  function()
    local pb, lb = bytes(32)
    return "TLS_Ext_KeyShare_SH(server_share=KeyShareEntry(group=29, key_exchange=" .. pb .. "))",
      "TLS_Ext_KeyShare_SH{group=29, key_exchange=" .. lb .. "}"
  end,
  function()
    local w = word(1, 8)
    return "TLS_Ext_ALPN(protocols=[ProtocolName(protocol=b'" .. w .. "')])",
      "TLS_Ext_ALPN{protocols={'" .. w .. "'}}"
  end,
  CH_EXTS[6], CH_EXTS[12], CH_EXTS[13], CH_EXTS[14], CH_EXTS[15], CH_EXTS[17],
}

local function extensions(pool)
  local py, lua = {}, {}
  for i = 1, R(0, 8) do py[i], lua[i] = pick(pool)() end
  return py, lua
end

-- ---- messages ----------------------------------------------------------------------

local cert_hex = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".")
  .. "/cases/tls.lua").cases[5][1]:match("fromhex%('(%x+)'%)")

local function hello(client)
  local gmt, pr, lr = R(0, 0x7fffffff), bytes(28)
  local spy, slua = bytes(pick({0, 0, 32, R(1, 32)}))
  -- the version given: Scapy's default follows the session (a record's)
  local v = 0x0303  -- (1.0 and 1.1 make Scapy derive keys for the suite)
  local common = ("version=0x%x, gmt_unix_time=%d, random_bytes=%s, sid=%s"):format(v, gmt, pr, spy)
  local lcommon = ("version=0x%x, gmt_unix_time=%d, random_bytes=%s, sid=%s"):format(v, gmt, lr, slua)
  local epy, elua = extensions(client and CH_EXTS or SH_EXTS)
  if client then
    local ciphers = {grease()}
    for i = 1, R(1, 20) do ciphers[#ciphers + 1] = R(0, 0xffff) end
    local comp = R(1, 3) == 1 and {1, 0} or {0}
    return ("TLSClientHello(%s, ciphers=%s, comp=%s, ext=[%s])"):format(common, py_list(ciphers),
        py_list(comp), table.concat(epy, ", ")),
      ("TLSClientHello{%s, ciphers=%s, comp=%s}"):format(lcommon, lua_list(ciphers), lua_list(comp))
        .. (#elua > 0 and "/" .. table.concat(elua, "/") or "")
  end
  local cipher = R(0, 0xffff)
  return ("TLSServerHello(%s, cipher=0x%x, ext=[%s])"):format(common, cipher, table.concat(epy, ", ")),
    ("TLSServerHello{%s, cipher=0x%x}"):format(lcommon, cipher)
      .. (#elua > 0 and "/" .. table.concat(elua, "/") or "")
end

-- (no TLSFinished: Scapy computes session keys building one after a
-- hello that offers TLS 1.3, and fails without them; cases/tls.lua has one)
local MESSAGES = {
  function() return hello(true) end,
  function() return hello(false) end,
  function()
    local pb, lb = bytes(R(0, 60))
    local life = R(0, 0xffffffff)
    return ("TLSNewSessionTicket(lifetime=%d, ticket=%s)"):format(life, pb),
      ("TLSNewSessionTicket{lifetime=%d, ticket=%s}"):format(life, lb)
  end,
  function() return "TLSServerHelloDone()", "TLSServerHelloDone()" end,
  function()
    return "TLSCertificate(certs=[Cert(bytes.fromhex('" .. cert_hex .. "'))])",
      "TLSCertificate()/TLSCertificateEntry{cert=\"" .. cert_hex:gsub("%x%x", "\\x%0") .. "\"}"
  end,
}

-- a record: its content type's messages (1 to 3 handshake messages); none
-- after a ChangeCipherSpec, where a handshake record is encrypted
local function record(last_was_ccs)
  local version = pick({0x0301, 0x0303, 0x0303})
  local kind = R(1, 10)
  if kind <= 6 and not last_was_ccs then
    local py, lua = {}, {}
    for i = 1, R(1, 3) do py[i], lua[i] = pick(MESSAGES)() end
    return ("TLS(version=0x%x, msg=[%s])"):format(version, table.concat(py, ", ")),
      ("TLS{version=0x%x}/%s"):format(version, table.concat(lua, "/")), false
  elseif kind == 7 then
    local level, descr = R(1, 2), pick({0, 10, 20, 40, 42, 48, 70, 80, 90, 112, 120})
    return ("TLS(version=0x%x, msg=[TLSAlert(level=%d, descr=%d)])"):format(version, level, descr),
      ("TLS{version=0x%x}/TLSAlert{level=%d, descr=%d}"):format(version, level, descr), last_was_ccs
  elseif kind == 8 then
    return ("TLS(version=0x%x, msg=[TLSChangeCipherSpec()])"):format(version),
      ("TLS{version=0x%x}/TLSChangeCipherSpec()"):format(version), true
  end
  local pb, lb = bytes(R(1, 200))
  return ("TLS(version=0x%x, type=23, msg=[TLSApplicationData(data=%s)])"):format(version, pb),
    ("TLS{version=0x%x}/TLSApplicationData{data=%s}"):format(version, lb), last_was_ccs
end

function M.case(i)
  local sport = 1024 + i % 60000
  local py = {("Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP(src='10.0.0.1', "
    .. "dst='10.0.0.2')/TCP(sport=%d, dport=443, flags='PA')"):format(sport)}
  local lua = {("Ether{src='02:00:00:00:00:01', dst='02:00:00:00:00:02'}/IP{src='10.0.0.1', "
    .. "dst='10.0.0.2'}/TCP{sport=%d, dport=443, flags='PA'}"):format(sport)}
  local ccs = false
  for _ = 1, R(1, 3) do
    local p, l
    p, l, ccs = record(ccs)
    py[#py + 1], lua[#lua + 1] = p, l
  end
  return table.concat(py, "/"), table.concat(lua, "/")
end

-- ---- checking, files, the command line: scapy_random.lua ---------------------------

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
return dofile(dir .. "scapy_random.lua").family(M, "tls_random")
