-- stackforge.packetlist: PacketList and SndRcvList, Scapy's lists of
-- packets (what rdpcap, sniff, sr and filter return).
--
-- A PacketList is a Lua list of packets with a metatable: #, pl[i]
-- (negative from the end), ipairs/pairs, pl:iter(), .. and Scapy's
-- methods.  A list read from a mapped capture keeps no packet until one
-- is asked for: it holds the file's mapping and an index of its records
-- (lua/lplist.c's PacketStore), makes the Packet of record i when pl[i]
-- is first read (then kept, so changes stay), and runs summaries,
-- filters and counts over the records in C.  docs/api.md describes it.
local core = require("stackforge.core")
local layers = require("stackforge.layers")

local M = {}

local PacketList = {}       -- methods
local mt = {__name = "PacketList"}
M.PacketList = PacketList
M.mt = mt

-- list -> {name=, store=, sn= (records in the store), n= (entries)};
-- keys are weak, so a list's facts go with it
local info = setmetatable({}, {__mode = "k"})

local function is_list(x) return info[x] ~= nil end
M.is = is_list

local function new(t, name, store, sn)
  local pl = setmetatable(t or {}, mt)
  info[pl] = {name = name or "PacketList", store = store, sn = sn or 0,
              n = store and sn or nil}
  return pl
end
M.new = new

local function len(pl)
  local i = info[pl]
  return i.n or rawlen(pl)
end

mt.__len = len

function mt.__index(pl, k)
  if math.type(k) == "integer" then
    local i = info[pl]
    if k < 0 then
      k = len(pl) + 1 + k
      return k >= 1 and pl[k] or nil
    end
    if i.store and k >= 1 and k <= i.sn then
      local p = i.store:get(k)
      rawset(pl, k, p)  -- kept: pl[k] is the same packet every time
      return p
    end
    return nil
  end
  return PacketList[k]
end

function mt.__newindex(pl, k, v)
  local i = info[pl]
  if i.n and math.type(k) == "integer" and k > i.n then i.n = k end
  rawset(pl, k, v)
end

-- The list's entries, in order: pl[i] (kept) with cache, else fresh
-- packets of records that are not kept (for a pass over a whole list).
local function each(pl, cache)
  local i, n, info_ = 0, len(pl), info[pl]
  return function()
    i = i + 1
    if i > n then return nil end
    local p = rawget(pl, i)
    if p == nil and info_.store and i <= info_.sn then
      if cache then return pl[i] end
      return info_.store:get(i)
    end
    return p
  end
end

--- for p in pl:iter() do ... end
function PacketList:iter() return each(self, true) end

-- pairs(pl) goes over the packets in order, as ipairs does
function mt.__pairs(pl)
  local i, n = 0, len(pl)
  return function()
    i = i + 1
    if i <= n then return i, pl[i] end
  end, pl, nil
end

--- What C functions that take lists (wrpcap, flows) should be given: a
--- list they can read raw, or an iterator that does not keep packets.
function M.plain(x)
  if is_list(x) and info[x].store then return each(x, false) end
  return x
end

-- ---- names and counts --------------------------------------------------------------

local STATS = {"TCP", "UDP", "ICMP"}

-- Has p a layer of proto id that is not quoted in an ICMP error?  (Scapy's
-- haslayer(TCP) is not true of TCPerror.)
local function has_plain(p, id)
  for li = 1, p.layer_count do
    local pid, _, _, _, flags = p:_layer_info(li)
    if pid == id and flags & 2 == 0 then return true end
  end
  return false
end

-- Scapy's repr counts: each packet under the first of TCP, UDP, ICMP it
-- has, else Other.
local function counts(pl, elt2pkt)
  local ids = {}
  for k, name in ipairs(STATS) do ids[k] = layers[name].kind end
  local c, other = {0, 0, 0}, 0
  local i = info[pl]
  local from = 1
  if i.store and not elt2pkt then
    local a, b, d, o = i.store:count_layers(pl, ids[1], ids[2], ids[3])
    c, other, from = {a, b, d}, o, i.sn + 1
  end
  for k = from, len(pl) do
    local p = pl[k]
    if elt2pkt then p = elt2pkt(p) end
    local found = false
    if type(p) == "userdata" then
      for s = 1, #ids do
        if has_plain(p, ids[s]) then
          c[s], found = c[s] + 1, true
          break
        end
      end
    end
    if not found then other = other + 1 end
  end
  return c, other
end

function mt.__tostring(pl)
  local c, other = counts(pl, getmetatable(pl).elt2pkt)
  local parts = {}
  for k, name in ipairs(STATS) do parts[k] = ("%s:%d"):format(name, c[k]) end
  return ("<%s: %s Other:%d>"):format(info[pl].name, table.concat(parts, " "), other)
end

--- pl.listname: the list's name ("PacketList", the file's name, "Sniffed")
function PacketList:listname() return info[self].name end

-- ---- making lists -------------------------------------------------------------------

--- PacketList([packets [, name]])
function M.PacketList_new(t, name)
  if t ~= nil and type(t) ~= "table" then
    error(("bad argument #1 to 'PacketList' (table of packets expected, got %s)")
      :format(type(t)), 2)
  end
  local copy = {}
  for k, p in ipairs(t or {}) do copy[k] = p end
  return new(copy, name)
end

local function like(pl, t, name)
  return setmetatable(new(t, name), getmetatable(pl))
end

--- pl:slice(i [, j]): packets i..j (negative from the end), as Scapy's pl[i:j]
function PacketList:slice(i, j)
  local n = len(self)
  i, j = i or 1, j or n
  if i < 0 then i = n + 1 + i end
  if j < 0 then j = n + 1 + j end
  local t = {}
  for k = math.max(i, 1), math.min(j, n) do t[#t + 1] = self[k] end
  return like(self, t, "mod " .. info[self].name)
end

function mt.__concat(a, b)
  if not (is_list(a) and is_list(b)) then
    error("attempt to concatenate a PacketList with a " ..
      (is_list(a) and type(b) or type(a)), 2)
  end
  local t = {}
  for k = 1, len(a) do t[k] = a[k] end
  for k = 1, len(b) do t[#t + 1] = b[k] end
  return like(a, t, info[a].name .. "+" .. info[b].name)
end

-- ---- text ---------------------------------------------------------------------------------

-- One line per entry of lines from..to, by fn(entry) or, for records of
-- the store, in C.
local function lines(pl, numbered, fn)
  local i, out = info[pl], {}
  local from = 1
  if i.store and i.sn > 0 and not getmetatable(pl).elt2pkt then
    out[1] = i.store:summaries(1, i.sn, pl, true, numbered)
    from = i.sn + 1
  end
  for k = from, len(pl) do
    local s = fn(pl[k])
    out[#out + 1] = numbered and ("%04d %s"):format(k, s) or s
  end
  if #out == 1 then return out[1] end  -- a capture's list: no second copy of its text
  return table.concat(out, "\n")
end

local function entry_summary(pl)
  local e2s = getmetatable(pl).elt2sum
  return e2s or function(p) return p:summary("scapy") end
end

--- pl:summary(): Scapy's one line a packet
function PacketList:summary()
  return lines(self, false, entry_summary(self))
end

--- pl:nsummary(): the same lines numbered by index ("0001 Ether / ...")
function PacketList:nsummary()
  return lines(self, true, entry_summary(self))
end

--- pl:show(): as Scapy's, nsummary()
PacketList.show = PacketList.nsummary

--- pl:hexdump(): each packet's number, time and summary, then its bytes
function PacketList:hexdump()
  local show = require("stackforge.show")
  local out = {}
  for k, p in ipairs(self) do
    out[#out + 1] = ("%04d %s %s"):format(k, p:sprintf("%.time%"), p:summary("scapy"))
    out[#out + 1] = show.hexdump(p)
  end
  return table.concat(out, "\n")
end

-- ---- selecting --------------------------------------------------------------------------

--- pl:filter(fn or display filter) -> PacketList ("filtered NAME")
function PacketList:filter(f)
  local t, i = {}, info[self]
  if type(f) == "string" or (type(f) == "table" and getmetatable(f) ~= nil) or type(f) == "userdata" then
    local prog = require("stackforge.dfilter").program_of(f, 3, "filter")
    local from = 1
    if i.store and i.sn > 0 then
      for _, k in ipairs(i.store:filter(prog, self)) do t[#t + 1] = self[k] end
      from = i.sn + 1
    end
    for k = from, len(self) do
      local p = self[k]
      if p:matches(f) then t[#t + 1] = p end
    end
  elseif type(f) == "function" then
    for _, p in ipairs(self) do
      if f(p) then t[#t + 1] = p end
    end
  else
    error(("bad argument #1 to 'filter' (function or display filter expected, got %s)")
      :format(type(f)), 2)
  end
  return like(self, t, "filtered " .. i.name)
end

-- Scapy's session keys (plist.py's _session_extractor), by sprintf
local function session_key(p)
  if not p:has_layer("Ether") then return "Other" end
  local ip, ip6 = has_plain(p, layers.IP.kind), has_plain(p, layers.IPv6.kind)
  if ip or ip6 then
    local s, d = "{IP:%IP.src%}{IPv6:%IPv6.src%}", "{IP:%IP.dst%}{IPv6:%IPv6.dst%}"
    local fmt
    if has_plain(p, layers.TCP.kind) then fmt = "TCP %s:%%r,TCP.sport%% > %s:%%r,TCP.dport%%"
    elseif has_plain(p, layers.UDP.kind) then fmt = "UDP %s:%%r,UDP.sport%% > %s:%%r,UDP.dport%%"
    elseif has_plain(p, layers.ICMP.kind) then
      fmt = "ICMP %s > %s type=%%r,ICMP.type%% code=%%r,ICMP.code%% id=%%ICMP.id%%"
    elseif ip6 then  -- (Scapy's 'ICMPv6' in p is false for its ICMPv6 classes)
      fmt = "IPv6 %s > %s nh=%%IPv6.nh%%"
    else fmt = "IP %s > %s proto=%%IP.proto%%" end
    return p:sprintf(fmt:format(s, d))
  elseif p:has_layer("ARP") then
    return p:sprintf("ARP %ARP.psrc% > %ARP.pdst%")
  end
  return p:sprintf("Ethernet type=%04xr,Ether.type%")
end
M.session_key = session_key

--- pl:sessions([fn]) -> {key = PacketList}: packets by Scapy's session key
--- (or fn(p)'s), each list in capture order
function PacketList:sessions(fn)
  fn = fn or session_key
  local out = {}
  for _, p in ipairs(self) do
    local k = fn(p)
    if k ~= nil then
      out[k] = out[k] or new({})
      local l = out[k]
      l[#l + 1] = p
    end
  end
  return out
end

-- ---- tables and graphs ------------------------------------------------------------------

local function ipv4_number(s)
  local a, b, c, d = tostring(s):match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return nil end
  return ((tonumber(a) * 256 + tonumber(b)) * 256 + tonumber(c)) * 256 + tonumber(d)
end

-- Scapy's order of a table's keys: as integers, else as IPv4 addresses,
-- else as text.
local function sort_keys(keys)
  for _, conv in ipairs{function(s) return math.tointeger(tonumber(s)) end, ipv4_number} do
    local ok = true
    for _, k in ipairs(keys) do ok = ok and conv(k) ~= nil end
    if ok then
      table.sort(keys, function(a, b) return conv(a) < conv(b) end)
      return
    end
  end
  table.sort(keys)
end

local function str(v)
  if v == nil then return "None" end
  return tostring(v)
end

--- pl:make_table(fn) -> text: fn(p) gives x, y, z; a table of z with the
--- x values as columns and y as rows, laid out as Scapy's make_table
function PacketList:make_table(fn)
  if type(fn) ~= "function" then
    error(("bad argument #1 to 'make_table' (function expected, got %s)"):format(type(fn)), 2)
  end
  local vx, vy, vz, xs, ys, ylen = {}, {}, {}, {}, {}, 0
  for _, p in ipairs(self) do
    local x, y, z = fn(p)
    x, y, z = str(x), str(y), str(z)
    ylen = math.max(ylen, #y)
    if not vx[x] then xs[#xs + 1] = x end
    vx[x] = math.max(vx[x] or 0, #x, #z)
    if not vy[y] then ys[#ys + 1] = y; vy[y] = true end
    vz[x .. "\0" .. y] = z
  end
  sort_keys(xs)
  sort_keys(ys)
  local out = {}
  local row = {("%-" .. ylen .. "s"):format("")}
  for _, x in ipairs(xs) do row[#row + 1] = ("%-" .. vx[x] .. "s"):format(x) end
  out[1] = table.concat(row, " ") .. " "
  for _, y in ipairs(ys) do
    row = {("%-" .. ylen .. "s"):format(y)}
    for _, x in ipairs(xs) do row[#row + 1] = ("%-" .. vx[x] .. "s"):format(vz[x .. "\0" .. y] or "-") end
    out[#out + 1] = table.concat(row, " ") .. " "
  end
  return table.concat(out, "\n") .. "\n"
end

local function default_srcdst(p)
  for _, name in ipairs{"IP", "IPv6"} do
    local l = has_plain(p, layers[name].kind) and p[name]
    if l then return l.src, l.dst end
  end
  local a = p[layers.ARP]
  if a then return a.psrc, a.pdst end
end

local function which(prog)
  local h = io.popen("command -v " .. prog .. " 2>/dev/null")
  local out = h and h:read("l")
  if h then h:close() end
  return out
end

--- pl:conversations([{getsrcdst=fn, file=, format="dot"|"svg"|"png"}])
--- -> the Graphviz graph of who talks to whom (as Scapy's); written to
--- file, as dot text or (when Graphviz's dot is installed) rendered
function PacketList:conversations(opts)
  opts = opts or {}
  local get = opts.getsrcdst or default_srcdst
  local conv, order = {}, {}
  for _, p in ipairs(self) do
    local ok, s, d, label = pcall(get, p)
    if ok and s ~= nil and d ~= nil then
      local k = tostring(s) .. "\0" .. tostring(d)
      if not conv[k] then
        order[#order + 1] = k
        conv[k] = {s = s, d = d, n = 0, labels = {}, seen = {}}
      end
      local c = conv[k]
      c.n = c.n + 1
      if label ~= nil and not c.seen[tostring(label)] then
        c.seen[tostring(label)] = true
        c.labels[#c.labels + 1] = tostring(label)
      end
    end
  end
  local gr = {'digraph "conv" {'}
  for _, k in ipairs(order) do
    local c = conv[k]
    gr[#gr + 1] = ('\t "%s" -> "%s" [label="%s"]'):format(tostring(c.s), tostring(c.d),
      #c.labels > 0 and table.concat(c.labels, ", ") or tostring(c.n))
  end
  local dot = table.concat(gr, "\n") .. "\n}\n"
  local fmt = opts.format or (opts.file and opts.file:match("%.(%w+)$")) or "dot"
  if not opts.file then
    if fmt == "dot" then return dot end
    error("conversations: format '" .. fmt .. "' needs file=", 2)
  end
  if fmt == "dot" or fmt == "gv" then
    local f = assert(io.open(opts.file, "w"))
    f:write(dot)
    f:close()
    return dot
  end
  if not which("dot") then
    error("conversations: rendering " .. fmt .. " needs Graphviz's dot (apt-get install graphviz); "
      .. "format='dot' writes the graph itself", 2)
  end
  local tmp = os.tmpname()
  local f = assert(io.open(tmp, "w"))
  f:write(dot)
  f:close()
  local ok = os.execute(("dot -T%s -o %q %q"):format(fmt, opts.file, tmp))
  os.remove(tmp)
  if not ok then error("conversations: dot failed to write " .. opts.file, 2) end
  return dot
end

local function esc(s) return (tostring(s):gsub("[&<>\"]", {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;"})) end

-- gnuplot's single-quoted string
local function gq(s) return "'" .. tostring(s):gsub("'", "''") .. "'" end

-- The points as a PNG drawn by gnuplot (as Scapy's plot draws with matplotlib).
local function plot_png(pts, file, title)
  if not which("gnuplot") then
    error("plot: a PNG needs gnuplot (apt-get install gnuplot-nox); an .svg file is written without it", 3)
  end
  local data, script = os.tmpname(), os.tmpname()
  local f = assert(io.open(data, "w"))
  for _, q in ipairs(pts) do f:write(("%.17g %.17g\n"):format(q[1], q[2])) end
  f:close()
  f = assert(io.open(script, "w"))
  f:write("set terminal pngcairo size 640,400\n", "set output ", gq(file), "\n",
    "set title ", gq(title), " noenhanced\n", "unset key\n",
    #pts > 0 and ("plot " .. gq(data) .. " using 1:2 with lines lc rgb '#1f77b4'\n")
      or "set xrange [0:1]\nset yrange [0:1]\nplot NaN\n")
  f:close()
  local ok = os.execute(("gnuplot %q 2>/dev/null"):format(script))
  os.remove(data)
  os.remove(script)
  if not ok then error("plot: gnuplot failed to write " .. file, 3) end
end

--- pl:plot(fn [, {file=, title=, x=, format=}]) -> SVG text: fn(p) -> y
--- (or x, y) for each packet (nil skips it), drawn as a line; x is the
--- index (or opts.x = "time": the packet's time).  Written to file when
--- given: SVG, or PNG (a ".png" name or format = "png") through gnuplot.
function PacketList:plot(fn, opts)
  if type(fn) ~= "function" then
    error(("bad argument #1 to 'plot' (function expected, got %s)"):format(type(fn)), 2)
  end
  opts = opts or {}
  local pts = {}
  for k, p in ipairs(self) do
    local a, b = fn(p)
    local x, y
    if b ~= nil then x, y = a, b else x, y = (opts.x == "time" and p.time or k), a end
    if tonumber(x) and tonumber(y) then pts[#pts + 1] = {tonumber(x), tonumber(y)} end
  end
  local W, H, pad = 640, 400, 50
  local x0, x1, y0, y1 = math.huge, -math.huge, math.huge, -math.huge
  for _, q in ipairs(pts) do
    x0, x1 = math.min(x0, q[1]), math.max(x1, q[1])
    y0, y1 = math.min(y0, q[2]), math.max(y1, q[2])
  end
  if #pts == 0 then x0, x1, y0, y1 = 0, 1, 0, 1 end
  if x1 == x0 then x1 = x0 + 1 end
  if y1 == y0 then y1 = y0 + 1 end
  local function sx(x) return pad + (x - x0) / (x1 - x0) * (W - 2 * pad) end
  local function sy(y) return H - pad - (y - y0) / (y1 - y0) * (H - 2 * pad) end
  local path = {}
  for _, q in ipairs(pts) do path[#path + 1] = ("%.2f,%.2f"):format(sx(q[1]), sy(q[2])) end
  local svg = table.concat({
    ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">'):format(W, H, W, H),
    ('<rect width="%d" height="%d" fill="white"/>'):format(W, H),
    ('<text x="%d" y="20" font-family="sans-serif" font-size="14">%s</text>'):format(pad, esc(opts.title or info[self].name)),
    ('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>'):format(pad, H - pad, W - pad, H - pad),
    ('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>'):format(pad, pad, pad, H - pad),
    ('<text x="%d" y="%d" font-family="sans-serif" font-size="11">%s</text>'):format(pad, H - pad + 15, esc(("%g"):format(x0))),
    ('<text x="%d" y="%d" font-family="sans-serif" font-size="11" text-anchor="end">%s</text>'):format(W - pad, H - pad + 15, esc(("%g"):format(x1))),
    ('<text x="%d" y="%d" font-family="sans-serif" font-size="11" text-anchor="end">%s</text>'):format(pad - 4, H - pad, esc(("%g"):format(y0))),
    ('<text x="%d" y="%d" font-family="sans-serif" font-size="11" text-anchor="end">%s</text>'):format(pad - 4, pad + 4, esc(("%g"):format(y1))),
    ('<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="%s"/>'):format(table.concat(path, " ")),
    "</svg>", ""}, "\n")
  local fmt = opts.format or (opts.file and opts.file:match("%.(%w+)$")) or "svg"
  if fmt ~= "svg" and fmt ~= "png" then
    error("plot: format '" .. tostring(fmt) .. "' (svg or png)", 2)
  end
  if opts.file and fmt == "png" then
    plot_png(pts, opts.file, opts.title or info[self].name)
  elseif opts.file then
    local f, err = io.open(opts.file, "w")
    if not f then error("plot: " .. err, 2) end
    f:write(svg)
    f:close()
  end
  return svg
end

-- ---- SndRcvList ------------------------------------------------------------------------

-- sr()'s answered pairs: each {sent, received} (also .sent, .received);
-- counted by the received packet, as Scapy's Results.
local SndRcvList = setmetatable({}, {__index = PacketList})
M.SndRcvList = SndRcvList
local srmt = {}
for k, v in pairs(mt) do srmt[k] = v end
srmt.__name = "SndRcvList"
function srmt.__index(pl, k)
  if math.type(k) == "integer" then return mt.__index(pl, k) end
  return SndRcvList[k]
end
srmt.elt2pkt = function(pair) return pair.received end
srmt.elt2sum = function(pair)
  return pair.sent:summary("scapy") .. " ==> " .. pair.received:summary("scapy")
end
M.srmt = srmt

function M.SndRcvList_new(t, name)
  return setmetatable(new(t, name or "Results"), srmt)
end

--- ans:hexdump() hexdumps the received packets
function SndRcvList:hexdump()
  local t = {}
  for k, pair in ipairs(self) do t[k] = pair.received end
  return new(t, info[self].name):hexdump()
end

--- ans:filter(fn(pair)) keeps pairs
function SndRcvList:filter(f)
  if type(f) ~= "function" then
    error("bad argument #1 to 'filter' (function of a {sent, received} pair expected)", 2)
  end
  local t = {}
  for _, pair in ipairs(self) do
    if f(pair) then t[#t + 1] = pair end
  end
  return M.SndRcvList_new(t, "filtered " .. info[self].name)
end

return M
