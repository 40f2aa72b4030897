-- DhcpServerAM: a DHCP server (RFC 2131) for one IPv4 subnet, as an
-- answering machine.  Copy this file to write a server of your own.
--
--   local pool = DhcpPoolConfig{pool_start = "10.0.0.100", pool_end = "10.0.0.199",
--     server_ip = "10.0.0.1", subnet_mask = "255.255.255.0", gateway = "10.0.0.1",
--     dns_servers = {"10.0.0.1"}, lease_time = 3600, domain = "lab.example"}
--   local dhcp <close> = DhcpServerAM(pool, {server_mac = "02:00:00:00:00:01"})
--   dhcp:start(AutomatonConfig{iface = "eth0"})
--   for _, l in ipairs(dhcp:leases()) do print(l.ip, l.mac, l.state) end
--
-- What it does, by message:
--   DISCOVER  an OFFER: the client's current address, its reservation,
--             the address it asks for if free, else the next free one;
--             none free: silence and a log line (pool exhausted)
--   REQUEST   selecting (server_id): ACK our offer, NAK a wrong address,
--             forget our offer if the client chose another server;
--             init-reboot (requested_addr), renewing and rebinding
--             (ciaddr): ACK the client's address, NAK one that is not
--             its or not of this subnet
--   DECLINE   the address is marked bad for decline_time seconds
--   RELEASE   the lease ends now (the client gets the address back later)
--   INFORM    an ACK with the options, no lease
-- Options 1, 3, 6, 15 and 28 as the client's parameter request list asks
-- (all of them when it has none), 51, 54, 58, 59 always.  A request that
-- came through a relay (giaddr) is answered to the relay.  The server
-- answers ARP for server_ip when no interface of this host has it (a
-- client renewing sends to it).  Leases may be kept in a file across runs.
local answering = require("stackforge.answering")
local options = require("stackforge.options")
local arp = require("stackforge.machines.arp")
local core = require("stackforge.core")
local codec = require("stackforge.codecs.dhcp")
local L = require("stackforge.layers")
local Ether, IP, UDP, BOOTP, DHCP, ARP = L.Ether, L.IP, L.UDP, L.BOOTP, L.DHCP, L.ARP

local M = {}
local ip4_int, ip4_text = answering.ip4_int, answering.ip4_text

-- ---- the pool ---------------------------------------------------------------------------

local POOL_FIELDS = {
  pool_start = "string", pool_end = "string", server_ip = "string", subnet_mask = "string",
  gateway = "string", dns_servers = "any", lease_time = "count", domain = "string",
  renewal_time = "count", rebinding_time = "count", broadcast_address = "string",
  reservations = "table", decline_time = "count", offer_time = "count",
}

local Pool = {}
Pool.__index = Pool
M.PoolClass = Pool

local function pool_error(field, msg, level)
  error(("DhcpPoolConfig.%s: %s"):format(field, msg), level + 1)
end

local function address_field(t, field, level, required)
  local v = t[field]
  if v == nil then
    if required then pool_error(field, "is required (an IPv4 address)", level + 1) end
    return nil
  end
  local x = ip4_int(v)
  if not x then pool_error(field, ("bad IPv4 address %s"):format(options.show(v)), level + 1) end
  return x
end

local function mask_bits(mask)
  local bits = 0
  while bits < 32 and (mask >> (31 - bits)) & 1 == 1 do bits = bits + 1 end
  return ((0xffffffff << (32 - bits)) & 0xffffffff) == mask and bits or nil
end

-- DhcpPoolConfig{pool_start=, pool_end=, server_ip=, subnet_mask=,
-- gateway=, dns_servers=, lease_time=, domain=, ...}: the seed toolkit's
-- fields, and renewal_time/rebinding_time (default half and 7/8 of the
-- lease), broadcast_address, reservations {[mac] = address},
-- decline_time (600 s) and offer_time (60 s: how long an offer holds).
function M.DhcpPoolConfig(t)
  options.check("DhcpPoolConfig", t, POOL_FIELDS, 2, "field")
  t = t or {}
  local pc = setmetatable({}, Pool)
  for k, v in pairs(t) do pc[k] = v end
  pc.start_n = address_field(t, "pool_start", 2, true)
  pc.end_n = address_field(t, "pool_end", 2, true)
  pc.server_n = address_field(t, "server_ip", 2, true)
  pc.mask_n = address_field(t, "subnet_mask", 2) or 0xffffff00
  pc.subnet_mask = ip4_text(pc.mask_n)
  if not mask_bits(pc.mask_n) then pool_error("subnet_mask", "not a contiguous mask: " .. pc.subnet_mask, 2) end
  address_field(t, "gateway", 2)
  pc.net_n = pc.server_n & pc.mask_n
  if pc.start_n > pc.end_n then pool_error("pool_end", "comes before pool_start", 2) end
  for _, f in ipairs{"pool_start", "pool_end"} do
    if ip4_int(t[f]) & pc.mask_n ~= pc.net_n then
      pool_error(f, ("%s is not in the server's subnet %s/%d"):format(t[f], ip4_text(pc.net_n),
        mask_bits(pc.mask_n)), 2)
    end
  end
  local dns = t.dns_servers
  if type(dns) == "string" then dns = {dns} end
  if dns ~= nil and type(dns) ~= "table" then pool_error("dns_servers", "expected a list of addresses", 2) end
  for i, a in ipairs(dns or {}) do
    if not ip4_int(a) then pool_error("dns_servers", ("item %d: bad IPv4 address %s"):format(i, options.show(a)), 2) end
  end
  pc.dns_servers = dns or {}
  pc.lease_time = t.lease_time or 86400
  pc.renewal_time = t.renewal_time or pc.lease_time // 2
  pc.rebinding_time = t.rebinding_time or pc.lease_time * 7 // 8
  pc.broadcast_address = t.broadcast_address or ip4_text(pc.net_n | (~pc.mask_n & 0xffffffff))
  pc.decline_time = t.decline_time or 600
  pc.offer_time = t.offer_time or 60
  pc.reserved = {}  -- mac -> address (int), address -> mac
  for mac, a in pairs(t.reservations or {}) do
    local x = ip4_int(tostring(a))
    if type(mac) ~= "string" or not mac:match("^%x%x:%x%x:%x%x:%x%x:%x%x:%x%x$") or not x
        or x & pc.mask_n ~= pc.net_n then
      pool_error("reservations", ("%s = %s: expected a MAC address = an address of the subnet")
        :format(tostring(mac), tostring(a)), 2)
    end
    pc.reserved[mac:lower()], pc.reserved[x] = x, mac:lower()
  end
  return pc
end

function Pool.__tostring(self)
  return ("DhcpPoolConfig{%s-%s, server %s}"):format(self.pool_start, self.pool_end, self.server_ip)
end

-- ---- the lease table ---------------------------------------------------------------------

-- A lease: {ip = int, client = key, mac =, state = "offered" | "bound" |
-- "released" | "declined", expires = epoch seconds, hostname =}.  Kept
-- by address and by client (the client identifier, else the MAC).
local Leases = {}
Leases.__index = Leases

local function new_leases(pool)
  return setmetatable({pool = pool, by_ip = {}, by_client = {}, cursor = pool.start_n}, Leases)
end

-- may the address go to this client now?
function Leases:free_for(x, client, mac, now)
  local pool = self.pool
  if x == pool.server_n or x & pool.mask_n ~= pool.net_n then return false end
  local owner = pool.reserved[x]
  if owner and owner ~= mac then return false end
  local l = self.by_ip[x]
  return not l or l.client == client or l.expires <= now  -- a declined one is nobody's
end

function Leases:forget(l)
  if self.by_client[l.client] == l then self.by_client[l.client] = nil end
  if self.by_ip[l.ip] == l then self.by_ip[l.ip] = nil end
end

function Leases:set(x, client, mac, state, expires, hostname)
  local old = self.by_client[client]
  if old and old.ip ~= x then self:forget(old) end
  local taken = self.by_ip[x]
  if taken and taken.client ~= client then self:forget(taken) end
  local l = {ip = x, client = client, mac = mac, state = state, expires = expires,
             hostname = hostname or (old and old.hostname)}
  self.by_ip[x], self.by_client[client] = l, l
  return l
end

-- the next free address of the pool, round robin from the last one given
function Leases:next_free(client, mac, now)
  local pool = self.pool
  local size = pool.end_n - pool.start_n + 1
  local x = self.cursor
  for _ = 1, size do
    if x > pool.end_n then x = pool.start_n end
    if self:free_for(x, client, mac, now) then
      self.cursor = x + 1
      return x
    end
    x = x + 1
  end
  return nil
end

-- ---- saving and restoring leases -----------------------------------------------------------

local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end

-- one line a lease: address, MAC, state, expiry (epoch), client key and
-- host name in hex
function Leases:save(path)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "w")
  if not f then return nil, err end
  local ips = {}
  for x in pairs(self.by_ip) do ips[#ips + 1] = x end
  table.sort(ips)
  for _, x in ipairs(ips) do
    local l = self.by_ip[x]
    if l.state ~= "offered" then
      f:write(("%s %s %s %d %s %s\n"):format(ip4_text(x), l.mac, l.state, l.expires,
        hex(l.client), hex(l.hostname or "")))
    end
  end
  f:close()
  return os.rename(tmp, path)
end

function Leases:load(path)
  local f = io.open(path)
  if not f then return 0 end
  local n = 0
  for line in f:lines() do
    local ip, mac, state, expires, client, host = line:match("^(%S+) (%S+) (%a+) (%d+) (%x*) (%x*)$")
    local x = ip and ip4_int(ip)
    if x and (state == "bound" or state == "released" or state == "declined") then
      local l = self:set(x, unhex(client), mac, state, tonumber(expires), host ~= "" and unhex(host) or nil)
      if state == "declined" then self.by_client[l.client] = nil end
      n = n + 1
    end
  end
  f:close()
  return n
end

-- ---- reading requests ------------------------------------------------------------------------

local CODE = {}  -- option name -> code
for code, o in pairs(codec.options) do CODE[o[1]] = code end

-- the options of a request by name ({name, value...}); nil if the list
-- cannot be read
local function options_of(p)
  local ok, list = pcall(function() return p[DHCP].options end)
  if not ok or type(list) ~= "table" then return nil end
  local by = {}
  for _, o in ipairs(list) do
    if type(o) == "table" and type(o[1]) == "string" then by[o[1]] = o end
  end
  return by
end

local function address_option(opts, name)
  local o = opts[name]
  return o and type(o[2]) == "string" and ip4_int(o[2]) or nil
end

-- the client's key: its identifier (option 61) if it sent one, else its MAC
local function client_key(opts, mac)
  local id = opts.client_id
  if id and type(id[2]) == "table" then return ("id:%s:%s"):format(tostring(id[2][1]), tostring(id[2][2])) end
  if id and type(id[2]) == "string" then return "id:" .. id[2] end
  return "mac:" .. mac
end

-- why a packet is no request this server can read, or nil
local function malformed(p, b)
  if p.truncated then return "truncated" end
  if b.htype ~= 1 or b.hlen ~= 6 then return ("not Ethernet (htype %d, hlen %d)"):format(b.htype, b.hlen) end
  local mac = b.chaddr
  if type(mac) ~= "string" or not mac:match("^%x%x:%x%x:%x%x:%x%x:%x%x:%x%x$") then
    return "chaddr is not an Ethernet address"
  end
  if not p[DHCP] then return "BOOTP without DHCP options (BOOTP clients are not served)" end
end

-- ---- answers ---------------------------------------------------------------------------------

-- the options this server can give, by code
local function offered_options(pool)
  local by = {[1] = {"subnet_mask", pool.subnet_mask}, [28] = {"broadcast_address", pool.broadcast_address}}
  if pool.gateway then by[3] = {"router", pool.gateway} end
  if #pool.dns_servers > 0 then by[6] = {"name_server", table.unpack(pool.dns_servers)} end
  if pool.domain then by[15] = {"domain", pool.domain} end
  return by
end

local DEFAULT_PARAMS = {1, 3, 6, 15}

-- the option list of an answer: type, server id, the lease's times, then
-- what the client asked for (its order), then end
local function answer_options(self, msgtype, opts, lease_time)
  local pool = self.pool
  local list = {{"message-type", msgtype}, {"server_id", pool.server_ip}}
  if lease_time then
    list[#list + 1] = {"lease_time", lease_time}
    list[#list + 1] = {"renewal_time", math.min(pool.renewal_time, lease_time // 2)}
    list[#list + 1] = {"rebinding_time", math.min(pool.rebinding_time, lease_time * 7 // 8)}
  end
  if msgtype ~= "nak" then
    local prl = opts.param_req_list and type(opts.param_req_list[2]) == "table" and opts.param_req_list[2]
    local seen = {}
    for _, want in ipairs(prl or DEFAULT_PARAMS) do
      local code = type(want) == "string" and CODE[want] or want
      local o = self.offers_by_code[code]
      if o and not seen[code] then
        list[#list + 1] = o
        seen[code] = true
      end
    end
  end
  list[#list + 1] = "end"
  return list
end

-- RFC 2131 4.1: a relay's request back to the relay; a NAK broadcast; a
-- client that has its address (ciaddr) by unicast; one that asked for
-- broadcast by broadcast; else unicast to the new address, by MAC
local function destination(b, yiaddr, nak)
  local giaddr, ciaddr = b.giaddr, b.ciaddr
  if giaddr ~= "0.0.0.0" then return "relay", giaddr end
  if nak then return "broadcast" end
  if ciaddr ~= "0.0.0.0" then return "unicast", ciaddr end
  if b.flags:find("B", 1, true) then return "broadcast" end
  return "unicast", yiaddr
end

local function make_answer(self, p, b, msgtype, yiaddr, opts, lease_time)
  local pool = self.pool
  local how, to = destination(b, yiaddr, msgtype == "nak")
  local bcast_flag = b.flags:find("B", 1, true) ~= nil  -- the other bits must be 0
  local bootp = BOOTP{op = 2, htype = 1, hlen = 6, hops = 0, xid = b.xid,
    flags = ((msgtype == "nak" and how == "relay") or bcast_flag) and "B" or 0,
    ciaddr = (msgtype == "ack" and b.ciaddr) or "0.0.0.0", yiaddr = yiaddr or "0.0.0.0",
    siaddr = msgtype == "nak" and "0.0.0.0" or pool.server_ip, giaddr = b.giaddr, chaddr = b.chaddr}
    / DHCP{options = answer_options(self, msgtype, opts, lease_time)}
  if how == "relay" then  -- a datagram the kernel routes to the relay
    return IP{src = pool.server_ip, dst = to} / UDP{sport = 67, dport = 67} / bootp
  end
  local bcast = how == "broadcast"
  return Ether{src = self.mac, dst = bcast and "ff:ff:ff:ff:ff:ff" or b.chaddr}
    / IP{src = pool.server_ip, dst = bcast and "255.255.255.255" or to}
    / UDP{sport = 67, dport = 68} / bootp
end

local function note(self, fmt, ...)
  if self.debug then self.log(fmt:format(...)) end
end

local function lease_time_for(pool, opts)
  local asked = opts.lease_time and math.type(opts.lease_time[2]) == "integer" and opts.lease_time[2]
  return asked and asked > 0 and math.min(asked, pool.lease_time) or pool.lease_time
end

local function changed(self)
  self.dirty = true
  if self.lease_file and self.running and not self.save_timer then
    self.save_timer = core._after(1, function()
      self.save_timer = nil
      self:save_leases()
    end)
  end
end

local handlers = {}

function handlers.discover(self, p, b, opts, client, mac, now)
  local leases, pool = self.table, self.pool
  local cur = leases.by_client[client]
  local want = address_option(opts, "requested_addr")
  local x = pool.reserved[mac]
  if not x and cur and cur.state ~= "declined" and leases:free_for(cur.ip, client, mac, now) then x = cur.ip end
  if not x and want and want >= pool.start_n and want <= pool.end_n and leases:free_for(want, client, mac, now) then
    x = want
  end
  x = x or leases:next_free(client, mac, now)
  if not x then
    self.exhausted = self.exhausted + 1
    self.log(("pool exhausted: no address for %s (%s-%s)"):format(mac, pool.pool_start, pool.pool_end))
    return nil
  end
  local l = leases.by_client[client]
  if not (l and l.ip == x and l.state == "bound" and l.expires > now) then
    leases:set(x, client, mac, "offered", now + pool.offer_time, opts.hostname and opts.hostname[2])
  end
  note(self, "DISCOVER from %s: OFFER %s", mac, ip4_text(x))
  return make_answer(self, p, b, "offer", ip4_text(x), opts, lease_time_for(pool, opts))
end

local function nak(self, p, b, opts, mac, why)
  self.naks = self.naks + 1
  note(self, "REQUEST from %s: NAK (%s)", mac, why)
  return make_answer(self, p, b, "nak", nil, opts)
end

local function ack(self, p, b, opts, client, mac, x, now)
  local pool = self.pool
  local t = lease_time_for(pool, opts)
  self.table:set(x, client, mac, "bound", now + t, opts.hostname and type(opts.hostname[2]) == "string"
    and opts.hostname[2] or nil)
  changed(self)
  note(self, "REQUEST from %s: ACK %s", mac, ip4_text(x))
  return make_answer(self, p, b, "ack", ip4_text(x), opts, t)
end

function handlers.request(self, p, b, opts, client, mac, now)
  local leases, pool = self.table, self.pool
  local sid = opts.server_id and address_option(opts, "server_id")
  local want = address_option(opts, "requested_addr")
  local l = leases.by_client[client]
  if opts.server_id then  -- selecting: the answer to an offer
    if sid ~= pool.server_n then
      if l and l.state == "offered" then leases:forget(l) end  -- it took another's offer
      note(self, "REQUEST from %s: for server %s, not us", mac, tostring(opts.server_id[2]))
      return nil
    end
    if not want then return nak(self, p, b, opts, mac, "no requested address") end
    if not (l and l.ip == want) then return nak(self, p, b, opts, mac, "not the address offered") end
    if not leases:free_for(want, client, mac, now) then return nak(self, p, b, opts, mac, "address taken") end
    return ack(self, p, b, opts, client, mac, want, now)
  end
  local x = want or ip4_int(b.ciaddr)  -- init-reboot, or renewing/rebinding
  if not x or x == 0 then return nak(self, p, b, opts, mac, "no address asked for") end
  if x & pool.mask_n ~= pool.net_n then return nak(self, p, b, opts, mac, "not of this subnet") end
  if l and l.ip == x and l.state ~= "declined" then return ack(self, p, b, opts, client, mac, x, now) end
  local in_pool = (x >= pool.start_n and x <= pool.end_n) or pool.reserved[x] == mac
  if in_pool and leases:free_for(x, client, mac, now) then
    return ack(self, p, b, opts, client, mac, x, now)  -- a client we lost track of
  end
  return nak(self, p, b, opts, mac, ("%s is not this client's"):format(ip4_text(x)))
end

function handlers.decline(self, p, b, opts, client, mac, now)
  local sid = address_option(opts, "server_id")
  if opts.server_id and sid ~= self.pool.server_n then return nil end
  local x = address_option(opts, "requested_addr")
  if not x then return self.am:ignore(p, "DECLINE without a requested address") end
  local l = self.table:set(x, client, mac, "declined", now + self.pool.decline_time)
  self.table.by_client[client] = nil  -- the address is nobody's now
  l.client = "declined:" .. ip4_text(x)
  self.declined = self.declined + 1
  self.log(("DECLINE from %s: %s marked bad for %d s"):format(mac, ip4_text(x), self.pool.decline_time))
  changed(self)
  return nil
end

function handlers.release(self, p, b, opts, client, mac, now)
  local l = self.table.by_client[client]
  local x = ip4_int(b.ciaddr)
  if l and l.ip == x and l.state == "bound" then
    l.state, l.expires = "released", now
    note(self, "RELEASE from %s: %s", mac, b.ciaddr)
    changed(self)
  end
  return nil
end

function handlers.inform(self, p, b, opts, client, mac, now)
  note(self, "INFORM from %s (%s)", mac, b.ciaddr)
  return make_answer(self, p, b, "ack", nil, opts)
end

-- ---- the machine -------------------------------------------------------------------------------

local OPTS = {server_mac = "string", lease_file = "string", answer_arp = "any",
              name = "string", log = "function", debug = "boolean"}

local Server = {}  -- the DHCP half; the machine (AnsweringMachine) is server.am

function Server:handle(p, am)
  if p[ARP] then
    if arp.malformed(p) then return am:ignore(p, arp.malformed(p)) end
    self.arp_answers = self.arp_answers + 1
    return arp.is_at(p, self.mac)
  end
  local b = p[BOOTP]
  local why = malformed(p, b)
  if why then return am:ignore(p, why) end
  local opts = options_of(p)
  local mt = opts and opts["message-type"] and opts["message-type"][2]
  local handler = type(mt) == "string" and handlers[mt]
  if not handler then
    return am:ignore(p, ("no message type this server answers (%s)"):format(tostring(mt)))
  end
  if b.giaddr ~= "0.0.0.0" and ip4_int(b.giaddr) & self.pool.mask_n ~= self.pool.net_n then
    return am:ignore(p, ("relayed from %s, not of this subnet"):format(b.giaddr))
  end
  local mac = b.chaddr:lower()
  return handler(self, p, b, opts, client_key(opts, mac), mac, os.time())
end

-- the lease table as a list sorted by address: {ip=, mac=, state=,
-- expires= (seconds from now, 0 if past), hostname=, client_id=}
function Server:leases()
  local out, now = {}, os.time()
  for x, l in pairs(self.table.by_ip) do
    local state = l.state
    if (state == "bound" or state == "offered") and l.expires <= now then state = "expired" end
    out[#out + 1] = {ip = ip4_text(x), mac = l.mac, state = state, hostname = l.hostname,
      expires = math.max(0, l.expires - now), client_id = l.client, n = x}
  end
  table.sort(out, function(a, c) return a.n < c.n end)
  for _, l in ipairs(out) do l.n = nil end
  return out
end

-- the lease of an address, or a MAC's (not a declined one), or nil
function Server:lease(key)
  for _, l in ipairs(self:leases()) do
    if l.ip == key or (l.mac == key and l.state ~= "declined") then return l end
  end
  return nil
end

function Server:save_leases()
  if not self.lease_file or not self.dirty then return true end
  local ok, err = self.table:save(self.lease_file)
  if not ok then
    self.log(("cannot save the leases to %s: %s"):format(self.lease_file, tostring(err)))
    return nil, err
  end
  self.dirty = false
  return true
end

-- DhcpServerAM(pool, {server_mac=, lease_file=, answer_arp=, name=, log=,
-- debug=}) -> a machine: start(config), stop(), leases(), lease(ip or mac)
function M.DhcpServerAM(pool, opts)
  if getmetatable(pool) ~= Pool then
    error("DhcpServerAM: expected a DhcpPoolConfig{...}, got " .. options.show(pool), 2)
  end
  options.check("DhcpServerAM", opts, OPTS, 2)
  opts = opts or {}
  if opts.server_mac and not opts.server_mac:match("^%x%x:%x%x:%x%x:%x%x:%x%x:%x%x$") then
    error("DhcpServerAM: option 'server_mac' expected a MAC address, got " .. options.show(opts.server_mac), 2)
  end
  local answer_arp = opts.answer_arp == nil and "auto" or opts.answer_arp
  if answer_arp ~= "auto" and type(answer_arp) ~= "boolean" then
    error("DhcpServerAM: option 'answer_arp' expected \"auto\", true or false, got " .. options.show(answer_arp), 2)
  end
  local server = setmetatable({pool = pool, table = new_leases(pool), lease_file = opts.lease_file,
    debug = opts.debug, naks = 0, exhausted = 0, declined = 0, arp_answers = 0, dirty = false,
    offers_by_code = offered_options(pool)}, {__index = Server})
  if opts.lease_file then server.restored = server.table:load(opts.lease_file) end
  local server_addr = answering.addresses("DhcpServerAM", pool.server_ip, 2)
  local am = answering.AnsweringMachine{
    name = opts.name or "DhcpServerAM", log = opts.log, debug = opts.debug,
    bpf_filter = "(udp dst port 67) or arp",
    on_start = function(am)
      server.mac = opts.server_mac or am.iface_mac
      if not server.mac then error("the interface has no MAC: give server_mac=", 0) end
      local answers = answer_arp == true or (answer_arp == "auto" and
        not answering.local_addresses()[pool.server_ip])
      server.arp = answers and server_addr or nil
      server.running = true
    end,
    on_stop = function()
      server.running = false
      if server.save_timer then server.save_timer:stop(); server.save_timer = nil end
      server:save_leases()
    end,
    is_request = function(p)
      if p[ARP] then return server.arp ~= nil and arp.asks_for(p, server.arp) end
      local b = p[BOOTP]
      return b ~= nil and b.op == 1
    end,
    make_reply = function(p, am) return server:handle(p, am) end,
  }
  server.am, server.log = am, am.log
  -- the machine answers for the server: its lease table and counters
  am.pool, am.server = pool, server
  am.leases = function() return server:leases() end
  am.lease = function(_, key) return server:lease(key) end
  am.save_leases = function() return server:save_leases() end
  return am
end

return M
