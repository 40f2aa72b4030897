-- make_overlap.lua: writes tests/data/flows_overlap.pcap, one TCP
-- conversation whose segments overlap with different bytes, to pin down
-- the overlap rule against tshark's "Follow TCP Stream" (its output is kept
-- in tests/data/flows_overlap.follow; tests/flow/check_follow.sh redoes it).
-- Stream offsets of the client's data, in arrival order:
--   A  0..9   "A"x10  in order
--   B  5..14  "b"x10  overlaps A: its first 5 bytes lose (delivered already)
--   C 20..29  "C"x10  held past the hole 15..19
--   D 17..26  "D"x10  held; starts earlier than C, arrives later
--   E 20..31  "E"x12  held; same start as C, longer, arrives later: C's
--                     bytes win where both are, E gives 30..31
--   F 15..17  "F"x3   fills to 18: D is reached first (it reaches the next
--                     byte), then C past D's end, then E past C's
--   G 35..44  "G"x10  held past 32..34
--   H 30..39  "H"x10  reaches the next byte: delivered at once, beats G
-- so the stream is A*10 b*5 F*3 D*9 C*3 E*2 H*8 G*5.
-- Usage (from the top of the tree): sflua tests/flow/make_overlap.lua [OUT]
package.path = "tests/lua/?.lua;" .. package.path
local sf = require("stackforge")
local cases = require("flow_cases")
local out = arg[1] or "tests/data/flows_overlap.pcap"
local c = cases.conn{t = 1, cport = 40100}
c:handshake()
local base = c.seq.c
for _, s in ipairs{{0, "A", 10}, {5, "b", 10}, {20, "C", 10}, {17, "D", 10}, {20, "E", 12},
                   {15, "F", 3}, {35, "G", 10}, {30, "H", 10}} do
  c:frame("c", "PA", s[2]:rep(s[3]), base + s[1])
end
c.seq.c = base + 45
c:send("s", "PA", "OK")
c:send("c", "FA")
c:send("s", "FA")
c:send("c", "A")
sf.wrpcap(out, c.pkts)
print("wrote " .. out)
