-- gen_traffic.lua: a realistic mixed capture, written with sflua itself.
-- Usage: sflua bench/gen_traffic.lua OUT.pcap SIZE [SEED] [--jitter=MS] [--truth=FILE]
--   SIZE: bytes of output (50M, 200k, 1G, 5000000) or packets (350000p)
--   SEED: integer (default 1); the same seed gives the same file, byte for byte
--   --jitter=MS: capture order is not sending order (multi-queue capture,
--     mirrored ports): each packet reaches the capture up to MS ms after it
--     was sent, uniformly, and is written in arrival order, so with MS above
--     the inter-packet gaps (12-250 us in flights) data often comes before
--     the handshake packets and an RST before late data.  The traffic (and
--     every byte sent) is the same as without jitter for the same seed.
--   --truth=FILE: the ground truth of every TCP conversation that ended
--     before the capture did, one JSON line each: client and server address
--     and port, VLAN, and for each way the length and bench/stream_hash.lua
--     digest of the bytes the application sent (tests/flow/check_truth.lua
--     compares extract_flows with it).
--
-- What it simulates (seen from a tap at a LAN's uplink, Ethernet, pcap in
-- microseconds): 200 hosts behind a gateway, some on 802.1Q VLANs 10 and 20,
-- talking to remote servers, a local DNS resolver and each other.  Sessions
-- start as a Poisson process and run concurrently; each is a coroutine that
-- yields its packets in time order, and a heap keyed by time interleaves
-- them, so memory stays bounded (the live sessions only) and timestamps are
-- monotonic.  About 20% of every kind of session is IPv6.
--   TCP (HTTPS as TLS records, HTTP/1.1 with Content-Length): handshake with
--     MSS/SAckOK/Timestamp/WScale, requests, responses in MSS-sized segments
--     sent in slow-start flights, client ACKs every second segment; ~0.5% of
--     data segments reordered (dup ACK with SACK, then the gap filled), ~0.3%
--     lost upstream (dup ACKs with SACK, fast retransmission), ~0.5% of
--     requests retransmitted after an RTO; teardown by FIN either way, RST,
--     or none; ~3% of connections refused (RST) or timing out (SYN retrans).
--   DNS over UDP 53: A/AAAA queries, answers with compression pointers,
--     CNAME chains, NXDOMAIN, ~1% lost and re-asked.
--   ICMP/ICMPv6 echo pairs (ping runs, some replies lost); traceroute
--     (time exceeded, port unreachable quoting the probe); tracepath (frag
--     needed / packet too big quoting the first 548 / 1232 bytes).
--   ARP who-has/is-at, ND neighbour solicitation/advertisement, router
--     solicitation/advertisement with prefix, MTU and link-layer options.
local sf = require("stackforge")
local Ether, Dot1Q, ARP, IP, IPv6, TCP, UDP, ICMP = sf.Ether, sf.Dot1Q,
  sf.ARP, sf.IP, sf.IPv6, sf.TCP, sf.UDP, sf.ICMP
local Packet, PcapWriter = sf.Packet, sf.PcapWriter
local E6Req, E6Rep = sf.ICMPv6EchoRequest, sf.ICMPv6EchoReply
local NS, NA, RS, RA = sf.ICMPv6ND_NS, sf.ICMPv6ND_NA, sf.ICMPv6ND_RS, sf.ICMPv6ND_RA
local SrcLL, DstLL = sf.ICMPv6NDOptSrcLLAddr, sf.ICMPv6NDOptDstLLAddr
local OptMTU, OptPrefix = sf.ICMPv6NDOptMTU, sf.ICMPv6NDOptPrefixInfo
local TimeExc6, Unreach6, PTB6 = sf.ICMPv6TimeExceeded, sf.ICMPv6DestUnreach, sf.ICMPv6PacketTooBig

local pos, opt = {}, {}
for _, a in ipairs(arg) do
  local k, v = a:match("^%-%-(%w+)=(.*)$")
  if k then opt[k] = v else pos[#pos + 1] = a end
end
local out, size_arg = pos[1], pos[2]
if not (out and size_arg) then
  io.stderr:write("usage: gen_traffic.lua OUT.pcap SIZE [SEED] [--jitter=MS] [--truth=FILE]   (SIZE: 50M, 200k, 350000p)\n")
  os.exit(2)
end
local seed = math.tointeger(tonumber(pos[3] or 1)) or error("SEED must be an integer")
local jitter_ns = math.floor((tonumber(opt.jitter or 0) or error("--jitter=MS: MS must be a number")) * 1e6)
local truth = opt.truth and assert(io.open(opt.truth, "wb"))
local stream_hash = truth and dofile((arg[0]:match("^(.*)/") or ".") .. "/stream_hash.lua")
local max_bytes, max_pkts = math.huge, math.huge
do
  local n, unit = size_arg:match("^(%d+%.?%d*)([kKmMgGpP]?)$")
  n = tonumber(n) or error("bad SIZE '" .. size_arg .. "' (like 50M or 350000p)")
  unit = unit:lower()
  if unit == "p" then max_pkts = math.floor(n)
  else max_bytes = math.floor(n * ({[""] = 1, k = 1e3, m = 1e6, g = 1e9})[unit]) end
end

-- ---- deterministic random numbers (splitmix64) --------------------------------
local rs = seed * 0x2545F4914F6CDD1D + 0x1234567
local function nxt()
  rs = rs + 0x9E3779B97F4A7C15
  local z = rs
  z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * 0x94D049BB133111EB
  return z ~ (z >> 31)
end
local function rnd(n) return (nxt() >> 1) % n end             -- 0 .. n-1
local function rf() return (nxt() >> 11) * (1.0 / 9007199254740992) end  -- [0,1)
local function chance(p) return rf() < p end
local function pick(t) return t[rnd(#t) + 1] end
local function expo(mean) return -mean * math.log(1 - rf()) end
local function between(a, b) return a + rnd(b - a + 1) end
local MS, US = 1000000, 1000
-- arrival jitter draws from its own stream, so the traffic is the same
local js = seed * 0x9E3779B97F4A7C15 + 0x7f4a7c15
local function jitter()
  js = js + 0x9E3779B97F4A7C15
  local z = js
  z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * 0x94D049BB133111EB
  z = z ~ (z >> 31)
  return math.floor(((z >> 11) * (1.0 / 9007199254740992)) * jitter_ns)
end
local function logu(lo, hi) return math.floor(math.exp(math.log(lo) + rf() * (math.log(hi) - math.log(lo)))) end

-- random bytes to cut payloads from
local POOL_N = 1 << 17
local POOL
do
  local t = {}
  for i = 1, POOL_N // 8 do t[i] = string.pack("<i8", nxt()) end
  POOL = table.concat(t)
  POOL = POOL .. POOL:sub(1, 20000)   -- so a cut of up to 20000 never wraps
end
local function rbytes(n)
  local parts = {}
  while n > 0 do
    local k = math.min(n, 20000)
    local o = rnd(POOL_N) + 1
    parts[#parts + 1] = POOL:sub(o, o + k - 1)
    n = n - k
  end
  return table.concat(parts)
end

-- ---- the network ---------------------------------------------------------------
local GW = {mac = "00:00:5e:00:01:01", ip4 = "10.1.0.1", ip6 = "2001:db8:1::1",
            ll = "fe80::200:5eff:fe00:101"}
local RESOLVER = {mac = "02:1a:2b:00:00:35", ip4 = "10.1.0.53", ip6 = "2001:db8:1::53"}
local hosts = {}
for i = 1, 200 do
  local a, b = i // 256, i % 256
  local v = rf()
  hosts[i] = {
    mac = ("02:1a:2b:%02x:%02x:%02x"):format(rnd(256), a, b),
    ip4 = ("10.1.%d.%d"):format(1 + a, b),
    ip6 = ("2001:db8:1::%x:%x"):format(0x1000 + rnd(0xe000), i),
    vlan = v < 0.08 and 10 or v < 0.15 and 20 or nil,
    port = between(32768, 60999),
  }
  local m = {hosts[i].mac:match("(%x+):(%x+):(%x+):(%x+):(%x+):(%x+)")}
  hosts[i].ll = ("fe80::%02x%s:%sff:fe%s:%s%s"):format(tonumber(m[1], 16) ~ 2, m[2], m[3], m[4], m[5], m[6])
end
local servers4, servers6 = {}, {}
local nets4 = {"93.184.%d.%d", "151.101.%d.%d", "142.250.%d.%d", "104.16.%d.%d",
               "13.107.%d.%d", "185.199.%d.%d", "52.84.%d.%d", "198.51.100.%d"}
for i = 1, 400 do
  local f = pick(nets4)
  servers4[i] = f:find("100%.%%d$") and f:format(1 + rnd(254)) or f:format(rnd(256), 1 + rnd(254))
  servers6[i] = ("2a00:1450:%x:%x::%x"):format(0x4000 + rnd(0x100), rnd(0x1000), 1 + rnd(0xffff))
end
local SUB = {"www", "api", "cdn", "img", "static", "mail", "login", "edge", "m", "assets"}
local DOM = {"example", "wikipedia", "debian", "openstreetmap", "kernel", "gnu", "python",
             "github", "fastly", "akamai", "mozilla", "lua", "wireshark", "tcpdump"}
local TLD = {"com", "org", "net", "io", "de", "fr", "info"}
local function hostname() return {pick(SUB), pick(DOM), pick(TLD)} end

local function next_port(h)
  h.port = h.port + 1
  if h.port > 60999 then h.port = 32768 end
  return h.port
end

-- ---- framing ---------------------------------------------------------------------
-- a frame from L2 endpoint a to b (tables with .mac); vlan from the local host
local function frame(srcmac, dstmac, vlan, upper)
  local e = Ether{src = srcmac, dst = dstmac}
  if vlan then e = e / Dot1Q{vlan = vlan} end
  local raw = (e / upper):bytes()
  if #raw < 60 then raw = raw .. ("\0"):rep(60 - #raw) end  -- as seen on a tap
  return raw
end

-- ---- DNS wire format -------------------------------------------------------------
local function qname(labels)
  local t = {}
  for i, l in ipairs(labels) do t[i] = string.pack("s1", l) end
  return table.concat(t) .. "\0"
end
local function dns_query(id, labels, qtype)
  return string.pack(">I2I2I2I2I2I2", id, 0x0100, 1, 0, 0, 0)
    .. qname(labels) .. string.pack(">I2I2", qtype, 1)
end
local function addr4_bytes() return string.pack("BBBB", pick{93, 151, 142, 104}, rnd(256), rnd(256), 1 + rnd(254)) end
local function addr6_bytes() return string.pack(">I4I4I4I4", 0x2a001450, nxt() & 0xffffffff, 0, 1 + rnd(0xffff)) end
-- the answer to dns_query(id, labels, qtype): NOERROR with A/AAAA (maybe
-- behind a CNAME), or NXDOMAIN
local function dns_response(id, labels, qtype)
  local q = qname(labels) .. string.pack(">I2I2", qtype, 1)
  if chance(0.05) then
    return string.pack(">I2I2I2I2I2I2", id, 0x8183, 1, 0, 0, 0) .. q
  end
  local rr = {}
  local target = 0xC00C          -- pointer to the question's name (offset 12)
  local an = 0
  if chance(0.25) then           -- www.example.com CNAME edgeN.<labels 2..> (compressed)
    local suffix_off = 12 + 1 + #labels[1]
    local rdata = string.pack("s1", ("edge%d"):format(rnd(100))) .. string.pack(">I2", 0xC000 | suffix_off)
    local cname_off = 12 + #q + 12  -- where rdata starts: after name ptr(2) type class ttl(4) rdlen
    rr[#rr + 1] = string.pack(">I2I2I2I4s2", 0xC00C, 5, 1, between(30, 3600), rdata)
    target = 0xC000 | cname_off
    an = an + 1
  end
  local nans = 1 + (chance(0.3) and rnd(3) or 0)
  for _ = 1, nans do
    local rdata = qtype == 28 and addr6_bytes() or addr4_bytes()
    rr[#rr + 1] = string.pack(">I2I2I2I4s2", target, qtype, 1, between(20, 86400), rdata)
    an = an + 1
  end
  return string.pack(">I2I2I2I2I2I2", id, 0x8180, 1, an, 0, 0) .. q .. table.concat(rr)
end

-- ---- sessions ----------------------------------------------------------------------
-- Each session is a function(t0) run as a coroutine; emit(t, raw) yields one
-- packet.  Times are ns and never decrease within a session.
local yield = coroutine.yield
local function emit(t, raw) yield(t, raw) end

local function l3hdr(v6, src, dst, ttl, id)
  if v6 then return IPv6{src = src, dst = dst, hlim = ttl} end
  return IP{src = src, dst = dst, ttl = ttl, id = id, flags = "DF"}
end

local function tcp_session(t)
  local h = pick(hosts)
  local v6 = chance(0.2)
  local S = {
    cip = v6 and h.ip6 or h.ip4, sip = v6 and pick(servers6) or pick(servers4),
    cport = next_port(h), sport = pick{443, 443, 443, 443, 443, 443, 443, 80, 80, 8080},
    rtt = logu(500 * US, 150 * MS), ts = chance(0.7),
    cisn = nxt() & 0xffffffff, sisn = nxt() & 0xffffffff,
    cipid = rnd(65536), sipid = rnd(65536), sttl = pick{64, 128, 255} - between(5, 25),
    tsc = nxt() & 0x3fffffff, tss = nxt() & 0x3fffffff,
    gap = logu(12 * US, 250 * US),   -- spacing of back-to-back segments
  }
  -- reordering and loss only on HTTPS: tshark (without out-of-order
  -- reassembly) may take HTTP body bytes after a hole for headers, and call
  -- the frame malformed
  S.lossy = S.sport == 443
  local t0 = t
  local ws = chance(0.9) and pick{7, 7, 8, 9, 10} or nil
  local mss_c = v6 and 1440 or 1460
  local mss_s = pick{mss_c, mss_c, 1400, 1380}
  local smss = math.min(mss_c, mss_s) - (S.ts and 12 or 0)
  local cwin = ws and 502 or 64240
  local swin = ws and pick{256, 501, 1024, 2048} or 65160
  local cseq, sseq = 1, 1        -- relative next sequence numbers
  local clast_tsv, slast_tsv = 0, 0
  local sent = {c = {}, s = {}}  -- what each side's application sent
  local function record()        -- the ground truth of this conversation
    if not truth then return end
    local c, s = table.concat(sent.c), table.concat(sent.s)
    truth:write(('{"client":"%s","cport":%d,"server":"%s","sport":%d,"vlan":%s,'
      .. '"fwd_len":%d,"fwd_hash":"%s","rev_len":%d,"rev_hash":"%s"}\n'):format(
      S.cip, S.cport, S.sip, S.sport, h.vlan or "null", #c, stream_hash(c), #s, stream_hash(s)))
  end

  local function tsopt(fromclient, tt)
    if not S.ts then return nil end
    local ms = (tt - t0) // MS
    if fromclient then
      clast_tsv = (S.tsc + ms) & 0xffffffff
      return clast_tsv, slast_tsv
    end
    slast_tsv = (S.tss + ms) & 0xffffffff
    return slast_tsv, clast_tsv
  end
  -- one segment; dir: true = client -> server
  local function seg(tt, dir, flags, seq, ack, payload, sack)
    local opts
    if S.ts then
      local a, b = tsopt(dir, tt)
      opts = {{"NOP"}, {"NOP"}, {"Timestamp", {a, b}}}
    end
    if sack then
      opts = opts or {}
      opts[#opts + 1] = {"NOP"}; opts[#opts + 1] = {"NOP"}
      opts[#opts + 1] = {"SAck", sack}
    end
    local l3, l4
    if dir then
      S.cipid = (S.cipid + 1) & 0xffff
      l3 = l3hdr(v6, S.cip, S.sip, 64, S.cipid)
      l4 = TCP{sport = S.cport, dport = S.sport, flags = flags, seq = (S.cisn + seq) & 0xffffffff,
               ack = ack and (S.sisn + ack) & 0xffffffff or 0, window = cwin, options = opts}
    else
      S.sipid = (S.sipid + 1) & 0xffff
      l3 = l3hdr(v6, S.sip, S.cip, S.sttl, S.sipid)
      l4 = TCP{sport = S.sport, dport = S.cport, flags = flags, seq = (S.sisn + seq) & 0xffffffff,
               ack = ack and (S.cisn + ack) & 0xffffffff or 0, window = swin, options = opts}
    end
    local up = l3 / l4
    if payload and #payload > 0 then up = up / payload end
    if dir then emit(tt, frame(h.mac, GW.mac, h.vlan, up))
    else emit(tt, frame(GW.mac, h.mac, h.vlan, up)) end
  end
  local function abs_sack(l, r) return {(S.sisn + l) & 0xffffffff, (S.sisn + r) & 0xffffffff} end

  -- handshake
  local synopts = {{"MSS", mss_c}, {"SAckOK", ""}}
  if S.ts then synopts[3] = {"Timestamp", {S.tsc, 0}} end
  synopts[#synopts + 1] = {"NOP"}
  if ws then synopts[#synopts + 1] = {"WScale", 7} end
  local function syn(tt)
    S.cipid = (S.cipid + 1) & 0xffff
    emit(tt, frame(h.mac, GW.mac, h.vlan, l3hdr(v6, S.cip, S.sip, 64, S.cipid)
      / TCP{sport = S.cport, dport = S.sport, flags = "S", seq = S.cisn, window = 64240, options = synopts}))
  end
  syn(t)
  local fate = rf()
  if fate < 0.015 then          -- refused: RST/ACK
    t = t + S.rtt
    seg(t, false, "RA", 0, 1)
    return record()
  elseif fate < 0.03 then       -- no answer: SYN retransmissions, then give up
    syn(t + 1000 * MS); syn(t + 3000 * MS)
    return record()
  end
  t = t + S.rtt
  do
    local o = {{"MSS", mss_s}, {"SAckOK", ""}}
    if S.ts then slast_tsv = S.tss; o[3] = {"Timestamp", {S.tss, S.tsc}} end
    o[#o + 1] = {"NOP"}
    if ws then o[#o + 1] = {"WScale", ws} end
    S.sipid = (S.sipid + 1) & 0xffff
    emit(t, frame(GW.mac, h.mac, h.vlan, l3hdr(v6, S.sip, S.cip, S.sttl, S.sipid)
      / TCP{sport = S.sport, dport = S.cport, flags = "SA", seq = S.sisn, ack = (S.cisn + 1) & 0xffffffff,
            window = 65160, options = o}))
  end
  t = t + between(20, 150) * US
  seg(t, true, "A", cseq, sseq)
  local cwnd = 10

  -- client -> server: a request (usually one segment)
  local function request(data)
    sent.c[#sent.c + 1] = data
    local off = 1
    while off <= #data do
      local chunk = data:sub(off, off + smss - 1)
      local last = off + #chunk > #data
      t = t + S.gap
      seg(t, true, last and "PA" or "A", cseq, sseq, chunk)
      if last and chance(0.005) then   -- lost beyond the tap: RTO retransmission
        t = t + math.max(200 * MS, 3 * S.rtt)
        seg(t, true, "PA", cseq, sseq, chunk)
      end
      cseq = cseq + #chunk
      off = off + #chunk
    end
  end
  -- server -> client: a response in flights of cwnd segments
  local function response(data)
    sent.s[#sent.s + 1] = data
    local segs, off = {}, 1
    while off <= #data do
      segs[#segs + 1] = {seq = sseq + off - 1, data = data:sub(off, off + smss - 1)}
      off = off + smss
    end
    local nseg = #segs
    local function flags_of(k) return k == nseg and "PA" or "A" end
    local function ack_end(k) return segs[k].seq + #segs[k].data end
    local i = 1
    local acked = 0  -- segments since the last client ACK
    while i <= nseg do
      local fstart = t
      local last = math.min(nseg, i + cwnd - 1)
      local j = i
      local lost = nil
      while j <= last do
        local d = math.max(1, S.gap // 4)
        if S.lossy and not lost and j < last and chance(0.005) then
          -- reordered: j+1 before j; dup ACK with SACK, then j fills the gap
          seg(t, false, flags_of(j + 1), segs[j + 1].seq, cseq, segs[j + 1].data)
          seg(t + d, true, "A", cseq, segs[j].seq, nil, abs_sack(segs[j + 1].seq, ack_end(j + 1)))
          t = t + S.gap
          seg(t, false, flags_of(j), segs[j].seq, cseq, segs[j].data)
          seg(t + d, true, "A", cseq, ack_end(j + 1))
          t = t + S.gap
          acked = 0
          j = j + 2
        elseif S.lossy and not lost and j < last and chance(0.003) then
          lost = j                   -- lost upstream of the tap
          t = t + S.gap
          j = j + 1
        else
          seg(t, false, flags_of(j), segs[j].seq, cseq, segs[j].data)
          if lost then               -- every segment after the hole: dup ACK + SACK
            seg(t + d, true, "A", cseq, segs[lost].seq, nil, abs_sack(segs[lost + 1].seq, ack_end(j)))
          else
            acked = acked + 1
            if acked == 2 or j == nseg then
              seg(t + d, true, "A", cseq, ack_end(j))
              acked = 0
            end
          end
          t = t + S.gap
          j = j + 1
        end
      end
      if lost then                   -- fast retransmission, about an RTT later
        t = math.max(t, fstart + S.rtt)
        seg(t, false, flags_of(lost), segs[lost].seq, cseq, segs[lost].data)
        t = t + math.max(1, S.gap // 4)
        seg(t, true, "A", cseq, ack_end(last))
        acked = 0
        cwnd = math.max(2, cwnd // 2)
      else
        cwnd = math.min(cwnd * 2, 128)
      end
      i = last + 1
      if i <= nseg then t = math.max(t, fstart + S.rtt) end
    end
    sseq = sseq + #data
  end

  local name = table.concat(hostname(), ".")
  local rounds = 1
  while chance(0.45) and rounds < 12 do rounds = rounds + 1 end
  for r = 1, rounds do
    t = t + (r == 1 and between(50, 2000) * US or math.floor(math.min(expo(300 * MS), 10000 * MS)))
    local size = chance(0.03) and logu(300000, 3000000) or logu(200, 300000)
    if S.sport == 443 then
      request(string.pack(">BI2s2", 23, 0x0303, rbytes(between(60, 900))))
      local recs, left = {}, size
      while left > 0 do
        local n = math.max(1, math.min(left, 16401))
        recs[#recs + 1] = string.pack(">BI2s2", 23, 0x0303, rbytes(n))
        left = left - n
      end
      t = t + S.rtt
      local think = math.floor(expo(8 * MS))
      if think > 5 * MS then
        seg(t, false, "A", sseq, cseq)
        t = t + think
      end
      response(table.concat(recs))
    else
      request(("GET /%s/%d HTTP/1.1\r\nHost: %s\r\nUser-Agent: gen_traffic/1.0\r\nAccept: */*\r\n\r\n")
        :format(pick{"img", "static", "api/v1", "download", "assets"}, rnd(100000), name))
      t = t + S.rtt
      local think = math.floor(expo(8 * MS))
      if think > 5 * MS then
        seg(t, false, "A", sseq, cseq)
        t = t + think
      end
      response(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n")
        :format(size) .. rbytes(size))
    end
  end
  -- teardown
  local how = rf()
  t = t + math.floor(math.min(expo(200 * MS), 5000 * MS))
  if how < 0.5 then              -- client closes
    seg(t, true, "FA", cseq, sseq); cseq = cseq + 1
    t = t + S.rtt
    seg(t, false, "FA", sseq, cseq); sseq = sseq + 1
    t = t + between(20, 150) * US
    seg(t, true, "A", cseq, sseq)
  elseif how < 0.75 then         -- server closes
    seg(t, false, "FA", sseq, cseq); sseq = sseq + 1
    t = t + between(30, 400) * US
    seg(t, true, "FA", cseq, sseq); cseq = cseq + 1
    t = t + S.rtt
    seg(t, false, "A", sseq, cseq)
  elseif how < 0.9 then          -- client aborts
    seg(t, true, "RA", cseq, sseq)
  end                            -- else: still open when the capture ends
  record()
end

local function dns_session(t)
  local h = pick(hosts)
  local v6 = chance(0.2)
  local cip, rip = v6 and h.ip6 or h.ip4, v6 and RESOLVER.ip6 or RESOLVER.ip4
  local port = next_port(h)
  local labels = hostname()
  local qtypes = chance(0.5) and {1, 28} or {chance(0.75) and 1 or 28}
  local function udp(tt, fromclient, payload)
    if fromclient then
      emit(tt, frame(h.mac, RESOLVER.mac, h.vlan,
        l3hdr(v6, cip, rip, 64, rnd(65536)) / UDP{sport = port, dport = 53} / payload))
    else
      emit(tt, frame(RESOLVER.mac, h.mac, h.vlan,
        l3hdr(v6, rip, cip, 64, rnd(65536)) / UDP{sport = 53, dport = port} / payload))
    end
  end
  for _, qt in ipairs(qtypes) do   -- A and AAAA go out together
    local id = rnd(65536)
    local q = dns_query(id, labels, qt)
    udp(t, true, q)
    if chance(0.01) then           -- no answer: ask again after the timeout
      t = t + 1000 * MS
      udp(t, true, q)
    end
    t = t + logu(200 * US, 60 * MS)
    udp(t, false, dns_response(id, labels, qt))
    t = t + between(10, 200) * US
  end
end

local PING_PAYLOAD = (function()   -- Linux ping: 8 bytes of time + 0x10..0x3f
  local t = {}
  for i = 0x10, 0x37 + 8 do t[#t + 1] = string.char(i) end
  return table.concat(t)
end)()

local function ping_session(t)
  local h = pick(hosts)
  local v6 = chance(0.2)
  local cip = v6 and h.ip6 or h.ip4
  local sip = chance(0.2) and (v6 and GW.ip6 or GW.ip4) or (v6 and pick(servers6) or pick(servers4))
  local rtt = (sip == GW.ip4 or sip == GW.ip6) and logu(100 * US, 2 * MS) or logu(2 * MS, 200 * MS)
  local id, n = rnd(65536), pick{1, 3, 4, 4, 5, 10}
  local ttl = pick{64, 128, 255} - between(5, 25)
  for seq = 1, n do
    local data = string.pack("<I4I4", (t // 1000000000) & 0xffffffff, (t // 1000 % 1000000)) .. PING_PAYLOAD
    local req, rep
    if v6 then
      req = IPv6{src = cip, dst = sip} / E6Req{id = id, seq = seq, data = data}
      rep = IPv6{src = sip, dst = cip, hlim = ttl} / E6Rep{id = id, seq = seq, data = data}
    else
      req = IP{src = cip, dst = sip, id = rnd(65536), flags = "DF"} / ICMP.echo_request{id = id, seq = seq} / data
      rep = IP{src = sip, dst = cip, id = rnd(65536), ttl = ttl} / ICMP.echo_reply{id = id, seq = seq} / data
    end
    emit(t, frame(h.mac, GW.mac, h.vlan, req))
    if not chance(0.03) then
      emit(t + rtt + rnd(rtt // 10 + 1), frame(GW.mac, h.mac, h.vlan, rep))
    end
    t = t + 1000 * MS + rnd(200 * US)
  end
end

-- traceroute (UDP probes, TTL 1..H: time exceeded, then port unreachable)
-- or tracepath (a 1500-byte DF probe: frag needed / packet too big)
local function icmp_error_session(t)
  local h = pick(hosts)
  local v6 = chance(0.2)
  local cip = v6 and h.ip6 or h.ip4
  local dst = v6 and pick(servers6) or pick(servers4)
  local sport = next_port(h)
  local function send(tt, ttl, dport, payload, id, qttl)
    qttl = qttl or 1
    local pk
    if v6 then pk = IPv6{src = cip, dst = dst, hlim = ttl} / UDP{sport = sport, dport = dport} / payload
    else pk = IP{src = cip, dst = dst, ttl = ttl, id = id, flags = ttl > 30 and "DF" or 0}
      / UDP{sport = sport, dport = dport} / payload end
    emit(tt, frame(h.mac, GW.mac, h.vlan, pk))
    -- what the hop that answers quotes: the datagram as it arrived
    if v6 then return (IPv6{src = cip, dst = dst, hlim = qttl} / UDP{sport = sport, dport = dport} / payload):bytes() end
    return (IP{src = cip, dst = dst, ttl = qttl, id = id, flags = ttl > 30 and "DF" or 0}
      / UDP{sport = sport, dport = dport} / payload):bytes()
  end
  local function reply(tt, from, icmp)
    local l3 = v6 and IPv6{src = from, dst = cip, hlim = 64 - rnd(20)} or IP{src = from, dst = cip, ttl = 64 - rnd(20), id = rnd(65536)}
    emit(tt, frame(GW.mac, h.mac, h.vlan, l3 / icmp))
  end
  if chance(0.25) then           -- tracepath: PMTU discovery
    local mtu = pick{1400, 1420, 1480, 1492}
    local q = send(t, 64, 44444, ("\0"):rep(v6 and 1452 or 1472), rnd(65536), 62)
    t = t + logu(1 * MS, 30 * MS)
    if v6 then reply(t, ("2001:db8:ffff::%x"):format(1 + rnd(100)), PTB6{mtu = mtu} / q:sub(1, 1232))
    else
      reply(t, ("100.64.%d.%d"):format(rnd(256), 1 + rnd(254)), ICMP.dest_unreach{code = 4, nexthopmtu = mtu} / q:sub(1, 548))
    end
    return
  end
  local hops, dport = between(3, 9), 33434
  local payload = "@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_"   -- Linux traceroute's 32 bytes
  local routers = {v6 and GW.ip6 or GW.ip4}
  for k = 2, hops - 1 do
    routers[k] = v6 and ("2001:db8:%x::%x"):format(0xff00 + k, 1 + rnd(255)) or ("100.64.%d.%d"):format(k, 1 + rnd(254))
  end
  local rtt = logu(300 * US, 2 * MS)
  for ttl = 1, hops do
    for _ = 1, 3 do
      local q = send(t, ttl, dport, payload, rnd(65536))
      dport = dport + 1
      local back = t + rtt + rnd(rtt // 5 + 1)
      if ttl < hops then
        if not chance(0.05) then
          reply(back, routers[ttl], v6 and TimeExc6{code = 0} / q or ICMP.time_exceeded{code = 0} / q)
        end
      else
        reply(back, dst, v6 and Unreach6{code = 4} / q or ICMP.dest_unreach{code = 3} / q)
      end
      t = back + between(50, 500) * US
    end
    rtt = rtt + logu(500 * US, 20 * MS)
  end
end

local function solicited(addr6)  -- ff02::1:ffXX:XXXX and its MAC, for a fe80::/2001: address
  local a, b = addr6:match(":(%x%x?):?(%x%x%x%x)$")
  if not a then a, b = "0", addr6:match("(%x+)$") end
  local low = ((tonumber(a, 16) or 0) << 16 | tonumber(b, 16)) & 0xffffff
  return ("ff02::1:ff%02x:%04x"):format(low >> 16, low & 0xffff),
         ("33:33:ff:%02x:%02x:%02x"):format(low >> 16, (low >> 8) & 0xff, low & 0xff)
end

-- ARP and neighbour discovery
local function neighbour_session(t)
  local h = pick(hosts)
  local other = chance(0.6) and {mac = GW.mac, ip4 = GW.ip4, ll = GW.ll} or pick(hosts)
  local kind = rf()
  if kind < 0.4 then             -- ARP who-has / is-at
    emit(t, frame(h.mac, "ff:ff:ff:ff:ff:ff", h.vlan,
      ARP{op = "who-has", hwsrc = h.mac, psrc = h.ip4, pdst = other.ip4}))
    t = t + logu(20 * US, 2 * MS)
    emit(t, frame(other.mac, h.mac, h.vlan,
      ARP{op = "is-at", hwsrc = other.mac, psrc = other.ip4, hwdst = h.mac, pdst = h.ip4}))
  elseif kind < 0.9 then         -- NS to the solicited-node group, NA back
    local grp, gmac = solicited(other.ll)
    emit(t, frame(h.mac, gmac, h.vlan, IPv6{src = h.ll, dst = grp, hlim = 255}
      / NS{tgt = other.ll} / SrcLL{lladdr = h.mac}))
    t = t + logu(20 * US, 2 * MS)
    emit(t, frame(other.mac, h.mac, h.vlan, IPv6{src = other.ll, dst = h.ll, hlim = 255}
      / NA{tgt = other.ll, R = other.mac == GW.mac and 1 or 0, S = 1, O = 1} / DstLL{lladdr = other.mac}))
  else                           -- RS, RA with prefix, MTU and source link-layer options
    emit(t, frame(h.mac, "33:33:00:00:00:02", h.vlan, IPv6{src = h.ll, dst = "ff02::2", hlim = 255}
      / RS() / SrcLL{lladdr = h.mac}))
    t = t + logu(100 * US, 5 * MS)
    emit(t, frame(GW.mac, "33:33:00:00:00:01", h.vlan, IPv6{src = GW.ll, dst = "ff02::1", hlim = 255}
      / RA{chlim = 64, routerlifetime = 1800} / SrcLL{lladdr = GW.mac} / OptMTU{mtu = 1500}
      / OptPrefix{prefixlen = 64, validlifetime = 2592000, preferredlifetime = 604800, prefix = "2001:db8:1::"}))
  end
end

-- session kinds and their share of session starts
local kinds = {
  {tcp_session, 40}, {dns_session, 36}, {ping_session, 8},
  {icmp_error_session, 5}, {neighbour_session, 11},
}
local kind_total = 0
for _, k in ipairs(kinds) do kind_total = kind_total + k[2] end
local function pick_kind()
  local x = rnd(kind_total)
  for _, k in ipairs(kinds) do
    if x < k[2] then return k[1] end
    x = x - k[2]
  end
end

-- ---- the scheduler: a min-heap of live sessions by next packet time ------------------
-- A binary min-heap under less: h.n items in h[1..n]; push and pop.
local function min_heap(less)
  local h = {n = 0}
  function h.push(e)
    h.n = h.n + 1
    local i = h.n
    h[i] = e
    while i > 1 and less(h[i], h[i // 2]) do h[i], h[i // 2] = h[i // 2], h[i]; i = i // 2 end
  end
  function h.pop()
    local top, n = h[1], h.n
    h[1] = h[n]; h[n] = nil; n = n - 1; h.n = n
    local i = 1
    while true do
      local l, r, m = 2 * i, 2 * i + 1, i
      if l <= n and less(h[l], h[m]) then m = l end
      if r <= n and less(h[r], h[m]) then m = r end
      if m == i then break end
      h[i], h[m] = h[m], h[i]
      i = m
    end
    return top
  end
  return h
end

local live = min_heap(function(a, b) return a.t < b.t or (a.t == b.t and a.id < b.id) end)

local nextid = 0
local function advance(e)      -- run the session to its next packet; false when done
  local ok, t, raw = coroutine.resume(e.co, e.t)
  if not ok then error(debug.traceback(e.co, t)) end
  if t == nil then return false end
  e.t, e.raw = t, raw
  return true
end
local function spawn(t0)
  nextid = nextid + 1
  local f = pick_kind()
  local e = {t = t0, id = nextid, co = coroutine.create(f)}
  if advance(e) then live.push(e) end
end

local MAX_LIVE = 400
local now = (1700000000 + seed % 100000 * 60) * 1000000000  -- ns since the epoch
local arrival = now
local ARRIVAL_MEAN = 4 * MS          -- a new session every 4 ms on average

local w <close> = PcapWriter(out, {linktype = 1})
local npk, nbytes, last_t = 0, 24, now

-- arrivals: with jitter, packets wait in a heap keyed by arrival time and
-- are written once no packet still to be sent can arrive before them
local arr = min_heap(function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end)
local function write(t, raw)
  local p = Packet(raw)
  assert(t >= last_t, "time went backwards")
  last_t = t
  p.time_ns = t
  w:write(p)
  nbytes = nbytes + 16 + #raw
end
local sent = 0
local function flush(upto)      -- write what has arrived by time upto
  while arr.n > 0 and arr[1][1] <= upto do
    local e = arr.pop()
    write(e[1], e[3])
  end
end

while npk < max_pkts and nbytes < max_bytes do
  while live.n < MAX_LIVE and (live.n == 0 or arrival <= live[1].t) do
    spawn(math.max(arrival, last_t))
    arrival = arrival + math.floor(expo(ARRIVAL_MEAN)) + 1
  end
  local e = live.pop()
  if jitter_ns > 0 then
    sent = sent + 1
    arr.push({e.t + jitter(), sent, e.raw})
    flush(e.t)                  -- nothing sent from now on arrives earlier
  else
    write(e.t, e.raw)
  end
  npk = npk + 1
  if advance(e) then live.push(e) end
end
flush(math.maxinteger)
-- sessions still live at the end are cut by it: they have no truth line
if truth then truth:close() end
w:close()
io.stderr:write(("gen_traffic: %d packets, %d bytes, %.1f s of traffic, seed %d%s -> %s\n")
  :format(npk, nbytes, (last_t - now) / 1e9, seed,
    jitter_ns > 0 and (", jitter %g ms"):format(jitter_ns / 1e6) or "", out))
