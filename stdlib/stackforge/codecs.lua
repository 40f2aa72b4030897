-- codecs.lua: structured values of variable-length fields (option lists,
-- address lists) to and from their bytes.  The engine stores bytes; these
-- give users Scapy's shapes: {{"MSS", 1460}, {"NOP"}, {"WScale", 7}}.
local core = require("stackforge.core")

local spack, sunpack, srep = string.pack, string.unpack, string.rep

local M = {}

-- Look a name up in a {[number]=name} table, or take a number.
local function option_number(names, numbers, name, what)
  if math.type(name) == "integer" then return name end
  local n = numbers[name]
  if not n then
    local known = {}
    for _, v in pairs(names) do known[#known + 1] = v end
    table.sort(known)
    error(("unknown %s option '%s' (known: %s)"):format(what, tostring(name),
      table.concat(known, ", ")), 0)
  end
  return n
end

local function invert(t)
  local r = {}
  for k, v in pairs(t) do r[v] = k end
  return r
end

local function pad_to(s, unit, fill)
  if type(s) ~= "string" then return s end  -- not a list: the binding's type error
  local rem = #s % unit
  return rem == 0 and s or s .. srep(fill or "\0", unit - rem)
end

-- ---- TCP options (RFC 9293 and successors) -------------------------------

local tcp_names = {[0] = "EOL", [1] = "NOP", [2] = "MSS", [3] = "WScale",
  [4] = "SAckOK", [5] = "SAck", [8] = "Timestamp", [14] = "AltChkSum",
  [15] = "AltChkSumOpt", [19] = "MD5", [28] = "UTO", [29] = "AO", [34] = "TFO"}
local tcp_numbers = invert(tcp_names)

-- A value of exactly n bytes (a wrong length keeps the option's bytes).
local function sized(n, f)
  return function(d)
    assert(#d == n, "bad length")
    return f(d)
  end
end
local u16 = sized(2, function(d) return (sunpack(">I2", d)) end)

local tcp_value = {
  [2] = u16,
  [3] = sized(1, function(d) return d:byte() end),
  [4] = sized(0, function() return "" end),
  [5] = function(d)
    assert(#d % 4 == 0, "bad length")
    local r = {}
    for i = 1, #d - 3, 4 do r[#r + 1] = (sunpack(">I4", d, i)) end
    return r
  end,
  [8] = sized(8, function(d)
    local val, ecr = sunpack(">I4I4", d)
    return {val, ecr}
  end),
  [28] = u16,
}

local tcp_encode_value = {
  [2] = function(v) return spack(">I2", v) end,
  [3] = function(v) return spack("B", v) end,
  [4] = function() return "" end,
  [5] = function(v)
    local r = {}
    assert(type(v) == "table", "not a list")
    for i, x in ipairs(v) do r[i] = spack(">I4", x) end
    return table.concat(r)
  end,
  [8] = function(v)
    assert(type(v) == "table", "not a list")
    return spack(">I4I4", v[1] or 0, v[2] or 0)
  end,
  [28] = function(v) return spack(">I2", v) end,
}

-- Parse a kind-length-value list; single-byte kinds have no length.
-- `hl` is what the length byte counts beyond the value itself: 2 (type and
-- length octets) for TCP and IPv4, 0 for IPv6 options.
local function decode_klv(d, names, values, single, stop_at, hl)
  hl = hl or 2
  local r, i = {}, 1
  while i <= #d do
    local kind = d:byte(i)
    if single[kind] then
      r[#r + 1] = {names[kind]}
      i = i + 1
      if kind == stop_at then break end
    else
      local len = d:byte(i + 1)
      len = len and len + 2 - hl
      if not len or len < 2 or i + len - 1 > #d then
        r[#r + 1] = {kind, d:sub(i + 1)}  -- malformed: keep the bytes
        break
      end
      local body = d:sub(i + 2, i + len - 1)
      local dec = values[kind]
      local ok, v = pcall(function() return dec and dec(body) end)
      if dec and ok then r[#r + 1] = {names[kind] or kind, v}
      elseif dec then r[#r + 1] = {kind, body}  -- malformed: its bytes, by number
      else r[#r + 1] = {names[kind] or kind, body} end
      i = i + len
    end
  end
  return r
end

-- What a typed option's value must be, for errors.
local expects = {
  TCP = {[2] = "an integer 0..65535", [3] = "an integer 0..255", [4] = '""',
    [5] = "a list of 32-bit integers", [8] = "{tsval, tsecr}, 32-bit integers",
    [28] = "an integer 0..65535"},
  IP = {[7] = "a list of IPv4 addresses", [131] = "a list of IPv4 addresses",
    [137] = "a list of IPv4 addresses", [136] = "an integer 0..65535",
    [148] = "an integer 0..65535"},
  IPv6 = {[1] = "a padding length", [5] = "an integer 0..65535",
    [194] = "a 32-bit integer", [201] = "an IPv6 address"},
}

-- An option list's items are {name [, value]} tables.  Codec errors carry
-- no position: the binding raises them at the caller's line.
local function check_item(opt, i, what)
  if type(opt) ~= "table" then
    error(("%s options: item %d is a %s, not an option like {\"NOP\"} or {name, value}")
      :format(what, i, type(opt)), 0)
  end
end

local function encode_klv(list, names, numbers, encoders, single, what, hl)
  hl = hl or 2
  if type(list) ~= "table" then return list end  -- bytes, or the binding's type error
  local out = {}
  for i, opt in ipairs(list) do
    check_item(opt, i, what)
    local kind = option_number(names, numbers, opt[1], what)
    if single[kind] then
      out[#out + 1] = string.char(kind)
    else
      local v, enc, body = opt[2], encoders[kind], nil
      -- An option named has the value its kind knows (a number, addresses);
      -- bytes go raw into options without one, or given by number.
      if enc and (type(opt[1]) ~= "number" or type(v) ~= "string") then
        local ok, b = pcall(enc, v, opt)
        body = ok and type(b) == "string" and b or nil
      elseif type(v) == "string" then
        body = v
      end
      if body == nil then
        error(("%s option %s: bad value %s (expected %s)"):format(what, tostring(opt[1]),
          tostring(v), enc and (expects[what] or {})[kind] or "bytes"), 0)
      end
      if #body + hl > 255 then
        error(("%s option %s: value of %d bytes is too long"):format(what, tostring(opt[1]), #body), 0)
      end
      out[#out + 1] = string.char(kind, #body + hl) .. body
    end
  end
  return table.concat(out)
end

local tcp_single = {[0] = true, [1] = true}

M.tcp_options = {
  decode = function(d) return decode_klv(d, tcp_names, tcp_value, tcp_single, 0) end,
  encode = function(list)
    return pad_to(encode_klv(list, tcp_names, tcp_numbers, tcp_encode_value,
      tcp_single, "TCP"), 4)
  end,
}

-- ---- IPv4 options (RFC 791) ------------------------------------------------

local ip_names = {[0] = "EOL", [1] = "NOP", [7] = "RR", [68] = "Timestamp",
  [82] = "Traceroute", [130] = "Security", [131] = "LSRR", [136] = "Stream_Id",
  [137] = "SSRR", [148] = "Router_Alert", [11] = "MTU_Probe", [12] = "MTU_Reply"}
local ip_numbers = invert(ip_names)

-- Route options: a pointer, then addresses.
local function decode_route(d)
  local r = {}
  for i = 2, #d - 3, 4 do r[#r + 1] = core.ntop(d:sub(i, i + 3)) end
  return r
end

local function encode_route(v, opt)
  local r = {spack("B", opt.pointer or opt[3] or 4)}
  for _, a in ipairs(v or {}) do
    r[#r + 1] = core.pton(a) or error("bad IPv4 address in route option: " .. tostring(a), 0)
  end
  return table.concat(r)
end

local ip_value = {[7] = decode_route, [131] = decode_route, [137] = decode_route,
  [148] = u16, [136] = u16}
local ip_encode_value = {[7] = encode_route, [131] = encode_route, [137] = encode_route,
  [148] = function(v) return spack(">I2", v or 0) end,
  [136] = function(v) return spack(">I2", v or 0) end}
local ip_single = {[0] = true, [1] = true}

M.ip_options = {
  decode = function(d)
    local r = decode_klv(d, ip_names, ip_value, ip_single, 0)
    local at = 1  -- route options also report their pointer: walk the options
    for _, o in ipairs(r) do
      local n = d:byte(at)
      if not n then break end
      if (n == 7 or n == 131 or n == 137) and ip_numbers[o[1]] == n then
        o.pointer = d:byte(at + 2)
      end
      at = at + ((n == 0 or n == 1) and 1 or math.max(d:byte(at + 1) or 2, 2))
    end
    return r
  end,
  encode = function(list)
    return pad_to(encode_klv(list, ip_names, ip_numbers, ip_encode_value,
      ip_single, "IP"), 4)
  end,
}

-- ---- IPv6 hop-by-hop and destination options (RFC 8200 4.2) --------------

local ip6_names = {[0] = "Pad1", [1] = "PadN", [5] = "RouterAlert",
  [194] = "Jumbo", [201] = "HAO"}
local ip6_numbers = invert(ip6_names)
-- alignment requirements xn+y (RFC 8200 4.2; RFC 2711, 2675, 6275)
local ip6_align = {[5] = {2, 0}, [194] = {4, 2}, [201] = {8, 6}}

local ip6_value = {
  [1] = function(d) return #d end,
  [5] = u16,
  [194] = sized(4, function(d) return (sunpack(">I4", d)) end),
  [201] = function(d) assert(#d == 16); return core.ntop(d) end,
}
local ip6_encode_value = {
  [1] = function(v) return srep("\0", v or 0) end,
  [5] = function(v) return spack(">I2", v or 0) end,
  [194] = function(v) return spack(">I4", v or 0) end,
  [201] = function(v) return core.pton(v) or error("bad IPv6 address in HAO: " .. tostring(v), 0) end,
}

local function ip6_padding(n)
  if n == 0 then return "" end
  if n == 1 then return "\0" end
  return string.char(1, n - 2) .. srep("\0", n - 2)
end

M.ipv6_options = {
  decode = function(d)
    return decode_klv(d, ip6_names, ip6_value, {[0] = true}, nil, 0)
  end,
  -- Options are aligned as their RFCs ask and the header padded to a
  -- multiple of 8 octets, as Scapy's autopad does.
  encode = function(list)
    if type(list) == "string" then
      return list .. ip6_padding((8 - (#list + 2) % 8) % 8)
    end
    if type(list) ~= "table" then return list end
    local out, pos = {}, 2
    for i, opt in ipairs(list) do
      check_item(opt, i, "IPv6")
      local kind = option_number(ip6_names, ip6_numbers, opt[1], "IPv6")
      local al = ip6_align[kind]
      if al then
        local x, y = al[1], al[2]
        local delta = x * ((pos - y + x - 1) // x) + y - pos
        out[#out + 1] = ip6_padding(delta)
        pos = pos + delta
      end
      local one = encode_klv({opt}, ip6_names, ip6_numbers, ip6_encode_value,
        {[0] = true}, "IPv6", 0)
      out[#out + 1] = one
      pos = pos + #one
    end
    out[#out + 1] = ip6_padding((8 - pos % 8) % 8)
    return table.concat(out)
  end,
}

-- ---- a list of IPv6 addresses (routing header) ------------------------------

M.ip6_list = {
  decode = function(d)
    local r = {}
    for i = 1, #d - 15, 16 do r[#r + 1] = core.ntop(d:sub(i, i + 15)) end
    return r
  end,
  encode = function(list)
    if type(list) ~= "table" then return list end
    local r = {}
    for i, a in ipairs(list) do
      local b = core.pton(a)
      if not b or #b ~= 16 then error("bad IPv6 address in list: " .. tostring(a), 0) end
      r[i] = b
    end
    return table.concat(r)
  end,
}

-- ---- DNS ------------------------------------------------------------------

-- TXT rdata: character-strings, a length byte each.  A string is a list of
-- one, and strings of 255 bytes or more are cut into 255-byte pieces, as
-- Scapy's DNSTextField.  A last piece cut short stays, as its bytes.
M.dns_txt = {
  strings = true,
  decode = function(d)
    local r, pos = {}, 1
    while pos <= #d do
      local n = d:byte(pos)
      r[#r + 1] = d:sub(pos + 1, pos + n)
      pos = pos + 1 + n
    end
    return r
  end,
  encode = function(list)
    if type(list) == "string" then list = {list} end
    if type(list) ~= "table" then return list end
    local out = {}
    for i, s in ipairs(list) do
      if type(s) ~= "string" then error(("TXT string %d is a %s, not a string"):format(i, type(s)), 0) end
      while #s >= 255 do
        out[#out + 1] = "\255" .. s:sub(1, 255)
        s = s:sub(256)
      end
      if #s > 0 then out[#out + 1] = spack("s1", s) end
    end
    return table.concat(out)
  end,
}

local dns_type_numbers  -- DNSRR's type names, looked up when first needed
local function dns_type(v)
  if math.type(v) == "integer" then return v end
  if not dns_type_numbers then
    dns_type_numbers = {}
    for _, info in ipairs(core.protos()) do
      if info.name == "DNSRR" then
        for num, name in pairs(info.fields[2].enums) do dns_type_numbers[name] = num end
      end
    end
  end
  return dns_type_numbers[v] or error(("unknown DNS type %s"):format(tostring(v)), 0)
end

-- NSEC/NSEC3 type bit maps (RFC 4034 4.1.2) as a list of type numbers.
M.dns_typebitmaps = {
  decode = function(d)
    local r, pos = {}, 1
    while pos + 1 <= #d do
      local win, n = d:byte(pos, pos + 1)
      for i = 0, n - 1 do
        local b = d:byte(pos + 2 + i) or 0
        for bit = 0, 7 do
          if b & (0x80 >> bit) ~= 0 then r[#r + 1] = win * 256 + i * 8 + bit end
        end
      end
      pos = pos + 2 + n
    end
    return r
  end,
  encode = function(list)
    if type(list) ~= "table" then return list end
    local wins = {}
    for _, t in ipairs(list) do
      t = dns_type(t)
      local w = wins[t >> 8] or {}
      wins[t >> 8] = w
      w[(t & 0xff) // 8 + 1] = (w[(t & 0xff) // 8 + 1] or 0) | (0x80 >> (t & 7))
    end
    local out = {}
    for win = 0, 255 do
      local w = wins[win]
      if w then
        local n = 0
        for i in pairs(w) do n = math.max(n, i) end
        local bytes = {}
        for i = 1, n do bytes[i] = string.char(w[i] or 0) end
        out[#out + 1] = string.char(win, n) .. table.concat(bytes)
      end
    end
    return table.concat(out)
  end,
}

-- EDNS0 options (an OPT record's rdata) as EDNS0TLV layers; bytes left
-- that are no option stay, as a string at the end of the list.
M.dns_edns_options = {
  decode = function(d)
    local r, pos = {}, 1
    while pos + 3 <= #d do
      local n = sunpack(">I2", d, pos + 2)
      if pos + 3 + n > #d then break end
      r[#r + 1] = core.packet(d:sub(pos, pos + 3 + n), {proto = "EDNS0TLV"})
      pos = pos + 4 + n
    end
    if pos <= #d then r[#r + 1] = d:sub(pos) end
    return r
  end,
  encode = function(list)
    if type(list) ~= "table" then return list end
    local out = {}
    for i, o in ipairs(list) do
      if type(o) == "string" then out[i] = o
      elseif type(o) == "userdata" and pcall(function() return o.layer_count end) then out[i] = o:bytes()
      else error(("option %d is a %s, not an EDNS0TLV layer"):format(i, type(o)), 0) end
    end
    return table.concat(out)
  end,
}

-- ---- lists of numbers and of length-prefixed items ---------------------------
-- (TLS's cipher suites, groups, ALPN names and key shares use them; any
-- protocol with such a list may.)  Bytes that do not make whole items
-- decode to themselves, a string, so nothing is lost.

local function int_list(size, what)
  local fmt, max = ">I" .. size, (1 << (8 * size)) - 1
  return {
    decode = function(d)
      if #d % size ~= 0 then return d end
      local r = {}
      for i = 1, #d, size do r[#r + 1] = (sunpack(fmt, d, i)) end
      return r
    end,
    encode = function(list)
      if type(list) ~= "table" then return list end
      local out = {}
      for i, v in ipairs(list) do
        if math.type(v) ~= "integer" or v < 0 or v > max then
          error(("%s: item %d is %s, not an integer 0..%d"):format(what, i, tostring(v), max), 0)
        end
        out[i] = spack(fmt, v)
      end
      return table.concat(out)
    end,
  }
end

M.u8_list = int_list(1, "list of 8-bit integers")
M.u16_list = int_list(2, "list of 16-bit integers")
M.u32_list = int_list(4, "list of 32-bit integers")

-- strings each after a one-byte length: {"h2", "http/1.1"}
M.str8_list = {
  decode = function(d)
    local r, i = {}, 1
    while i <= #d do
      local n = d:byte(i)
      if i + n > #d then return d end
      r[#r + 1] = d:sub(i + 1, i + n)
      i = i + 1 + n
    end
    return r
  end,
  encode = function(list)
    if type(list) ~= "table" then return list end
    local out = {}
    for i, v in ipairs(list) do
      if type(v) ~= "string" or #v > 255 then
        error(("list of strings: item %d is %s, not a string of at most 255 bytes")
          :format(i, tostring(v)), 0)
      end
      out[i] = spack("s1", v)
    end
    return table.concat(out)
  end,
}

-- {type, value} items: a 16-bit type, a 16-bit length, the value
-- (TLS key shares: {{29, key}, ...})
M.tlv16_list = {
  decode = function(d)
    local r, i = {}, 1
    while i <= #d do
      if i + 3 > #d then return d end
      local t, n = sunpack(">I2I2", d, i)
      if i + 3 + n > #d then return d end
      r[#r + 1] = {t, d:sub(i + 4, i + 3 + n)}
      i = i + 4 + n
    end
    return r
  end,
  encode = function(list)
    if type(list) ~= "table" then return list end
    local out = {}
    for i, item in ipairs(list) do
      local t, v = type(item) == "table" and item[1], type(item) == "table" and item[2]
      if math.type(t) ~= "integer" or t < 0 or t > 0xffff or type(v) ~= "string" or #v > 0xffff then
        error(("list of {type, value}: item %d is not {16-bit integer, string}"):format(i), 0)
      end
      out[i] = spack(">I2s2", t, v)
    end
    return table.concat(out)
  end,
}

-- ---- 802.11: country triplets (rates use u8_list) ---------------------------

-- Three bytes each: {{first_channel_number, num_channels, mtp}, ...}
-- (Scapy's Dot11EltCountryConstraintTriplet list).
M.u8_triplets = {
  decode = function(d)
    local r = {}
    for i = 1, #d - 2, 3 do r[#r + 1] = {d:byte(i, i + 2)} end
    return r
  end,
  encode = function(list)
    if type(list) ~= "table" then return list end
    local r = {}
    for i, t in ipairs(list) do
      if type(t) ~= "table" or #t ~= 3 then
        error(("Dot11EltCountry.descriptors: triplet %d is not {first_channel_number, num_channels, mtp}"):format(i), 0)
      end
      for _, b in ipairs(t) do
        if math.type(b) ~= "integer" or b < 0 or b > 255 then
          error(("Dot11EltCountry.descriptors: triplet %d has %s, not a byte (0-255)"):format(i, tostring(b)), 0)
        end
      end
      r[i] = string.char(table.unpack(t))
    end
    return table.concat(r)
  end,
}

-- ---- 802.11 RSN suites: an OUI and a type ------------------------------------

local function suite_codec(key, field)
  local function one(t, i, name)
    if type(t) ~= "table" or math.type(t.oui or 0x000fac) ~= "integer" or math.type(t[key]) ~= "integer"
        or (t.oui or 0) < 0 or (t.oui or 0) > 0xffffff or t[key] < 0 or t[key] > 255 then
      error(("Dot11EltRSN.%s: suite %d is not {oui=0..0xffffff, %s=0..255}"):format(name or field, i, key), 0)
    end
    return spack(">I3B", t.oui or 0x000fac, t[key])
  end
  return {
    decode = function(d)
      local r = {}
      for i = 1, #d - 3, 4 do
        local oui, v = sunpack(">I3B", d, i)
        r[#r + 1] = {oui = oui, [key] = v}
      end
      return r
    end,
    encode = function(list)
      if type(list) ~= "table" then return list end
      local r = {}
      for i, t in ipairs(list) do r[i] = one(t, i) end
      return table.concat(r)
    end,
    one = one,
  }
end

M.rsn_suites = suite_codec("cipher", "pairwise_cipher_suites")
M.akm_suites = suite_codec("suite", "akm_suites")
-- one cipher suite: {oui=0x000fac, cipher=4}
M.rsn_suite = {
  decode = function(d)
    if #d ~= 4 then return d end
    local oui, v = sunpack(">I3B", d)
    return {oui = oui, cipher = v}
  end,
  encode = function(t)
    if type(t) ~= "table" then return t end
    return M.rsn_suites.one(t, 1, "group_cipher_suite")
  end,
}

for name, codec in pairs(M) do core.codecs[name] = codec end

-- a protocol's own codecs, in codecs/ (they register themselves)
require("stackforge.codecs.dhcp")
require("stackforge.codecs.http")
require("stackforge.codecs.http2")

return M
