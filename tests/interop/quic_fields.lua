-- quic_fields.lua: sflua's reading of QUIC captures in tshark's -T fields
-- form (every occurrence, joined by ","), and the comparison with
-- tshark's (quic_tshark.sh's TSV), frame by frame.
--   sflua tests/interop/quic_fields.lua --fields         the fields, one a line
--   sflua tests/interop/quic_fields.lua PCAP             a TSV like quic_tshark.sh's
--   sflua tests/interop/quic_fields.lua PCAP TSV         what differs; exit 1 if
--                                                        anything does or nothing compared
-- What is compared: every packet's header fields (a short header's
-- connection ID, which tshark knows from the connection, is not); what
-- decryption shows (frames, packet numbers, the ClientHello's SNI and
-- ALPN) in the datagrams whose every packet sflua decrypts (Initials, the
-- server's and a client's later ones with the keys of the client's first
-- Destination Connection ID, as quic_tracker follows it), where tshark
-- decrypts them too (after a Version Negotiation tshark 4.0 keeps the keys of the
-- version refused); SNI and ALPN wherever tshark shows them.  A short
-- header whose QUIC bit is greased (RFC 9287; ngtcp2 does it) alone in a
-- datagram is QUIC to tshark, which knows the connection, and not to
-- sflua (docs/quic.md): those frames are left out.
local sf = require("stackforge")
local layers = require("stackforge.layers")
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local read_tsv = dofile(here .. "/../lua/helpers.lua").read_tsv

local M = {}

M.header_fields = {"quic.header_form", "quic.version", "quic.long.packet_type",
  "quic.long.packet_type_v2", "quic.dcid",
  "quic.scid", "quic.length", "quic.token_length", "quic.supported_version",
  "quic.retry_token", "quic.retry_integrity_tag"}
M.plain_fields = {"quic.packet_number", "quic.frame_type", "quic.crypto.offset",
  "quic.crypto.length"}
M.tls_fields = {"tls.handshake.extensions_server_name", "tls.handshake.extensions_alpn_str"}
M.fields = {}
for _, l in ipairs({M.header_fields, M.plain_fields, M.tls_fields}) do
  for _, f in ipairs(l) do M.fields[#M.fields + 1] = f end
end

local function hexs(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
local function add(row, f, v)
  if v == nil then return end
  row[f] = row[f] and row[f] .. "," .. v or tostring(v)
end

local LONG = {QUIC_Initial = true, QUIC_0RTT = true, QUIC_Handshake = true, QUIC_Retry = true,
  QUIC_Version = true}
local HEADER = {QUIC_1RTT = true}
for k in pairs(LONG) do HEADER[k] = true end

local function name_of(p, i) return layers.protos[p:_layer_info(i) + 1].name end

local function header_row(p, row)
  local nlong, npackets = 0, 0
  for i = 1, p.layer_count do
    local n = name_of(p, i)
    if HEADER[n] then
      local v = p:layer(i)
      npackets = npackets + 1
      add(row, "quic.header_form", v.HeaderForm)
      if LONG[n] then
        nlong = nlong + 1
        add(row, "quic.version", ("0x%08x"):format(v.Version))
        if n ~= "QUIC_Version" then
          add(row, v.Version == 0x6b3343cf and "quic.long.packet_type_v2" or "quic.long.packet_type",
            v.LongPacketType)
        end
        add(row, "quic.dcid", #v.DstConnID > 0 and hexs(v.DstConnID) or nil)
        add(row, "quic.scid", #v.SrcConnID > 0 and hexs(v.SrcConnID) or nil)
        if n ~= "QUIC_Retry" and n ~= "QUIC_Version" then add(row, "quic.length", v.Length) end
        if n == "QUIC_Initial" then add(row, "quic.token_length", v.TokenLen) end
        if n == "QUIC_Version" then
          for _, sv in ipairs(type(v.SupportedVersions) == "table" and v.SupportedVersions or {}) do
            add(row, "quic.supported_version", ("0x%08x"):format(sv))
          end
        end
        if n == "QUIC_Retry" then
          add(row, "quic.retry_token", hexs(v.RetryToken))
          add(row, "quic.retry_integrity_tag", hexs(v.RetryIntegrityTag))
        end
      end
    end
  end
  return nlong, npackets
end

-- what the decrypted packet d shows; nil unless every Initial opened
-- (tshark opens no other packets either)
local function plain_row(d, row)
  for i = 1, d.layer_count do
    local n = name_of(d, i)
    if n == "QUIC_Protected" and name_of(d, i - 1) == "QUIC_Initial" then return nil end
    local v = d:layer(i)
    if n == "QUIC_Initial" then add(row, "quic.packet_number", v.PacketNumber)
    elseif n:match("^QUIC_") and not HEADER[n] and n ~= "QUIC_Protected" then
      add(row, "quic.frame_type", v.type)
      if n == "QUIC_CRYPTO" then
        add(row, "quic.crypto.offset", v.offset)
        add(row, "quic.crypto.length", v.length)
      end
    end
  end
  return row
end

-- One {field = text} per frame of the capture at path, and for each a set
-- of the fields it speaks for (decrypted ones only where it decrypted).
function M.rows(path)
  local rows, speaks = {}, {}
  local track = sf.quic_tracker()  -- the server's Initials open with the client's first ID
  for p in sf.PcapReader(path) do
    local row, says = {}, {}
    local udp = p[sf.UDP]
    local first = udp and p:get_layer_bytes(sf.UDP):byte(9)
    row.greased = first and first & 0xc0 == 0  -- a short header with its QUIC bit greased
    local nlong = header_row(p, row)
    for _, f in ipairs(M.header_fields) do says[f] = true end
    row.nlong = nlong
    local d = track(p)
    if d then
      local plain = {}
      if plain_row(d, plain) then
        for _, f in ipairs(M.plain_fields) do row[f], says[f] = plain[f], true end
      end
      local info = sf.tls_info(d)
      if info then
        row["tls.handshake.extensions_server_name"] = info.sni
        row["tls.handshake.extensions_alpn_str"] = #info.alpn > 0 and table.concat(info.alpn, ",") or nil
      end
    end
    rows[#rows + 1], speaks[#speaks + 1] = row, says
  end
  return rows, speaks
end

-- the first n items of a list text
local function first(s, n)
  if not s then return nil end
  local t = {}
  for v in s:gmatch("[^,]+") do if #t < n then t[#t + 1] = v end end
  return #t > 0 and table.concat(t, ",") or nil
end

function M.compare(pcap, tsv)
  local want, got, speaks = read_tsv(tsv), M.rows(pcap)
  local bad, n = {}, 0
  if #want ~= #got then bad[#bad + 1] = ("%d frames in tshark's reading, %d in sflua's"):format(#want, #got) end
  for i, row in ipairs(got) do
    local w = want[i] or {}
    if row.greased and w["quic.header_form"] == "0" then goto next end
    w["quic.dcid"] = first(w["quic.dcid"], row.nlong)  -- short headers' by the connection
    local both = w["quic.frame_type"] ~= nil  -- tshark decrypted it too
    for _, f in ipairs(M.fields) do
      local tls, plain = f:match("^tls%."), f ~= "quic.packet_number" and f:match("^quic%.[fc]r")
      plain = plain or f == "quic.packet_number"
      if (speaks[i][f] and (both or not plain)) or (tls and w[f]) then
        local a, b = w[f], row[f]
        if a ~= b and not (tls and a == nil) then
          bad[#bad + 1] = ("frame %d %s: tshark %s, sflua %s"):format(i, f, tostring(a), tostring(b))
        elseif a then
          n = n + 1
        end
      end
    end
    ::next::
  end
  return n, bad
end

if arg and arg[0] and arg[0]:match("quic_fields%.lua$") then
  if arg[1] == "--fields" then
    for _, f in ipairs(M.fields) do print(f) end
  elseif arg[2] then
    local n, bad = M.compare(arg[1], arg[2])
    for _, b in ipairs(bad) do print(b) end
    print(("%s: %d values equal, %d differ"):format(arg[1], n, #bad))
    os.exit(#bad == 0 and n > 0 and 0 or 1)
  else
    print(table.concat(M.fields, "\t"))
    for _, row in ipairs((M.rows(arg[1]))) do
      local cells = {}
      for i, f in ipairs(M.fields) do cells[i] = row[f] or "" end
      print(table.concat(cells, "\t"))
    end
  end
end

return M
