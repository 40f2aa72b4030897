-- quic_sni.lua: the SNI of every client Initial of a capture, from Lua
-- (bench/quic_bench.sh): whole passes of
--   for p in PcapReader(f) do local s = quic_decrypt(p).servername ... end
-- until SECS have passed.  Prints "RESULT lua_quic_sni <initials/s>" (wall
-- clock) and "CPU lua_quic_sni <initials/s>" (per second of CPU time).
--   sflua bench/quic_sni.lua CAPTURE [SECS]
local sf = require("stackforge")
local clock = require("benchclock")
local path, secs = arg[1], tonumber(arg[2] or 1.5)

local function pass()
  local n, bytes = 0, 0
  for p in sf.PcapReader(path) do
    local d = sf.quic_decrypt(p)
    local s = d and d.servername
    if s then
      n = n + 1
      bytes = bytes + #s
    end
  end
  return n, bytes
end

local n, total = pass(), 0  -- warm-up: the mapping, the caches
local t0, c0, el = clock.now(), os.clock(), 0
repeat
  total = total + (pass())
  el = clock.now() - t0
until el >= secs
local cpu = os.clock() - c0
io.stderr:write(("lua: %d initials a pass, %.2f s\n"):format(n, el))
print(("RESULT lua_quic_sni %.0f"):format(total / el))
print(("CPU lua_quic_sni %.0f"):format(total / cpu))
