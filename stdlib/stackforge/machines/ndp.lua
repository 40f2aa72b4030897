-- NdpResponderAM: answers IPv6 neighbour solicitations for a set of
-- addresses with neighbour advertisements (RFC 4861 7.2.4), as a host
-- that owns them would.  Copy this file to write a machine of your own.
--
--   local am <close> = NdpResponderAM{addresses = {"fd00::5", "fe80::5"}}
--   am:start(AutomatonConfig{iface = "eth0"})
--
-- Options: addresses (addresses or prefixes), mac (default: the
-- interface's), router (the R flag), plus name, log and debug.
local answering = require("stackforge.answering")
local options = require("stackforge.options")
local L = require("stackforge.layers")
local Ether, IPv6, NA, TLL = L.Ether, L.IPv6, L.ICMPv6ND_NA, L.ICMPv6NDOptDstLLAddr
local ICMPv6 = L.ICMPv6

local M = {}

local NS, ALL_NODES, ALL_NODES_MAC = 135, "ff02::1", "33:33:00:00:00:01"

-- The advertisement that answers the solicitation req, for target tgt
-- at mac.  A solicitation from :: (duplicate address detection) is
-- answered to all nodes, unsolicited (RFC 4861 7.2.4).
function M.advertisement(req, mac, router)
  local ip, ns = req[IPv6], req[ICMPv6]
  local dad = ip.src == "::"
  return Ether{src = mac, dst = dad and ALL_NODES_MAC or req[Ether].src}
    / IPv6{src = ns.tgt, dst = dad and ALL_NODES or ip.src, hlim = 255}
    / NA{tgt = ns.tgt, R = router and 1 or 0, S = dad and 0 or 1, O = 1}
    / TLL{lladdr = mac}
end

-- Is p a neighbour solicitation for one of addrs?
function M.asks_for(p, addrs)
  local ns = p[ICMPv6]
  return ns ~= nil and ns.type == NS and addrs:has(ns.tgt)
end

-- nil if req can be answered, else why not (RFC 4861 7.1.1)
function M.malformed(req)
  local ip, ns = req[IPv6], req[ICMPv6]
  if not req[Ether] then return "not an Ethernet frame" end
  if not ip or ip.hlim ~= 255 then return "hop limit is not 255" end
  if ns.code ~= 0 then return ("code %d is not 0"):format(ns.code) end
  if ns.tgt:find("^ff") then return "the target is a multicast address" end
end

local OPTS = {addresses = "any", mac = "string", router = "boolean", name = "string",
              log = "function", debug = "boolean"}

function M.NdpResponderAM(opts)
  options.check("NdpResponderAM", opts, OPTS, 2)
  local addrs = answering.addresses("NdpResponderAM", (opts or {}).addresses, 2)
  local mac, router = opts.mac, opts.router
  return answering.AnsweringMachine{
    name = opts.name or "NdpResponderAM", log = opts.log, debug = opts.debug,
    bpf_filter = "icmp6 and ip6[40] = 135",
    on_start = function(am) am:use_mac(mac) end,
    is_request = function(p) return M.asks_for(p, addrs) end,
    malformed = M.malformed,  -- a reason to ignore a request, logged
    make_reply = function(p, am) return M.advertisement(p, am.mac, router) end,
  }
end

return M
