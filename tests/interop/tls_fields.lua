-- tls_fields.lua: sflua's reading of TLS captures in tshark's -T fields
-- form (every occurrence, joined by ","), so the two can be compared
-- field by field.
--   sflua tests/interop/tls_fields.lua PCAP      a TSV like tls_tshark.sh's
--   sflua tests/interop/tls_fields.lua --fields  the fields, one a line
-- As a module: M.fields (the tshark fields compared), M.rows(path): one
-- {field = text} per frame, and a frame whose last record goes on in the
-- next segment as false (tshark, reassembly off, shows no part of it).
local sf = require("stackforge")
local layers = require("stackforge.layers")

local M = {}

local function hex4(v) return ("0x%04x"):format(v) end
local function hex2(v) return ("0x%02x"):format(v) end
local function dec(v) return tostring(v) end

local function list(f, l) local r = {} for i, v in ipairs(l or {}) do r[i] = f(v) end return r end

-- per layer constructor: tshark field -> function(view) returning the
-- values that layer gives it, in tshark's spelling
local HELLO = {
  ["tls.handshake.type"] = function(v) return {dec(v.msgtype)} end,
  ["tls.handshake.length"] = function(v) return {dec(v.msglen)} end,
  ["tls.handshake.version"] = function(v) return {hex4(v.version)} end,
  ["tls.handshake.session_id_length"] = function(v) return {dec(v.sidlen)} end,
  ["tls.handshake.extensions_length"] = function(v) return {v.extlen and dec(v.extlen)} end,
}

local function msg() return {
  ["tls.handshake.type"] = function(v) return {dec(v.msgtype)} end,
  ["tls.handshake.length"] = function(v) return {dec(v.msglen)} end,
} end

local EXT = {
  ["tls.handshake.extension.type"] = function(v) return {dec(v.type)} end,
  ["tls.handshake.extension.len"] = function(v) return {dec(v.len)} end,
}

local BY = {
  TLS = {
    ["tls.record.content_type"] = function(v) return {dec(v.type)} end,
    ["tls.record.version"] = function(v) return {hex4(v.version)} end,
    ["tls.record.length"] = function(v) return {dec(v.len)} end,
  },
  TLSClientHello = {
    ["tls.handshake.cipher_suites_length"] = function(v) return {dec(v.cipherslen)} end,
    ["tls.handshake.ciphersuite"] = function(v) return list(hex4, v.ciphers) end,
    ["tls.handshake.comp_method"] = function(v) return list(dec, v.comp) end,
    ["tls.handshake.ja3"] = function(v) return {v.ja3_hash} end,
    ["tls.handshake.ja3_full"] = function(v) return {v.ja3} end,
  },
  TLSServerHello = {
    ["tls.handshake.ciphersuite"] = function(v) return {hex4(v.cipher)} end,
    ["tls.handshake.comp_method"] = function(v) return {dec(v.comp)} end,
    ["tls.handshake.ja3s"] = function(v) return {v.ja3s_hash} end,
    ["tls.handshake.ja3s_full"] = function(v) return {v.ja3s} end,
  },
  TLSCertificate = {["tls.handshake.certificates_length"] = function(v) return {dec(v.certslen)} end},
  TLSCertificateEntry = {["tls.handshake.certificate_length"] = function(v) return {dec(v.certlen)} end},
  TLSNewSessionTicket = {
    ["tls.handshake.session_ticket_lifetime_hint"] = function(v) return {dec(v.lifetime)} end,
    ["tls.handshake.session_ticket_length"] = function(v) return {dec(v.ticketlen)} end,
  },
  TLSEncryptedExtensions = {["tls.handshake.extensions_length"] = function(v) return {dec(v.extlen)} end},
  TLSAlert = {
    ["tls.alert_message.level"] = function(v) return {dec(v.level)} end,
    ["tls.alert_message.desc"] = function(v) return {dec(v.descr)} end,
  },
  TLS_Ext_ServerName = {
    ["tls.handshake.extensions_server_name"] = function(v) return {v.servername} end,
  },
  TLS_Ext_ALPN = {["tls.handshake.extensions_alpn_str"] = function(v) return v.protocols end},
  TLS_Ext_SupportedVersion_CH = {
    ["tls.handshake.extensions.supported_version"] = function(v) return list(hex4, v.versions) end,
  },
  TLS_Ext_SupportedVersion_SH = {
    ["tls.handshake.extensions.supported_version"] = function(v) return {hex4(v.version)} end,
  },
  TLS_Ext_SupportedGroups = {
    ["tls.handshake.extensions_supported_group"] = function(v) return list(hex4, v.groups) end,
  },
  TLS_Ext_SupportedPointFormat = {
    ["tls.handshake.extensions_ec_point_format"] = function(v) return list(dec, v.ecpl) end,
  },
  TLS_Ext_KeyShare_CH = {
    ["tls.handshake.extensions_key_share_group"] = function(v)
      return list(function(e) return dec(e[1]) end, v.client_shares)
    end,
  },
  TLS_Ext_KeyShare_SH = {["tls.handshake.extensions_key_share_group"] = function(v) return {dec(v.group)} end},
  TLS_Ext_PSKKeyExchangeModes = {["tls.extension.psk_ke_mode"] = function(v) return list(dec, v.kxmodes) end},
}
for _, name in ipairs({"TLSClientHello", "TLSServerHello"}) do
  for k, f in pairs(HELLO) do BY[name][k] = f end
end
for _, name in ipairs({"TLSCertificate", "TLSNewSessionTicket", "TLSEncryptedExtensions",
                       "TLSServerHelloDone", "TLSServerKeyExchange", "TLSClientKeyExchange",
                       "TLSCertificateVerify", "TLSFinished", "TLSHandshake"}) do
  BY[name] = BY[name] or {}
  for k, f in pairs(msg()) do BY[name][k] = f end
end
for _, info in ipairs(layers.protos) do
  if info.name:find("^TLS_Ext_") then
    BY[info.name] = BY[info.name] or {}
    for k, f in pairs(EXT) do BY[info.name][k] = f end
  end
end

-- TLS 1.3's records: Wireshark, knowing the session's version, names
-- their outer type tls.record.opaque_type; a packet alone cannot tell a
-- TLS 1.3 record from a TLS 1.2 one, so sflua's content_type has both.
M.fields = {"tls.record.opaque_type"}
do
  local seen = {["tls.record.opaque_type"] = true}
  for _, t in pairs(BY) do
    for k in pairs(t) do
      if not seen[k] then seen[k] = true; M.fields[#M.fields + 1] = k end
    end
  end
  table.sort(M.fields)
end

-- one packet: {field = "v1,v2,..."} (fields with no value left out)
function M.row(p)
  local acc = {}
  for i = 1, p.layer_count do
    local by = BY[layers.protos[p:_layer_info(i) + 1].name]
    if by then
      local view = p:layer(i)
      for field, get in pairs(by) do
        local ok, vals = pcall(get, view)
        if ok and vals then
          acc[field] = acc[field] or {}
          for _, v in ipairs(vals) do acc[field][#acc[field] + 1] = v end
        end
      end
    end
  end
  local row = {}
  for field, vals in pairs(acc) do
    if #vals > 0 then row[field] = table.concat(vals, ",") end
  end
  return row
end

function M.rows(path)
  local rows = {}
  for p in sf.PcapReader(path) do rows[#rows + 1] = not p.truncated and M.row(p) end
  return rows
end

if arg and arg[0] and arg[0]:match("tls_fields%.lua$") then
  if arg[1] == "--fields" then
    for _, f in ipairs(M.fields) do print(f) end
    return M
  end
  print(table.concat(M.fields, "\t"))
  for _, r in ipairs(M.rows(arg[1])) do
    local cells = {}
    for i, f in ipairs(M.fields) do cells[i] = r and r[f] or "" end
    print(table.concat(cells, "\t"))
  end
end

return M
