-- stackforge.pool: WorkerPool and parse_batch (docs/scale.md).
--   local pool = WorkerPool{threads=2}
--   pool:map("big.pcap", function(p) return p.len end)          -> {len, len, ...}
--   pool:map("big.pcap", "count.lua", {reduce=function(a, b) return a + b end})
--   pool:map("big.pcap", fn, {filter="tcp.port == 443"})
--   parse_batch(pkts); pool:parse_batch(pkts)
-- Threads never share a Lua state: each has its own (stackforge.worker
-- runs in it), the capture is cut into chunks of whole records
-- (core/io/split.c) that the threads take in turn, and results come back
-- copied, in capture order.  lua/lpool.c is the C half.
local core = require("stackforge.core")
local options = require("stackforge.options")

local M = {}

local Pool = core.pool_methods  -- the userdata's methods; the C ones start with _

-- The plugins this state loaded: the workers load them too.
local function loaded_plugins()
  local names = {}
  for k in pairs(package.loaded) do
    local name = k:match("^stackforge%.plugins%.(.+)$")
    if name then names[#names + 1] = name end
  end
  table.sort(names)
  return names
end

local function threads_of(opts, fname, level)
  options.check(fname, opts, {threads = "count"}, level + 1)
  local n = opts and opts.threads or core.cpus()
  if n < 1 then error(("%s: threads must be at least 1, got %d"):format(fname, n), level + 1) end
  return n
end

--- WorkerPool{threads=N}: N Lua states (default: one per CPU) for N threads.
function M.WorkerPool(opts)
  local n = threads_of(opts, "WorkerPool", 2)
  local ok, pool = pcall(core.pool_new, n, loaded_plugins())
  if not ok then error("WorkerPool: " .. tostring(pool), 2) end
  return pool
end

-- How a function travels to the workers: a function is dumped (it may
-- use globals, not locals of the code around it: those stay behind); a
-- string naming a .lua file is a script; any other string is source.
local function code_of(fn, what, level)
  local t = type(fn)
  if t == "function" then
    local names = {}
    for i = 1, math.huge do
      local name = debug.getupvalue(fn, i)
      if not name then break end
      if name ~= "_ENV" then names[#names + 1] = name end
    end
    if #names > 0 then
      error(("%s: the function uses local variables of the code around it (%s), which "
        .. "another Lua state cannot see; make them globals, or pass the function's "
        .. "source or a script path"):format(what, table.concat(names, ", ")), level + 1)
    end
    local ok, code = pcall(string.dump, fn)
    if not ok then error(("%s: a C function cannot go to another state"):format(what), level + 1) end
    return "dump", code, nil
  elseif t == "string" then
    if not fn:find("\n") and fn:match("%.lua$") then
      local f = io.open(fn, "r")
      if not f then error(("%s: cannot open script %s"):format(what, fn), level + 1) end
      f:close()
      return "file", fn, nil
    end
    return "source", fn, fn
  end
  error(("%s: expected a function, its source or a script path, got %s"):format(what, t), level + 1)
end

local MAP_OPTS = {reduce = "any", filter = "any", strict = "boolean"}

--- pool:map(capture, fn [, {reduce=, filter=, strict=}]) -> list, or the
--- reduced value.  fn(p) runs in a worker for every packet (that passes
--- the filter), in any order; what it returns (nil: nothing) comes back
--- in capture order.  reduce(a, b) combines two results (associative,
--- as Spark's reduce): each worker folds its chunks, then the chunks'
--- results are folded in capture order.
function Pool:map(capture, fn, opts)
  if type(capture) ~= "string" then
    error(("bad argument #1 to 'map' (capture path expected, got %s)"):format(type(capture)), 2)
  end
  options.check("pool:map", opts, MAP_OPTS, 2)
  opts = opts or {}
  local job = {}
  job.kind, job.code, job.name = code_of(fn, "pool:map", 2)
  if opts.reduce ~= nil then
    job.rkind, job.rcode, job.rname = code_of(opts.reduce, "pool:map: reduce", 2)
  end
  if opts.filter ~= nil then
    local dfilter = require("stackforge.dfilter")
    local f = getmetatable(opts.filter) == dfilter.DisplayFilterMeta and opts.filter
      or dfilter.DisplayFilter(opts.filter)
    job.filter = f.text
    dfilter.program_of(f, 2, "pool:map")  -- a flow filter is an error here
  end
  local out, err = self:_map(capture, job, opts)
  if err then error(err, 2) end
  return out
end

local function check_batch(fname, pkts)
  if type(pkts) ~= "table" then
    error(("bad argument #1 to '%s' (list of packets expected, got %s)"):format(fname, type(pkts)), 3)
  end
end

--- pool:parse_batch(pkts) -> the packets dissected, on the pool's threads
--- (strings are raw Ethernet frames, made Packets).
function Pool:parse_batch(pkts)
  check_batch("parse_batch", pkts)
  local out = core.parse_batch(pkts, self.threads)
  return out
end

--- parse_batch(pkts): the same, one thread per CPU.
function M.parse_batch(pkts)
  check_batch("parse_batch", pkts)
  local out = core.parse_batch(pkts, core.cpus())
  return out
end

return M
