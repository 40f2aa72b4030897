-- automata_bench.lua: the machines' side of bench/automata_bench.sh, run
-- inside a namespace.  One role per call:
--   sflua automata_bench.lua echo IFACE ADDR SECS [BUFFER]
--       IcmpEchoAM for ADDR on IFACE for SECS seconds; prints
--       "requests replies received dropped" (the machine's counts and its
--       capture's)
--   sflua automata_bench.lua flood IFACE DSTMAC ADDR N RATE
--       N echo requests to ADDR at RATE per second from IFACE (sendp, in
--       chunks of 500); prints "sent seconds"
--   sflua automata_bench.lua dhcp IFACE SECS
--       DhcpServerAM (pool 10.97.0.0/16 less its first 256) for SECS
--       seconds; prints "requests replies errors dropped leases"
--   sflua automata_bench.lua dora IFACE N WINDOW TIMEOUT
--       the load generator: N clients (MACs 02:dd:..), each DISCOVER,
--       OFFER, REQUEST, ACK, at most WINDOW exchanges in flight, each
--       DISCOVER or REQUEST sent again after TIMEOUT seconds (at most 3
--       times); prints "done lost seconds retries"
local sf = require("stackforge")
local core = require("stackforge.core")

local what = arg[1]
local function now() return core.now() end

-- run the loop until the machine has had requests and then none for a
-- second, or secs pass; then stop it
local function idle_stop(am, secs)
  local t0, last, seen = now(), now(), 0
  while now() - t0 < secs do
    sf.sleep(0.25)
    if am.requests ~= seen then seen, last = am.requests, now()
    elseif seen > 0 and now() - last > 1 then break end
  end
  am:stop()
end

if what == "echo" then
  local iface, addr, secs, buffer = arg[2], arg[3], tonumber(arg[4]), tonumber(arg[5] or "")
  local am = sf.IcmpEchoAM{addresses = addr}
  am:start(sf.AutomatonConfig{iface = iface, buffer_size = buffer})
  io.stdout:write("ready\n")
  io.stdout:flush()
  idle_stop(am, secs)
  local st = am:stats()
  print(st.requests, st.replies, st.received, st.dropped)
elseif what == "dhcp" then
  local iface, secs = arg[2], tonumber(arg[3])
  local pool = sf.DhcpPoolConfig{pool_start = "10.97.1.0", pool_end = "10.97.255.254",
    server_ip = "10.97.0.1", subnet_mask = "255.255.0.0", gateway = "10.97.0.1",
    dns_servers = {"10.97.0.1"}, lease_time = 3600, domain = "bench.test"}
  local am = sf.DhcpServerAM(pool, {log = function() end})
  am:start(sf.AutomatonConfig{iface = iface, buffer_size = 16 << 20})
  io.stdout:write("ready\n")
  io.stdout:flush()
  idle_stop(am, secs)
  local st, bound = am:stats(), 0
  for _, l in ipairs(am:leases()) do if l.state == "bound" then bound = bound + 1 end end
  print(st.requests, st.replies, st.errors, st.dropped, bound)
elseif what == "dora" then
  -- N clients, WINDOW in flight: DISCOVER (broadcast), the OFFER's
  -- address REQUESTed, the ACK ends the exchange; a message unanswered
  -- after TIMEOUT goes again, three times at most, then the client is lost
  local iface, n, window, timeout = arg[2], tonumber(arg[3]), tonumber(arg[4]), tonumber(arg[5])
  local function mac(i) return ("02:dd:%02x:%02x:%02x:%02x"):format(i >> 24 & 255, i >> 16 & 255, i >> 8 & 255, i & 255) end
  local function msg(i, mtype, extra)
    local opts = {{"message-type", mtype}, {"client_id", {1, mac(i)}},
      {"param_req_list", {"subnet_mask", "router", "name_server", "domain"}}}
    for _, o in ipairs(extra or {}) do opts[#opts + 1] = o end
    opts[#opts + 1] = "end"
    return sf.Ether{src = mac(i), dst = "ff:ff:ff:ff:ff:ff"} / sf.IP{src = "0.0.0.0", dst = "255.255.255.255"}
      / sf.UDP{sport = 68, dport = 67} / sf.BOOTP{xid = i, chaddr = mac(i), flags = "B"} / sf.DHCP{options = opts}
  end
  local sender = assert(core.sender_open("l2", iface))
  local flight, nextc, done, lost, retries = {}, 1, 0, 0, 0
  local function send(i, st)
    st.at, st.tries = now(), st.tries + 1
    sender:send({st.phase == "discover" and msg(i, "discover")
      or msg(i, "request", {{"requested_addr", st.yiaddr}, {"server_id", st.server}})}, 1)
  end
  local function start_next()
    if nextc > n then return end
    local st = {phase = "discover", tries = 0}
    flight[nextc] = st
    send(nextc, st)
    nextc = nextc + 1
  end
  local function option(p, name)
    for _, o in ipairs(p[sf.DHCP].options) do
      if type(o) == "table" and o[1] == name then return o[2] end
    end
  end
  local sn = sf.AsyncSniffer{iface = iface, filter = "udp src port 67 and udp dst port 68", store = false,
    immediate = true, buffer_size = 16 << 20, prn = function(p)
      local b = p[sf.BOOTP]
      local i = b and b.xid
      local st = i and flight[i]
      if not st or not p[sf.DHCP] then return end
      local t = option(p, "message-type")
      if t == "offer" and st.phase == "discover" then
        st.phase, st.yiaddr, st.server, st.tries = "request", b.yiaddr, option(p, "server_id"), 0
        send(i, st)
      elseif t == "ack" and st.phase == "request" then
        flight[i], done = nil, done + 1
        start_next()
      end
    end}
  sn:start()
  local t0 = now()
  for _ = 1, math.min(window, n) do start_next() end
  while done + lost < n do
    sf.sleep(timeout / 4)
    local t = now()
    for i, st in pairs(flight) do
      if t - st.at > timeout then
        if st.tries >= 3 then
          flight[i], lost = nil, lost + 1
          start_next()
        else
          retries = retries + 1
          send(i, st)
        end
      end
    end
  end
  local secs = now() - t0
  sn:stop()
  print(done, lost, secs, retries)
elseif what == "flood" then
  local iface, mac, addr, n, rate = arg[2], arg[3], arg[4], tonumber(arg[5]), tonumber(arg[6])
  local frames = {}
  local src, smac = sf.get_if_addr(iface), sf.get_if_hwaddr(iface)
  for i = 1, n do
    frames[i] = sf.Ether{dst = mac, src = smac} / sf.IP{src = src, dst = addr}
      / sf.ICMP.echo_request{id = 0x5151, seq = i & 0xffff} / ("%056d"):format(i)
  end
  -- chunks of CHUNK frames in one go (sendmmsg), each chunk when the rate
  -- says: sendp's own pacing sleeps per packet, too coarse at 100k/s
  local chunk, sent = 500, 0
  local t0 = now()
  for first = 1, n, chunk do
    local part = table.move(frames, first, math.min(n, first + chunk - 1), 1, {})
    local due = t0 + (first - 1) / rate
    if due > now() then sf.sleep(due - now()) end
    sent = sent + sf.sendp(part, {iface = iface})
  end
  print(sent, now() - t0)
end
