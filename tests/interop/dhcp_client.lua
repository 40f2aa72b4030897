-- dhcp_client.lua: the Lua half of run_dhcp_clients.sh.
--   sflua dhcp_client.lua discover OUT.pcap MAC XID   a DHCPDISCOVER built in Lua
--   sflua dhcp_client.lua request OFFER.pcap OUT.pcap  the DHCPREQUEST for that offer
--   sflua dhcp_client.lua ack ACK.pcap OFFER.pcap      is it the ACK for it?
--   sflua dhcp_client.lua check CAP.pcap TSV [TYPE...] every DHCP packet of CAP
--                                            reads as tshark's fields (TSV) say,
--                                            and each message TYPE is there
-- Exit status 0 when all is well; messages on stderr say what is not.
local sf = require("stackforge")
local df = require("dhcp_fields")

local function fail(fmt, ...)
  io.stderr:write(fmt:format(...), "\n")
  os.exit(1)
end

local function option(p, name)
  for _, o in ipairs(p[sf.DHCP] and p[sf.DHCP].options or {}) do
    if type(o) == "table" and o[1] == name then return o[2] end
  end
end

local function client(mac, xid, options)
  return sf.Ether{src = mac, dst = "ff:ff:ff:ff:ff:ff"} /
    sf.IP{src = "0.0.0.0", dst = "255.255.255.255"} / sf.UDP{sport = 68, dport = 67} /
    sf.BOOTP{xid = xid, chaddr = mac, flags = "B"} / sf.DHCP{options = options}
end

local function read_one(path, what)
  local pkts = sf.rdpcap(path)
  for _, p in ipairs(pkts) do
    if p[sf.DHCP] then return p end
  end
  fail("%s: no DHCP %s in %s (%d packets)", arg[0], what, path, #pkts)
end

local cmd = arg[1]
if cmd == "discover" then
  local mac, xid = arg[3], math.tointeger(tonumber(arg[4]))
  sf.wrpcap(arg[2], {client(mac, xid, {{"message-type", "discover"},
    {"client_id", {1, mac}}, {"hostname", "sflua"},
    {"param_req_list", {"subnet_mask", "router", "name_server", "domain",
      "domain_search", "classless_static_routes"}}, "end"})})
elseif cmd == "request" then
  local offer = read_one(arg[2], "offer")
  if option(offer, "message-type") ~= "offer" then fail("not an offer: %s", offer:summary()) end
  local b = offer[sf.BOOTP]
  sf.wrpcap(arg[3], {client(b.chaddr, b.xid, {{"message-type", "request"},
    {"client_id", {1, b.chaddr}}, {"requested_addr", b.yiaddr},
    {"server_id", option(offer, "server_id")}, {"hostname", "sflua"}, "end"})})
elseif cmd == "ack" then
  local ack, offer = read_one(arg[2], "ack"), read_one(arg[3], "offer")
  if option(ack, "message-type") ~= "ack" then fail("not an ACK: %s", sf.show(ack)) end
  if ack[sf.BOOTP].xid ~= offer[sf.BOOTP].xid or ack[sf.BOOTP].yiaddr ~= offer[sf.BOOTP].yiaddr then
    fail("the ACK (%s) is not for the offer (%s)", sf.show(ack), sf.show(offer))
  end
  print(("sflua's request acknowledged: %s for %s"):format(ack[sf.BOOTP].yiaddr, ack[sf.BOOTP].chaddr))
elseif cmd == "check" then
  local h = require("helpers")
  local rows = h.read_tsv(arg[3])
  local seen, n, bad = {}, 0, 0
  for _, p in ipairs(sf.rdpcap(arg[2])) do
    if p[sf.BOOTP] then
      n = n + 1
      local errs = df.check(p, rows[n] or {})
      if #errs > 0 then
        bad = bad + 1
        io.stderr:write(("packet %d (%s): %s\n"):format(n, p:summary(), table.concat(errs, "\n  ")))
      end
      seen[option(p, "message-type") or "?"] = true
    end
  end
  if n ~= #rows then fail("sflua found %d DHCP packets, tshark %d", n, #rows) end
  for i = 4, #arg do
    if not seen[arg[i]] then bad = bad + 1; io.stderr:write("no ", arg[i], " seen\n") end
  end
  print(("%d DHCP packets, %d differ from tshark"):format(n, bad))
  os.exit(bad == 0 and n > 0 and 0 or 1)
else
  fail("usage: dhcp_client.lua discover|request|ack|check ...")
end
