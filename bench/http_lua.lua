-- http_lua.lua: HTTP fields from Lua over a capture (bench/http_bench.sh):
-- whole passes of a PcapReader loop until SECS have passed.
--   sflua bench/http_lua.lua h1 CAPTURE [SECS]   p.Method, p.Path, p.Host
--   sflua bench/http_lua.lua h2 CAPTURE [SECS]   p.hdrs (HPACK decoded by libnghttp2)
-- Prints "RESULT NAME <messages/s>" (wall clock) and "CPU NAME <messages/s>".
local sf = require("stackforge")
local clock = require("benchclock")
local kind, path, secs = arg[1], arg[2], tonumber(arg[3] or 1.5)

local function pass_h1()
  local n = 0
  for p in sf.PcapReader(path) do
    local m, u, h = p.Method, p.Path, p.Host
    if m and u and h then n = n + 1 end
  end
  return n
end

local function pass_h2()
  local n = 0
  for p in sf.PcapReader(path) do
    local l = p.hdrs
    if type(l) == "table" and #l > 0 then n = n + 1 end
  end
  return n
end

local pass = kind == "h1" and pass_h1 or pass_h2
local name = kind == "h1" and "lua_http1_request_host" or "lua_http2_headers"
local n, total = pass(), 0  -- warm-up
local t0, c0, el = clock.now(), os.clock(), 0
repeat
  total = total + pass()
  el = clock.now() - t0
until el >= secs
local cpu = os.clock() - c0
io.stderr:write(("lua: %d messages a pass, %.2f s\n"):format(n, el))
print(("RESULT %s %.0f"):format(name, total / el))
print(("CPU %s %.0f"):format(name, total / cpu))
