-- gen_synflood.lua: a SYN flood with live conversations inside, as a pcap.
-- Usage: lua5.4|sflua bench/gen_synflood.lua OUT.pcap|- NSYN [NLIVE]
--   NSYN SYNs from distinct (address, port) pairs to one server, 1 us apart
--   (so none reaches the 5 s half-open timeout while the flood lasts), and
--   NLIVE (default 100) established conversations that send 100 bytes every
--   20 ms from before the flood until after it, then close with FINs.
--   Plain Lua (string.pack), so it runs fast enough for millions of packets.
-- What a flow extractor under a memory budget must do with it: end the idle
-- SYN conversations early and keep every live one whole: Closed, with
-- rounds + 4 packets forward, rounds + 2 back, and rounds * 100 stream
-- bytes each way (rounds is printed on stderr).
local out, nsyn, nlive = arg[1], math.tointeger(tonumber(arg[2] or "")), math.tointeger(tonumber(arg[3] or 100))
if not (out and nsyn and nlive) then
  io.stderr:write("usage: gen_synflood.lua OUT.pcap|- NSYN [NLIVE]\n")
  os.exit(2)
end
local f = out == "-" and io.stdout or assert(io.open(out, "wb"))
local pack = string.pack
local MAC = "\2\0\0\0\0\1\2\0\0\0\0\2\8\0"  -- dst, src, IPv4
local SERVER = 0xc0000201                  -- 192.0.2.1
local T0 = 1700000000 * 1000000            -- microseconds
local US_PER_SYN, ROUND_US = 1, 20000

local buf, nbuf = {}, 0
local function flush()
  f:write(table.concat(buf, "", 1, nbuf))
  nbuf = 0
end
-- one Ethernet/IPv4/TCP frame, padded to 60 bytes as a tap sees it
local function tcp(us, src, dst, sport, dport, seq, ack, flags, payload)
  payload = payload or ""
  local iplen = 40 + #payload
  local frame = MAC .. pack(">BBI2I2I2BBI2I4I4", 0x45, 0, iplen, 0, 0x4000, 64, 6, 0, src, dst)
    .. pack(">I2I2I4I4BBI2I2I2", sport, dport, seq, ack, 0x50, flags, 65535, 0, 0) .. payload
  if #frame < 60 then frame = frame .. ("\0"):rep(60 - #frame) end
  nbuf = nbuf + 1
  buf[nbuf] = pack("<I4I4I4I4", us // 1000000, us % 1000000, #frame, #frame) .. frame
  if nbuf >= 4096 then flush() end
end

f:write(pack("<I4I2I2i4I4I4I4", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))

local SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01
local DATA = ("x"):rep(100)
local live = {}
for i = 1, nlive do
  live[i] = {ip = 0x0a800000 + i, port = 40000 + i % 20000, cseq = i * 1000, sseq = i * 7000}
end
local flood_us = nsyn * US_PER_SYN
local rounds = (flood_us + 2 * ROUND_US) // ROUND_US
-- live conversations: handshake before the flood
for i, c in ipairs(live) do
  local t = T0 + i
  tcp(t, c.ip, SERVER, c.port, 443, c.cseq, 0, SYN)
  tcp(t + 1, SERVER, c.ip, 443, c.port, c.sseq, c.cseq + 1, SYN | ACK)
  tcp(t + 2, c.ip, SERVER, c.port, 443, c.cseq + 1, c.sseq + 1, ACK)
  c.cseq, c.sseq = c.cseq + 1, c.sseq + 1
end
local start = T0 + ROUND_US
local k = 0              -- SYNs written
for r = 0, rounds - 1 do
  local round_t = start + r * ROUND_US
  -- the SYNs sent before this round's live traffic
  while k < nsyn and start + k * US_PER_SYN < round_t do
    local src = 0x0b000000 + k // 50000
    tcp(start + k * US_PER_SYN, src, SERVER, 1024 + k % 50000, 443, k * 2654435761 & 0xffffffff, 0, SYN)
    k = k + 1
  end
  for _, c in ipairs(live) do
    tcp(round_t, c.ip, SERVER, c.port, 443, c.cseq, c.sseq, PSH | ACK, DATA)
    c.cseq = c.cseq + 100
    tcp(round_t, SERVER, c.ip, 443, c.port, c.sseq, c.cseq, PSH | ACK, DATA)
    c.sseq = c.sseq + 100
  end
end
while k < nsyn do  -- none left in practice: the rounds outlast the flood
  tcp(start + k * US_PER_SYN, 0x0b000000 + k // 50000, SERVER, 1024 + k % 50000, 443, k, 0, SYN)
  k = k + 1
end
local t_end = start + rounds * ROUND_US
for _, c in ipairs(live) do
  tcp(t_end, c.ip, SERVER, c.port, 443, c.cseq, c.sseq, FIN | ACK)
  tcp(t_end + 1, SERVER, c.ip, 443, c.port, c.sseq, c.cseq + 1, FIN | ACK)
  tcp(t_end + 2, c.ip, SERVER, c.port, 443, c.cseq + 1, c.sseq + 1, ACK)
end
flush()
if f ~= io.stdout then f:close() else f:flush() end
io.stderr:write(("gen_synflood: %d SYNs, %d live conversations of %d rounds\n"):format(nsyn, nlive, rounds))
