-- Automata and answering machines without privilege: definitions and
-- their errors, the graph (Graphviz's dot reads it), runs driven by
-- conditions, timeouts and self:sleep (from run() and in the background),
-- stop, errors in states; answering machines fed packets through
-- am:handle (the replies each built-in makes, malformed and foreign
-- requests ignored, errors in callbacks logged).  The same machines
-- against real clients: tests/automata/automata_spec.lua (as root).
local sf = require("stackforge")
local core = require("stackforge.core")

local function keeper()
  local lines = {}
  return lines, function(l) lines[#lines + 1] = l end
end

local Ping = sf.Automaton{
  name = "Ping",
  states = {
    BEGIN = {initial = true, enter = function(self) self.n = 0 end},
    WAIT = {enter = function(self) self.n = self.n + 1 end},
    NAP = {enter = function(self) self:sleep(0.02) end},
    DONE = {final = true, enter = function(self, how) return self.n, how end},
    GAVE_UP = {error = true, enter = function(self) return "after " .. self.n end},
  },
  transitions = {
    {"BEGIN", "WAIT", name = "go", condition = function() return true end},
    {"WAIT", "DONE", name = "enough", condition = function(self)
       if self.n >= self.goal then return true, "counted" end
     end},
    {"WAIT", "GAVE_UP", name = "limit", prio = -1,
     condition = function(self) return self.n > self.limit end},
    {"WAIT", "NAP", timeout = 0.01, action = function(self) self.naps = (self.naps or 0) + 1 end},
    {"NAP", "WAIT", name = "woke", condition = function() return true end},
  },
}

describe("Automaton", function()
  it("runs through conditions (by priority), timeouts and self:sleep to its final state", function()
    local a = Ping{goal = 3, limit = 10}
    local n, how = a:run()
    assert.equal(3, n)
    assert.equal("counted", how)  -- the condition's values reach the next state
    assert.equal(2, a.naps)
    assert.same({"BEGIN", "WAIT", "NAP", "WAIT", "NAP", "WAIT", "DONE"}, a.history)
    assert.is_false(a.running)
    assert.equal("DONE", a.state)
  end)

  it("ends in an error state with nil and why", function()
    local a = Ping{goal = 100, limit = 1}
    local r, why = a:run()
    assert.is_nil(r)
    assert.equal("Ping: ended in error state GAVE_UP: after 2", why)
  end)

  it("runs in the background: start, join, .state while it waits", function()
    local a = Ping{goal = 3, limit = 10}
    assert.equal(a, a:start())
    assert.is_true(a.running)
    assert.equal("WAIT", a.state)  -- it went as far as it could without waiting
    local n = a:join(5)
    assert.equal(3, n)
    assert.is_false(a.running)
    local b = Ping{goal = 3, limit = 10}:start()
    local r, why = b:join(0)
    assert.is_nil(r)
    assert.equal("timeout", why)
    b:join(5)
  end)

  it("stops from outside, in the background and from run()", function()
    local Slow = sf.Automaton{name = "Slow", states = {A = {initial = true}, F = {final = true}},
      transitions = {{"A", "F", timeout = 30}}}
    local a = Slow{}:start()
    local t = core._after(0.05, function() a:stop() end)
    local r, why = a:join(5)
    t:stop()
    assert.is_nil(r)
    assert.equal("Slow: stopped in state A", why)
    local b = Slow{}
    core._after(0.05, function() b:stop() end)
    local t0 = core.now()
    r, why = b:run()
    assert.is_true(core.now() - t0 < 5)
    assert.is_nil(r)
    assert.equal("Slow: stopped in state A", why)
    b:stop()  -- harmless once stopped
  end)

  it("raises an error in a state from run() (with the state's line), logs it in the background", function()
    local Boom = sf.Automaton{name = "Boom",
      states = {S = {initial = true, enter = function() error("no luck") end}, F = {final = true}},
      transitions = {{"S", "F", condition = function() return true end}}}
    local ok, err = pcall(function() local _ = Boom{}:run() end)
    assert.is_false(ok)
    assert.matches("Boom: in state S: [^:]*automaton_spec%.lua:%d+: no luck", err)
    local lines, log = keeper()
    local b = Boom{log = log}:start()
    local r, why = b:join(1)
    assert.is_nil(r)
    assert.matches("^Boom: in state S: [^:]*automaton_spec%.lua:%d+: no luck$", why)
    assert.matches("^Boom: in state S: .*no luck$", lines[1])
  end)

  it("logs state changes in debug mode", function()
    local lines, log = keeper()
    Ping{goal = 1, limit = 10, debug = true, log = log}:run()
    assert.same({"Ping: enter BEGIN", "Ping: BEGIN -> WAIT (condition go)", "Ping: enter WAIT",
      "Ping: WAIT -> DONE (condition enough)", "Ping: enter DONE", "Ping: ended in DONE"}, lines)
  end)

  it("draws its graph in Graphviz's dot, Scapy's colours", function()
    local dot = Ping:graph()
    local here = debug.getinfo(1, "S").short_src:match("[^/]*$")
    local expected = ([[
digraph "Ping" {
	"BEGIN" [ style=filled, fillcolor=blue, shape=box, root=true ];
	"DONE" [ style=filled, fillcolor=green, shape=octagon ];
	"GAVE_UP" [ style=filled, fillcolor=red, shape=octagon ];
	"NAP" [ shape=ellipse ];
	"WAIT" [ shape=ellipse ];
	"BEGIN" -> "WAIT" [ label="go", color=purple ];
	"WAIT" -> "DONE" [ label="enough", color=purple ];
	"WAIT" -> "GAVE_UP" [ label="limit", color=purple ];
	"WAIT" -> "NAP" [ label="timeout/0.01s\l>[%s:%d]", color=blue ];
	"NAP" -> "WAIT" [ label="woke", color=purple ];
}
]]):format(here, 32)
    assert.equal(expected, dot)
    assert.equal(dot, Ping{goal = 1, limit = 1}:graph())
    local dotbin = io.popen("command -v dot"):read("l")
    if not dotbin then pending("graphviz's dot is not installed"); return end
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(dot)
    f:close()
    local out = io.popen(("dot -Tplain %s 2>&1"):format(path)):read("a")
    os.remove(path)
    assert.matches("^graph ", out)
    for _, state in ipairs{"BEGIN", "WAIT", "NAP", "DONE", "GAVE_UP"} do
      assert.matches("\nnode " .. state .. " ", out)
    end
    assert.matches("\nedge WAIT NAP ", out)
  end)

  it("rejects bad definitions and parameters, naming what is wrong", function()
    local function err(def) local ok, e = pcall(sf.Automaton, def); assert.is_false(ok); return e end
    assert.matches("Automaton Z: no initial state", err{name = "Z", states = {A = {}}})
    assert.matches("two initial states", err{name = "Z", states = {A = {initial = true}, B = {initial = true}}})
    assert.matches("transition 1: no state Q",
      err{name = "Z", states = {A = {initial = true}}, transitions = {{"A", "Q", condition = print}}})
    assert.matches("needs one of condition, receive or timeout",
      err{name = "Z", states = {A = {initial = true}, F = {final = true}}, transitions = {{"A", "F"}}})
    assert.matches("state A has no transition out of it",
      err{name = "Z", states = {A = {initial = true}, F = {final = true}}})
    assert.matches("transition 1 leaves F, which ends the machine",
      err{name = "Z", states = {A = {initial = true}, F = {final = true}},
          transitions = {{"F", "A", timeout = 1}, {"A", "F", timeout = 1}}})
    assert.matches("state A: unknown option 'bogus'",
      err{name = "Z", states = {A = {initial = true, bogus = 1}}})
    assert.matches("unknown option 'stats'", err{name = "Z", stats = {}})
    assert.has_error(function() Ping{state = 1} end,
      "Automaton Ping: parameter 'state' is the machine's own (choose another name)")
    local a = Ping{goal = 1, limit = 1}
    assert.has_error(function() a:sleep(1) end,
      "Ping: sleep() is for states and actions (use sleep() elsewhere)")
  end)

  it("a stuck state (no condition holds, nothing else can leave) is an error", function()
    local Stuck = sf.Automaton{name = "Stuck",
      states = {A = {initial = true}, F = {final = true}},
      transitions = {{"A", "F", condition = function() return false end}}}
    assert.has_error(function() Stuck{}:run() end)
    local ok, e = pcall(Stuck{}.run, Stuck{})
    assert.is_false(ok)
    assert.matches("no condition of state A holds and nothing else leaves it", e)
  end)
end)

describe("AutomatonConfig", function()
  it("takes the seed toolkit's fields and rejects others", function()
    local c = sf.AutomatonConfig{iface = "eth0", bpf_filter = "arp", snaplen = 1500, promisc = true}
    assert.equal("eth0", c.iface)
    assert.equal("AutomatonConfig{iface=eth0, bpf_filter=\"arp\"}", tostring(c))
    assert.has_error(function() sf.AutomatonConfig{ifname = "eth0"} end)
    local ok, e = pcall(sf.AutomatonConfig, {snaplen = -1})
    assert.is_false(ok)
    assert.matches("AutomatonConfig.snaplen: expected a non%-negative integer, got %-1", e)
  end)
end)

-- a frame as a capture would deliver it; a datagram as parsed from its IP layer
local function frame(p)
  return sf.Packet(p:bytes(), {linktype = require("stackforge.live").is_frame(p) and 1 or 101})
end

local MAC = "02:00:00:00:00:aa"
local PEER = "02:00:00:00:00:01"

describe("AnsweringMachine", function()
  it("counts requests and replies, logs errors in callbacks with the script's line", function()
    local lines, log = keeper()
    local am = sf.AnsweringMachine{name = "Mine", log = log,
      is_request = function(p) return p[sf.UDP] ~= nil end,
      make_reply = function(p)
        if p[sf.UDP].dport == 1 then error("port one") end
        if p[sf.UDP].dport == 2 then return 7 end
        if p[sf.UDP].dport == 3 then return {"\1\2", sf.IP() / sf.UDP()} end
        return sf.IP() / sf.UDP{dport = p[sf.UDP].sport}
      end}
    assert.equal(1, #am:handle(frame(sf.Ether() / sf.IP() / sf.UDP{dport = 9})))
    assert.equal(0, #am:handle(frame(sf.Ether() / sf.IP() / sf.TCP())))
    assert.equal(0, #am:handle(frame(sf.Ether() / sf.IP() / sf.UDP{dport = 1})))
    assert.equal(0, #am:handle(frame(sf.Ether() / sf.IP() / sf.UDP{dport = 2})))
    assert.equal(2, #am:handle(frame(sf.Ether() / sf.IP() / sf.UDP{dport = 3})))
    local st = am:stats()
    assert.equal(5, st.seen)
    assert.equal(4, st.requests)
    assert.equal(3, st.replies)
    assert.equal(2, st.errors)
    assert.matches("^Mine: make_reply: [^:]*automaton_spec%.lua:%d+: port one %(on Ethernet / IPv4 / UDP%)$", lines[1])
    assert.matches("^Mine: make_reply: [^:]*automaton_spec%.lua:%d+: make_reply returned a number", lines[2])
    assert.is_false(am:is_running())
    assert.equal("<Mine: 4 requests, 3 replies>", tostring(am))
  end)

  it("malformed(p) gives a reason to ignore a request (logged, counted) before make_reply", function()
    local lines, log = keeper()
    local made = 0
    local am = sf.AnsweringMachine{name = "Picky", log = log,
      is_request = function(p) return p[sf.UDP] ~= nil end,
      malformed = function(p)
        if p[sf.UDP].dport == 1 then return "port one is not served" end
        if p[sf.UDP].dport == 2 then error("picky failed") end
      end,
      make_reply = function() made = made + 1; return sf.IP() / sf.UDP() end}
    assert.equal(0, #am:handle(frame(sf.Ether() / sf.IP() / sf.UDP{dport = 1})))
    assert.equal(0, #am:handle(frame(sf.Ether() / sf.IP() / sf.UDP{dport = 2})))
    assert.equal(1, #am:handle(frame(sf.Ether() / sf.IP() / sf.UDP{dport = 3})))
    assert.same({3, 1, 1, 1}, {am.requests, am.malformed, am.errors, made})
    assert.equal("Picky: ignored Ethernet / IPv4 / UDP: port one is not served", lines[1])
    assert.matches("^Picky: malformed: [^:]*automaton_spec%.lua:%d+: picky failed", lines[2])
  end)

  it("rejects bad definitions, naming the option", function()
    assert.has_error(function() sf.AnsweringMachine{make_reply = print} end,
      "AnsweringMachine: 'is_request' is required (a function)")
    assert.has_error(function() sf.AnsweringMachine{is_request = print, make_reply = print, filter = "arp"} end)
    local ok, e = pcall(sf.AnsweringMachine, {is_request = print, make_reply = print, bpf_filter = "tcp port x"})
    assert.is_false(ok)
    assert.matches("AnsweringMachine: bpf_filter: .*port", e)
  end)

  it("stop and close are harmless before start and twice; a closed machine does not start", function()
    local am = sf.AnsweringMachine{is_request = print, make_reply = print}
    am:stop()
    am:close()
    am:close()
    assert.has_error(function() am:start() end, "AnsweringMachine: attempt to use a closed machine")
  end)
end)

describe("built-in machines' replies", function()
  it("ArpResponderAM: is-at for its addresses and networks only, not for announcements", function()
    local lines, log = keeper()
    local am = sf.ArpResponderAM{addresses = {"10.0.0.5", "10.0.1.0/28"}, mac = MAC, log = log}
    local function ask(pdst, psrc, extra)
      local t = {op = "who-has", hwsrc = PEER, psrc = psrc or "10.0.0.1", pdst = pdst}
      for k, v in pairs(extra or {}) do t[k] = v end
      return am:handle(frame(sf.Ether{src = PEER, dst = "ff:ff:ff:ff:ff:ff"} / sf.ARP(t)))
    end
    local r = ask("10.0.1.9")
    assert.equal(1, #r)
    local a = frame(r[1])
    assert.equal(PEER, a.dst)
    assert.equal(MAC, a.src)
    assert.equal(2, a[sf.ARP].op)
    assert.equal("10.0.1.9", a[sf.ARP].psrc)
    assert.equal(MAC, a[sf.ARP].hwsrc)
    assert.equal("10.0.0.1", a[sf.ARP].pdst)
    assert.equal(PEER, a[sf.ARP].hwdst)
    assert.equal(0, #ask("10.0.1.16"))           -- outside the /28
    assert.equal(0, #ask("10.0.0.5", "10.0.0.5")) -- an announcement
    assert.equal(1, #ask("10.0.0.5", "0.0.0.0"))  -- a probe (RFC 5227) is answered
    assert.equal(0, #ask("10.0.0.5", nil, {ptype = 0x86dd}))
    assert.matches("ignored Ethernet / ARP.*ptype 0x86dd", lines[1])
    assert.equal(1, am.malformed)
  end)

  it("NdpResponderAM: solicited advertisements, to all nodes for duplicate address detection", function()
    local lines, log = keeper()
    local am = sf.NdpResponderAM{addresses = {"fd00::5", "fe80::/64"}, mac = MAC, log = log}
    local function ask(src, tgt, hlim)
      return am:handle(frame(sf.Ether{src = PEER} / sf.IPv6{src = src, dst = "ff02::1:ff00:5", hlim = hlim}
        / sf.ICMPv6ND_NS{tgt = tgt} / sf.ICMPv6NDOptSrcLLAddr{lladdr = PEER}))
    end
    local na = frame(ask("fd00::1", "fd00::5")[1])
    assert.equal(PEER, na.dst)
    assert.equal("fd00::5", na[sf.IPv6].src)
    assert.equal("fd00::1", na[sf.IPv6].dst)
    assert.equal(255, na[sf.IPv6].hlim)
    local icmp = na[sf.ICMPv6]
    assert.equal(136, icmp.type)
    assert.same({0, 1, 1}, {icmp.R, icmp.S, icmp.O})
    assert.equal("fd00::5", icmp.tgt)
    assert.equal(MAC, na:layer(4).lladdr)
    local dad = frame(ask("::", "fe80::1234")[1])
    assert.equal("33:33:00:00:00:01", dad.dst)
    assert.equal("ff02::1", dad[sf.IPv6].dst)
    assert.equal(0, dad[sf.ICMPv6].S)
    assert.equal(0, #ask("fd00::1", "fd00::6"))
    assert.equal(0, #ask("fd00::1", "fd00::5", 64))
    assert.matches("hop limit is not 255", lines[1])
  end)

  it("IcmpEchoAM: echo replies with the request's id, seq and data, v4 and v6", function()
    local am = sf.IcmpEchoAM{addresses = {"10.0.0.7", "fd00::7"}, mac = MAC, resolve = true}
    local r4 = frame(am:handle(frame(sf.Ether{src = PEER} / sf.IP{src = "10.0.0.1", dst = "10.0.0.7", tos = 0x10}
      / sf.ICMP.echo_request{id = 3, seq = 4} / "payload"))[1])
    assert.equal("Ethernet / IPv4 / ICMP / Raw", r4:summary())
    assert.equal(PEER, r4.dst)
    assert.same({"10.0.0.7", "10.0.0.1", 0x10, 64}, {r4[sf.IP].src, r4[sf.IP].dst, r4[sf.IP].tos, r4[sf.IP].ttl})
    assert.same({0, 3, 4}, {r4[sf.ICMP].type, r4[sf.ICMP].id, r4[sf.ICMP].seq})
    assert.equal("payload", r4[sf.Raw].load)
    local r6 = frame(am:handle(frame(sf.Ether{src = PEER} / sf.IPv6{src = "fd00::1", dst = "fd00::7"}
      / sf.ICMPv6EchoRequest{id = 5, seq = 6, data = "six"}))[1])
    assert.same({"fd00::7", "fd00::1"}, {r6[sf.IPv6].src, r6[sf.IPv6].dst})
    assert.same({129, 5, 6, "six"}, {r6[sf.ICMPv6].type, r6[sf.ICMPv6].id, r6[sf.ICMPv6].seq, r6[sf.ICMPv6].data})
    -- checksums as the kernel checks them
    assert.equal(r4:bytes(), r4:build():bytes())
    assert.equal(0, core.checksum(r4:bytes():sub(35)))
    assert.equal(0, #am:handle(frame(sf.Ether() / sf.IP{dst = "10.0.0.8"} / sf.ICMP.echo_request())))
    assert.equal(0, #am:handle(frame(sf.Ether() / sf.IP{dst = "10.0.0.7"} / sf.ICMP.echo_reply())))
    -- ARP and ND for its addresses (resolve = true)
    assert.equal(1, #am:handle(frame(sf.Ether{src = PEER} / sf.ARP{hwsrc = PEER, psrc = "10.0.0.1", pdst = "10.0.0.7"})))
    assert.equal(1, #am:handle(frame(sf.Ether{src = PEER} / sf.IPv6{src = "fd00::1"} / sf.ICMPv6ND_NS{tgt = "fd00::7"})))
    local quiet = sf.IcmpEchoAM{addresses = {"10.0.0.7"}, mac = MAC, resolve = false}
    assert.equal(0, #quiet:handle(frame(sf.Ether{src = PEER} / sf.ARP{hwsrc = PEER, psrc = "10.0.0.1", pdst = "10.0.0.7"})))
  end)

  it("TcpRstAM: resets either side acceptably (seq from the ack; ack for a SYN)", function()
    local am = sf.TcpRstAM{}
    local function seg(flags, seq, ack, data)
      local p = sf.Ether() / sf.IP{src = "10.0.0.1", dst = "10.0.0.2"}
        / sf.TCP{sport = 40000, dport = 80, flags = flags, seq = seq, ack = ack}
      if data then p = p / data end
      return am:handle(frame(p))
    end
    local r = seg("PA", 1000, 5000, "hello")
    assert.equal(2, #r)
    local to_client, to_server = frame(r[1]), frame(r[2])
    assert.same({"10.0.0.2", "10.0.0.1", 80, 40000, 5000, "R"}, {to_client[sf.IP].src, to_client[sf.IP].dst,
      to_client[sf.TCP].sport, to_client[sf.TCP].dport, to_client[sf.TCP].seq, to_client[sf.TCP].flags})
    assert.same({"10.0.0.1", "10.0.0.2", 40000, 80, 1005, "R"}, {to_server[sf.IP].src, to_server[sf.IP].dst,
      to_server[sf.TCP].sport, to_server[sf.TCP].dport, to_server[sf.TCP].seq, to_server[sf.TCP].flags})
    local syn = seg("S", 0xffffffff, 0)
    assert.equal(1, #syn)
    assert.same({"RA", 0, 0}, {frame(syn[1])[sf.TCP].flags, frame(syn[1])[sf.TCP].seq, frame(syn[1])[sf.TCP].ack})
    assert.equal(0, #seg("R", 1, 1))  -- a reset is never answered
    local one = sf.TcpRstAM{both = false}
    assert.equal(1, #one:handle(frame(sf.Ether() / sf.IP() / sf.TCP{flags = "A"})))
  end)

  it("options are checked, naming the machine and the option", function()
    local ok, e = pcall(sf.ArpResponderAM, {addresses = {"10.0.0.300"}})
    assert.is_false(ok)
    assert.matches("ArpResponderAM: addresses%[1%]: bad address \"10.0.0.300\"", e)
    assert.has_error(function() sf.ArpResponderAM{} end)
    assert.has_error(function() sf.NdpResponderAM{addresses = "fd00::1", mc = MAC} end)
    ok, e = pcall(sf.IcmpEchoAM, {addresses = "10.0.0.1", resolve = "yes"})
    assert.matches("IcmpEchoAM: option 'resolve' expected \"auto\", true or false, got \"yes\"", e)
    ok, e = pcall(sf.TcpRstAM, {bpf_filter = "port x"})
    assert.matches("TcpRstAM: bpf_filter: ", e)
    local am = sf.ArpResponderAM{addresses = "10.0.0.1"}
    ok, e = pcall(am.start, am, {iface = "lo", bogus = 1})
    assert.is_false(ok)
    assert.matches("AutomatonConfig has no field 'bogus'", e)
  end)
end)

describe("DhcpServerAM's answers", function()
  local SERVER_MAC = "02:00:00:00:00:01"
  local function pool(extra)
    local t = {pool_start = "10.0.0.100", pool_end = "10.0.0.102", server_ip = "10.0.0.1",
      gateway = "10.0.0.254", dns_servers = {"10.0.0.53"}, lease_time = 3600, domain = "lab.test"}
    for k, v in pairs(extra or {}) do t[k] = v end
    return sf.DhcpPoolConfig(t)
  end

  local function server(extra, opts)
    local lines, log = keeper()
    opts = opts or {}
    opts.server_mac, opts.log = SERVER_MAC, log
    return sf.DhcpServerAM(pool(extra), opts), lines
  end

  -- a client's message; bootp: BOOTP's fields over the defaults
  local function msg(mac, mtype, opts, bootp)
    local b = {xid = 0x1234, chaddr = mac, flags = "B"}
    for k, v in pairs(bootp or {}) do b[k] = v end
    local list = {{"message-type", mtype}}
    for _, o in ipairs(opts or {}) do list[#list + 1] = o end
    list[#list + 1] = "end"
    return frame(sf.Ether{src = mac, dst = "ff:ff:ff:ff:ff:ff"} / sf.IP{src = b.ciaddr or "0.0.0.0",
      dst = "255.255.255.255"} / sf.UDP{sport = 68, dport = 67} / sf.BOOTP(b) / sf.DHCP{options = list})
  end

  local function opt(p, name)
    for _, o in ipairs(p[sf.DHCP].options) do
      if type(o) == "table" and o[1] == name then return table.unpack(o, 2) end
    end
  end

  local function one(dhcp, p)
    local r = dhcp:handle(p)
    assert.is_true(#r <= 1)
    return r[1] and frame(r[1])
  end

  local function dora(dhcp, mac, extra)
    local offer = one(dhcp, msg(mac, "discover", extra))
    local ack = one(dhcp, msg(mac, "request", {{"server_id", "10.0.0.1"},
      {"requested_addr", offer[sf.BOOTP].yiaddr}}))
    return offer, ack
  end

  it("offers and acknowledges with the options asked for, in the order asked", function()
    local dhcp = server()
    local A = "02:00:00:00:00:0a"
    local offer = one(dhcp, msg(A, "discover", {{"param_req_list", {"domain", "router", "subnet_mask", 42}},
      {"hostname", "alpha"}}))
    assert.equal("offer", opt(offer, "message-type"))
    assert.equal("10.0.0.100", offer[sf.BOOTP].yiaddr)
    assert.equal(2, offer[sf.BOOTP].op)
    assert.equal(0x1234, offer[sf.BOOTP].xid)
    assert.equal("ff:ff:ff:ff:ff:ff", offer.dst)  -- the broadcast flag
    assert.equal(SERVER_MAC, offer.src)
    local names = {}
    for i, o in ipairs(offer[sf.DHCP].options) do names[i] = type(o) == "table" and o[1] or o end
    assert.same({"message-type", "server_id", "lease_time", "renewal_time", "rebinding_time",
      "domain", "router", "subnet_mask", "end"}, names)
    assert.same({3600, 1800, 3150}, {opt(offer, "lease_time"), opt(offer, "renewal_time"), opt(offer, "rebinding_time")})
    assert.equal("offered", dhcp:lease(A).state)
    local ack = one(dhcp, msg(A, "request", {{"server_id", "10.0.0.1"}, {"requested_addr", "10.0.0.100"}}))
    assert.equal("ack", opt(ack, "message-type"))
    assert.equal("10.0.0.100", ack[sf.BOOTP].yiaddr)
    local l = dhcp:lease(A)
    assert.same({"10.0.0.100", "bound", 3600, "alpha"}, {l.ip, l.state, l.expires, l.hostname})
    -- no request list: subnet mask, router, DNS, domain
    local _, ack2 = dora(dhcp, "02:00:00:00:00:0b")
    assert.same({"255.255.255.0", "10.0.0.254", "10.0.0.53", "lab.test"},
      {opt(ack2, "subnet_mask"), opt(ack2, "router"), opt(ack2, "name_server"), opt(ack2, "domain")})
    -- unicast to the new address when the client did not ask for broadcast
    local o3 = one(dhcp, msg("02:00:00:00:00:0c", "discover", nil, {flags = ""}))
    assert.same({"02:00:00:00:00:0c", "10.0.0.102"}, {o3.dst, o3[sf.IP].dst})
    -- flags other than broadcast (which must be zero) are not echoed
    local o4 = one(server(), msg("02:00:00:00:00:0d", "discover", nil, {flags = 0x8001}))
    assert.same({"B", "ff:ff:ff:ff:ff:ff"}, {o4[sf.BOOTP].flags, o4.dst})
  end)

  it("NAKs a wrong or foreign request, forgets an offer the client declined for another server", function()
    local dhcp = server()
    local A = "02:00:00:00:00:0a"
    one(dhcp, msg(A, "discover"))
    local nak = one(dhcp, msg(A, "request", {{"server_id", "10.0.0.1"}, {"requested_addr", "10.0.0.101"}}))
    assert.equal("nak", opt(nak, "message-type"))
    assert.equal("0.0.0.0", nak[sf.BOOTP].yiaddr)
    assert.equal("255.255.255.255", nak[sf.IP].dst)
    -- init-reboot with an address of another subnet
    nak = one(dhcp, msg(A, "request", {{"requested_addr", "192.168.1.5"}}))
    assert.equal("nak", opt(nak, "message-type"))
    -- another server chosen: silence, and our offer is gone
    assert.is_nil(one(dhcp, msg(A, "request", {{"server_id", "10.0.0.2"}, {"requested_addr", "10.0.0.100"}})))
    assert.is_nil(dhcp:lease(A))
    -- an address bound to B is not A's
    local _, bk = dora(dhcp, "02:00:00:00:00:0b")
    nak = one(dhcp, msg(A, "request", {{"requested_addr", bk[sf.BOOTP].yiaddr}}))
    assert.equal("nak", opt(nak, "message-type"))
    assert.equal(3, dhcp.server.naks)
  end)

  it("renews and rebinds (ciaddr), answers INFORM without a lease, takes a RELEASE", function()
    local dhcp = server()
    local A = "02:00:00:00:00:0a"
    dora(dhcp, A)
    local renew = one(dhcp, msg(A, "request", nil, {ciaddr = "10.0.0.100", flags = ""}))
    assert.equal("ack", opt(renew, "message-type"))
    assert.same({"10.0.0.100", "10.0.0.100", A}, {renew[sf.IP].dst, renew[sf.BOOTP].ciaddr, renew.dst})
    local inform = one(dhcp, msg("02:00:00:00:00:0f", "inform", nil, {ciaddr = "10.0.0.9", flags = ""}))
    assert.equal("ack", opt(inform, "message-type"))
    assert.equal("0.0.0.0", inform[sf.BOOTP].yiaddr)
    assert.equal("10.0.0.9", inform[sf.IP].dst)
    assert.is_nil(opt(inform, "lease_time"))
    assert.equal("10.0.0.254", opt(inform, "router"))
    assert.is_nil(one(dhcp, msg(A, "release", {{"server_id", "10.0.0.1"}}, {ciaddr = "10.0.0.100"})))
    assert.equal("released", dhcp:lease(A).state)
    -- the same client gets the same address back
    local offer = one(dhcp, msg(A, "discover"))
    assert.equal("10.0.0.100", offer[sf.BOOTP].yiaddr)
  end)

  it("DECLINE marks the address bad; exhaustion is silence and a log line; reservations hold", function()
    local dhcp, lines = server({reservations = {["02:00:00:00:00:ee"] = "10.0.0.50"}})
    local A, B, C = "02:00:00:00:00:0a", "02:00:00:00:00:0b", "02:00:00:00:00:0c"
    dora(dhcp, A)
    assert.is_nil(one(dhcp, msg(A, "decline", {{"server_id", "10.0.0.1"}, {"requested_addr", "10.0.0.100"}})))
    assert.equal("declined", dhcp:lease("10.0.0.100").state)
    assert.matches("DECLINE from 02:00:00:00:00:0a: 10.0.0.100 marked bad for 600 s", lines[1])
    assert.equal("10.0.0.101", dora(dhcp, A)[sf.BOOTP].yiaddr)
    assert.equal("10.0.0.102", dora(dhcp, B)[sf.BOOTP].yiaddr)
    assert.is_nil(one(dhcp, msg(C, "discover")))  -- .100 is bad, .101 and .102 are taken
    assert.equal("DhcpServerAM: pool exhausted: no address for 02:00:00:00:00:0c (10.0.0.100-10.0.0.102)", lines[2])
    assert.equal("10.0.0.50", dora(dhcp, "02:00:00:00:00:ee")[sf.BOOTP].yiaddr)
    -- a client asking for a reserved address does not get it
    local o = one(dhcp, msg(C, "request", {{"requested_addr", "10.0.0.50"}}))
    assert.equal("nak", opt(o, "message-type"))
  end)

  it("answers ARP for its address when asked to (answer_arp = true), and not otherwise", function()
    local function who_has(dhcp)
      return dhcp:handle(frame(sf.Ether{src = "02:00:00:00:00:0a", dst = "ff:ff:ff:ff:ff:ff"}
        / sf.ARP{hwsrc = "02:00:00:00:00:0a", psrc = "10.0.0.100", pdst = "10.0.0.1"}))
    end
    local r = who_has(server(nil, {answer_arp = true}))
    assert.equal(1, #r)
    assert.same({"is-at", "10.0.0.1", SERVER_MAC}, {frame(r[1])[sf.ARP].op == 2 and "is-at",
      frame(r[1])[sf.ARP].psrc, frame(r[1])[sf.ARP].hwsrc})
    assert.equal(0, #who_has(server(nil, {answer_arp = false})))
  end)

  it("answers a relayed request to the relay, at port 67", function()
    local dhcp = server()
    local r = dhcp:handle(msg("02:00:00:00:00:0a", "discover", nil, {giaddr = "10.0.0.250", hops = 1}))
    assert.equal(1, #r)
    local offer = frame(r[1])  -- a datagram: the kernel routes it
    assert.equal("IPv4 / UDP / BOOTP / DHCP", offer:summary())
    assert.same({"10.0.0.1", "10.0.0.250", 67, 67}, {offer[sf.IP].src, offer[sf.IP].dst,
      offer[sf.UDP].sport, offer[sf.UDP].dport})
    assert.equal("10.0.0.250", offer[sf.BOOTP].giaddr)
    -- a relay of another subnet is not ours to serve
    assert.equal(0, #dhcp:handle(msg("02:00:00:00:00:0b", "discover", nil, {giaddr = "192.168.0.1"})))
    assert.equal(1, dhcp.malformed)
  end)

  it("keeps its leases in a file across runs", function()
    local path = os.tmpname()
    local dhcp = server(nil, {lease_file = path})
    dora(dhcp, "02:00:00:00:00:0a", {{"hostname", "alpha"}})
    dora(dhcp, "02:00:00:00:00:0b")
    assert.is_true(dhcp:save_leases())
    local again = server(nil, {lease_file = path})
    assert.equal(2, again.server.restored)
    local l = again:lease("02:00:00:00:00:0a")
    assert.same({"10.0.0.100", "bound", "alpha"}, {l.ip, l.state, l.hostname})
    assert.equal("10.0.0.101", one(again, msg("02:00:00:00:00:0b", "discover"))[sf.BOOTP].yiaddr)
    assert.equal("10.0.0.102", one(again, msg("02:00:00:00:00:0c", "discover"))[sf.BOOTP].yiaddr)
    os.remove(path)
  end)

  it("ignores what it cannot serve, with a reason", function()
    local dhcp, lines = server()
    local plain = frame(sf.Ether() / sf.IP() / sf.UDP{sport = 68, dport = 67} / sf.BOOTP{chaddr = "02:00:00:00:00:0a"})
    assert.equal(0, #dhcp:handle(plain))
    assert.matches("BOOTP without DHCP options", lines[1])
    assert.equal(0, #dhcp:handle(msg("02:00:00:00:00:0a", "discover", nil, {htype = 6})))
    assert.matches("not Ethernet %(htype 6, hlen 6%)", lines[2])
    assert.equal(0, #dhcp:handle(msg("02:00:00:00:00:0a", "offer")))
    assert.matches("no message type this server answers %(offer%)", lines[3])
    local whole = msg("02:00:00:00:00:0a", "discover"):bytes()
    local cut = sf.Packet(whole:sub(1, #whole - 2))
    assert.equal(0, #dhcp:handle(cut))
    assert.equal(4, dhcp.malformed)
    assert.equal(0, dhcp.errors)
  end)

  it("checks its pool, naming the field", function()
    local function err(t) local ok, e = pcall(sf.DhcpPoolConfig, t); assert.is_false(ok); return e end
    assert.matches("DhcpPoolConfig.pool_start: is required",
      err{pool_end = "10.0.0.2", server_ip = "10.0.0.1"})
    assert.matches("DhcpPoolConfig.pool_end: comes before pool_start",
      err{pool_start = "10.0.0.9", pool_end = "10.0.0.2", server_ip = "10.0.0.1"})
    assert.matches("DhcpPoolConfig.pool_end: 10.0.1.2 is not in the server's subnet 10.0.0.0/24",
      err{pool_start = "10.0.0.9", pool_end = "10.0.1.2", server_ip = "10.0.0.1"})
    assert.matches("DhcpPoolConfig.subnet_mask: not a contiguous mask",
      err{pool_start = "10.0.0.9", pool_end = "10.0.0.10", server_ip = "10.0.0.1", subnet_mask = "255.0.255.0"})
    assert.matches("DhcpPoolConfig has no field 'lease'", err{lease = 5})
    assert.matches("DhcpPoolConfig.gateway: bad IPv4 address \"x\"",
      err{pool_start = "10.0.0.9", pool_end = "10.0.0.10", server_ip = "10.0.0.1", gateway = "x"})
    assert.has_error(function() sf.DhcpServerAM({}) end)
    assert.has_error(function() sf.DhcpServerAM(pool(), {server_mac = "x"}) end)
  end)
end)

describe("p:reversed()", function()
  local function parsed(p) return sf.Packet(p:bytes()) end

  it("swaps link, network and transport sources and destinations, keeps the payload", function()
    local p = parsed(sf.Ether{src = "02:00:00:00:00:01", dst = "02:00:00:00:00:02"}
      / sf.Dot1Q{vlan = 7} / sf.IP{src = "10.0.0.1", dst = "10.0.0.2", ttl = 9}
      / sf.TCP{sport = 1234, dport = 80, seq = 5, ack = 6, flags = "PA"} / "data")
    local r = p:reversed()
    assert.same({"02:00:00:00:00:02", "02:00:00:00:00:01", 7}, {r.src, r.dst, r[sf.Dot1Q].vlan})
    assert.same({"10.0.0.2", "10.0.0.1", 9}, {r[sf.IP].src, r[sf.IP].dst, r[sf.IP].ttl})
    assert.same({80, 1234, 5, 6, "PA", "data"}, {r[sf.TCP].sport, r[sf.TCP].dport, r[sf.TCP].seq,
      r[sf.TCP].ack, r[sf.TCP].flags, r[sf.Raw].load})
    assert.equal("10.0.0.1", p[sf.IP].src)  -- a copy: the packet is unchanged
    local b = r:bytes()
    assert.equal(b, sf.Packet(b):build():bytes())  -- checksums recomputed
    local u = parsed(sf.Ether() / sf.IPv6{src = "fd00::1", dst = "fd00::2"} / sf.UDP{sport = 5353, dport = 53} / "q"):reversed()
    assert.same({"fd00::2", "fd00::1", 53, 5353}, {u[sf.IPv6].src, u[sf.IPv6].dst, u[sf.UDP].sport, u[sf.UDP].dport})
    assert.equal(0, core.checksum(u:bytes():sub(15 + 8, 15 + 23) .. u:bytes():sub(15 + 24, 15 + 39)
      .. string.pack(">I4I4", #u:bytes() - 54, 17) .. u:bytes():sub(55)))
  end)

  it("makes an ICMP or ICMPv6 echo request its reply; other ICMP types and what they quote stay", function()
    local e = parsed(sf.Ether() / sf.IP{src = "10.0.0.1", dst = "10.0.0.2"} / sf.ICMP.echo_request{id = 3, seq = 4} / "x"):reversed()
    assert.same({0, 3, 4, "x"}, {e[sf.ICMP].type, e[sf.ICMP].id, e[sf.ICMP].seq, e[sf.Raw].load})
    assert.equal(0, core.checksum(e:bytes():sub(35)))
    local ts = parsed(sf.Ether() / sf.IP{src = "10.0.0.1", dst = "10.0.0.2"} / sf.ICMP.timestamp_request()):reversed()
    assert.equal(14, ts[sf.ICMP].type)
    local e6 = parsed(sf.Ether() / sf.IPv6{src = "fd00::1", dst = "fd00::2"} / sf.ICMPv6EchoRequest{id = 1, seq = 2, data = "d"}):reversed()
    assert.same({129, "d", "fd00::2"}, {e6[sf.ICMPv6].type, e6[sf.ICMPv6].data, e6[sf.IPv6].src})
    local err = parsed(sf.Ether() / sf.IP{src = "10.0.0.9", dst = "10.0.0.1"} / sf.ICMP.dest_unreach{code = 3}
      / sf.IP{src = "10.0.0.1", dst = "10.0.0.2"} / sf.UDP{sport = 1, dport = 2})
    local r = err:reversed()
    assert.same({3, "10.0.0.1", "10.0.0.2", 1, 2}, {r[sf.ICMP].type, r:layer(4).src, r:layer(4).dst,
      r[sf.UDP].sport, r[sf.UDP].dport})
    assert.same({"10.0.0.1", "10.0.0.9"}, {r[sf.IP].src, r[sf.IP].dst})
    local arp = parsed(sf.Ether{src = "02:00:00:00:00:01", dst = "ff:ff:ff:ff:ff:ff"} / sf.ARP{psrc = "10.0.0.1", pdst = "10.0.0.2"}):reversed()
    assert.same({"ff:ff:ff:ff:ff:ff", "10.0.0.1"}, {arp.src, arp[sf.ARP].psrc})  -- ARP: only the link
  end)

  it("never reads past malformed bytes", function()
    local full = (sf.Ether() / sf.IP() / sf.TCP() / "abc"):bytes()
    for n = 0, #full do  -- every cut of the frame: as many bytes come out
      local cut = sf.Packet(full:sub(1, n))
      assert.equal(n, #cut:reversed():bytes())
    end
  end)
end)

describe("DnsServerAM's answers", function()
  local function server(extra)
    local t = {records = {
      ["www.lab.test"] = {A = {"10.0.0.80", "10.0.0.81"}, AAAA = "fd00::80", TXT = "hi"},
      ["mail.lab.test"] = {CNAME = "www.lab.test"},
      ["loop1.lab.test"] = {CNAME = "loop2.lab.test"}, ["loop2.lab.test"] = {CNAME = "loop1.lab.test"},
    }, mac = MAC, log = function() end}
    for k, v in pairs(extra or {}) do t[k] = v end
    return sf.DnsServerAM(t)
  end
  local function query(dns_fields, udp_extra)
    local udp = {sport = 40000, dport = 53}
    for k, v in pairs(udp_extra or {}) do udp[k] = v end
    return frame(sf.Ether{src = PEER} / sf.IP{src = "10.0.0.1", dst = "10.0.0.53"} / sf.UDP(udp) / sf.DNS(dns_fields))
  end
  local function ask(dns, fields)
    local r = dns:handle(query(fields))
    return r[1] and frame(r[1])[sf.DNS]
  end

  it("answers from its table: types, CNAMEs followed (and a loop cut), ANY, empty, NXDOMAIN", function()
    local dns = server()
    local d = ask(dns, {id = 5, rd = 1, qd = sf.DNSQR{qname = "www.lab.test", qtype = "A"}})
    assert.same({5, 1, 1, 1, 0, 2}, {d.id, d.qr, d.aa, d.rd, d.rcode, d.ancount})
    assert.same({"10.0.0.80", "10.0.0.81"}, {d.an[1].rdata, d.an[2].rdata})
    assert.equal("www.lab.test.", d.qd[1].qname)
    d = ask(dns, {qd = sf.DNSQR{qname = "MAIL.Lab.Test.", qtype = "AAAA"}})
    assert.same({5, "www.lab.test.", 28, "fd00::80"}, {d.an[1].type, d.an[1].rdata, d.an[2].type, d.an[2].rdata})
    d = ask(dns, {qd = sf.DNSQR{qname = "loop1.lab.test"}})
    assert.equal(0, d.rcode)
    assert.is_true(d.ancount <= 8)
    d = ask(dns, {qd = sf.DNSQR{qname = "www.lab.test", qtype = 255}})
    assert.equal(4, d.ancount)  -- A, A, TXT, AAAA
    d = ask(dns, {qd = sf.DNSQR{qname = "www.lab.test", qtype = "MX"}})
    assert.same({0, 0}, {d.rcode, d.ancount})
    d = ask(dns, {qd = sf.DNSQR{qname = "nosuch.lab.test"}})
    assert.same({3, 0, 1}, {d.rcode, d.ancount, d.aa})
  end)

  it("FORMERR without one question, NOTIMP for other opcodes and classes; responses are not answered", function()
    local dns = server()
    assert.equal(1, ask(dns, {qd = {}}).rcode)
    assert.equal(1, ask(dns, {qd = {sf.DNSQR{qname = "a.lab.test"}, sf.DNSQR{qname = "b.lab.test"}}}).rcode)
    assert.equal(4, ask(dns, {opcode = 2, qd = sf.DNSQR{qname = "www.lab.test"}}).rcode)
    assert.equal(4, ask(dns, {qd = sf.DNSQR{qname = "www.lab.test", qclass = "CH"}}).rcode)
    assert.is_nil(ask(dns, {qr = 1, qd = sf.DNSQR{qname = "www.lab.test"}}))
    assert.equal(0, #dns:handle(query({qd = sf.DNSQR{qname = "www.lab.test"}}, {dport = 5353})))
    assert.equal(0, dns.errors)
  end)

  it("compresses names, and truncates (tc) what 512 bytes cannot hold", function()
    local many = {}
    for i = 1, 40 do many[i] = ("10.0.1.%d"):format(i) end
    local dns = server{records = {["a-rather-long-name.of.a.lab.test"] = {A = many}}}
    local q = query({qd = sf.DNSQR{qname = "a-rather-long-name.of.a.lab.test"}})
    local d = frame(dns:handle(q)[1])[sf.DNS]
    assert.same({1, 0}, {d.tc, d.ancount})
    local few = server{records = {["a-rather-long-name.of.a.lab.test"] = {A = {"10.0.0.1", "10.0.0.2"}}}}
    local r = few:handle(q)[1]
    assert.equal(8 + 12 + 38 + 2 * 16, #r:bytes() - 14 - 20)  -- each answer's name a 2-byte pointer
  end)

  it("checks its table, naming the name and type", function()
    local function err(records) local ok, e = pcall(sf.DnsServerAM, {records = records}); assert.is_false(ok); return e end
    assert.matches("DnsServerAM: records%[\"x.test\"%]: unknown type MX", err{["x.test"] = {MX = "y"}})
    assert.matches("records%[\"x.test\"%].A: bad value \"fd00::1\"", err{["x.test"] = {A = "fd00::1"}})
    assert.matches("records%[\"x.test\"%]: a CNAME stands alone", err{["x.test"] = {CNAME = "y", A = "10.0.0.1"}})
    assert.matches("records must be a table", (select(2, pcall(sf.DnsServerAM, {}))))
    assert.equal("1.0.0.10.in-addr.arpa.", require("stackforge.machines.dns_server").reverse_name("10.0.0.1"))
  end)
end)

describe("DnsServerAM's reverse records", function()
  it("one PTR per address, whatever the order the table is walked in", function()
    local records = {}
    for i = 1, 200 do records[("h%d.lab.test"):format(i)] = {A = ("10.1.%d.%d"):format(i // 256, i % 256), AAAA = ("fd00::%x"):format(i)} end
    local dns = sf.DnsServerAM{records = records, reverse = true}
    local n = 0
    for name, entry in pairs(dns.zone) do
      if name:find("arpa%.$") then
        n = n + 1
        assert.equal(1, #entry[12])
      end
    end
    assert.equal(400, n)
  end)
end)
