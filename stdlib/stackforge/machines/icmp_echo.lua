-- IcmpEchoAM: answers pings (ICMP and ICMPv6 echo requests) for a set of
-- addresses, and the ARP and neighbour solicitations for those addresses
-- when no interface of this host has them (so that a peer can reach an
-- address that exists only in this machine).  Copy this file to write a
-- machine of your own.
--
--   local am <close> = IcmpEchoAM{addresses = {"10.0.0.7", "fd00::7"}}
--   am:start(AutomatonConfig{iface = "eth0"})
--
-- Options: addresses (IPv4 and IPv6 addresses or networks), mac (the
-- replies' source; default: the interface's), resolve (answer ARP/ND for
-- the addresses: "auto", the default, for those no interface has; true;
-- false), plus name, log and debug.
local answering = require("stackforge.answering")
local options = require("stackforge.options")
local arp = require("stackforge.machines.arp")
local ndp = require("stackforge.machines.ndp")
local L = require("stackforge.layers")
local Ether, IP, IPv6, ICMP, ICMPv6, ARP = L.Ether, L.IP, L.IPv6, L.ICMP, L.ICMPv6, L.ARP

local M = {}

local ECHO4, ECHO6, NS = 8, 128, 135

-- The reply to an echo request (ICMP or ICMPv6): the request turned
-- around (p:reversed(): addresses swapped, type echo-reply; id, seq, data
-- and the TTL kept), sent from mac.
function M.reply(req, mac)
  local r = req:reversed()
  r.src = mac
  return r
end

-- why an echo request cannot be answered, or nil
local function malformed(req, ip4)
  if not req[Ether] then return "not an Ethernet frame" end
  if req.truncated then return "truncated" end
  if ip4 and (ip4.frag ~= 0 or ip4.flags:find("MF", 1, true)) then
    return "a fragment (fragmented requests are not reassembled)"
  end
end

-- which kind of request p is ("echo4", "echo6", "arp", "ns"), or nil
local function kind(p, addrs, resolve)
  local icmp = p[ICMP]
  if icmp then
    return icmp.type == ECHO4 and addrs:has(p[IP].dst) and "echo4" or nil
  end
  local icmp6 = p[ICMPv6]
  if icmp6 then
    local t = icmp6.type
    if t == ECHO6 then return addrs:has(p[IPv6].dst) and "echo6" or nil end
    return t == NS and resolve and ndp.asks_for(p, resolve) and "ns" or nil
  end
  return resolve and p[ARP] and arp.asks_for(p, resolve) and "arp" or nil
end

-- the addresses of addrs no interface of this host has
local function unowned(addrs)
  local mine, list = answering.local_addresses(), {}
  for _, a in ipairs(addrs.v4) do if not mine[a] then list[#list + 1] = a end end
  for _, a in ipairs(addrs.v6) do if not mine[a] then list[#list + 1] = a end end
  return #list > 0 and answering.addresses("IcmpEchoAM", list, 1) or nil
end

local OPTS = {addresses = "any", mac = "string", resolve = "any",
              name = "string", log = "function", debug = "boolean"}

function M.IcmpEchoAM(opts)
  options.check("IcmpEchoAM", opts, OPTS, 2)
  local addrs = answering.addresses("IcmpEchoAM", (opts or {}).addresses, 2)
  local resolve_opt = opts.resolve == nil and "auto" or opts.resolve
  if resolve_opt ~= "auto" and type(resolve_opt) ~= "boolean" then
    error("IcmpEchoAM: option 'resolve' expected \"auto\", true or false, got "
      .. options.show(resolve_opt), 2)
  end
  local resolve
  local filter = "(icmp and icmp[0] = 8) or (icmp6 and ip6[40] = 128)"
  if resolve_opt then filter = filter .. " or arp or (icmp6 and ip6[40] = 135)" end
  -- by the kind of request: why it cannot be answered, and the answer
  local malformed_by = {
    echo4 = function(p) return malformed(p, p[IP]) end,
    echo6 = function(p) return malformed(p) end,
    arp = arp.malformed,
    ns = ndp.malformed,
  }
  local replies = {
    echo4 = function(p, am) return M.reply(p, am.mac) end,
    echo6 = function(p, am) return M.reply(p, am.mac) end,
    arp = function(p, am) return arp.is_at(p, am.mac) end,
    ns = function(p, am) return ndp.advertisement(p, am.mac) end,
  }
  local current  -- the kind is_request found, for malformed and make_reply
  return answering.AnsweringMachine{
    name = opts.name or "IcmpEchoAM", log = opts.log, debug = opts.debug,
    bpf_filter = filter,
    on_start = function(am)
      am:use_mac(opts.mac)
      if resolve_opt == "auto" then
        resolve = unowned(addrs)
      elseif resolve_opt then
        resolve = addrs
      end
    end,
    is_request = function(p)
      current = kind(p, addrs, resolve)
      return current ~= nil
    end,
    malformed = function(p) return malformed_by[current](p) end,
    make_reply = function(p, am) return replies[current](p, am) end,
  }
end

return M
