-- dns_bench.lua CAPTURE [SECONDS]: DNS fields from Lua (bench/dns_bench.sh).
-- The fields tshark prints in the anchor run: the id, the question's name,
-- every answer's rdata (or MX exchange).  lua_dns_reader streams the
-- capture (PcapReader); lua_dns_list parses Packet(raw) over the capture's
-- packets held in memory.  Prints "RESULT name messages/s".
local sf = require("stackforge")
local DNS, MX = sf.DNS, sf.DNSRRMX.kind
local path, secs = assert(arg[1]), tonumber(arg[2] or 1.5)
local ok, clock = pcall(require, "benchclock")
local now = ok and clock.now or os.clock

local function read(p)
  local d = p[DNS]
  local n = d.id + #d.qd[1].qname
  for _, r in ipairs(d.an) do
    local v = r.kind == MX and r.exchange or r.rdata
    n = n + #v
  end
  return n
end

local function measure(name, pass)
  pass()
  collectgarbage()
  local done, t0, el, check = 0, now(), 0, 0
  repeat
    local k, c = pass()
    done, check = done + k, check + c
    el = now() - t0
  until el >= secs
  print(("RESULT %s %.0f"):format(name, done / el))
  io.stderr:write(("%s: checksum %d\n"):format(name, check))
  io.stdout:flush()
end

measure("lua_dns_reader", function()
  local k, n = 0, 0
  for p in sf.PcapReader(path) do
    k = k + 1
    n = n + read(p)
  end
  return k, n
end)

local raws = {}
for p in sf.PcapReader(path) do raws[#raws + 1] = p:bytes() end
local Packet = sf.Packet
measure("lua_dns_list", function()
  local n = 0
  for i = 1, #raws do n = n + read(Packet(raws[i])) end
  return #raws, n
end)
