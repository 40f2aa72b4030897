-- check_dhcp_golden.lua: sflua against a DHCP golden file (dhcp_oracle.py),
-- without busted.
--   lua5.4 tests/interop/check_dhcp_golden.lua GOLDEN.lua [max-reports]
-- Prints the first mismatches and "N passed, M failed"; exit 1 on failure.
local sf = require("stackforge")
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local gc = dofile(here .. "/dhcp_golden_check.lua")

local golden = dofile(assert(arg[1], "usage: check_dhcp_golden.lua GOLDEN.lua"))
local max_reports = tonumber(arg[2]) or 10
local passed, failed = 0, 0
for _, e in ipairs(gc.names(golden)) do
  failed = failed + 1
  io.stderr:write("option names: ", e, "\n")
end
for n, case in ipairs(golden.cases) do
  local errs = gc.check(sf, case, golden.names)
  if #errs == 0 then
    passed = passed + 1
  else
    failed = failed + 1
    if failed <= max_reports then
      io.stderr:write(("case %d: %s\n  %s\n"):format(n, case.expr, table.concat(errs, "\n  ")))
    end
  end
end
print(("sflua vs Scapy's DHCP: %d passed, %d failed"):format(passed, failed))
os.exit(failed == 0 and 0 or 1)
