-- stackforge.navigate: Scapy's ways about a packet's layers --
-- getlayer(cls, n), haslayer, firstlayer, lastlayer, layers(),
-- decode_payload_as -- on packets, and on layer views (p[TCP]) what
-- Scapy's layers answer: show, summary, bytes, copy, ... of the packet
-- from that layer on.  p[2], p.payload, view.payload and view.underlayer
-- are the binding's (lua/lpacket.c).
local core = require("stackforge.core")
local layers = require("stackforge.layers")

local M = {}
local Packet = core.Packet

-- The protocol id a layer argument names: a constructor, a LayerKind
-- name or a constructor's name (layers.kind_of raises for others).
local function kind(x) return layers.kind_of(x) end

--- p:getlayer(cls [, n]) -> the n-th (default first) layer of that kind,
--- as a view; p:getlayer(i) is p[i] (Scapy's getlayer(int))
function Packet.getlayer(p, cls, n)
  if math.type(cls) == "integer" then return p[cls] end
  local id = kind(cls)
  n = n or 1
  if math.type(n) ~= "integer" or n < 1 then
    error(("bad argument #2 to 'getlayer' (a count from 1 expected, got %s)"):format(tostring(n)), 2)
  end
  for i = 1, p.layer_count do
    if p:_layer_info(i) == id then
      n = n - 1
      if n == 0 then return p:layer(i) end
    end
  end
  return nil
end

--- p:haslayer(cls): Scapy's spelling of has_layer
function Packet.haslayer(p, cls) return p:has_layer(cls) end

--- p:firstlayer(), p:lastlayer(): the outermost and innermost views
function Packet.firstlayer(p) return p:layer(1) end
function Packet.lastlayer(p) return p:layer(-1) end

--- p:layers() -> {constructor...}: the kinds of its layers, outermost first
function Packet.layers(p)
  local out = {}
  for i = 1, p.layer_count do out[i] = layers.by_kind[p:_layer_info(i)] end
  return out
end

--- p:decode_payload_as(cls) -> a new packet: the first layer as it is,
--- what follows it dissected as cls (Scapy changes p in place; a Lua
--- packet is a value).  The first layer's fields keep their values.
function Packet.decode_payload_as(p, cls)
  local id = kind(cls)
  local raw = p:bytes()
  local first, off, hlen = p:_layer_info(1)
  local head = core.packet(raw:sub(off + 1, off + hlen), {proto = first})
  local view = head:layer(1)
  for _, name in ipairs(view.fields) do view[name] = view[name] end  -- kept as they are
  local rest = core.packet(raw:sub(off + hlen + 1), {proto = id})
  local q = head / rest
  q.time = p.time
  return q
end

-- ---- layer views ----------------------------------------------------------------

-- The packet from the view's layer on, dissected from its bytes
-- (Scapy's layer with its payload).
local function from_here(v)
  local p, i = core.view_info(v)
  local id, off = p:_layer_info(i)
  local q = core.packet(p:bytes():sub(off + 1), {proto = id})
  q.time = p.time
  return q
end

local View = {}
View.packet = from_here
function View.bytes(v) return from_here(v):bytes() end
function View.copy(v) return from_here(v) end
function View.show(v, ...) return from_here(v):show(...) end
function View.show2(v, ...) return from_here(v):show2(...) end
function View.summary(v, ...) return from_here(v):summary(...) end
function View.sprintf(v, fmt) return from_here(v):sprintf(fmt) end
function View.command(v) return from_here(v):command() end
function View.hexdump(v) return require("stackforge.show").hexdump(from_here(v)) end
function View.haslayer(v, cls) return from_here(v):has_layer(cls) end
View.has_layer = View.haslayer
function View.getlayer(v, cls, n)
  local p, i = core.view_info(v)
  if math.type(cls) == "integer" then return p[i + cls - 1] end
  local id, k = kind(cls), n or 1
  for j = i, p.layer_count do
    if p:_layer_info(j) == id then
      k = k - 1
      if k == 0 then return p:layer(j) end
    end
  end
  return nil
end
function View.lastlayer(v) local p = core.view_info(v) return p:layer(-1) end
function View.firstlayer(v) return v end

M.View = View
core.set_view_methods(View)

return M
