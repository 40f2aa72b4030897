-- DnsServerAM: an authoritative DNS server for the names of a table, over
-- UDP, as an answering machine.  Copy this file to write a server of your own.
--
--   local dns <close> = DnsServerAM{
--     records = {
--       ["www.lab.test"] = {A = {"10.0.0.80", "10.0.0.81"}, AAAA = "fd00::80", TXT = "hello"},
--       ["mail.lab.test"] = {CNAME = "www.lab.test"},
--       ["80.0.0.10.in-addr.arpa"] = {PTR = "www.lab.test"},
--     },
--     addresses = "10.0.0.53", ttl = 300}
--   dns:start(AutomatonConfig{iface = "eth0"})
--
-- A question for a name of the table gets its records of that type (A,
-- AAAA, PTR, TXT, CNAME, or all of them for ANY), following a CNAME to a
-- name of the table; a name the table has without that type, an empty
-- answer; any other name, NXDOMAIN.  Answers are authoritative (aa), the
-- names compressed; one too long for 512 bytes is sent truncated (tc).
-- A query with another opcode gets NOTIMP, one without exactly one
-- question FORMERR; responses are never answered.
-- Options: records; addresses (the server's: queries to others are not
-- its; default: every query on the interface); ttl (300); reverse (true:
-- PTR records made for every A and AAAA); port (53); answer_arp ("auto":
-- for its IPv4 addresses no interface has, as DhcpServerAM); mac; name,
-- log and debug.
local answering = require("stackforge.answering")
local options = require("stackforge.options")
local arp = require("stackforge.machines.arp")
local core = require("stackforge.core")
local L = require("stackforge.layers")
local Ether, IP, IPv6, UDP, ARP = L.Ether, L.IP, L.IPv6, L.UDP, L.ARP
local DNS, DNSQR, DNSRR = L.DNS, L.DNSQR, L.DNSRR

local M = {}

local TYPES = {A = 1, CNAME = 5, PTR = 12, TXT = 16, AAAA = 28}
local ANY = 255
local NOERROR, FORMERR, NXDOMAIN, NOTIMP = 0, 1, 3, 4

-- a name as the table keys it: lower case, one final dot
local function key(name)
  name = name:lower()
  return name:sub(-1) == "." and name or (name .. ".")
end

-- the PTR name of an address: 10.0.0.1 -> 1.0.0.10.in-addr.arpa.,
-- fd00::1 -> 1.0.0. ... .d.f.ip6.arpa.
local function reverse_name(addr)
  local b = core.pton(addr)
  local parts = {}
  if #b == 4 then
    for i = 4, 1, -1 do parts[#parts + 1] = tostring(b:byte(i)) end
    return table.concat(parts, ".") .. ".in-addr.arpa."
  end
  for i = 16, 1, -1 do
    local x = b:byte(i)
    parts[#parts + 1] = ("%x.%x"):format(x & 15, x >> 4)
  end
  return table.concat(parts, ".") .. ".ip6.arpa."
end
M.reverse_name = reverse_name

local function check_value(fname, name, rtype, v, level)
  local ok
  if rtype == "A" then
    ok = type(v) == "string" and #(core.pton(v) or "") == 4
  elseif rtype == "AAAA" then
    ok = type(v) == "string" and #(core.pton(v) or "") == 16
  elseif rtype == "TXT" then
    ok = type(v) == "string" and #v <= 255
  else
    ok = type(v) == "string" and #v > 0 and #v <= 253
  end
  if not ok then
    error(("%s: records[%q].%s: bad value %s"):format(fname, name, rtype, options.show(v)), level + 1)
  end
end

-- The table, checked: name -> {type code -> {values}}
local function zone(fname, records, reverse, level)
  level = level + 1
  if type(records) ~= "table" then
    error(("%s: records must be a table {[name] = {A = ..., AAAA = ...}}, got %s")
      :format(fname, options.show(records)), level)
  end
  local z = {}
  for name, rrs in pairs(records) do
    if type(name) ~= "string" or type(rrs) ~= "table" then
      error(("%s: records: %s = %s: expected a name = {TYPE = value or {values}}")
        :format(fname, tostring(name), options.show(rrs)), level)
    end
    local entry = z[key(name)] or {}
    z[key(name)] = entry
    for rtype, v in pairs(rrs) do
      local code = TYPES[rtype]
      if not code then
        error(("%s: records[%q]: unknown type %s (types: A, AAAA, CNAME, PTR, TXT)")
          :format(fname, name, tostring(rtype)), level)
      end
      local list = type(v) == "table" and v or {v}
      for _, x in ipairs(list) do check_value(fname, name, rtype, x, level) end
      entry[code] = list
    end
    local cname, others = entry[TYPES.CNAME], 0
    for code in pairs(entry) do if code ~= TYPES.CNAME then others = others + 1 end end
    if cname and (#cname > 1 or others > 0) then
      error(("%s: records[%q]: a CNAME stands alone (one target, no other type)"):format(fname, name), level)
    end
  end
  if reverse then  -- collected first: no key is added to z while it is walked
    local ptrs, names = {}, {}
    for name in pairs(z) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      for _, code in ipairs{TYPES.A, TYPES.AAAA} do
        for _, a in ipairs(z[name][code] or {}) do ptrs[#ptrs + 1] = {reverse_name(a), name} end
      end
    end
    for _, pr in ipairs(ptrs) do
      local r = z[pr[1]] or {}
      z[pr[1]] = r
      r[TYPES.PTR] = r[TYPES.PTR] or {}
      table.insert(r[TYPES.PTR], pr[2])
    end
  end
  return z
end

-- the records answering (name, qtype), following CNAMEs inside the
-- table (8 at most): a list of DNSRR, and whether the name exists
local function lookup(z, name, qtype, ttl)
  local out, seen = {}, {}
  for _ = 1, 8 do
    local entry = z[key(name)]
    if not entry then return out, #out > 0 end
    local cname = entry[TYPES.CNAME]
    if cname and qtype ~= TYPES.CNAME and qtype ~= ANY then
      out[#out + 1] = DNSRR{rrname = name, type = "CNAME", ttl = ttl, rdata = cname[1]}
      if seen[key(cname[1])] then return out, true end
      seen[key(name)] = true
      name = cname[1]
    else
      local codes = {}
      if qtype == ANY then
        for code in pairs(entry) do codes[#codes + 1] = code end
        table.sort(codes)
      else
        codes[1] = qtype
      end
      for _, code in ipairs(codes) do
        for _, v in ipairs(entry[code] or {}) do
          out[#out + 1] = DNSRR{rrname = name, type = code, ttl = ttl,
            rdata = code == TYPES.TXT and {v} or v}
        end
      end
      return out, true
    end
  end
  return out, true
end

-- why a query cannot be read, or nil
local function malformed(p)
  if p.truncated then return "truncated" end
  if not p[Ether] then return "not an Ethernet frame" end
end

-- the response to query p (its DNS layer d): addresses and ports swapped,
-- the question echoed, rcode and answers
local function response(self, p, d, rcode, question, answers)
  local ip4, ip6, udp = p[IP], p[IPv6], p[UDP]
  local net = ip4 and IP{src = ip4.dst, dst = ip4.src} or IPv6{src = ip6.dst, dst = ip6.src}
  local dns = DNS{id = d.id, qr = 1, opcode = d.opcode, aa = 1, rd = d.rd, rcode = rcode,
    qd = question and {DNSQR{qname = question.qname, qtype = question.qtype,
      qclass = question.qclass}} or {}, an = answers or {}}
  local r = Ether{src = self.mac, dst = p.src} / net / UDP{sport = udp.dport, dport = udp.sport} / dns
  r[DNS]:compress()  -- names as pointers to earlier ones (RFC 1035 4.1.4)
  if #r - 14 - (ip4 and 28 or 48) > 512 then  -- no EDNS0: 512 bytes of DNS at most
    dns = DNS{id = d.id, qr = 1, opcode = d.opcode, aa = 1, tc = 1, rd = d.rd, rcode = rcode,
      qd = question and {DNSQR{qname = question.qname, qtype = question.qtype}} or {}}
    r = Ether{src = self.mac, dst = p.src} / net / UDP{sport = udp.dport, dport = udp.sport} / dns
  end
  return r
end

local function answer_query(self, p, am)
  local d = p[DNS]
  if d.opcode ~= 0 then return response(self, p, d, NOTIMP) end
  local ok, qd = pcall(function() return d.qd end)
  if not ok or #qd ~= 1 or d.qdcount ~= 1 then
    self.formerr = self.formerr + 1
    return response(self, p, d, FORMERR)
  end
  local q = qd[1]
  local name, qtype = q.qname, q.qtype
  if q.qclass ~= 1 and q.qclass ~= 255 then
    return response(self, p, d, NOTIMP, q)
  end
  local answers, exists = lookup(self.zone, name, qtype, self.ttl)
  if self.debug then
    am.log(("%s %s: %d answers%s"):format(name, qtype, #answers, exists and "" or " (NXDOMAIN)"))
  end
  return response(self, p, d, exists and NOERROR or NXDOMAIN, q, answers)
end

local OPTS = {records = "table", addresses = "any", ttl = "count", reverse = "boolean",
              port = "count", answer_arp = "any", mac = "string", name = "string",
              log = "function", debug = "boolean"}

-- DnsServerAM{records=, addresses=, ttl=, reverse=, port=, answer_arp=,
-- mac=, name=, log=, debug=} -> a machine
function M.DnsServerAM(opts)
  options.check("DnsServerAM", opts, OPTS, 2)
  opts = opts or {}
  local server = {zone = zone("DnsServerAM", opts.records, opts.reverse, 2), ttl = opts.ttl or 300,
    debug = opts.debug, formerr = 0}
  local addrs = opts.addresses and answering.addresses("DnsServerAM", opts.addresses, 2)
  local answer_arp = opts.answer_arp == nil and "auto" or opts.answer_arp
  if answer_arp ~= "auto" and type(answer_arp) ~= "boolean" then
    error("DnsServerAM: option 'answer_arp' expected \"auto\", true or false, got " .. options.show(answer_arp), 2)
  end
  local port = opts.port or 53
  local filter = ("udp dst port %d"):format(port)
  if addrs and answer_arp and addrs.any4 then filter = filter .. " or arp" end
  local resolve
  local am = answering.AnsweringMachine{
    name = opts.name or "DnsServerAM", log = opts.log, debug = opts.debug,
    bpf_filter = filter,
    on_start = function(am)
      server.mac = am:use_mac(opts.mac)
      resolve = nil
      if addrs and answer_arp == true then
        resolve = addrs
      elseif addrs and answer_arp == "auto" then
        local mine, list = answering.local_addresses(), {}
        for _, a in ipairs(addrs.v4) do if not mine[a] then list[#list + 1] = a end end
        resolve = #list > 0 and answering.addresses("DnsServerAM", list, 1) or nil
      end
    end,
    is_request = function(p)
      if p[ARP] then return resolve ~= nil and arp.asks_for(p, resolve) end
      local d, udp = p[DNS], p[UDP]
      if not d or not udp or udp.dport ~= port or d.qr ~= 0 then return false end
      if not addrs then return true end
      local ip = p[IP] or p[IPv6]
      return ip ~= nil and addrs:has(ip.dst)
    end,
    make_reply = function(p, am)
      local why = p[ARP] and arp.malformed(p) or malformed(p)
      if why then return am:ignore(p, why) end
      if p[ARP] then return arp.is_at(p, server.mac) end
      return answer_query(server, p, am)
    end,
  }
  am.server, am.zone = server, server.zone
  return am
end

return M
