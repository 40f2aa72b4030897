-- scapy_random.lua: what the random Scapy cross-checks of one protocol
-- family share (tls_random.lua, http_random.lua): Lua builds checked
-- against Scapy's bytes, the case and byte files, the golden set, the
-- command line.  A family's file gives case(i) -> python, lua and calls
--   return require_shared().family(M, "name_random")
-- which adds M.check, M.cases, M.read_cases, M.read_scapy, M.write_golden
-- and, when the file is run, its command line:
--   sflua NAME_random.lua gen SEED COUNT          "python<TAB>lua" lines
--   sflua NAME_random.lua check CASES SCAPY_TSV   sflua against Scapy's bytes
--   sflua NAME_random.lua golden OUT SEED COUNT SCAPY_TSV
local S = {}

local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end

-- cases: {{py, lua}...}; scapy: {py = hex}.  Each Lua build equals
-- Scapy's bytes, and Scapy's bytes parse back whole to the same layers.
function S.check(cases, scapy)
  local sf = require("stackforge")
  local env = setmetatable({}, {__index = function(_, k) return sf[k] or _G[k] end})
  local bad = {}
  for i, c in ipairs(cases) do
    local want = scapy[c[1]]
    local built = assert(load("return " .. c[2], "=case " .. i, "t", env))():build()
    local p = want and sf.Packet(unhex(want))
    if not want then
      bad[#bad + 1] = ("case %d: no Scapy bytes"):format(i)
    elseif hex(built:bytes()) ~= want then
      bad[#bad + 1] = ("case %d: sflua builds\n  %s\nScapy\n  %s\n  %s\n  %s"):format(i,
        hex(built:bytes()), want, c[1], c[2])
    elseif p.truncated or p:summary() ~= built:summary() or hex(p:bytes()) ~= want then
      bad[#bad + 1] = ("case %d: Scapy's bytes parse to %s%s, built %s\n  %s"):format(i, p:summary(),
        p.truncated and " (truncated)" or "", built:summary(), c[1])
    end
  end
  return bad
end

function S.read_cases(path)
  local t = {}
  for line in io.lines(path) do
    local py, lua = line:match("^(.-)\t(.*)$")
    if py then t[#t + 1] = {py, lua} end
  end
  return t
end

function S.read_scapy(path)
  local t = {}
  for line in io.lines(path) do
    local e, h = line:match("^(.-)\t(%x*)$")
    if e then t[e] = h end
  end
  return t
end

-- M (a family with case(i)) gets the shared functions; run as a script
-- (arg[0] ends with name .. ".lua"), its command line runs.
function S.family(M, name)
  M.check, M.read_cases, M.read_scapy = S.check, S.read_cases, S.read_scapy
  -- the cases of a seed: {{python, lua}...}
  function M.cases(seed, count)
    math.randomseed(seed)
    local t = {}
    for i = 1, count do t[i] = {M.case(i)} end
    return t
  end
  -- the golden file: Scapy's bytes of the cases of a seed
  function M.write_golden(path, seed, count, scapy)
    local f = assert(io.open(path, "w"))
    f:write(("-- written by tests/interop/%s.sh --golden (Debian python3-scapy 2.5's\n"):format(name),
      ("-- bytes for the cases tests/interop/%s.lua makes from this seed)\n"):format(name),
      ("return {seed = %d, count = %d, hex = {\n"):format(seed, count))
    for _, c in ipairs(M.cases(seed, count)) do f:write(('"%s",\n'):format(assert(scapy[c[1]]))) end
    f:write("}}\n")
    f:close()
  end
  if arg and arg[0] and arg[0]:match(name .. "%.lua$") then
    if arg[1] == "gen" then
      for _, c in ipairs(M.cases(tonumber(arg[2]), tonumber(arg[3]))) do print(table.concat(c, "\t")) end
    elseif arg[1] == "golden" then
      M.write_golden(arg[2], tonumber(arg[3]), tonumber(arg[4]), S.read_scapy(arg[5]))
    elseif arg[1] == "check" then
      local bad = S.check(S.read_cases(arg[2]), S.read_scapy(arg[3]))
      for k = 1, math.min(#bad, 5) do print(bad[k]) end
      print(("%d cases, %d differ"):format(#S.read_cases(arg[2]), #bad))
      os.exit(#bad == 0 and 0 or 1)
    else
      io.stderr:write(("usage: %s.lua gen SEED COUNT | check CASES SCAPY_TSV | golden OUT SEED COUNT SCAPY_TSV\n"):format(name))
      os.exit(2)
    end
  end
  return M
end

return S
