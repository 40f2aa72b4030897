-- check_text.lua: sflua's p:summary("scapy"), p:sprintf() and p:show2()
-- against the lines scapy_text.py wrote (HEX, LINKTYPE, Scapy's classes,
-- summary, sprintf of each format, show2), for the packets both dissect
-- into the same layers (the others are counted: a protocol one of them
-- lacks).  The formats are the golden file's header lines ("# " each,
-- after the line that ends "formats:").  The comparison itself is
-- tests/lua/scapy_text_check.lua's.
--   sflua check_text.lua GOLDEN [MAXSHOW [MINSAME]]
-- Exit 0 when all agree and at least MINSAME packets (default 0) were
-- compared, 1 otherwise.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = here .. "../lua/?.lua;" .. package.path
local check = require("scapy_text_check")

local golden, maxshow = arg[1], tonumber(arg[2] or 10)
local minsame = tonumber(arg[3] or 0)
local formats, cases = check.read_golden(golden)
local bad, same = 0, 0
for n, c in ipairs(cases) do
  local p = Packet(Raw.from_hex(c[1]).load, {linktype = tonumber(c[2])})
  if check.classes(p) == c[3] then
    same = same + 1
    for _, why in ipairs(check.differences(p, c, formats)) do
      bad = bad + 1
      if bad <= maxshow then print(("line %d, %s\n  hex %s"):format(n, why, c[1]:sub(1, 160))) end
    end
  end
end
print(("%d packets, %d dissected alike and compared, %d texts differ"):format(#cases, same, bad))
if same < minsame then print(("fewer than %d packets compared"):format(minsame)) end
os.exit((bad == 0 and same >= minsame) and 0 or 1)
