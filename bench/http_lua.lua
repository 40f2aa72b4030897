-- http_lua.lua: HTTP fields from Lua over a capture (bench/http_bench.sh):
-- whole passes of a PcapReader loop until SECS have passed (benchpass.lua).
--   sflua bench/http_lua.lua h1 CAPTURE [SECS]   p.Method, p.Path, p.Host
--   sflua bench/http_lua.lua h2 CAPTURE [SECS]   p.hdrs (HPACK decoded by libnghttp2)
-- Prints "RESULT NAME <messages/s>" (wall clock) and "CPU NAME <messages/s>".
local sf = require("stackforge")
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

local bench = require("benchpass")
if kind == "h1" then
  bench("lua_http1_request_host", "messages", secs, pass_h1)
else
  bench("lua_http2_headers", "messages", secs, pass_h2)
end
