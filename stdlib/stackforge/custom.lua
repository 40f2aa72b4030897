-- custom.lua: protocols written in Lua.  CustomLayer(name, fields, hooks)
-- checks the definition, hands the engine one plain table per field
-- (core.define), and returns a constructor like TCP's.  Field types carry
-- Scapy's names, positional arguments and semantics; Scapy's keyword
-- options go in a trailing table.
local core = require("stackforge.core")
local layers = require("stackforge.layers")

local M = {}

local FIELD = {}  -- metatable marking field specs

local function field(t)
  return setmetatable(t, FIELD)
end

local function is_field(v)
  return getmetatable(v) == FIELD
end

-- ---- fixed-size integers ----------------------------------------------------

local function int_field(bits, opts)
  return function(name, default, extra)
    local t = {name = name, type = "uint", bits = bits, default = default or 0}
    for k, v in pairs(opts or {}) do t[k] = v end
    if extra and t.enum_arg then t.enums = extra end
    t.enum_arg = nil
    return field(t)
  end
end

M.ByteField = int_field(8)
M.XByteField = int_field(8, {hex = true})
M.SignedByteField = int_field(8, {signed = true})
M.ShortField = int_field(16)
M.XShortField = int_field(16, {hex = true})
M.LEShortField = int_field(16, {le = true})
M.IntField = int_field(32)
M.XIntField = int_field(32, {hex = true})
M.LEIntField = int_field(32, {le = true})
M.SignedIntField = int_field(32, {signed = true})
M.LongField = int_field(64)
M.XLongField = int_field(64, {hex = true})
M.ByteEnumField = int_field(8, {enum_arg = true})
M.ShortEnumField = int_field(16, {enum_arg = true})
M.IntEnumField = int_field(32, {enum_arg = true})

function M.BitField(name, default, bits)
  return field({name = name, type = "uint", bits = bits, default = default or 0})
end

-- names: a list, least significant bit first, or a string of letters
function M.FlagsField(name, default, bits, names)
  local list = {}
  if type(names) == "string" then
    for c in names:gmatch(".") do list[#list + 1] = c end
  else
    list = names or {}
  end
  return field({name = name, type = "flags", bits = bits, default = default or 0,
    enums = list})
end

-- ---- addresses -----------------------------------------------------------------

function M.IPField(name, default)
  return field({name = name, type = "ip4", bits = 32, defstr = default or "0.0.0.0"})
end

function M.IP6Field(name, default)
  return field({name = name, type = "ip6", bits = 128, defstr = default or "::"})
end

function M.MACField(name, default)
  return field({name = name, type = "mac", bits = 48, defstr = default or "00:00:00:00:00:00"})
end

-- ---- strings ---------------------------------------------------------------------

function M.StrField(name, default)
  return field({name = name, type = "bytes", kind = "rest", defbytes = default or ""})
end

function M.StrFixedLenField(name, default, length)
  default = default or ""
  return field({name = name, type = "bytes", kind = "fixlen", bytes = length,
    defbytes = (default .. ("\0"):rep(length)):sub(1, length)})
end

function M.StrLenField(name, default, opts)
  opts = opts or {}
  return field({name = name, type = "bytes", kind = "lenfn", defbytes = default or "",
    length_from = opts.length_from, need_length_from = true})
end

function M.StrNullField(name, default)
  return field({name = name, type = "bytes", kind = "null", defbytes = default or ""})
end

-- ---- lengths and counts ------------------------------------------------------------

local fmt_bits = {B = 8, H = 16, I = 32, Q = 64}

-- FieldLenField(name, default, {length_of=, count_of=, fmt="H", adjust=fn})
function M.FieldLenField(name, default, opts)
  opts = opts or {}
  local fmt = opts.fmt or "H"
  local le = fmt:sub(1, 1) == "<"
  local bits = fmt_bits[fmt:sub(-1)]
  return field({name = name, type = "uint", bits = bits, default = default or 0,
    le = le, length_of = opts.length_of, count_of = opts.count_of,
    adjust = opts.adjust, bad_fmt = not bits and fmt or nil})
end

-- ---- lists ---------------------------------------------------------------------------

local item_bytes = {uint = true, ip4 = 4, ip6 = 16, mac = 6}

-- FieldListField(name, default, field, {count_from=, length_from=})
function M.FieldListField(name, default, item, opts)
  opts = opts or {}
  return field({name = name, type = "bytes", kind = "lenfn", list_item = item,
    default_list = default or {}, length_from = opts.length_from,
    count_from = opts.count_from})
end

-- PacketListField(name, default, cls, {count_from=, length_from=})
function M.PacketListField(name, default, cls, opts)
  opts = opts or {}
  return field({name = name, type = "bytes", kind = "lenfn", packet_cls = cls,
    default_list = default or {}, length_from = opts.length_from,
    count_from = opts.count_from})
end

-- ---- wrappers ------------------------------------------------------------------------

function M.ConditionalField(f, cond)
  local t = {}
  for k, v in pairs(f) do t[k] = v end
  t.cond = cond
  t.need_cond = true
  return field(t)
end

function M.PadField(f, align)
  local t = {}
  for k, v in pairs(f) do t[k] = v end
  t.align = align
  return field(t)
end

-- ---- codecs of list fields -------------------------------------------------------------

local function item_codec(item)
  if item.type == "uint" then
    local n = item.bits // 8
    local fmt = (item.le and "<" or ">") .. (item.signed and "i" or "I") .. n
    return n, function(v) return string.pack(fmt, v) end,
      function(d, i) return (string.unpack(fmt, d, i)) end
  end
  local n = item_bytes[item.type]
  if item.type == "mac" then
    return n, function(v)
      return (v:gsub("[:%-]", ""):gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
    end, function(d, i)
      return (d:sub(i, i + 5):gsub(".", function(c) return ("%02x:"):format(c:byte()) end):sub(1, -2))
    end
  end
  return n, function(v) return core.pton(v) end,
    function(d, i) return core.ntop(d:sub(i, i + n - 1)) end
end

local function field_list_codec(item)
  local n, enc, dec = item_codec(item)
  return n, {
    encode = function(list)
      local out = {}
      for i, v in ipairs(list) do out[i] = enc(v) end
      return table.concat(out)
    end,
    decode = function(d)
      local r = {}
      for i = 1, #d - n + 1, n do r[#r + 1] = dec(d, i) end
      return r
    end,
  }
end

local function packet_list_codec(cls)
  return {
    encode = function(list)
      local out = {}
      for i, p in ipairs(list) do out[i] = type(p) == "string" and p or p:bytes() end
      return table.concat(out)
    end,
    decode = function(d)
      local r, pos = {}, 1
      while pos <= #d do
        local rest = d:sub(pos)
        local p = core.packet(rest, {proto = cls.kind})
        local _, _, hlen = p:_layer_info(1)
        if not hlen or hlen == 0 or p:_layer_info(1) ~= cls.kind then break end
        r[#r + 1] = core.packet(rest:sub(1, hlen), {proto = cls.kind})
        pos = pos + hlen
      end
      return r
    end,
  }
end

-- ---- CustomLayer -------------------------------------------------------------------------

-- level: 3 from CustomLayer itself, 4 from the helpers it calls
local function fail(layer, fname, msg, level)
  error(("CustomLayer %s: field %s: %s"):format(layer, tostring(fname), msg), level or 4)
end

-- The plain table core.define takes for one field.
local function plain(layer, f, names)
  local t = {}
  for k, v in pairs(f) do t[k] = v end
  if t.need_length_from and type(t.length_from) ~= "function" then
    fail(layer, f.name, "length_from must be a function (StrLenField(name, default, {length_from=fn}))")
  end
  if t.need_cond and type(t.cond) ~= "function" then
    fail(layer, f.name, "ConditionalField needs a function as its second argument")
  end
  if t.bad_fmt then fail(layer, f.name, "unknown fmt " .. t.bad_fmt .. " (B, H, I, Q, optionally <)") end
  if t.type == "uint" and (type(t.bits) ~= "number" or t.bits < 1 or t.bits > 64) then
    fail(layer, f.name, "a width of 1 to 64 bits is needed")
  end
  for _, ref in ipairs({"length_of", "count_of"}) do
    if t[ref] and not names[t[ref]] then
      fail(layer, f.name, ("%s names no field of this layer: %s"):format(ref, t[ref]))
    end
  end
  if t.list_item then
    if not is_field(t.list_item) or not item_bytes[t.list_item.type] then
      fail(layer, f.name, "FieldListField items must be fixed-size fields")
    end
    local n, codec = field_list_codec(t.list_item)
    t.codec = layer .. "." .. f.name
    core.codecs[t.codec] = codec
    t.item_bytes = n
    t.defbytes = codec.encode(t.default_list)
  elseif t.packet_cls then
    if not layers.is_constructor(t.packet_cls) then
      fail(layer, f.name, "PacketListField needs a layer constructor")
    end
    local codec = packet_list_codec(t.packet_cls)
    t.codec = layer .. "." .. f.name
    core.codecs[t.codec] = codec
    t.defbytes = codec.encode(t.default_list)
    t.packet_kind = t.packet_cls.kind
  end
  if t.count_from and not t.item_bytes and not t.packet_kind and not t.length_from then
    fail(layer, f.name, "count_from needs fixed-size items or packets; give length_from")
  end
  if type(t.default) == "string" and t.type == "flags" then
    local v = 0
    for i, n in ipairs(t.enums) do if t.default:find(n, 1, true) then v = v | (1 << (i - 1)) end end
    t.default = v
  end
  if t.hex then t.hex = 1 end
  if t.le then t.le = 1 end
  if t.signed then t.signed = 1 end
  t.list_item, t.packet_cls, t.default_list = nil, nil, nil
  return t
end

function M.CustomLayer(name, fields, hooks)
  if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
    error("CustomLayer: the name must be an identifier, got " .. tostring(name), 2)
  end
  if layers.LayerKind[name] or layers[name] then
    error(("CustomLayer %s: a layer of that name exists"):format(name), 2)
  end
  if type(fields) ~= "table" then error(("CustomLayer %s: fields must be a list"):format(name), 2) end
  local names, specs = {}, {}
  for i, f in ipairs(fields) do
    if not is_field(f) then
      error(("CustomLayer %s: item %d is not a field (use ByteField(...), StrField(...), ...)"):format(name, i), 2)
    end
    if names[f.name] then fail(name, f.name, "duplicate name", 3) end
    if type(f.name) ~= "string" then fail(name, f.name, "the name must be a string", 3) end
    names[f.name] = true
  end
  for i, f in ipairs(fields) do specs[i] = plain(name, f, names) end
  hooks = hooks or {}
  for k, v in pairs(hooks) do
    if k ~= "post_build" and k ~= "guess_payload" and k ~= "summary" and k ~= "answers" and k ~= "display"
       and k ~= "ws" and k ~= "ws_fields" then
      error(("CustomLayer %s: unknown hook %s (post_build, guess_payload, summary, answers, display, ws, ws_fields)")
        :format(name, k), 2)
    end
    if k == "display" or k == "ws" then
      if type(v) ~= "string" then error(("CustomLayer %s: %s must be a string"):format(name, k), 2) end
    elseif k == "ws_fields" then
      -- display-filter names, as a built-in protocol's sf_wsfield:
      -- {{"myh.port", "sport", "dport"}, ...} (docs/filters.md)
      if type(v) ~= "table" then error(("CustomLayer %s: ws_fields must be a list"):format(name), 2) end
      for i, w in ipairs(v) do
        if type(w) ~= "table" or type(w[1]) ~= "string" or not names[w[2]] or (w[3] and not names[w[3]]) then
          error(("CustomLayer %s: ws_fields[%d] must be {\"filter.name\", field [, other field]} with fields of the layer")
            :format(name, i), 2)
        end
      end
    elseif type(v) ~= "function" then
      error(("CustomLayer %s: hook %s must be a function"):format(name, k), 2)
    end
  end
  local ok, id = pcall(core.define, name, specs, hooks.display or name, hooks)
  if not ok then -- at the caller's line, not this file's
    error((tostring(id):gsub("^[^\n]-:%d+: ", "")), 2)
  end
  local ctor = layers.register(id, hooks)
  local sf = package.loaded["stackforge"]  -- sf.Name, as for built-ins
  if type(sf) == "table" and sf[name] == nil then sf[name] = ctor end
  return ctor
end

-- ---- bindings -------------------------------------------------------------------------------

local function field_index(kind, name)
  local info = layers.protos[kind + 1]
  for i, f in ipairs(info.fields) do
    if f.name == name then return i - 1, f end
  end
  error(("%s has no field '%s'"):format(info.name, tostring(name)), 4)
end

local function numeric(f, v)
  if math.type(v) == "integer" then return v end
  if type(v) == "string" and f.enums then
    for num, n in pairs(f.enums) do if n == v then return num end end
  end
  error(("bad value %s for field %s"):format(tostring(v), f.name), 4)
end

local mirror = {sport = "dport", dport = "sport"}
local ports = {[layers.UDP.kind] = true, [layers.TCP.kind] = true}

-- lk, uk: kinds resolved by the public function, so that kind_of blames its caller
local function each_binding(lk, uk, fields, fn)
  for name, value in pairs(fields or {}) do
    local fi, f = field_index(lk, name)
    local v = numeric(f, value)
    fn(lk, fi, v, uk)
    -- a port binding also catches the answers (Wireshark's udp.port)
    if ports[lk] and mirror[name] then fn(lk, (field_index(lk, mirror[name])), v, uk) end
  end
end

-- bind_layers(UDP, MyHeader, {dport=9999}): parsing picks MyHeader when
-- the field has the value; building MyHeader on UDP sets it.
function M.bind_layers(lower, upper, fields)
  if fields == nil or next(fields) == nil then
    core.heuristic(layers.kind_of(lower), layers.kind_of(upper), function() return true end)
    return
  end
  each_binding(layers.kind_of(lower), layers.kind_of(upper), fields, core.bind)
end

function M.split_layers(lower, upper, fields)
  each_binding(layers.kind_of(lower), layers.kind_of(upper), fields, core.unbind)
end

-- bind_linktype(MyLink, 147): captures of that link type start with MyLink
-- (and a packet built from MyLink is written with it).
function M.bind_linktype(layer, linktype)
  if math.type(linktype) ~= "integer" then
    error(("bind_linktype: the link type must be an integer, got %s"):format(tostring(linktype)), 2)
  end
  core.bind_linktype(layers.kind_of(layer), linktype)
end

-- bind_heuristic(UDP, MyHeader, function(payload) return ... end)
function M.bind_heuristic(lower, upper, fn)
  if type(fn) ~= "function" then error("bind_heuristic: a function(bytes) -> boolean is needed", 2) end
  core.heuristic(layers.kind_of(lower), layers.kind_of(upper), fn)
end

return M
