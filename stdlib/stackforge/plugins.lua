-- plugins.lua: protocol plugins, Wireshark-style: every *.lua in the plugin
-- path is loaded at sflua's start; require("stackforge.plugins.NAME") finds
-- one too.  The path is $SFLUA_PLUGIN_PATH (folders separated by ':'),
-- then ~/.config/sflua/plugins.
local core = require("stackforge.core")

local M = {}

-- M.path, when set to a list of folders, replaces the environment's.
function M.dirs()
  if M.path then return M.path end
  local dirs = {}
  for dir in (os.getenv("SFLUA_PLUGIN_PATH") or ""):gmatch("[^:]+") do
    dirs[#dirs + 1] = dir
  end
  local home = os.getenv("HOME")
  if home then dirs[#dirs + 1] = home .. "/.config/sflua/plugins" end
  return dirs
end

-- The file of plugin `name` ("a.b" -> a/b.lua) in the plugin path.
local function find(name)
  local rel = name:gsub("%.", "/") .. ".lua"
  for _, dir in ipairs(M.dirs()) do
    local path = dir .. "/" .. rel
    local f = io.open(path, "r")
    if f then
      f:close()
      return path
    end
  end
  return nil
end

-- package.searchers entry for "stackforge.plugins.NAME"
local function searcher(modname)
  local name = modname:match("^stackforge%.plugins%.(.+)$")
  if not name then return nil end
  local path = find(name)
  if not path then
    return ("\n\tno plugin '%s' in %s"):format(name, table.concat(M.dirs(), ":"))
  end
  local chunk, err = loadfile(path)
  if not chunk then error(err, 0) end
  return chunk, path
end

local installed = false
function M.install_searcher()
  if installed then return end
  installed = true
  table.insert(package.searchers, 2, searcher)
end

-- Load every plugin; one that fails is reported (file and line) on
-- stderr and the others still load.  Returns the names loaded.
function M.load_all(report)
  report = report or function(msg) io.stderr:write("sflua: ", msg, "\n") end
  M.install_searcher()
  local loaded, seen = {}, {}
  for _, dir in ipairs(M.dirs()) do
    for _, file in ipairs(core.listdir(dir) or {}) do
      local name = file:match("^(.+)%.lua$")
      if name and not seen[name] then
        seen[name] = true
        local ok, err = pcall(require, "stackforge.plugins." .. name)
        if ok then loaded[#loaded + 1] = name
        else report(("plugin %s/%s failed: %s"):format(dir, file, tostring(err))) end
      end
    end
  end
  return loaded
end

return M
