-- ws_compare.lua: sflua's reading of a capture in tshark's -T fields form,
-- from the Wireshark names the protocols declare (ws_fields), against a
-- TSV tshark wrote (ws_tshark.sh): frame by frame, every occurrence of a
-- field joined by ",", as tshark joins them.
--   sflua tests/interop/ws_compare.lua PCAP TSV   prints what differs;
--   exit 1 when anything does or when nothing was compared
-- As a module: compare(pcap, tsv) -> compared cells, {mismatch text...};
-- rows(pcap, fields) -> one {field = text} per frame.
local sf = require("stackforge")
local layers = require("stackforge.layers")

local M = {}

local function read_tsv(path)
  local rows, head = {}, nil
  for line in io.lines(path) do
    local cells = {}
    for c in (line .. "\t"):gmatch("([^\t]*)\t") do cells[#cells + 1] = c end
    if not head then head = cells else
      local r = {}
      for i, f in ipairs(head) do if cells[i] and cells[i] ~= "" then r[f] = cells[i] end end
      rows[#rows + 1] = r
    end
  end
  return rows, head
end

-- flags read as names ("sequence+length+control") back to their bits
local FLAG_BITS = {
  L2TP = {res00 = 0, res01 = 1, res02 = 2, res03 = 3, priority = 4, offset = 5, res06 = 6,
          sequence = 7, res08 = 8, res09 = 9, length = 10, control = 11},
}

local function as_number(ctor, field, v)
  if type(v) ~= "string" then return v end
  local bits = FLAG_BITS[ctor]
  if not bits then return nil end
  local n = 0
  for name in v:gmatch("[^+]+") do n = n | (1 << bits[name]) end
  return n
end

local function lowest_bit(mask)
  local s = 0
  while mask & 1 == 0 do mask, s = mask >> 1, s + 1 end
  return s
end

-- a value in tshark's spelling
local function text(ws, ctor, field, v, raw_bytes)
  if v == nil then return nil end
  if ws.mask then
    v = as_number(ctor, field, v)
    return tostring((v & ws.mask) >> lowest_bit(ws.mask))
  end
  if math.type(v) == "integer" then
    v = v * (ws.mul or 1)
    if ws.hex then return ("0x%0" .. ws.hex .. "x"):format(v) end
    return tostring(v)
  end
  if type(v) == "boolean" then return v and "1" or "0" end
  if raw_bytes then return (v:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
  return tostring(v)
end

-- Which fields are bytes (printed in hexadecimal) rather than text.
local function is_bytes(view, field)
  local ok, s = pcall(function() return view[field] end)
  return ok and type(s) == "string" and s:find("[^\32-\126]") ~= nil
end

-- fields tshark prints as hex whatever the bytes are
local HEX_FIELDS = {["ssh.cookie"] = true, ["ssh.padding_string"] = true,
  ["ssh.ecdh.q_c"] = true, ["ssh.ecdh.q_s"] = true, ["ssh.encrypted_packet"] = true,
  ["ssh.kex.reserved"] = true}

-- hassh on the client's KEXINIT, hasshServer on the server's (tshark
-- tells them by the connection; here the server is the side on port 22,
-- or else the lower port)
local function from_client(p)
  local ok, sport, dport = pcall(function() return p[sf.TCP].sport, p[sf.TCP].dport end)
  if not ok then return true end
  if dport == 22 or sport == 22 then return dport == 22 end
  return dport < sport
end

local function add_hassh(p, row, want)
  local k = p[sf.SSHKexInit]
  if not k then return end
  if from_client(p) then
    if want["ssh.kex.hassh"] then row["ssh.kex.hassh"] = k.hassh end
    if want["ssh.kex.hassh_algorithms"] then row["ssh.kex.hassh_algorithms"] = k.hassh_algorithms end
  else
    if want["ssh.kex.hasshserver"] then row["ssh.kex.hasshserver"] = k.hassh_server end
    if want["ssh.kex.hasshserver_algorithms"] then
      row["ssh.kex.hasshserver_algorithms"] = k.hassh_server_algorithms
    end
  end
end

-- Wireshark 4.0 dissects the (EC)DH values of the key exchanges it knows
-- only (not sntrup761x25519-sha512, OpenSSH 9's first choice): compared
-- where tshark shows them
local ONLY_IF_TSHARK = {["ssh.ecdh.q_c_length"] = true, ["ssh.ecdh.q_c"] = true,
  ["ssh.ecdh.q_s"] = true}

-- Wireshark shows a hidden AVP's flags and length only (its vendor and
-- type stay in the tree's text, not as fields)
local function shown(info, view, ws)
  if info.name == "L2TP_AVP" and view.hidden == 1 then
    return ws.name == "l2tp.avp.mandatory" or ws.name == "l2tp.avp.hidden" or ws.name == "l2tp.avp.length"
  end
  return true
end

function M.rows(pcap, fields)
  local want = {}
  for _, f in ipairs(fields) do want[f] = true end
  local out = {}
  for p in sf.PcapReader(pcap) do
    local row = {}
    for i = 1, p.layer_count do
      local id = p:_layer_info(i)
      local info = layers.protos[id + 1]
      local view
      for _, ws in ipairs(info.ws_fields or {}) do
        if want[ws.name] then
          view = view or p:layer(i)
          local ok, v = pcall(function() return view[ws.field] end)
          if ok and v ~= nil and shown(info, view, ws) then
            local t = text(ws, info.name, ws.field, v, HEX_FIELDS[ws.name] or is_bytes(view, ws.field))
            if t then
              row[ws.name] = row[ws.name] and row[ws.name] .. "," .. t or t
            end
          end
        end
      end
    end
    for k, v in pairs(row) do  -- one empty string is no value to tshark
      if v == "" then row[k] = nil end
    end
    add_hassh(p, row, want)
    out[#out + 1] = row
  end
  return out
end

-- (frames tshark calls malformed, _ws.malformed in its reading, are left
-- out: where its dissector gives up on an option sflua reads on)
function M.compare(pcap, tsv)
  local want, head = read_tsv(tsv)
  local got, bad, n = M.rows(pcap, head), {}, 0
  if #want ~= #got then bad[#bad + 1] = ("%d frames in tshark's reading, %d in sflua's"):format(#want, #got) end
  for i, row in ipairs(want) do
    for _, f in ipairs(row["_ws.malformed"] and {} or head) do
      local a, b = row[f], got[i] and got[i][f]
      if a == nil and ONLY_IF_TSHARK[f] then b = nil end
      if a ~= b then
        bad[#bad + 1] = ("frame %d %s: tshark %s, sflua %s"):format(i, f, tostring(a), tostring(b))
      elseif a then
        n = n + 1
      end
    end
  end
  return n, bad
end

if arg and arg[0] and arg[0]:match("ws_compare%.lua$") then
  local n, bad = M.compare(arg[1], arg[2])
  for _, b in ipairs(bad) do print(b) end
  print(("%s: %d values agree, %d differ"):format(arg[1], n, #bad))
  os.exit((#bad == 0 and n > 0) and 0 or 1)
end

return M
