-- live_bench.lua: sflua's side of bench/live_bench.sh, run inside namespace
-- A.  One measurement per call:
--   sflua live_bench.lua gen FILE N          N small UDP frames to FILE
--   sflua live_bench.lua sniff IFACE N SECS  a Lua prn per packet; prints
--                                            "got dropped seconds"
--   sflua live_bench.lua prn FILE            a prn over FILE's frames; prints
--                                            "packets seconds"
--   sflua live_bench.lua sr1 DST N           N sr1 echo round trips; prints
--                                            the mean in microseconds
--   sflua live_bench.lua sendp IFACE FILE    prints "packets seconds"
local sf = require("stackforge")
local uv = require("luv")

local what = arg[1]

local function now() return uv.hrtime() / 1e9 end

if what == "gen" then
  local frames = {}
  for i = 1, tonumber(arg[3]) do
    frames[i] = sf.Ether{src = "02:00:00:00:00:0b", dst = "02:00:00:00:00:0a"}
      / sf.IP{src = "10.99.1.2", dst = "10.99.1.1", id = i & 0xffff}
      / sf.UDP{sport = 4000, dport = 9 } / ("%010d"):format(i)
  end
  sf.wrpcap(arg[2], frames)
elseif what == "sniff" then
  -- AsyncSniffer: sniff's options (prn, count, timeout) on the loop
  local n, t0 = 0, nil
  local as = sf.AsyncSniffer{iface = arg[2], filter = "udp port 9", store = false,
    count = tonumber(arg[3]), timeout = tonumber(arg[4]),
    buffer_size = tonumber(os.getenv("BUFFER") or "") or nil,
    prn = function(p)
      t0 = t0 or now()
      n = n + 1
    end}
  as:start()
  io.stdout:write("ready\n")
  io.stdout:flush()
  as:join()
  local st = as:stats()
  print(n, st.dropped, now() - (t0 or now()))
elseif what == "prn" then
  -- the Lua side alone: a prn over the same frames read from the file
  local n = 0
  local t0 = now()
  sf.sniff{offline = arg[2], store = false, prn = function(p) n = n + 1 end}
  print(n, now() - t0)
elseif what == "sr1" then
  local dst, n = arg[2], tonumber(arg[3])
  local p = sf.IP{dst = dst} / sf.ICMP.echo_request{id = 1}
  assert(sf.sr1(p, {timeout = 1}), "no answer")  -- warm: handles opened
  local t0 = now()
  for i = 1, n do
    p[sf.ICMP].seq = i
    assert(sf.sr1(p, {timeout = 1}))
  end
  print(("%.1f"):format((now() - t0) / n * 1e6))
elseif what == "sendp" then
  local pkts = sf.rdpcap(arg[3])
  sf.sendp(pkts[1], {iface = arg[2]})  -- warm: the socket opened
  local t0 = now()
  local sent = sf.sendp(pkts, {iface = arg[2]})
  print(sent, now() - t0)
end
