-- gen_tftp.lua SEED COUNT: random TFTP messages, one a line: Scapy's
-- expression, sflua's (Lua), and sflua's bytes in hex, tab-separated
-- (tests/iot/scapy_iot.py builds the first and compares).  Every class of Scapy's
-- scapy/layers/tftp.py, with random names, modes, options, blocks, errors
-- and data, over IP/UDP or alone, and the seed's one-layer form.
local seed, count = tonumber(arg[1]) or os.time(), tonumber(arg[2]) or 300
math.randomseed(seed)
local rnd = math.random

local NAMECH = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/"
local function word(lo, hi)
  local t = {}
  for i = 1, rnd(lo, hi) do local k = rnd(#NAMECH); t[i] = NAMECH:sub(k, k) end
  return table.concat(t)
end
local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
local function bytes(n)
  local t = {}
  for i = 1, n do t[i] = string.char(rnd(0, 255)) end
  return table.concat(t)
end
local function q(s) return '"' .. s .. '"' end  -- names use no quote or backslash

local OPTS = {"blksize", "tsize", "timeout", "windowsize", "rollover"}
local function options()
  local py, lua = {}, {}
  for i = 1, rnd(1, 4) do
    local name = rnd(4) == 1 and word(1, 12) or OPTS[rnd(#OPTS)]
    local value = tostring(rnd(0, 99999))
    py[i] = ("TFTP_Option(oname=%s, value=%s)"):format(q(name), q(value))
    lua[i] = ("TFTP_Option{oname=%s, value=%s}"):format(q(name), q(value))
  end
  return ("TFTP_Options(options=[%s])"):format(table.concat(py, ", ")),
    ("TFTP_Options{options={%s}}"):format(table.concat(lua, ", "))
end

local MODES = {"octet", "netascii", "mail", "OCTET"}
local function message()
  local kind = rnd(7)
  if kind <= 2 then  -- RRQ / WRQ
    local cls = kind == 1 and "TFTP_RRQ" or "TFTP_WRQ"
    local f, m = word(1, 40), MODES[rnd(#MODES)]
    local py = ("TFTP(op=%d)/%s(filename=%s, mode=%s)"):format(kind, cls, q(f), q(m))
    local lua = ("TFTP{op=%d}/%s{filename=%s, mode=%s}"):format(kind, cls, q(f), q(m))
    if rnd(3) == 1 then  -- the seed's form
      lua = ("TFTP{opcode=%d, filename=%s, mode=%s}"):format(kind, q(f), q(m))
    end
    if rnd(2) == 1 then
      local po, lo = options()
      py, lua = py .. "/" .. po, lua .. "/" .. lo
    end
    return py, lua
  elseif kind == 3 then
    local b, d = rnd(0, 65535), bytes(rnd(0, 3) == 0 and 512 or rnd(0, 600))
    local py = ("TFTP(op=3)/TFTP_DATA(block=%d)"):format(b)
    local lua = ("TFTP{op=3}/TFTP_DATA{block=%d}"):format(b)
    if #d > 0 then
      py = py .. ("/Raw(load=bytes.fromhex('%s'))"):format(hex(d))
      lua = lua .. ("/Raw.from_hex('%s')"):format(hex(d))
    end
    return py, lua
  elseif kind == 4 then
    local b = rnd(0, 65535)
    return ("TFTP(op=4)/TFTP_ACK(block=%d)"):format(b), ("TFTP{op=4}/TFTP_ACK{block=%d}"):format(b)
  elseif kind == 5 then
    local c, m = rnd(0, 8), word(0, 30)
    return ("TFTP(op=5)/TFTP_ERROR(errorcode=%d, errormsg=%s)"):format(c, q(m)),
      ("TFTP{op=5}/TFTP_ERROR{errorcode=%d, errormsg=%s}"):format(c, q(m))
  else  -- OACK with options
    local po, lo = options()
    return "TFTP(op=6)/TFTP_OACK()/" .. po, "TFTP{op=6}/TFTP_OACK()/" .. lo
  end
end

for _ = 1, count do
  local py, lua = message()
  if rnd(3) > 1 then  -- over IP/UDP, as sent
    local sport = rnd(1024, 65535)
    local dport = py:find("op=[12]") and 69 or rnd(1024, 65535)
    py = ("IP(src='10.0.0.1', dst='10.0.0.2')/UDP(sport=%d, dport=%d)/%s"):format(sport, dport, py)
    lua = ("IP{src='10.0.0.1', dst='10.0.0.2'}/UDP{sport=%d, dport=%d}/%s"):format(sport, dport, lua)
  end
  local p = assert(load("return " .. lua))()
  io.write(py, "\t", lua, "\t", hex(p:bytes()), "\n")
end
