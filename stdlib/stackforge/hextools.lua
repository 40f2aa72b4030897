-- stackforge.hextools: Scapy's hex helpers, returning text where Scapy
-- prints it: hexdiff(a, b), hexstr(x), linehexdump(x), chexdump(x),
-- import_hexcap(text) and Raw.from_hexdump(text).  hexdump() is show.lua's.
--
-- hexdiff aligns the two byte strings as Python's difflib.SequenceMatcher
-- (autojunk off, Scapy's default) does, then lays the lines out as Scapy's
-- hexdiff, including its quirk of numbering the first string's lines by the
-- second's offset.
local M = {}

local is_packet = require("stackforge.options").is_packet

-- the bytes of a packet or a string; fname names the caller in errors
local function bytes_of(fname, x, n)
  if type(x) == "string" then return x end
  if is_packet(x) then return x:bytes() end
  error(("bad argument #%d to '%s' (packet or string expected, got %s)"):format(n, fname, type(x)), 3)
end

-- Scapy's sane(): printable ASCII as it is, other bytes as "."
local function sane(s) return (s:gsub("[^\32-\126]", ".")) end

-- ---- difflib.SequenceMatcher, without junk ---------------------------------------------

-- b2j: byte value -> increasing positions (0-based) where b has it
local function positions(b)
  local b2j = {}
  for j = 1, #b do
    local c = b:byte(j)
    local t = b2j[c]
    if not t then t = {}; b2j[c] = t end
    t[#t + 1] = j - 1
  end
  return b2j
end

-- find_longest_match(alo, ahi, blo, bhi): the longest common run, the
-- earliest in a, then in b (difflib's dynamic programme)
local function longest(a, b, b2j, alo, ahi, blo, bhi)
  local besti, bestj, bestsize = alo, blo, 0
  local j2len = {}
  for i = alo, ahi - 1 do
    local new = {}
    for _, j in ipairs(b2j[a:byte(i + 1)] or {}) do
      if j >= blo then
        if j >= bhi then break end
        local k = (j2len[j - 1] or 0) + 1
        new[j] = k
        if k > bestsize then besti, bestj, bestsize = i - k + 1, j - k + 1, k end
      end
    end
    j2len = new
  end
  while besti > alo and bestj > blo and a:byte(besti) == b:byte(bestj) do
    besti, bestj, bestsize = besti - 1, bestj - 1, bestsize + 1
  end
  while besti + bestsize < ahi and bestj + bestsize < bhi
        and a:byte(besti + bestsize + 1) == b:byte(bestj + bestsize + 1) do
    bestsize = bestsize + 1
  end
  return besti, bestj, bestsize
end

-- get_opcodes(): {tag, i1, i2, j1, j2} turning a into b
local function opcodes(a, b)
  local b2j, blocks, queue = positions(b), {}, {{0, #a, 0, #b}}
  while #queue > 0 do
    local q = table.remove(queue)
    local alo, ahi, blo, bhi = q[1], q[2], q[3], q[4]
    local i, j, k = longest(a, b, b2j, alo, ahi, blo, bhi)
    if k > 0 then
      blocks[#blocks + 1] = {i, j, k}
      if alo < i and blo < j then queue[#queue + 1] = {alo, i, blo, j} end
      if i + k < ahi and j + k < bhi then queue[#queue + 1] = {i + k, ahi, j + k, bhi} end
    end
  end
  table.sort(blocks, function(x, y)
    if x[1] ~= y[1] then return x[1] < y[1] end
    if x[2] ~= y[2] then return x[2] < y[2] end
    return x[3] < y[3]
  end)
  local merged, i1, j1, k1 = {}, 0, 0, 0
  for _, m in ipairs(blocks) do
    if i1 + k1 == m[1] and j1 + k1 == m[2] then k1 = k1 + m[3]
    else
      if k1 > 0 then merged[#merged + 1] = {i1, j1, k1} end
      i1, j1, k1 = m[1], m[2], m[3]
    end
  end
  if k1 > 0 then merged[#merged + 1] = {i1, j1, k1} end
  merged[#merged + 1] = {#a, #b, 0}
  local ops, i, j = {}, 0, 0
  for _, m in ipairs(merged) do
    local ai, bj, size = m[1], m[2], m[3]
    local tag = (i < ai and j < bj) and "replace" or (i < ai and "delete") or (j < bj and "insert") or nil
    if tag then ops[#ops + 1] = {tag, i, ai, j, bj} end
    i, j = ai + size, bj + size
    if size > 0 then ops[#ops + 1] = {"equal", ai, i, bj, j} end
  end
  return ops
end

-- ---- hexdiff ---------------------------------------------------------------------------

-- the two strings aligned: lists of one-byte strings, "" where one has nothing
local function aligned(a, b)
  local bx, by = {}, {}
  local function add(t, s, lo, hi) for k = lo + 1, hi do t[#t + 1] = s:sub(k, k) end end
  local function gap(t, n) for _ = 1, n do t[#t + 1] = "" end end
  for _, op in ipairs(opcodes(a, b)) do
    local tag, x0, x1, y0, y1 = op[1], op[2], op[3], op[4], op[5]
    if tag == "delete" then add(bx, a, x0, x1); gap(by, x1 - x0)
    elseif tag == "insert" then gap(bx, y1 - y0); add(by, b, y0, y1)
    else add(bx, a, x0, x1); add(by, b, y0, y1) end
  end
  return bx, by
end

local function slice(t, i, n)
  local out = {}
  for k = i + 1, math.min(i + n, #t) do out[#out + 1] = t[k] end
  return out
end

local function width(line)
  local n = 0
  for _, c in ipairs(line) do n = n + #c end
  return n
end

local function same(x, y)
  if #x ~= #y then return false end
  for k = 1, #x do if x[k] ~= y[k] then return false end end
  return true
end

-- the offset column: y, less one for each leading gap
local function offset(y, line)
  local j = 1
  while line[j] == "" do j, y = j + 1, y - 1 end
  if y >= 0 then return ("%04x"):format(y) end
  return ("-%03x"):format(-y)  -- Python's "%04x" % -7: "-007" (the quirk goes below 0)
end

--- hexdiff(a, b) -> text: the two packets' or strings' bytes side by
--- side, line by line, as Scapy's hexdiff prints them
function M.hexdiff(a, b)
  local xs, ys = bytes_of("hexdiff", a, 1), bytes_of("hexdiff", b, 2)
  local bx, by = aligned(xs, ys)
  local out, y, i = {}, 0, 0
  local dox, doy = true, false
  local n = math.min(#bx, #by)
  while i < #bx do
    local lx, ly = slice(bx, i, 16), slice(by, i, 16)
    local xx, yy = width(lx), width(ly)
    if dox and xx == 0 then dox, doy = false, true end
    if dox and same(lx, ly) then doy = true end
    local parts, line = {}, nil
    if dox then
      parts[#parts + 1] = offset(y, lx) .. " "
      line = lx
    else
      parts[#parts + 1] = "     "
    end
    if doy then
      parts[#parts + 1] = offset(y, ly) .. " "
      y = y + yy
      line = ly
    else
      parts[#parts + 1] = "     "
    end
    parts[#parts + 1] = "  "
    local cl = {}
    for j = 0, 15 do
      if i + j < n and line[j + 1] ~= "" then
        parts[#parts + 1] = ("%02X "):format(line[j + 1]:byte())
        cl[#cl + 1] = sane(line[j + 1])
      else
        parts[#parts + 1] = "   "
        if i + j < n then cl[#cl + 1] = " " end
      end
      if j == 7 then parts[#parts + 1] = " " end
    end
    out[#out + 1] = table.concat(parts) .. "  " .. table.concat(cl)
    if doy or yy == 0 then
      doy, dox = false, true
      i = i + 16
    else
      dox, doy = false, true
    end
  end
  if #out == 0 then return "" end
  return table.concat(out, "\n") .. "\n"
end

-- ---- one-line views ----------------------------------------------------------------------

local function check_opts(fname, opts, names)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error(("bad argument #2 to '%s' (table of options expected, got %s)"):format(fname, type(opts)), 3)
  end
  for k in pairs(opts) do
    if not names[k] then
      error(("%s: unknown option '%s' (options: onlyasc, onlyhex)"):format(fname, tostring(k)), 3)
    end
  end
  return opts
end

local function hexstr(fname, x, opts)
  local s = bytes_of(fname, x, 1)
  opts = check_opts(fname, opts, {onlyasc = true, onlyhex = true})
  local parts = {}
  if not opts.onlyasc then
    parts[#parts + 1] = (s:gsub(".", function(c) return ("%02X "):format(c:byte()) end)):sub(1, -2)
  end
  if not opts.onlyhex then parts[#parts + 1] = sane(s) end
  return table.concat(parts, "  ")
end

--- hexstr(x [, {onlyasc=, onlyhex=}]) -> "45 00 00 14  E..." (Scapy's hexstr)
function M.hexstr(x, opts) return hexstr("hexstr", x, opts) end

--- linehexdump(x [, {onlyasc=, onlyhex=}]) -> hexdump() on one line
function M.linehexdump(x, opts) return hexstr("linehexdump", x, opts) end

--- chexdump(x) -> "0x45, 0x00, ..." (the bytes as a C array's items)
function M.chexdump(x)
  local s = bytes_of("chexdump", x, 1)
  local t = {}
  for k = 1, #s do t[k] = ("0x%02x"):format(s:byte(k)) end
  return table.concat(t, ", ")
end

-- ---- reading hex dumps -------------------------------------------------------------------

local function is_hex(c) return c ~= "" and c:find("^%x$") ~= nil end

-- The hex digits of one stripped line, as Scapy's import_hexcap reads it
-- with ^((0x)?[0-9a-fA-F]{2,}[ :\t]{,3}|) *(([0-9a-fA-F]{2} {,2}){,16}):
-- an offset column if the line starts with two hex digits or more, then
-- up to 16 pairs of hex digits, each followed by at most two spaces.
local function line_hex(line)
  local pos = 1
  local function run_from(p)
    local q = p
    while is_hex(line:sub(q, q)) do q = q + 1 end
    return q
  end
  local start = line:sub(1, 2) == "0x" and 3 or 1
  local stop = run_from(start)
  if stop - start < 2 and start == 3 then start, stop = 1, run_from(1) end
  if stop - start >= 2 then
    pos = stop
    for _ = 1, 3 do
      if line:sub(pos, pos):find("^[ :\t]$") then pos = pos + 1 else break end
    end
  end
  while line:sub(pos, pos) == " " do pos = pos + 1 end
  local digits = {}
  for _ = 1, 16 do
    local pair = line:sub(pos, pos + 1)
    if not pair:find("^%x%x$") then break end
    digits[#digits + 1] = pair
    pos = pos + 2
    for _ = 1, 2 do
      if line:sub(pos, pos) == " " then pos = pos + 1 else break end
    end
  end
  return table.concat(digits)
end

-- import_hexcap's reading, for a caller named fname
local function read_hexcap(fname, text)
  if type(text) ~= "string" then
    error(("bad argument #1 to '%s' (string expected, got %s)"):format(fname, type(text)), 3)
  end
  local hex = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    line = line:match("^%s*(.-)%s*$")
    if line == "" then break end
    hex[#hex + 1] = line_hex(line)
  end
  return (table.concat(hex):gsub("%x%x", function(d) return string.char(tonumber(d, 16)) end))
end
M.read_hexcap = read_hexcap

--- import_hexcap(text) -> bytes: a hex dump as hexdump(), tcpdump -xx or
--- Wireshark's "Copy as Hex Dump" write it (offsets and text columns
--- skipped), up to the first empty line, as Scapy's import_hexcap
function M.import_hexcap(text) return read_hexcap("import_hexcap", text) end

return M
