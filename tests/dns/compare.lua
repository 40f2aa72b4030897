-- compare.lua CAPTURE [TSV] [PORT]: sflua's dns.* values against tshark's,
-- packet by packet and field by field (tests/dns/tshark_dns.lua says how
-- each is read).  Without TSV (or with "-"), tshark is run on the capture
-- now.  PORT: DNS is also bound to that UDP and TCP port (a test server's).
-- Exit 1 on any difference (the first ones are printed).
local here = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path
local T = require("tshark_dns")
local sf = require("stackforge")
local cap, tsv, port = arg[1], arg[2] ~= "-" and arg[2] or nil, tonumber(arg[3])
if port then T.bind(sf, port) end
local lines = {}
if tsv then
  for line in io.lines(tsv) do lines[#lines + 1] = line end
else
  local args = {}
  for _, f in ipairs(T.fields) do args[#args + 1] = "-e " .. f end
  local dec = port and ("-d udp.port==%d,dns -d tcp.port==%d,dns"):format(port, port) or ""
  local pipe = assert(io.popen(("tshark -n -r '%s' " .. dec .. " -T fields -E separator=/t -E occurrence=a -E aggregator=, %s 2>/dev/null")
    :format(cap, table.concat(args, " "))))
  lines[1] = table.concat(T.fields, "\t")
  for line in pipe:lines() do lines[#lines + 1] = line end
  pipe:close()
end
local bad, n, checked = T.compare(cap, lines, sf)
for i = 1, math.min(#bad, 20) do print(bad[i]) end
print(("%s: %d packets, %d values compared with tshark's, %d differ"):format(cap, n, checked, #bad))
os.exit(#bad == 0 and n > 0 and 0 or 1)
