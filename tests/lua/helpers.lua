-- helpers.lua: shared by the specs.  Reads classic pcap files (test data
-- only: the library's own readers are PcapReader/rdpcap) and converts
-- between sflua's and the oracles' spellings of values.
local layers = require("stackforge.layers")

local M = {}

M.datadir = os.getenv("SFLUA_TESTDATA") or "tests/data"

function M.path(name) return M.datadir .. "/" .. name end

-- A random-build generator's packets (tests/interop/NAME_random.lua) for
-- the seed of its golden set against Scapy's bytes kept there
-- (tests/data/NAME_random_golden.lua): the differences ({} when none), and
-- the golden set.
function M.random_golden(name)
  local golden = dofile(M.path(name .. "_random_golden.lua"))
  local gen = dofile("tests/interop/" .. name .. "_random.lua")
  local cases, scapy = gen.cases(golden.seed, golden.count), {}
  for i, c in ipairs(cases) do scapy[c[1]] = golden.hex[i] end
  return gen.check(cases, scapy), golden
end

function M.hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

function M.unhex(h)
  return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

-- {linktype=, packets={{data=, time=, wirelen=}...}} of a classic pcap
function M.read_pcap(path)
  local f = assert(io.open(path, "rb"))
  local d = f:read("a")
  f:close()
  local magic = string.unpack("<I4", d)
  local e = (magic == 0xa1b2c3d4 or magic == 0xa1b23c4d) and "<" or ">"
  local nano = magic == 0xa1b23c4d or magic == 0x4d3cb2a1
  local linktype = string.unpack(e .. "I4", d, 21)
  local pkts, pos = {}, 25
  while pos + 16 <= #d + 1 do
    local sec, frac, caplen, wirelen = string.unpack(e .. "I4I4I4I4", d, pos)
    local t = sec + frac / (nano and 1e9 or 1e6)
    pkts[#pkts + 1] = {data = d:sub(pos + 16, pos + 15 + caplen), time = t, wirelen = wirelen}
    pos = pos + 16 + caplen
  end
  return {linktype = linktype, packets = pkts}
end

-- TSV with a header line -> list of {field=value} (empty cells omitted)
function M.read_tsv(path)
  local rows, header = {}, nil
  for line in io.lines(path) do
    local cells = {}
    for c in (line .. "\t"):gmatch("([^\t]*)\t") do cells[#cells + 1] = c end
    if not header then
      header = cells
    else
      local row = {}
      for i, name in ipairs(header) do
        if cells[i] and cells[i] ~= "" then row[name] = cells[i] end
      end
      rows[#rows + 1] = row
    end
  end
  return rows
end

-- "SA" / "MF+DF" -> the number, from the field's flag names
function M.flags_number(ctor, field, s)
  for _, f in ipairs(layers.protos[ctor.kind + 1].fields) do
    if f.name == field then
      local n = 0
      for bit, name in pairs(f.flag_names) do
        local pat = #name == 1 and name or ("%f[%w]" .. name .. "%f[%W]")
        if s:find(pat) then n = n | (1 << bit) end
      end
      return n
    end
  end
  error("no flags field " .. field)
end

return M
