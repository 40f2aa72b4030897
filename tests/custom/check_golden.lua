-- check_golden.lua: every case of a custom-layer golden file, built and
-- parsed by sflua and compared with Scapy (run_scapy_custom.sh runs it).
--
--   lua5.4 tests/custom/check_golden.lua GOLDEN.lua
--
-- Prints the first mismatches; cases meeting a known bug (check_custom.lua
-- KNOWN) are counted apart.  Exit 0 when no other case fails.
local sf = require("stackforge")
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local defs = dofile(here .. "/defs.lua")(sf)
local ck = dofile(here .. "/check_custom.lua")(sf, defs)
defs.bind()

local golden = dofile(arg[1])
local n, bad, known, shown = 0, 0, 0, 0
for i, g in ipairs(golden) do
  for _, dir in ipairs({"build", "parse"}) do
    n = n + 1
    local errs = ck[dir](g)
    local why, maybe = ck.known(g, dir)
    if #errs == 0 and why and not maybe then
      print(("case %d %s passes now: drop its KNOWN entry (%s)"):format(i, dir, ck.known(g, dir)))
    end
    if #errs > 0 then
      local why = ck.known(g, dir)
      if why then
        known = known + 1
      else
        bad = bad + 1
        if shown < 15 then
          shown = shown + 1
          print(("case %d %s %s:\n  %s"):format(i, dir, ck.show(g.case), table.concat(errs, "\n  ")))
        end
      end
    end
  end
end
for name, err in pairs(defs.broken) do print("known bug: cannot define " .. name .. ": " .. err) end
print(("sflua: %d checks (%d cases x build/parse), %d failed, %d known bugs"):format(n, #golden, bad, known))
os.exit(bad == 0 and 0 or 1)
