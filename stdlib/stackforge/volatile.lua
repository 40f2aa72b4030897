-- stackforge.volatile: Scapy's volatile values (RandShort(), RandIP(),
-- ...), fuzz(), random_seed(), and implicit packet sets (TCP{dport={80,
-- 443}}, IP{dst="10.0.0.0/30"}, Range(1, 1024)) that expand into
-- packets.
--
-- A field given a volatile value or a set is "lazy": the binding
-- (lua/lpacket.c) hands it to this module's hooks, which keep it in the
-- packet's lazy table {{layer, field index, value}...} and give the value
-- to set now.  A volatile value is drawn again each time the packet is
-- built (p:bytes(), wrpcap, send); a set is expanded by p:expand().
-- Draws come from the binding's generator (xorshift64, not math.random),
-- seeded by random_seed(n) for reproducible runs; numbers and byte
-- strings are drawn in C (core.lazy_draw), others by their functions.
local core = require("stackforge.core")
local layers = require("stackforge.layers")

local M = {}

-- ---- the generator ---------------------------------------------------------------

-- The binding's (xorshift64, per thread): C draws numbers and byte
-- strings for fields without calling Lua (core.lazy_draw).
local uniform = core.random

--- random_seed(n): the volatile values' generator starts again from n
function M.random_seed(n)
  if math.type(n) ~= "integer" then
    error(("bad argument #1 to 'random_seed' (integer expected, got %s)"):format(
      math.type(n) or type(n)), 2)
  end
  core.random_seed(n)
end
core.random_seed()  -- from the system's entropy: each process and thread its own draws

-- ---- volatile values -------------------------------------------------------------------

local Rand = {__lazy = "volatile"}
Rand.__index = Rand
M.Rand = Rand

function Rand:draw() return self.fn() end
function Rand.__tostring(self) return ("<%s>"):format(self.name) end

local function rand(name, fn, lo, hi) return setmetatable({name = name, fn = fn, lo = lo, hi = hi}, Rand) end

local function check_int(fname, n, v, lo)
  if math.type(v) ~= "integer" or (lo and v < lo) then
    error(("bad argument #%d to '%s' (integer%s expected, got %s)"):format(n, fname,
      lo and (" >= " .. lo) or "", tostring(v)), 3)
  end
end

--- RandNum(a, b): an integer in [a, b]
function M.RandNum(a, b)
  check_int("RandNum", 1, a)
  check_int("RandNum", 2, b)
  if b < a then error("bad argument #2 to 'RandNum' (must be >= the first)", 2) end
  return rand(("RandNum(%d, %d)"):format(a, b), function() return uniform(a, b) end, a, b)
end

local function fixed(name, a, b)
  M[name] = function() return rand(name, function() return uniform(a, b) end, a, b) end
end
fixed("RandByte", 0, 0xff)
fixed("RandShort", 0, 0xffff)
fixed("RandInt", 0, 0xffffffff)
fixed("RandSByte", -0x80, 0x7f)
fixed("RandSShort", -0x8000, 0x7fff)
fixed("RandSInt", -0x80000000, 0x7fffffff)
--- RandLong(): 0 .. 2^63-1 (Lua's integers are signed)
fixed("RandLong", 0, math.maxinteger)

-- "10.0.0.0/8" -> network as an integer, prefix length
local function cidr4(fname, text)
  local a, b, c, d, len = text:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)/?(%d*)$")
  local n = a and ((tonumber(a) * 256 + tonumber(b)) * 256 + tonumber(c)) * 256 + tonumber(d)
  len = tonumber(len ~= "" and len or 32)
  if not n or n > 0xffffffff or len > 32 then
    error(("%s: bad network %s (expected like \"10.0.0.0/8\")"):format(fname, tostring(text)), 3)
  end
  local mask = len == 0 and 0 or (0xffffffff << (32 - len)) & 0xffffffff
  return n & mask, len
end

local function ip4_text(n)
  return ("%d.%d.%d.%d"):format(n >> 24 & 255, n >> 16 & 255, n >> 8 & 255, n & 255)
end

-- An address drawn as random bytes where mask's bits are clear, base's
-- where they are set (C draws it in a build: abase, amask); text by fmt.
local function address(name, base, mask, fmt)
  local r = rand(name, function()
    local rnd, out = core.random_bytes(#base), {}
    for i = 1, #base do
      local m = mask:byte(i)
      out[i] = string.char((base:byte(i) & m) | (rnd:byte(i) & ~m & 0xff))
    end
    return fmt(table.concat(out))
  end)
  r.abase, r.amask = base, mask
  return r
end

-- prefix length -> mask bytes of n bytes
local function prefix_mask(len, n)
  local t = {}
  for i = 1, n do
    local keep = math.max(0, math.min(8, len - (i - 1) * 8))
    t[i] = string.char((0xff << (8 - keep)) & 0xff)
  end
  return table.concat(t)
end

--- RandIP([net]): an IPv4 address in net ("10.0.0.0/8"; default any)
function M.RandIP(net)
  local base, len = cidr4("RandIP", net or "0.0.0.0/0")
  return address(("RandIP(%q)"):format(net or "0.0.0.0/0"), string.pack(">I4", base),
    prefix_mask(len, 4), core.ntop)
end

--- RandIP6([prefix]): an IPv6 address under prefix ("2001:db8::/32"; default any)
function M.RandIP6(net)
  local text, len = (net or "::/0"):match("^([^/]*)/?(%d*)$")
  local base = text and core.pton(text)
  len = tonumber(len ~= "" and len or 128)
  if not base or #base ~= 16 or len > 128 then
    error(("RandIP6: bad prefix %s (expected like \"2001:db8::/32\")"):format(tostring(net)), 2)
  end
  return address(("RandIP6(%q)"):format(net or "::/0"), base, prefix_mask(len, 16), core.ntop)
end

local function mac_text(b)
  return (("%02x:%02x:%02x:%02x:%02x:%02x"):format(b:byte(1, 6)))
end

--- RandMAC([template]): "00:11:22:*" or "*:*:*:*:*:01"; missing octets random
function M.RandMAC(template)
  local parts, base, mask = {}, {}, {}
  for o in (template or "*"):gmatch("[^:]+") do parts[#parts + 1] = o end
  for i = 1, 6 do
    local o = parts[i] or "*"
    if o ~= "*" and not (o:match("^%x%x?$")) then
      error(("RandMAC: bad template %s (expected like \"00:11:22:*\")"):format(template), 2)
    end
    base[i] = string.char(o ~= "*" and tonumber(o, 16) or 0)
    mask[i] = o ~= "*" and "\255" or "\0"
  end
  return address(("RandMAC(%q)"):format(template or "*"), table.concat(base),
    table.concat(mask), mac_text)
end

local function size_of(fname, size, default)
  if size == nil then return function() return default() end end
  if getmetatable(size) == Rand then return function() return size:draw() end end
  check_int(fname, 1, size, 0)
  return function() return size end
end

local bytes = core.random_bytes

--- RandBin([size]): size random bytes (size a number or a volatile
--- value; default 0..64)
function M.RandBin(size)
  local n = size_of("RandBin", size, function() return uniform(0, 64) end)
  local r = rand("RandBin", function() return bytes(n()) end)
  if size == nil then r.blo, r.bhi = 0, 64  -- lengths C can draw itself
  elseif math.type(size) == "integer" then r.blo, r.bhi = size, size
  elseif getmetatable(size) == Rand and size.lo then r.blo, r.bhi = size.lo, size.hi end
  return r
end

--- RandString([size [, chars]]): size characters from chars (default any byte)
function M.RandString(size, chars)
  local n = size_of("RandString", size, function() return uniform(0, 64) end)
  if chars ~= nil and (type(chars) ~= "string" or #chars == 0) then
    error("bad argument #2 to 'RandString' (a non-empty string of characters expected)", 2)
  end
  return rand("RandString", function()
    if not chars then return bytes(n()) end
    local t = {}
    for i = 1, n() do
      local k = uniform(1, #chars)
      t[i] = chars:sub(k, k)
    end
    return table.concat(t)
  end)
end

--- RandTermString(size, term): RandBin(size) then term (Scapy's)
function M.RandTermString(size, term)
  local b = M.RandBin(size)
  if type(term) ~= "string" then error("bad argument #2 to 'RandTermString' (string expected)", 2) end
  return rand("RandTermString", function() return b:draw() .. term end)
end

--- RandChoice(a, b, ...): one of its arguments
function M.RandChoice(...)
  local choices = table.pack(...)
  if choices.n == 0 then error("RandChoice: nothing to choose from", 2) end
  return rand("RandChoice", function() return choices[uniform(1, choices.n)] end)
end

--- RandEnum(a, b): each integer of [a, b] once, in a random order, then again
function M.RandEnum(a, b)
  check_int("RandEnum", 1, a)
  check_int("RandEnum", 2, b)
  if b < a or b - a > 1 << 24 then error("RandEnum: the range must be a..b with b >= a (at most 2^24 values)", 2) end
  local order, at = {}, 0
  return rand(("RandEnum(%d, %d)"):format(a, b), function()
    if at == 0 or at > #order then  -- a new round: Fisher-Yates
      for i = 1, b - a + 1 do order[i] = a + i - 1 end
      for i = #order, 2, -1 do
        local j = uniform(1, i)
        order[i], order[j] = order[j], order[i]
      end
      at = 1
    end
    at = at + 1
    return order[at - 1]
  end)
end

-- ---- implicit sets ------------------------------------------------------------------

local Set = {__lazy = "set"}
Set.__index = Set
M.Set = Set

function Set.__tostring(self) return ("<set of %d>"):format(#self.values) end

--- Range(a, b): the integers a..b, as a field's set of values
function M.Range(a, b)
  check_int("Range", 1, a)
  check_int("Range", 2, b)
  if b < a or b - a >= 1 << 20 then error("Range: expected a..b with b >= a, at most 2^20 values", 2) end
  local v = {}
  for i = a, b do v[#v + 1] = i end
  return setmetatable({values = v}, Set)
end

-- a lazy value as a set of values, or nil for a volatile one
local function as_set(v)
  if getmetatable(v) == Set then return v end
  if getmetatable(v) == Rand then return nil end
  if type(v) == "string" then  -- "10.0.0.0/30" (Scapy's Net)
    local base, len = cidr4("IP", v)
    if len < 12 then error(("%s: a set of 2^%d addresses is too large to expand"):format(v, 32 - len), 4) end
    local t = {}
    for i = 0, (1 << (32 - len)) - 1 do t[#t + 1] = ip4_text(base + i) end
    return setmetatable({values = t}, Set)
  end
  if #v == 0 then error("an empty list is no set of values", 4) end
  return setmetatable({values = v}, Set)
end

-- ---- the binding's hooks -------------------------------------------------------------

local function find(list, li, fi)
  for k, e in ipairs(list) do
    if e[1] == li and e[2] == fi then return k end
  end
end

local function is_shape(p, li, fi)
  local info = layers.protos[p:_layer_info(li) + 1]
  return info.fields[fi + 1].shape
end

-- set(p, li, fi, value): record it; the value to set now
local function hook_set(p, li, fi, v)
  local list = core.lazy_table(p)
  local set = as_set(v)
  local entry = {li, fi, set or v, not set or nil}  -- [4]: drawn at each build
  list.plan = nil  -- the binding's draw plan is made again
  local k = find(list, li, fi)
  if k then list[k] = entry
  elseif is_shape(p, li, fi) then table.insert(list, 1, entry)  -- drawn first
  else list[#list + 1] = entry end
  if set then return set.values[1] end
  return v:draw()
end

-- clear(p, li, fi): forget the field's lazy value; true if some are left
local function hook_clear(p, li, fi)
  local list = core.lazy_table(p)
  local k = find(list, li, fi)
  if k then table.remove(list, k); list.plan = nil end
  return #list > 0
end

-- merge(r, a, b, na): r = a / b (b nil: r is a's copy)
local function hook_merge(r, a, b, na)
  local list = core.lazy_table(r)
  list.plan = nil
  for _, e in ipairs(core.lazy_table(a)) do list[#list + 1] = {e[1], e[2], e[3], e[4]} end
  if b then
    for _, e in ipairs(core.lazy_table(b)) do list[#list + 1] = {e[1] + na, e[2], e[3], e[4]} end
  end
  return true
end

core.lazy_hooks{set = hook_set, clear = hook_clear, merge = hook_merge}

-- ---- expanding sets ------------------------------------------------------------------

--- p:expand() -> iterator over the packets of p's sets (every
--- combination, in Scapy's order: outer layers and, in a layer, later
--- fields vary slower); p itself once when it has none.  Volatile
--- values stay volatile in each.
function core.Packet.expand(p)
  local sets = {}
  for _, e in ipairs(core.lazy_table(p)) do
    if getmetatable(e[3]) == Set then sets[#sets + 1] = e end
  end
  -- Scapy's order: outer layers vary slower, and in a layer later fields
  table.sort(sets, function(x, y) return x[1] < y[1] or (x[1] == y[1] and x[2] > y[2]) end)
  local idx, done = {}, false
  for k = 1, #sets do idx[k] = 1 end
  return function()
    if done then return nil end
    local q = p:copy()
    for k, e in ipairs(sets) do core.lazy_put(q, e[1], e[2], e[3].values[idx[k]]) end
    for _, e in ipairs(sets) do hook_clear(q, e[1], e[2]) end
    local k = #sets  -- the next combination
    while k >= 1 do
      idx[k] = idx[k] + 1
      if idx[k] <= #sets[k][3].values then break end
      idx[k] = 1
      k = k - 1
    end
    if k < 1 then done = true end
    return q
  end
end

--- p:has_sets(): has p fields given sets of values?
function core.Packet.has_sets(p)
  for _, e in ipairs(core.lazy_table(p)) do
    if getmetatable(e[3]) == Set then return true end
  end
  return false
end

-- ---- fuzz -------------------------------------------------------------------------------

-- a domain name of one to four labels of letters, digits and hyphens
local LDH = "abcdefghijklmnopqrstuvwxyz0123456789-"
local function random_name()
  local labels = {}
  for i = 1, uniform(1, 4) do
    local t = {}
    for k = 1, uniform(1, 20) do
      local c = uniform(1, #LDH)
      t[k] = LDH:sub(c, c)
    end
    labels[i] = table.concat(t)
  end
  return table.concat(labels, ".")
end

-- Values for fields whose codec takes a text rather than wire bytes
-- (Scapy's DNSStrField draws bytes the encoder then refuses or mangles)
local codec_random = {
  dns_name = function() return rand("RandDNSName", random_name) end,
}

-- A volatile value of a field's type, or nil for a field fuzz leaves
local function random_for(f)
  -- a field that chooses the layer's layout (802.11's type, radiotap's
  -- present) keeps its value: the fields it brings stay meaningful
  if f.shape then return nil
  elseif f.codec and codec_random[f.codec] then return codec_random[f.codec]()
  elseif f.type == "uint" or f.type == "flags" then
    if f.bits >= 63 then return f.signed and M.RandSLong() or M.RandLong() end
    if f.signed then return M.RandNum(-(1 << (f.bits - 1)), (1 << (f.bits - 1)) - 1) end
    return M.RandNum(0, (1 << f.bits) - 1)
  elseif f.type == "mac" then return M.RandMAC()
  elseif f.type == "ip4" then return M.RandIP()
  elseif f.type == "ip6" then return M.RandIP6()
  elseif f.type == "bytes" then
    if f.bits > 0 then return M.RandBin(f.bits // 8) end
    return M.RandBin(M.RandNum(0, 40))
  end
end

--- fuzz(p [, {auto=true}]) -> a copy of p whose fields the user did not
--- set hold volatile values of their types (drawn again at each build);
--- automatic fields (lengths, checksums) stay automatic unless auto=true
function M.fuzz(p, opts)
  if not (type(p) == "userdata" and pcall(function() return p.layer_count end)) then
    error(("bad argument #1 to 'fuzz' (packet expected, got %s)"):format(type(p)), 2)
  end
  local auto = opts and opts.auto
  local q = p:copy()
  for i = 1, q.layer_count do
    local id = q:_layer_info(i)
    local info = layers.protos[id + 1]
    local seen = {}
    for fi, f in ipairs(info.fields) do
      if not seen[f.name] and (auto or not f.auto) and q:_field(i, fi - 1) ~= nil
         and not core.field_isset(q, i, fi - 1) then
        seen[f.name] = true
        local r = random_for(f)
        -- the binding records it (set_field); a field whose values depend
        -- on others (radiotap's Ext) refuses plain random bytes: left alone
        if r then pcall(function() q[i][f.name] = r end) end
      end
    end
  end
  return q
end

return M
