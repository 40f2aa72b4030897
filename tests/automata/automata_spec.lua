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

describe("DhcpServerAM", function()
  -- the DHCP link (run_automata.sh): the server on vethDA in A, clients on
  -- vethDB in B (MAC 02:00:00:5f:d1:01); the server's address is no
  -- kernel's, so the server answers ARP for it (clients renew to it)
  local CLIENT_MAC = "02:00:00:5f:d1:01"
  local dconfig = sf.AutomatonConfig{iface = "vethDA"}
  local hook = TMP .. "/dhcp_hook.sh"

  local function pool(extra)
    local t = {pool_start = "10.98.0.100", pool_end = "10.98.0.110", server_ip = "10.98.0.1",
      subnet_mask = "255.255.255.0", gateway = "10.98.0.1", dns_servers = {"10.98.0.53", "10.98.0.54"},
      lease_time = 60, domain = "lab.test"}
    for k, v in pairs(extra or {}) do t[k] = v end
    return sf.DhcpPoolConfig(t)
  end

  -- the clients' script: each event into $EVENTS, the address configured
  -- and removed as the lease says (udhcpc passes $1 and $ip/$mask,
  -- dhclient $reason and $new_ip_address/$new_subnet_mask)
  setup(function()
    local f = assert(io.open(hook, "w"))
    f:write([[
#!/bin/sh
echo "$1$reason $ip$new_ip_address" >> "$0.events"  # dhclient clears the environment
case "$1$reason" in
  bound|renew) ip addr add "$ip/$mask" dev "$interface" 2>/dev/null ;;
  BOUND|RENEW|REBOOT) ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface" 2>/dev/null ;;
  deconfig|RELEASE|EXPIRE|STOP) ip addr flush dev "$interface" ;;
esac
exit 0
]])
    f:close()
    os.execute("chmod +x " .. hook)
  end)

  before_each(function()
    os.execute(ns.in_ns(B, "ip addr flush dev vethDB"))
    os.remove(hook .. ".events")
  end)

  local function addresses_of_client()
    return ns.sh(ns.in_ns(B, "ip -4 -o addr show dev vethDB"))
  end

  local function events() return ns.read(hook .. ".events") end

  local function udhcpc(name, args)
    return ("busybox udhcpc -f -i vethDB -s %s -t 3 -T 1 -A 1 %s"):format(hook, args or "")
  end

  it("busybox udhcpc: a lease obtained, configured, renewed (SIGUSR1) and released (-R)", function()
    local dhcp <close> = sf.DhcpServerAM(pool(), {server_mac = "02:00:00:00:00:01"})
    dhcp:start(dconfig)
    local log = TMP .. "/udhcpc.out"
    local pid = ns.spawn(ns.in_ns(B, udhcpc("udhcpc", "-R -x hostname:sfclient -O 15")), log)
    assert.is_true(ns.wait_for(function() return events():find("bound") end, 5), ns.read(log))
    assert.matches("lease of 10.98.0.100 obtained from 10.98.0.1, lease time 60", ns.read(log))
    assert.matches("inet 10.98.0.100/24", addresses_of_client())
    local l = dhcp:lease(CLIENT_MAC)
    assert.same({"10.98.0.100", "bound", "sfclient"}, {l.ip, l.state, l.hostname})
    assert.is_true(l.expires > 55 and l.expires <= 60)
    ns.wait_for(function() return false end, 1.1)
    assert.is_true(dhcp:lease(CLIENT_MAC).expires < 60)
    os.execute("kill -USR1 " .. pid)  -- renew: a unicast REQUEST to the server's address
    assert.is_true(ns.wait_for(function() return events():find("renew") end, 5), ns.read(log))
    assert.equal(60, dhcp:lease(CLIENT_MAC).expires)
    assert.is_true(dhcp.server.arp_answers >= 1)  -- it answered the client's ARP for 10.98.0.1
    os.execute("kill -TERM " .. pid)  -- -R: released on exit
    assert.is_true(ns.wait_for(function() return not ns.alive(pid) end, 5))
    assert.is_true(ns.wait_for(function() return dhcp:lease(CLIENT_MAC).state == "released" end, 2))
    assert.equal("", addresses_of_client())
    assert.equal(0, dhcp.errors + dhcp.malformed)
  end)

  it("ISC dhclient: a lease obtained, configured, renewed at T1 and released (-r)", function()
    local dhcp <close> = sf.DhcpServerAM(pool{lease_time = 4})
    dhcp:start(dconfig)
    local conf = TMP .. "/dhclient.conf"
    local f = assert(io.open(conf, "w"))
    f:write('send host-name "sfdhclient";\nrequest subnet-mask, broadcast-address, routers, domain-name, domain-name-servers;\n')
    f:close()
    local args = ("-cf %s -lf %s/dhclient.leases -pf %s/dhclient.pid -sf %s"):format(conf, TMP, TMP, hook)
    local log = TMP .. "/dhclient.out"
    ns.spawn(ns.in_ns(B, "dhclient -d -v " .. args .. " vethDB"), log)
    assert.is_true(ns.wait_for(function() return events():find("BOUND") end, 8), ns.read(log))
    local l = dhcp:lease(CLIENT_MAC)
    assert.same({"10.98.0.100", "bound", "sfdhclient"}, {l.ip, l.state, l.hostname})
    assert.matches("inet 10.98.0.100/24", addresses_of_client())
    -- T1 is 2 s: dhclient renews by unicast
    assert.is_true(ns.wait_for(function() return events():find("RENEW") end, 6), ns.read(log))
    assert.matches("DHCPREQUEST for 10.98.0.100 on vethDB to 10.98.0.1 port 67", ns.read(log))
    assert.equal("bound", dhcp:lease(CLIENT_MAC).state)
    assert.equal("0", ns.sh(ns.in_ns(B, "dhclient -r -v " .. args .. " vethDB >/dev/null 2>&1; echo $?")):match("%d"))
    assert.is_true(ns.wait_for(function() return dhcp:lease(CLIENT_MAC).state == "released" end, 3), ns.read(log))
    assert.equal("", addresses_of_client())
    assert.equal(0, dhcp.errors + dhcp.malformed)
  end)

  it("a pool of 2: the third client gets nothing, and the server logs the exhaustion", function()
    local lines, log = keeper()
    local dhcp <close> = sf.DhcpServerAM(pool{pool_end = "10.98.0.101"}, {log = log})
    dhcp:start(dconfig)
    local got = {}
    for i = 1, 3 do
      local out = run(B, udhcpc("pool" .. i, ("-q -n -C -x 0x3d:01aabbcc00000%d"):format(i)), "pool" .. i, 10)
      got[i] = out:match("lease of (%S+) obtained") or "none"
      os.execute(ns.in_ns(B, "ip addr flush dev vethDB"))
    end
    assert.same({"10.98.0.100", "10.98.0.101", "none"}, got)
    assert.is_not_nil(find_line(lines, "^DhcpServerAM: pool exhausted: no address for 02:00:00:5f:d1:01 %(10.98.0.100%-10.98.0.101%)$"))
    assert.equal(2, #dhcp:leases())
  end)

  it("a DECLINE (udhcpc -a finds the address in use) marks the address bad; the client gets the next", function()
    local lines, log = keeper()
    local dhcp <close> = sf.DhcpServerAM(pool(), {log = log})
    dhcp:start(dconfig)
    local squatter <close> = sf.ArpResponderAM{addresses = "10.98.0.100", mac = "02:00:00:00:0b:ad"}
    squatter:start(dconfig)
    local out = run(B, udhcpc("decline", "-q -n -a100"), "decline", 10)
    assert.matches("offered address is in use", out)
    assert.matches("lease of 10.98.0.101 obtained", out)
    local bad = dhcp:lease("10.98.0.100")
    assert.equal("declined", bad.state)
    assert.is_true(bad.expires > 590)
    assert.equal("bound", dhcp:lease(CLIENT_MAC).state)
    assert.equal("10.98.0.101", dhcp:lease(CLIENT_MAC).ip)
    assert.is_not_nil(find_line(lines, "DECLINE from 02:00:00:5f:d1:01: 10.98.0.100 marked bad for 600 s"))
  end)

  it("a reservation: the client's MAC gets its address", function()
    local dhcp <close> = sf.DhcpServerAM(pool{reservations = {[CLIENT_MAC] = "10.98.0.20"}})
    dhcp:start(dconfig)
    local out = run(B, udhcpc("reserved", "-q -n"), "reserved", 10)
    assert.matches("lease of 10.98.0.20 obtained", out)
  end)

  it("examples/lab_servers.lua: a lab's DHCP, DNS and ping, for udhcpc, dig and ping", function()
    local log = TMP .. "/lab.out"
    local pid = ns.spawn(("%s %s/examples/lab_servers.lua vethDA"):format(SFLUA, ROOT), log)
    assert.is_true(ns.wait_for(function() return ns.read(log):find("serving on vethDA") end, 5), ns.read(log))
    local out = run(B, udhcpc("lab", "-q -n"), "lab_udhcpc", 10)
    assert.matches("lease of 10.77.0.100 obtained", out)
    assert.matches("inet 10.77.0.100/24", addresses_of_client())
    assert.equal("10.77.0.80\n", run(B, "dig +tries=1 +time=2 +short @10.77.0.53 www.lab.test", "lab_dig"))
    assert.equal("www.lab.test.\n", run(B, "dig +tries=1 +time=2 +short @10.77.0.53 -x 10.77.0.80", "lab_dig_x"))
    assert.matches("2 received", run(B, "ping -n -c 2 -i 0.2 -W 2 10.77.0.80", "lab_ping"))
    os.execute("kill -INT " .. pid)
    assert.is_true(ns.wait_for(function() return not ns.alive(pid) end, 3))
  end)

  it("a relayed DISCOVER (giaddr) is answered to the relay", function()
    -- B relays: its address on the clients' subnet is 10.98.0.250 (on a
    -- veth of its own); the server listens on vethA, where B's route to the
    -- server's address leads; the OFFER goes to the relay's port 67,
    -- where a Python socket waits
    os.execute(ns.in_ns(B, "sh -c 'ip link add sfrelay type veth peer name sfrelay2 &&" ..
      " ip link set sfrelay up && ip link set sfrelay2 up && ip addr add 10.98.0.250/24 dev sfrelay &&" ..
      " ip route add 10.98.0.1/32 via " .. IP_A .. "'"))
    local dhcp <close> = sf.DhcpServerAM(pool())
    dhcp:start(config)
    local relay = client(B, [[python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.98.0.250", 67)); s.settimeout(5)
d, a = s.recvfrom(2000)
print(a[0], a[1], len(d), d[0], ".".join(str(b) for b in d[16:20]), ".".join(str(b) for b in d[24:28]))']], "relay", 10)
    ns.wait_for(function() return ns.sh(ns.in_ns(B, "ss -lun")):find("10.98.0.250:67") ~= nil end, 3)
    run(B, sflua_in(B, "relay_send", ([[
      send(IP{src = "10.98.0.250", dst = "10.98.0.1"} / UDP{sport = 67, dport = 67}
        / BOOTP{xid = 77, hops = 1, giaddr = "10.98.0.250", chaddr = "02:00:00:00:77:01"}
        / DHCP{options = {{"message-type", "discover"}, "end"}})]])), "relay_send")
    local out = relay()
    os.execute(ns.in_ns(B, "ip link del sfrelay"))
    -- from the server's address and port, op BOOTREPLY, yiaddr, giaddr
    assert.equal("10.98.0.1 67 300 2 10.98.0.100 10.98.0.250\n", out)
    assert.equal("offered", dhcp:lease("02:00:00:00:77:01").state)
  end)
end)

describe("DnsServerAM", function()
  local records = {
    ["www.lab.test"] = {A = {"10.0.0.80", "10.0.0.81"}, AAAA = "fd00::80", TXT = {"hello world", "second"}},
    ["mail.lab.test"] = {CNAME = "www.lab.test"},
    ["only6.lab.test"] = {AAAA = "fd00::6"},
  }
  local function dig(args, name)
    return run(B, "dig +tries=1 +time=2 " .. args, name or "dig", 10)
  end

  it("dig gets the configured answers (A, AAAA, TXT, CNAME, PTR), NXDOMAIN otherwise, over IPv4 and IPv6", function()
    local dns <close> = sf.DnsServerAM{records = records, addresses = {"10.99.1.53", "fd99:1::53"},
      reverse = true, ttl = 120}
    dns:start(config)
    local nd <close> = sf.NdpResponderAM{addresses = "fd99:1::53"}  -- the IPv6 address's neighbour
    nd:start(config)
    local at = "@10.99.1.53 "
    assert.equal("10.0.0.80\n10.0.0.81\n", dig(at .. "+short www.lab.test A"))
    assert.equal("fd00::80\n", dig(at .. "+short www.lab.test AAAA"))
    assert.equal("\"hello world\"\n\"second\"\n", dig(at .. "+short www.lab.test TXT"))
    assert.equal("www.lab.test.\n10.0.0.80\n10.0.0.81\n", dig(at .. "+short mail.lab.test"))
    assert.equal("www.lab.test.\n", dig(at .. "+short -x 10.0.0.81"))
    assert.equal("only6.lab.test.\n", dig(at .. "+short -x fd00::6"))
    local full = dig(at .. "+noall +comments +answer www.lab.test A")
    assert.matches("status: NOERROR", full)
    assert.matches("flags: qr aa rd;", full)
    assert.matches("www%.lab%.test%.%s+120%s+IN%s+A%s+10%.0%.0%.80", full)
    local nx = dig(at .. "+noall +comments nosuch.lab.test A")
    assert.matches("status: NXDOMAIN", nx)
    assert.matches("status: NOERROR", dig(at .. "+noall +comments only6.lab.test A"))  -- no A: empty
    assert.equal("fd00::80\n", dig("@fd99:1::53 +short www.lab.test AAAA", "dig6"))
    assert.equal(0, dns.errors + dns.malformed)
  end)

  it("answers queries for its addresses only", function()
    local dns <close> = sf.DnsServerAM{records = records, addresses = "10.99.1.53"}
    dns:start(config)
    assert.matches("timed out", dig("@10.99.1.54 +short www.lab.test A", "dig_other"))
    assert.equal(0, dns.requests)
  end)
end)
