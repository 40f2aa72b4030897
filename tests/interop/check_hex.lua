-- check_hex.lua FILE [MAXSHOW]: sflua's hexdiff, hexstr, linehexdump,
-- chexdump, hexdump and import_hexcap against Scapy's, on the cases of
-- FILE (written by scapy_hex.py).  Prints the differences; exits 1 when
-- there are any.  Also a module: check(line) returns nil or what differs
-- (tests/lua/hextools_spec.lua uses it).
local sf = require("stackforge")

local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end
local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
local function unesc(s) return (s:gsub("\\(.)", {n = "\n", t = "\t", ["\\"] = "\\"})) end

local M = {}

function M.check(line)
  local cols = {}
  for c in (line .. "\t"):gmatch("([^\t]*)\t") do cols[#cols + 1] = c end
  local fn, got, want = cols[1], nil, nil
  if fn == "hexdiff" then
    got, want = sf.hexdiff(unhex(cols[2]), unhex(cols[3])), unesc(cols[4])
    -- Scapy's hexdiff raises IndexError past a line of gaps only; sflua
    -- prints it: what matters is that it gives text
    if want == "!IndexError" and type(got) == "string" then return nil end
  elseif fn == "hexcap" then
    got, want = hex(sf.import_hexcap(unesc(cols[3]))), cols[4]
    local raw = sf.Raw.from_hexdump(unesc(cols[3]))
    if got == want and hex(raw.load) ~= want then got = "Raw.from_hexdump: " .. hex(raw.load) end
    fn = fn .. " " .. cols[2]
  else
    local x, opts = unhex(cols[2]), {onlyasc = cols[3] == "1", onlyhex = cols[4] == "1"}
    if fn == "chexdump" then got = sf.chexdump(x)
    elseif fn == "hexdump" then got = sf.hexdump(x)
    else got = sf[fn](x, opts) end
    want = unesc(cols[5])
  end
  if got ~= want then
    return ("%s: Scapy %q, sflua %q"):format(fn, want:sub(1, 400), got:sub(1, 400))
  end
end

if arg and arg[0] and arg[0]:find("check_hex") and arg[1] then
  local n, bad, maxshow, kinds = 0, 0, tonumber(arg[2] or 10), {}
  for line in io.lines(arg[1]) do
    if line ~= "" and not line:find("^#") then
      n = n + 1
      local k = line:match("^(%w+)") .. (line:match("^hexcap\t(%w+)") and (" " .. line:match("^hexcap\t(%w+)")) or "")
      kinds[k] = (kinds[k] or 0) + 1
      local why = M.check(line)
      if why then
        bad = bad + 1
        if bad <= maxshow then print(("line %d: %s"):format(n, why)) end
      end
    end
  end
  local ks = {}
  for k, c in pairs(kinds) do ks[#ks + 1] = ("%s %d"):format(k, c) end
  table.sort(ks)
  print(("%d cases (%s), %d differ from Scapy"):format(n, table.concat(ks, ", "), bad))
  os.exit(bad == 0 and n > 0 and 0 or 1)
end
return M
