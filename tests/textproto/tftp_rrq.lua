-- A TFTP read request built in Lua (the seed's form), sent to tftpd-hpa on
-- 127.0.0.1: the server's first DATA block, from a port of its own to
-- ours, is what scenario.sh's capture must show (check.lua).
local rrq = IP{dst = "127.0.0.1"} / UDP{sport = 40069, dport = 69}
  / TFTP{opcode = 1, filename = "small.txt", mode = "octet"}
send(rrq)
print(rrq:summary())
