-- dhcp_fields.lua: a DHCP packet parsed by sflua, in the form tshark's
-- `-T fields -E occurrence=a -E aggregator=,` prints it, for the specs
-- and scripts that hold sflua against tshark (captures of real programs,
-- tests/interop/run_dhcp_clients.sh).
--   M.fields                  the tshark fields compared, in order
--   M.tshark_args()           "-e f1 -e f2 ..."
--   M.check(p, row) -> errs   row: {field = tshark's text} of one packet
local sf = require("stackforge")
local core = require("stackforge.core")
local codec = require("stackforge.codecs.dhcp")

local M = {}

M.fields = {
  "dhcp.type", "dhcp.hw.type", "dhcp.hw.len", "dhcp.hops", "dhcp.id", "dhcp.secs",
  "dhcp.flags", "dhcp.flags.bc", "dhcp.ip.client", "dhcp.ip.your", "dhcp.ip.server",
  "dhcp.ip.relay", "dhcp.hw.mac_addr", "dhcp.hw.addr_padding", "dhcp.server", "dhcp.file",
  "dhcp.cookie", "dhcp.option.type", "dhcp.option.length", "dhcp.option.value",
  "dhcp.option.padding", "dhcp.option.end", "dhcp.option.dhcp",
  "dhcp.option.request_list_item", "dhcp.option.requested_ip_address",
  "dhcp.option.dhcp_server_id", "dhcp.option.subnet_mask", "dhcp.option.router",
  "dhcp.option.domain_name_server", "dhcp.option.broadcast_address",
  "dhcp.option.hostname", "dhcp.option.domain_name", "dhcp.option.vendor_class_id",
  "dhcp.option.ip_address_lease_time", "dhcp.option.renewal_time_value",
  "dhcp.option.rebinding_time_value", "dhcp.option.dhcp_max_message_size",
  "dhcp.client_id.type", "dhcp.fqdn.flags", "dhcp.fqdn.rcode1", "dhcp.fqdn.rcode2",
  "dhcp.fqdn.name", "dhcp.option.agent_information_option.agent_circuit_id",
  "dhcp.option.agent_information_option.agent_remote_id",
  "dhcp.option.agent_information_option.link_selection",
  "dhcp.option.dhcp_dns_domain_search_list_fqdn",
  "dhcp.option.classless_static_route", "dhcp.option.user_class.data",
}

function M.tshark_args()
  local a = {}
  for _, f in ipairs(M.fields) do a[#a + 1] = "-e " .. f end
  return table.concat(a, " ")
end

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

local code_of = {pad = 0, ["end"] = 255}
for code, o in pairs(codec.options) do code_of[o[1]] = code end
local type_number = {}
for n, name in ipairs(codec.message_types) do type_number[name] = n end

-- an option's value bytes, as the codec writes them back
local function value_bytes(item)
  return codec.encode({item}):sub(3)
end

local function add(t, field, v)
  if v == nil then return end
  t[field] = t[field] or {}
  table.insert(t[field], tostring(v))
end

-- RFC 3004: user classes, each a length and its data
local function user_classes(d)
  local r, i = {}, 1
  while i <= #d do
    local n = d:byte(i)
    r[#r + 1] = d:sub(i + 1, i + n)
    i = i + 1 + n
  end
  return r
end

local function bootp_values(t, b)
  add(t, "dhcp.type", b.op == "BOOTREQUEST" and 1 or b.op == "BOOTREPLY" and 2 or b.op)
  add(t, "dhcp.hw.type", b.htype == "Ethernet (10Mb)" and 1 or b.htype == "IEEE 802" and 6 or b.htype)
  add(t, "dhcp.hw.len", b.hlen)
  add(t, "dhcp.hops", b.hops)
  add(t, "dhcp.id", b.xid)
  add(t, "dhcp.secs", b.secs)
  local flags = b.flags == "B" and 0x8000 or tonumber(b.flags) or 0
  add(t, "dhcp.flags", flags)
  add(t, "dhcp.flags.bc", flags >> 15)
  add(t, "dhcp.ip.client", b.ciaddr)
  add(t, "dhcp.ip.your", b.yiaddr)
  add(t, "dhcp.ip.server", b.siaddr)
  add(t, "dhcp.ip.relay", b.giaddr)
  if #b.chaddr == 17 and b.hlen == 6 then  -- tshark: an Ethernet address
    add(t, "dhcp.hw.mac_addr", b.chaddr)
    add(t, "dhcp.hw.addr_padding", ("00"):rep(10))
  end
  if b.sname ~= "" and b.sname:byte(1) ~= 0 then add(t, "dhcp.server", b.sname) end
  if b.file ~= "" and b.file:byte(1) ~= 0 then add(t, "dhcp.file", b.file) end
  if #b.options == 4 then add(t, "dhcp.cookie", core.ntop(b.options)) end
end

local typed = {
  ["message-type"] = function(t, v) add(t, "dhcp.option.dhcp", type_number[v] or v) end,
  param_req_list = function(t, v)
    for _, o in ipairs(v) do add(t, "dhcp.option.request_list_item", code_of[o] or o) end
  end,
  requested_addr = "dhcp.option.requested_ip_address",
  server_id = "dhcp.option.dhcp_server_id",
  subnet_mask = "dhcp.option.subnet_mask", router = "dhcp.option.router",
  name_server = "dhcp.option.domain_name_server",
  broadcast_address = "dhcp.option.broadcast_address",
  hostname = "dhcp.option.hostname", domain = "dhcp.option.domain_name",
  vendor_class_id = "dhcp.option.vendor_class_id",
  lease_time = "dhcp.option.ip_address_lease_time",
  renewal_time = "dhcp.option.renewal_time_value",
  rebinding_time = "dhcp.option.rebinding_time_value",
  max_dhcp_size = "dhcp.option.dhcp_max_message_size",
  client_id = function(t, v)
    -- tshark 4.0 (packet-dhcp.c): a hardware type and its address when
    -- 7 bytes long with a type below 48, a type field for type 0
    local id = v[2]
    if #id == 17 then id = id:gsub(":", ""):gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end) end
    if #id == 6 and v[1] > 0 and v[1] < 48 then
      add(t, "dhcp.hw.type", v[1])
      if v[1] == 1 or v[1] == 6 then add(t, "dhcp.hw.mac_addr", v[2]) end
    elseif v[1] == 0 then
      add(t, "dhcp.client_id.type", 0)
    end
  end,
  client_FQDN = function(t, v)
    add(t, "dhcp.fqdn.flags", v.flags)
    add(t, "dhcp.fqdn.rcode1", v.rcode1)
    add(t, "dhcp.fqdn.rcode2", v.rcode2)
    if v.name ~= "" then add(t, "dhcp.fqdn.name", (v.name:gsub("%.$", ""))) end
  end,
  relay_agent_information = function(t, v)
    for _, s in ipairs(v) do
      if s[1] == "circuit_id" then add(t, "dhcp.option.agent_information_option.agent_circuit_id", hex(s[2]))
      elseif s[1] == "remote_id" then add(t, "dhcp.option.agent_information_option.agent_remote_id", hex(s[2]))
      elseif s[1] == "link_selection" then add(t, "dhcp.option.agent_information_option.link_selection", s[2]) end
    end
  end,
  domain_search = function(t, v)
    for _, n in ipairs(v) do add(t, "dhcp.option.dhcp_dns_domain_search_list_fqdn", n) end
  end,
  classless_static_routes = function(t, v)
    for _, r in ipairs(v) do
      add(t, "dhcp.option.classless_static_route", hex(value_bytes({"classless_static_routes", {r}})))
    end
  end,
  user_class = function(t, v)
    for _, c in ipairs(user_classes(v)) do add(t, "dhcp.option.user_class.data", hex(c)) end
  end,
}

-- tshark 4.0 lists a run of pad options as one option of type 0, and the
-- end option as type 0 too (its dhcp.option.end is 255)
local function option_values(t, opts, padding)
  local in_pads = false
  for _, o in ipairs(opts) do
    if o == "pad" then
      if not in_pads then add(t, "dhcp.option.type", 0) end
      t.pads = (t.pads or "") .. "00"
      in_pads = true
    else
      if in_pads then add(t, "dhcp.option.padding", t.pads); t.pads = nil end
      in_pads = false
      if o == "end" then
        add(t, "dhcp.option.type", 0)
        add(t, "dhcp.option.end", 255)
      else
        local code = math.type(o[1]) == "integer" and o[1] or code_of[o[1]]
        local v = value_bytes(o)
        add(t, "dhcp.option.type", code)
        add(t, "dhcp.option.length", #v)
        add(t, "dhcp.option.value", hex(v))
        local how = math.type(o[1]) ~= "integer" and typed[o[1]]
        if type(how) == "string" then
          for i = 2, #o do add(t, how, o[i]) end
        elseif how then
          how(t, o[2])
        end
      end
    end
  end
  if in_pads then add(t, "dhcp.option.padding", t.pads) end
  t.pads = nil
  if padding then add(t, "dhcp.option.padding", hex(padding)) end
end

-- sflua's values of packet p, tshark's way: {field = {occurrences}}
function M.values(p)
  local t = {}
  local b = p[sf.BOOTP]
  if not b then return t end
  bootp_values(t, b)
  local d = p[sf.DHCP]
  if d then
    local pad = p[sf.Padding]
    option_values(t, d.options, pad and pad.load)
  end
  return t
end

-- tshark prints integers in decimal or 0x-hex
local function same(want, got)
  local a, b = math.tointeger(tonumber(want)), math.tointeger(tonumber(got))
  if a and b then return a == b end
  return want == got
end

function M.check(p, row)
  local errs, got = {}, M.values(p)
  for _, f in ipairs(M.fields) do
    local want = {}
    for x in (row[f] or ""):gmatch("[^,]+") do want[#want + 1] = x end
    local have = got[f] or {}
    local ok = #want == #have
    for i = 1, math.min(#want, #have) do ok = ok and same(want[i], have[i]) end
    if not ok then
      errs[#errs + 1] = ("%s: tshark %s, sflua %s"):format(f, row[f] or "(none)",
        #have > 0 and table.concat(have, ",") or "(none)")
    end
  end
  return errs
end

return M
