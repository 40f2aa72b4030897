-- gen_stream.lua: one TCP conversation carrying MB megabytes from client to
-- server (1460-byte segments, an ACK every second one), as a pcap.
-- Usage: lua5.4|sflua bench/gen_stream.lua OUT.pcap|- MB
-- For bench/bigstream.sh: how much memory a stream of that size costs when
-- on_flow reads it whole or in chunks (conv:chunks).
local out, mb = arg[1], tonumber(arg[2] or "")
if not (out and mb) then
  io.stderr:write("usage: gen_stream.lua OUT.pcap|- MB\n")
  os.exit(2)
end
local f = out == "-" and io.stdout or assert(io.open(out, "wb"))
local pack = string.pack
local MAC = "\2\0\0\0\0\1\2\0\0\0\0\2\8\0"
local C, S, CP, SP = 0x0a000001, 0x0a000002, 40000, 80
local us = 1700000000 * 1000000
local buf, nbuf = {}, 0
local function tcp(src, dst, sport, dport, seq, ack, flags, payload)
  payload = payload or ""
  local frame = MAC .. pack(">BBI2I2I2BBI2I4I4", 0x45, 0, 40 + #payload, 0, 0x4000, 64, 6, 0, src, dst)
    .. pack(">I2I2I4I4BBI2I2I2", sport, dport, seq & 0xffffffff, ack & 0xffffffff, 0x50, flags, 65535, 0, 0)
    .. payload
  if #frame < 60 then frame = frame .. ("\0"):rep(60 - #frame) end
  us = us + 10
  nbuf = nbuf + 1
  buf[nbuf] = pack("<I4I4I4I4", us // 1000000, us % 1000000, #frame, #frame) .. frame
  if nbuf >= 4096 then f:write(table.concat(buf, "", 1, nbuf)); nbuf = 0 end
end
f:write(pack("<I4I2I2i4I4I4I4", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
local cs, ss = 1000, 9000
tcp(C, S, CP, SP, cs, 0, 0x02); tcp(S, C, SP, CP, ss, cs + 1, 0x12); tcp(C, S, CP, SP, cs + 1, ss + 1, 0x10)
cs, ss = cs + 1, ss + 1
local seg = {}
for i = 0, 255 do seg[i + 1] = string.char(i) end
local block = table.concat(seg):rep(6):sub(1, 1460)  -- 1460 bytes, offset-dependent below
local total, sent, k = math.floor(mb * 1000000), 0, 0
while sent < total do
  local n = math.min(1460, total - sent)
  local b = block:sub(1 + sent % 256, n + sent % 256)
  if #b < n then b = b .. block:sub(1, n - #b) end
  tcp(C, S, CP, SP, cs + sent, ss, 0x18, b)
  sent = sent + n
  k = k + 1
  if k % 2 == 0 then tcp(S, C, SP, CP, ss, cs + sent, 0x10) end
end
tcp(C, S, CP, SP, cs + sent, ss, 0x11); tcp(S, C, SP, CP, ss, cs + sent + 1, 0x11)
tcp(C, S, CP, SP, cs + sent + 1, ss + 1, 0x10)
if nbuf > 0 then f:write(table.concat(buf, "", 1, nbuf)) end
if f ~= io.stdout then f:close() else f:flush() end
