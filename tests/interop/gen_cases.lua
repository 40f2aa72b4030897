-- gen_cases.lua: random packets for the Scapy cross-check.
--
--   lua5.4 tests/interop/gen_cases.lua [seed] [count]
--
-- For each case prints one line: a Python expression that builds the same
-- packet in Scapy, a tab, sflua's bytes in hex, a tab, the sflua spec as a
-- Lua table literal (a list of {constructor, {field = value}} layers; a
-- "Raw" layer's load is stacked as a plain string).  scapy_oracle.py reads
-- these lines.  The stream depends only on the seed (Lua 5.4's xoshiro).
local sf = require("stackforge")

local seed = tonumber(arg[1]) or 20240601
local count = tonumber(arg[2]) or 600
math.randomseed(seed)

local R = math.random
local function chance(p) return R() < p end
local function pick(t) return t[R(1, #t)] end

-- ---- random values -----------------------------------------------------------

local function rmac()
  local b = {}
  for i = 1, 6 do b[i] = ("%02x"):format(R(0, 255)) end
  if chance(0.2) then b[1] = "ff" end
  return table.concat(b, ":")
end

local function rip4()
  return ("%d.%d.%d.%d"):format(R(0, 255), R(0, 255), R(0, 255), R(0, 255))
end

-- groups are zero often, so "::" compression gets exercised
local function rip6()
  local g = {}
  for i = 1, 8 do g[i] = chance(0.35) and "0" or ("%x"):format(R(0, 0xffff)) end
  if chance(0.3) then g[1] = "fe80"; g[2] = "0"; g[3] = "0"; g[4] = "0" end
  if chance(0.1) then g = {"2001", "db8", "0", "0", "0", "0", "0", ("%x"):format(R(1, 0xffff))} end
  return table.concat(g, ":")
end

local function rbytes(n)
  local b = {}
  for i = 1, n do b[i] = string.char(R(0, 255)) end
  return table.concat(b)
end

local function rpayload()
  local n = pick({0, 1, 4, 7, 16, 33, R(1, 120)})
  if n == 0 then return nil end
  if chance(0.3) then return ("A"):rep(n) end
  return rbytes(n)
end

-- Ports away from the ones Scapy (or sflua) dissect further (53, 80, 123...).
local function rport()
  return R(10000, 60000)
end

local function u16() return R(0, 0xffff) end
local function u32() return R(0, 0xffffffff) end

-- ---- serializers -------------------------------------------------------------

-- a Lua string literal on one line
local function luastr(s)
  return '"' .. s:gsub('[%c"\\\128-\255]', function(c)
    return ("\\%03d"):format(c:byte())
  end) .. '"'
end

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b)
    if type(a) == type(b) then return a < b end
    return type(a) == "number"
  end)
  return ks
end

local function lua_lit(v)
  local tv = type(v)
  if tv == "number" then return math.type(v) == "integer" and tostring(v) or ("%.17g"):format(v)
  elseif tv == "string" then return luastr(v)
  elseif tv == "boolean" then return tostring(v)
  elseif tv == "table" then
    local out, n = {}, #v
    for i = 1, n do out[#out + 1] = lua_lit(v[i]) end
    for _, k in ipairs(sorted_keys(v)) do
      if not (math.type(k) == "integer" and k >= 1 and k <= n) then
        out[#out + 1] = ("%s=%s"):format(k, lua_lit(v[k]))
      end
    end
    return "{" .. table.concat(out, ",") .. "}"
  end
  error("cannot serialize " .. tv)
end

local function pystr(s)
  return "'" .. s:gsub("[^%w%.:%-_+ ]", function(c) return ("\\x%02x"):format(c:byte()) end) .. "'"
end

local function pybytes(s)
  return "b'" .. s:gsub(".", function(c)
    if c:match("[%w ]") then return c end
    return ("\\x%02x"):format(c:byte())
  end) .. "'"
end

-- ---- sflua spec -> Scapy expression -----------------------------------------

local icmp6_classes = {
  [1] = "ICMPv6DestUnreach", [2] = "ICMPv6PacketTooBig", [3] = "ICMPv6TimeExceeded",
  [4] = "ICMPv6ParamProblem", [128] = "ICMPv6EchoRequest", [129] = "ICMPv6EchoReply",
  [133] = "ICMPv6ND_RS", [134] = "ICMPv6ND_RA", [135] = "ICMPv6ND_NS",
  [136] = "ICMPv6ND_NA", [137] = "ICMPv6ND_Redirect",
}
local ndopt_classes = {
  [1] = "ICMPv6NDOptSrcLLAddr", [2] = "ICMPv6NDOptDstLLAddr",
  [3] = "ICMPv6NDOptPrefixInfo", [5] = "ICMPv6NDOptMTU",
}
local icmp_presets = {
  ["ICMP.echo_request"] = 8, ["ICMP.echo_reply"] = 0, ["ICMP.dest_unreach"] = 3,
  ["ICMP.redirect"] = 5, ["ICMP.time_exceeded"] = 11, ["ICMP.param_problem"] = 12,
  ["ICMP.timestamp_request"] = 13, ["ICMP.timestamp_reply"] = 14,
}

local function py_tcp_options(list)
  local out = {}
  for _, o in ipairs(list) do
    local name, v = o[1], o[2]
    local pv
    if name == "NOP" or name == "EOL" then pv = "None"
    elseif name == "SAckOK" then pv = "b''"
    elseif name == "Timestamp" then pv = ("(%d,%d)"):format(v[1], v[2])
    elseif name == "SAck" then
      local xs = {}
      for i, x in ipairs(v) do xs[i] = tostring(x) end
      pv = "(" .. table.concat(xs, ",") .. (#xs == 1 and ",)" or ")")
    else pv = tostring(v) end
    out[#out + 1] = ("(%s,%s)"):format(pystr(name), pv)
  end
  return "[" .. table.concat(out, ",") .. "]"
end

local function py_addr_list(list)
  local xs = {}
  for i, a in ipairs(list) do xs[i] = pystr(a) end
  return "[" .. table.concat(xs, ",") .. "]"
end

local function py_ip_options(list)
  local out = {}
  for _, o in ipairs(list) do
    local name, v = o[1], o[2]
    if name == "NOP" then out[#out + 1] = "IPOption_NOP()"
    elseif name == "EOL" then out[#out + 1] = "IPOption_EOL()"
    elseif name == "RR" or name == "LSRR" or name == "SSRR" then
      out[#out + 1] = ("IPOption_%s(routers=%s)"):format(name, py_addr_list(v))
    elseif name == "Router_Alert" then out[#out + 1] = ("IPOption_Router_Alert(alert=%d)"):format(v)
    elseif name == "Stream_Id" then out[#out + 1] = ("IPOption_Stream_Id(security=%d)"):format(v)
    else error("no Scapy mapping for IP option " .. name) end
  end
  return "[" .. table.concat(out, ",") .. "]"
end

local function py_ip6_options(list)
  local out = {}
  for _, o in ipairs(list) do
    local name, v = o[1], o[2]
    if name == "Pad1" then out[#out + 1] = "Pad1()"
    elseif name == "PadN" then out[#out + 1] = ("PadN(optdata=%s)"):format(pybytes(("\0"):rep(v)))
    elseif name == "RouterAlert" then out[#out + 1] = ("RouterAlert(value=%d)"):format(v)
    elseif name == "Jumbo" then out[#out + 1] = ("Jumbo(jumboplen=%d)"):format(v)
    elseif name == "HAO" then out[#out + 1] = ("HAO(hoa=%s)"):format(pystr(v))
    else error("no Scapy mapping for IPv6 option " .. name) end
  end
  return "[" .. table.concat(out, ",") .. "]"
end

local function py_layer(ctor, f)
  local cls, kw = ctor, {}
  local fields = {}
  for k, v in pairs(f) do fields[k] = v end
  if icmp_presets[ctor] then
    cls = "ICMP"
    fields.type = icmp_presets[ctor]
  elseif ctor == "ICMPv6" then
    cls = assert(icmp6_classes[fields.type], "ICMPv6 type")
  elseif ctor == "ICMPv6NDOpt" then
    cls = assert(ndopt_classes[fields.type], "NDOpt type")
  elseif ctor == "Raw" or ctor == "Padding" then
    return ("%s(load=%s)"):format(ctor, pybytes(fields.load))
  end
  for _, k in ipairs(sorted_keys(fields)) do
    local v, pv = fields[k], nil
    if k == "options" and cls == "TCP" then pv = py_tcp_options(v)
    elseif k == "options" and cls == "IP" then pv = py_ip_options(v)
    elseif k == "options" then pv = py_ip6_options(v)
    elseif k == "addresses" then pv = py_addr_list(v)
    elseif k == "data" or k == "load" then pv = pybytes(v)
    elseif type(v) == "string" then pv = pystr(v)
    else pv = tostring(v) end
    kw[#kw + 1] = ("%s=%s"):format(k, pv)
  end
  return ("%s(%s)"):format(cls, table.concat(kw, ","))
end

local function py_expr(spec)
  local parts = {}
  for i, l in ipairs(spec) do parts[i] = py_layer(l[1], l[2]) end
  return table.concat(parts, "/")
end

-- ---- sflua build ---------------------------------------------------------------

local function ctor_of(name)
  local c = sf
  for part in name:gmatch("[^.]+") do c = c[part] end
  return assert(c, name)
end

-- Copy a table deeply: constructors must not see (or keep) the spec's tables.
local function deep(v)
  if type(v) ~= "table" then return v end
  local r = {}
  for k, x in pairs(v) do r[k] = deep(x) end
  return r
end

local function build(spec)
  local p
  for _, l in ipairs(spec) do
    local layer = l[1] == "Raw" and l[2].load or ctor_of(l[1])(deep(l[2]))
    p = p and p / layer or layer
  end
  return p
end

-- ---- random layers -------------------------------------------------------------

local function ether() return {"Ether", {dst = rmac(), src = rmac()}} end

local function dot1q(name)
  local f = {vlan = R(0, 4095)}
  if chance(0.7) then f.prio = R(0, 7) end
  if chance(0.3) then f.id = R(0, 1) end
  return {name or "Dot1Q", f}
end

local tcp_flag_letters = {"F", "S", "R", "P", "A", "U", "E", "C", "N"}
local function tcp_flags()
  local common = {"S", "SA", "A", "PA", "FA", "R", "RA", "", "FPU"}
  if chance(0.5) then return pick(common) end
  local s = {}
  for _, c in ipairs(tcp_flag_letters) do if chance(0.3) then s[#s + 1] = c end end
  return table.concat(s)
end

local function tcp_options()
  local all = {}
  local size = 0
  local n = R(1, 7)
  for _ = 1, n do
    local k = R(1, 8)
    local o
    if k == 8 then o = {"UTO", u16()}
    elseif k == 1 then o = {"MSS", u16()}
    elseif k == 2 then o = {"NOP"}
    elseif k == 3 then o = {"WScale", chance(0.8) and R(0, 14) or R(0, 255)}
    elseif k == 4 then o = {"SAckOK", ""}
    elseif k == 5 then o = {"Timestamp", {u32(), u32()}}
    elseif k == 6 then
      local v = {}
      for i = 1, 2 * R(1, 3) do v[i] = u32() end
      o = {"SAck", v}
    else o = {"NOP"} end
    local sz = ({MSS = 4, NOP = 1, WScale = 3, SAckOK = 2, Timestamp = 10, UTO = 4})[o[1]]
      or 2 + 4 * #o[2]
    if size + sz <= 39 then all[#all + 1] = o; size = size + sz end
  end
  if chance(0.25) then all[#all + 1] = {"EOL"} end
  return all
end

local function tcp()
  local f = {sport = rport(), dport = rport(), seq = u32(), ack = u32(),
    flags = tcp_flags(), window = u16()}
  if chance(0.3) then f.urgptr = u16() end
  if chance(0.15) then f.reserved = R(0, 7) end
  if chance(0.5) then f.options = tcp_options() end
  if chance(0.1) then f.chksum = 0 elseif chance(0.1) then f.chksum = u16() end
  return {"TCP", f}
end

local function udp()
  local f = {sport = rport(), dport = rport()}
  if chance(0.1) then f.chksum = 0 elseif chance(0.05) then f.chksum = u16() end
  return {"UDP", f}
end

-- Features each exercised against Scapy: source routes before TCP/UDP (the
-- pseudo-header takes the route's last address), built Padding after the
-- payload (outside IP/UDP lengths), padding after ARP, the HAO option.
local SOURCE_ROUTE_PSEUDO_HEADER = true
local PADDING_AFTER_PAYLOAD = true
local ARP_PADDING = true
local HAO_OPTION = true

-- sr: may carry a source route (at most one, as RFC 791 asks)
local function ip_options(sr)
  local all, size = {}, 0
  for _ = 1, R(1, 4) do
    local k = R(1, 7)
    local o
    if k == 1 then o = {"NOP"}
    elseif k == 2 or k == 3 or k == 4 then
      local rs = {}
      for i = 1, R(1, 3) do rs[i] = rip4() end
      o = {({"RR", "LSRR", "SSRR"})[k - 1], rs}
      if o[1] ~= "RR" then
        if sr then sr = false else o[1] = "RR" end
      end
    elseif k == 5 or k == 6 then o = {"Router_Alert", chance(0.7) and 0 or u16()}
    else o = {"Stream_Id", u16()} end
    local sz = o[1] == "NOP" and 1 or (o[1]:match("RR$") and 3 + 4 * #o[2] or 4)
    if size + sz <= 39 then all[#all + 1] = o; size = size + sz end
  end
  if chance(0.3) then all[#all + 1] = {"EOL"} end
  return all
end

local ip_flag_values = {"", "", "DF", "DF", "MF", "MF+DF", "evil", "DF+evil"}

-- upper: what follows ("tcp", "udp", "icmp", "raw"); a fragment (offset
-- above 0) is made only when upper is "raw"
local function ip(upper)
  local f = {src = rip4(), dst = rip4(), ttl = R(0, 255), id = u16(),
    tos = chance(0.5) and R(0, 255) or nil, flags = pick(ip_flag_values)}
  local sr = SOURCE_ROUTE_PSEUDO_HEADER or (upper ~= "tcp" and upper ~= "udp")
  if chance(0.3) then f.options = ip_options(sr) end
  if chance(0.1) then f.chksum = 0 elseif chance(0.05) then f.chksum = u16() end
  if upper == "raw" and chance(0.5) then f.frag = R(1, 0x1fff) end
  return {"IP", f}
end

local function ip6()
  local f = {src = rip6(), dst = rip6(), hlim = R(0, 255)}
  if chance(0.5) then f.tc = R(0, 255) end
  if chance(0.5) then f.fl = R(0, 0xfffff) end
  return {"IPv6", f}
end

-- A home address option goes alone in its header: Scapy uses it for the
-- checksum only then, sflua wherever it is (RFC 6275 6.3).
local function ip6_options()
  local all = {}
  if HAO_OPTION and chance(0.15) then return {{"HAO", rip6()}} end
  for _ = 1, R(0, 3) do
    local k = R(1, 5)
    if k == 1 then all[#all + 1] = {"RouterAlert", chance(0.5) and 0 or u16()}
    elseif k == 2 then all[#all + 1] = {"PadN", R(0, 5)}
    elseif k == 3 then all[#all + 1] = {"Jumbo", u32()}
    elseif k == 4 then all[#all + 1] = {"Pad1"}
    else all[#all + 1] = {"RouterAlert", R(0, 2)} end
  end
  return all
end

local function ext_opts(name)
  local f = {}
  if chance(0.8) then f.options = ip6_options() end
  return {name, f}
end

local function ext_routing()
  local a = {}
  for i = 1, R(0, 3) do a[i] = rip6() end
  local f = {addresses = a}
  if chance(0.2) then f.reserved = u32() end
  if chance(0.15) then f.segleft = R(0, #a) end  -- 0: dst is final
  return {"IPv6ExtHdrRouting", f}
end

local function ext_frag(first)
  local f = {id = u32(), m = R(0, 1), offset = first and 0 or R(1, 0x1fff)}
  if chance(0.1) then f.res1 = R(0, 255) end
  if chance(0.1) then f.res2 = R(0, 3) end
  return {"IPv6ExtHdrFragment", f}
end

local function add(spec, l) spec[#spec + 1] = l; return spec end

local function payload(spec)
  local pl = rpayload()
  if pl then add(spec, {"Raw", {load = pl}}) end
  if PADDING_AFTER_PAYLOAD and pl and chance(0.1) then
    add(spec, {"Padding", {load = ("\0"):rep(R(1, 20))}})
  end
  return spec
end

-- ---- ICMP ------------------------------------------------------------------------

-- the quoted datagram of an ICMP error
local function quoted4(spec)
  local k = R(1, 3)
  local q = ip(({"udp", "tcp", "icmp"})[k])
  q[2].options = nil
  add(spec, q)
  if k == 1 then add(spec, udp()); payload(spec)
  elseif k == 2 then
    local t = tcp()
    t[2].options = nil
    add(spec, t)
  else add(spec, {"ICMP.echo_request", {id = u16(), seq = u16()}}) end
  return spec
end

local function icmp(spec)
  local k = R(1, 9)
  if k <= 2 then
    add(spec, {pick({"ICMP.echo_request", "ICMP.echo_reply"}), {id = u16(), seq = u16()}})
    payload(spec)
  elseif k == 3 then
    local f = {code = R(0, 15)}
    if f.code == 4 or chance(0.2) then f.nexthopmtu = u16() end
    if chance(0.2) then f.length = R(0, 255) end
    add(spec, {"ICMP.dest_unreach", f})
    quoted4(spec)
  elseif k == 4 then
    add(spec, {"ICMP.redirect", {code = R(0, 3), gw = rip4()}})
    quoted4(spec)
  elseif k == 5 then
    local f = {code = R(0, 1)}
    if chance(0.2) then f.unused = u16() end
    add(spec, {"ICMP.time_exceeded", f})
    quoted4(spec)
  elseif k == 6 then
    local f = {code = R(0, 2), ptr = R(0, 255)}
    if chance(0.2) then f.length = R(0, 255) end
    add(spec, {"ICMP.param_problem", f})
    quoted4(spec)
  elseif k == 7 then
    add(spec, {pick({"ICMP.timestamp_request", "ICMP.timestamp_reply"}),
      {id = u16(), seq = u16(), ts_ori = u32(), ts_rx = u32(), ts_tx = u32()}})
  else
    -- generic constructor with a type number
    local t = pick({0, 8})
    local icmp = {type = t, code = 0, id = u16(), seq = u16()}
    if chance(0.1) then icmp.chksum = chance(0.5) and 0 or u16() end
    add(spec, {"ICMP", icmp})
    payload(spec)
  end
  return spec
end

-- ---- ICMPv6 ----------------------------------------------------------------------

local function quoted6(spec)
  add(spec, ip6())
  if chance(0.6) then add(spec, udp()); payload(spec)
  else add(spec, {"ICMPv6EchoRequest", {id = u16(), seq = u16()}}) end
  return spec
end

local function ndopt_lladdr(name) return {name, {lladdr = rmac()}} end

local function icmp6(spec)
  local k = R(1, 12)
  local generic = chance(0.2)
  local function msg(class, type, f)
    if generic then
      f.type = type
      return add(spec, {"ICMPv6", f})
    end
    return add(spec, {class, f})
  end
  if k <= 2 then
    local f = {id = u16(), seq = u16()}
    local d = rpayload()
    if d then f.data = d end
    msg(pick({"ICMPv6EchoRequest", "ICMPv6EchoReply"}), nil, f)
    local l = spec[#spec]
    if generic then l[2].type = l[1] == "ICMPv6" and pick({128, 129}) end
  elseif k == 3 then
    local f = {code = R(0, 6)}
    if chance(0.2) then f.unused = R(0, 0xffffff) end
    if chance(0.2) then f.length = R(0, 255) end
    msg("ICMPv6DestUnreach", 1, f)
    quoted6(spec)
  elseif k == 4 then
    msg("ICMPv6PacketTooBig", 2, {mtu = u32()})
    quoted6(spec)
  elseif k == 5 then
    local f = {code = R(0, 1)}
    if chance(0.2) then f.unused = R(0, 0xffffff) end
    if chance(0.2) then f.length = R(0, 255) end
    msg("ICMPv6TimeExceeded", 3, f)
    quoted6(spec)
  elseif k == 6 then
    msg("ICMPv6ParamProblem", 4, {code = R(0, 2), ptr = u32()})
    quoted6(spec)
  elseif k == 7 then
    local f = {}
    if chance(0.2) then f.res = u32() end
    msg("ICMPv6ND_RS", 133, f)
    if chance(0.7) then add(spec, ndopt_lladdr("ICMPv6NDOptSrcLLAddr")) end
  elseif k == 8 then
    local f = {chlim = R(0, 255), M = R(0, 1), O = R(0, 1), routerlifetime = u16(),
      reachabletime = u32(), retranstimer = u32()}
    if chance(0.5) then f.prf = R(0, 3) end
    if chance(0.2) then f.H = R(0, 1) end
    if chance(0.2) then f.P = R(0, 1) end
    msg("ICMPv6ND_RA", 134, f)
    if chance(0.7) then add(spec, ndopt_lladdr("ICMPv6NDOptSrcLLAddr")) end
    if chance(0.5) then add(spec, {"ICMPv6NDOptMTU", {mtu = u32()}}) end
    for _ = 1, R(0, 2) do
      local pf = {prefixlen = R(0, 128), prefix = rip6(), L = R(0, 1), A = R(0, 1),
        validlifetime = u32(), preferredlifetime = u32()}
      if chance(0.2) then pf.R = R(0, 1) end
      add(spec, {"ICMPv6NDOptPrefixInfo", pf})
    end
  elseif k == 12 then
    msg("ICMPv6ND_Redirect", 137, {tgt = rip6(), dst = rip6()})
    if chance(0.6) then add(spec, ndopt_lladdr("ICMPv6NDOptDstLLAddr")) end
  elseif k == 9 then
    msg("ICMPv6ND_NS", 135, {tgt = rip6()})
    if chance(0.7) then add(spec, ndopt_lladdr("ICMPv6NDOptSrcLLAddr")) end
  else
    local f = {tgt = rip6(), R = R(0, 1), S = R(0, 1), O = R(0, 1)}
    msg("ICMPv6ND_NA", 136, f)
    if chance(0.7) then
      if chance(0.2) then
        add(spec, {"ICMPv6NDOpt", {type = 2, lladdr = rmac()}})
      else
        add(spec, ndopt_lladdr("ICMPv6NDOptDstLLAddr"))
      end
    end
  end
  return spec
end

-- ---- whole packets ---------------------------------------------------------------

local function l2(spec)
  add(spec, ether())
  local v = R(1, 10)
  if v == 1 or v == 2 then add(spec, dot1q())
  elseif v == 3 then add(spec, dot1q()); add(spec, dot1q())
  elseif v == 4 then add(spec, dot1q("Dot1AD")); add(spec, dot1q()) end
  return spec
end

local function v4_case(spec)
  local k = R(1, 7)
  local i = ip(({"tcp", "tcp", "udp", "udp", "icmp", "icmp", "raw"})[k])
  add(spec, i)
  if k == 7 then return payload(spec) end
  if k <= 2 then add(spec, tcp()); return payload(spec)
  elseif k <= 4 then add(spec, udp()); return payload(spec) end
  return icmp(spec)
end

local function v6_case(spec)
  add(spec, ip6())
  -- extension headers in RFC 8200's order, each maybe
  if chance(0.3) then add(spec, ext_opts("IPv6ExtHdrHopByHop")) end
  if chance(0.15) then add(spec, ext_opts("IPv6ExtHdrDestOpt")) end
  if chance(0.2) then add(spec, ext_routing()) end
  if chance(0.2) then
    local first = chance(0.7)
    add(spec, ext_frag(first))
    if not first then return payload(spec) end
  end
  if chance(0.1) then add(spec, ext_opts("IPv6ExtHdrDestOpt")) end
  local k = R(1, 8)
  if k <= 2 then add(spec, tcp()); return payload(spec)
  elseif k <= 4 then add(spec, udp()); return payload(spec)
  elseif k == 5 and #spec <= 3 then return payload(spec) end
  return icmp6(spec)
end

local function arp_case(spec)
  local f = {op = pick({1, 2, 1, 2, R(3, 9)}), hwsrc = rmac(), psrc = rip4(),
    hwdst = rmac(), pdst = rip4()}
  if chance(0.3) then f.op = pick({"who-has", "is-at"}) end
  add(spec, {"ARP", f})
  if ARP_PADDING and chance(0.3) then add(spec, {"Padding", {load = ("\0"):rep(18)}}) end
  return spec
end

-- Now and then set automatic fields (lengths) explicitly, to the values the
-- engine computes: a user-set field must be kept, in Scapy and in sflua.
local pinnable = {IP = {"len", "ihl"}, UDP = {"len"}, IPv6 = {"plen"},
  TCP = {"dataofs"}, IPv6ExtHdrHopByHop = {"len"}, IPv6ExtHdrDestOpt = {"len"},
  IPv6ExtHdrRouting = {"len", "segleft"}, ICMPv6NDOpt = {"len"}}
local function pin_auto(spec)
  local p = sf.Packet(build(spec):bytes())
  for i, l in ipairs(spec) do
    local names = pinnable[l[1]] or (l[1]:match("^ICMPv6NDOpt") and pinnable.ICMPv6NDOpt)
    local view = p:layer(i)
    if names and view and chance(0.12) then
      for _, name in ipairs(names) do l[2][name] = view[name] end
    end
  end
  return spec
end

local function gen_case(i)
  local spec = l2({})
  local k = i % 10
  if k == 0 then arp_case(spec)
  elseif k <= 2 then v4_case(spec)
  elseif k <= 4 then add(spec, ip("icmp")); icmp(spec)
  else v6_case(spec) end
  return pin_auto(spec)
end

-- ---- output ------------------------------------------------------------------------

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

-- the ARP op as Scapy spells it (names are the same in both)
for i = 1, count do
  local spec = gen_case(i)
  local ok, bytes = pcall(function() return build(spec):bytes() end)
  if not ok then
    io.stderr:write(("case %d: sflua build failed: %s\n  %s\n"):format(i, bytes, lua_lit(spec)))
    bytes = ""
  end
  io.write(py_expr(spec), "\t", hex(bytes), "\t", lua_lit(spec), "\n")
end
