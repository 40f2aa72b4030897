-- layers.lua: layer constructors (TCP{...}), their named variants
-- (ICMP.echo_request{...}, ICMPv6ND_NS{...}), LayerKind, Raw helpers.
local core = require("stackforge.core")

local M = {}

-- One metatable for every constructor: calling it builds a one-layer
-- packet (in C, so errors point at the caller's line); a variant's preset
-- fields go under the user's.  core.constructor(t) keeps what the call
-- needs (protocol, preset or not) at t[1], one lookup per call.
local Constructor = {}
Constructor.__index = Constructor
Constructor.__call = core.construct

function Constructor.__tostring(self)
  return ("<layer %s>"):format(self.name)
end

M.Constructor = Constructor

-- A constructor with a call of its own (a seed's one-layer form that
-- stacks a message under its header: TFTP{opcode=1, filename=...}): the
-- same methods, another __call.  is_constructor knows both kinds.
local own_calls = setmetatable({}, {__mode = "k"})
function M.own_call(ctor, fn)
  local mt = {}
  for k, v in pairs(Constructor) do mt[k] = v end
  mt.__call, mt.__index = fn, Constructor
  own_calls[mt] = true
  return setmetatable(ctor, mt)
end

function M.is_constructor(v)
  local mt = getmetatable(v)
  return mt == Constructor or (mt ~= nil and own_calls[mt] == true)
end

M.protos = core.protos()
M.LayerKind = {}
M.kind_ids = {}      -- LayerKind name -> proto id
M.by_kind = {}       -- proto id -> constructor
M.summaries = {}     -- proto id -> a custom layer's summary hook
M.ws_extra = {}      -- proto id -> a custom layer's display-filter names {ws=, ws_fields=}

-- A named variant of a constructor with some fields preset.
local function variant(base, name, preset)
  return core.constructor(setmetatable({kind = base.kind, name = name,
    display = base.display, fields_desc = base.fields_desc, preset = preset},
    Constructor))
end
M.variant = variant

-- A protocol's constructor and its named messages, as its descriptor
-- declares them: ICMP.echo_request{...}, and Scapy's class names for them
-- (ICMPv6EchoRequest{...}) where Scapy has one.
local function add_constructor(info)
  local ctor = core.constructor(setmetatable({kind = info.id, name = info.name,
    display = info.display, fields_desc = info.fields}, Constructor))
  M[info.name] = ctor
  ctor.custom = info.custom or nil  -- defined at run time (CustomLayer)
  M.LayerKind[info.kind] = info.kind  -- a name, not a number: p[2] is the second layer
  M.kind_ids[info.kind] = info.id
  M.by_kind[info.id] = ctor
  for _, v in ipairs(info.variants or {}) do
    local named = variant(ctor, v.cls or (info.name .. "." .. v.name), {[v.field] = v.value})
    ctor[v.name] = named
    if v.cls then M[v.cls] = named end
  end
  return ctor
end

-- Functions a protocol's methods offer on whole packets (Scapy's
-- dns_compress(pkt)): the method applied to a copy, at the first layer of
-- that protocol.
M.globals = {}
local function add_globals(info)
  for _, m in ipairs(info.methods or {}) do
    if m.global then
      local kind, name, global = info.id, m.name, m.global
      M.globals[global] = function(p)
        if type(p) ~= "userdata" or not pcall(function() return p.layer_count end) then
          error(("bad argument #1 to '%s' (packet expected, got %s)"):format(global, type(p)), 2)
        end
        local q = p:build()
        local view = q[M.by_kind[kind]]
        if not view then
          error(("%s: the packet has no %s layer"):format(global, info.name), 2)
        end
        view[name](view)
        return q
      end
    end
  end
end

for _, info in ipairs(M.protos) do
  add_constructor(info)
  add_globals(info)
end

-- A second LayerKind name for protocol id (a Lua-defined layer's seed-style
-- kind: LayerKind.Ftp beside LayerKind.FTP); a name, as every LayerKind value.
function M.add_kind(kind, id)
  M.LayerKind[kind] = kind
  M.kind_ids[kind] = id
end

-- A layer as a protocol id: a constructor, a LayerKind value or a name.
function M.kind_of(x)
  if M.is_constructor(x) then return x.kind end
  if math.type(x) == "integer" and M.protos[x + 1] then return x end
  if type(x) == "string" and (M.kind_ids[x] or getmetatable(M[x]) == Constructor) then
    return M.kind_ids[x] or M[x].kind
  end
  error(("expected a layer (TCP, LayerKind.Tcp or \"TCP\"), got %s"):format(tostring(x)), 3)
end

-- p:summary() with custom layers' own summaries: "Ethernet / IPv4 / UDP / Mine v1";
-- with a style (p:summary("scapy")), the C one's.
local c_summary = core.Packet.summary
local function summary_with_hooks(p, style)
  if style ~= nil then return c_summary(p, style) end
  local parts = {}
  for i = 1, p.layer_count do
    local id = p:_layer_info(i)
    local hook = M.summaries[id]
    if i == 1 or not M.protos[id + 1].record then  -- a message names its records
      parts[#parts + 1] = hook and tostring(hook(p:layer(i))) or M.protos[id + 1].display
    end
  end
  return table.concat(parts, " / ")
end

-- A protocol the engine registered at run time (CustomLayer): its
-- constructor, and its place in LayerKind, ls() and show().
function M.register(id, hooks)
  local info = core.proto_info(id)
  M.protos[id + 1] = info
  local ctor = add_constructor(info)
  ctor.custom = true  -- defined at run time (CustomLayer)
  ctor.answers = hooks and hooks.answers
  core.set_answers(id, ctor.answers)  -- asked when sr() matches this layer
  if hooks and (hooks.ws or hooks.ws_fields) then
    local wsf = {}
    for i, w in ipairs(hooks.ws_fields or {}) do wsf[i] = {name = w[1], field = w[2], field2 = w[3]} end
    M.ws_extra[id] = {ws = hooks.ws, ws_fields = wsf}
  end
  if hooks and hooks.summary then
    M.summaries[id] = hooks.summary
    core.Packet.summary = summary_with_hooks
  end
  return ctor
end

-- ---- Raw payload helpers ------------------------------------------------------

local Raw = M.Raw

function Raw.from_hex(hex)
  local clean = hex:gsub("[%s:]", "")
  if #clean % 2 == 1 or clean:find("[^%x]") then
    error(("Raw.from_hex: not a hex string: %q"):format(hex), 2)
  end
  return Raw{load = clean:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)}
end

function Raw.zeros(n)
  return Raw{load = string.rep("\0", n)}
end

function Raw.rep(byte, n)
  return Raw{load = string.rep(string.char(byte), n)}
end
Raw["repeat"] = Raw.rep  -- the seed toolkit's name (a Lua keyword)

-- `n` bytes repeating `pat`: Raw.pattern("AB", 5) -> "ABABA"
function Raw.pattern(pat, n)
  if #pat == 0 then error("Raw.pattern: empty pattern", 2) end
  return Raw{load = pat:rep(n // #pat + 1):sub(1, n)}
end

return M
