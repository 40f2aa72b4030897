-- ssh_hassh.lua: the hassh of every KEXINIT of a capture, from Lua
-- (bench/ssh_bench.sh): whole passes of
--   for p in PcapReader(f) do local h = p.hassh ... end
-- until SECS have passed.  Prints "RESULT lua_hassh <msgs/s>" (wall clock)
-- and "CPU lua_hassh <msgs/s>" (per second of CPU time).
--   sflua bench/ssh_hassh.lua CAPTURE [SECS]
local sf = require("stackforge")
local clock = require("benchclock")
local path, secs = arg[1], tonumber(arg[2] or 1.5)

local function pass()
  local n = 0
  for p in sf.PcapReader(path) do
    if p.hassh then n = n + 1 end
  end
  return n
end

local n, total = pass(), 0  -- warm-up: the mapping, the caches
local t0, c0, el = clock.now(), os.clock(), 0
repeat
  total = total + pass()
  el = clock.now() - t0
until el >= secs
local cpu = os.clock() - c0
io.stderr:write(("lua: %d KEXINITs a pass, %.2f s\n"):format(n, el))
print(("RESULT lua_hassh %.0f"):format(total / el))
print(("CPU lua_hassh %.0f"):format(total / cpu))
