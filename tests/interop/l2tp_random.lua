-- l2tp_random.lua: random L2TP packets for the Scapy cross-check
-- (tests/interop/l2tp_random.sh): control messages with random AVPs and
-- data messages with random flags carrying PPP (with and without HDLC's
-- address and control) with LCP messages and options, IPCP with options,
-- IPv4 and IPv6, each as a Scapy expression and its sflua twin.  Scapy 2.5
-- has no AVPs: its side carries them as Raw bytes this file packs by hand
-- from RFC 2661's layout, so sflua's AVP builder is checked against an
-- encoding written apart from it.
--   sflua l2tp_random.lua gen SEED COUNT          "python<TAB>lua" lines
--   sflua l2tp_random.lua check CASES SCAPY_TSV   sflua against Scapy's bytes
--   sflua l2tp_random.lua golden OUT SEED COUNT SCAPY_TSV
-- As a module: cases(seed, count), check(cases, scapy) -> failures.
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local common = dofile(here .. "/tls_random.lua")  -- check, read_cases, read_scapy
local M = {}

local R = math.random
local function pick(t) return t[R(#t)] end

local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
local function pybytes(s) return "bytes.fromhex('" .. hex(s) .. "')" end
local function luabytes(s) return '"' .. hex(s):gsub("%x%x", "\\x%0") .. '"' end

local function word(min, max)
  local t = {}
  for i = 1, R(min, max) do t[i] = string.char(R(97, 122)) end
  return table.concat(t)
end

local function rbytes(min, max)
  local t = {}
  for i = 1, R(min, max) do t[i] = string.char(R(0, 255)) end
  return table.concat(t)
end

local function ip4() return ("%d.%d.%d.%d"):format(R(1, 223), R(0, 255), R(0, 255), R(1, 254)) end

-- "Name(args)" and "Name{args}" from one argument text

-- ---- AVPs: the bytes by hand, the layer by constructor --------------------------------

local function avp_bytes(m, h, vendor, t, value)
  local flags = (m << 15) | (h << 14) | (6 + #value)
  return string.pack(">I2I2I2", flags, vendor, t) .. value
end

local MSG_TYPES = {1, 2, 3, 4, 6, 10, 11, 12, 14, 15, 16}

local AVPS = {
  function(m)
    local v = pick(MSG_TYPES)
    return avp_bytes(m, 0, 0, 0, string.pack(">I2", v)),
      ("L2TP_AVP.message_type{mandatory=%d, msg_type=%d}"):format(m, v)
  end,
  function(m)
    local a, b = R(0, 255), R(0, 255)
    return avp_bytes(m, 0, 0, 2, string.char(a, b)),
      ("L2TP_AVP.protocol_version{mandatory=%d, protocol_version=%d, protocol_revision=%d}"):format(m, a, b)
  end,
  function(m)
    local w = word(1, 20)
    return avp_bytes(m, 0, 0, 7, w), ("L2TP_AVP.host_name{mandatory=%d, host_name=%q}"):format(m, w)
  end,
  function(m)
    local w = word(0, 12)
    return avp_bytes(m, 0, 0, 8, w), ("L2TP_AVP.vendor_name{mandatory=%d, vendor_name=%q}"):format(m, w)
  end,
  function(m)
    local v = R(0, 0xffff)
    return avp_bytes(m, 0, 0, 9, string.pack(">I2", v)),
      ("L2TP_AVP.assigned_tunnel_id{mandatory=%d, assigned_tunnel_id=%d}"):format(m, v)
  end,
  function(m)
    local v = R(0, 0xffff)
    return avp_bytes(m, 0, 0, 10, string.pack(">I2", v)),
      ("L2TP_AVP.receive_window_size{mandatory=%d, receive_window_size=%d}"):format(m, v)
  end,
  function(m)
    local v = R(0, 0xffff)
    return avp_bytes(m, 0, 0, 14, string.pack(">I2", v)),
      ("L2TP_AVP.assigned_session_id{mandatory=%d, assigned_session_id=%d}"):format(m, v)
  end,
  function(m)
    local v = R(0, 0x7fffffff)
    return avp_bytes(m, 0, 0, 15, string.pack(">I4", v)),
      ("L2TP_AVP.call_serial_number{mandatory=%d, call_serial_number=%d}"):format(m, v)
  end,
  function(m)
    local v = R(0, 3)
    return avp_bytes(m, 0, 0, 3, string.pack(">I4", v)),
      ("L2TP_AVP.framing_capabilities{mandatory=%d, framing_capabilities=%d}"):format(m, v)
  end,
  function(m)
    local v = R(0, 0x7fffffff)
    return avp_bytes(m, 0, 0, 5, string.pack(">I8", v)),
      ("L2TP_AVP.tie_breaker{mandatory=%d, tie_breaker=%d}"):format(m, v)
  end,
  function(m)  -- a type sflua reads as bytes
    local t, v = R(40, 300), rbytes(0, 10)
    return avp_bytes(m, 0, 0, t, v), ("L2TP_AVP{mandatory=%d, type=%d, value=%s}"):format(m, t, luabytes(v))
  end,
  function(m)  -- hidden: the value is bytes whatever the type
    local v = rbytes(2, 16)
    return avp_bytes(m, 1, 0, 7, v),
      ("L2TP_AVP{mandatory=%d, hidden=1, type=7, value=%s}"):format(m, luabytes(v))
  end,
  function(m)  -- a vendor's
    local vend, v = R(1, 0xffff), rbytes(0, 8)
    return avp_bytes(m, 0, vend, 0, v),
      ("L2TP_AVP{mandatory=%d, vendor_id=%d, value=%s}"):format(m, vend, luabytes(v))
  end,
}

local function control()
  local py = ("L2TP(hdr='control+length+sequence', tunnel_id=%d, session_id=%d, ns=%d, nr=%d)")
    :format(R(0, 0xffff), R(0, 0xffff), R(0, 0xffff), R(0, 0xffff))
  local lua = py:gsub("'", '"'):gsub("%((.*)%)$", "{%1}")
  local raw, layers = {}, {}
  for i = 1, R(0, 6) do
    raw[i], layers[i] = pick(AVPS)(R(0, 1))
  end
  if #raw > 0 then
    py = py .. "/Raw(load=" .. pybytes(table.concat(raw)) .. ")"
    lua = lua .. "/" .. table.concat(layers, "/")
  end
  return py, lua
end

-- ---- PPP ---------------------------------------------------------------------------------

local function fix_lua(s)  -- Python's bytes and quotes in Lua's spelling
  return (s:gsub("bytes%.fromhex%('(%x*)'%)", function(h) return '"' .. h:gsub("%x%x", "\\x%0") .. '"' end)
           :gsub("'", '"'))
end

-- a Python expression without lists in Lua: Name(a=1) is Name{a=1}
local function to_lua(py)
  return (fix_lua(py):gsub("(%u[%w_]*)(%b())", function(name, a)
    return a == "()" and name .. "()" or name .. "{" .. a:sub(2, -2) .. "}"
  end))
end

-- a layer with arguments: its Python and its Lua
local function layer(name, args)
  local py = ("%s(%s)"):format(name, args or "")
  return py, to_lua(py)
end

local LCP_OPTS = {
  function() return layer("PPP_LCP_MRU_Option", ("max_recv_unit=%d"):format(R(0, 0xffff))) end,
  function() return layer("PPP_LCP_ACCM_Option", ("accm=%d"):format(R(0, 0x7fffffff))) end,
  function() return layer("PPP_LCP_Auth_Protocol_Option", "auth_protocol=0xc023") end,
  function()
    return layer("PPP_LCP_Auth_Protocol_Option", ("auth_protocol=0xc223, algorithm=%d"):format(pick({5, 6, 128, 129})))
  end,
  function() return layer("PPP_LCP_Quality_Protocol_Option", "data=" .. pybytes(rbytes(0, 6))) end,
  function() return layer("PPP_LCP_Magic_Number_Option", ("magic_number=%d"):format(R(0, 0x7fffffff))) end,
  function()
    return layer("PPP_LCP_Callback_Option", ("operation=%d, message='%s'"):format(R(0, 4), word(0, 8)))
  end,
  function() return layer("PPP_LCP_Option", ("type=%d"):format(pick({7, 8}))) end,
  -- types Wireshark 4.0 does not know (it reads those it knows by their
  -- own length rules, and gives no option fields when the length is off)
  function() return layer("PPP_LCP_Option", ("type=%d, data=%s"):format(R(31, 60), pybytes(rbytes(0, 6)))) end,
}

local IPCP_OPTS = {"PPP_IPCP_Option_IPAddress", "PPP_IPCP_Option_DNS1", "PPP_IPCP_Option_DNS2",
  "PPP_IPCP_Option_NBNS1", "PPP_IPCP_Option_NBNS2"}

local function ipcp_option()
  if R(6) == 6 then return layer("PPP_IPCP_Option", ("type=2, data=%s"):format(pybytes(rbytes(0, 6)))) end
  return layer(pick(IPCP_OPTS), ("data='%s'"):format(ip4()))
end

-- a message with a list of options: Scapy's options=[...], sflua's layers after it
local function with_options(name, args, make, n)
  local pys, luas = {}, {}
  for i = 1, n do pys[i], luas[i] = make() end
  local py = ("%s(%s, options=[%s])"):format(name, args, table.concat(pys, ", "))
  local lua = to_lua(("%s(%s)"):format(name, args))
  if n > 0 then lua = lua .. "/" .. table.concat(luas, "/") end
  return py, lua
end

local PPP_PAYLOADS = {
  function() return layer("IP", "src='" .. ip4() .. "'") end,
  function()
    local py, lua = layer("IPv6")
    return py .. "/UDP(sport=1, dport=2)", lua .. "/UDP{sport=1, dport=2}"
  end,
  function()
    return with_options("PPP_LCP_Configure", ("code=%d, id=%d"):format(R(1, 4), R(0, 255)),
      function() return pick(LCP_OPTS)() end, R(0, 5))
  end,
  function()
    return with_options("PPP_IPCP", ("code=%d, id=%d"):format(R(1, 4), R(0, 255)), ipcp_option, R(0, 4))
  end,
  function()
    return layer("PPP_LCP_Echo", ("code=%d, id=%d, magic_number=%d, data=%s")
      :format(R(9, 10), R(0, 255), R(0, 0x7fffffff), pybytes(rbytes(0, 8))))
  end,
  function()
    return layer("PPP_LCP_Discard_Request", ("id=%d, magic_number=%d, data=%s")
      :format(R(0, 255), R(0, 0x7fffffff), pybytes(rbytes(0, 8))))
  end,
  function()
    return layer("PPP_LCP_Terminate", ("code=%d, id=%d, data=%s"):format(R(5, 6), R(0, 255), pybytes(rbytes(0, 8))))
  end,
}

local function data()
  local flags, args, seq = {}, {}, false
  if R(2) == 1 then flags[#flags + 1] = "length" end
  if R(2) == 1 then flags[#flags + 1] = "sequence"; seq = true end
  if R(3) == 1 then flags[#flags + 1] = "priority" end
  local off = R(3) == 1
  if off then flags[#flags + 1] = "offset" end
  args[#args + 1] = #flags > 0 and ("hdr='%s'"):format(table.concat(flags, "+")) or "hdr=0"
  args[#args + 1] = ("tunnel_id=%d, session_id=%d"):format(R(0, 0xffff), R(0, 0xffff))
  if seq then args[#args + 1] = ("ns=%d, nr=%d"):format(R(0, 0xffff), R(0, 0xffff)) end
  if off then args[#args + 1] = "offset=2" end  -- what Scapy's four bytes agree with
  local py, lua = layer("L2TP", table.concat(args, ", "))
  if R(2) == 1 then py, lua = py .. "/HDLC()", lua .. "/HDLC()" end
  local ipy, ilua = pick(PPP_PAYLOADS)()
  return py .. "/PPP()/" .. ipy, lua .. "/PPP()/" .. ilua
end

function M.case(i)
  local head = ("Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP(src='%s', dst='%s')/UDP(sport=1701, dport=1701)")
    :format(ip4(), ip4())
  local lhead = to_lua(head)
  local py, lua
  if i % 3 == 0 then py, lua = control() else py, lua = data() end
  return head .. "/" .. py, lhead .. "/" .. lua
end

M.check, M.read_cases, M.read_scapy = common.check, common.read_cases, common.read_scapy

function M.cases(seed, count)
  math.randomseed(seed)
  local t = {}
  for i = 1, count do t[i] = {M.case(i)} end
  return t
end

function M.write_golden(path, seed, count, scapy)
  local f = assert(io.open(path, "w"))
  f:write("-- written by tests/interop/l2tp_random.sh --golden (Debian python3-scapy 2.5's\n",
    "-- bytes for the cases tests/interop/l2tp_random.lua makes from this seed)\n",
    ("return {seed = %d, count = %d, hex = {\n"):format(seed, count))
  for _, c in ipairs(M.cases(seed, count)) do f:write(('"%s",\n'):format(assert(scapy[c[1]]))) end
  f:write("}}\n")
  f:close()
end

if arg and arg[0] and arg[0]:match("l2tp_random%.lua$") then
  if arg[1] == "gen" then
    for _, c in ipairs(M.cases(tonumber(arg[2]), tonumber(arg[3]))) do print(table.concat(c, "\t")) end
  elseif arg[1] == "golden" then
    M.write_golden(arg[2], tonumber(arg[3]), tonumber(arg[4]), M.read_scapy(arg[5]))
  elseif arg[1] == "check" then
    local bad = M.check(M.read_cases(arg[2]), M.read_scapy(arg[3]))
    for k = 1, math.min(#bad, 5) do print(bad[k]) end
    print(("%d cases, %d differ"):format(#M.read_cases(arg[2]), #bad))
    os.exit(#bad == 0 and 0 or 1)
  else
    io.stderr:write("usage: l2tp_random.lua gen SEED COUNT | check CASES SCAPY_TSV | golden OUT SEED COUNT SCAPY_TSV\n")
    os.exit(2)
  end
end

return M
