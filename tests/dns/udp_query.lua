-- udp_query.lua HOST PORT NAME WANT: a DNS query built in sflua, sent over a
-- UDP socket (Debian's lua-socket); the answer, parsed by sflua, must hold
-- the A record WANT.  Exit 0 when it does, 1 otherwise, 77 without
-- lua-socket.
local ok, socket = pcall(require, "socket")
if not ok then print("SKIP: no lua-socket"); os.exit(77) end
local sf = require("stackforge")
local host, port, name, want = arg[1], tonumber(arg[2]), arg[3], arg[4]
local query = sf.DNS{id = 0x5f1a, rd = 1, qd = sf.DNSQR{qname = name, qtype = "A"}}
local u = assert(socket.udp())
u:settimeout(3)
assert(u:sendto(query:bytes(), host, port))
local raw = u:receive()
if not raw then print("no answer from " .. host .. ":" .. port); os.exit(1) end
local ans = sf.Packet(raw, {proto = "DNS"})
local dns = ans[sf.DNS]
local got = {}
for _, r in ipairs(dns.an) do got[#got + 1] = tostring(r.rdata) end
print(("answer %s: id 0x%04x qr %d rcode %s, %s"):format(ans:summary(), dns.id, dns.qr,
  tostring(dns.rcode), table.concat(got, " ")))
local found = false
for _, a in ipairs(got) do found = found or a == want end
os.exit(dns.id == 0x5f1a and dns.qr == 1 and found and 0 or 1)
