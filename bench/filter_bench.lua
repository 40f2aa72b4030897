-- filter_bench.lua CAPTURE [FILTER]: PcapReader(f, {filter=}) over the
-- capture, whole passes; prints packets/s by the monotonic clock and by
-- the process's CPU time (os.clock), which a loaded machine does not skew.
-- Run by bench/filter_bench.sh.
package.cpath = (arg[0]:match("^(.*)/") or ".") .. "/../build/bench/?.so;" .. package.cpath
local ok, clock = pcall(require, "benchclock")
local now = ok and clock.now or os.time
local path = assert(arg[1], "usage: filter_bench.lua CAPTURE [FILTER]")
local expr = arg[2] or "tcp.port == 443 and ip.src == 10.0.0.0/8"
local total = 0
for _ in PcapReader(path) do total = total + 1 end
for round = 1, tonumber(os.getenv("ROUNDS") or 5) do
  local t0, c0, n = now(), os.clock(), 0
  for _ in PcapReader(path, {filter = expr}) do n = n + 1 end
  local wall, cpu = now() - t0, os.clock() - c0
  print(("round %d: %d of %d pass; %.3f s wall = %.0f packets/s; %.3f s cpu = %.0f packets/s")
    :format(round, n, total, wall, total / wall, cpu, total / cpu))
end
