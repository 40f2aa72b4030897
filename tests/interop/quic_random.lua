-- quic_random.lua: random QUIC packets built by sflua, for tshark to read
-- (tests/interop/quic_random.sh; Scapy 2.5 has no QUIC layer, so tshark
-- is the oracle): long headers of every type with random connection IDs,
-- tokens, versions (v1, v2, a reserved one) and packet numbers, Version
-- Negotiation and Retry, coalesced packets, and client Initials whose
-- random frames (CRYPTO with a ClientHello, PING, ACK with ranges and ECN
-- counts, CONNECTION_CLOSE, PADDING) are encrypted so that tshark decrypts
-- them.  Each packet has its own UDP source port and connection IDs.
--   sflua tests/interop/quic_random.lua OUT.pcap SEED [N]
-- As a module: M.packets(seed, n) -> list of Packets.
local sf = require("stackforge")

local M = {}

local R = math.random

local function bytes(n)
  local t = {}
  for i = 1, n do t[i] = string.char(R(0, 255)) end
  return table.concat(t)
end

local VERSIONS = {1, 1, 0x6b3343cf, 0x1a2a3a4a}

local function varint_value()
  local w = R(1, 4)
  return R(0, ({63, 16383, 1073741823, 0x3fffffff})[w])
end

local function pn() local w = R(1, 4) return R(0, (1 << (8 * w)) - 1) end

-- a long header (not Initial) with a protected payload of random bytes
local function long_header(cls, version, dcid)
  local h = cls{Version = version, DstConnID = dcid or bytes(R(0, 20)), SrcConnID = bytes(R(0, 20)),
    PacketNumber = pn(), Reserved = 0}
  return h / sf.QUIC_Protected{data = bytes(R(20, 120))}
end

local function initial_protected(version, dcid)
  return sf.QUIC_Initial{Version = version, DstConnID = dcid or bytes(R(0, 20)), SrcConnID = bytes(R(0, 20)),
    Token = bytes(R(0, 1) == 1 and R(1, 60) or 0), PacketNumber = pn()}
    / sf.QUIC_Protected{data = bytes(R(20, 200))}
end

-- random frames after a ClientHello
local function frames()
  local s
  local function add(f) s = s and s / f or f end
  for _ = 1, R(0, 3) do
    local k = R(1, 3)
    if k == 1 then add(sf.QUIC_PING())
    elseif k == 2 then
      local count = R(0, 2)
      local ranges = {}
      for i = 1, 2 * count do ranges[i] = string.char(R(0, 63)) end
      local largest = R(1000, 100000)
      local ack = {type = R(2, 3), largest_acknowledged = largest, ack_delay = varint_value(),
        first_ack_range = R(0, 10), ack_ranges = table.concat(ranges)}
      if ack.type == 3 then
        ack.ect0_count, ack.ect1_count, ack.ecn_ce_count = R(0, 100), R(0, 100), R(0, 100)
      end
      add(sf.QUIC_ACK(ack))
    else
      add(sf.QUIC_CONNECTION_CLOSE{type = 0x1c, error_code = R(0, 0x10), frame_type = R(0, 30),
        reason_phrase = ("reason%d"):format(R(0, 999))})
    end
  end
  return s
end

local function host()
  local parts = {}
  for i = 1, R(1, 3) do parts[i] = ("n%d"):format(R(0, 99999)) end
  return table.concat(parts, ".") .. ".sflua.test"
end

-- a client's first Initial, encrypted: tshark opens it
local function client_initial(version)
  local plain = sf.quic_initial{sni = host(), alpn = R(0, 1) == 1 and {"h3"} or {"h3", "hq-interop"},
    version = version, dcid = bytes(R(8, 20)), scid = bytes(R(0, 20)), pn = R(0, 3), plain = true,
    random = bytes(32), key_share = bytes(32)}
  local f = frames()
  if not f then
    plain[sf.QUIC_Initial]:encrypt()
    return plain
  end
  -- the frames go before the padding: built again around them
  local head = plain[sf.QUIC_Initial]
  local _, off, hl = plain:_layer_info(2)
  local crypto = plain:bytes():sub(off + hl + 1, off + hl + plain[sf.QUIC_CRYPTO].length)
  local s = sf.QUIC_Initial{Version = version, DstConnID = head.DstConnID, SrcConnID = head.SrcConnID,
    PacketNumber = head.PacketNumber} / sf.QUIC_CRYPTO{offset = 0} / sf.Packet(crypto, {proto = "TLSClientHello"})
    / f
  local short = 1200 - (#s:bytes() + 16)
  if short > 1 then s = s / sf.QUIC_PADDING{padding = ("\0"):rep(short - 2)} end
  local p = s:build()
  p[sf.QUIC_Initial]:encrypt()
  return p
end

local function datagram(i, quic)
  return sf.Ether{src = "02:00:00:00:00:01", dst = "02:00:00:00:00:02"}
    / sf.IP{src = "10.0.0.1", dst = "10.0.0.2"} / sf.UDP{sport = 10000 + i, dport = 443} / quic
end

function M.packets(seed, n)
  math.randomseed(seed)
  local out = {}
  for i = 1, n do
    local k, v = R(1, 8), VERSIONS[R(1, #VERSIONS)]
    local q
    if k == 1 then q = initial_protected(v)
    elseif k == 2 then q = long_header(sf.QUIC_Handshake, v)
    elseif k == 3 then q = long_header(sf.QUIC_0RTT, v)
    elseif k == 4 then
      q = sf.QUIC_Retry{Version = v == 0x1a2a3a4a and 1 or v, DstConnID = bytes(R(0, 20)),
        SrcConnID = bytes(R(1, 20)), RetryToken = bytes(R(1, 80)), RetryIntegrityTag = bytes(16)}
    elseif k == 5 then
      local list = {}
      for j = 1, R(1, 4) do list[j] = ({1, 0x6b3343cf, 0xff00001d, 0x0a0a0a0a})[R(1, 4)] end
      q = sf.QUIC_Version{DstConnID = bytes(R(0, 20)), SrcConnID = bytes(R(0, 20)), SupportedVersions = list,
        Unused = R(0, 127)}
    elseif k == 6 then  -- coalesced: an Initial and a Handshake of one connection
      local dcid = bytes(R(1, 20))
      q = initial_protected(1, dcid) / long_header(sf.QUIC_Handshake, 1, dcid)
    else
      q = client_initial(({1, 1, 0x6b3343cf})[R(1, 3)])
    end
    out[i] = datagram(i, q):build()
  end
  return out
end

if arg and arg[0] and arg[0]:match("quic_random%.lua$") then
  local out, seed, n = arg[1], tonumber(arg[2]), tonumber(arg[3] or 300)
  sf.wrpcap(out, M.packets(seed, n))
end

return M
