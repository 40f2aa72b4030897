-- quic_sni.lua: the SNI of every client Initial of a capture, from Lua
-- (bench/quic_bench.sh): whole passes of
--   for p in PcapReader(f) do local s = quic_decrypt(p).servername ... end
-- until SECS have passed (benchpass.lua).  Prints "RESULT lua_quic_sni
-- <initials/s>" (wall clock) and "CPU lua_quic_sni <initials/s>".
--   sflua bench/quic_sni.lua CAPTURE [SECS]
local sf = require("stackforge")
local path, secs = arg[1], tonumber(arg[2] or 1.5)

require("benchpass")("lua_quic_sni", "initials", secs, function()
  local n = 0
  for p in sf.PcapReader(path) do
    local d = sf.quic_decrypt(p)
    if d and d.servername then n = n + 1 end
  end
  return n
end)
