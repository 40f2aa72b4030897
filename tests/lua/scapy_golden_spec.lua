-- sflua against Scapy, without Scapy: tests/data/scapy_golden.lua holds
-- random packets (tests/interop/gen_cases.lua, fixed seed) with the bytes
-- Debian's python3-scapy built for them and the fields Scapy dissected from
-- those bytes (tests/interop/scapy_oracle.py).  Regenerate with
-- tests/interop/run_scapy_crosscheck.sh --golden.
local sf = require("stackforge")
local h = require("helpers")

local gc = dofile(h.datadir .. "/../interop/golden_check.lua")
local cases = dofile(h.path("scapy_golden.lua"))

local function label(n, case)
  local names = {}
  for i, l in ipairs(case.spec) do names[i] = l[1] end
  return ("case %d: %s"):format(n, table.concat(names, " / "))
end

describe("Scapy golden packets", function()
  it("has at least 400 cases", function()
    assert.is_true(#cases >= 400)
  end)

  for n, case in ipairs(cases) do
    it(label(n, case) .. " builds to Scapy's bytes", function()
      local errs = gc.check_build(sf, case)
      assert(#errs == 0, case.expr .. "\n" .. table.concat(errs, "\n"))
    end)
    it(label(n, case) .. " parses to Scapy's fields", function()
      local errs = gc.check_parse(sf, case)
      assert(#errs == 0, case.expr .. "\n" .. table.concat(errs, "\n"))
    end)
  end
end)
