-- check_msgs.lua PROTO CAPTURE TSHARK_TSV: sflua's reading of a capture's
-- messages (mqtt or modbus) against tshark's (tshark_msgs.py); exit 1 on a
-- difference.  run_mosquitto.sh and run_pymodbus.sh call it.
local here = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path
local sf = require("stackforge")
local proto, capture, tsv = arg[1], arg[2], arg[3]
local mod = require(proto .. "_fields")
local n, diffs = mod.compare(mod.lines(sf, capture), mod.tshark_lines(tsv))
for _, d in ipairs(diffs) do print(d) end
print(("%s: %d messages, every field tshark shows compared: %d differ"):format(proto, n, #diffs))
os.exit(#diffs == 0 and n > 0 and 0 or 1)
