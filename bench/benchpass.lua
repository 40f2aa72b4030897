-- benchpass.lua: the driver of the Lua capture benchmarks (tls_sni.lua,
-- quic_sni.lua, ssh_hassh.lua, http_lua.lua): one warm-up pass (the
-- mapping, the caches), then whole passes until SECS of wall-clock time
-- (benchclock: CLOCK_MONOTONIC) have passed.  Prints "RESULT NAME
-- <items/s>" (wall clock) and "CPU NAME <items/s>" (per second of CPU
-- time), and on stderr the items of a pass.
--   require("benchpass")(NAME, UNIT, SECS, pass)   pass() -> items
local clock = require("benchclock")

return function(name, unit, secs, pass)
  local n, total = pass(), 0
  local t0, c0, el = clock.now(), os.clock(), 0
  repeat
    total = total + pass()
    el = clock.now() - t0
  until el >= secs
  local cpu = os.clock() - c0
  io.stderr:write(("lua: %d %s a pass, %.2f s\n"):format(n, unit, el))
  print(("RESULT %s %.0f"):format(name, total / el))
  print(("CPU %s %.0f"):format(name, total / cpu))
end
