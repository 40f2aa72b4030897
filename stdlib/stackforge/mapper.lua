-- stackforge.mapper: `sflua -m script.lua [args]`, sflua as the mapper of
-- an engine that already fans work out (docs/scale.md): capture paths on
-- stdin, one per line; JSON records on stdout, one per line.  That is
-- what Hadoop Streaming, Spark's RDD.pipe and GNU parallel feed and
-- collect.
--
-- The script runs once, as `sflua script.lua args` would (arg[0] is its
-- path), and returns its map function, or a table:
--   return function(p, path) return {src = p.ip and p.ip.src} end
--   return {map = fn, reduce = fn, filter = "tcp.port == 443"}
-- map(p, path) runs for every packet of each capture (that passes the
-- filter); each value it returns (nil: none) is a line.  With reduce(a,
-- b), a capture's values are folded in order and its one line is the
-- result.  A capture that cannot be read is reported on stderr, naming
-- it, and the next is read: the exit status says whether all were.
local sf = require("stackforge")
local json = require("stackforge.json")

local M = {}

local USAGE = "usage: sflua -m SCRIPT.lua [ARGS...]  (capture paths on stdin, JSONL on stdout)"

local function fail(msg)
  io.stderr:write("sflua -m: ", msg, "\n")
  return false
end

-- The script's map, reduce and reader options.
local function load_script(path, args)
  local chunk, err = loadfile(path)
  if not chunk then error(err, 0) end
  local a = {[0] = path}
  for i, v in ipairs(args) do a[i] = v end
  _G.arg = a
  local got = chunk(table.unpack(args))
  local job = type(got) == "table" and got or {map = got}
  for k in pairs(job) do
    if k ~= "map" and k ~= "reduce" and k ~= "filter" then
      error(("%s: the script's table has no key '%s' (keys: filter, map, reduce)")
        :format(path, tostring(k)), 0)
    end
  end
  if type(job.map) ~= "function" then
    error(("%s: the script must return its map function, or {map=, reduce=, filter=}; "
      .. "got %s"):format(path, type(job.map)), 0)
  end
  if job.reduce ~= nil and type(job.reduce) ~= "function" then
    error(("%s: reduce must be a function, got %s"):format(path, type(job.reduce)), 0)
  end
  local ropts = {}
  if job.filter ~= nil then ropts.filter = sf.DisplayFilter(job.filter) end
  return job, ropts
end

-- The reader of a capture, or nil and why (the file's message alone).
local function open(path, ropts)
  local ok, reader = pcall(sf.PcapReader, path, ropts)
  if ok then return reader end
  return nil, (tostring(reader):gsub("^[^\n]-mapper%.lua:%d+: ", ""))
end

-- One capture's lines, written as they come (a list could be large).
local function map_capture(job, reader, path, out)
  local map, reduce = job.map, job.reduce
  local acc, have = nil, false
  for p in reader do
    local v = map(p, path)
    if v ~= nil then
      if not reduce then out:write(json.encode(v), "\n")
      elseif have then acc = reduce(acc, v)
      else acc, have = v, true end
    end
  end
  if reduce and have then out:write(json.encode(acc), "\n") end
end

--- main(args): args are sflua's command line after "-m"
function M.main(args)
  local script = args[1]
  if not script or script == "-h" or script == "--help" then
    io.stderr:write(USAGE, "\n")
    return script ~= nil
  end
  local rest = table.move(args, 2, #args, 1, {})
  local ok, job, ropts = pcall(load_script, script, rest)
  if not ok then return fail(tostring(job)) end
  local out, all = io.stdout, true
  out:setvbuf("full")
  for line in io.stdin:lines() do
    local path = line:match("^%s*(.-)%s*$")
    if path ~= "" then
      local reader, err = open(path, ropts)  -- err names the file
      if not reader then all = fail(err)
      else
        local okc, merr = xpcall(map_capture, debug.traceback, job, reader, path, out)
        if not okc then all = fail(("%s: %s"):format(path, tostring(merr))) end
      end
    end
  end
  out:flush()
  return all
end

return M
