-- check_golden.lua: check sflua against a Scapy golden file, without busted.
--   lua5.4 tests/interop/check_golden.lua GOLDEN.lua [max-reports]
-- Prints the first mismatches and "N passed, M failed"; exit 1 on failure.
local sf = require("stackforge")
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local gc = dofile(here .. "/golden_check.lua")

local cases = dofile(assert(arg[1], "usage: check_golden.lua GOLDEN.lua"))
local max_reports = tonumber(arg[2]) or 10
local passed, failed = 0, 0
for n, case in ipairs(cases) do
  local errs = gc.check(sf, case)
  if #errs == 0 then
    passed = passed + 1
  else
    failed = failed + 1
    if failed <= max_reports then
      io.stderr:write(("case %d: %s\n  expr: %s\n  %s\n"):format(n, #errs > 1 and
        (#errs .. " mismatches") or "mismatch", case.expr, table.concat(errs, "\n  ")))
    end
  end
end
print(("sflua vs Scapy golden: %d passed, %d failed"):format(passed, failed))
os.exit(failed == 0 and 0 or 1)
