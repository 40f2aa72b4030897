-- ssh_hassh.lua: the hassh of every KEXINIT of a capture, from Lua
-- (bench/ssh_bench.sh): whole passes of
--   for p in PcapReader(f) do local h = p.hassh ... end
-- until SECS have passed (benchpass.lua).  Prints "RESULT lua_hassh
-- <msgs/s>" (wall clock) and "CPU lua_hassh <msgs/s>".
--   sflua bench/ssh_hassh.lua CAPTURE [SECS]
local sf = require("stackforge")
local path, secs = arg[1], tonumber(arg[2] or 1.5)

require("benchpass")("lua_hassh", "KEXINITs", secs, function()
  local n = 0
  for p in sf.PcapReader(path) do
    if p.hassh then n = n + 1 end
  end
  return n
end)
