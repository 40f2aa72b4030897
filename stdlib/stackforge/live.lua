-- live.lua: live traffic, Scapy's way.  sniff, Sniffer, AsyncSniffer,
-- send, sendp, sr, sr1, srp, srp1, srloop, traceroute, arping, conf, and
-- the interfaces.  The C half (lua/lcapture.c over core/capture) opens
-- capture handles and sockets, sends, and matches answers to requests;
-- this file checks options, keeps handles open across calls, and shapes
-- results.  Everything runs on the state's one event loop (libuv's, shared
-- with luv): blocking calls run it until they are done.
local core = require("stackforge.core")

local M = {}

-- ---- options ---------------------------------------------------------------------

local is_packet = require("stackforge.options").is_packet

local function typename(v)
  return is_packet(v) and "Packet" or type(v)
end

-- kinds: "string", "boolean", "function", "count" (integer >= 0),
-- "seconds" (number >= 0), "integer", "list" (a packet or a list of
-- them), "any"
local function check_value(fname, key, kind, v, level)
  local ok
  if kind == "count" then
    ok = math.type(v) == "integer" and v >= 0
  elseif kind == "seconds" then
    ok = type(v) == "number" and v >= 0 and v < 1e9
  elseif kind == "integer" then
    ok = math.type(v) == "integer"
  elseif kind == "any" then
    ok = true
  else
    ok = type(v) == kind
  end
  if not ok then
    local want = ({count = "an integer >= 0", seconds = "a number of seconds >= 0",
                   integer = "an integer"})[kind] or ("a " .. kind)
    error(("%s: option '%s' must be %s, got %s"):format(fname, key, want,
      type(v) == "number" and tostring(v) or typename(v)), level + 1)
  end
end

-- opts checked against spec {name = kind}; a copy with defaults filled
local function options(fname, opts, spec, defaults, level)
  level = level + 1
  if opts ~= nil and type(opts) ~= "table" then
    error(("%s: options must be a table, got %s"):format(fname, typename(opts)), level)
  end
  local out = {}
  for k, v in pairs(defaults or {}) do out[k] = v end
  for k, v in pairs(opts or {}) do
    local kind = spec[k]
    if not kind then
      local names = {}
      for n in pairs(spec) do names[#names + 1] = n end
      table.sort(names)
      error(("%s: unknown option '%s' (options: %s)"):format(fname, tostring(k),
        table.concat(names, ", ")), level)
    end
    check_value(fname, k, kind, v, level)
    out[k] = v
  end
  return out
end

-- ---- results -------------------------------------------------------------------------

-- Lists are stackforge.packetlist's: sniff's "Sniffed", sr's answered
-- pairs (SndRcvList "Results") and "Unanswered" packets.
local plist = require("stackforge.packetlist")
M.PacketList = plist.PacketList_new
M.SndRcvList = plist.SndRcvList

local function packet_list(t, name)
  return plist.new(t or {}, name or "Sniffed")
end

local function sndrcv_list()
  return plist.SndRcvList_new({}, "Results")
end

local function unanswered()
  return packet_list({}, "Unanswered")
end

local function pair(s, r, i)
  return {s, r, sent = s, received = r, index = i}
end

-- ---- conf --------------------------------------------------------------------------------

-- A route table view: conf.route lists the kernel's routes.
local RouteTable = {}
RouteTable.__index = RouteTable

function RouteTable.__tostring(self)
  local lines = {("%-40s %-16s %-10s %s"):format("Network", "Gateway", "Iface", "Metric")}
  for _, r in ipairs(self) do
    lines[#lines + 1] = ("%-40s %-16s %-10s %d"):format(r.dst .. "/" .. r.prefixlen,
      r.gateway or "0.0.0.0", r.iface, r.metric)
  end
  return table.concat(lines, "\n")
end

-- route(dst) -> {iface=, src=, gateway=} as the kernel would send
function RouteTable:get(dst)
  if type(dst) ~= "string" or not (dst:find("^%d+%.%d+%.%d+%.%d+$") or dst:find(":", 1, true)) then
    error("conf.route:get: expected an IP address, got " .. tostring(dst), 2)
  end
  local r, err = core.route(dst)
  if not r then error("conf.route:get: " .. err, 2) end
  return r
end

-- the interface of the default route, else the loopback
local function default_iface()
  for _, r in ipairs(core.route_table()) do
    if r.prefixlen == 0 and not r.dst:find(":", 1, true) then return r.iface end
  end
  return "lo"
end

local conf_values = {
  verb = 0,          -- 1: sr prints what it sent and got, as Scapy does
  timeout = 2,       -- sr's wait after the last packet, in seconds
  sniff_promisc = false,
  checkIPaddr = true,
}

M.conf = setmetatable({}, {
  __index = function(_, k)
    if k == "route" then return setmetatable(core.route_table(), RouteTable) end
    if k == "iface" then
      conf_values.iface = conf_values.iface or default_iface()
    end
    return conf_values[k]
  end,
  __newindex = function(_, k, v)
    if conf_values[k] == nil and k ~= "iface" then
      error(("conf: no setting '%s' (settings: iface, verb, timeout, sniff_promisc, route)")
        :format(tostring(k)), 2)
    end
    if k == "route" then error("conf.route is the kernel's table: change it with ip route", 2) end
    conf_values[k] = v
  end,
  __tostring = function()
    return ("conf: iface=%s verb=%d timeout=%s"):format(M.conf.iface, conf_values.verb,
      tostring(conf_values.timeout))
  end,
})

-- ---- interfaces and filters ------------------------------------------------------------------

function M.list_interfaces()
  local list, err = core.interfaces()
  if not list then error("list_interfaces: " .. err, 2) end
  return list
end

local function iface_arg(fname, iface)
  if type(iface) ~= "string" then
    error(("%s: expected an interface name, got %s"):format(fname, typename(iface)), 3)
  end
end

function M.get_if_addr(iface)
  iface_arg("get_if_addr", iface)
  return core.iface_addr(iface, 4) or "0.0.0.0"
end

function M.get_if_addr6(iface)
  iface_arg("get_if_addr6", iface)
  return core.iface_addr(iface, 6)
end

function M.get_if_hwaddr(iface)
  iface_arg("get_if_hwaddr", iface)
  local info, err = core.interface(iface)
  if not info then error("get_if_hwaddr: " .. err, 2) end
  return info.mac or "00:00:00:00:00:00"
end

-- validate_filter(expr [, linktype]) -> true, or an error with libpcap's words
function M.validate_filter(expr, linktype)
  if type(expr) ~= "string" then
    error("validate_filter: expected a filter string, got " .. typename(expr), 2)
  end
  if linktype ~= nil and math.type(linktype) ~= "integer" then
    error("validate_filter: linktype must be an integer", 2)
  end
  local ok, err = core.check_filter(expr, linktype or 1)
  if not ok then error("validate_filter: " .. err, 2) end
  return true
end

-- ---- capture -------------------------------------------------------------------------------

local CAPTURE_OPTS = {
  iface = "string", filter = "string", snaplen = "count", promisc = "boolean",
  monitor = "boolean", immediate = "boolean", buffer_size = "count",
}
local SNIFF_OPTS = {
  count = "count", timeout = "seconds", prn = "function", lfilter = "function",
  stop_filter = "function", store = "boolean", offline = "any",
}
for k, v in pairs(CAPTURE_OPTS) do SNIFF_OPTS[k] = v end

local function open_capture(o)
  return core.live_open{iface = o.iface, filter = o.filter, snaplen = o.snaplen,
    promisc = o.promisc == nil and conf_values.sniff_promisc or o.promisc,
    monitor = o.monitor, immediate = o.immediate, buffer_size = o.buffer_size,
    timeout_ms = 10}
end

-- What each packet does to a capture: filtered, stored, shown, counted;
-- returns true when the capture should end.
local function consumer(o, results)
  local n, count, prn, lfilter, stop_filter = 0, o.count or 0, o.prn, o.lfilter, o.stop_filter
  local store = o.store ~= false
  return function(p)
    if lfilter and not lfilter(p) then return false end
    n = n + 1
    if store then results[#results + 1] = p end
    if prn then
      local r = prn(p)
      if r ~= nil then print(r) end
    end
    if stop_filter and stop_filter(p) then return true end
    return count > 0 and n >= count
  end
end

-- offline: a file's packets (or a list) through the same options
local function sniff_offline(o, results, consume)
  local src = o.offline
  local bpf, bpf_link
  local function pass(p)
    if not o.filter then return true end
    if bpf_link ~= p.linktype then
      local err
      bpf, err = core.bpf(o.filter, p.linktype)
      if not bpf then error("sniff: " .. err, 4) end
      bpf_link = p.linktype
    end
    return bpf:match(p)
  end
  if type(src) == "string" then
    local ok, reader, msg = pcall(core.PcapReader, src)
    if not ok or not reader then error("sniff: " .. tostring(ok and msg or reader), 3) end
    for p in reader do
      if pass(p) and consume(p) then break end
    end
    reader:close()
  elseif type(src) == "table" then
    for _, p in ipairs(src) do
      if pass(p) and consume(p) then break end
    end
  else
    error("sniff: option 'offline' must be a file name or a list of packets, got "
      .. typename(src), 3)
  end
  return results
end

-- sniff{iface=, filter=, count=, timeout=, prn=, lfilter=, stop_filter=,
-- store=, offline=, ...} -> PacketList.  Ctrl-C ends it with what it has.
function M.sniff(opts)
  local o = options("sniff", opts, SNIFF_OPTS, nil, 2)
  local results = packet_list()
  local consume = consumer(o, results)
  if o.offline ~= nil then
    local r = sniff_offline(o, results, consume)  -- no tail call: the error
    return r                                      -- levels count sniff
  end
  local h <close>, err = open_capture(o)
  if not h then error("sniff: " .. err, 2) end
  local deadline = o.timeout and (core.now() + o.timeout)
  while true do
    local left = deadline and math.max(0, deadline - core.now())
    local p = h:next(left)
    if not p or consume(p) then break end
  end
  return results
end

-- Sniffer{...}: a capture to iterate.  sn:start(); for p in sn do ... end;
-- sn:stop(); sn:stats(); also usable with <close>.
local Sniffer = {}
Sniffer.__index = Sniffer
M.SnifferClass = Sniffer

local SNIFFER_OPTS = {timeout = "seconds"}
for k, v in pairs(CAPTURE_OPTS) do SNIFFER_OPTS[k] = v end

function M.Sniffer(opts)
  local o = options("Sniffer", opts, SNIFFER_OPTS, nil, 2)
  return setmetatable({opts = o}, Sniffer)
end

function Sniffer:start()
  if self.closed then error("Sniffer: attempt to use a closed sniffer", 2) end
  if self.h then return self end
  local h, err = open_capture(self.opts)
  if not h then error("Sniffer: " .. err, 2) end
  self.h = h
  self.deadline = self.opts.timeout and (core.now() + self.opts.timeout)
  return self
end

-- the next packet, or nil once stopped or timed out; wait at most
-- `seconds` (default: the sniffer's timeout, else forever)
function Sniffer:next(seconds)
  if not self.h then
    error(self.closed and "Sniffer: attempt to use a closed sniffer"
      or "Sniffer: not started (call start() first)", 2)
  end
  if self.h:closed() then return nil end
  local left = seconds
  if self.deadline then
    local d = math.max(0, self.deadline - core.now())
    left = left and math.min(left, d) or d
  end
  return (self.h:next(left))
end

Sniffer.__call = function(self) return self:next() end

-- stop(): a waiting next() returns nil; the capture closes
function Sniffer:stop()
  if self.h and not self.h:closed() then
    self.h:halt()
    self.last_stats = self.h:stats()
    self.h:close()
  end
  return self
end

function Sniffer:stats()
  if self.h and not self.h:closed() then return self.h:stats() end
  return self.last_stats or {received = 0, dropped = 0, if_dropped = 0, delivered = 0}
end

function Sniffer:close()
  self:stop()
  self.closed = true
end
Sniffer.__close = Sniffer.close
Sniffer.__gc = Sniffer.close

function Sniffer.__tostring(self)
  return ("<Sniffer %s%s>"):format(self.opts.iface or "any",
    self.h and not self.h:closed() and " running" or "")
end

-- AsyncSniffer{...}: sniff's options, on the loop while other code runs.
-- start(); stop() -> results; join([seconds]); .results; .running
local AsyncSniffer = {}
AsyncSniffer.__index = AsyncSniffer

function M.AsyncSniffer(opts)
  local o = options("AsyncSniffer", opts, SNIFF_OPTS, nil, 2)
  if o.offline ~= nil then error("AsyncSniffer: offline captures are read with sniff", 2) end
  return setmetatable({opts = o, results = packet_list(), running = false}, AsyncSniffer)
end

function AsyncSniffer:start()
  if self.running then error("AsyncSniffer: already running", 2) end
  local h, err = open_capture(self.opts)
  if not h then error("AsyncSniffer: " .. err, 2) end
  self.h, self.running = h, true
  local consume = consumer(self.opts, self.results)
  h:on_packet(function(p)
    if consume(p) then self:stop() end
  end)
  if self.opts.timeout then
    self.timer = core._after(self.opts.timeout, function() self:stop() end)
  end
  return self
end

function AsyncSniffer:stop()
  if self.running then
    self.running = false
    if self.timer then self.timer:stop() end
    self.h:on_packet(nil)
    self.last_stats = self.h:stats()
    self.h:close()
  end
  return self.results
end

-- join([seconds]): run the loop until the sniffer stops (count, timeout,
-- stop_filter) or seconds pass; the results
function AsyncSniffer:join(seconds)
  M.run_while(function() return self.running end, seconds)
  return self.results
end

function AsyncSniffer:stats()
  if self.running then return self.h:stats() end
  return self.last_stats or {received = 0, dropped = 0, if_dropped = 0, delivered = 0}
end

AsyncSniffer.__close = AsyncSniffer.stop

-- ---- sending ---------------------------------------------------------------------------------

-- handles kept open across calls: senders by kind and interface, sr's
-- captures by interface
local senders, captures = {}, {}

local function sender(kind, iface)
  local key = kind .. "\0" .. (iface or "")
  local s = senders[key]
  if s then return s end
  local err
  s, err = core.sender_open(kind, iface)
  if not s then return nil, err end
  senders[key] = s
  return s
end

-- The packets a packet stands for: those of its implicit sets
-- (IP{dst="10.0.0.0/30"}), each with its volatile values drawn anew.
local function expanded(p, out)
  local volatile = #core.lazy_table(p) > 0
  if not volatile then
    out[#out + 1] = p
    return
  end
  for q in p:expand() do
    q:bytes()  -- volatile values drawn for this one
    out[#out + 1] = q
  end
end

-- a packet or a list of them, as a list
local function packets_arg(fname, x, level)
  if is_packet(x) then
    local out = {}
    expanded(x, out)
    return out
  end
  if type(x) == "table" and (getmetatable(x) == nil or plist.is(x)) then
    local out = {}
    for i, p in ipairs(x) do
      if not is_packet(p) then
        error(("%s: item %d is a %s, not a packet"):format(fname, i, typename(p)), level + 1)
      end
      expanded(p, out)
    end
    return out
  end
  error(("%s: expected a packet or a list of packets, got %s"):format(fname, typename(x)),
    level + 1)
end

-- each packet as it will go: the user's, or a copy with the addresses
-- Scapy fills in (source from the route, link addresses); and the
-- interface the route leaves by
local function prepare(fname, list, l2, iface, level, need_route)
  local out, via = {}, nil
  local prep = core.prepare
  for i, p in ipairs(list) do
    local q, r = prep(p, l2, iface, need_route)
    if not q then error(("%s: packet %d: %s"):format(fname, i, r), level + 1) end
    out[i] = q
    if r then
      if via == nil then via = r elseif via ~= r then via = false end
    end
  end
  return out, via or nil
end

-- Does a packet start with a link layer (a frame, for sendp) rather than
-- its network layer (a datagram, for send)?  A string is a frame.
local NET_FIRST = {}
for _, info in ipairs(core.protos()) do
  if info.kind == "Ipv4" or info.kind == "Ipv6" then NET_FIRST[info.id] = true end
end

function M.is_frame(p)
  if type(p) == "string" then return true end
  return not NET_FIRST[p:_layer_info(1)]
end
M.is_packet = is_packet

local function l3_kind(p)
  local first = p:bytes():byte(1) or 0
  return (first >> 4) == 6 and "ip6" or "ip4"
end

local SEND_OPTS = {
  iface = "string", count = "count", inter = "seconds", loop = "boolean",
  realtime = "boolean", rate_pps = "seconds", verbose = "boolean",
}

local function forget_sender(s)
  for k, v in pairs(senders) do
    if v == s then senders[k] = nil end
  end
  s:close()
end

local function send_all(fname, s, list, o, level)
  local count = o.loop and 0 or (o.count or 1)
  local sent, err, _, gone = s:send(list, count, o.inter, o.rate_pps, o.realtime)
  if not sent then
    if gone then forget_sender(s) end  -- opened afresh next time
    error(fname .. ": " .. err, level + 1)
  end
  if o.verbose or conf_values.verb > 0 then print(("Sent %d packets."):format(sent)) end
  return sent
end

-- send(pkts, {iface=, count=, inter=, loop=, realtime=, rate_pps=}) at
-- layer 3: the kernel routes each datagram.  Returns how many went.
function M.send(pkts, opts)
  local o = options("send", opts, SEND_OPTS, nil, 2)
  local list = prepare("send", packets_arg("send", pkts, 2), false, nil, 2)
  if #list == 0 then return 0 end
  local groups, order = {}, {}
  for _, p in ipairs(list) do
    local k = l3_kind(p)
    if not groups[k] then groups[k] = {}; order[#order + 1] = k end
    table.insert(groups[k], p)
  end
  if #order > 1 and (o.inter or o.rate_pps or o.realtime) then
    error("send: a paced send takes IPv4 or IPv6 packets, not both", 2)
  end
  local sent = 0
  for _, k in ipairs(order) do
    local s, err = sender(k, o.iface)
    if not s then error("send: " .. err, 2) end
    sent = sent + send_all("send", s, groups[k], o, 2)
  end
  return sent
end

-- sendp(pkts, {iface=, ...}) at layer 2: frames as they are (the ones a
-- constructor made get the interface's MAC and the next hop's).  Returns
-- how many went.  sendp(rdpcap(f), {iface=, rate_pps=}) replays a capture.
function M.sendp(pkts, opts)
  local o = options("sendp", opts, SEND_OPTS, nil, 2)
  local iface = o.iface or M.conf.iface
  local list = prepare("sendp", packets_arg("sendp", pkts, 2), true, iface, 2)
  local s, err = sender("l2", iface)
  if not s then error("sendp: " .. err, 2) end
  return send_all("sendp", s, list, o, 2)
end

-- ---- send and receive ----------------------------------------------------------------------

local SR_OPTS = {
  iface = "string", timeout = "seconds", retry = "integer", inter = "seconds",
  multi = "boolean", filter = "string", debug_match = "any", verbose = "boolean",
}

-- the capture sr listens on, kept open for the next call
local function capture_for(iface, filter)
  local key = iface .. "\0" .. (filter or "")
  local h = captures[key]
  if h and not h:closed() then
    h:drain()  -- what came since the last call is no answer
    return h
  end
  local err
  h, err = core.live_open{iface = iface, filter = filter, immediate = true,
                          direction = 1, timeout_ms = 1}
  if not h then return nil, err end
  captures[key] = h
  return h
end

local function debug_printer(dm, sent)
  if not dm then return nil end
  if type(dm) == "function" then return dm end
  return function(cand, i, why)
    print(("debug_match: %s vs request %d (%s): %s"):format(cand:summary(), i,
      sent[i]:summary(), why or "answers"))
  end
end

local function sr_common(fname, pkts, opts, l2, level)
  level = level + 1
  local o = options(fname, opts, SR_OPTS, nil, level)
  local list = packets_arg(fname, pkts, level)
  local iface = o.iface or (l2 and M.conf.iface) or nil
  local sent, via = prepare(fname, list, l2, iface, level, not iface)
  if #sent == 0 then return sndrcv_list(), unanswered() end
  local cap_iface = iface or via or "any"
  local h, err = capture_for(cap_iface, o.filter)
  if not h then error(fname .. ": " .. err, level) end
  local s
  if l2 then
    s, err = sender("l2", iface)
  else
    s, err = sender(l3_kind(sent[1]), o.iface)
  end
  if not s then error(fname .. ": " .. err, level) end
  local timeout = o.timeout
  if timeout == nil then timeout = conf_values.timeout end
  local answers, todo = {}, {}
  for i = 1, #sent do todo[i] = i end
  local retry = o.retry or 0  -- > 0: rounds after the first; < 0: until
  local stale, interrupted = 0, false  -- -retry rounds bring nothing new
  local debug = debug_printer(o.debug_match, sent)
  repeat
    local batch = {}
    for j, i in ipairs(todo) do batch[j] = sent[i] end
    local got = {}
    local ok, n, stopped = pcall(core.sr, h, s, batch, got, timeout, o.inter, o.multi,
      debug and function(cand, j, why) debug(cand, todo[j], why) end)
    if not ok then
      captures[cap_iface .. "\0" .. (o.filter or "")] = nil
      error(fname .. ": " .. tostring(n), level)
    end
    local left = {}
    for j, i in ipairs(todo) do
      if got[j] then answers[i] = got[j] else left[#left + 1] = i end
    end
    stale = n > 0 and 0 or stale + 1
    todo, interrupted = left, stopped
    local last
    if retry >= 0 then
      last = retry == 0
      retry = retry - 1
    else
      last = stale >= -retry
    end
  until #todo == 0 or interrupted or last
  local ans, unans = sndrcv_list(), unanswered()
  for i, p in ipairs(sent) do
    local a = answers[i]
    if a == nil then
      unans[#unans + 1] = p
    elseif o.multi then
      for _, r in ipairs(a) do ans[#ans + 1] = pair(p, r, i) end
    else
      ans[#ans + 1] = pair(p, a, i)
    end
  end
  if o.verbose or conf_values.verb > 0 then
    print(("Received answers to %d of %d packets, %d unanswered."):format(#sent - #unans,
      #sent, #unans))
  end
  return ans, unans
end

-- sr(pkts, {timeout=, retry=, inter=, iface=, multi=, filter=,
-- debug_match=}) -> answered pairs, unanswered packets (layer 3)
function M.sr(pkts, opts)
  local ans, unans = sr_common("sr", pkts, opts, false, 2)  -- no tail call: the
  return ans, unans                                         -- level counts sr
end

-- srp(...): the same at layer 2
function M.srp(pkts, opts)
  local ans, unans = sr_common("srp", pkts, opts, true, 2)
  return ans, unans
end

-- sr1(pkt, opts) -> the first answer, or nil
function M.sr1(pkts, opts)
  local ans = sr_common("sr1", pkts, opts, false, 2)
  return ans[1] and ans[1].received or nil
end

function M.srp1(pkts, opts)
  local ans = sr_common("srp1", pkts, opts, true, 2)
  return ans[1] and ans[1].received or nil
end

-- srloop(pkts, {count=, inter=, timeout=, prn=}) -> answered, unanswered:
-- sr over and over, a line per round (Scapy's "RECV 1: ..." / "fail 1: ...")
local SRLOOP_OPTS = {count = "count", prn = "function", l2 = "boolean"}
for k, v in pairs(SR_OPTS) do SRLOOP_OPTS[k] = v end

function M.srloop(pkts, opts)
  local o = options("srloop", opts, SRLOOP_OPTS, nil, 2)
  local count, inter = o.count or 3, o.inter or 1
  local all_ans, all_unans = sndrcv_list(), unanswered()
  local show = o.prn or function(pair_or_p, answered)
    return answered and ("RECV 1: " .. pair_or_p.received:summary())
      or ("fail 1: " .. pair_or_p:summary())
  end
  local sr_opts = {timeout = o.timeout, iface = o.iface, filter = o.filter}
  for round = 1, count do
    local ans, unans = sr_common("srloop", pkts, sr_opts, o.l2, 2)
    for _, a in ipairs(ans) do
      all_ans[#all_ans + 1] = a
      local line = show(a, true)
      if line then print(line) end
    end
    for _, u in ipairs(unans) do
      all_unans[#all_unans + 1] = u
      local line = show(u, false)
      if line then print(line) end
    end
    if round < count then core.sleep(inter) end
  end
  return all_ans, all_unans
end

-- ---- built on sr -----------------------------------------------------------------------------

-- A traceroute's hops: {ttl=, ip=, rtt=, reached=} in ttl order.
local TracerouteResult = {}
TracerouteResult.__index = TracerouteResult

function TracerouteResult.__tostring(self)
  local lines = {}
  for _, hop in ipairs(self) do
    lines[#lines + 1] = ("%2d  %-40s %s%s"):format(hop.ttl, hop.ip or "*",
      hop.rtt and ("%.3f ms"):format(hop.rtt * 1000) or "",
      hop.reached and "  (reached)" or "")
  end
  return table.concat(lines, "\n")
end
TracerouteResult.show = TracerouteResult.__tostring

local TRACE_OPTS = {
  maxttl = "count", minttl = "count", dport = "count", sport = "count",
  proto = "string", timeout = "seconds", iface = "string", retry = "integer",
}

local function is_ipv6(text) return text:find(":", 1, true) ~= nil end

-- traceroute(host, {maxttl=30, minttl=1, dport=80, proto="tcp"|"udp"|"icmp",
-- timeout=2}) -> hops; every probe sent at once, answers matched by sr
function M.traceroute(host, opts)
  local o = options("traceroute", opts, TRACE_OPTS, {maxttl = 30, minttl = 1, proto = "tcp"}, 2)
  if type(host) ~= "string" then
    error("traceroute: expected a host address, got " .. typename(host), 2)
  end
  local L = require("stackforge.layers")
  local v6 = is_ipv6(host)
  local probes = {}
  for ttl = o.minttl, o.maxttl do
    local ip = v6 and L.IPv6{dst = host, hlim = ttl} or L.IP{dst = host, ttl = ttl, id = ttl}
    local l4
    if o.proto == "tcp" then
      l4 = L.TCP{dport = o.dport or 80, sport = o.sport or 20000 + ttl, flags = "S", seq = ttl}
    elseif o.proto == "udp" then
      l4 = L.UDP{dport = o.dport or 33434 + ttl, sport = o.sport or 20000 + ttl}
    elseif o.proto == "icmp" then
      l4 = v6 and L.ICMPv6.echo_request{id = 0x5f5f, seq = ttl} or L.ICMP.echo_request{id = 0x5f5f, seq = ttl}
    else
      error("traceroute: option 'proto' must be \"tcp\", \"udp\" or \"icmp\", got " .. o.proto, 2)
    end
    probes[#probes + 1] = ip / l4
  end
  local ans = sr_common("traceroute", probes, {timeout = o.timeout, iface = o.iface,
    retry = o.retry}, false, 1)
  local by_ttl = {}
  for _, a in ipairs(ans) do by_ttl[o.minttl + a.index - 1] = a end
  local hops = setmetatable({}, TracerouteResult)
  for ttl = o.minttl, o.maxttl do
    local a = by_ttl[ttl]
    local hop = {ttl = ttl}
    if a then
      hop.ip = a.received[v6 and L.IPv6 or L.IP].src
      hop.rtt = a.received.time - a.sent.time
      hop.reached = hop.ip == host
      hop.answer = a.received
    end
    hops[#hops + 1] = hop
    if hop.reached then break end
  end
  return hops
end

-- arping(net, {iface=, timeout=}) -> answered pairs, unanswered: who has
-- each address of net ("10.0.0.0/30" or one address)
local ARPING_OPTS = {iface = "string", timeout = "seconds", retry = "integer"}

local function addresses(fname, net)
  local a, b, c, d, bits = net:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)/?(%d*)$")
  if not a then error(("%s: expected an IPv4 address or network, got %s"):format(fname, net), 3) end
  bits = tonumber(bits) or 32
  if bits < 16 or bits > 32 then error(("%s: /%d is too wide (at most a /16)"):format(fname, bits), 3) end
  local base = ((tonumber(a) << 24) | (tonumber(b) << 16) | (tonumber(c) << 8) | tonumber(d))
  local size = 1 << (32 - bits)
  base = base & ~(size - 1)
  local out = {}
  for i = 0, size - 1 do
    if size <= 2 or (i > 0 and i < size - 1) then
      local x = base + i
      out[#out + 1] = ("%d.%d.%d.%d"):format(x >> 24 & 255, x >> 16 & 255, x >> 8 & 255, x & 255)
    end
  end
  return out
end

function M.arping(net, opts)
  local o = options("arping", opts, ARPING_OPTS, nil, 2)
  if type(net) ~= "string" then error("arping: expected an address or network, got " .. typename(net), 2) end
  local L = require("stackforge.layers")
  local probes = {}
  for _, ip in ipairs(addresses("arping", net)) do
    probes[#probes + 1] = L.Ether{dst = "ff:ff:ff:ff:ff:ff"} / L.ARP{pdst = ip}
  end
  local ans, unans = sr_common("arping", probes, {iface = o.iface, timeout = o.timeout,
    retry = o.retry}, true, 2)
  return ans, unans
end

-- answers(reply, request) -> true, or false and why: the test sr() applies
-- (each protocol's answers, as Scapy's reply.answers(request))
function M.answers(reply, request)
  if not is_packet(reply) or not is_packet(request) then
    error(("answers: expected two packets, got %s and %s"):format(typename(reply),
      typename(request)), 2)
  end
  local yes, why = core.answers(reply, request)
  if yes then return true end
  return false, why
end

-- p:reversed() -> a copy turned around: source and destination swapped at
-- the link, network and transport layers, an ICMP echo (timestamp, ...)
-- request made its reply; lengths and checksums recomputed (core/capture/reply.c)
core.Packet.reversed = core.reversed

-- ---- the loop ---------------------------------------------------------------------------------

-- run_while(pred [, seconds]): run the loop while pred() holds, for at
-- most seconds (AsyncSniffer's, automata's and machines' join)
function M.run_while(pred, seconds)
  local expired = false
  local t = seconds and core._after(seconds, function() expired = true end)
  while pred() and not expired do core.run_once() end
  if t then t:stop() end
end

M.sleep = core.sleep  -- sleep(seconds): the loop runs meanwhile

return M
