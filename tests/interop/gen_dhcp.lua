-- gen_dhcp.lua: random BOOTP/DHCP packets for the Scapy cross-check
-- (run_dhcp_crosscheck.sh, dhcp_oracle.py), in the style of gen_cases.lua.
--
--   lua5.4 tests/interop/gen_dhcp.lua [seed] [count]
--
-- Each case is one line: a Python expression that builds the packet in
-- Scapy 2.5, a tab, sflua's bytes in hex, a tab, the sflua spec (a list of
-- {constructor, {field = value}} layers) as a Lua literal, a tab, and the
-- option list sflua should read back from the bytes (nil without DHCP).
-- Where Scapy keeps an option as bytes (client_id, client_FQDN,
-- relay_agent_information, 119) this file writes those bytes itself, so
-- the expected structure and the bytes come from here, not from the codec.
local sf = require("stackforge")

local seed = tonumber(arg[1]) or 20250611
local count = tonumber(arg[2]) or 400
math.randomseed(seed)

local R = math.random
local function chance(p) return R() < p end
local function pick(t) return t[R(1, #t)] end
local spack, schar = string.pack, string.char

-- ---- random values -----------------------------------------------------------

local function rbytes(n)
  local b = {}
  for i = 1, n do b[i] = schar(R(0, 255)) end
  return table.concat(b)
end

local function rtext(lo, hi)
  local b = {}
  for i = 1, R(lo, hi) do b[i] = schar(pick({R(97, 122), R(48, 57), 45})) end
  return table.concat(b)
end

local function rip4()
  return ("%d.%d.%d.%d"):format(R(0, 255), R(0, 255), R(0, 255), R(0, 255))
end

local function ip_bytes(a)
  local b = {}
  for x in a:gmatch("%d+") do b[#b + 1] = schar(tonumber(x)) end
  return table.concat(b)
end

local function rmac_bytes()
  return rbytes(6)
end

local function mac_text(b)
  return (b:gsub(".", function(c) return ("%02x:"):format(c:byte()) end):sub(1, -2))
end

-- ---- literals ------------------------------------------------------------------

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
  if tv == "number" then return tostring(v)
  elseif tv == "string" then return luastr(v)
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

local function pybytes(s)
  return "b'" .. s:gsub(".", function(c)
    if c:match("[%w %-%.:_/]") then return c end
    return ("\\x%02x"):format(c:byte())
  end) .. "'"
end

local function pystr(s) return "'" .. s .. "'" end

-- ---- DNS names (RFC 1035), written here independently of the codec -----------

-- names as labels, each name's longest suffix written before replaced by
-- a pointer (RFC 3397 4.1's example does this)
local function wire_names(names)
  local out, seen, pos = {}, {}, 0
  for _, name in ipairs(names) do
    local labels = {}
    for l in name:gmatch("[^.]+") do labels[#labels + 1] = l end
    local i = 1
    while i <= #labels and not seen[table.concat(labels, ".", i)] do
      seen[table.concat(labels, ".", i)] = pos
      out[#out + 1] = schar(#labels[i]) .. labels[i]
      pos = pos + 1 + #labels[i]
      i = i + 1
    end
    if i <= #labels then
      out[#out + 1] = spack(">I2", 0xc000 + seen[table.concat(labels, ".", i)])
      pos = pos + 2
    else
      out[#out + 1] = "\0"
      pos = pos + 1
    end
  end
  return table.concat(out)
end

local function rname()
  local n = {}
  for i = 1, R(1, 3) do n[i] = rtext(1, 8) end
  n[#n + 1] = pick({"com", "org", "net", "example"})
  return table.concat(n, ".")
end

-- ---- options: {lua item, python item, expected item} --------------------------

local message_types = {"discover", "offer", "request", "decline", "ack", "nak",
  "release", "inform", "force_renew", "lease_query", "lease_unassigned",
  "lease_unknown", "lease_active"}

local ip_single = {"subnet_mask", "broadcast_address", "requested_addr", "server_id",
  "swap-server", "subnet-selection"}
local ip_list = {"router", "name_server", "NTP_server", "time_server", "NetBIOS_server",
  "log_server"}
local u32s = {"lease_time", "renewal_time", "rebinding_time", "arp_cache_timeout",
  "tcp_keepalive_interval"}
local u16s = {"max_dhcp_size", "interface-mtu", "boot-size", "max_dgram_reass_size"}
local u8s = {"default_ttl", "ip-forwarding", "NetBIOS_node_type", "tcp_ttl"}
local strs = {"hostname", "domain", "vendor_class_id", "vendor_specific", "user_class",
  "tftp_server_name", "boot-file-name", "error_message", "NIS_domain"}
-- what the request list names (codes of the option table, and others)
local prl_names = {[1] = "subnet_mask", [3] = "router", [6] = "name_server",
  [12] = "hostname", [15] = "domain", [28] = "broadcast_address", [42] = "NTP_server",
  [51] = "lease_time", [119] = "domain_search", [121] = "classless_static_routes"}
local prl_codes = {1, 3, 6, 12, 15, 28, 42, 51, 119, 121, 95, 108, 252}
local unknown_codes = {80, 95, 108, 145, 175, 200, 220, 224, 250, 254}

local function opt_ips(name, n)
  local l, p = {name}, {pystr(name)}
  for i = 1, n do
    l[i + 1] = rip4()
    p[i + 1] = pystr(l[i + 1])
  end
  local lua = l
  if n > 1 and chance(0.5) then lua = {name, {table.unpack(l, 2)}} end
  return lua, "(" .. table.concat(p, ",") .. ")", l
end

local function opt_int(name, lo, hi)
  local v = R(lo, hi)
  return {name, v}, ("(%s,%d)"):format(pystr(name), v), {name, v}
end

local option_makers = {
  function() return opt_ips(pick(ip_single), 1) end,
  function() return opt_ips(pick(ip_list), R(1, 4)) end,
  function()
    local name = pick(u32s)
    if chance(0.15) then return opt_int(name, 0xffffffff, 0xffffffff) end  -- "infinite"
    return opt_int(name, 0, 0xffffffff)
  end,
  function()  -- RFC 2132's offset is signed; Scapy's IntField takes it unsigned
    local v = R(-43200, 50400)
    return {"time_zone", v}, ("('time_zone',%d)"):format(v & 0xffffffff), {"time_zone", v}
  end,
  function() return opt_int(pick(u16s), 0, 0xffff) end,
  function() return opt_int(pick(u8s), 0, 255) end,
  function()
    local name = pick(strs)
    local v = chance(0.6) and rtext(0, 30) or rbytes(R(0, 40))
    return {name, v}, ("(%s,%s)"):format(pystr(name), pybytes(v)), {name, v}
  end,
  function()
    local n = R(1, 13)
    local lua = chance(0.5) and message_types[n] or n
    local py = chance(0.5) and pystr(message_types[n]) or tostring(n)
    if chance(0.1) then n = R(14, 255); lua = n; py = tostring(n) end
    return {"message-type", lua}, ("('message-type',%s)"):format(py),
      {"message-type", message_types[n] or n}
  end,
  function()
    local codes, names, lua = {}, {}, {}
    for i = 1, R(1, 12) do
      codes[i] = pick(prl_codes)
      names[i] = prl_names[codes[i]] or codes[i]
      lua[i] = chance(0.5) and names[i] or codes[i]
    end
    local py = {}
    for i, c in ipairs(codes) do py[i] = tostring(c) end
    return {"param_req_list", lua}, ("('param_req_list',[%s])"):format(table.concat(py, ",")),
      {"param_req_list", names}
  end,
  function()  -- client_id: {type, id}
    local t, id, lua_id, want_id = pick({1, 1, 1, 6, 0, 255, 7}), nil, nil, nil
    if t == 1 or t == 6 then
      id = rmac_bytes()
      want_id = mac_text(id)
      lua_id = chance(0.7) and want_id or id
    else
      id = t == 0 and rtext(1, 20) or rbytes(R(1, 20))
      want_id, lua_id = id, id
    end
    local raw = schar(t) .. id
    local lua = chance(0.8) and {"client_id", {t, lua_id}} or {"client_id", raw}
    return lua, ("('client_id',%s)"):format(pybytes(raw)), {"client_id", {t, want_id}}
  end,
  function()  -- client_FQDN (RFC 4702)
    local flags = pick({0, 1, 4, 5, 0x0c, 0x05, 0x01})
    local r1, r2 = pick({0, 255}), pick({0, 255})
    local name, wire
    if flags & 4 ~= 0 then
      local n = rname()
      if chance(0.5) then  -- fully qualified: a root label ends it
        name, wire = n .. ".", wire_names({n})
      else
        name, wire = n, wire_names({n}):sub(1, -2)
      end
    else
      name = chance(0.8) and rname() or ""
      wire = name
    end
    local raw = schar(flags, r1, r2) .. wire
    local v = {flags = flags, rcode1 = r1, rcode2 = r2, name = name}
    return {"client_FQDN", v}, ("('client_FQDN',%s)"):format(pybytes(raw)), {"client_FQDN", v}
  end,
  function()  -- relay agent information (RFC 3046) and its sub-options
    local lua, want, raw = {}, {}, {}
    for i = 1, R(1, 4) do
      local k = R(1, 6)
      local item, body
      if k == 1 then item = {"circuit_id", rbytes(R(1, 10))}; body = item[2]
      elseif k == 2 then item = {"remote_id", rtext(1, 12)}; body = item[2]
      elseif k == 3 then item = {"link_selection", rip4()}; body = ip_bytes(item[2])
      elseif k == 4 then item = {"server_id_override", rip4()}; body = ip_bytes(item[2])
      elseif k == 5 then item = {"flags", R(0, 255)}; body = schar(item[2])
      else item = {pick({3, 200, 13}), rbytes(R(0, 6))}; body = item[2] end
      local code = ({circuit_id = 1, remote_id = 2, link_selection = 5,
        server_id_override = 11, flags = 10})[item[1]] or item[1]
      lua[i], want[i] = item, item
      raw[i] = schar(code, #body) .. body
    end
    return {"relay_agent_information", lua},
      ("('relay_agent_information',%s)"):format(pybytes(table.concat(raw))),
      {"relay_agent_information", want}
  end,
  function()  -- 119: names sharing suffixes, compressed
    local names, base = {}, rname()
    for i = 1, R(1, 4) do
      names[i] = chance(0.5) and (rtext(1, 6) .. "." .. base) or rname()
    end
    local raw = wire_names(names)
    return {"domain_search", names}, ("(119,%s)"):format(pybytes(raw)), {"domain_search", names}
  end,
  function()  -- 121 (RFC 3442)
    local lua, py, want = {}, {}, {}
    for i = 1, R(1, 4) do
      local bits = pick({0, 8, 16, 24, 32, R(1, 32)})
      local a = {R(0, 255), R(0, 255), R(0, 255), R(0, 255)}
      for j = 1, 4 do  -- the address of the network itself
        local keep = math.max(0, math.min(8, bits - 8 * (j - 1)))
        a[j] = a[j] & (0xff << (8 - keep)) & 0xff
      end
      local dest = ("%d.%d.%d.%d/%d"):format(a[1], a[2], a[3], a[4], bits)
      local gw = rip4()
      want[i] = {dest, gw}
      lua[i] = chance(0.7) and want[i] or (dest .. ":" .. gw)
      py[i] = pystr(dest .. ":" .. gw)
    end
    return {"classless_static_routes", lua},
      ("('classless_static_routes',[%s])"):format(table.concat(py, ",")),
      {"classless_static_routes", want}
  end,
  function()
    local code, v = pick(unknown_codes), rbytes(R(0, 12))
    return {code, v}, ("(%d,%s)"):format(code, pybytes(v)), {code, v}
  end,
  function() return "pad", "'pad'", "pad" end,
}

local function dhcp_options()
  local lua, py, want = {}, {}, {}
  for i = 1, R(0, 9) do
    lua[i], py[i], want[i] = pick(option_makers)()
  end
  if chance(0.9) then
    lua[#lua + 1], py[#py + 1] = "end", "'end'"
    want[#want + 1] = "end"
  end
  return lua, "[" .. table.concat(py, ",") .. "]", want
end

-- ---- packets ----------------------------------------------------------------------

local function bootp()
  local f, py = {}, {}
  local function set(k, lua, pyv)
    f[k] = lua
    py[#py + 1] = ("%s=%s"):format(k, pyv or (type(lua) == "string" and pystr(lua) or tostring(lua)))
  end
  if chance(0.6) then set("op", R(1, 2)) end
  if chance(0.2) then set("htype", pick({1, 6, 32})) end
  if chance(0.1) then set("hlen", R(0, 16)) end
  if chance(0.3) then set("hops", R(0, 16)) end
  if chance(0.8) then set("xid", R(0, 0xffffffff)) end
  if chance(0.3) then set("secs", R(0, 0xffff)) end
  if chance(0.3) then set("flags", R(0, 1) * 0x8000) end
  for _, k in ipairs({"ciaddr", "yiaddr", "siaddr", "giaddr"}) do
    if chance(0.4) then set(k, rip4()) end
  end
  if chance(0.8) then
    local mac = rmac_bytes()
    set("chaddr", mac_text(mac), pybytes(mac))
  elseif chance(0.5) then
    local raw = rbytes(16)
    set("chaddr", raw, pybytes(raw))
  end
  if chance(0.3) then local s = rtext(1, 63); set("sname", s, pybytes(s)) end
  if chance(0.3) then local s = rtext(1, 127); set("file", s, pybytes(s)) end
  return f, "BOOTP(" .. table.concat(py, ",") .. ")"
end

local function udp()
  local k = R(1, 4)
  if k == 1 then return {}, "UDP()" end  -- Scapy's overload: 67 -> 68
  local ports = ({{68, 67}, {67, 68}, {67, 67}})[k - 1]
  return {sport = ports[1], dport = ports[2]},
    ("UDP(sport=%d,dport=%d)"):format(ports[1], ports[2])
end

local function case()
  local spec, py = {}, {}
  local src, dst = "02:00:00:00:00:01", "ff:ff:ff:ff:ff:ff"
  spec[1] = {"Ether", {src = src, dst = dst}}
  py[1] = ("Ether(src='%s',dst='%s')"):format(src, dst)
  local ips, ipd = rip4(), rip4()
  spec[2] = {"IP", {src = ips, dst = ipd}}
  py[2] = ("IP(src='%s',dst='%s')"):format(ips, ipd)
  spec[3], py[3] = udp()
  spec[3] = {"UDP", spec[3]}
  local bf, bpy = bootp()
  local want
  if chance(0.9) then
    spec[4], py[4] = {"BOOTP", bf}, bpy
    local lua, opy, w = dhcp_options()
    spec[5], py[5], want = {"DHCP", {options = lua}}, ("DHCP(options=%s)"):format(opy), w
    if chance(0.1) then  -- padding after the end option, as clients send it
      local n = R(1, 30)
      spec[6], py[6] = {"Raw", {load = ("\0"):rep(n)}}, ("Raw(load=%s)"):format(pybytes(("\0"):rep(n)))
      if want[#want] ~= "end" then  -- without an end, pad options
        for _ = 1, n do want[#want + 1] = "pad" end
      end
    end
    if #want == 0 then want = nil end  -- nothing after the cookie: no DHCP layer
  else  -- BOOTP without the cookie: the rest is its vendor area
    local vend = rbytes(R(0, 64))
    if vend:sub(1, 4) == "c\130Sc" then vend = "x" .. vend end
    bf.options = vend
    spec[4] = {"BOOTP", bf}
    py[4] = bpy:sub(1, -2) .. (bpy:sub(-2) == "()" and "" or ",") .. "options=" .. pybytes(vend) .. ")"
  end
  return spec, table.concat(py, "/"), want
end

-- ---- sflua build ---------------------------------------------------------------

local function deep(v)
  if type(v) ~= "table" then return v end
  local r = {}
  for k, x in pairs(v) do r[k] = deep(x) end
  return r
end

local function build(spec)
  local p
  for _, l in ipairs(spec) do
    local layer = sf[l[1]](deep(l[2]))
    p = p and p / layer or layer
  end
  return p
end

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

for _ = 1, count do
  local spec, expr, want = case()
  local ok, p = pcall(build, spec)
  if not ok then error(("sflua could not build %s: %s"):format(lua_lit(spec), p)) end
  io.write(expr, "\t", hex(p:bytes()), "\t", lua_lit(spec), "\t", want and lua_lit(want) or "nil", "\n")
end
