-- tshark_dns.lua: sflua's values for tshark's dns.* fields, as
-- `tshark -T fields -E occurrence=a -E aggregator=,` prints them: names
-- without their final dot (the root as <Root>), classes in hex, several
-- records' values joined by commas.  Shared by tests/lua/dns_spec.lua
-- (against committed references) and tests/dns/run_tshark.sh (live).
local M = {}

M.fields = {
  "dns.length", "dns.id", "dns.flags.response", "dns.flags.opcode",
  "dns.flags.rcode", "dns.flags.recdesired", "dns.flags.truncated",
  "dns.count.queries", "dns.count.answers", "dns.count.auth_rr",
  "dns.count.add_rr", "dns.qry.name", "dns.qry.type", "dns.qry.class",
  "dns.resp.name", "dns.resp.type", "dns.resp.class", "dns.resp.ttl",
  "dns.resp.len", "dns.a", "dns.aaaa", "dns.cname", "dns.ns",
  "dns.ptr.domain_name", "dns.mx.preference", "dns.mx.mail_exchange",
  "dns.txt", "dns.srv.priority", "dns.srv.weight", "dns.srv.port",
  "dns.srv.target", "dns.soa.mname", "dns.soa.rname",
  "dns.soa.serial_number", "dns.soa.minimum_ttl",
  "dns.rr.udp_payload_size", "dns.resp.z.do", "dns.opt.code", "dns.opt.len",
  "dns.rrsig.type_covered", "dns.rrsig.algorithm", "dns.rrsig.key_tag",
  "dns.rrsig.signers_name", "dns.dnskey.flags", "dns.dnskey.protocol",
  "dns.ds.key_id", "dns.ds.digest_type", "dns.nsec.next_domain_name",
  "dns.caa.tag", "dns.caa.value", "dns.hinfo.cpu", "dns.hinfo.os",
}

local function name(s)
  if s == "." then return "<Root>" end
  return (s:gsub("%.$", ""))
end

local function hex4(v) return ("0x%04x"):format(v) end

-- every record of every DNS message in p, with its section
local function records(p, sf)
  local out = {}
  for i = 1, p.layer_count do
    local v = p:layer(i)
    if v.name == "DNS" or v.name == "LLMNR" then
      for _, sec in ipairs({"qd", "an", "ns", "ar"}) do
        for _, r in ipairs(v[sec]) do out[#out + 1] = {sec = sec, r = r, kind = r.kind} end
      end
    end
  end
  return out
end

local function headers(p)
  local out = {}
  for i = 1, p.layer_count do
    local v = p:layer(i)
    if v.name == "DNS" or v.name == "LLMNR" then out[#out + 1] = v end
  end
  return out
end

-- values of one field of the records of class `cls` (nil: every RR)
local function rr(p, sf, cls, f, fmt, skip_opt)
  local vals = {}
  for _, x in ipairs(records(p, sf)) do
    local isq = x.kind == sf.DNSQR.kind
    local ok = not isq and (cls == nil or x.kind == cls.kind)
    if ok and skip_opt and x.kind == sf.DNSRROPT.kind then ok = false end
    if ok then
      local v = f(x.r)
      if v ~= nil then vals[#vals + 1] = fmt and fmt(v) or tostring(v) end
    end
  end
  return vals
end

local function typed(t)  -- DNSRR rdata of one type
  return function(r) if r.type == t then return r.rdata end end
end

local function hdr(f, fmt)
  return function(p)
    local vals = {}
    for _, h in ipairs(headers(p)) do
      local v = f(h)
      if v ~= nil then vals[#vals + 1] = fmt and fmt(v) or tostring(v) end
    end
    return vals
  end
end

local function q(f, fmt)
  return function(p, sf)
    local vals = {}
    for _, x in ipairs(records(p, sf)) do
      if x.kind == sf.DNSQR.kind then vals[#vals + 1] = fmt(f(x.r)) end
    end
    return vals
  end
end

local function field(cls, f, fmt)
  return function(p, sf) return rr(p, sf, sf[cls], function(r) return r[f] end, fmt) end
end

local function txt(p, sf)
  local vals = {}
  for _, s in ipairs(rr(p, sf, sf.DNSRR, function(r) return r.type == 16 and r.rdata or nil end,
                         function(list) return table.concat(list, ",") end)) do
    vals[#vals + 1] = s
  end
  return vals
end

local function opt(f)
  return function(p, sf)
    local vals = {}
    for _, x in ipairs(records(p, sf)) do
      if x.kind == sf.DNSRROPT.kind then
        for _, o in ipairs(x.r.rdata) do
          if type(o) ~= "string" then vals[#vals + 1] = tostring(o[f]) end
        end
      end
    end
    return vals
  end
end

M.get = {
  ["dns.length"] = hdr(function(h) return h.length end),
  ["dns.id"] = hdr(function(h) return h.id end, hex4),
  ["dns.flags.response"] = hdr(function(h) return h.qr end),
  ["dns.flags.opcode"] = hdr(function(h) return h.opcode end),
  ["dns.flags.rcode"] = hdr(function(h) return h.qr == 1 and h.rcode or nil end),
  ["dns.flags.recdesired"] = hdr(function(h) return h.rd end),
  ["dns.flags.truncated"] = hdr(function(h) return h.tc end),
  ["dns.count.queries"] = hdr(function(h) return h.qdcount end),
  ["dns.count.answers"] = hdr(function(h) return h.ancount end),
  ["dns.count.auth_rr"] = hdr(function(h) return h.nscount end),
  ["dns.count.add_rr"] = hdr(function(h) return h.arcount end),
  ["dns.qry.name"] = q(function(r) return r.qname end, name),
  ["dns.qry.type"] = q(function(r) return r.qtype end, tostring),
  ["dns.qry.class"] = q(function(r) return r.qclass end, hex4),
  -- tshark names an SRV record's owner dns.srv.name (service, proto, name)
  ["dns.resp.name"] = function(p, sf)
    return rr(p, sf, nil, function(r) if r.kind ~= sf.DNSRRSRV.kind then return r.rrname end end, name)
  end,
  ["dns.resp.type"] = function(p, sf) return rr(p, sf, nil, function(r) return r.type end) end,
  ["dns.resp.class"] = function(p, sf) return rr(p, sf, nil, function(r) return r.rclass end, hex4, true) end,
  ["dns.resp.ttl"] = function(p, sf) return rr(p, sf, nil, function(r) return r.ttl end, nil, true) end,
  ["dns.resp.len"] = function(p, sf) return rr(p, sf, nil, function(r) return r.rdlen end) end,
  ["dns.a"] = function(p, sf) return rr(p, sf, sf.DNSRR, typed(1)) end,
  ["dns.aaaa"] = function(p, sf) return rr(p, sf, sf.DNSRR, typed(28)) end,
  ["dns.cname"] = function(p, sf) return rr(p, sf, sf.DNSRR, typed(5), name) end,
  ["dns.ns"] = function(p, sf) return rr(p, sf, sf.DNSRR, typed(2), name) end,
  ["dns.ptr.domain_name"] = function(p, sf) return rr(p, sf, sf.DNSRR, typed(12), name) end,
  ["dns.mx.preference"] = field("DNSRRMX", "preference"),
  ["dns.mx.mail_exchange"] = field("DNSRRMX", "exchange", name),
  ["dns.txt"] = txt,
  ["dns.srv.priority"] = field("DNSRRSRV", "priority"),
  ["dns.srv.weight"] = field("DNSRRSRV", "weight"),
  ["dns.srv.port"] = field("DNSRRSRV", "port"),
  ["dns.srv.target"] = field("DNSRRSRV", "target", name),
  ["dns.soa.mname"] = field("DNSRRSOA", "mname", name),
  ["dns.soa.rname"] = field("DNSRRSOA", "rname", name),
  ["dns.soa.serial_number"] = field("DNSRRSOA", "serial"),
  ["dns.soa.minimum_ttl"] = field("DNSRRSOA", "minimum"),
  ["dns.rr.udp_payload_size"] = field("DNSRROPT", "rclass"),
  ["dns.resp.z.do"] = field("DNSRROPT", "z", function(z) return tostring(z >> 15) end),
  ["dns.opt.code"] = opt("optcode"),
  ["dns.opt.len"] = opt("optlen"),
  ["dns.rrsig.type_covered"] = field("DNSRRRSIG", "typecovered"),
  ["dns.rrsig.algorithm"] = field("DNSRRRSIG", "algorithm"),
  ["dns.rrsig.key_tag"] = field("DNSRRRSIG", "keytag"),
  ["dns.rrsig.signers_name"] = field("DNSRRRSIG", "signersname", name),
  ["dns.dnskey.flags"] = field("DNSRRDNSKEY", "flags", nil),
  ["dns.dnskey.protocol"] = field("DNSRRDNSKEY", "protocol"),
  ["dns.ds.key_id"] = field("DNSRRDS", "keytag"),
  ["dns.ds.digest_type"] = field("DNSRRDS", "digesttype"),
  ["dns.nsec.next_domain_name"] = field("DNSRRNSEC", "nextname", name),
  ["dns.caa.tag"] = field("DNSRRCAA", "tag"),
  ["dns.caa.value"] = field("DNSRRCAA", "value"),
  ["dns.hinfo.cpu"] = field("DNSRRHINFO", "cpu"),
  ["dns.hinfo.os"] = field("DNSRRHINFO", "os"),
}

-- The row tshark would print for p: {field = "v1,v2"}
function M.row(p, sf)
  local row = {}
  for _, f in ipairs(M.fields) do row[f] = table.concat(M.get[f](p, sf), ",") end
  return row
end

-- A test server's port: DNS there too, over UDP and TCP.
function M.bind(sf, port)
  sf.bind_layers(sf.UDP, sf.DNS, {dport = port})
  sf.bind_layers(sf.TCP, sf.DNS, {dport = port})
end

local function cells(line)
  local t = {}
  for c in (line .. "\t"):gmatch("(.-)\t") do t[#t + 1] = c end
  return t
end

-- lines: tshark's TSV (a header of field names, then a row a packet).
-- Returns the differences (text), the packets read, the values compared.
function M.compare(cap, lines, sf)
  local names, bad, i, checked = cells(lines[1]), {}, 0, 0
  for p in sf.PcapReader(cap) do
    i = i + 1
    local want, row = cells(lines[i + 1] or ""), M.row(p, sf)
    for k, f in ipairs(names) do
      if row[f] == nil then
        bad[#bad + 1] = ("no sflua reading of %s"):format(f)
      else
        checked = checked + (want[k] ~= "" and 1 or 0)
        if (want[k] or "") ~= row[f] then
          bad[#bad + 1] = ("packet %d %s: tshark %q, sflua %q"):format(i, f, want[k] or "", row[f])
        end
      end
    end
  end
  if #lines - 1 ~= i then bad[#bad + 1] = ("tshark has %d rows, sflua read %d packets"):format(#lines - 1, i) end
  return bad, i, checked
end

return M
