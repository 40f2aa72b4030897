-- bench/par_map.lua CAPTURE [ROUNDS]: WorkerPool's pool:map on 1 thread
-- against 2 (issue 15: >= 1.8x), two map functions: one that returns a
-- value per packet (copied back to the caller's state) and one reduced to
-- a table of bytes per destination; then PcapReader with filter_bench's
-- filter, threads=2 against none (wall and process CPU only: the
-- threads' own CPU is not reported).  Run with LUA_CPATH pointing at
-- build/bench (benchclock).
--
-- The machine is shared, so besides wall time this prints CPU time: the
-- process's, and the critical path an idle machine would take -- the
-- caller's thread alone (process CPU minus the threads' and the split
-- scan's) plus the longest thread and the scan's longest part.  Medians
-- over the rounds, run alternately so that load hits both alike.
local clock = require("benchclock")
local cap, rounds = assert(arg[1], "usage: par_map.lua CAPTURE [ROUNDS]"), tonumber(arg[2] or 5)

local JOBS = {
  {name = "a value per packet", fn = [[function(p)
      local ip = p[IP]
      return ip and (ip.src .. " " .. ip.dst .. " " .. p.wirelen) end]]},
  {name = "reduced (bytes per destination)", fn = [[function(p)
      local ip = p[IP]
      return ip and {[ip.dst] = p.wirelen} end]],
   reduce = [[function(a, b)
      for k, v in pairs(b) do a[k] = (a[k] or 0) + v end
      return a end]]},
}

local function run(pool, job)
  local w0, c0 = clock.now(), os.clock()
  local out = pool:map(cap, job.fn, {reduce = job.reduce})
  local wall, cpu = clock.now() - w0, os.clock() - c0
  local st = pool.stats
  local threads, longest = 0, 0
  for _, t in ipairs(st.cpu) do
    threads = threads + t
    if t > longest then longest = t end
  end
  local path = cpu - threads - st.scan_cpu + longest + st.scan_longest
  return {wall = wall, cpu = cpu, path = path}, out
end

local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end

local one, two = WorkerPool{threads = 1}, WorkerPool{threads = 2}
for _, job in ipairs(JOBS) do
  local f = {w1 = {}, w2 = {}, c1 = {}, c2 = {}, p1 = {}, p2 = {}}
  for r = 1, rounds do
    local a, outa = run(one, job)
    local b, outb = run(two, job)
    if r == 1 and type(outa) == "table" then
      assert(#outa == #outb, "different results")
    end
    f.w1[r], f.c1[r], f.p1[r] = a.wall, a.cpu, a.path
    f.w2[r], f.c2[r], f.p2[r] = b.wall, b.cpu, b.path
    io.stderr:write(("  round %d: 1 thread %.2f s wall %.2f CPU; 2 threads %.2f s wall, %.2f CPU, path %.2f\n")
      :format(r, a.wall, a.cpu, b.wall, b.cpu, b.path))
  end
  local p1, p2, w1, w2 = median(f.p1), median(f.p2), median(f.w1), median(f.w2)
  print(("pool:map, %s: 2 threads vs 1: CPU critical path %.2f vs %.2f s, %.2fx; "
    .. "wall %.2f vs %.2f s, %.2fx; process CPU %.2f vs %.2f s (medians of %d)")
    :format(job.name, p2, p1, p1 / p2, w2, w1, w1 / w2, median(f.c2), median(f.c1), rounds))
end

local FILTER = "tcp.port == 443 and ip.src == 10.0.0.0/8"
local function read(threads)
  local w0, c0, n = clock.now(), os.clock(), 0
  for _ in PcapReader(cap, {filter = FILTER, threads = threads}) do n = n + 1 end
  return clock.now() - w0, os.clock() - c0, n
end
local w1, w2, c1, c2 = {}, {}, {}, {}
for r = 1, rounds do
  local n1, n2
  w1[r], c1[r], n1 = read(nil)
  w2[r], c2[r], n2 = read(2)
  assert(n1 == n2, "different counts")
end
print(("PcapReader{filter=}, threads=2 vs 1: wall %.3f vs %.3f s, %.2fx; process CPU %.3f vs %.3f s (medians of %d)")
  :format(median(w2), median(w1), median(w1) / median(w2), median(c2), median(c1), rounds))
