-- Live traffic in namespaces (tests/live/run_live.sh builds them and runs
-- this inside namespace A).  The oracles are other programs: tcpdump on
-- the peer, the peer's kernel (echo replies, resets, port unreachables,
-- ARP replies, listening sockets), traceroute(8).
local sf = require("stackforge")
local uv = require("luv")

local E = os.getenv
local A, B, C = E("NS_A"), E("NS_B"), E("NS_C")
local IF_A, IF_B = E("IF_A"), E("IF_B")
local IP_A, IP_B, IP_C = E("IP_A"), E("IP_B"), E("IP_C")
local IP6_A, IP6_B = E("IP6_A"), E("IP6_B")
local MAC_A, MAC_B = E("MAC_A"), E("MAC_B")
local TMP = E("LIVE_TMP")

local ns = require("tests.live.nsutil")
local sh, in_ns, spawn, wait_for, read, fd_count =
  ns.sh, ns.in_ns, ns.spawn, ns.wait_for, ns.read, ns.fd_count
local function tcpdump(nsname, iface, filter, name)
  return ns.tcpdump(TMP, nsname, iface, filter, name)
end

describe("sniff", function()
  it("captures exactly the kernel's pings that tcpdump sees", function()
    local stop = tcpdump(A, IF_A, "icmp", "sniff")
    local as = sf.AsyncSniffer{iface = IF_A, filter = "icmp"}
    as:start()
    os.execute(("ping -n -q -c 5 -i 0.05 %s >/dev/null"):format(IP_B))
    local mine = as:join(0.5)
    as:stop()
    local theirs = stop()
    assert.equal(10, #theirs)
    assert.equal(#theirs, #mine)
    for i = 1, #theirs do
      assert.equal(theirs[i]:bytes(), mine[i]:bytes())
      assert.is_true(math.abs(theirs[i].time - mine[i].time) < 0.01)
    end
  end)

  it("stops at count, at timeout, at stop_filter; prn and lfilter see each packet", function()
    os.execute(("ping -n -q -c 6 -i 0.05 %s >/dev/null &"):format(IP_B))
    local seen = 0
    local got = sf.sniff{iface = IF_A, filter = "icmp", count = 4, timeout = 5,
      prn = function() seen = seen + 1 end,
      lfilter = function(p) return p[sf.ICMP].type == 0 end}  -- replies only
    assert.equal(4, #got)
    assert.equal(4, seen)
    for _, p in ipairs(got) do assert.equal(0, p[sf.ICMP].type) end
    local t0 = uv.hrtime()
    local none = sf.sniff{iface = IF_A, filter = "udp port 7", timeout = 0.3}
    assert.equal(0, #none)
    assert.is_true((uv.hrtime() - t0) / 1e9 < 1)
    os.execute(("ping -n -q -c 3 -i 0.05 %s >/dev/null &"):format(IP_B))
    local first = sf.sniff{iface = IF_A, filter = "icmp", timeout = 5,
      stop_filter = function(p) return p[sf.ICMP].type == 0 end}
    assert.equal(0, first[#first][sf.ICMP].type)
    sf.sleep(0.3)
  end)

  it("reads a capture file with the same options (offline)", function()
    local stop = tcpdump(A, IF_A, "icmp", "offline")
    os.execute(("ping -n -q -c 2 -i 0.05 %s >/dev/null"):format(IP_B))
    stop()
    local file = TMP .. "/offline.dump.pcap"
    local all = sf.sniff{offline = file}
    local echo = sf.sniff{offline = file, filter = "icmp[icmptype] == icmp-echo"}
    assert.equal(4, #all)
    assert.equal(2, #echo)
    assert.equal(8, echo[1][sf.ICMP].type)
  end)

  it("a Sniffer iterates, reports stats, and closes", function()
    local sn <close> = sf.Sniffer{iface = IF_A, filter = "icmp", timeout = 3}
    sn:start()
    os.execute(("ping -n -q -c 3 -i 0.05 %s >/dev/null &"):format(IP_B))
    local n = 0
    for p in sn do
      n = n + 1
      assert.is_true(p:has_layer(sf.ICMP))
      if n == 6 then break end
    end
    assert.equal(6, n)
    local st = sn:stats()
    assert.is_true(st.received >= 6)
    assert.equal(0, st.dropped)
    sn:stop()
    assert.is_nil(sn:next(0))
  end)
end)

describe("send and sendp", function()
  it("sendp: tcpdump on the peer sees each of N frames once", function()
    local stop = tcpdump(B, IF_B, "udp port 9999", "sendp")
    local frames = {}
    for i = 1, 200 do
      frames[i] = sf.Ether{dst = MAC_B} / sf.IP{dst = IP_B} / sf.UDP{sport = 1234, dport = 9999}
        / ("frame %04d"):format(i)
    end
    assert.equal(200, sf.sendp(frames, {iface = IF_A}))
    local seen = stop()
    assert.equal(200, #seen)
    for i, p in ipairs(seen) do
      assert.equal(("frame %04d"):format(i), p:bytes():sub(-10))
      assert.equal(MAC_A, p.src)  -- filled in from the interface
      assert.equal(IP_A, p[sf.IP].src)  -- and from the route
    end
  end)

  it("send: IPv4 and IPv6 datagrams reach a listening socket on the peer", function()
    local out4, out6 = TMP .. "/nc4.out", TMP .. "/nc6.out"
    local p4 = spawn(in_ns(B, "nc -u -l -W 1 " .. IP_B .. " 9000"), out4)
    local p6 = spawn(in_ns(B, "nc -6 -u -l -W 1 " .. IP6_B .. " 9001"), out6)
    sf.sleep(0.3)
    assert.equal(1, sf.send(sf.IP{dst = IP_B} / sf.UDP{sport = 5555, dport = 9000} / "hello v4\n"))
    assert.equal(1, sf.send(sf.IPv6{dst = IP6_B} / sf.UDP{sport = 5555, dport = 9001} / "hello v6\n"))
    assert.is_true(wait_for(function() return read(out4):find("hello v4") and read(out6):find("hello v6") end, 3),
      read(out4) .. read(out6))
    os.execute("kill " .. p4 .. " " .. p6 .. " 2>/dev/null")
  end)

  it("replays a capture with a rate limit", function()
    local frames = {}
    for i = 1, 50 do frames[i] = sf.Ether{dst = MAC_B} / sf.IP{dst = IP_B} / sf.UDP{dport = 9998} end
    local file = TMP .. "/replay.pcap"
    sf.wrpcap(file, frames)
    local stop = tcpdump(B, IF_B, "udp port 9998", "replay")
    local t0 = uv.hrtime()
    local n, err = pcall(sf.sendp, sf.rdpcap(file), {iface = IF_A, rate_pps = 500})
    assert.equal(50, err)
    local took = (uv.hrtime() - t0) / 1e9
    assert.is_true(took > 0.09 and took < 0.5, took)  -- 49 gaps of 2 ms
    assert.equal(50, #stop())
  end)
end)

describe("fragments", function()
  -- the peer's kernel joins the fragments built in Lua, answers with an
  -- echo reply bigger than the link's MTU (so fragmented by the kernel),
  -- which defragment/defragment6 join again
  local data = ("0123456789abcdef"):rep(190)  -- 3040 bytes

  it("a fragmented IPv4 ping is answered, and its fragmented reply joined", function()
    local ping = sf.IP{src = IP_A, dst = IP_B, id = 4242} / sf.ICMP{id = 77, seq = 1} / data
    local frags = sf.fragment(ping, 1000)
    assert.equal(4, #frags)
    local as = sf.AsyncSniffer{iface = IF_A, filter = "icmp or (ip[6:2] & 0x1fff != 0)"}
    as:start()
    sf.sleep(0.2)
    assert.equal(4, sf.send(frags))
    local got = as:join(1.5)
    as:stop()
    local whole = sf.defragment(got)
    local reply
    for _, p in ipairs(whole) do
      local icmp = p[sf.ICMP]
      if icmp and icmp.type == 0 and icmp.id == 77 then reply = p end
    end
    assert.is_truthy(reply, ("%d packets sniffed"):format(#got))
    assert.is_true(#got > #whole)  -- the reply came in fragments
    assert.equal(data, reply[sf.Raw].load)
  end)

  it("a fragmented IPv6 ping is answered, and its fragmented reply joined", function()
    local ping = sf.IPv6{src = IP6_A, dst = IP6_B} / sf.ICMPv6EchoRequest{id = 78, seq = 1, data = data}
    local frags = sf.fragment6(ping, 1280)
    assert.equal(3, #frags)
    local as = sf.AsyncSniffer{iface = IF_A, filter = "ip6"}
    as:start()
    sf.sleep(0.2)
    assert.equal(3, sf.send(frags))
    local got = as:join(1.5)
    as:stop()
    local replies = {}
    for _, p in ipairs(got) do
      if p[sf.IPv6] and p[sf.IPv6].src == IP6_B and p[sf.IPv6ExtHdrFragment] then replies[#replies + 1] = p end
    end
    assert.is_true(#replies >= 2, ("%d packets sniffed"):format(#got))
    local reply = sf.defragment6(replies)
    assert.equal(129, reply[sf.ICMPv6EchoReply] and reply[sf.ICMPv6EchoReply].type or reply:layer(3).type)
    assert.equal(data, reply[sf.ICMPv6EchoReply].data)
  end)
end)

describe("sr1 and friends", function()
  it("an ICMP echo to the peer returns its reply", function()
    local r = sf.sr1(sf.IP{dst = IP_B} / sf.ICMP.echo_request{id = 0x4242, seq = 7}, {timeout = 2})
    assert.is_not_nil(r)
    assert.equal(IP_B, r[sf.IP].src)
    assert.equal(0, r[sf.ICMP].type)
    assert.equal(0x4242, r[sf.ICMP].id)
    assert.equal(7, r[sf.ICMP].seq)
  end)

  it("IPv6: an echo request to the peer returns its reply", function()
    local r = sf.sr1(sf.IPv6{dst = IP6_B} / sf.ICMPv6.echo_request{id = 9, seq = 1}, {timeout = 2})
    assert.is_not_nil(r)
    assert.equal(129, r[sf.ICMPv6].type)
  end)

  it("a TCP SYN gets a RST from a closed port and a SYN-ACK from a listener", function()
    local rst = sf.sr1(sf.IP{dst = IP_B} / sf.TCP{sport = 40001, dport = 81, flags = "S", seq = 1000}, {timeout = 2})
    assert.is_not_nil(rst)
    assert.equal("RA", rst[sf.TCP].flags)
    assert.equal(1001, rst[sf.TCP].ack)
    local pid = spawn(in_ns(B, "nc -l " .. IP_B .. " 8080"))
    sf.sleep(0.3)
    local sa = sf.sr1(sf.IP{dst = IP_B} / sf.TCP{sport = 40002, dport = 8080, flags = "S", seq = 5000}, {timeout = 2})
    os.execute("kill " .. pid)
    assert.is_not_nil(sa)
    assert.equal("SA", sa[sf.TCP].flags)
    assert.equal(5001, sa[sf.TCP].ack)
  end)

  it("a UDP probe to a closed port returns ICMP port unreachable, quoting it", function()
    local r = sf.sr1(sf.IP{dst = IP_B} / sf.UDP{sport = 40003, dport = 33333} / "probe", {timeout = 2})
    assert.is_not_nil(r)
    assert.equal(3, r[sf.ICMP].type)
    assert.equal(3, r[sf.ICMP].code)
  end)

  it("srp1 of an ARP who-has returns the peer's is-at", function()
    local r = sf.srp1(sf.Ether{dst = "ff:ff:ff:ff:ff:ff"} / sf.ARP{pdst = IP_B}, {iface = IF_A, timeout = 2})
    assert.is_not_nil(r)
    assert.equal(2, r[sf.ARP].op)
    assert.equal(IP_B, r[sf.ARP].psrc)
    assert.equal(MAC_B, r[sf.ARP].hwsrc)
    assert.equal(IP_A, r[sf.ARP].pdst)  -- our psrc came from the route
  end)

  it("arping and srloop", function()
    local ans, unans = sf.arping(IP_B .. "/31", {iface = IF_A, timeout = 0.5})
    assert.equal(1, #ans)  -- 10.99.1.2 answers, 10.99.1.3 is nobody
    assert.equal(1, #unans)
    assert.equal(MAC_B, ans[1].received[sf.ARP].hwsrc)
    local lines = {}
    local a, u = sf.srloop(sf.IP{dst = IP_B} / sf.ICMP(), {count = 2, inter = 0.05, timeout = 1,
      prn = function(x, answered) lines[#lines + 1] = answered and x.received:summary() or "fail" end})
    assert.equal(2, #a)
    assert.equal(0, #u)
    assert.same({"Ethernet / IPv4 / ICMP", "Ethernet / IPv4 / ICMP"}, lines)
  end)

  it("sr of 1,000 probes matches every answer to its request", function()
    local probes = {}
    for i = 1, 1000 do probes[i] = sf.IP{dst = IP_B} / sf.ICMP.echo_request{id = 0x77, seq = i} end
    local ans, unans = sf.sr(probes, {timeout = 3})
    assert.equal(1000, #ans)
    assert.equal(0, #unans)
    for _, pair in ipairs(ans) do
      assert.equal(pair.sent[sf.ICMP].seq, pair.received[sf.ICMP].seq)
      assert.equal(pair.index, pair.sent[sf.ICMP].seq)
    end
    assert.truthy(ans:summary():find("==> Ether / IP / ICMP", 1, true))
  end)

  it("unanswered probes come back as such, after retries", function()
    local ans, unans = sf.sr(sf.IP{dst = IP_B} / sf.UDP{dport = 33334} / "x", {timeout = 0.2, retry = 1})
    assert.equal(1, #ans)  -- port unreachable answers it
    assert.equal(3, ans[1].received[sf.ICMP].type)
    ans = sf.sr(sf.IP{dst = IP_B, proto = 200} / "x", {timeout = 0.2})
    assert.equal(2, ans[1].received[sf.ICMP].code)  -- protocol unreachable
    local t0 = uv.hrtime()
    ans, unans = sf.sr(sf.IP{dst = "10.99.1.77"} / sf.UDP{dport = 9} / "x", {timeout = 0.2, retry = 1})
    assert.equal(0, #ans)
    assert.equal(1, #unans)
    assert.is_true((uv.hrtime() - t0) / 1e9 >= 0.4)  -- sent twice, waited twice
  end)

  it("traceroute across two routed namespaces lists the hops traceroute(8) reports", function()
    local theirs = {}
    for line in sh(in_ns(A, "traceroute -n -q 1 -w 1 -m 5 " .. IP_C)):gmatch("[^\n]+") do
      local ttl, ip = line:match("^%s*(%d+)%s+([%d%.]+)")
      if ttl then theirs[tonumber(ttl)] = ip end
    end
    assert.equal(2, #theirs)
    for _, proto in ipairs{"tcp", "udp", "icmp"} do
      local hops = sf.traceroute(IP_C, {maxttl = 5, timeout = 1, proto = proto})
      assert.equal(#theirs, #hops, proto)
      for ttl, ip in ipairs(theirs) do assert.equal(ip, hops[ttl].ip, proto) end
      assert.is_true(hops[2].reached)
    end
  end)

  it("debug_match explains why a reply from another port is no answer", function()
    local script = TMP .. "/wrongport.py"
    local f = io.open(script, "w")
    f:write(([[
import socket
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("%s", 9100))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(("%s", 9101))
print("ready", flush=True)
data, peer = a.recvfrom(100)
b.sendto(data, peer)
]]):format(IP_B, IP_B))
    f:close()
    local log = TMP .. "/wrongport.log"
    spawn(in_ns(B, "python3 " .. script), log)
    assert.is_true(wait_for(function() return read(log):find("ready") end, 5))
    local why = {}
    local r = sf.sr1(sf.IP{dst = IP_B} / sf.UDP{sport = 40010, dport = 9100} / "ping", {timeout = 1,
      debug_match = function(cand, i, reason)
        if cand:has_layer(sf.UDP) then why[#why + 1] = reason end
      end})
    assert.is_nil(r)
    assert.truthy(table.concat(why, "\n"):find("UDP: the answer's sport 9101 is not the request's dport 9100", 1, true),
      table.concat(why, "\n"))
  end)

  it("a CustomLayer's answers hook decides for its layer", function()
    local Q = sf.CustomLayer("LiveQ", {sf.ByteField("op", 1), sf.ShortField("tag", 0)},
      {answers = function(resp, req) return resp.op == 2 and resp.tag == req.tag end})
    sf.bind_layers(sf.UDP, Q, {dport = 9200})
    local script = TMP .. "/echo.py"
    local f = io.open(script, "w")
    f:write(([[
import socket
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("%s", 9200))
print("ready", flush=True)
data, peer = a.recvfrom(100)
a.sendto(bytes([3]) + data[1:], peer)  # op 3: the hook says no
a.sendto(bytes([2]) + data[1:], peer)
]]):format(IP_B))
    f:close()
    local log = TMP .. "/echo.log"
    spawn(in_ns(B, "python3 " .. script), log)
    assert.is_true(wait_for(function() return read(log):find("ready") end, 5))
    local r = sf.sr1(sf.IP{dst = IP_B} / sf.UDP{sport = 9200, dport = 9200} / Q{op = 1, tag = 77}, {timeout = 1})
    assert.is_not_nil(r)
    assert.equal(77, r[Q].tag)
    assert.equal(2, r[Q].op)  -- without the hook, op 3 came first and would do
    sf.split_layers(sf.UDP, Q, {dport = 9200})
  end)
end)

describe("one loop", function()
  it("a luv timer and a sniffer in one script both fire", function()
    local ticks, sent = 0, false
    local t = uv.new_timer()
    t:start(20, 20, function()
      ticks = ticks + 1
      if ticks == 3 then sf.send(sf.IP{dst = IP_B} / sf.UDP{dport = 9300} / "from a luv timer"); sent = true end
    end)
    local got = sf.sniff{iface = IF_A, filter = "udp port 9300", count = 1, timeout = 3}
    t:stop()
    t:close()
    assert.is_true(sent)
    assert.equal(1, #got)
    assert.is_true(ticks >= 3)
    assert.equal("from a luv timer", got[1]:bytes():sub(-16))
  end)

  it("sflua keeps running an AsyncSniffer after the script's last line", function()
    local script = TMP .. "/bg.lua"
    local f = io.open(script, "w")
    f:write(([[
local uv = require("luv")
AsyncSniffer{iface = %q, filter = "udp port 9301", count = 2,
  prn = function(p) return "seen " .. p:bytes():sub(-4) end}:start()
local t = uv.new_timer()
t:start(100, 0, function()
  send({IP{dst = %q} / UDP{dport = 9301} / "one1", IP{dst = %q} / UDP{dport = 9301} / "two2"})
  t:close()
end)
print("last line")
]]):format(IF_A, IP_B, IP_B))
    f:close()
    local out = sh("timeout 5 " .. E("SFLUA_BIN") .. " " .. script .. "; echo rc=$?")
    assert.equal("last line\nseen one1\nseen two2\nrc=0\n", out)
  end)
end)

describe("errors", function()
  local function fails(pattern, fn, ...)
    local before = fd_count()
    local ok, err = pcall(fn, ...)
    assert.is_false(ok)
    assert.truthy(tostring(err):find(pattern, 1, true), tostring(err))
    assert.equal(before, fd_count())  -- nothing left open
  end

  it("no such interface, bad filter, bad options", function()
    fails("no such interface: nosuch0", sf.sniff, {iface = "nosuch0", timeout = 0.1})
    fails("no such interface: nosuch0", sf.sendp, sf.Ether() / sf.IP(), {iface = "nosuch0"})
    fails("bad filter tcp port x: ", sf.sniff, {iface = IF_A, filter = "tcp port x", timeout = 0.1})
    fails("sniff: unknown option 'iface_name'", sf.sniff, {iface_name = "x"})
    fails("sr1: option 'timeout' must be a number of seconds >= 0, got -1", sf.sr1, sf.IP(), {timeout = -1})
    fails("send: expected a packet or a list of packets, got string", sf.send, "x")
    fails("send: packet 1: the packet starts with Ethernet", sf.send, sf.Ether() / sf.IP())
  end)

  it("errors point at the caller's line", function()
    local ok, err = pcall(function() sf.sniff{bogus = 1} end)
    assert.truthy(err:find("live_spec.lua:%d+: sniff: unknown option"), err)
    ok, err = pcall(function() sf.sr1(sf.IPv6{dst = "2001:db8::1"} / sf.ICMPv6(), {timeout = 0.1}) end)
    assert.truthy(err:find("live_spec.lua:%d+: sr1: packet 1: no route to 2001:db8::1"), err)
  end)

  it("unreachable route, MTU exceeded, interface down", function()
    fails("no route to 2001:db8::1", sf.send, sf.IPv6{dst = "2001:db8::1"} / sf.UDP())
    fails("exceeds its MTU (1500)", sf.send, sf.IP{dst = IP_B} / sf.UDP() / ("x"):rep(2000))
    fails("exceeds its MTU (1500)", sf.sendp, sf.Ether{dst = MAC_B} / sf.IP{dst = IP_B} / ("x"):rep(2000), {iface = IF_A})
    os.execute("ip link add sfdown0 type veth peer name sfdown1")  -- made down
    fails("cannot send on sfdown0: the interface is down", sf.sendp, sf.Ether() / sf.IP(), {iface = "sfdown0"})
    fails("sniff: interface sfdown0 is down", sf.sniff, {iface = "sfdown0", timeout = 0.1})
    fails("sr1: interface sfdown0 is down", sf.sr1, sf.IP{dst = IP_B} / sf.ICMP(), {iface = "sfdown0", timeout = 0.1})
    os.execute("ip link del sfdown0")
  end)

  it("without CAP_NET_RAW every call fails with the clear error", function()
    local calls = {
      ("sniff{iface=%q, timeout=0.1}"):format(IF_A),
      ("Sniffer{iface=%q}:start()"):format(IF_A),
      ("AsyncSniffer{iface=%q}:start()"):format(IF_A),
      ("send(IP{dst=%q}/ICMP())"):format(IP_B),
      ("sendp(Ether()/IP(), {iface=%q})"):format(IF_A),
      ("sr1(IP{dst=%q}/ICMP(), {timeout=0.1})"):format(IP_B),
      ("srp1(Ether()/ARP{pdst=%q}, {iface=%q, timeout=0.1})"):format(IP_B, IF_A),
    }
    for _, call in ipairs(calls) do
      local cmd = ("capsh --drop=cap_net_raw -- -c %q"):format(E("SFLUA_BIN") .. " -e '" .. call .. "'")
      local out = sh(cmd)
      assert.truthy(out:find("permission denied (needs root or CAP_NET_RAW)", 1, true), call .. ": " .. out)
      assert.falsy(out:find("Segmentation", 1, true))
    end
  end)
end)
