-- layers.lua: layer constructors (TCP{...}), their named variants
-- (ICMP.echo_request{...}, ICMPv6ND_NS{...}), LayerKind, Raw helpers.
local core = require("stackforge.core")

local M = {}

-- One metatable for every constructor: calling it builds a one-layer
-- packet (in C, so errors point at the caller's line); a variant's preset
-- fields go under the user's.
local Constructor = {}
Constructor.__index = Constructor
Constructor.__call = core.construct

function Constructor.__tostring(self)
  return ("<layer %s>"):format(self.name)
end

M.Constructor = Constructor

M.protos = core.protos()
M.LayerKind = {}
M.by_kind = {}       -- proto id -> constructor
M.summaries = {}     -- proto id -> a custom layer's summary hook

local function add_constructor(info)
  local ctor = setmetatable({kind = info.id, name = info.name,
    display = info.display, fields_desc = info.fields}, Constructor)
  M[info.name] = ctor
  M.LayerKind[info.kind] = info.id
  M.by_kind[info.id] = ctor
  return ctor
end

for _, info in ipairs(M.protos) do add_constructor(info) end

-- A layer as a protocol id: a constructor, a LayerKind value or a name.
function M.kind_of(x)
  if getmetatable(x) == Constructor then return x.kind end
  if math.type(x) == "integer" and M.protos[x + 1] then return x end
  if type(x) == "string" and (M.LayerKind[x] or M[x]) then
    return M.LayerKind[x] or M[x].kind
  end
  error(("expected a layer (TCP, LayerKind.Tcp or \"TCP\"), got %s"):format(tostring(x)), 3)
end

-- p:summary() with custom layers' own summaries: "Ethernet / IPv4 / UDP / Mine v1".
local function summary_with_hooks(p)
  local parts = {}
  for i = 1, p.layer_count do
    local id = p:_layer_info(i)
    local hook = M.summaries[id]
    parts[i] = hook and tostring(hook(p:layer(i))) or M.protos[id + 1].display
  end
  return table.concat(parts, " / ")
end

-- A protocol the engine registered at run time (CustomLayer): its
-- constructor, and its place in LayerKind, ls() and show().
function M.register(id, hooks)
  local info = core.proto_info(id)
  M.protos[id + 1] = info
  local ctor = add_constructor(info)
  ctor.answers = hooks and hooks.answers
  if hooks and hooks.summary then
    M.summaries[id] = hooks.summary
    core.Packet.summary = summary_with_hooks
  end
  return ctor
end

-- A named variant of a constructor with some fields preset.
local function variant(base, name, preset)
  return setmetatable({kind = base.kind, name = name, display = base.display,
    fields_desc = base.fields_desc, preset = preset}, Constructor)
end
M.variant = variant

-- ICMP messages (RFC 792)
local ICMP = M.ICMP
ICMP.echo_request = variant(ICMP, "ICMP.echo_request", {type = 8})
ICMP.echo_reply = variant(ICMP, "ICMP.echo_reply", {type = 0})
ICMP.dest_unreach = variant(ICMP, "ICMP.dest_unreach", {type = 3})
ICMP.redirect = variant(ICMP, "ICMP.redirect", {type = 5})
ICMP.time_exceeded = variant(ICMP, "ICMP.time_exceeded", {type = 11})
ICMP.param_problem = variant(ICMP, "ICMP.param_problem", {type = 12})
ICMP.timestamp_request = variant(ICMP, "ICMP.timestamp_request", {type = 13})
ICMP.timestamp_reply = variant(ICMP, "ICMP.timestamp_reply", {type = 14})

-- ICMPv6 messages under Scapy's class names, and as ICMPv6.<name>
local ICMPv6, NDOpt = M.ICMPv6, M.ICMPv6NDOpt
local icmp6_variants = {
  {"ICMPv6DestUnreach", "dest_unreach", {type = 1}},
  {"ICMPv6PacketTooBig", "packet_too_big", {type = 2}},
  {"ICMPv6TimeExceeded", "time_exceeded", {type = 3}},
  {"ICMPv6ParamProblem", "param_problem", {type = 4}},
  {"ICMPv6EchoRequest", "echo_request", {type = 128}},
  {"ICMPv6EchoReply", "echo_reply", {type = 129}},
  {"ICMPv6ND_RS", "nd_rs", {type = 133}},
  {"ICMPv6ND_RA", "nd_ra", {type = 134}},
  {"ICMPv6ND_NS", "nd_ns", {type = 135}},
  {"ICMPv6ND_NA", "nd_na", {type = 136}},
  {"ICMPv6ND_Redirect", "nd_redirect", {type = 137}},
}
for _, v in ipairs(icmp6_variants) do
  local ctor = variant(ICMPv6, v[1], v[3])
  M[v[1]] = ctor
  ICMPv6[v[2]] = ctor
end
local ndopt_variants = {
  {"ICMPv6NDOptSrcLLAddr", "src_lladdr", {type = 1}},
  {"ICMPv6NDOptDstLLAddr", "dst_lladdr", {type = 2}},
  {"ICMPv6NDOptPrefixInfo", "prefix_info", {type = 3}},
  {"ICMPv6NDOptMTU", "mtu", {type = 5}},
}
for _, v in ipairs(ndopt_variants) do
  local ctor = variant(NDOpt, v[1], v[3])
  M[v[1]] = ctor
  NDOpt[v[2]] = ctor
end

-- ARP operations by name
local ARP = M.ARP
ARP.who_has = variant(ARP, "ARP.who_has", {op = 1})
ARP.is_at = variant(ARP, "ARP.is_at", {op = 2})

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

-- `n` bytes repeating `pat`: Raw.pattern("AB", 5) -> "ABABA"
function Raw.pattern(pat, n)
  if #pat == 0 then error("Raw.pattern: empty pattern", 2) end
  return Raw{load = pat:rep(n // #pat + 1):sub(1, n)}
end

return M
