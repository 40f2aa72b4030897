-- scapy_habits_bench.lua MODE CAPTURE [N]: one measurement of issue 16's
-- speed goals, printed as "name value unit" (bench/scapy_habits_bench.sh
-- runs each in a fresh process, several times, and takes medians).
--   rdpcap   CAPTURE   rdpcap of the capture: packets/s, then the resident
--                      memory it added as a ratio to the file's size
--   summary  CAPTURE   pl:summary() of every packet (Scapy's text, the list
--                      in C), and p:summary("scapy") packet by packet
--   fuzz     - [N]     fuzz(TCP()):bytes() N times (default 1,000,000)
local sf = require("stackforge")
local ok, clock = pcall(require, "benchclock")
local now = ok and clock.now or os.clock

local mode, path, n = arg[1], arg[2], tonumber(arg[3] or 1000000)

local function rss_kib()
  local f = io.open("/proc/self/status")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

local function filesize(p)
  local f = assert(io.open(p, "rb"))
  local size = f:seek("end")
  f:close()
  return size
end

if mode == "rdpcap" then
  collectgarbage("collect")
  local before = rss_kib()
  local t0 = now()
  local pl = sf.rdpcap(path)
  local t1 = now()
  local after = rss_kib()
  print(("rdpcap_pps %.0f packets/s"):format(#pl / (t1 - t0)))
  print(("rdpcap_rss %.3f x_file_size"):format(after * 1024 / filesize(path)))
  print(("rdpcap_rss_added %.3f x_file_size"):format((after - before) * 1024 / filesize(path)))
elseif mode == "summary" then
  local pl = sf.rdpcap(path)
  local t0 = now()
  local text = pl:summary()
  local t1 = now()
  assert(#text > #pl)
  print(("plist_summary_pps %.0f packets/s"):format(#pl / (t1 - t0)))
  local count = math.min(#pl, 200000)
  t0 = now()
  for i = 1, count do local _ = pl[i]:summary("scapy") end
  t1 = now()
  print(("packet_summary_pps %.0f packets/s"):format(count / (t1 - t0)))
elseif mode == "fuzz" then
  sf.random_seed(1)
  local f = sf.fuzz(sf.TCP())
  for _ = 1, 10000 do f:bytes() end  -- warm up
  local t0 = now()
  for _ = 1, n do f:bytes() end
  local t1 = now()
  print(("fuzz_tcp_builds %.0f packets/s"):format(n / (t1 - t0)))
else
  error("usage: scapy_habits_bench.lua rdpcap|summary|fuzz CAPTURE [N]")
end
