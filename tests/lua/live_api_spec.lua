-- The live API where no privilege is needed: options and their errors,
-- filters, sniff over a file, conf, routes, the loop.  Live traffic itself
-- is tests/live/live_spec.lua (namespaces, root).
local sf = require("stackforge")
local DATA = os.getenv("SFLUA_TESTDATA") or "tests/data"

local function err_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok)
  return tostring(err)
end

describe("options", function()
  it("unknown options and bad values name the function and the option", function()
    assert.truthy(err_of(sf.sniff, {iface_name = "x"}):find("sniff: unknown option 'iface_name' (options: ", 1, true))
    assert.truthy(err_of(sf.sniff, {count = -1}):find("sniff: option 'count' must be an integer >= 0, got -1", 1, true))
    assert.truthy(err_of(sf.sniff, {prn = 3}):find("sniff: option 'prn' must be a function, got 3", 1, true))
    assert.truthy(err_of(sf.sr1, sf.IP(), {timeout = -1}):find("sr1: option 'timeout' must be a number of seconds >= 0, got -1", 1, true))
    assert.truthy(err_of(sf.sendp, sf.Ether(), {inter = "x"}):find("sendp: option 'inter' must be a number of seconds >= 0, got string", 1, true))
    assert.truthy(err_of(sf.send, "x"):find("send: expected a packet or a list of packets, got string", 1, true))
    assert.truthy(err_of(sf.send, {sf.IP(), 5}):find("send: item 2 is a number, not a packet", 1, true))
    assert.truthy(err_of(sf.Sniffer, {count = 1}):find("Sniffer: unknown option 'count'", 1, true))
    assert.truthy(err_of(sf.traceroute, "10.0.0.1", {proto = "sctp"}):find("traceroute: option 'proto' must be", 1, true))
    assert.truthy(err_of(sf.arping, "10.0.0.0/8"):find("arping: /8 is too wide", 1, true))
  end)

  it("errors point at the caller's line", function()
    local ok, err = pcall(function() sf.sniff{bogus = 1} end)
    assert.truthy(err:find("^[^:]*live_api_spec.lua:%d+: sniff: unknown option"), err)
    ok, err = pcall(function() sf.sr({sf.IP()}, {retry = 0.5}) end)
    assert.truthy(err:find("^[^:]*live_api_spec.lua:%d+: sr: option 'retry'"), err)
    ok, err = pcall(function() sf.send(sf.Ether() / sf.IP()) end)
    assert.truthy(err:find("^[^:]*live_api_spec.lua:%d+: send: packet 1: the packet starts with Ethernet"), err)
  end)

  it("a Sniffer must be started, and is closed for good", function()
    local sn = sf.Sniffer{iface = "lo"}
    assert.truthy(err_of(sn.next, sn):find("Sniffer: not started (call start() first)", 1, true))
    sn:close()
    sn:close()  -- twice is harmless
    assert.truthy(err_of(sn.start, sn):find("attempt to use a closed sniffer", 1, true))
  end)
end)

describe("filters", function()
  it("validate_filter compiles with libpcap or says why not", function()
    assert.is_true(sf.validate_filter("tcp port 80 and host 10.0.0.1"))
    assert.is_true(sf.validate_filter("ip6", 1))
    assert.truthy(err_of(sf.validate_filter, "tcp port x"):find("validate_filter: bad filter tcp port x: ", 1, true))
    assert.truthy(err_of(sf.validate_filter, "ether host 1:2:3:4:5:6", 101):find("bad filter", 1, true))
    assert.truthy(err_of(sf.validate_filter, 5):find("validate_filter: expected a filter string, got number", 1, true))
  end)

  it("sniff{offline=} applies BPF as the dissector sees the packets", function()
    for _, name in ipairs{"dns_icmp.pcap", "http.pcap", "icmpv6.pcap"} do
      local path = DATA .. "/" .. name
      local all = sf.rdpcap(path)
      -- (not icmp6: libpcap's looks at the IPv6 header's next header only,
      -- and misses ICMPv6 after a hop-by-hop header, as MLD sends it)
      for _, f in ipairs{{"icmp", sf.ICMP}, {"tcp", sf.TCP}, {"udp", sf.UDP}, {"ip6", sf.IPv6}} do
        local want = 0
        for _, p in ipairs(all) do
          if p:has_layer(f[2]) then want = want + 1 end
        end
        local got = sf.sniff{offline = path, filter = f[1]}
        assert.equal(want, #got, name .. " " .. f[1])
      end
    end
  end)

  it("offline takes sniff's other options, and a list of packets", function()
    local path = DATA .. "/http.pcap"
    local seen = 0
    local got = sf.sniff{offline = path, filter = "tcp", count = 3, prn = function() seen = seen + 1 end}
    assert.equal(3, #got)
    assert.equal(3, seen)
    local stop = sf.sniff{offline = path, stop_filter = function(p) return #p > 100 end}
    assert.is_true(#stop[#stop] > 100)
    for i = 1, #stop - 1 do assert.is_true(#stop[i] <= 100) end
    local some = sf.sniff{offline = sf.rdpcap(path), lfilter = function(p) return #p > 100 end, store = true}
    for _, p in ipairs(some) do assert.is_true(#p > 100) end
    assert.equal(0, #sf.sniff{offline = path, store = false})
    assert.truthy(sf.sniff{offline = path, count = 2}:summary():find("Ether / IP / TCP", 1, true))
    assert.truthy(err_of(sf.sniff, {offline = DATA .. "/no-such.pcap"}):find("sniff: ", 1, true))
  end)
end)

describe("conf and routes", function()
  it("conf has Scapy's settings and rejects others", function()
    assert.is_string(sf.conf.iface)
    assert.equal(2, sf.conf.timeout)
    sf.conf.verb = 0
    assert.truthy(err_of(function() sf.conf.verbose = 1 end):find("conf: no setting 'verbose'", 1, true))
    local route = sf.conf.route
    assert.is_table(route)
    assert.truthy(tostring(route):find("Network", 1, true))
    local lo = route:get("127.0.0.1")
    assert.equal("lo", lo.iface)
    assert.equal("127.0.0.1", lo.src)
  end)

  it("lists interfaces with their addresses", function()
    local lo
    for _, i in ipairs(sf.list_interfaces()) do if i.name == "lo" then lo = i end end
    assert.is_table(lo)
    assert.truthy(table.concat(lo.flags, " "):find("LOOPBACK", 1, true))
    assert.equal("127.0.0.1", sf.get_if_addr("lo"))
    assert.equal("00:00:00:00:00:00", sf.get_if_hwaddr("lo"))
    assert.truthy(err_of(sf.get_if_hwaddr, "nosuch0"):find("get_if_hwaddr: no such interface: nosuch0", 1, true))
  end)
end)

describe("the loop", function()
  it("sleep runs the loop and lets timers fire", function()
    local core = require("stackforge.core")
    local fired = false
    core._after(0.01, function() fired = true end)
    local t0 = core.now()
    sf.sleep(0.05)
    assert.is_true(fired)
    assert.is_true(core.now() - t0 >= 0.045)
  end)

  it("a timer's error is raised by the call that ran the loop", function()
    local core = require("stackforge.core")
    core._after(0, function() error("from a timer") end)
    assert.truthy(err_of(sf.sleep, 0.05):find("from a timer", 1, true))
  end)

  it("require('luv') shares the loop", function()
    local ok, uv = pcall(require, "luv")
    if not ok then return pending("lua-luv is not installed") end
    local ticks = 0
    local t = uv.new_timer()
    t:start(5, 5, function() ticks = ticks + 1 end)
    -- our loop runs: luv's timer fires in it (a loaded machine may take
    -- longer than 15 ms for three ticks: up to 2 s)
    for _ = 1, 200 do
      sf.sleep(0.01)
      if ticks >= 3 then break end
    end
    t:stop()
    t:close()
    assert.is_true(ticks >= 3)
  end)
end)
