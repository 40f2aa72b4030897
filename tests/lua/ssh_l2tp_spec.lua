-- SSH (core/proto/ssh.c), L2TPv2 (core/proto/l2tp.c) and PPP
-- (core/proto/ppp.c): captures read as tshark reads them (the references
-- tests/interop/ssh_live.sh and l2tp_live.sh recorded, and captures from
-- Scapy's and tcpdump's test suites), hassh, builds, bad input.
local sf = require("stackforge")
local h = require("helpers")
local compare = dofile("tests/interop/ws_compare.lua").compare

local function names(p)
  local t = {}
  for i = 1, p.layer_count do t[i] = require("stackforge.layers").protos[p:_layer_info(i) + 1].name end
  return table.concat(t, "/")
end

local function agrees(pcap)
  local n, bad = compare(h.path(pcap), h.path(pcap .. ".tsv"))
  assert.are.same({}, bad)
  return n
end

describe("SSH", function()
  it("reads OpenSSH's key exchanges as tshark does, field by field", function()
    assert.is_true(agrees("ssh_openssh.pcap") >= 150)
    assert.is_true(agrees("ssh_ed25519.pcap") >= 50)
  end)

  it("computes hassh and hasshServer as Wireshark does", function()
    local ps = sf.rdpcap(h.path("ssh_ed25519.pcap"))
    local c, s = ps[8][sf.SSHKexInit], ps[9][sf.SSHKexInit]
    assert.are.equal("78c05d999799066a2b4554ce7b1585a6", c.hassh)
    assert.are.equal("a984ff804585fabe3cd08f4b3849024a", s.hassh_server)
    local hash, str = sf.hassh(ps[8])
    assert.are.equal(c.hassh, hash)
    assert.are.equal(c.hassh_algorithms, str)
    assert.are.equal(s.hassh_server, (sf.hassh_server(ps[9])))
    assert.is_nil(sf.hassh(ps[1]))
    assert.has_error(function() sf.hassh(3) end, "bad argument #1 to 'hassh' (packet expected, got number)")
  end)

  it("splits several packets of a segment, encrypted after NEWKEYS", function()
    local ps = sf.rdpcap(h.path("ssh_ed25519.pcap"))
    assert.are.equal("Ether/IP/TCP/SSH/SSHKexDHReply/SSHPadding/SSH/SSHPadding/SSHEncrypted", names(ps[11]))
    assert.are.equal(21, ps[11]:layer(7).message_code)
    assert.are.equal("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u1", ps[4][sf.SSHVersion].version)
  end)

  it("builds a KEXINIT packet with its lengths filled in, and parses it back", function()
    local k = sf.SSH() / sf.SSHKexInit{cookie = ("\1"):rep(16), kex_algorithms = "curve25519-sha256,ext-info-c"}
      / sf.SSHPadding()
    local p = sf.Packet((sf.IP() / sf.TCP{sport = 40000} / k):bytes(), {proto = "IP"})
    assert.are.equal("IP/TCP/SSH/SSHKexInit/SSHPadding", names(p))
    assert.are.equal(22, p.dport)
    assert.are.equal(20, p.message_code)
    assert.are.equal(0, (p.packet_length + 4) % 8)  -- padding sized to the block
    assert.is_true(p.padding_length >= 4 and p.padding_length < 12)
    assert.are.equal(#k:bytes() - 4, p.packet_length)
    assert.are.equal(28, p.kex_algorithms_length)
    assert.are.equal("curve25519-sha256,ext-info-c;aes128-ctr;hmac-sha2-256;none", p.hassh_algorithms)
  end)

  it("hashes algorithm lists of any length (hassh of a 6 kB KEXINIT)", function()
    local algs = {}
    for i = 1, 300 do algs[i] = ("kex-algorithm-%04d"):format(i) end
    local k = sf.SSH() / sf.SSHKexInit{kex_algorithms = table.concat(algs, ",")} / sf.SSHPadding()
    local p = sf.Packet((sf.IP() / sf.TCP{sport = 40000} / k):bytes(), {proto = "IP"})
    local hash, text = sf.hassh(p)
    assert.is_true(#text > 5000)
    local name = os.tmpname()
    local f = assert(io.open(name, "wb"))
    f:write(text)
    f:close()
    local md5 = io.popen("openssl dgst -md5 -r " .. name):read("l"):match("^(%x+)")
    os.remove(name)
    assert.are.equal(md5, hash)
  end)

  it("finds a version line on any port, binary packets on port 22 only", function()
    local v = sf.Packet((sf.IP() / sf.TCP{sport = 1, dport = 2222} / "SSH-2.0-x\r\n"):bytes(), {proto = "IP"})
    assert.are.equal("IP/TCP/SSHVersion", names(v))
    assert.are.equal("SSH-2.0-x", v[sf.SSHVersion].version)
    local k = (sf.SSH() / sf.SSHKexInit() / sf.SSHPadding()):bytes()
    assert.are.equal("IP/TCP/Raw", names(sf.Packet((sf.IP() / sf.TCP{dport = 2222} / k):bytes(), {proto = "IP"})))
  end)

  it("keeps what parsed of a packet cut short, the rest Raw", function()
    local k = (sf.IP() / sf.TCP{sport = 40000, dport = 22} / sf.SSH() / sf.SSHKexInit() / sf.SSHPadding()):bytes()
    for cut = 47, #k - 1 do  -- from the first byte after the packet header
      local p = sf.Packet(k:sub(1, cut), {proto = "IP"})
      assert.is_true(p.truncated)
      assert.matches("^IP/TCP/SSH/", names(p))
      -- the rest Raw, unless the bytes end where the KEXINIT does
      assert.is_true(names(p):match("[^/]+$") == "Raw" or names(p):match("SSHKexInit$") ~= nil)
    end
  end)

  it("reads the messages of a reassembled stream, encrypted after NEWKEYS", function()
    local s = "SSH-2.0-a\r\n" .. (sf.SSH() / sf.SSHKexInit() / sf.SSHPadding()):bytes()
      .. (sf.SSH{message_code = 21} / sf.SSHPadding{padding = ("\0"):rep(10)}):bytes() .. "\1\2\3\4\5\6\7\8"
    local got = {}
    for m in sf.ssh_messages(s) do got[#got + 1] = names(m) end
    assert.are.same({"SSHVersion", "SSH/SSHKexInit/SSHPadding", "SSH/SSHPadding", "SSHEncrypted"}, got)
  end)

  it("reads the reassembled streams of sshd's connections, whole or in chunks", function()
    local c = sf.extract_flows(h.path("ssh_openssh.pcap"))[1]
    local fwd, rev = {}, {}
    for m, off in sf.ssh_messages(c.reassembled_forward) do fwd[#fwd + 1] = names(m) .. "@" .. off end
    for m in sf.ssh_messages(c:chunks("reverse", 100)) do rev[#rev + 1] = names(m) end
    assert.are.same({"SSHVersion@0", "SSH/SSHKexInit/SSHPadding@41", "SSH/SSHKexDHInit/SSHPadding@1169",
      "SSH/SSHPadding@1217", "SSHEncrypted@1233"}, fwd)
    assert.are.same({"SSHVersion", "SSH/SSHKexInit/SSHPadding", "SSH/SSHKexDHReply/SSHPadding",
      "SSH/SSHPadding", "SSHEncrypted"}, rev)
  end)
end)

describe("L2TP and PPP", function()
  it("read xl2tpd's tunnel set-up and tcpdump's capture as tshark does", function()
    assert.is_true(agrees("l2tp_xl2tpd.pcap") >= 150)
    assert.is_true(agrees("l2tp_avp_overflow.pcap") >= 200)
  end)

  it("read Scapy's packets (the golden set) as tshark does: PPP, LCP, IPCP, AVPs", function()
    assert.is_true(agrees("l2tp_scapy.pcap") >= 4000)
  end)

  it("name the message type and the AVPs", function()
    local ps = sf.rdpcap(h.path("l2tp_xl2tpd.pcap"))
    local p = ps[1]
    assert.are.equal("control+length+sequence", p[sf.L2TP].hdr:gsub("sequence%+length%+control", "control+length+sequence"))
    local a = p:layer(5)
    assert.are.equal(0, a.type)
    assert.are.equal(1, a.msg_type)   -- SCCRQ
    assert.matches("SCCRQ", p:show())
    local hosts = {}
    for i = 5, p.layer_count do
      local v = p:layer(i)
      if v.type == 7 then hosts[#hosts + 1] = v.host_name end
    end
    assert.are.same({"sflua-lac"}, hosts)
  end)

  it("build a control message with AVPs, lengths filled in", function()
    local c = sf.L2TP{hdr = "control+length+sequence", tunnel_id = 3, ns = 1}
      / sf.L2TP_AVP.message_type{msg_type = "SCCRQ"} / sf.L2TP_AVP.host_name{host_name = "lac"}
    local b = c:bytes()
    assert.are.equal("c802001d0003000000010000" .. "800800000000" .. "0001" .. "8009000000076c6163", h.hex(b):sub(1, 2 * #b))
    local u = sf.Packet((sf.IP() / sf.UDP() / c):bytes(), {proto = "IP"})
    assert.are.equal(1701, u.sport)
    assert.are.equal("IP/UDP/L2TP/L2TP_AVP/L2TP_AVP", names(u))
  end)

  it("carry PPP in data messages: HDLC, LCP options, IPCP, IPv4 and IPv6 by ppp.proto", function()
    local d = sf.IP() / sf.UDP() / sf.L2TP{tunnel_id = 1, session_id = 2} / sf.HDLC() / sf.PPP()
      / sf.PPP_LCP_Configure{id = 1} / sf.PPP_LCP_MRU_Option{max_recv_unit = 1400}
      / sf.PPP_LCP_Magic_Number_Option{magic_number = 0x01020304}
    local p = sf.Packet(d:bytes(), {proto = "IP"})
    assert.are.equal("IP/UDP/L2TP/HDLC/PPP/PPP_LCP_Configure/PPP_LCP_MRU_Option/PPP_LCP_Magic_Number_Option", names(p))
    assert.are.equal(0xc021, p[sf.PPP].proto)
    assert.are.equal(14, p[sf.PPP_LCP_Configure].len)
    local ip = sf.Packet((sf.PPP() / sf.IP()):bytes(), {proto = "PPP"})
    assert.are.equal("PPP/IP", names(ip))
    assert.are.equal("21", h.hex((sf.PPP() / sf.IP()):bytes()):sub(1, 2))  -- one byte, as Scapy writes it
    assert.are.equal("576", h.hex((sf.PPP() / sf.IPv6()):bytes()):sub(1, 3))  -- 0x57 is odd: one byte too
    assert.are.equal("PPP/IPv6", names(sf.Packet((sf.PPP() / sf.IPv6()):bytes(), {proto = "PPP"})))
    local ipcp = sf.Packet((sf.PPP() / sf.PPP_IPCP() / sf.PPP_IPCP_Option_IPAddress{data = "10.0.0.7"}):bytes(), {proto = "PPP"})
    assert.are.equal("10.0.0.7", ipcp[sf.PPP_IPCP_Option_IPAddress].data)
    assert.are.equal("PPP/PPP_LCP_Echo", names(sf.Packet((sf.PPP() / sf.PPP_LCP_Echo()):bytes(), {proto = "PPP"})))
  end)

  it("read link type 9 (PPP) with and without address and control", function()
    local a = sf.Packet((sf.HDLC() / sf.PPP() / sf.IP()):bytes(), {linktype = 9})
    assert.are.equal("HDLC/PPP/IP", names(a))
    local b = sf.Packet((sf.PPP() / sf.IP()):bytes(), {linktype = 9})
    assert.are.equal("PPP/IP", names(b))
  end)

  -- Scapy 2.5: IP(src='10.0.0.1',dst='10.0.0.2')/GRE_PPTP(call_id=7)/[HDLC()/]PPP()/
  -- IP(src='10.1.0.1',dst='10.1.0.2')/ICMP(); it dispatches ff 03 to HDLC
  it("ride PPTP's enhanced GRE (EtherType 0x880b), as Scapy builds and reads it", function()
    local inner = sf.IP{src = "10.1.0.1", dst = "10.1.0.2"} / sf.ICMP()
    local outer = sf.IP{src = "10.0.0.1", dst = "10.0.0.2"} / sf.GRE_PPTP{call_id = 7}
    local bare, framed = (outer / sf.PPP() / inner):bytes(), (outer / sf.HDLC() / sf.PPP() / inner):bytes()
    assert.are.equal("4500003900010000402f66930a0000010a0000022001880b001d0007214500001c00010000"
      .. "400166dc0a0100010a0100020800f7ff00000000", h.hex(bare))
    assert.are.equal("4500003b00010000402f66910a0000010a0000022001880b001f0007ff03214500001c0001"
      .. "0000400166dc0a0100010a0100020800f7ff00000000", h.hex(framed))
    assert.are.equal("IP/GRE_PPTP/PPP/IP/ICMP", names(sf.Packet(bare, {proto = "IP"})))
    assert.are.equal("IP/GRE_PPTP/HDLC/PPP/IP/ICMP", names(sf.Packet(framed, {proto = "IP"})))
  end)

  it("keep what parsed of bad input, the rest Raw", function()
    local b = (sf.L2TP{hdr = "control+length+sequence"} / sf.L2TP_AVP.host_name{host_name = "x"}):bytes()
    local bad = b:sub(1, 12) .. "\128\3" .. b:sub(15)  -- an AVP length of 3
    local p = sf.Packet(bad, {proto = "L2TP"})
    assert.are.equal("L2TP/Raw", names(p))
    local c = sf.Packet((sf.PPP() / sf.PPP_LCP_Configure() / sf.PPP_LCP_MRU_Option()):bytes():sub(1, 7), {proto = "PPP"})
    assert.is_true(c.truncated)
  end)
end)

describe("L2TP and PPP against Scapy 2.5", function()
  -- tests/interop/l2tp_random.sh builds a new random set with Scapy each
  -- run; here the set of its --golden seed, against Scapy's bytes kept
  it("builds them byte for byte and parses them back whole", function()
    local diffs, golden = h.random_golden("l2tp")
    assert.equal(300, #golden.hex)
    assert.same({}, diffs)
  end)
end)
