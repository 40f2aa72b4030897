-- Answering machines and automata against real clients, in namespaces
-- (tests/automata/run_automata.sh builds A -- B -- C and runs this inside
-- A).  The machines answer in A (on this spec's loop) or in B (a separate
-- sflua); the oracles are other people's programs: arping, ping, ndisc6,
-- nc -l, a Python socket, the peers' kernels.
local sf = require("stackforge")
local ns = require("tests.live.nsutil")

local E = os.getenv
local A, B, C = E("NS_A"), E("NS_B"), E("NS_C")
local IF_A, IF_B = E("IF_A"), E("IF_B")
local IP_A, IP_B, IP_C = E("IP_A"), E("IP_B"), E("IP_C")
local MAC_A = E("MAC_A")
local TMP, SFLUA, ROOT = E("AM_TMP"), E("SFLUA_BIN"), E("SFLUA_ROOT")

-- A program started in a namespace in the background; the function
-- returned waits for it (the loop runs, so machines answer meanwhile) and
-- gives what it printed.
local function client(nsname, cmd, name, seconds)
  local log = TMP .. "/" .. name .. ".out"
  local pid = ns.spawn(ns.in_ns(nsname, cmd), log)
  return function()
    assert(ns.wait_for(function() return not ns.alive(pid) end, seconds or 10),
      name .. " did not end: " .. ns.read(log))
    return ns.read(log)
  end
end

local function run(nsname, cmd, name, seconds)
  return client(nsname, cmd, name, seconds)()
end

-- a log function that keeps the lines
local function keeper()
  local lines = {}
  return lines, function(l) lines[#lines + 1] = l end
end

local function find_line(lines, pattern)
  for _, l in ipairs(lines) do
    if l:find(pattern) then return l end
  end
  return nil
end

-- a command running a Lua script with sflua in another namespace (the
-- script is written to a file; the environment's LUA_PATH goes along)
local function sflua_in(nsname, name, code)
  local path = TMP .. "/" .. name .. ".lua"
  local f = assert(io.open(path, "w"))
  f:write(code)
  f:close()
  return ns.in_ns(nsname, ("env LUA_PATH='%s' %s %s"):format(E("LUA_PATH"), SFLUA, path))
end

local config = sf.AutomatonConfig{iface = IF_A}

describe("ArpResponderAM", function()
  it("answers arping for addresses no kernel owns, from the interface's MAC, and no others", function()
    local am <close> = sf.ArpResponderAM{addresses = {"10.99.1.77", "10.99.1.96/30"}}
    am:start(config)
    local out = run(B, "arping -c 2 -w 3 -I vethB 10.99.1.77", "arping")
    assert.matches("Received 2 response%(s%)", out)
    assert.matches("%[" .. MAC_A:upper() .. "%]", out)
    assert.matches("Received 1 response", run(B, "arping -c 1 -w 2 -I vethB 10.99.1.98", "arping_net"))
    assert.matches("Received 0 response", run(B, "arping -c 1 -w 1 -I vethB 10.99.1.79", "arping_no"))
    assert.equal(3, am.requests)
    assert.equal(3, am:stats().replies)
    assert.equal(0, am.errors)
  end)
end)

describe("IcmpEchoAM", function()
  it("answers ping and ping -6 for addresses no kernel owns, and ARP/ND for them", function()
    local mine = {}
    for _, i in ipairs(sf.list_interfaces()) do
      for _, a in ipairs(i.addresses) do mine[a.addr] = true end
    end
    local addrs = {"10.99.1.78", "fd99:1::78", "fe80::78"}
    for _, a in ipairs(addrs) do assert.is_nil(mine[a]) end
    local am <close> = sf.IcmpEchoAM{addresses = addrs}
    am:start(config)
    local v4 = run(B, "ping -n -c 3 -i 0.2 -W 2 10.99.1.78", "ping4")
    local v6 = run(B, "ping -n -6 -c 3 -i 0.2 -W 2 fd99:1::78", "ping6")
    local ll = run(B, "ping -n -6 -c 3 -i 0.2 -W 2 fe80::78%vethB", "ping6ll")
    for _, out in ipairs{v4, v6, ll} do
      assert.matches("3 packets transmitted, 3 received", out)
      assert.not_matches("DUP", out)
    end
    assert.matches("from 10.99.1.78: icmp_seq=1 ttl=64", v4)
    local st = am:stats()
    assert.is_true(st.requests >= 9 + 3)  -- echoes, ARP, two solicitations
    assert.equal(st.requests, st.replies)
    assert.equal(0, st.errors + st.malformed)
  end)

  it("does not answer ARP for an address the kernel owns (resolve = \"auto\")", function()
    local am <close> = sf.IcmpEchoAM{addresses = {IP_A}}
    am:start(config)
    local out = run(B, "ping -n -c 2 -i 0.2 -W 2 " .. IP_A, "ping_owned")
    assert.matches("2 received", out)
    assert.matches("DUP", out)  -- the kernel answers too: both replies arrive
    assert.equal(2, am.requests)
  end)
end)

describe("NdpResponderAM", function()
  it("ndisc6 gets the advertisement for a link-local target", function()
    local am <close> = sf.NdpResponderAM{addresses = "fe80::77"}
    am:start(config)
    local out = run(B, "ndisc6 -1 -n -w 1000 -r 3 fe80::77 vethB", "ndisc6")
    assert.matches("Target link%-layer address: " .. MAC_A:upper(), out)
    assert.is_true(am.replies >= 1)
  end)
end)

describe("AnsweringMachine", function()
  it("never answers its own replies (a machine that answers every ICMP packet)", function()
    local am <close> = sf.AnsweringMachine{
      name = "Mirror", bpf_filter = "icmp",
      is_request = function(p) return p[sf.ICMP] ~= nil end,
      make_reply = function(p)  -- an echo reply for anything, replies included
        local ip = p[sf.IP]
        return sf.Ether{dst = p.src} / sf.IP{src = ip.dst, dst = ip.src}
          / sf.ICMP.echo_reply{id = p[sf.ICMP].id, seq = p[sf.ICMP].seq} / p[sf.Raw].load
      end}
    am:start(config)
    -- A's kernel answers too: its replies and the machine's go out, and
    -- neither comes back in
    local out = run(B, "ping -n -c 3 -i 0.2 -W 2 " .. IP_A, "mirror")
    assert.matches("3 received, %+%d duplicates", out)
    ns.wait_for(function() return false end, 0.3)
    assert.equal(3, am.requests)  -- the three requests; never the replies
    assert.equal(3, am.replies)
  end)

  it("on a loopback interface, where sent frames come back in, skips its own", function()
    local am <close> = sf.AnsweringMachine{
      name = "Reflector", bpf_filter = "udp port 9999",
      is_request = function(p) return p[sf.UDP] ~= nil end,
      make_reply = function(p)  -- to the same port: its own reply is a request again
        return sf.IP{src = "127.0.0.1", dst = "127.0.0.1"} / sf.UDP{sport = 9999, dport = 9999}
          / ("echo:" .. p[sf.Raw].load)
      end}
    am:start(sf.AutomatonConfig{iface = "lo"})
    sf.send(sf.IP{dst = "127.0.0.1"} / sf.UDP{sport = 9999, dport = 9999} / "ping")
    ns.wait_for(function() return false end, 0.3)
    assert.equal(1, am.requests)
    assert.equal(1, am.replies)
  end)

  it("logs an error in a callback with the spec's line and keeps answering", function()
    local lines, log = keeper()
    local n = 0
    local am <close> = sf.AnsweringMachine{
      name = "Flaky", bpf_filter = "icmp", log = log,
      is_request = function(p) return p[sf.ICMP] and p[sf.ICMP].type == 8 end,
      make_reply = function(p)
        n = n + 1
        if n == 2 then error("the second one fails") end
        local ip, icmp = p[sf.IP], p[sf.ICMP]
        return sf.Ether{dst = p.src} / sf.IP{src = ip.dst, dst = ip.src}
          / sf.ICMP.echo_reply{id = icmp.id, seq = icmp.seq} / p[sf.Raw].load
      end}
    am:start(config)
    local arp <close> = sf.ArpResponderAM{addresses = "10.99.1.81"}
    arp:start(config)
    local out = run(B, "ping -n -c 3 -i 0.2 -W 1 10.99.1.81", "flaky")
    assert.matches("3 packets transmitted, 2 received", out)
    local line = find_line(lines, "make_reply")
    assert.is_not_nil(line)
    assert.matches("^Flaky: make_reply: [^:]*automata_spec%.lua:%d+: the second one fails %(on Ethernet / IPv4 / ICMP / Raw%)$", line)
    assert.equal(1, am.errors)
  end)

  it("logs and ignores malformed requests, and keeps serving", function()
    local lines, log = keeper()
    local am <close> = sf.IcmpEchoAM{addresses = {"10.99.1.82", "fd99:1::82"}, log = log}
    am:start(config)
    -- from B: an ARP request for token ring (hwtype 6), a neighbour
    -- solicitation with hop limit 64, the first fragment of an echo
    -- request, an echo request cut short of its IP length
    run(B, sflua_in(B, "malformed", ([[
      local bc = "ff:ff:ff:ff:ff:ff"
      sendp({
        Ether{dst = bc} / ARP{hwtype = 6, pdst = "10.99.1.82"},
        Ether{dst = "33:33:ff:00:00:82"} / IPv6{dst = "ff02::1:ff00:82", hlim = 64}
          / ICMPv6ND_NS{tgt = "fd99:1::82"},
        Ether{dst = "%s"} / IP{dst = "10.99.1.82", flags = "MF"} / ICMP.echo_request() / "frag",
        Packet((Ether{dst = "%s"} / IP{dst = "10.99.1.82", len = 200} / ICMP.echo_request()
          / "short"):bytes()),
      }, {iface = "vethB"})]]):format(MAC_A, MAC_A)), "malformed")
    assert.is_true(ns.wait_for(function() return am.malformed >= 4 end, 2), table.concat(lines, "\n"))
    assert.is_not_nil(find_line(lines, "ignored Ethernet / ARP.*not an Ethernet/IPv4 request %(hwtype 6, ptype 0x0800, hwlen 6, plen 4%)"))
    assert.is_not_nil(find_line(lines, "ignored .*ICMPv6.*hop limit is not 255"))
    assert.is_not_nil(find_line(lines, "ignored .*a fragment"))
    assert.is_not_nil(find_line(lines, "ignored .*truncated"))
    assert.equal(0, am.errors)
    local out = run(B, "ping -n -c 2 -i 0.2 -W 2 10.99.1.82", "after_malformed")
    assert.matches("2 received", out)
  end)

  it("stop leaves no handle open", function()
    local before = ns.fd_count()
    local am = sf.IcmpEchoAM{addresses = "10.99.1.83"}
    am:start(config)
    assert.matches("1 received", run(B, "ping -n -c 1 -W 2 10.99.1.83", "fds"))
    assert.is_true(ns.fd_count() > before)
    am:stop()
    am:stop()  -- twice is harmless
    assert.equal(before, ns.fd_count())
    assert.is_false(am:is_running())
    am:start(config)  -- and it starts again
    assert.is_true(am:is_running())
    am:close()
    assert.equal(before, ns.fd_count())
    assert.has_error(function() am:start(config) end)
  end)
end)

describe("TcpRstAM", function()
  it("resets a TCP client's connection (the machine on the router B, nc -l in C)", function()
    local server = client(C, "nc -l 5555", "rst_server", 15)
    local ready = TMP .. "/rst_connected"
    local py = ([[
import socket, sys, time, os
s = socket.create_connection(("%s", 5555), timeout=5)
open("%s", "w").close()
try:
    for i in range(40):
        s.sendall(b"line %%d\n" %% i)
        time.sleep(0.1)
    print("not reset")
except OSError as e:
    print(type(e).__name__)
]]):format(IP_C, ready)
    local f = assert(io.open(TMP .. "/rst_client.py", "w"))
    f:write(py)
    f:close()
    local cl = client(A, "python3 " .. TMP .. "/rst_client.py", "rst_client", 10)
    assert.is_true(ns.wait_for(function() return io.open(ready) ~= nil end, 5))
    local machine = client(B, sflua_in(B, "rst_machine", [[
      local am = TcpRstAM{bpf_filter = "tcp port 5555"}
      am:start(AutomatonConfig{iface = "vethB"})
      sleep(1)
      am:stop()
      print("resets", am.replies, "errors", am.errors)]]), "rst_machine", 10)
    local out = cl()
    assert.equal("ConnectionResetError\n", out)
    local m = machine()
    local resets = tonumber(m:match("resets%s+(%d+)"))
    assert.is_not_nil(resets, m)
    assert.is_true(resets >= 2, m)
    assert.matches("errors%s+0", m)
    server()  -- nc -l ended: the server's side was reset too
  end)
end)

describe("Automaton", function()
  local TcpClient = require("examples.tcp_client")

  local function nc_server(port)
    local out = TMP .. "/nc_" .. port .. ".txt"
    local pid = ns.spawn(ns.in_ns(B, ("nc -l %d > %s < /dev/null"):format(port, out)))
    ns.wait_for(function() return ns.sh(ns.in_ns(B, "ss -ltn")):find(":" .. port) ~= nil end, 3)
    return out, pid
  end

  it("a TCP client automaton completes a handshake, sends a line and closes against nc -l", function()
    local out, pid = nc_server(7001)
    -- its address is no kernel's: the kernel sends no resets, an ARP
    -- responder on the same loop answers for it
    local arp <close> = sf.ArpResponderAM{addresses = "10.99.1.50"}
    arp:start(config)
    local c = TcpClient{dst = IP_B, dport = 7001, src = "10.99.1.50", sport = 40001,
                        line = "hello from an automaton\n"}
    local line = c:run(config)
    assert.equal("hello from an automaton\n", line)
    assert.same({"BEGIN", "SYN_SENT", "ESTABLISHED", "DATA_ACKED", "FIN_WAIT", "CLOSED"}, c.history)
    assert.is_true(ns.wait_for(function() return not ns.alive(pid) end, 3))  -- nc saw the close
    assert.equal("hello from an automaton\n", ns.read(out))
  end)

  it("runs in the background on the loop (start, join), with debug lines", function()
    local out = nc_server(7002)
    local arp <close> = sf.ArpResponderAM{addresses = "10.99.1.51"}
    arp:start(config)
    local lines, log = keeper()
    local c = TcpClient{dst = IP_B, dport = 7002, src = "10.99.1.51", sport = 40002,
                        line = "in the background\n", debug = true, log = log}
    c:start(config)
    assert.is_true(c.running)
    assert.equal("in the background\n", c:join(5))
    assert.is_false(c.running)
    assert.equal("in the background\n", ns.read(out))
    assert.equal("TcpClient: SYN_SENT -> ESTABLISHED (receive synack)", find_line(lines, "SYN_SENT %->"))
    assert.equal("TcpClient: ended in CLOSED", lines[#lines])
  end)

  it("ends in its error state when nobody answers (timeout), closing its capture", function()
    local before = ns.fd_count()
    local c = TcpClient{dst = IP_B, dport = 7003, src = "10.99.1.52", sport = 40003, line = "x\n"}
    local t0 = os.time()
    local r, why = c:run(config)  -- no ARP responder for .52: B cannot answer
    assert.is_nil(r)
    assert.equal("TcpClient: ended in error state FAILED: no answer", why)
    assert.same({"BEGIN", "SYN_SENT", "FAILED"}, c.history)
    assert.equal(before, ns.fd_count())
    assert.is_true(os.time() - t0 <= 5)
  end)
end)
