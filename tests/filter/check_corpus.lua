-- check_corpus.lua [GOLDEN]: sflua's answers to the filter corpus against
-- tshark's (tests/filter/golden.tsv, or GOLDEN); prints each difference and
-- "N passed, M failed".  Run by sflua (ctest filter_corpus) and by
-- tests/lua/dfilter_spec.lua.
local dfilter = require("stackforge.dfilter")
local sf = require("stackforge")

local M = {}

local function ranges(list)
  local out, i = {}, 1
  while i <= #list do
    local j = i
    while j < #list and list[j + 1] == list[j] + 1 do j = j + 1 end
    out[#out + 1] = i == j and tostring(list[i]) or (list[i] .. "-" .. list[j])
    i = j + 1
  end
  return table.concat(out, ",")
end

-- {filter=, expect=} for each golden line
function M.load(path)
  local cases = {}
  for line in io.lines(path) do
    local f, frames = line:match("^(.-)\t(.*)$")
    if f then cases[#cases + 1] = {filter = f, expect = frames} end
  end
  return cases
end

-- sflua's answer: frames in ranges, or ERROR
function M.answer(pkts, text)
  local f = dfilter.compile(text)
  if not f then return "ERROR" end
  local hits = {}
  for _, p in ipairs(pkts) do
    if f(p) then hits[#hits + 1] = p.frame_number end
  end
  return ranges(hits)
end

function M.run(capture, golden)
  local pkts = sf.rdpcap(capture)
  local pass, fails = 0, {}
  for _, c in ipairs(M.load(golden)) do
    local got = M.answer(pkts, c.filter)
    if got == c.expect then pass = pass + 1
    else fails[#fails + 1] = ("%s\n    tshark: %s\n    sflua:  %s"):format(c.filter, c.expect, got) end
  end
  return pass, fails
end

if arg and arg[0] and arg[0]:match("check_corpus%.lua$") then
  local here = arg[0]:match("^(.*)/") or "."
  local pass, fails = M.run(here .. "/../data/filter_corpus.pcapng", arg[1] or here .. "/golden.tsv")
  for _, f in ipairs(fails) do print("DIFF " .. f) end
  print(("%d passed, %d failed"):format(pass, #fails))
  os.exit(#fails == 0 and 0 or 1)
end

return M
