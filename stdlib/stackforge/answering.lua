-- answering.lua: answering machines, the seed toolkit's AnsweringMachine.
--
--   local am <close> = AnsweringMachine{
--     bpf_filter = "icmp",
--     is_request = function(p) return p[ICMP] and p[ICMP].type == 8 end,
--     make_reply = function(p) return ... end,   -- a packet, bytes, a list, or nil
--   }
--   am:start(AutomatonConfig{iface = "eth0"})    -- in the background, on the loop
--
-- Each packet the capture delivers goes through is_request and, if it is
-- one, make_reply; the replies of one batch of packets are sent together
-- (one system call) once the batch is read.  An error in a callback is
-- logged with the script's line and counted; the machine goes on.  The
-- capture sees packets coming in only, so a machine never answers what it
-- sent (on a loopback interface, where sent frames come back in, the
-- bytes of its recent replies are skipped too).
local core = require("stackforge.core")
local options = require("stackforge.options")
local live = require("stackforge.live")
local automaton = require("stackforge.automaton")

local M = {}

local AM = {}
AM.__index = AM
M.AnsweringMachineClass = AM

local FIELDS = {
  is_request = "function", make_reply = "function", malformed = "function", bpf_filter = "string",
  send_function = "function", name = "string", log = "function", debug = "boolean",
  on_start = "function", on_stop = "function",
}

-- a BPF filter (or nil) that libpcap compiles, else an error naming fname
function M.check_filter(fname, f, level)
  if f == nil then return end
  local ok, err = core.check_filter(f, 1)
  if not ok then error(("%s: bpf_filter: %s"):format(fname, err), level + 1) end
end

-- AnsweringMachine{is_request=, make_reply=, malformed=, bpf_filter=,
-- send_function=, name=, log=, debug=, on_start=, on_stop=}: malformed(p,
-- am), if given, says why a request cannot be answered (or nil), before
-- make_reply is asked
function M.AnsweringMachine(t)
  if type(t) ~= "table" then
    error("AnsweringMachine: expected a table {is_request=, make_reply=, ...}, got "
      .. options.show(t), 2)
  end
  options.check("AnsweringMachine", t, FIELDS, 2)
  for _, k in ipairs{"is_request", "make_reply"} do
    if not t[k] then error(("AnsweringMachine: '%s' is required (a function)"):format(k), 2) end
  end
  M.check_filter("AnsweringMachine", t.bpf_filter, 2)
  local am = setmetatable({}, AM)
  for k, v in pairs(t) do am[k] = v end
  am.malformed_fn = t.malformed  -- am.malformed is the count
  am.name = t.name or "AnsweringMachine"
  am.log = automaton.logger(am.name, t.log)
  am.running, am.closed = false, false
  am.seen, am.requests, am.replies, am.errors, am.malformed = 0, 0, 0, 0, 0
  return am
end

function AM.__tostring(self)
  return ("<%s%s: %d requests, %d replies>"):format(self.name,
    self.running and (" on " .. self.iface) or "", self.requests, self.replies)
end

-- ---- what a reply becomes ----------------------------------------------------------

-- a packet's bytes from its network layer on: a reply sent as a datagram
-- comes back in as a frame
local function above_link(p)
  if not live.is_frame(p) then return p:bytes() end
  local _, _, hlen = p:_layer_info(1)
  return p:bytes():sub(hlen + 1)
end

-- A reply made by a constructor gets what it lacks (link addresses, a
-- source from the route), as sendp/send fill them; frames and datagrams
-- wait in their lists until the batch is sent.
local function queue(self, r)
  local frame = live.is_frame(r)
  local q, err = core.prepare(r, frame, frame and self.iface or nil, false)
  if not q then error("cannot send the reply: " .. err, 0) end
  local list = frame and self._frames or ((q:bytes():byte(1) >> 4) == 6 and self._ip6 or self._ip4)
  list[#list + 1] = q
  if self._loop_guard then self._loop_guard[above_link(q)] = true end
end

local function sender(self, kind)
  local s = self._senders[kind]
  if not s then
    local err
    s, err = core.sender_open(kind, kind == "l2" and self.iface or nil)
    if not s then return nil, err end
    self._senders[kind] = s
  end
  return s
end

local function send_list(self, kind, list)
  if #list == 0 then return end
  local s, err = sender(self, kind)
  local sent, n = 0, #list
  if s then
    local gone
    sent, err, n, gone = s:send(list, 1)
    if not sent then
      sent = n or 0
      if gone then s:close(); self._senders[kind] = nil end
    end
  end
  self.replies = self.replies + sent
  if sent < #list then
    self.errors = self.errors + 1
    self.log(("sending %d replies failed: %s"):format(#list - sent, err))
  end
  for i = #list, 1, -1 do list[i] = nil end
end

-- send what the batch made (called once the capture's batch is read)
local function flush(self)
  self._flush = nil
  send_list(self, "l2", self._frames)
  send_list(self, "ip4", self._ip4)
  send_list(self, "ip6", self._ip6)
  if self._loop_guard and next(self._loop_guard) and not self._guard_timer then
    self._guard_timer = core._after(1, function()  -- replies seen again come back
      self._guard_timer = nil                       -- within a second
      self._loop_guard = {}
    end)
  end
end


-- ---- one packet -------------------------------------------------------------------

local user_error = automaton.user_error

local function failed(self, fname, msg, p)
  self.errors = self.errors + 1
  local ok, what = pcall(p.summary, p)
  self.log(("%s: %s (on %s)"):format(fname, msg, ok and what or "a packet"))
end

local function send_with_function(self, r)
  local ok, err = xpcall(self.send_function, user_error, r, {iface = self.iface})
  if ok then self.replies = self.replies + 1 else failed(self, "send_function", err, r) end
end

-- "file:line: make_reply returned a number (...)", at make_reply's definition
local function bad_reply(self, r)
  local info = debug.getinfo(self.make_reply, "S")
  return ("%s:%d: make_reply returned a %s (expected a packet, bytes, a list of them or nil)")
    :format(info.short_src, info.linedefined, type(r))
end

-- one reply: a packet (userdata) or bytes; queued for the batch's send,
-- or given to send_function
local function one_reply(self, p, r)
  local t = type(r)
  if t == "string" then
    r = core.packet(r)
  elseif t ~= "userdata" then
    return failed(self, "make_reply", bad_reply(self, r), p)
  end
  if self.send_function then return send_with_function(self, r) end
  local ok, err = pcall(queue, self, r)  -- a userdata that is no packet fails here
  if not ok then failed(self, "make_reply", err, p) end
end

local function answer(self, p, reply)
  if self.debug then
    self.log(("%s -> %s"):format(p:summary(), type(reply) == "userdata" and reply:summary()
      or type(reply) == "table" and (#reply .. " replies") or type(reply)))
  end
  if type(reply) == "table" then
    for _, r in ipairs(reply) do one_reply(self, p, r) end
  else
    one_reply(self, p, reply)
  end
  if not self._flush and not self.send_function then
    self._flush = core._after(0, self._flush_fn)  -- once the batch is read
  end
end

local function handle(self, p)
  self.seen = self.seen + 1
  if self._loop_guard and self._loop_guard[above_link(p)] then return end  -- our own
  if p.wirelen > #p then  -- cut by the capture's snaplen
    return self:ignore(p, ("captured %d of its %d bytes (snaplen)"):format(#p, p.wirelen))
  end
  local ok, yes = xpcall(self.is_request, user_error, p, self)
  if not ok then return failed(self, "is_request", yes, p) end
  if not yes then return end
  self.requests = self.requests + 1
  if self.malformed_fn then
    local why
    ok, why = xpcall(self.malformed_fn, user_error, p, self)
    if not ok then return failed(self, "malformed", why, p) end
    if why then return self:ignore(p, why) end
  end
  local reply
  ok, reply = xpcall(self.make_reply, user_error, p, self)
  if not ok then return failed(self, "make_reply", reply, p) end
  if reply ~= nil and reply ~= false then answer(self, p, reply) end
end

-- In on_start: the MAC replies come from, the option's or the interface's
function AM:use_mac(mac)
  self.mac = mac or self.iface_mac
  if not self.mac then error("the interface has no MAC: give mac=", 0) end
  return self.mac
end

-- Inside is_request or make_reply: a request that cannot be answered (a
-- malformed or foreign one) is logged, counted and ignored.  Returns nil,
-- so `return am:ignore(p, "why")` ends make_reply.
function AM:ignore(p, why)
  self.malformed = self.malformed + 1
  local ok, what = pcall(p.summary, p)
  self.log(("ignored %s: %s"):format(ok and what or "a packet", why))
  return nil
end

-- ---- running --------------------------------------------------------------------------

local function is_loopback(info)
  for _, f in ipairs(info and info.flags or {}) do
    if f == "LOOPBACK" then return true end
  end
  return false
end

-- start([config]) -> self: answer in the background, on the loop.
function AM:start(cfg)
  if self.closed then error(("%s: attempt to use a closed machine"):format(self.name), 2) end
  if self.running then error(("%s: already running on %s"):format(self.name, self.iface), 2) end
  cfg = automaton.config_arg("start", cfg, 2)
  local h, iface = automaton.open_capture(self.name,
    cfg, automaton.join_filters(self.bpf_filter, cfg.bpf_filter), 2)
  local info = core.interface(iface)
  self.iface, self.config, self._h = iface, cfg, h
  self.iface_mac = info and info.mac
  self._frames, self._ip4, self._ip6, self._senders = {}, {}, {}, {}
  self._flush_fn = function() flush(self) end
  self._loop_guard = (iface == "any" or is_loopback(info)) and {} or nil
  if self.on_start then
    local ok, err = pcall(self.on_start, self, cfg)
    if not ok then
      h:close()
      self._h = nil
      local msg = tostring(err)  -- a built-in's reason, or the user's error
      error(msg:find("^[^:\n]+:%d+:") and msg or (self.name .. ": " .. msg),
        msg:find("^[^:\n]+:%d+:") and 0 or 2)
    end
  end
  self.running = true
  h:on_packet(function(p) handle(self, p) end)
  return self
end

-- stop() -> self: replies already made are sent, then the capture and the
-- sockets close.  Harmless twice.
function AM:stop()
  if not self.running then return self end
  self.running = false
  if self._flush then self._flush:stop() end
  flush(self)
  if self._guard_timer then self._guard_timer:stop(); self._guard_timer = nil end
  if not self._h:closed() then
    self._h:on_packet(nil)
    self._last_stats = self._h:stats()
    self._h:close()
  end
  self._h = nil
  for k, s in pairs(self._senders) do s:close(); self._senders[k] = nil end
  if self.on_stop then
    local ok, err = xpcall(self.on_stop, user_error, self)
    if not ok then failed(self, "on_stop", err, core.packet("")) end
  end
  return self
end

function AM:is_running() return self.running end

-- join([seconds]): run the loop until the machine stops (stop() from a
-- callback) or seconds pass; the machine
function AM:join(seconds)
  live.run_while(function() return self.running end, seconds)
  return self
end

-- stats() -> {seen=, requests=, replies=, errors=, malformed=, received=,
-- dropped=, if_dropped=}: the machine's counts and its capture's
function AM:stats()
  local st = self.running and self._h:stats() or self._last_stats
    or {received = 0, dropped = 0, if_dropped = 0}
  return {seen = self.seen, requests = self.requests, replies = self.replies,
    errors = self.errors, malformed = self.malformed, received = st.received,
    dropped = st.dropped, if_dropped = st.if_dropped}
end

-- Feed one packet through the machine as if captured (tests, fuzzing):
-- the replies it makes are returned, not sent.  Before start(), the
-- machine's MAC is 00:00:00:00:00:00 unless its options give one.
function AM:handle(p)
  if not self.running and not self._prepared and self.on_start then
    self.iface_mac = self.iface_mac or "00:00:00:00:00:00"  -- offline: no interface
    self.on_start(self, self.config or {})  -- what start() sets up, once
  end
  self._prepared = true
  local saved = {self.send_function, self.debug}
  local made = {}
  self.send_function = function(r) made[#made + 1] = r end
  local ok, err = pcall(handle, self, p)
  self.send_function, self.debug = saved[1], saved[2]
  if not ok then error(err, 2) end
  return made
end

function AM:close()
  self:stop()
  self.closed = true
end
AM.__close = AM.close

-- collected (or the state closing): its handles may be gone already
function AM.__gc(self)
  if self.running then pcall(AM.close, self) end
end

-- ---- address lists: the built-in machines' `addresses` --------------------------------

local function ip4_int(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return nil end
  a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
  if a > 255 or b > 255 or c > 255 or d > 255 then return nil end
  return (a << 24) | (b << 16) | (c << 8) | d
end
M.ip4_int = ip4_int

function M.ip4_text(x)
  return ("%d.%d.%d.%d"):format(x >> 24 & 255, x >> 16 & 255, x >> 8 & 255, x & 255)
end

-- an IPv6 address's 16 bytes and canonical text (as packets read it), or nil
local function ip6(s)
  local b = core.pton(s)
  if not b or #b ~= 16 then return nil end
  return b, core.ntop(b)
end

local function prefix_match(a, b, bits)
  local whole = bits // 8
  if a:sub(1, whole) ~= b:sub(1, whole) then return false end
  local rest = bits % 8
  if rest == 0 then return true end
  local mask = (0xff << (8 - rest)) & 0xff
  return (a:byte(whole + 1) & mask) == (b:byte(whole + 1) & mask)
end

local AddrSet = {}
AddrSet.__index = AddrSet

-- does the set hold this address (text, as a packet's field reads)?
function AddrSet:has(text)
  if self.exact[text] then return true end
  if text == nil then return false end
  if #self.nets4 > 0 then
    local x = ip4_int(text)
    if x then
      for _, n in ipairs(self.nets4) do
        if x & n.mask == n.net then return true end
      end
    end
  end
  if #self.nets6 > 0 then
    local b = ip6(text)
    if b then
      for _, n in ipairs(self.nets6) do
        if prefix_match(b, n.bytes, n.bits) then return true end
      end
    end
  end
  return false
end

-- addresses(fname, value, level) -> a set: value is an address or
-- network ("10.0.0.5", "10.0.1.0/24", "fd00::1", "fd00::/64") or a list
-- of them.  set.v4 and set.v6 list the single addresses; set.any4/any6
-- say whether any address of the family is in it.
function M.addresses(fname, value, level)
  level = level + 1
  if type(value) == "string" then value = {value} end
  if type(value) ~= "table" or #value == 0 then
    error(("%s: addresses must be an address, a network or a list of them, got %s")
      :format(fname, options.show(value)), level)
  end
  local set = setmetatable({exact = {}, nets4 = {}, nets6 = {}, v4 = {}, v6 = {}}, AddrSet)
  for i, a in ipairs(value) do
    local addr, bits = tostring(a):match("^([^/]+)/(%d+)$")
    addr, bits = addr or a, tonumber(bits)
    local x, b6, t6 = type(addr) == "string" and ip4_int(addr), nil, nil
    if not x and type(addr) == "string" then b6, t6 = ip6(addr) end
    if (not x and not b6) or (bits and bits > (x and 32 or 128)) then
      error(("%s: addresses[%d]: bad address %s (expected IPv4 or IPv6 addresses or networks"
        .. " like \"10.0.0.0/24\")"):format(fname, i, options.show(a)), level)
    end
    if x and bits and bits < 32 then
      local mask = (0xffffffff << (32 - bits)) & 0xffffffff
      set.nets4[#set.nets4 + 1] = {net = x & mask, mask = mask}
      set.any4 = true
    elseif b6 and bits and bits < 128 then
      set.nets6[#set.nets6 + 1] = {bytes = b6, bits = bits}
      set.any6 = true
    elseif x then
      set.exact[addr] = true
      set.v4[#set.v4 + 1] = addr
      set.any4 = true
    else
      set.exact[t6] = true
      set.v6[#set.v6 + 1] = t6
      set.any6 = true
    end
  end
  return set
end

-- the addresses of this host's interfaces (the kernel answers for those)
function M.local_addresses()
  local mine = {}
  local ok, list = pcall(live.list_interfaces)
  for _, info in ipairs(ok and list or {}) do
    for _, a in ipairs(info.addresses or {}) do mine[a.addr] = info.name end
  end
  return mine
end

return M
