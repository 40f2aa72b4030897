-- tls_sni.lua: the SNI of every ClientHello of a capture, from Lua
-- (bench/tls_bench.sh): whole passes of
--   for p in PcapReader(f) do local s = p.servername ... end
-- until SECS have passed (benchpass.lua).  Prints "RESULT lua_tls_sni
-- <hellos/s>" (wall clock) and "CPU lua_tls_sni <hellos/s>".
--   sflua bench/tls_sni.lua CAPTURE [SECS]
local sf = require("stackforge")
local path, secs = arg[1], tonumber(arg[2] or 1.5)

require("benchpass")("lua_tls_sni", "hellos", secs, function()
  local n = 0
  for p in sf.PcapReader(path) do
    if p.servername then n = n + 1 end
  end
  return n
end)
