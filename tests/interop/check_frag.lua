-- check_frag.lua FILE [MAXSHOW]: sflua's fragment, fragment6, defragment
-- and defrag of each case of FILE (frag_cases.lua's lines with Scapy's
-- answer added by scapy_frag.py) against Scapy's bytes.  Prints the
-- differences; exits 1 when there are any.  Also a module: check(line)
-- returns nil or what differs (tests/lua/fragment_spec.lua uses it).
local sf = require("stackforge")

local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end
local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end

local function packet(lt, h)
  return sf.Packet(unhex(h), {linktype = lt == "ether" and 1 or 101})
end

local function split(s, sep)
  local t = {}
  if s == "" then return t end
  for part in (s .. sep):gmatch("(.-)" .. sep:gsub("%p", "%%%0")) do t[#t + 1] = part end
  return t
end

local function hexes(list, mask)
  local t = {}
  for i, p in ipairs(list) do
    local b = p:bytes()
    if mask and p[sf.IPv6ExtHdrFragment] then  -- the id's bytes (a change would rebuild)
      local at = #b - #p:get_layer_bytes(sf.IPv6ExtHdrFragment)
      b = b:sub(1, at + 4) .. "\0\0\0\0" .. b:sub(at + 9)
    end
    t[i] = hex(b)
  end
  return table.concat(t, ",")
end

local M = {}

function M.check(line)
  local cols = split(line, "\t")
  local fn, size, lt, data, want = cols[1], tonumber(cols[2]), cols[3], cols[4], cols[#cols]
  local got
  if fn == "fragment" then
    got = hexes(sf.fragment(packet(lt, data), size))
  elseif fn == "fragment6" then
    got = hexes(sf.fragment6(packet(lt, data), size), cols[5] == "1")
  else
    local list = {}
    for i, h in ipairs(split(data, ",")) do list[i] = packet(lt, h) end
    if fn == "defragment" then got = hexes(sf.defragment(list))
    else
      local a, b, c = sf.defrag(list)
      got = hexes(a) .. "|" .. hexes(b) .. "|" .. hexes(c)
    end
  end
  if got ~= want then
    return ("%s %s: Scapy %d packets %s..., sflua %d packets %s..."):format(fn, cols[2],
      #split(want, ","), want:sub(1, 120), #split(got, ","), got:sub(1, 120))
  end
end

if arg and arg[0] and arg[0]:find("check_frag") and arg[1] then
  local n, bad, maxshow = 0, 0, tonumber(arg[2] or 10)
  for line in io.lines(arg[1]) do
    if line ~= "" and not line:find("^#") then
      n = n + 1
      local why = M.check(line)
      if why then
        bad = bad + 1
        if bad <= maxshow then print(("line %d: %s"):format(n, why)) end
      end
    end
  end
  print(("%d cases, %d differ from Scapy"):format(n, bad))
  os.exit(bad == 0 and n > 0 and 0 or 1)
end
return M
