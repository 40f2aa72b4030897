-- lua_bench.lua: the Lua-side benchmarks.
-- Usage: sflua bench/lua_bench.lua MIXFILE [SECONDS]   (run.sh sets it up)
-- Each benchmark runs in chunks until SECONDS (default 1.5) have passed and
-- prints "RESULT <name> <packets/s>".  Time is CLOCK_MONOTONIC through the
-- benchclock module (built in build/bench); without it, os.clock (CPU time).
local sf = require("stackforge")
local Ether, IP, TCP, Packet = sf.Ether, sf.IP, sf.TCP, sf.Packet

local mixfile = assert(arg[1], "usage: lua_bench.lua MIXFILE [SECONDS]")
local secs = tonumber(arg[2] or 1.5)

local ok, clock = pcall(require, "benchclock")
local now = ok and clock.now or os.clock
if not ok then io.stderr:write("lua_bench: benchclock not found, using os.clock (CPU time)\n") end

-- run body(n) (which does n packets) in chunks of `chunk` until secs passed
local function measure(name, chunk, body)
  body(chunk)  -- warm-up
  collectgarbage()
  local done, t0, el = 0, now(), 0
  repeat
    body(chunk)
    done = done + chunk
    el = now() - t0
  until el >= secs
  print(("RESULT %s %.0f"):format(name, done / el))
  io.stdout:flush()
end

-- (a) build Ether/IP/TCP to bytes, the stack constructed every iteration
-- (the fields match the Scapy anchor "scapy_build_fields")
local sink
measure("lua_build_new", 20000, function(n)
  for i = 1, n do
    sink = (Ether{dst = "00:11:22:33:44:55", src = "66:77:88:99:aa:bb"}
      / IP{src = "10.0.0.1", dst = "10.0.0.2"}
      / TCP{sport = 1234, dport = 80, flags = "S"}):bytes()
  end
end)

-- (a') a template packet: change one field, then serialise
local tmpl = Ether{dst = "00:11:22:33:44:55", src = "66:77:88:99:aa:bb"}
  / IP{src = "10.0.0.1", dst = "10.0.0.2"} / TCP{sport = 1234, dport = 80, flags = "S"}
measure("lua_build_template", 50000, function(n)
  for i = 1, n do
    tmpl[TCP].sport = i & 0xffff
    sink = tmpl:bytes()
  end
end)

-- (c) parse each packet of the mix and read one field
local raws = {}
do
  local f = assert(io.open(mixfile, "rb"))
  local data = f:read("a")
  f:close()
  local pos = 1
  while pos <= #data do
    raws[#raws + 1], pos = string.unpack("<s4", data, pos)
  end
end
local nraws, total = #raws, 0
measure("lua_parse_dport", nraws, function(n)
  local s = 0
  for i = 1, n do
    local p = Packet(raws[i])
    s = s + (p.dport or 0)
  end
  total = total + s
end)
io.stderr:write(("lua_bench: %d packets in the mix, dport sum %d\n"):format(nraws, total))

-- (issue 4) a 4-field custom layer over UDP, parsed from a Lua loop; then
-- the built-in mix again, now that a custom protocol is bound to UDP
local Mine = sf.CustomLayer("BenchMine", {sf.ByteField("version", 1),
  sf.ShortField("length", 0), sf.XIntField("magic", 0xDEADBEEF), sf.ShortField("seq", 0)})
sf.bind_layers(sf.UDP, Mine, {dport = 9999})
local customs = {}
for i = 1, 1000 do
  customs[i] = (Ether() / IP{src = "10.0.0.1", dst = "10.0.0.2"} / sf.UDP{sport = 1024 + i}
    / Mine{seq = i, length = 4} / "data"):bytes()
end
measure("lua_parse_custom", 50000, function(n)
  local s = 0
  for i = 1, n do
    local p = Packet(customs[i % 1000 + 1])
    s = s + p.seq
  end
  total = total + s
end)
measure("lua_parse_dport_custom_bound", nraws, function(n)
  local s = 0
  for i = 1, n do
    local p = Packet(raws[i])
    s = s + (p.dport or 0)
  end
  total = total + s
end)
