-- codecs/dhcp.lua: DHCP options (RFC 2132 and successors) as Scapy's
-- DHCP(options=[...]) has them, for the DHCP layer's `options` field
-- (the engine keeps their bytes; its BOOTP and DHCP descriptors name this codec):
--
--   {{"message-type", "discover"}, {"requested_addr", "10.0.0.5"},
--    {"name_server", "192.0.2.1", "192.0.2.2"}, {"lease_time", 3600},
--    {"param_req_list", {"subnet_mask", "router", "name_server"}}, "end"}
--
-- Names are Scapy 2.5's (its DHCPOptions); "pad" and "end" stand alone.
-- Values are typed: addresses as text (several after the name, as Scapy
-- writes them), integers, strings; the message type and the parameter
-- request list by name; and where Scapy keeps bytes, structures:
-- client_id {type, id} (a MAC address as text for types 1 and 6), client_FQDN
-- {flags=, rcode1=, rcode2=, name=}, relay_agent_information a list of
-- sub-options, domain_search (119) a list of names, classless static
-- routes {"10.0.0.0/8", "192.0.2.1"} pairs.  An option without a name,
-- or whose bytes do not fit its type, is {code, bytes}; built from a
-- number, an option takes its bytes as they are.
local core = require("stackforge.core")

local spack, sunpack, schar = string.pack, string.unpack, string.char

-- ---- the options: code -> {name, type} ---------------------------------------------

-- types: ip (IPv4 addresses), u8 u16 u32 s32 (integers), str (bytes),
-- and the structured ones named after their option
local options = {
  [1] = {"subnet_mask", "ip"}, [2] = {"time_zone", "s32"}, [3] = {"router", "ip"},
  [4] = {"time_server", "ip"}, [5] = {"IEN_name_server", "ip"},
  [6] = {"name_server", "ip"}, [7] = {"log_server", "ip"},
  [8] = {"cookie_server", "ip"}, [9] = {"lpr_server", "ip"},
  [10] = {"impress-servers", "ip"}, [11] = {"resource-location-servers", "ip"},
  [12] = {"hostname", "str"}, [13] = {"boot-size", "u16"}, [14] = {"dump_path", "str"},
  [15] = {"domain", "str"}, [16] = {"swap-server", "ip"},
  [17] = {"root_disk_path", "str"}, [18] = {"extensions-path", "str"},
  [19] = {"ip-forwarding", "u8"}, [20] = {"non-local-source-routing", "u8"},
  [21] = {"policy-filter", "ip"}, [22] = {"max_dgram_reass_size", "u16"},
  [23] = {"default_ttl", "u8"}, [24] = {"pmtu_timeout", "u32"},
  [25] = {"path-mtu-plateau-table", "u16"}, [26] = {"interface-mtu", "u16"},
  [27] = {"all-subnets-local", "u8"}, [28] = {"broadcast_address", "ip"},
  [29] = {"perform-mask-discovery", "u8"}, [30] = {"mask-supplier", "u8"},
  [31] = {"router-discovery", "u8"}, [32] = {"router-solicitation-address", "ip"},
  [33] = {"static-routes", "ip"}, [34] = {"trailer-encapsulation", "u8"},
  [35] = {"arp_cache_timeout", "u32"}, [36] = {"ieee802-3-encapsulation", "u8"},
  [37] = {"tcp_ttl", "u8"}, [38] = {"tcp_keepalive_interval", "u32"},
  [39] = {"tcp_keepalive_garbage", "u8"}, [40] = {"NIS_domain", "str"},
  [41] = {"NIS_server", "ip"}, [42] = {"NTP_server", "ip"},
  [43] = {"vendor_specific", "str"}, [44] = {"NetBIOS_server", "ip"},
  [45] = {"NetBIOS_dist_server", "ip"}, [46] = {"NetBIOS_node_type", "u8"},
  [47] = {"netbios-scope", "str"}, [48] = {"font-servers", "ip"},
  [49] = {"x-display-manager", "ip"}, [50] = {"requested_addr", "ip"},
  [51] = {"lease_time", "u32"}, [52] = {"dhcp-option-overload", "u8"},
  [53] = {"message-type", "message_type"}, [54] = {"server_id", "ip"},
  [55] = {"param_req_list", "param_req_list"}, [56] = {"error_message", "str"},
  [57] = {"max_dhcp_size", "u16"}, [58] = {"renewal_time", "u32"},
  [59] = {"rebinding_time", "u32"}, [60] = {"vendor_class_id", "str"},
  [61] = {"client_id", "client_id"}, [62] = {"nwip-domain-name", "str"},
  [64] = {"NISplus_domain", "str"}, [65] = {"NISplus_server", "ip"},
  [66] = {"tftp_server_name", "str"}, [67] = {"boot-file-name", "str"},
  [68] = {"mobile-ip-home-agent", "ip"}, [69] = {"SMTP_server", "ip"},
  [70] = {"POP3_server", "ip"}, [71] = {"NNTP_server", "ip"},
  [72] = {"WWW_server", "ip"}, [73] = {"Finger_server", "ip"},
  [74] = {"IRC_server", "ip"}, [75] = {"StreetTalk_server", "ip"},
  [76] = {"StreetTalk_Dir_Assistance", "ip"}, [77] = {"user_class", "str"},
  [78] = {"slp_service_agent", "str"}, [79] = {"slp_service_scope", "str"},
  [81] = {"client_FQDN", "client_fqdn"}, [82] = {"relay_agent_information", "relay"},
  [85] = {"nds-server", "ip"}, [86] = {"nds-tree-name", "str"},
  [87] = {"nds-context", "str"}, [88] = {"bcms-controller-namesi", "str"},
  [89] = {"bcms-controller-address", "ip"}, [91] = {"client-last-transaction-time", "u32"},
  [92] = {"associated-ip", "ip"}, [93] = {"pxe_client_architecture", "str"},
  [94] = {"pxe_client_network_interface", "str"},
  [97] = {"pxe_client_machine_identifier", "str"}, [98] = {"uap-servers", "str"},
  [100] = {"pcode", "str"}, [101] = {"tcode", "str"},
  [112] = {"netinfo-server-address", "ip"}, [113] = {"netinfo-server-tag", "str"},
  [114] = {"default-url", "str"}, [116] = {"auto-config", "u8"},
  [117] = {"name-service-search", "u16"}, [118] = {"subnet-selection", "ip"},
  [119] = {"domain_search", "domain_search"},  -- RFC 3397; Scapy 2.5 has no name
  [121] = {"classless_static_routes", "routes"}, [124] = {"vendor_class", "str"},
  [125] = {"vendor_specific_information", "str"}, [128] = {"tftp_server_ip_address", "ip"},
  [136] = {"pana-agent", "ip"}, [137] = {"v4-lost", "str"}, [138] = {"capwap-ac-v4", "ip"},
  [141] = {"sip_ua_service_domains", "str"}, [146] = {"rdnss-selection", "str"},
  [150] = {"tftp_server_address", "ip"}, [159] = {"v4-portparams", "str"},
  [160] = {"v4-captive-portal", "str"}, [161] = {"mud-url", "str"},
  [208] = {"pxelinux_magic", "str"}, [209] = {"pxelinux_configuration_file", "str"},
  [210] = {"pxelinux_path_prefix", "str"}, [211] = {"pxelinux_reboot_time", "str"},
  [212] = {"option-6rd", "str"}, [213] = {"v4-access-domain", "str"},
}

local by_name = {pad = 0, ["end"] = 255}
for code, o in pairs(options) do by_name[o[1]] = code end

-- Scapy's DHCPTypes, and RFC 6926/7724's message types after them
local message_types = {"discover", "offer", "request", "decline", "ack", "nak",
  "release", "inform", "force_renew", "lease_query", "lease_unassigned",
  "lease_unknown", "lease_active"}
local message_type_number = {}
for n, name in ipairs(message_types) do message_type_number[name] = n end

-- relay agent sub-options (RFC 3046, 3256, 3527, 3993, 4014, 4030, 4243,
-- 5010, 5107, 6925, 6607)
local relay_subopts = {
  [1] = {"circuit_id", "str"}, [2] = {"remote_id", "str"},
  [4] = {"docsis_device_class", "u32"}, [5] = {"link_selection", "ip"},
  [6] = {"subscriber_id", "str"}, [7] = {"radius_attributes", "str"},
  [8] = {"authentication", "str"}, [9] = {"vendor_specific", "str"},
  [10] = {"flags", "u8"}, [11] = {"server_id_override", "ip"},
  [12] = {"relay_id", "str"}, [151] = {"vss", "str"}, [152] = {"vss_control", "str"},
}
local relay_by_name = {}
for code, o in pairs(relay_subopts) do relay_by_name[o[1]] = code end

-- ---- errors -----------------------------------------------------------------------------

-- Codec errors carry no position: the binding raises them at the caller's line.
local function fail(fmt, ...)
  error(fmt:format(...), 0)
end

-- names close to a misspelt one (at most three), for the error
local function close_names(name)
  local scored = {}
  local lname = name:lower()
  for n in pairs(by_name) do
    local ln, score = n:lower(), 0
    if ln:find(lname, 1, true) or lname:find(ln, 1, true) then score = 3 end
    for i = 1, #lname - 2 do
      if ln:find(lname:sub(i, i + 2), 1, true) then score = score + 1 end
    end
    if score > 0 then scored[#scored + 1] = {n, score} end
  end
  table.sort(scored, function(a, b) return a[2] > b[2] or (a[2] == b[2] and a[1] < b[1]) end)
  local r = {}
  for i = 1, math.min(3, #scored) do r[i] = '"' .. scored[i][1] .. '"' end
  return r
end

local function option_code(name)
  if math.type(name) == "integer" then
    if name < 0 or name > 255 then fail("DHCP option %d: codes are 0..255", name) end
    return name
  end
  if type(name) ~= "string" then
    fail("DHCP options: %s is not an option name or code", tostring(name))
  end
  local code = by_name[name]
  if code then return code end
  local near = close_names(name)
  fail("unknown DHCP option '%s' (%sScapy's names, or a code 0..255)", name,
    #near > 0 and "did you mean " .. table.concat(near, ", ") .. "? " or "")
end

-- ---- values from bytes ------------------------------------------------------------------

local int_size = {u8 = 1, u16 = 2, u32 = 4, s32 = 4}
local int_fmt = {u8 = ">I1", u16 = ">I2", u32 = ">I4", s32 = ">i4"}

-- a whole number of addresses or integers, as Scapy's flat values
local function decode_items(kind, d)
  local size = kind == "ip" and 4 or int_size[kind]
  assert(#d % size == 0, "bad length")
  local r = {}
  for i = 1, #d, size do
    r[#r + 1] = kind == "ip" and core.ntop(d:sub(i, i + 3)) or (sunpack(int_fmt[kind], d, i))
  end
  return r
end

-- DNS names (RFC 1035 3.1) from d at i, following pointers within d
-- (RFC 3397 4.1: offsets count from the start of the option's data);
-- returns the dotted name (a trailing dot when it ended at the root,
-- "." for the root alone) and where the name ends in d.
local function decode_name(d, i, allow_partial)
  local labels, after, hops = {}, nil, 0
  while true do
    local len = d:byte(i)
    if not len then
      assert(allow_partial and not after, "name runs past the data")
      return table.concat(labels, "."), i
    end
    if len == 0 then
      local name = table.concat(labels, ".") .. "."
      return name, after or i + 1
    elseif len >= 0xc0 then
      local lo = assert(d:byte(i + 1), "pointer cut short")
      hops = hops + 1
      assert(hops <= 128, "pointer loop")
      after = after or i + 2
      i = ((len & 0x3f) << 8 | lo) + 1
    else
      assert(len < 0x40, "bad label type")
      assert(i + len <= #d, "label runs past the data")
      labels[#labels + 1] = d:sub(i + 1, i + len)
      i = i + 1 + len
    end
  end
end

local function decode_search(d)
  local names, i = {}, 1
  while i <= #d do
    local name
    name, i = decode_name(d, i)
    names[#names + 1] = name == "." and name or name:sub(1, -2)
  end
  return names
end

-- RFC 3442: a prefix length, its significant octets, then the router
local function decode_routes(d)
  local r, i = {}, 1
  while i <= #d do
    local bits = d:byte(i)
    assert(bits <= 32, "bad prefix length")
    local octets = (bits + 7) // 8
    assert(i + octets + 4 <= #d, "route cut short")
    local dest = core.ntop((d:sub(i + 1, i + octets) .. "\0\0\0\0"):sub(1, 4))
    r[#r + 1] = {dest .. "/" .. bits, core.ntop(d:sub(i + 1 + octets, i + 4 + octets))}
    i = i + 5 + octets
  end
  return r
end

local function mac_text(id)
  return (id:gsub(".", function(c) return ("%02x:"):format(c:byte()) end):sub(1, -2))
end

-- hardware types whose addresses are MAC addresses (Ethernet, IEEE 802)
local mac_types = {[1] = true, [6] = true}

local function decode_client_id(d)
  assert(#d >= 1, "no type")
  local t, id = d:byte(1), d:sub(2)
  if mac_types[t] and #id == 6 then id = mac_text(id) end
  return {t, id}
end

-- RFC 4702: flags, two result codes, the name (DNS wire format with E)
local function decode_fqdn(d)
  assert(#d >= 3, "too short")
  local flags, name = d:byte(1), d:sub(4)
  if flags & 0x04 ~= 0 and #name > 0 then
    local n, stop = decode_name(name, 1, true)
    assert(stop == #name + 1, "bytes after the name")
    name = n
  end
  return {flags = flags, rcode1 = d:byte(2), rcode2 = d:byte(3), name = name}
end

local decode_value  -- (kind, bytes, table) -> the values after the name

local function decode_tlvs(d, table_)
  local r, i = {}, 1
  while i <= #d do
    local code, len = d:byte(i), d:byte(i + 1)
    assert(len and i + 1 + len <= #d, "sub-option cut short")
    local body, o = d:sub(i + 2, i + 1 + len), table_[code]
    local ok, v = pcall(decode_value, o and o[2] or "str", body)
    if o and ok then
      local item = {o[1]}
      table.move(v, 1, #v, 2, item)
      r[#r + 1] = item
    else
      r[#r + 1] = {code, body}
    end
    i = i + 2 + len
  end
  return r
end

local decoders = {
  str = function(d) return {d} end,
  message_type = function(d)
    assert(#d == 1, "bad length")
    return {message_types[d:byte()] or d:byte()}
  end,
  param_req_list = function(d)
    local r = {}
    for i = 1, #d do
      local o = options[d:byte(i)]
      r[i] = o and o[1] or d:byte(i)
    end
    return {r}
  end,
  client_id = function(d) return {decode_client_id(d)} end,
  client_fqdn = function(d) return {decode_fqdn(d)} end,
  relay = function(d) return {decode_tlvs(d, relay_subopts)} end,
  domain_search = function(d) return {decode_search(d)} end,
  routes = function(d) return {decode_routes(d)} end,
}

function decode_value(kind, d)
  local dec = decoders[kind]
  if dec then return dec(d) end
  return decode_items(kind, d)
end

-- The option list: typed where the bytes fit the type, {code, bytes}
-- where they do not.  The engine has cut the list at "end" or before an
-- option that runs past it; what is left over is kept as bytes.
local function decode(d)
  local r, i = {}, 1
  while i <= #d do
    local code = d:byte(i)
    if code == 0 or code == 255 then
      r[#r + 1] = code == 0 and "pad" or "end"
      i = i + 1
    else
      local len = d:byte(i + 1)
      if not len or i + 1 + len > #d then
        r[#r + 1] = {code, d:sub(i + 2)}
        break
      end
      local body, o = d:sub(i + 2, i + 1 + len), options[code]
      local ok, v = pcall(decode_value, o and o[2] or "str", body)
      if o and ok then
        local item = {o[1]}
        table.move(v, 1, #v, 2, item)
        r[#r + 1] = item
      else
        r[#r + 1] = {code, body}
      end
      i = i + 2 + len
    end
  end
  return r
end

-- ---- values to bytes ----------------------------------------------------------------------

-- An option's values: those after its name ({"router", "a", "b"}), or a
-- list given as its one value ({"router", {"a", "b"}}).
local function values_of(item)
  if #item == 2 and type(item[2]) == "table" then return item[2] end
  return {table.unpack(item, 2)}
end

local function address(what, a)
  local b = type(a) == "string" and core.pton(a)
  if not b or #b ~= 4 then fail("%s: bad IPv4 address %s", what, tostring(a)) end
  return b
end

local int_range = {u8 = {0, 0xff}, u16 = {0, 0xffff}, u32 = {-0x80000000, 0xffffffff},
  s32 = {-0x80000000, 0x7fffffff}}

local function integer(what, kind, v)
  local lo, hi = int_range[kind][1], int_range[kind][2]
  if math.type(v) ~= "integer" or v < lo or v > hi then
    fail("%s: bad value %s (expected an integer %d..%d)", what, tostring(v), lo, hi)
  end
  if kind == "u32" then return spack(">I4", v & 0xffffffff) end
  return spack(int_fmt[kind], v)
end

local function encode_items(what, kind, item)
  local r = {}
  for i, v in ipairs(values_of(item)) do
    r[i] = kind == "ip" and address(what, v) or integer(what, kind, v)
  end
  return table.concat(r)
end

local function string_value(what, v)
  if type(v) ~= "string" then fail("%s: bad value %s (expected a string)", what, tostring(v)) end
  return v
end

-- a MAC address given as text, as its 6 bytes (nil if it is not one)
local function mac_bytes(s)
  if type(s) ~= "string" or not s:match("^%x%x[:-]%x%x[:-]%x%x[:-]%x%x[:-]%x%x[:-]%x%x$") then
    return nil
  end
  return (s:gsub("(%x%x)[:-]?", function(x) return schar(tonumber(x, 16)) end))
end

-- Names as RFC 1035 labels, compressed against the names written before
-- (RFC 3397: pointers count from the start of the option's data).
local function encode_names(what, names)
  if type(names) ~= "table" then fail("%s: bad value %s (expected a list of names)", what, tostring(names)) end
  local out, at, pos = {}, {}, 0
  for _, name in ipairs(names) do
    if type(name) ~= "string" then fail("%s: bad name %s", what, tostring(name)) end
    local labels = {}
    for l in (name:gsub("%.$", "")):gmatch("[^.]+") do labels[#labels + 1] = l end
    local k = 1
    while k <= #labels do
      local suffix = table.concat(labels, ".", k):lower()
      if at[suffix] then break end
      if pos < 0x4000 then at[suffix] = pos end
      local l = labels[k]
      if #l > 63 then fail("%s: label '%s' is longer than 63 bytes", what, l) end
      out[#out + 1] = schar(#l) .. l
      pos = pos + 1 + #l
      k = k + 1
    end
    if k <= #labels then
      local ptr = at[table.concat(labels, ".", k):lower()]
      out[#out + 1] = spack(">I2", 0xc000 | ptr)
      pos = pos + 2
    else
      out[#out + 1] = "\0"
      pos = pos + 1
    end
  end
  return table.concat(out)
end

local function encode_route(what, r)
  local dest, gw
  if type(r) == "string" then  -- Scapy's "10.0.0.0/8:192.0.2.1"
    dest, gw = r:match("^([^:]+):(.+)$")
  elseif type(r) == "table" then
    dest, gw = r[1], r[2]
  end
  local net, bits = tostring(dest):match("^([%d.]+)/(%d+)$")
  bits = tonumber(bits)
  if not net or not gw or bits > 32 then
    fail('%s: bad route %s (expected {"10.0.0.0/8", "192.0.2.1"})', what, tostring(r))
  end
  local octets = (bits + 7) // 8
  return schar(bits) .. address(what, net):sub(1, octets) .. address(what, gw)
end

local encode_value  -- (what, kind, item) -> bytes

local function encode_tlvs(what, list, table_, names)
  if type(list) ~= "table" then
    fail("%s: bad value %s (expected a list of sub-options like {\"circuit_id\", bytes})", what, tostring(list))
  end
  local out = {}
  for i, sub in ipairs(list) do
    if type(sub) ~= "table" then fail("%s: sub-option %d is a %s, not {name, value}", what, i, type(sub)) end
    local code = math.type(sub[1]) == "integer" and sub[1] or names[sub[1]]
    if not code or code < 0 or code > 255 then
      local known = {}
      for n in pairs(names) do known[#known + 1] = n end
      table.sort(known)
      fail("%s: unknown sub-option '%s' (known: %s, or a code 0..255)", what, tostring(sub[1]),
        table.concat(known, ", "))
    end
    local o = table_[code]
    local body = (o and type(sub[1]) == "string") and encode_value(what .. " " .. sub[1], o[2], sub)
      or string_value(what .. " " .. tostring(sub[1]), sub[2] or "")
    if #body > 255 then fail("%s: sub-option %s of %d bytes is too long", what, tostring(sub[1]), #body) end
    out[#out + 1] = schar(code, #body) .. body
  end
  return table.concat(out)
end

local encoders = {
  str = function(what, item) return string_value(what, item[2] or "") end,
  message_type = function(what, item)
    local v = item[2]
    local n = message_type_number[v] or (math.type(v) == "integer" and v >= 0 and v <= 255 and v)
    if not n then
      fail("%s: bad value %s (expected %s, or 0..255)", what, tostring(v), table.concat(message_types, ", "))
    end
    return schar(n)
  end,
  param_req_list = function(what, item)
    local r = {}
    for i, v in ipairs(values_of(item)) do
      local n = math.type(v) == "integer" and v or by_name[v]
      if not n or n < 0 or n > 255 then fail("%s: bad option %s in the list", what, tostring(v)) end
      r[i] = schar(n)
    end
    return table.concat(r)
  end,
  client_id = function(what, item)
    local v = item[2]
    if type(v) == "string" then return v end  -- type and id as bytes (Scapy)
    if type(v) ~= "table" or math.type(v[1]) ~= "integer" or v[1] < 0 or v[1] > 255 then
      fail('%s: bad value %s (expected {type, id} like {1, "00:11:22:33:44:55"}, or bytes)', what, tostring(v))
    end
    local id = v[2] or ""
    if mac_types[v[1]] then id = mac_bytes(id) or id end
    return schar(v[1]) .. string_value(what, id)
  end,
  client_fqdn = function(what, item)
    local v = item[2]
    if type(v) == "string" then return v end
    if type(v) ~= "table" then
      fail("%s: bad value %s (expected {flags=, rcode1=, rcode2=, name=})", what, tostring(v))
    end
    local flags, name = v.flags or 0, v.name or ""
    if math.type(flags) ~= "integer" or flags < 0 or flags > 255 then
      fail("%s: bad flags %s (expected an integer 0..255)", what, tostring(flags))
    end
    string_value(what, name)
    if flags & 0x04 ~= 0 and name ~= "" then  -- DNS wire format
      local partial = name:sub(-1) ~= "."
      name = encode_names(what, {name})
      if partial then name = name:sub(1, -2) end
    end
    return schar(flags) .. integer(what, "u8", v.rcode1 or 0) .. integer(what, "u8", v.rcode2 or 0) .. name
  end,
  relay = function(what, item) return encode_tlvs(what, item[2], relay_subopts, relay_by_name) end,
  domain_search = function(what, item) return encode_names(what, values_of(item)) end,
  routes = function(what, item)
    local r = {}
    for i, route in ipairs(values_of(item)) do r[i] = encode_route(what, route) end
    return table.concat(r)
  end,
}

function encode_value(what, kind, item)
  local enc = encoders[kind]
  if enc then return enc(what, item) end
  return encode_items(what, kind, item)
end

local function encode(list)
  if type(list) ~= "table" then return list end  -- bytes, or the binding's type error
  local out = {}
  for i, item in ipairs(list) do
    local t = type(item)
    if t == "string" and (item == "end" or item == "pad") then
      out[#out + 1] = schar(by_name[item])
    elseif t ~= "table" then
      fail('DHCP options: item %d (%s) is not "end", "pad" or an option like {name, value}', i, tostring(item))
    else
      local code = option_code(item[1])
      local what = "DHCP option " .. tostring(item[1])
      if code == 0 or code == 255 then
        out[#out + 1] = schar(code)
      else
        local o = options[code]
        local body
        if o and type(item[1]) == "string" then
          body = encode_value(what, o[2], item)
        else  -- by number: the bytes as they are
          body = string_value(what, item[2] or "")
        end
        if #body > 255 then fail("%s: value of %d bytes is too long (255 at most)", what, #body) end
        out[#out + 1] = schar(code, #body) .. body
      end
    end
  end
  return table.concat(out)
end

local M = {decode = decode, encode = encode, options = options,
  message_types = message_types}
core.codecs.dhcp_options = M
return M
