-- stackforge.fragment: IP fragments as Scapy makes and joins them:
-- fragment(pkt, size), fragment6(pkt, size), defragment(list),
-- defrag(list), defragment6(list).
--
-- Each works on the packets' bytes (the headers below IP are kept as they
-- are) and parses the results again, so a fragment is what a receiver
-- would see.  Scapy's choices are kept where they decide bytes: the last
-- IPv4 fragment may carry up to `size` bytes, fragments copy every IPv4
-- option, an IPv6 fragment header goes right after the first IPv6 header
-- and `size` counts the whole packet there, its id is random unless the
-- packet has a fragment header with one.
local core = require("stackforge.core")
local layers = require("stackforge.layers")
local plist = require("stackforge.packetlist")

local spack, sunpack = string.pack, string.unpack

local M = {}

local is_packet = require("stackforge.options").is_packet

-- The packets an argument stands for: a packet (its implicit sets
-- expanded, as Scapy's `for p in pkt`), a PacketList or a table of them.
local function packets_of(fname, x)
  if is_packet(x) then
    local out = {}
    for q in x:expand() do out[#out + 1] = q end
    return out
  end
  if type(x) == "table" then
    local out = {}
    for i = 1, #x do
      local p = x[i]
      if not is_packet(p) then
        error(("bad argument #1 to '%s' (item %d is not a packet)"):format(fname, i), 3)
      end
      out[i] = p
    end
    return out
  end
  error(("bad argument #1 to '%s' (packet or list of packets expected, got %s)")
    :format(fname, type(x)), 3)
end

-- The packet of bytes b, parsed as p was (same link type, same first layer).
local function reparse(p, b)
  local q = core.packet(b, {linktype = p.linktype, proto = p:_layer_info(1)})
  pcall(function() q.time = p.time end)
  return q
end

-- 1-based index of the first layer of kind ctor, or nil
local function index_of(p, ctor)
  for i = 1, p.layer_count do
    if p:_layer_info(i) == ctor.kind then return i end
  end
end

-- ---- IPv4 ------------------------------------------------------------------------------

-- An IPv4 header hdr with flags/offset word ff and total length len, its
-- checksum computed again.
local function ip4_header(hdr, ff, len)
  local h = hdr:sub(1, 2) .. spack(">I2", len) .. hdr:sub(5, 6) .. spack(">I2", ff)
    .. hdr:sub(9, 10) .. "\0\0" .. hdr:sub(13)
  return h:sub(1, 10) .. spack(">I2", core.checksum(h)) .. h:sub(13)
end

-- The bytes of p's first IPv4 layer: what is before it, its header, its
-- payload (as its total length bounds it), or nil without IPv4.
local function ip4_parts(p)
  local b = p:bytes()
  local i = index_of(p, layers.IP)
  if not i then return nil end
  local at = #b - #p:get_layer_bytes(layers.IP) + 1
  local ihl = (b:byte(at) & 15) * 4
  local total = sunpack(">I2", b, at + 2)
  return b:sub(1, at - 1), b:sub(at, at + ihl - 1), b:sub(at + ihl, at + math.max(total, ihl) - 1)
end

--- fragment(pkt [, size=1480]) -> PacketList: the IPv4 fragments of each
--- packet, as Scapy's fragment(): payload cut at multiples of 8 bytes,
--- the last piece up to `size`
function M.fragment(pkt, size)
  size = size or 1480
  if math.type(size) ~= "integer" or size < 8 then
    error(("bad argument #2 to 'fragment' (a size of at least 8 expected, got %s)")
      :format(tostring(size)), 2)
  end
  local last, step = size, size - size % 8
  local out = {}
  for _, p in ipairs(packets_of("fragment", pkt)) do
    local before, hdr, s = ip4_parts(p)
    if not before then
      error("fragment: a packet has no IP layer (IPv6: fragment6)", 2)
    end
    local ff = sunpack(">I2", hdr, 7)
    local n = (#s - last + step - 1) // step + 1
    for k = 0, n - 1 do
      local flags, stop = ff >> 13, k * step + last
      if k ~= n - 1 then flags, stop = flags | 1, (k + 1) * step end
      local off = ((ff & 0x1fff) + k * step // 8) & 0x1fff
      local chunk = s:sub(k * step + 1, stop)
      out[#out + 1] = reparse(p, before .. ip4_header(hdr, (flags << 13) | off, #hdr + #chunk) .. chunk)
    end
  end
  return plist.new(out, "Fragmented")
end

-- Scapy's _defrag_logic: fragments grouped by (id, src, dst, proto), each
-- group joined when it starts at 0, ends without MF and has no gap or
-- overlap.  Returns the packets in order with positions: {p=, pos=, kind=}
-- where kind is "plain", "whole" (joined) or "miss".
local function defrag_logic(list)
  local groups, order, out = {}, {}, {}
  for pos, p in ipairs(list) do
    local _, hdr = ip4_parts(p)
    local ff = hdr and sunpack(">I2", hdr, 7) or 0
    if hdr and ff & 0x3fff ~= 0 then  -- an offset, or more fragments
      local key = hdr:sub(5, 6) .. hdr:sub(13, 20) .. hdr:sub(10, 10)  -- id, src, dst, proto
      if not groups[key] then groups[key] = {}; order[#order + 1] = key end
      local g = groups[key]
      g[#g + 1] = {p = p, pos = pos, frag = ff & 0x1fff}
    else
      out[#out + 1] = {p = p, pos = pos, kind = "plain"}
    end
  end
  local whole, miss = {}, {}
  for _, key in ipairs(order) do
    local g = groups[key]
    table.sort(g, function(a, b) if a.frag ~= b.frag then return a.frag < b.frag end return a.pos < b.pos end)
    local first, lastf = g[1], g[#g]
    local _, lhdr = ip4_parts(lastf.p)
    local ok = first.frag == 0 and (sunpack(">I2", lhdr, 7) & 0x2000) == 0
    local before, hdr, data, t, pos
    if ok then
      before, hdr, data = ip4_parts(first.p)
      local pieces, len = {data}, #data
      t, pos = first.p.time, first.pos
      for k = 2, #g do
        if len ~= g[k].frag * 8 then ok = false break end
        local _, _, d = ip4_parts(g[k].p)
        pieces[#pieces + 1] = d
        len = len + #d
        if g[k].p.time and t and g[k].p.time > t then t = g[k].p.time end
        if g[k].pos > pos then pos = g[k].pos end
      end
      data = table.concat(pieces)
    end
    if ok then
      local ff = sunpack(">I2", hdr, 7) & ~0x2000
      local q = reparse(first.p, before .. ip4_header(hdr, ff, #hdr + #data) .. data)
      pcall(function() q.time = t end)
      whole[#whole + 1] = {p = q, pos = pos, kind = "whole"}
    else
      for _, e in ipairs(g) do miss[#miss + 1] = {p = e.p, pos = e.pos, kind = "miss"} end
    end
  end
  return out, whole, miss
end

local function list_arg(fname, x)
  if type(x) ~= "table" then
    error(("bad argument #1 to '%s' (list of packets expected, got %s)"):format(fname, type(x)), 3)
  end
  return packets_of(fname, x)
end

local function packets(entries)
  local t = {}
  for i, e in ipairs(entries) do t[i] = e.p end
  return t
end

--- defragment(list) -> PacketList: the list with each complete set of
--- IPv4 fragments replaced by the packet they make (at the place of its
--- last fragment), incomplete ones left as they are (Scapy's defragment)
function M.defragment(list)
  local plain, whole, miss = defrag_logic(list_arg("defragment", list))
  local all = {}
  for _, set in ipairs{plain, whole, miss} do
    for _, e in ipairs(set) do all[#all + 1] = e end
  end
  table.sort(all, function(a, b) return a.pos < b.pos end)
  local name = plist.is(list) and list:listname() or nil
  return plist.new(packets(all), name and ("Defragmented " .. name) or "Defragmented")
end

--- defrag(list) -> not fragmented, defragmented, fragments left over
--- (three PacketLists, Scapy's defrag)
function M.defrag(list)
  local plain, whole, miss = defrag_logic(list_arg("defrag", list))
  return plist.new(packets(plain)), plist.new(packets(whole)), plist.new(packets(miss))
end

-- ---- IPv6 ------------------------------------------------------------------------------

local FRAG_NH = 44

-- The bytes of p split around its IPv6 fragment header: before it (link
-- layer, IPv6 and the headers that precede), the fragment header (8
-- bytes, nil when p has none) and the fragmentable part after it, bounded
-- by the first IPv6 header's payload length; the offset of that IPv6
-- header; the offset of the next-header byte that names the fragment header.
local function ip6_parts(p)
  local b = p:bytes()
  local i6 = index_of(p, layers.IPv6)
  if not i6 then return nil end
  local at = #b - #p:get_layer_bytes(layers.IPv6) + 1
  local stop = at + 40 + sunpack(">I2", b, at + 4) - 1
  local fi = index_of(p, layers.IPv6ExtHdrFragment)
  if not fi then
    return b:sub(1, at + 39), nil, b:sub(at + 40, stop), at, at + 6
  end
  local fat = #b - #p:get_layer_bytes(layers.IPv6ExtHdrFragment) + 1
  -- the byte that names it: the IPv6 header's, or the previous extension's
  local nhat = at + 6
  for k = i6 + 1, fi - 1 do nhat = #b - #p:get_layer_bytes(layers.by_kind[p:_layer_info(k)]) + 1 end
  return b:sub(1, fat - 1), b:sub(fat, fat + 7), b:sub(fat + 8, stop), at, nhat
end

-- before with the IPv6 payload length set for a packet of total bytes
local function with_plen(before, at, total)
  return before:sub(1, at + 3) .. spack(">I2", total - (at - 1) - 40) .. before:sub(at + 6)
end

--- fragment6(pkt, size) -> PacketList: IPv6 fragments of at most size
--- bytes each (the whole packet, link layer included), as Scapy's fragment6
function M.fragment6(pkt, size)
  if math.type(size) ~= "integer" then
    error(("bad argument #2 to 'fragment6' (a size in bytes expected, got %s)"):format(tostring(size)), 2)
  end
  local out = {}
  for _, p in ipairs(packets_of("fragment6", pkt)) do
    local before, fh, frag, at, nhat = ip6_parts(p)
    if not before then
      out[#out + 1] = p  -- Scapy returns it as it is
    else
      local id, res1, res2 = nil, 0, 0
      if fh then
        local w, fi = nil, index_of(p, layers.IPv6ExtHdrFragment)
        _, res1, w, id = sunpack(">BBI2I4", fh)
        res2 = (w >> 1) & 3
        local _, _, _, _, flags = p:_layer_info(fi)
        if (flags & 1) ~= 0 and not core.field_isset(p, fi, 5) then id = nil end  -- built, id not set
      else  -- a fragment header after the IPv6 header, naming what followed it
        fh = spack(">BBI2I4", before:byte(nhat), 0, 0, 0)
        before = before:sub(1, nhat - 1) .. string.char(FRAG_NH) .. before:sub(nhat + 1)
      end
      local nh = fh:byte(1)
      local whole = #before + 8 + #frag
      if whole <= size then
        local hdr = spack(">BBI2I4", nh, res1, res2 << 1, id or 0)
        out[#out + 1] = reparse(p, with_plen(before, at, whole) .. hdr .. frag)
      else
        local unfrag = #before
        local lastsz = size - unfrag - 8
        local inner = lastsz - lastsz % 8
        if lastsz <= 0 or inner == 0 then
          error(("fragment6: size %d is too small (more than %d needed)"):format(size, unfrag + 8), 2)
        end
        id = id or core.random(0, 0xffffffff)
        local off, rest = 0, frag
        while true do
          local piece, m
          if #rest > lastsz then piece, rest, m = rest:sub(1, inner), rest:sub(inner + 1), 1
          else piece, m = rest, 0 end
          local hdr = spack(">BBI2I4", nh, res1, (off << 3) | (res2 << 1) | m, id)
          local total = unfrag + 8 + #piece
          out[#out + 1] = reparse(p, with_plen(before, at, total) .. hdr .. piece)
          if m == 0 then break end
          off = off + inner // 8
        end
      end
    end
  end
  return plist.new(out, "Fragmented")
end

--- defragment6(list) -> the packet the IPv6 fragments of the first
--- fragment's id make (Scapy's defragment6: a gap is filled with "X"),
--- or nil when the list has no fragment
function M.defragment6(list)
  local frags = {}
  for _, p in ipairs(list_arg("defragment6", list)) do
    if p[layers.IPv6ExtHdrFragment] then frags[#frags + 1] = p end
  end
  if #frags == 0 then return nil end
  local id = frags[1][layers.IPv6ExtHdrFragment].id
  local same = {}
  for _, p in ipairs(frags) do
    if p[layers.IPv6ExtHdrFragment].id == id then same[#same + 1] = {p = p, pos = #same + 1} end
  end
  table.sort(same, function(a, b)
    local x, y = a.p[layers.IPv6ExtHdrFragment].offset, b.p[layers.IPv6ExtHdrFragment].offset
    if x ~= y then return x < y end
    return a.pos < b.pos
  end)
  local data = {}
  local len = 0
  for _, e in ipairs(same) do
    local _, _, piece = ip6_parts(e.p)
    local off = 8 * e.p[layers.IPv6ExtHdrFragment].offset
    if off > len then data[#data + 1] = ("X"):rep(off - len); len = off end
    data[#data + 1] = piece
    len = len + #piece
  end
  local first = same[1].p
  local before, fh, _, at, nhat = ip6_parts(first)
  before = before:sub(1, nhat - 1) .. fh:sub(1, 1) .. before:sub(nhat + 1)
  local body = table.concat(data)
  return reparse(first, with_plen(before, at, #before + #body) .. body)
end

return M
