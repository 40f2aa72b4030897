-- tls.lua: the Lua half of TLS (the engine parses and builds the
-- layers, and computes the fingerprints): the fingerprints as functions of
-- a packet, tls_info, a ClientHello builder, and records and handshake
-- messages read from reassembled streams.  docs/tls.md says how to use them.
local core = require("stackforge.core")
local layers = require("stackforge.layers")
local options = require("stackforge.options")

local M = {}

local sunpack = string.unpack

local argerror, is_packet = options.argerror, options.is_packet

-- ---- fingerprints -------------------------------------------------------------------------

-- ja3(pkt) -> MD5 hex, JA3 string (nil: no ClientHello in pkt)
M.ja3 = options.fingerprint("ja3", "ja3_hash", "ja3")
-- ja3s(pkt) -> MD5 hex, JA3S string (nil: no ServerHello)
M.ja3s = options.fingerprint("ja3s", "ja3s_hash", "ja3s")
-- ja4(pkt) -> JA4, JA4_r (nil: no ClientHello)
M.ja4 = options.fingerprint("ja4", "ja4", "ja4_r")

-- ---- tls_info ------------------------------------------------------------------------------

local CH = layers.TLSClientHello.kind

-- The ClientHello's layer index (1-based) in p, or nil.
local function hello_index(p)
  for i = 1, p.layer_count do
    if p:_layer_info(i) == CH then return i end
  end
end

-- The extension layers that follow layer i, by constructor name.
local function extensions_after(p, i)
  local exts = {}
  for j = i + 1, p.layer_count do
    local id = p:_layer_info(j)
    local name = layers.protos[id + 1].name
    if not name:find("^TLS_Ext_") then break end
    exts[name] = exts[name] or p:layer(j)
  end
  return exts
end

local function copy(list)
  local r = {}
  for i, v in ipairs(type(list) == "table" and list or {}) do r[i] = v end
  return r
end

-- tls_info(pkt) or tls_info(handshake_bytes [, {quic=true}]):
-- {sni=, alpn={...}, versions={...}, ciphers={...}, ja3=, ja3_hash=, ja4=}
-- for the first ClientHello, nil when there is none.  Handshake bytes
-- (no record header: the CRYPTO data of a decrypted QUIC Initial) start
-- with the ClientHello; quic=true makes JA4's first letter "q".  A
-- packet carrying a client's QUIC Initial is decrypted first (quic_decrypt).
function M.tls_info(x, opts)
  local quic = false
  if opts ~= nil then
    if type(opts) ~= "table" then argerror("tls_info", 2, "table", opts) end
    for k in pairs(opts) do
      if k ~= "quic" then
        error(("tls_info: unknown option '%s' (allowed: quic)"):format(tostring(k)), 2)
      end
    end
    quic = opts.quic and true or false
  end
  local p = x
  if type(x) == "string" then
    if x:byte(1) ~= 1 then return nil end
    p = core.packet(x, {proto = "TLSClientHello"})
  elseif not is_packet(x) then
    argerror("tls_info", 1, "packet or string", x)
  end
  local i = hello_index(p)
  if not i and p:has_layer("QUIC_Initial") then  -- a client's Initial, decrypted
    local d = require("stackforge.quic").quic_decrypt(p)
    if d then
      p, quic = d, true
      i = hello_index(p)
    end
  end
  if not i then return nil end
  local ch = p:layer(i)
  if ch.ja3 == nil then return nil end  -- a ClientHello cut short
  local exts = extensions_after(p, i)
  local sni = exts.TLS_Ext_ServerName and exts.TLS_Ext_ServerName.servername
  local alpn = exts.TLS_Ext_ALPN and exts.TLS_Ext_ALPN.protocols
  local sv = exts.TLS_Ext_SupportedVersion_CH and exts.TLS_Ext_SupportedVersion_CH.versions
  local ja4 = ch.ja4
  if quic then ja4 = "q" .. ja4:sub(2) end
  return {
    sni = sni,
    alpn = copy(alpn),
    versions = type(sv) == "table" and copy(sv) or {ch.version},
    ciphers = copy(ch.ciphers),
    ja3 = ch.ja3,
    ja3_hash = ch.ja3_hash,
    ja4 = ja4,
  }
end

-- ---- a ClientHello builder ------------------------------------------------------------------

-- n bytes from the volatile values' generator (seeded from the system's
-- entropy; random_seed(n) makes a run reproducible): a hello's random,
-- connection ids and a key share a server answers, not keys to keep
-- secrets with
local random_bytes = core.random_bytes

local DEFAULTS = {
  ciphers = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
             0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
  groups = {29, 23, 24},
  sig_algs = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601},
  versions = {0x0304, 0x0303},
}

local BUILD_OPTIONS = {sni = "string", alpn = "table", ciphers = "table",
  versions = "table", groups = "table", sig_algs = "table", key_share = "table",
  random = "string", session_id = "string", record_version = "number"}

-- tls_client_hello{sni=, alpn={...}, ciphers=, versions=, groups=, sig_algs=,
-- key_share={{group, key}, ...}, random=32 bytes, session_id=} -> the
-- layers TLS / TLSClientHello / extensions, ready to go after TCP; a
-- TLS 1.3 and 1.2 hello a server accepts, with an X25519 key share
-- (random bytes: enough for a ServerHello) unless key_share is given.
function M.tls_client_hello(o)
  o = o or {}
  if type(o) ~= "table" then argerror("tls_client_hello", 1, "table", o) end
  for k, v in pairs(o) do
    local want = BUILD_OPTIONS[k]
    if not want then
      local names = {}
      for n in pairs(BUILD_OPTIONS) do names[#names + 1] = n end
      table.sort(names)
      error(("tls_client_hello: unknown option '%s' (allowed: %s)"):format(tostring(k),
        table.concat(names, ", ")), 2)
    end
    if type(v) ~= want then
      error(("tls_client_hello: option '%s' is a %s, expected a %s"):format(k, type(v), want), 2)
    end
  end
  local random = o.random or random_bytes(32)
  if #random ~= 32 then error("tls_client_hello: random must be 32 bytes", 2) end
  local versions = o.versions or DEFAULTS.versions
  local s = layers.TLS{version = o.record_version or 0x0301}
    / layers.TLSClientHello{version = 0x0303, gmt_unix_time = (sunpack(">I4", random)),
        random_bytes = random:sub(5), sid = o.session_id or random_bytes(32),
        ciphers = o.ciphers or DEFAULTS.ciphers, comp = {0}}
  if o.sni then s = s / layers.TLS_Ext_ServerName{servername = o.sni} end
  s = s / layers.TLS_Ext_SupportedPointFormat{ecpl = {0}}
    / layers.TLS_Ext_SupportedGroups{groups = o.groups or DEFAULTS.groups}
    / layers.TLS_Ext_SessionTicket()
  if o.alpn then s = s / layers.TLS_Ext_ALPN{protocols = o.alpn} end
  s = s / layers.TLS_Ext_ExtendedMasterSecret()
    / layers.TLS_Ext_SignatureAlgorithms{sig_algs = o.sig_algs or DEFAULTS.sig_algs}
  local tls13 = false
  for _, v in ipairs(versions) do tls13 = tls13 or v == 0x0304 end
  s = s / layers.TLS_Ext_SupportedVersion_CH{versions = versions}
  if tls13 then
    s = s / layers.TLS_Ext_PSKKeyExchangeModes{kxmodes = {1}}
      / layers.TLS_Ext_KeyShare_CH{client_shares = o.key_share or {{29, random_bytes(32)}}}
  end
  return s
end

-- ---- streams --------------------------------------------------------------------------------

-- Does s hold a record header at i?
local function record_at(s, i)
  local t, major, minor = s:byte(i, i + 2)
  return t and t >= 20 and t <= 24 and major == 3 and minor and minor <= 4
end

-- The records of a reassembled stream (a string, or a function returning
-- chunks until nil: conv:chunks("forward")), one Packet each (parsed from the
-- TLS record on: TLS / TLSClientHello / ...), with its offset in the
-- stream; a record cut by the stream's end comes last, truncated.  Stops
-- at bytes that are no record (a stream joined mid-record).
--   for rec, off in tls_records(conv.reassembled_forward) do ... end
--   for rec in tls_records(conv:chunks("forward")) do ... end
local function records(fname, src)
  local next_chunk = options.chunks_of(fname, src, 1)
  local buf, pos, base, eof = "", 1, 0, false
  return function()
    while true do
      if #buf - pos + 1 >= 5 and not record_at(buf, pos) then return nil end
      if #buf - pos + 1 >= 5 then
        local len = sunpack(">I2", buf, pos + 3)
        if #buf - pos + 1 >= 5 + len then
          local rec, off = buf:sub(pos, pos + 4 + len), base + pos - 1
          pos = pos + 5 + len
          return core.packet(rec, {proto = "TLS"}), off
        end
      end
      if eof then
        if pos > #buf then return nil end
        local rest, off = buf:sub(pos), base + pos - 1
        pos = #buf + 1
        return core.packet(rest, {proto = "TLS"}), off
      end
      local c = next_chunk()
      if c == nil then
        eof = true
      else
        base = base + pos - 1
        buf = buf:sub(pos) .. c
        pos = 1
      end
    end
  end
end

function M.tls_records(src)
  local it = records("tls_records", src)
  return it  -- not a tail call: a bad src is the caller's line
end

-- The constructor a bare handshake message parses from.
local MESSAGES = {[1] = "TLSClientHello", [2] = "TLSServerHello", [4] = "TLSNewSessionTicket",
  [8] = "TLSEncryptedExtensions", [11] = "TLSCertificate", [12] = "TLSServerKeyExchange",
  [14] = "TLSServerHelloDone", [15] = "TLSCertificateVerify", [16] = "TLSClientKeyExchange",
  [20] = "TLSFinished"}

local function message_packet(m)
  local t = m:byte(1)
  local name = MESSAGES[t] or "TLSHandshake"
  if t == 11 and (#m < 7 or sunpack(">I3", m, 5) + 3 ~= sunpack(">I3", m, 2)) then
    name = "TLSHandshake"  -- TLS 1.3's Certificate
  end
  return core.packet(m, {proto = name})
end

-- The handshake messages of a stream, each a Packet (TLSClientHello /
-- extensions, TLSCertificate / TLSCertificateEntry ...), joined across
-- the records they are split over, up to the ChangeCipherSpec after
-- which they are encrypted.
function M.tls_handshakes(src)
  local next_record = records("tls_handshakes", src)
  local buf, done = "", false
  return function()
    while true do
      if #buf >= 4 then
        local len = sunpack(">I3", buf, 2)
        if #buf >= 4 + len then
          local m = buf:sub(1, 4 + len)
          buf = buf:sub(5 + len)
          return message_packet(m)
        end
      end
      if done then return nil end
      local rec = next_record()
      if rec == nil then
        done = true
      else
        local raw = rec:bytes()
        local t = raw:byte(1)
        if t == 20 then done = true  -- what follows is encrypted
        elseif t == 22 then buf = buf .. raw:sub(6) end
      end
    end
  end
end

return M
