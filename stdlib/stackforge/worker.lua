-- stackforge.worker: what runs in each Lua state of a WorkerPool
-- (lua/lpool.c makes the states; stackforge.pool is the caller's side).
--
-- A worker's state is its own: made and set up on the caller's thread,
-- then lent to one thread at a time.  It sees what a script run by sflua
-- sees: every public name a global.  The protocol registry is the
-- process's: every layer registered before (built-in, plugins', the main
-- state's CustomLayers) parses here; a layer whose fields ask Lua
-- (length_from, a condition, guess_payload, a heuristic) needs its
-- definition run here too, which adopts the registered one (lcustom.c) --
-- so the plugins the main state loaded are loaded here, and a map script
-- repeats the CustomLayers it uses.
local M = {}

local sf, layers, core

-- Layers registered since this state last looked (CustomLayers of the
-- main state): constructors here too, and globals.
function M.sync()
  local n = #core.protos()
  for id = #layers.protos, n - 1 do
    if layers.protos[id + 1] == nil then
      local ctor = layers.register(id)
      if rawget(_G, ctor.name) == nil then _G[ctor.name] = ctor end
      if sf[ctor.name] == nil then sf[ctor.name] = ctor end
    end
  end
end

-- Once, when the state is made: stackforge, its names as globals, the
-- main state's plugins (each CustomLayer in them adopted).
function M.boot(plugins)
  sf = require("stackforge")
  layers = require("stackforge.layers")
  core = require("stackforge.core")
  _G.stackforge = sf
  for k, v in pairs(sf) do
    if rawget(_G, k) == nil then _G[k] = v end
  end
  for _, name in ipairs(plugins) do require("stackforge.plugins." .. name) end
  M.sync()
end

-- A function from how the caller gave it: a binary chunk (string.dump of
-- a function), the text of one ("function(p) ... end", or a chunk that
-- returns one) or a script's path (run here: its top level is this
-- worker's setup; it returns the function, or {map=, reduce=}).
local function from(kind, code, name)
  if kind == "dump" then
    return assert(load(code, name, "b"))
  elseif kind == "file" then
    local chunk, err = loadfile(code)
    if not chunk then error(err, 0) end
    return chunk()
  end
  local chunk = load("return " .. code, name, "t")
  if chunk then return chunk() end
  local err
  chunk, err = load(code, name, "t")
  if not chunk then error(err, 0) end
  return chunk()
end

local function want_function(v, what)
  if type(v) ~= "function" then
    error(("%s: expected a function, got %s"):format(what, type(v)), 0)
  end
  return v
end

-- For each pool:map: the map function, the reduce function (or nil) and
-- the filter's program (or nil).
function M.load(job)
  M.sync()
  local got = from(job.kind, job.code, job.name)
  local map, reduce = got, nil
  if type(got) == "table" then map, reduce = got.map, got.reduce end
  want_function(map, "pool:map: the map function")
  if job.rkind then reduce = from(job.rkind, job.rcode, job.rname) end
  if reduce ~= nil then want_function(reduce, "pool:map: reduce") end
  local prog
  if job.filter then prog = require("stackforge.dfilter").program_of(job.filter, 1, "pool:map") end
  return map, reduce, prog
end

return M
