-- automaton.lua: state machines on the event loop, Scapy's ATMT in Lua.
--
--   local Client = Automaton{
--     name = "Client",
--     filter = function(self) return "udp and src port " .. self.port end,
--     states = {
--       BEGIN = {initial = true, enter = function(self) self:send(...) end},
--       DONE = {final = true, enter = function(self, p) return p end},
--       FAILED = {error = true},
--     },
--     transitions = {
--       {"BEGIN", "DONE", receive = function(self, p) return p.dport == 9 end},
--       {"BEGIN", "FAILED", timeout = 2},
--     },
--   }
--   local reply = Client{port = 7}:run(AutomatonConfig{iface = "eth0"})
--
-- A machine runs in a coroutine: its body yields whenever it waits (for
-- packets, a timeout, self:sleep), and a driver resumes it.  run() drives
-- it from the caller (blocking, the loop runs meanwhile); start() from
-- the loop's callbacks (the capture's packets, timers), in the background.
-- AutomatonConfig and the user-error helpers are shared with the
-- answering machines (stackforge.answering).
local core = require("stackforge.core")
local options = require("stackforge.options")
local live = require("stackforge.live")

local M = {}

-- ---- configuration ------------------------------------------------------------------

-- AutomatonConfig{iface, bpf_filter, snaplen, promisc}: where a machine
-- listens and sends (the seed toolkit's names).  buffer_size (the
-- kernel's capture buffer, bytes) and immediate (default true: each
-- packet at once) are libpcap's, as sniff's.
local CONFIG_FIELDS = {
  iface = "string", bpf_filter = "string", snaplen = "count", promisc = "boolean",
  buffer_size = "count", immediate = "boolean",
}
local Config = {}
Config.__index = Config
M.ConfigClass = Config

function Config.__tostring(self)
  return ("AutomatonConfig{iface=%s%s}"):format(self.iface or "conf.iface",
    self.bpf_filter and (", bpf_filter=%q"):format(self.bpf_filter) or "")
end

function M.AutomatonConfig(t)
  options.check("AutomatonConfig", t, CONFIG_FIELDS, 2, "field")
  local c = setmetatable({}, Config)
  for k, v in pairs(t or {}) do c[k] = v end
  return c
end

-- a config argument as a config: nil is AutomatonConfig{}, a plain table
-- is checked as one
function M.config_arg(fname, cfg, level)
  if cfg == nil then return setmetatable({}, Config) end
  if getmetatable(cfg) == Config then return cfg end
  if type(cfg) ~= "table" then
    error(("%s: expected an AutomatonConfig, got %s"):format(fname, options.show(cfg)), level + 1)
  end
  options.check("AutomatonConfig", cfg, CONFIG_FIELDS, level + 1, "field")
  return setmetatable(cfg, Config)
end

-- "(a) and (b)" of the filters given
function M.join_filters(...)
  local parts = {}
  for i = 1, select("#", ...) do
    local f = select(i, ...)
    if f and f ~= "" then parts[#parts + 1] = "(" .. f .. ")" end
  end
  return #parts > 0 and table.concat(parts, " and ") or nil
end

-- A capture on cfg's interface for a machine: packets coming in only, so
-- a machine never sees what it sends itself.  The handle, or an error at
-- the caller's level.
-- The default snaplen is the interface's MTU and room for link headers:
-- in immediate mode libpcap's ring has one slot of snaplen bytes a
-- packet, and 256 KiB slots would leave eight in its 2 MB.
function M.open_capture(fname, cfg, filter, level)
  local iface = cfg.iface or live.conf.iface
  local info = cfg.snaplen == nil and core.interface(iface)
  local snaplen = cfg.snaplen or (info and info.mtu and info.mtu + 64) or nil
  local h, err = core.live_open{iface = iface, filter = filter, snaplen = snaplen,
    promisc = cfg.promisc == nil and live.conf.sniff_promisc or cfg.promisc,
    buffer_size = cfg.buffer_size, immediate = cfg.immediate ~= false,
    direction = 1, timeout_ms = 1}
  if not h then error(fname .. ": " .. err, level + 1) end
  return h, iface
end

-- ---- errors in user code -------------------------------------------------------------

-- The folder of the stdlib's own files: a frame outside it is the user's.
local STDLIB = debug.getinfo(1, "S").source:match("^@(.*)automaton%.lua$")

local function user_frame(level)
  level = level + 1
  while true do
    local info = debug.getinfo(level, "Sl")
    if not info then return nil end
    if info.currentline > 0 and not (STDLIB and info.source:sub(2, #STDLIB + 1) == STDLIB) then
      return ("%s:%d:"):format(info.short_src, info.currentline)
    end
    level = level + 1
  end
end

-- xpcall's handler for user callbacks: the error as text, starting with
-- the user's file and line (added when the error carried none)
function M.user_error(e)
  local msg = type(e) == "string" and e or ("(error object is a %s value)"):format(type(e))
  if msg:find("^[^:\n]+:%d+:") then return msg end
  local where = user_frame(2)
  return where and (where .. " " .. msg) or msg
end

-- A logger: opts.log (a function of one line) or stderr, each line
-- prefixed with the machine's name
function M.logger(name, log)
  if log then
    return function(msg) log(name .. ": " .. msg) end
  end
  return function(msg) io.stderr:write(name, ": ", msg, "\n") end
end

-- ---- definitions -----------------------------------------------------------------

local DEF_FIELDS = {
  name = "string", states = "table", transitions = "table", filter = "any",
  debug = "boolean", log = "function",
}
local STATE_FIELDS = {initial = "boolean", final = "boolean", error = "boolean", enter = "function"}
local TRANS_FIELDS = {
  [1] = "string", [2] = "string", from = "string", to = "string", name = "string",
  condition = "function", receive = "function", timeout = "number",
  action = "any", prio = "any",
}

local Class = {}     -- an automaton definition: called to make an instance
Class.__index = Class
local Machine = {}   -- an instance (methods); fields of its definition through Class
M.Machine = Machine

local function def_error(name, msg, level)
  error(("Automaton %s: %s"):format(name, msg), level + 1)
end

local function check_states(name, states, level)
  local initial
  for sname, st in pairs(states) do
    if type(sname) ~= "string" or type(st) ~= "table" then
      def_error(name, "states is a table of name = {initial=, final=, error=, enter=}", level + 1)
    end
    options.check(("Automaton %s: state %s"):format(name, sname), st, STATE_FIELDS, level + 1)
    if st.initial then
      if initial then def_error(name, ("two initial states: %s and %s"):format(initial, sname), level + 1) end
      initial = sname
    end
    if (st.final and 1 or 0) + (st.error and 1 or 0) + (st.initial and 1 or 0) > 1 then
      def_error(name, ("state %s is more than one of initial, final and error"):format(sname), level + 1)
    end
  end
  if not initial then def_error(name, "no initial state (mark one with initial = true)", level + 1) end
  return initial
end

-- a transition's actions: nil, a function, or a list of functions
local function actions_of(name, t, spec, level)
  local a = spec.action
  if a == nil then return {} end
  if type(a) == "function" then return {a} end
  if type(a) == "table" then
    for i, f in ipairs(a) do
      if type(f) ~= "function" then
        def_error(name, ("transition %s: action %d is a %s, not a function"):format(t.name, i, type(f)), level + 1)
      end
    end
    return a
  end
  def_error(name, ("transition %s: action must be a function or a list of them"):format(t.name), level + 1)
end

local function check_transition(name, states, i, spec, level)
  options.check(("Automaton %s: transition %d"):format(name, i), spec, TRANS_FIELDS, level + 1)
  if spec.prio ~= nil and type(spec.prio) ~= "number" then
    def_error(name, ("transition %d: prio must be a number, got %s"):format(i, options.show(spec.prio)), level + 1)
  end
  local t = {from = spec.from or spec[1], to = spec.to or spec[2], prio = spec.prio or 0, index = i}
  for _, k in ipairs{"from", "to"} do
    if not t[k] then def_error(name, ("transition %d has no '%s' state"):format(i, k), level + 1) end
    if not states[t[k]] then
      def_error(name, ("transition %d: no state %s"):format(i, t[k]), level + 1)
    end
  end
  local kinds = 0
  for _, k in ipairs{"condition", "receive", "timeout"} do
    if spec[k] ~= nil then t.kind, t.test, kinds = k, spec[k], kinds + 1 end
  end
  if kinds ~= 1 then
    def_error(name, ("transition %d (%s -> %s) needs one of condition, receive or timeout")
      :format(i, t.from, t.to), level + 1)
  end
  t.name = spec.name or t.kind
  t.actions = actions_of(name, t, spec, level + 1)
  local st = states[t.from]
  if st.final or st.error then
    def_error(name, ("transition %d leaves %s, which ends the machine"):format(i, t.from), level + 1)
  end
  return t
end

-- transitions grouped by the state they leave, by kind, in priority order
local function index_transitions(name, states, list, level)
  local by = {}
  for sname in pairs(states) do by[sname] = {condition = {}, receive = {}, timeout = {}} end
  local all = {}
  for i, spec in ipairs(list) do
    if type(spec) ~= "table" then def_error(name, ("transition %d is not a table"):format(i), level + 1) end
    local t = check_transition(name, states, i, spec, level + 1)
    all[i] = t
    table.insert(by[t.from][t.kind], t)
  end
  local function order(a, b)
    if a.prio ~= b.prio then return a.prio < b.prio end
    return a.index < b.index
  end
  for sname, k in pairs(by) do
    table.sort(k.condition, order)
    table.sort(k.receive, order)
    table.sort(k.timeout, function(a, b)
      if a.test ~= b.test then return a.test < b.test end
      return order(a, b)
    end)
    local st = states[sname]
    if not (st.final or st.error) and #k.condition + #k.receive + #k.timeout == 0 then
      def_error(name, ("state %s has no transition out of it (or mark it final)"):format(sname), level + 1)
    end
  end
  return by, all
end

-- Automaton{name=, states=, transitions=, filter=, debug=, log=} -> a
-- definition; calling it with a table of parameters makes an instance.
function M.Automaton(def)
  if type(def) ~= "table" then
    error("Automaton: expected a table {name=, states=, transitions=}, got " .. options.show(def), 2)
  end
  options.check("Automaton", def, DEF_FIELDS, 2)
  local name = def.name or "Automaton"
  if type(def.states) ~= "table" then def_error(name, "states is required (a table of states)", 2) end
  if def.filter ~= nil and type(def.filter) ~= "string" and type(def.filter) ~= "function" then
    def_error(name, "filter must be a BPF string or a function(self) returning one", 2)
  end
  local initial = check_states(name, def.states, 2)
  local by, all = index_transitions(name, def.states, def.transitions or {}, 2)
  local listens = false
  for _, t in ipairs(all) do listens = listens or t.kind == "receive" end
  return setmetatable({name = name, states = def.states, initial = initial, by_state = by,
    transitions = all, filter = def.filter, debug = def.debug, log = def.log,
    listens = listens}, Class)
end

function Class.__tostring(self)
  return ("<Automaton %s>"):format(self.name)
end

-- ---- the graph ----------------------------------------------------------------------

-- text inside a dot string: quotes and backslashes escaped
local function dot_text(s) return (s:gsub('[\\"]', "\\%0")) end
local function dot_id(s) return '"' .. dot_text(s) .. '"' end

-- the names of a transition's actions, for the graph: a function's
-- name where Lua knows it, else its file and line
local function action_label(f)
  local info = debug.getinfo(f, "S")
  return ("%s:%d"):format(info.short_src:match("[^/]*$"), info.linedefined)
end

-- Graphviz dot of the states and transitions, Scapy's colours: initial
-- blue, final green, error red; conditions purple, receive red, timeouts
-- blue; labels are the transition's name (and timeout) and its actions.
function Class:graph()
  local out = {("digraph %s {"):format(dot_id(self.name))}
  local names = {}
  for sname in pairs(self.states) do names[#names + 1] = sname end
  table.sort(names, function(a, b)
    local ia, ib = self.states[a].initial and 0 or 1, self.states[b].initial and 0 or 1
    if ia ~= ib then return ia < ib end
    return a < b
  end)
  for _, sname in ipairs(names) do
    local st = self.states[sname]
    local style = st.initial and "style=filled, fillcolor=blue, shape=box, root=true"
      or st.final and "style=filled, fillcolor=green, shape=octagon"
      or st.error and "style=filled, fillcolor=red, shape=octagon"
      or "shape=ellipse"
    out[#out + 1] = ("\t%s [ %s ];"):format(dot_id(sname), style)
  end
  local colour = {condition = "purple", receive = "red", timeout = "blue"}
  for _, t in ipairs(self.transitions) do
    local label = dot_text(t.kind == "timeout" and ("%s/%gs"):format(t.name, t.test) or t.name)
    for _, a in ipairs(t.actions) do  -- \l: a line break, text to the left
      label = label .. "\\l>[" .. dot_text(action_label(a)) .. "]"
    end
    out[#out + 1] = ("\t%s -> %s [ label=\"%s\", color=%s ];"):format(dot_id(t.from),
      dot_id(t.to), label, colour[t.kind])
  end
  out[#out + 1] = "}"
  return table.concat(out, "\n") .. "\n"
end

-- ---- instances ----------------------------------------------------------------------

-- names an instance keeps for itself (and any starting with "_")
local INSTANCE_OWN = {
  state = true, result = true, history = true, running = true, error = true, class = true,
  config = true, iface = true,
}

-- Def{param = value, ...} -> an instance; the parameters are its fields
-- (debug and log also override the definition's)
function Class.__call(cls, params)
  if params ~= nil and type(params) ~= "table" then
    error(("Automaton %s: parameters must be a table, got %s"):format(cls.name,
      options.show(params)), 2)
  end
  local self = {class = cls, history = {}, running = false, debug = cls.debug}
  for k, v in pairs(params or {}) do
    if INSTANCE_OWN[k] or Machine[k] or (type(k) == "string" and k:sub(1, 1) == "_") then
      error(("Automaton %s: parameter '%s' is the machine's own (choose another name)")
        :format(cls.name, tostring(k)), 2)
    end
    self[k] = v
  end
  self.log = M.logger(cls.name, params and params.log or cls.log)
  return setmetatable(self, Machine)
end

function Machine.__index(self, k)
  local v = Machine[k]
  if v ~= nil then return v end
  return rawget(self, "class")[k]
end

function Machine.__tostring(self)
  return ("<Automaton %s: %s>"):format(self.class.name,
    self.state and (self.state .. (self.running and ", running" or "")) or "not started")
end

local HISTORY_MAX = 1000

local function enter_state(self, sname)
  local h = self.history
  if #h >= HISTORY_MAX then table.remove(h, 1) end
  h[#h + 1] = sname
  self.state = sname
end

local function debug_log(self, fmt, ...)
  if self.debug then self.log(fmt:format(...)) end
end

local function pack(...) return {n = select("#", ...), ...} end

-- Try tests in order: the first that returns true (or true and values)
-- is taken.  Returns the transition and the values its actions and the
-- next state's enter get: those after true, else the test's arguments.
local function first_true(self, list, ...)
  for _, t in ipairs(list) do
    local r = pack(t.test(self, ...))
    if r[1] then
      if r.n > 1 then return t, table.move(r, 2, r.n, 1, {n = r.n - 1}) end
      return t, pack(...)
    end
  end
  return nil
end

-- The machine's body, in its coroutine.  It yields ("wait", deadline,
-- wants_packets) and is resumed with ("packet", p) or ("timeout"); it
-- yields ("sleep", seconds) for self:sleep.  It returns "final" or
-- "error", the state, and the values of the state's enter.
local function body(self)
  local cls = self.class
  local sname, args = cls.initial, {n = 0}
  while true do
    enter_state(self, sname)
    debug_log(self, "enter %s", sname)
    local st, by = cls.states[sname], cls.by_state[sname]
    local res = st.enter and pack(st.enter(self, table.unpack(args, 1, args.n))) or {n = 0}
    if st.final or st.error then return st.final and "final" or "error", sname, res end
    local t, targs = first_true(self, by.condition)
    local entered, fired = core.now(), 0
    while not t do
      local tm = by.timeout[fired + 1]
      if not tm and #by.receive == 0 then
        error(("no condition of state %s holds and nothing else leaves it"):format(sname), 0)
      end
      local deadline = tm and (entered + tm.test)
      local ev, p = coroutine.yield("wait", deadline, #by.receive > 0)
      if ev == "packet" then
        t, targs = first_true(self, by.receive, p)
        if not t then debug_log(self, "%s: %s: no transition", sname, p:summary()) end
      elseif ev == "timeout" and tm and core.now() >= deadline - 0.0005 then
        t, targs, fired = tm, {n = 0}, fired + 1
      end
    end
    debug_log(self, "%s -> %s (%s)", sname, t.to,
      t.name == t.kind and t.kind or (t.kind .. " " .. t.name))
    for _, a in ipairs(t.actions) do a(self, table.unpack(targs, 1, targs.n)) end
    sname, args = t.to, targs
  end
end

-- what run() and join() return: the final state's values, or nil and why
local function outcome(self)
  if self.error then return nil, self.error end
  local r = self.result
  if r then return table.unpack(r, 1, r.n) end
  return nil, ("%s: %s in state %s"):format(self.class.name,
    self._interrupted and "interrupted" or "stopped", tostring(self.state))
end

-- The machine ended (ok false: an error in its code, how the message):
-- handles closed, the result or the error kept.
local function finish(self, ok, how, sname, res)
  self.running, self._stopping = false, false
  if self._co then coroutine.close(self._co) end  -- its <close> variables too
  self._co = nil
  if self._timer then self._timer:stop(); self._timer = nil end
  if self._h then self._h:close(); self._h = nil end
  if not ok then
    local where = ("in state %s: %s"):format(tostring(self.state), tostring(how))
    self.error = self.class.name .. ": " .. where
    if self._bg then self.log(where) end
  elseif how == "error" then
    local why = res.n > 0 and res[1] ~= nil and (": " .. tostring(res[1])) or ""
    self.error = ("%s: ended in error state %s%s"):format(self.class.name, sname, why)
    debug_log(self, "ended in error state %s%s", sname, why)
  elseif how == "final" then
    self.result = res
    debug_log(self, "ended in %s", sname)
  end
end

local function prepare_run(self, fname, cfg, bg, level)
  if self.running then error(("%s: already running"):format(self.class.name), level + 1) end
  cfg = M.config_arg(fname, cfg, level + 1)
  self.config, self.error, self.result = cfg, nil, nil
  self._queue, self._bg, self._interrupted, self._stopping = {}, bg, nil, false
  self.iface = cfg.iface or live.conf.iface
  if self.class.listens then
    local f = self.class.filter
    if type(f) == "function" then f = f(self) end
    self._h = M.open_capture(self.class.name, cfg, M.join_filters(f, cfg.bpf_filter), level + 1)
  end
  self._co = coroutine.create(body)
  self.running = true
end

local function resume(self, ...)
  return coroutine.resume(self._co, ...)
end

-- Run the loop for seconds, or until stop(); Ctrl-C stops the machine,
-- another source's error is kept to be raised once it is closed.
local function pause(self, seconds)
  local done = false
  local t = core._after(seconds, function() done = true end)
  local ok, err = true, nil
  while ok and not done and not self._stopping do ok, err = pcall(core.run_once) end
  t:stop()
  if not ok then
    self._stopping = true
    if tostring(err):find("interrupted!$") then self._interrupted = true
    else self._raise = err end
  end
end

-- What the body waits for, from run(): the event to resume it with
local function wait_here(self, what, a, b)
  if what == "sleep" then
    pause(self, a)
    return "woke"
  end
  if b then
    local p, why = self._h:next(a and math.max(0, a - core.now()))
    if p then return "packet", p end
    if why == "timeout" then return "timeout" end
    self._interrupted = why == "interrupted" or nil
    self._stopping = true
    return nil
  end
  pause(self, math.max(0, a - core.now()))
  return "timeout"
end

-- run([config]) -> the final state's values, or nil and why (an error
-- state, stop(), Ctrl-C).  Blocks; the loop runs meanwhile.  An error in
-- a state or transition is raised here.
function Machine:run(cfg)
  prepare_run(self, "run", cfg, false, 2)
  local ok, what, a, b = resume(self, self)
  while ok and coroutine.status(self._co) ~= "dead" and not self._stopping do
    local ev, p = wait_here(self, what, a, b)
    if ev and not self._stopping then ok, what, a, b = resume(self, ev, p) end
  end
  if self._stopping then ok, what = true, "stopped" end
  finish(self, ok, what, a, b)
  local raise = self._raise
  self._raise = nil
  if raise ~= nil then error(raise, 0) end
  if not ok then error(self.error, 2) end
  return outcome(self)
end

-- Background driving: resume with an event, then arm what the body waits
-- for next (a timer, packets), until it ends.
local function drive(self, ...)
  local ok, what, a, b = resume(self, ...)
  while true do
    if self._timer then self._timer:stop(); self._timer = nil end
    if not ok or coroutine.status(self._co) == "dead" then
      finish(self, ok, what, a, b)
      return
    end
    self._wants = false
    if what == "sleep" then
      self._timer = core._after(a, function() self._timer = nil; drive(self, "woke") end)
      return
    end
    if b and #self._queue > 0 then
      ok, what, a, b = resume(self, "packet", table.remove(self._queue, 1))
    else
      self._wants = b
      if a then
        self._timer = core._after(math.max(0, a - core.now()), function()
          self._timer = nil
          drive(self, "timeout")
        end)
      end
      return
    end
  end
end

local QUEUE_MAX = 4096  -- packets kept while a state does not listen

-- start([config]) -> self: run on the loop in the background (callbacks
-- of the capture and timers drive it).  join(), stop(), .state, .running.
function Machine:start(cfg)
  prepare_run(self, "start", cfg, true, 2)
  if self._h then
    self._h:on_packet(function(p)
      if self._wants then
        drive(self, "packet", p)
      elseif #self._queue < QUEUE_MAX then
        self._queue[#self._queue + 1] = p
      end
    end)
  end
  drive(self, self)
  return self
end

-- stop(): a running machine ends where it is (run() and join() return
-- nil and why).  Harmless twice.
function Machine:stop()
  if not self.running then return self end
  if coroutine.running() == self._co then
    error(("%s: stop() from inside the machine: make a transition to a final state"):format(
      self.class.name), 2)
  end
  self._stopping = true
  if self._bg then
    finish(self, true, "stopped")
  elseif self._h then
    self._h:halt()  -- run()'s wait for a packet returns
  end
  return self
end

-- join([seconds]) -> as run(): wait (the loop runs) until the machine
-- started in the background ends, or seconds pass (then nil, "timeout")
function Machine:join(seconds)
  live.run_while(function() return self.running end, seconds)
  if self.running then return nil, "timeout" end
  return outcome(self)
end

Machine.__close = Machine.stop

-- Inside states and actions: send a packet (a frame on the machine's
-- interface, or a datagram the kernel routes), as sendp and send do.
function Machine:send(pkts)
  local first = type(pkts) == "table" and pkts[1] or pkts
  if live.is_frame(first) then
    return live.sendp(pkts, {iface = self.iface})  -- tail calls: errors at
  end                                              -- the state's line
  return live.send(pkts)
end

-- Inside states and actions: wait without blocking the loop
function Machine:sleep(seconds)
  if coroutine.running() ~= self._co then
    error(("%s: sleep() is for states and actions (use sleep() elsewhere)"):format(
      self.class.name), 2)
  end
  coroutine.yield("sleep", seconds)
end

function Machine:graph() return self.class:graph() end

return M
