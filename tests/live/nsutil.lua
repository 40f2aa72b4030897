-- nsutil.lua: what the specs that run inside network namespaces share
-- (tests/live/live_spec.lua, tests/automata/automata_spec.lua): shell
-- commands, background processes, waiting while the event loop runs,
-- tcpdump on a namespace's interface, counting the process's sockets.
local sf = require("stackforge")
local uv = require("luv")

local M = {}

function M.sh(cmd)
  local f = assert(io.popen(cmd .. " 2>&1"))
  local out = f:read("a")
  f:close()
  return out
end

function M.in_ns(ns, cmd) return ("ip netns exec %s %s"):format(ns, cmd) end

-- a background process; its pid
function M.spawn(cmd, log)
  return tonumber(M.sh(("(%s) >%s 2>&1 & echo $!"):format(cmd, log or "/dev/null")))
end

-- wait (the loop runs: machines answer meanwhile) until pred() holds or
-- seconds pass; whether it held
function M.wait_for(pred, seconds)
  local t0 = uv.hrtime()
  while not pred() do
    if (uv.hrtime() - t0) / 1e9 > (seconds or 5) then return false end
    sf.sleep(0.02)
  end
  return true
end

function M.read(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

-- Is the process running?  A zombie is not: an orphan waits to be reaped
-- by whatever is pid 1 here, which may take seconds.
function M.alive(pid)
  local f = io.open(("/proc/%d/stat"):format(pid))
  if not f then return false end
  local st = f:read("a")
  f:close()
  return st:match("^%d+ %b() (%a)") ~= "Z"
end

-- tcpdump writing a capture (in dir) on ns's iface; returns a stop
-- function that gives the packets it saw
function M.tcpdump(dir, ns, iface, filter, name)
  local file, log = dir .. "/" .. name .. ".dump.pcap", dir .. "/" .. name .. ".log"
  local pid = M.spawn(M.in_ns(ns, ("tcpdump --immediate-mode -s 512 -B 16384 -i %s -U -n -w %s %s"):format(iface, file, filter)), log)
  assert(M.wait_for(function() return M.read(log):find("listening on") end, 5), M.read(log))
  return function()
    sf.sleep(0.2)
    os.execute("kill -INT " .. pid)
    M.wait_for(function() return not M.alive(pid) end, 5)
    return sf.rdpcap(file)
  end
end

function M.fd_count()  -- sockets this process holds (pcap's, raw ones)
  collectgarbage()
  collectgarbage()  -- what earlier tests dropped is closed first
  return tonumber(M.sh(("ls -l /proc/%d/fd | grep -c socket:"):format(uv.os_getpid())))
end

return M
