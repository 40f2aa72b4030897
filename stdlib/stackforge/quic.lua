-- quic.lua: the Lua half of QUIC (the engine parses, builds, decrypts and
-- encrypts the packets): quic_decrypt, an Initial builder a server
-- answers, and the ClientHellos of a capture's Initials, their CRYPTO
-- frames joined across packets.  docs/quic.md says how to use them.
local core = require("stackforge.core")
local layers = require("stackforge.layers")
local options = require("stackforge.options")

local M = {}

local spack = string.pack

local argerror, is_packet = options.argerror, options.is_packet

local INITIAL = layers.QUIC_Initial.kind
local PROTECTED = layers.QUIC_Protected.kind
local CRYPTO = layers.QUIC_CRYPTO.kind

-- The 1-based indices of the protected Initials of p.
local function protected_initials(p)
  local r = {}
  for i = 1, p.layer_count - 1 do
    if p:_layer_info(i) == INITIAL and p:_layer_info(i + 1) == PROTECTED then r[#r + 1] = i end
  end
  return r
end

-- quic_decrypt(pkt [, {dcid=}]) -> a copy with its Initials decrypted
-- (header protection removed, the payload replaced by its frames), or nil
-- and why.  Keys come from each Initial's Destination Connection ID: a
-- client's first Initials open; a server's Initials, and a client's later
-- ones, open with dcid, the client's first Destination Connection ID
-- (quic_initials follows connections to find it).
function M.quic_decrypt(p, opts)
  if not is_packet(p) then argerror("quic_decrypt", 1, "packet", p) end
  options.check("quic_decrypt", opts, {dcid = "string"}, 2)
  local dcid = opts and opts.dcid
  local q = p:build()
  local found, opened = #protected_initials(q), 0
  if found == 0 then return nil, "quic_decrypt: no protected QUIC Initial in the packet" end
  for _ = 1, found do  -- each decryption changes the layers after it
    local done = false
    for _, i in ipairs(protected_initials(q)) do
      if pcall(function() q:layer(i):decrypt(dcid) end) then
        opened, done = opened + 1, true
        break
      end
    end
    if not done then break end
  end
  if opened == 0 then
    return nil, "quic_decrypt: no Initial opens with the keys of "
      .. (dcid and "that Destination Connection ID" or "its Destination Connection ID")
  end
  return q
end

-- ---- an Initial a server answers -------------------------------------------------------------

local function varint(v)
  if v < 0x40 then return spack(">I1", v) end
  if v < 0x4000 then return spack(">I2", v | 0x4000) end
  if v < 0x40000000 then return spack(">I4", v | 0x80000000) end
  return spack(">I8", v | 0xc000000000000000)
end

-- n bytes from the volatile values' generator (seeded from the system's
-- entropy; random_seed(n) makes a run reproducible): a hello's random,
-- connection ids and a key share a server answers, not keys to keep
-- secrets with
local random_bytes = core.random_bytes

-- RFC 9000 18.2 transport parameters a client sends: its source
-- connection ID and modest flow-control limits.
local function transport_params(scid)
  local params = {
    {0x0f, scid}, {0x01, varint(30000)}, {0x04, varint(1048576)},
    {0x05, varint(262144)}, {0x06, varint(262144)}, {0x07, varint(262144)},
    {0x08, varint(100)}, {0x09, varint(100)},
  }
  local out = {}
  for i, kv in ipairs(params) do out[i] = varint(kv[1]) .. varint(#kv[2]) .. kv[2] end
  return table.concat(out)
end

local INITIAL_OPTIONS = {dcid = "string", scid = "string", sni = "string", alpn = "table",
  version = "count", pn = "count", token = "string", size = "count", plain = "boolean",
  key_share = "string", random = "string"}

local function client_hello(o, scid)
  local random = o.random or random_bytes(32)
  if #random ~= 32 then error("quic_initial: random must be 32 bytes", 3) end
  local s = layers.TLSClientHello{version = 0x0303, gmt_unix_time = (string.unpack(">I4", random)),
    random_bytes = random:sub(5), sid = "", ciphers = {0x1301, 0x1302, 0x1303}, comp = {0}}
  if o.sni then s = s / layers.TLS_Ext_ServerName{servername = o.sni} end
  s = s / layers.TLS_Ext_SupportedGroups{groups = {29, 23, 24}}
  if o.alpn then s = s / layers.TLS_Ext_ALPN{protocols = o.alpn} end
  return s / layers.TLS_Ext_SignatureAlgorithms{sig_algs = {0x0403, 0x0804, 0x0401, 0x0503,
      0x0805, 0x0501, 0x0806, 0x0601}}
    / layers.TLS_Ext_SupportedVersion_CH{versions = {0x0304}}
    / layers.TLS_Ext_PSKKeyExchangeModes{kxmodes = {1}}
    / layers.TLS_Ext_KeyShare_CH{client_shares = {{29, o.key_share or random_bytes(32)}}}
    / layers.TLS_Ext_Unknown{type = 0x39, val = transport_params(scid)}
end

-- quic_initial{sni=, alpn={...}, dcid=, scid=, version=1, pn=0, token=,
-- size=1200, plain=false} -> a client's first Initial as a Packet
-- (QUIC_Initial / QUIC_Protected: encrypted, header protection applied),
-- its ClientHello (TLS 1.3, X25519 with random bytes, the transport
-- parameters) in a CRYPTO frame, padded to size bytes; plain=true keeps it
-- unprotected (QUIC_Initial / QUIC_CRYPTO / TLSClientHello / ... / QUIC_PADDING).
function M.quic_initial(o)
  options.check("quic_initial", o, INITIAL_OPTIONS, 2)
  o = o or {}
  local dcid, scid = o.dcid or random_bytes(8), o.scid or random_bytes(8)
  if #dcid > 20 or #scid > 20 then error("quic_initial: connection IDs are 20 bytes at most", 2) end
  local size = o.size or 1200
  local head = layers.QUIC_Initial{Version = o.version or 1, DstConnID = dcid,
    SrcConnID = scid, Token = o.token or "", PacketNumber = o.pn or 0}
  local s = head / layers.QUIC_CRYPTO{offset = 0} / client_hello(o, scid)
  local short = size - (#s:bytes() + 16)
  if short > 0 then
    local pad = s / layers.QUIC_PADDING{padding = ("\0"):rep(short - 1)}
    local over = #pad:bytes() + 16 - size  -- Length may have grown a byte
    s = over > 0 and short - over >= 1
      and s / layers.QUIC_PADDING{padding = ("\0"):rep(short - 1 - over)} or pad
  end
  local p = s:build()
  if not o.plain then p[layers.QUIC_Initial]:encrypt() end
  return p
end

-- ---- ClientHellos from a capture's Initials ---------------------------------------------------

local function hexs(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end

-- The CRYPTO frames of decrypted packet d: {offset, data} each, by the
-- Initial (its header layer index) they are in.
local function crypto_frames(d, raw)
  local r = {}
  for i = 1, d.layer_count do
    local id, off, hl = d:_layer_info(i)
    if id == CRYPTO then
      local v = d:layer(i)
      local o, n = v.offset, v.length
      if o and n then r[#r + 1] = {o, raw:sub(off + hl + 1, off + hl + n)} end
    end
  end
  return r
end

-- The contiguous stream from offset 0 of chunks {[offset] = data}.
local function joined(chunks)
  local out, at = {}, 0
  while true do
    local best
    for o, d in pairs(chunks) do
      if o <= at and o + #d > at and (not best or o + #d > best[1] + #best[2]) then best = {o, d} end
    end
    if not best then break end
    out[#out + 1] = best[2]:sub(at - best[1] + 1)
    at = best[1] + #best[2]
  end
  return table.concat(out)
end

-- src as an iterator of packets; nil if it is none
local function packets_of(src)
  if type(src) == "table" then
    local i = 0
    return function()
      i = i + 1
      return src[i]
    end
  end
  if type(src) == "string" then src = require("stackforge").PcapReader(src) end
  if type(src) == "function" then return src end
  if type(src) == "userdata" then return function() return src() end end  -- a PcapReader
end

-- The first Initial of p: its connection IDs.
local function first_initial(p)
  for i = 1, p.layer_count do
    if p:_layer_info(i) == INITIAL then
      local h = p:layer(i)
      return h.DstConnID or "", h.SrcConnID or "", h.Version
    end
  end
end

-- A tracker of QUIC connections by the client's Source Connection ID: the
-- Destination Connection ID of its first Initial (after a Retry, of the
-- Initial that answers it), whose keys open both sides' Initials.
-- track(p) -> the decrypted copy of p or nil, and whether the client sent it.
function M.quic_tracker()
  local odcid = {}  -- client SCID -> first DCID
  return function(p)
    local dcid, scid, version = first_initial(p)
    if not dcid then return nil end
    local d = M.quic_decrypt(p)
    if d then  -- a client's first Initial
      odcid[scid .. "/" .. tostring(version)] = dcid
      return d, true
    end
    local from_client = odcid[scid .. "/" .. tostring(version)]
    local to_client = odcid[dcid .. "/" .. tostring(version)]
    local key = from_client or to_client
    if not key then return nil end
    return M.quic_decrypt(p, {dcid = key}), from_client ~= nil
  end
end

-- quic_initials(packets) -> iterator over the client hellos of the QUIC
-- connections in packets (a list, an iterator such as a PcapReader, or a
-- capture's path): each {scid=, dcid= (hex: the client's first
-- Destination Connection ID), version=, hello= (a Packet from
-- TLSClientHello), tls= (tls_info of it), packets= (how many of the
-- client's Initials carried it)}, once its CRYPTO frames, over one or
-- several Initials, hold the whole ClientHello.  A client's later
-- Initials and the server's open with the keys of the first ID.
function M.quic_initials(src)
  local next_packet = packets_of(src)
  if not next_packet then argerror("quic_initials", 1, "list of packets, iterator or capture path", src) end
  local track, conns, done = M.quic_tracker(), {}, {}
  local tls = require("stackforge.tls")
  return function()
    while true do
      local p = next_packet()
      if p == nil then return nil end
      local d, client = nil, false
      if #protected_initials(p) > 0 then d, client = track(p) end
      if d and client then
        local raw = d:bytes()
        local _, scid, version = first_initial(d)
        local key = hexs(scid) .. "/" .. tostring(version)
        local c = conns[key]
        if not c then
          c = {scid = hexs(scid), dcid = hexs((first_initial(d))), version = version,
               chunks = {}, packets = 0}
          conns[key] = c
        end
        c.packets = c.packets + 1
        for _, f in ipairs(crypto_frames(d, raw)) do c.chunks[f[1]] = f[2] end
        local s = joined(c.chunks)
        if not done[key] and #s >= 4 and s:byte(1) == 1 and #s >= 4 + string.unpack(">I3", s, 2) then
          done[key] = true
          local msg = s:sub(1, 4 + string.unpack(">I3", s, 2))
          return {scid = c.scid, dcid = c.dcid, version = c.version, packets = c.packets,
                  hello = core.packet(msg, {proto = "TLSClientHello"}),
                  tls = tls.tls_info(msg, {quic = true})}
        end
      end
    end
  end
end

return M
