-- stackforge.dfilter: Wireshark's display-filter language (docs/filters.md).
--   local f = DisplayFilter("tcp.port == 443 and ip.src == 10.0.0.0/8")
--   f(p) -> boolean; p:matches("dns"); PcapReader(path, {filter = "..."})
-- The text is parsed once (an LPeg grammar), its names resolved against the
-- protocols' descriptors (Wireshark's names declared in each protocol's
-- file, and sflua's Constructor.field names), and compiled to a program the
-- C engine (core/filter) runs over a packet's layer index: no Lua call per
-- packet.  Filters naming flow.* fields run in Lua over conversations.
local core = require("stackforge.core")
local layers = require("stackforge.layers")

local M = {}

local lpeg  -- loaded with the first filter: sflua starts without it

-- ---- names ---------------------------------------------------------------------------

-- frame.* belong to the engine: name -> {which, type}
local FRAME = {
  ["frame.number"] = {0, "int"}, ["frame.len"] = {1, "int"},
  ["frame.cap_len"] = {2, "int"}, ["frame.time_epoch"] = {3, "float"},
  ["frame.protocols"] = {4, "string"},
}
local FRAME_BYTES = 5

local TYPES = {uint = "int", flags = "int", mac = "mac", ip4 = "ip4", ip6 = "ip6", bytes = "bytes"}

local index, index_count, index_last  -- built from layers.protos, rebuilt as it grows

-- a field's index by name ("O#2": the second field named O, exactly)
local function field_number(info, name)
  local base, nth = name:match("^(.-)#(%d+)$")
  nth = tonumber(nth)
  for i, f in ipairs(info.fields) do
    if f.name == (base or name) then
      if not nth then return i - 1, f end
      nth = nth - 1
      if nth == 0 then return i - 1, f, true end
    end
  end
  local real = info.aliases and info.aliases[name]
  if real then return field_number(info, real) end
end

local function add_field(idx, name, alt, ty)
  local e = idx.fields[name]
  if not e then
    e = {alts = {}, ty = ty, name = name}
    idx.fields[name] = e
    idx.names[#idx.names + 1] = name
  elseif e.ty ~= ty then
    e.ty = "mixed"
  end
  e.alts[#e.alts + 1] = alt
end

local function add_proto(idx, name, id)
  local e = idx.protos[name]
  if not e then
    e = {}
    idx.protos[name] = e
    idx.names[#idx.names + 1] = name
  end
  e[#e + 1] = id
end

-- one protocol's names: Wireshark's (ws, ws_fields), then sflua's
-- (Constructor, Constructor.field and its aliases)
local function index_proto(idx, info, extra)
  local id = info.id
  local ws = info.ws or (extra and extra.ws)
  if ws then add_proto(idx, ws, id) end
  local wsf = {}
  for _, w in ipairs(info.ws_fields or {}) do wsf[#wsf + 1] = w end
  for _, w in ipairs(extra and extra.ws_fields or {}) do wsf[#wsf + 1] = w end
  for _, w in ipairs(wsf) do
    local fi, f, exact = field_number(info, w.field)
    local f2 = w.field2 and field_number(info, w.field2) or 0xffff
    local ty = w.mask and "int" or TYPES[f.type]
    add_field(idx, w.name, {proto = id, field = fi, field2 = f2, mask = w.mask or 0,
                            mul = w.mul or 1, hex = w.hex or 0, exact = exact and 1 or 0}, ty)
  end
  add_proto(idx, info.name, id)
  local function own(name, real)
    local fi, f = field_number(info, real)
    add_field(idx, info.name .. "." .. name, {proto = id, field = fi, field2 = 0xffff,
                                              mask = 0, mul = 1, hex = 0, exact = 0}, TYPES[f.type])
  end
  local seen = {}
  for _, f in ipairs(info.fields) do
    if not seen[f.name] then own(f.name, f.name) end
    seen[f.name] = true
  end
  for alias, real in pairs(info.aliases or {}) do
    if not seen[alias] then own(alias, real) end
  end
end

local function names()
  local protos = layers.protos
  if index and index_count == #protos and index_last == protos[#protos] then return index end
  local idx = {fields = {}, protos = {}, names = {}}
  for name in pairs(FRAME) do idx.names[#idx.names + 1] = name end
  idx.names[#idx.names + 1] = "frame"
  for _, info in ipairs(protos) do index_proto(idx, info, layers.ws_extra and layers.ws_extra[info.id]) end
  table.sort(idx.names)
  index, index_count, index_last = idx, #protos, protos[#protos]
  return idx
end

-- ---- errors ----------------------------------------------------------------------------

local FilterError = {}  -- errors raised while compiling carry this metatable

local function ferror(pos, fmt, ...)
  error(setmetatable({pos = pos, msg = fmt:format(...)}, FilterError), 0)
end

local function distance(a, b)
  if math.abs(#a - #b) > 3 then return 99 end
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = {[0] = i}
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

-- the known names nearest to a misspelt one
local function nearest(name)
  local scored = {}
  for _, n in ipairs(names().names) do
    local d = distance(name, n)
    if d <= math.max(2, #name // 4) then scored[#scored + 1] = {n, d} end
  end
  table.sort(scored, function(x, y) return x[2] < y[2] or (x[2] == y[2] and x[1] < y[1]) end)
  local out = {}
  for i = 1, math.min(4, #scored) do out[i] = scored[i][1] end
  return out
end

local function unknown(pos, name)
  local near = nearest(name)
  if #near > 0 then
    ferror(pos, "unknown field or protocol '%s' (did you mean %s?)", name, table.concat(near, ", "))
  end
  ferror(pos, "unknown field or protocol '%s'", name)
end

-- ---- grammar -------------------------------------------------------------------------------

local grammar
local farthest, expected  -- where parsing got to, and what it wanted there

local function build_grammar()
  lpeg = lpeg or require("lpeg")
  local P, S, R, C, Cp, Ct, Cc, Cmt, V = lpeg.P, lpeg.S, lpeg.R, lpeg.C, lpeg.Cp, lpeg.Ct,
    lpeg.Cc, lpeg.Cmt, lpeg.V
  local sp = S(" \t\r\n") ^ 0
  -- tok(p, what): p after spaces; a failure here is remembered as "expected what"
  local function want(what)
    return Cmt(Cp(), function(_, i)
      if i > farthest then farthest, expected = i, {} end
      if i == farthest then expected[what] = true end
      return true
    end)
  end
  local function tok(p, what) return sp * want(what) * p end
  local alnum = R("az", "AZ", "09") + S("_")
  local function kw(word) return tok(P(word) * -alnum, "'" .. word .. "'") end
  local function sym(s) return tok(P(s), "'" .. s .. "'") end
  local wordchar = alnum + S(".:-/")
  local word = Cp() * C((wordchar - P("..")) ^ 1)
  local escape = P("\\") * C(1)
  local qstring = P('"') * Ct((escape / function(c) return {"esc", c} end + C((1 - S('"\\')) ^ 1)) ^ 0) * P('"')
  local rstring = P('r"') * C((1 - P('"')) ^ 0) * P('"')
  local keywords = {["and"] = 1, ["or"] = 1, ["not"] = 1, ["xor"] = 1, ["in"] = 1,
    ["contains"] = 1, ["matches"] = 1, eq = 1, ne = 1, gt = 1, ge = 1, lt = 1, le = 1,
    any_eq = 1, all_eq = 1, any_ne = 1, all_ne = 1, any = 1, all = 1}
  local value_word = Cmt(word, function(_, i, pos, w)
    if keywords[w] then return false end
    return i, {tag = "word", pos = pos, text = w}
  end)
  local str = Cp() * rstring / function(pos, s) return {tag = "str", pos = pos, text = s} end
    + Cp() * qstring / function(pos, parts) return {tag = "str", pos = pos, parts = parts} end
  local int = C(P("-") ^ -1 * R("09") ^ 1) / tonumber
  local range = int * sp * P(":") * sp * int / function(a, b) return {a, b} end
    + int * sp * P("-") * sp * int / function(a, b) return {a, b - a + 1} end
    + int * sp * P(":") / function(a) return {a, -1} end
    + P(":") * sp * int / function(b) return {0, b} end
    + int / function(a) return {a, 1} end
  local slice = sym("[") * Ct(sp * range * (sp * P(",") * sp * range) ^ 0) * sym("]")
  local relops = {["=="] = "eq", ["!="] = "all_ne", ["==="] = "all_eq", ["!=="] = "any_ne",
    ["~="] = "any_ne", [">"] = "gt", [">="] = "ge", ["<"] = "lt", ["<="] = "le",
    eq = "eq", ne = "all_ne", gt = "gt", ge = "ge", lt = "lt", le = "le", any_eq = "eq",
    all_eq = "all_eq", any_ne = "any_ne", all_ne = "all_ne"}
  local relop = sp * want("a comparison") * (C(P("===") + "!==" + "==" + "!=" + "~=" + ">=" + "<=" + ">" + "<")
    + C(P("any_eq") + "all_eq" + "any_ne" + "all_ne" + "eq" + "ne" + "gt" + "ge" + "lt" + "le") * -alnum)
    / relops
  local G = P({
    "top",
    top = V("expr") * sp * want("the end, 'and' or 'or'") * -1,
    expr = Ct(V("xorx") * ((kw("or") + sym("||")) * V("xorx")) ^ 0) / function(t)
      local e = t[1]
      for i = 2, #t do e = {tag = "or", e, t[i]} end
      return e
    end,
    xorx = Ct(V("andx") * ((kw("xor") + sym("^^")) * V("andx")) ^ 0) / function(t)
      local e = t[1]
      for i = 2, #t do e = {tag = "xor", e, t[i]} end
      return e
    end,
    andx = Ct(V("notx") * ((kw("and") + sym("&&")) * V("notx")) ^ 0) / function(t)
      local e = t[1]
      for i = 2, #t do e = {tag = "and", e, t[i]} end
      return e
    end,
    notx = (kw("not") + tok(P("!") * -P("="), "'!'")) * V("notx") / function(e) return {tag = "not", e} end
      + V("rel"),
    rel = sym("(") * V("expr") * sym(")")
      + Cp() * Ct((kw("any") / function() return "any" end + kw("all") / function() return "all" end) ^ -1)
        * V("value") * V("tail") ^ -1
        / function(pos, quant, lhs, tail)
          if not tail then return {tag = "test", pos = pos, v = lhs, quant = quant[1]} end
          tail.lhs = lhs
          tail.quant = quant[1]
          tail.pos = tail.pos or pos
          return tail
        end,
    tail = Cp() * relop * V("value") / function(pos, op, rhs) return {tag = "cmp", op = op, rhs = rhs, pos = pos} end
      + Cp() * kw("contains") * V("value") / function(pos, rhs) return {tag = "contains", rhs = rhs, pos = pos} end
      + Cp() * (kw("matches") + sym("~")) * tok(str, "a string") / function(pos, rhs)
          return {tag = "matches", rhs = rhs, pos = pos}
        end
      + Cp() * Ct((kw("not") * Cc(true)) ^ -1) * kw("in") * V("set") / function(pos, neg, items)
          return {tag = "in", neg = #neg > 0, items = items, pos = pos}
        end,
    set = sym("{") * Ct(V("item") * ((sym(",")) ^ -1 * V("item")) ^ 0) * sym("}"),
    item = V("value") * (sym("..") * V("value")) ^ -1 / function(a, b)
      return b and {range = true, a, b} or {a}
    end,
    value = Ct(V("term") * (tok(P("&") * -P("&"), "'&'") * V("term")) ^ 0) / function(t)
      local e = t[1]
      for i = 2, #t do e = {tag = "band", pos = t[i].pos, e, t[i]} end
      return e
    end,
    term = Cp() * Ct(V("primary") * (slice / function(r) return {slice = r} end) ^ 0) / function(pos, t)
      local e = t[1]
      for i = 2, #t do e = {tag = "slice", pos = pos, v = e, ranges = t[i].slice} end
      return e
    end,
    primary = sp * Cp() * C(P("len") + "count" + "lower" + "upper") * sp * P("(") * V("value") * sym(")")
        / function(pos, fn, arg) return {tag = "call", pos = pos, fn = fn, arg = arg} end
      + tok(str, "a field or a value") + tok(value_word, "a field or a value"),
  })
  return G
end

local function parse(text)
  grammar = grammar or build_grammar()
  farthest, expected = 0, {}
  local ast = grammar:match(text)
  if ast then return ast end
  local list = {}
  if expected["a field or a value"] then  -- where a test may start: say so plainly
    for _, minor in ipairs{"'!'", "'all'", "'any'"} do expected[minor] = nil end
  end
  local words = 0
  for what in pairs(expected) do
    if what:sub(1, 1) ~= "'" then words = words + 1 end
  end
  if words > 0 and next(expected, next(expected)) and #text >= 0 then
    local n = 0
    for _ in pairs(expected) do n = n + 1 end
    if n > 5 then  -- after a value: name the closers, the rest is "an operator"
      local keep = {}
      for what in pairs(expected) do
        if what:sub(1, 1) ~= "'" or what == "')'" or what == "'}'" or what == "']'" then keep[what] = true end
      end
      keep["an operator"] = true
      expected = keep
    end
  end
  for what in pairs(expected) do list[#list + 1] = what end
  table.sort(list, function(a, b)  -- words first, then symbols
    local qa, qb = a:sub(1, 1) == "'", b:sub(1, 1) == "'"
    if qa ~= qb then return qb end
    return a < b
  end)
  local at = math.max(farthest, 1)
  local near = text:sub(at, at + 9)
  ferror(at, "expected %s%s", table.concat(list, " or "),
         near == "" and " at the end" or (", found '%s'"):format(near))
end

-- ---- literals ------------------------------------------------------------------------------

local ESCAPES = {n = "\n", t = "\t", r = "\r", a = "\a", b = "\b", f = "\f", v = "\v",
                 ["\\"] = "\\", ['"'] = '"', ["'"] = "'"}

-- a quoted string's bytes (\xhh, \ooo and the C escapes)
local function string_bytes(node)
  if node.text then return node.text end
  local out, pending = {}, nil
  for _, part in ipairs(node.parts) do
    out[#out + 1] = part
  end
  local s = {}
  local i = 1
  while i <= #out do
    local part = out[i]
    if type(part) == "table" then
      local c = part[2]
      if ESCAPES[c] then
        s[#s + 1] = ESCAPES[c]
      elseif c == "x" then
        local nxt = type(out[i + 1]) == "string" and out[i + 1] or ""
        local hex = nxt:match("^%x%x?")
        if not hex then ferror(node.pos, "bad \\x escape in a string") end
        s[#s + 1] = string.char(tonumber(hex, 16))
        out[i + 1] = nxt:sub(#hex + 1)
      elseif c:match("[0-7]") then
        local nxt = type(out[i + 1]) == "string" and out[i + 1] or ""
        local oct = c .. (nxt:match("^[0-7][0-7]?") or "")
        if tonumber(oct, 8) > 255 then ferror(node.pos, "bad octal escape in a string") end
        s[#s + 1] = string.char(tonumber(oct, 8))
        out[i + 1] = nxt:sub(#oct)
      else
        ferror(node.pos, "unknown escape \\%s in a string", c)
      end
    else
      s[#s + 1] = part
    end
    i = i + 1
  end
  pending = table.concat(s)
  return pending
end

local function parse_int(w)
  local neg, body = w:match("^(%-?)(.+)$")
  local v
  if body:match("^0[xX]%x+$") then v = tonumber(body:sub(3), 16)
  elseif body:match("^0[bB][01]+$") then v = tonumber(body:sub(3), 2)
  elseif body:match("^0[0-7]+$") then v = tonumber(body, 8)
  elseif body:match("^%d+$") then v = math.tointeger(tonumber(body))
  end
  if v and neg == "-" then v = -v end
  return v
end

local function parse_number(w)
  local i = parse_int(w)
  if i then return i end
  if w:match("^%-?%d+%.?%d*[eE]?[-+]?%d*$") or w:match("^%-?%.%d+$") then
    local f = tonumber(w)
    if f and f == f then return f end
  end
end

local BOOLS = {True = 1, False = 0}  -- tshark 4.0 takes these spellings only

-- "00:11:22", "00-11-22", "00.11.22", "001122" -> bytes
local function parse_bytes(w)
  local hex
  if w:match("^%x%x$") then hex = w
  elseif w:match("^%x%x%x%x%.%x%x%x%x%.%x%x%x%x$") then hex = w:gsub("%.", "")  -- Cisco's
  elseif w:match("^%x%x[:%-.]") then
    local sep = w:sub(3, 3)
    local parts = {}
    for part in (w .. sep):gmatch("(.-)%" .. sep) do parts[#parts + 1] = part end
    for _, part in ipairs(parts) do
      if not part:match("^%x%x$") then return nil end
    end
    hex = table.concat(parts)
  elseif w:match("^%x+$") and #w % 2 == 0 then hex = w
  end
  if not hex then return nil end
  return (hex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

local function parse_mac(w)
  local b = parse_bytes(w)
  if b and #b == 6 then return b end
end

-- address with an optional /prefix: bytes, prefix bits
local function parse_addr(w, ty)
  local a, bits = w:match("^(.-)/(%d+)$")
  a = a or w
  local raw = core.pton(a)
  local n = ty == "ip4" and 4 or 16
  if not raw or #raw ~= n then return nil end
  local prefix = bits and tonumber(bits) or n * 8
  if prefix > n * 8 then return nil end
  return raw, prefix
end

-- ---- typing and resolution ------------------------------------------------------------

local BYTESLIKE = {mac = true, ip4 = true, ip6 = true, bytes = true, string = true, proto = true}

-- a value node resolved: {k = "field"|"proto"|"frame"|"const"|..., ty = ...}
local resolve_value

local function resolve_word(node)
  local idx = names()
  local w = node.text
  if FRAME[w] then return {k = "frame", which = FRAME[w][1], ty = FRAME[w][2], name = w} end
  if w == "frame" then return {k = "frame", which = FRAME_BYTES, ty = "proto", name = w} end
  local f = idx.fields[w]
  if f then return {k = "field", alts = f.alts, ty = f.ty == "mixed" and "bytes" or f.ty, name = w} end
  local p = idx.protos[w]
  if p then return {k = "proto", ids = p, ty = "proto", name = w} end
  return nil
end

-- a literal word or string typed by the other side's type
local function literal(node, ty)
  if node.tag == "str" then
    local s = string_bytes(node)
    if ty == "int" or ty == "float" then
      ferror(node.pos, "a number was expected, not the string \"%s\"", s)
    elseif ty == "ip4" or ty == "ip6" or ty == "mac" then
      ferror(node.pos, "an address was expected, not the string \"%s\" (write it unquoted)", s)
    end
    return {k = "bytes", s = s, ty = "string"}
  end
  local w = node.text
  if ty == "int" or ty == "float" then
    local v = parse_number(w) or BOOLS[w]
    if not v then ferror(node.pos, "'%s' is not a number", w) end
    if math.type(v) == "integer" then return {k = "int", v = v, ty = "int"} end
    return {k = "float", v = v, ty = "float"}
  elseif ty == "mac" then
    local b = parse_mac(w)
    if not b then ferror(node.pos, "'%s' is not a MAC address", w) end
    return {k = "bytes", s = b, ty = "mac"}
  elseif ty == "ip4" or ty == "ip6" then
    local raw, prefix = parse_addr(w, ty)
    if not raw then
      ferror(node.pos, "'%s' is not an %s address%s", w, ty == "ip4" and "IPv4" or "IPv6",
             w:find("/") and " with a prefix length" or "")
    end
    return {k = "addr", s = raw, prefix = prefix, ty = ty}
  elseif ty == "string" then
    return {k = "bytes", s = w, ty = "string"}
  else  -- bytes, a protocol's bytes, a slice
    local b = parse_bytes(w)
    if not b and (w:match("^0[xX]%x%x?$") or w:match("^%d%d?%d?$")) then
      local v = parse_int(w)  -- one byte as a number: frame[0] == 0xff
      if v and v <= 255 then b = string.char(v) end
    end
    if not b then ferror(node.pos, "'%s' is not a byte string (like 00:1a:2b)", w) end
    return {k = "bytes", s = b, ty = "bytes"}
  end
end

local function looks_like_name(w)
  return w:match("^[%a_][%w_]*%.[%a_][%w_.%-]*$") or w:match("^%a[%w_]*$")
end

-- a word that is no field: a literal if the other side gives it a type
local function word_or_literal(node, other_ty)
  if node.tag == "word" then
    local r = resolve_word(node)
    if r then return r end
    if not other_ty then unknown(node.pos, node.text) end
    local ok, lit = pcall(literal, node, other_ty)
    if ok then return lit end
    if looks_like_name(node.text) and not parse_bytes(node.text) then unknown(node.pos, node.text) end
    error(lit, 0)
  end
  if node.tag == "str" then return literal(node, other_ty or "string") end
  return resolve_value(node)
end

local FUNCS = {len = 0, count = 1, lower = 2, upper = 3}

function resolve_value(node)
  if node.tag == "word" then
    local r = resolve_word(node)
    if not r then unknown(node.pos, node.text) end
    return r
  elseif node.tag == "str" then
    return literal(node, "string")
  elseif node.tag == "slice" then
    local v = resolve_value(node.v)
    if not BYTESLIKE[v.ty] then
      ferror(node.pos, "%s is a number: only bytes, addresses, strings and protocols can be sliced",
             v.name or "this value")
    end
    return {k = "slice", v = v, ranges = node.ranges, ty = "bytes"}
  elseif node.tag == "call" then
    local arg = resolve_value(node.arg)
    if node.fn == "count" then
      if arg.k ~= "field" and arg.k ~= "proto" then
        ferror(node.pos, "count() takes a field or a protocol")
      end
      return {k = "func", fn = FUNCS.count, v = arg, ty = "int"}
    elseif node.fn == "len" then
      if not BYTESLIKE[arg.ty] and arg.k ~= "field" then
        ferror(node.pos, "len() takes a field, bytes, an address, a string or a protocol")
      end
      return {k = "func", fn = FUNCS.len, v = arg, ty = "int"}
    end
    if arg.ty ~= "string" and arg.ty ~= "bytes" then
      ferror(node.pos, "%s() takes a string", node.fn)
    end
    return {k = "func", fn = FUNCS[node.fn], v = arg, ty = "string"}
  elseif node.tag == "band" then
    local a = resolve_value(node[1])
    if a.ty ~= "int" then ferror(node.pos, "& needs a number on its left") end
    local b = word_or_literal(node[2], "int")
    if b.ty ~= "int" then ferror(node.pos, "& needs a number on its right") end
    return {k = "band", a = a, b = b, ty = "int"}
  end
  ferror(node.pos or 1, "a value was expected")
end

-- compatible types for a comparison: numbers with numbers, bytes with bytes
local function comparable(a, b)
  local num = {int = true, float = true}
  if num[a] or num[b] then return num[a] and num[b] end
  return true
end

-- both sides of a comparison: the side that is a field types the other
local function resolve_pair(lhs, rhs, pos)
  local l, r
  if lhs.tag == "word" and not resolve_word(lhs) then
    if rhs.tag ~= "word" or not resolve_word(rhs) then unknown(lhs.pos, lhs.text) end
    r = resolve_value(rhs)
    l = word_or_literal(lhs, r.ty)
  else
    l = resolve_value(lhs)
    r = word_or_literal(rhs, l.ty)
  end
  if not comparable(l.ty, r.ty) then
    ferror(pos, "%s and %s cannot be compared", l.name or l.ty, r.name or r.ty)
  end
  return l, r
end

local function uses_flow(node, acc)
  if type(node) ~= "table" then return acc end
  if node.tag == "word" and node.text:match("^flow%.") then acc.flow = true end
  for k, v in pairs(node) do
    if k ~= "pos" and type(v) == "table" then uses_flow(v, acc) end
  end
  return acc
end

local resolve_test

local function resolve_cmp(node)
  local l, r = resolve_pair(node.lhs, node.rhs, node.pos)
  local op, all = node.op, false
  if op == "all_ne" then op, all = "ne", true
  elseif op == "all_eq" then op, all = "eq", true
  elseif op == "any_ne" then op = "ne"
  end
  if node.quant == "all" then all = true end
  return {k = "cmp", op = op, all = all, l = l, r = r}
end

function resolve_test(node)
  local t = node.tag
  if t == "or" or t == "and" or t == "xor" then
    return {k = t, resolve_test(node[1]), resolve_test(node[2])}
  elseif t == "not" then
    return {k = "not", resolve_test(node[1])}
  elseif t == "test" then
    local v = resolve_value(node.v)
    return {k = v.k == "band" and "nonzero" or "exists", v = v}
  elseif t == "cmp" then
    return resolve_cmp(node)
  elseif t == "contains" then
    local l = resolve_value(node.lhs)
    if not BYTESLIKE[l.ty] then
      ferror(node.pos, "contains needs bytes or a string on its left; %s is a number", l.name or "it")
    end
    local r = word_or_literal(node.rhs, l.ty == "string" and "string" or "bytes")
    return {k = "contains", l = l, r = r}
  elseif t == "matches" then
    local l = resolve_value(node.lhs)
    if not BYTESLIKE[l.ty] then
      ferror(node.pos, "matches needs bytes or a string on its left; %s is a number", l.name or "it")
    end
    local re = string_bytes(node.rhs)
    -- the engine compiles the pattern (PCRE2): ask it now, to say where
    local ok, err = core.filter_load(string.pack("<BBBBBBBBs4", 83, 70, 68, 70, 1, 11, 34, 5, re))
    if not ok then ferror(node.rhs.pos, "%s", err) end
    return {k = "matches", l = l, re = re}
  elseif t == "in" then
    local l = resolve_value(node.lhs)
    local items = {}
    for i, it in ipairs(node.items) do
      local a = word_or_literal(it[1], l.ty)
      local b = it.range and word_or_literal(it[2], l.ty) or nil
      if not comparable(l.ty, a.ty) or (b and not comparable(l.ty, b.ty)) then
        ferror(node.pos, "set item %d cannot be compared with %s", i, l.name or l.ty)
      end
      items[i] = {range = it.range, a, b}
    end
    local r = {k = "in", l = l, items = items, all = node.quant == "all"}
    return node.neg and {k = "not", r} or r
  end
  ferror(node.pos or 1, "a test was expected")
end

-- ---- emission: the program core/filter runs (core/filter/filter.h) ------------

local OP = {TRUE = 1, FALSE = 2, NOT = 3, AND = 4, OR = 5, XOR = 6, EXISTS = 7, NONZERO = 8,
  CMP = 9, CONTAINS = 10, MATCHES = 11, IN = 12, FIELD = 32, PROTO = 33, FRAME = 34,
  INT = 35, FLOAT = 36, BYTES = 37, ADDR = 38, SLICE = 39, FUNC = 40, BITAND = 41, FIELDS = 64}
local CMPOP = {eq = 0, ne = 1, lt = 2, le = 3, gt = 4, ge = 5}

local pack = string.pack
local emit_value

function emit_value(v, out)
  local k = v.k
  if k == "field" then
    out[#out + 1] = pack("<BB", OP.FIELD, #v.alts)
    for _, a in ipairs(v.alts) do
      out[#out + 1] = pack("<I2I2I2I8I4BB", a.proto, a.field, a.field2, a.mask, a.mul, a.hex, a.exact)
    end
  elseif k == "proto" then
    out[#out + 1] = pack("<BB", OP.PROTO, #v.ids)
    for _, id in ipairs(v.ids) do out[#out + 1] = pack("<I2", id) end
  elseif k == "frame" then
    out[#out + 1] = pack("<BB", OP.FRAME, v.which)
  elseif k == "int" then
    out[#out + 1] = pack("<Bi8", OP.INT, v.v)
  elseif k == "float" then
    out[#out + 1] = pack("<Bd", OP.FLOAT, v.v)
  elseif k == "bytes" then
    out[#out + 1] = pack("<Bs4", OP.BYTES, v.s)
  elseif k == "addr" then
    out[#out + 1] = pack("<BBB", OP.ADDR, v.prefix, #v.s) .. v.s
  elseif k == "slice" then
    out[#out + 1] = pack("<B", OP.SLICE)
    emit_value(v.v, out)
    out[#out + 1] = pack("<B", #v.ranges)
    for _, r in ipairs(v.ranges) do out[#out + 1] = pack("<i4i4", r[1], r[2]) end
  elseif k == "func" then
    out[#out + 1] = pack("<BB", OP.FUNC, v.fn)
    emit_value(v.v, out)
  elseif k == "band" then
    out[#out + 1] = pack("<B", OP.BITAND)
    emit_value(v.a, out)
    emit_value(v.b, out)
  end
end

local function emit_test(t, out)
  local k = t.k
  if k == "and" or k == "or" or k == "xor" then
    out[#out + 1] = pack("<B", OP[k:upper()])
    emit_test(t[1], out)
    emit_test(t[2], out)
  elseif k == "not" then
    out[#out + 1] = pack("<B", OP.NOT)
    emit_test(t[1], out)
  elseif k == "exists" or k == "nonzero" then
    out[#out + 1] = pack("<B", OP[k:upper()])
    emit_value(t.v, out)
  elseif k == "cmp" then
    out[#out + 1] = pack("<BBB", OP.CMP, CMPOP[t.op], t.all and 1 or 0)
    emit_value(t.l, out)
    emit_value(t.r, out)
  elseif k == "contains" then
    out[#out + 1] = pack("<B", OP.CONTAINS)
    emit_value(t.l, out)
    emit_value(t.r, out)
  elseif k == "matches" then
    out[#out + 1] = pack("<B", OP.MATCHES)
    emit_value(t.l, out)
    out[#out + 1] = pack("<s4", t.re)
  elseif k == "in" then
    out[#out + 1] = pack("<B", OP.IN)
    emit_value(t.l, out)
    out[#out + 1] = pack("<I2", #t.items)
    for _, it in ipairs(t.items) do
      out[#out + 1] = pack("<B", it.range and 1 or 0)
      emit_value(it[1], out)
      if it.range then emit_value(it[2], out) end
    end
  end
end

local function program(tree)
  local out = {"SFDF\1"}
  emit_test(tree, out)
  return table.concat(out)
end

-- ---- flow filters: the same language over conversation tables, in Lua ----------------

local FLOW_NAMES = {bytes = "total_bytes", packets = "total_packets"}

local function flow_value(rec, name)
  local key = name:sub(6)
  local v = rec[FLOW_NAMES[key] or key]
  if v == nil then v = rec[key] end
  return v
end

local function flow_literal(node)
  if node.tag == "str" then return string_bytes(node) end
  if node.tag ~= "word" then ferror(node.pos or 1, "flow filters compare fields with values") end
  if node.text:match("^flow%.") then return nil end
  local n = parse_number(node.text)
  if n then return n end
  return node.text
end

-- a value of a flow record compared with a literal: numbers, strings, or
-- addresses with a prefix
local function flow_compare(v, lit)
  if type(v) == "number" and type(lit) == "number" then return v == lit and 0 or (v < lit and -1 or 1) end
  if type(v) ~= "string" or type(lit) ~= "string" then
    if type(v) == "number" and type(lit) == "string" then return nil end
    v, lit = tostring(v), tostring(lit)
  end
  local a, bits = lit:match("^(.-)/(%d+)$")
  local x, y = core.pton(v), core.pton(a or lit)
  if x and y and #x == #y then
    bits = tonumber(bits) or #x * 8
    local whole, rest = bits // 8, bits % 8
    if x:sub(1, whole) ~= y:sub(1, whole) then return x < y and -1 or 1 end
    if rest > 0 then
      local mask = (0xff00 >> rest) & 0xff
      if (x:byte(whole + 1) & mask) ~= (y:byte(whole + 1) & mask) then return x < y and -1 or 1 end
    end
    return 0
  end
  return v == lit and 0 or (v < lit and -1 or 1)
end

local HOLDS = {
  eq = function(c) return c == 0 end, ne = function(c) return c ~= 0 end,
  lt = function(c) return c < 0 end, le = function(c) return c <= 0 end,
  gt = function(c) return c > 0 end, ge = function(c) return c >= 0 end,
}

local compile_flow

local function flow_operand(node)
  if node.tag == "word" and node.text:match("^flow%.") then
    local name = node.text
    return function(rec) return flow_value(rec, name) end
  end
  local lit = flow_literal(node)
  return function() return lit end
end

function compile_flow(node)
  local t = node.tag
  if t == "or" then
    local a, b = compile_flow(node[1]), compile_flow(node[2])
    return function(r) return a(r) or b(r) end
  elseif t == "and" then
    local a, b = compile_flow(node[1]), compile_flow(node[2])
    return function(r) return a(r) and b(r) end
  elseif t == "xor" then
    local a, b = compile_flow(node[1]), compile_flow(node[2])
    return function(r) return a(r) ~= b(r) end
  elseif t == "not" then
    local a = compile_flow(node[1])
    return function(r) return not a(r) end
  elseif t == "test" then
    local v = flow_operand(node.v)
    return function(r) local x = v(r) return x ~= nil and x ~= false end
  elseif t == "cmp" then
    local l, rv = flow_operand(node.lhs), flow_operand(node.rhs)
    local op = node.op
    local neg = op == "all_ne" or op == "any_ne"
    local holds = HOLDS[(op == "all_eq") and "eq" or neg and "eq" or op]
    return function(r)
      local a, b = l(r), rv(r)
      if a == nil or b == nil then return false end
      local c = flow_compare(a, b)
      if c == nil then return false end
      if neg then return not holds(c) end
      return holds(c)
    end
  elseif t == "in" then
    local l = flow_operand(node.lhs)
    local items = {}
    for i, it in ipairs(node.items) do
      items[i] = {flow_operand(it[1]), it.range and flow_operand(it[2])}
    end
    local f = function(r)
      local a = l(r)
      if a == nil then return false end
      for _, it in ipairs(items) do
        local lo = flow_compare(a, it[1](r))
        if it[2] then
          local hi = flow_compare(a, it[2](r))
          if lo and hi and lo >= 0 and hi <= 0 then return true end
        elseif lo == 0 then
          return true
        end
      end
      return false
    end
    if node.neg then return function(r) return not f(r) end end
    return f
  elseif t == "contains" or t == "matches" then
    local l, rv = flow_operand(node.lhs), t == "contains" and flow_operand(node.rhs)
    local pat = t == "matches" and string_bytes(node.rhs):lower()
    return function(r)
      local a = l(r)
      if type(a) ~= "string" then return false end
      if rv then return a:find(tostring(rv(r)), 1, true) ~= nil end
      return a:lower():find(pat) ~= nil  -- Lua patterns: flows are Lua tables
    end
  end
  ferror(node.pos or 1, "this test is not available on flows")
end

-- ---- public ---------------------------------------------------------------------------------

local DisplayFilter = {}
DisplayFilter.__index = DisplayFilter
DisplayFilter.__name = "DisplayFilter"

function DisplayFilter.__tostring(f) return ("DisplayFilter(%q)"):format(f.text) end

-- f(x): a packet through the engine, a flow (a table) through Lua
function DisplayFilter.__call(f, x)
  if f.flow then
    if type(x) ~= "table" then error("this DisplayFilter tests flows (flow.* fields): got " .. type(x), 2) end
    return f.flow(x)
  end
  return f.prog:run(x)
end

-- text -> DisplayFilter, or nil, message "position N: ..." (no raise)
function M.compile(text)
  if type(text) ~= "string" then return nil, "a filter must be a string, got " .. type(text) end
  local ok, res = pcall(function()
    local ast = parse(text)
    if uses_flow(ast, {}).flow then
      return setmetatable({text = text, flow = compile_flow(ast)}, DisplayFilter)
    end
    local bytes = program(resolve_test(ast))
    local prog, err = core.filter_load(bytes)
    if not prog then error("the compiled program was refused: " .. err) end
    -- program: the bytes, for a thread that loads its own (filter.h)
    return setmetatable({text = text, prog = prog, program = bytes}, DisplayFilter)
  end)
  if ok then return res end
  if getmetatable(res) == FilterError then
    return nil, ("filter %q, position %d: %s"):format(text, res.pos, res.msg), res.pos
  end
  error(res, 0)
end

local function compile_or_raise(text, level, what)
  if getmetatable(text) == DisplayFilter then return text end
  local f, err = M.compile(text)
  if not f then error((what and what .. ": " or "") .. err, level + 1) end
  return f
end

--- DisplayFilter(expr) -> callable filter; a bad filter raises at the caller's line
function M.DisplayFilter(text)
  local f = compile_or_raise(text, 2)  -- not a tail call: the level counts this frame
  return f
end

--- The program of a filter for the C side (readers), or raises at `level`
--- naming the function ("PcapReader: filter ...").  Also accepts a DisplayFilter.
function M.program_of(text, level, what)
  local f = compile_or_raise(text, level + 1, what)
  if not f.prog then error(("%s: a flow filter (flow.*) cannot select packets"):format(what), level + 1) end
  return f.prog
end

-- n programs of one packet filter, for n threads (a program runs on one
-- thread at a time).
function M.programs_of(text, n, level, what)
  local f = compile_or_raise(text, level + 1, what)
  if not f.prog then error(("%s: a flow filter (flow.*) cannot select packets"):format(what), level + 1) end
  local progs = {f.prog}
  for i = 2, n do progs[i] = assert(core.filter_load(f.program)) end
  return progs
end

-- p:matches(expr): compiled once per text (a small cache)
local cache, cached = {}, 0
function M.matches(p, text)
  local f = cache[text]
  if not f then
    f = compile_or_raise(text, 2, "matches")
    if cached >= 256 then cache, cached = {}, 0 end
    cache[text] = f
    cached = cached + 1
  end
  return f(p)
end

--- A fields program: tab-separated values of the named fields, as tshark's
--- -T fields prints them (fp:format(p) -> line).
function M.fields(list)
  local out = {"SFDF\1", pack("<BI2", OP.FIELDS, #list)}
  for i, name in ipairs(list) do
    local ok, v = pcall(resolve_value, {tag = "word", text = name, pos = 1})
    if not ok then
      if getmetatable(v) == FilterError then error(("field %d: %s"):format(i, v.msg), 2) end
      error(v, 0)
    end
    emit_value(v, out)
  end
  local prog, err = core.filter_load(table.concat(out))
  if not prog then error(err, 2) end
  return prog
end

--- Every name a filter can use (Wireshark's, frame.*, sflua's), sorted.
function M.field_names()
  local out = {}
  for i, n in ipairs(names().names) do out[i] = n end
  return out
end

M.DisplayFilterMeta = DisplayFilter
return M
