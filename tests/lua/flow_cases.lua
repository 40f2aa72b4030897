-- flow_cases.lua: handcrafted conversations, one per flow rule, built with
-- sflua.  Used by flow_spec.lua (extract_flows_from_packets) and by
-- tests/flow/make_rules.lua, which writes the oracle-friendly ones to
-- tests/data/flows_rules.pcap for tshark and tcpflow to judge.
local sf = require("stackforge")
local Ether, Dot1Q, IP, IPv6, TCP, UDP = sf.Ether, sf.Dot1Q, sf.IP, sf.IPv6, sf.TCP, sf.UDP

local M = {}

local MAC_A, MAC_B = "02:00:00:00:00:0a", "02:00:00:00:00:0b"

-- a frame at time t (seconds) from the layers given
local function at(t, stack)
  return sf.Packet(stack:bytes(), {time = t})
end
M.at = at

local function l3(v6, src, dst)
  if v6 then return IPv6{src = src, dst = dst} end
  return IP{src = src, dst = dst}
end

-- A TCP endpoint pair: c = client, s = server; seq numbers tracked per side.
function M.conn(o)
  local c = {
    v6 = o.v6, cip = o.cip or "10.0.0.1", sip = o.sip or "10.0.0.2",
    cport = o.cport or 40000, sport = o.sport or 80, vlan = o.vlan,
    seq = {c = o.cisn or 1000, s = o.sisn or 5000}, t = o.t or 1,
    pkts = {},
  }
  function c:frame(from, flags, data, seq)
    local src, dst = self.cip, self.sip
    local sp, dp = self.cport, self.sport
    local other = from == "c" and "s" or "c"
    if from == "s" then src, dst, sp, dp = dst, src, dp, sp end
    local eth = Ether{src = from == "c" and MAC_A or MAC_B, dst = from == "c" and MAC_B or MAC_A}
    local stack = eth
    if self.vlan then stack = stack / Dot1Q{vlan = self.vlan} end
    stack = stack / l3(self.v6, src, dst)
    if self.ext then stack = stack / sf.IPv6ExtHdrHopByHop() / sf.IPv6ExtHdrDestOpt() end
    local hdr = TCP{sport = sp, dport = dp, flags = flags, seq = (seq or self.seq[from]) & 0xffffffff,
                    ack = (self.seq[other]) & 0xffffffff}
    stack = stack / hdr
    if data and #data > 0 then stack = stack / data end
    self.t = self.t + 0.001
    local p = at(self.t, stack)
    self.pkts[#self.pkts + 1] = p
    return p
  end
  -- send in order: advances the sender's sequence
  function c:send(from, flags, data)
    local p = self:frame(from, flags, data)
    local n = data and #data or 0
    if flags:find("S") or flags:find("F") then n = n + 1 end
    self.seq[from] = self.seq[from] + n
    return p
  end
  function c:handshake()
    self:send("c", "S")
    self:send("s", "SA")
    self:send("c", "A")
  end
  function c:close()
    self:send("c", "FA")
    self:send("s", "FA")
    self:send("c", "A")
  end
  return c
end

local function udp(t, src, dst, sport, dport, data)
  return at(t, Ether{src = MAC_A, dst = MAC_B} / IP{src = src, dst = dst} /
               UDP{sport = sport, dport = dport} / (data or "q"))
end
M.udp = udp

local function chunk(n, c) return (c or "x"):rep(n) end

-- Each case: packets (in time order) and whether tshark/tcpflow agree on it.
function M.cases()
  local cases = {}
  local function add(name, pkts, oracle) cases[#cases + 1] = {name = name, pkts = pkts, oracle = oracle} end

  do  -- a whole conversation: handshake, data both ways, FIN close
    local c = M.conn{t = 10, cport = 40001}
    c:handshake()
    c:send("c", "PA", "GET / HTTP/1.0\r\n\r\n")
    c:send("s", "PA", "HTTP/1.0 200 OK\r\n\r\n" .. chunk(100, "a"))
    c:close()
    add("basic", c.pkts, true)
  end
  do  -- mid-stream: no handshake, the server speaks first
    local c = M.conn{t = 20, cport = 40002}
    c:send("s", "PA", "server first ")
    c:send("c", "A")
    c:send("c", "PA", "client data")
    c:send("s", "PA", "more")
    add("midstream", c.pkts, true)
  end
  do  -- port reuse: a closed tuple is opened again by a new SYN
    local c = M.conn{t = 30, cport = 40003}
    c:handshake(); c:send("c", "PA", "first"); c:close()
    c.seq.c, c.seq.s = 90000, 70000
    c:handshake(); c:send("c", "PA", "second"); c:close()
    add("port_reuse", c.pkts, true)
  end
  do  -- out of order, retransmission, overlap
    local c = M.conn{t = 40, cport = 40004}
    c:handshake()
    local base = c.seq.c
    c:frame("c", "PA", "BBBB", base + 4)         -- 2nd segment first
    c:frame("c", "PA", "AAAA", base)             -- the gap filled
    c:frame("c", "PA", "AAAA", base)             -- retransmission
    c:frame("c", "PA", "BBCC", base + 6)         -- overlap: keeps BB, adds CC
    c.seq.c = base + 10
    c:send("c", "PA", "DD")
    c:close()
    add("ooo_retrans_overlap", c.pkts, true)
  end
  do  -- sequence numbers wrap around 2^32 mid-stream
    local c = M.conn{t = 50, cport = 40005, cisn = 0xffffff00 - 1}
    c:handshake()
    for i = 1, 3 do c:send("c", "PA", chunk(200, string.char(64 + i))) end
    c:close()
    add("wraparound", c.pkts, true)
  end
  do  -- VLAN and IPv6
    local c = M.conn{t = 60, cport = 40006, v6 = true, cip = "2001:db8::1", sip = "2001:db8::2", vlan = 10}
    c:handshake(); c:send("c", "PA", "v6 data"); c:send("s", "PA", "reply"); c:close()
    add("vlan_ipv6", c.pkts, true)
  end
  do  -- IPv6 extension headers before TCP (tcpflow 1.6 does not walk them)
    local c = M.conn{t = 65, cport = 40009, v6 = true, cip = "2001:db8::1", sip = "2001:db8::2"}
    c.ext = true
    c:handshake(); c:send("c", "PA", "v6 ext"); c:send("s", "PA", "reply"); c:close()
    add("ipv6_ext", c.pkts, false)
  end
  do  -- reset
    local c = M.conn{t = 70, cport = 40007}
    c:handshake(); c:send("c", "PA", "x"); c:send("s", "R")
    add("reset", c.pkts, true)
  end
  do  -- UDP idle past udp_timeout: two conversations (one for tshark)
    add("udp_split", {udp(80, "10.0.0.1", "10.0.0.3", 5000, 53), udp(80.5, "10.0.0.3", "10.0.0.1", 53, 5000),
                      udp(300, "10.0.0.1", "10.0.0.3", 5000, 53)}, true)
  end
  do  -- ICMPv6 and ICMP echo: identifier-keyed, a reply lost
    local a, b = "2001:db8::10", "2001:db8::20"
    local p = {}
    for s = 1, 3 do
      p[#p + 1] = at(400 + s, Ether() / IPv6{src = a, dst = b} / sf.ICMPv6EchoRequest{id = 0x42, seq = s})
      if s ~= 2 then
        p[#p + 1] = at(400 + s + 0.01, Ether() / IPv6{src = b, dst = a} / sf.ICMPv6EchoReply{id = 0x42, seq = s})
      end
    end
    p[#p + 1] = at(405, Ether() / IP{src = "10.0.0.1", dst = "10.0.0.4"} / sf.ICMP.echo_request{id = 7, seq = 9})
    p[#p + 1] = at(405.1, Ether() / IP{src = "10.0.0.4", dst = "10.0.0.1"} / sf.ICMP.echo_reply{id = 7, seq = 9})
    add("icmp_echo", p, true)
  end
  do  -- another IP protocol (GRE): an "Other" flow
    add("other", {at(500, Ether() / IP{src = "10.0.0.1", dst = "10.0.0.5", proto = 47} / "gre"),
                  at(500.1, Ether() / IP{src = "10.0.0.5", dst = "10.0.0.1", proto = 47} / "gre")}, true)
  end
  do  -- SYN flood: half-open conversations that time out
    local p = {}
    for i = 1, 50 do
      p[#p + 1] = at(600 + i * 0.01, Ether() / IP{src = "10.9.0." .. i, dst = "10.0.0.9"} /
                     TCP{sport = 1024 + i, dport = 80, flags = "S", seq = i * 1000})
    end
    p[#p + 1] = udp(620, "10.0.0.1", "10.0.0.3", 5001, 53)  -- time moves on
    add("syn_flood", p, true)
  end
  do  -- endless out-of-order: the first segment never comes
    local c = M.conn{t = 700, cport = 40008}
    c:handshake()
    local base = c.seq.c
    for i = 1, 300 do c:frame("c", "PA", chunk(10), base + i * 10) end
    add("endless_ooo", c.pkts, false)  -- tcpflow writes the holes as NULs
  end
  return cases
end

-- every case's packets, in time order
function M.all(only_oracle)
  local out = {}
  for _, c in ipairs(M.cases()) do
    if c.oracle or not only_oracle then
      for _, p in ipairs(c.pkts) do out[#out + 1] = p end
    end
  end
  table.sort(out, function(a, b) return a.time < b.time end)
  return out
end

return M
