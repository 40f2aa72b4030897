-- ArpResponderAM: answers ARP who-has for a set of IPv4 addresses, as a
-- host that owns them would.  Copy this file to write a machine of your own.
--
--   local am <close> = ArpResponderAM{addresses = {"10.0.0.5", "10.0.1.0/28"}}
--   am:start(AutomatonConfig{iface = "eth0"})
--
-- Options: addresses (an address, a network or a list of them), mac (the
-- MAC to announce; default: the interface's), plus AnsweringMachine's
-- name, log and debug.
local answering = require("stackforge.answering")
local options = require("stackforge.options")
local L = require("stackforge.layers")
local Ether, ARP = L.Ether, L.ARP

local M = {}

-- The is-at that answers the who-has req: from mac, to the asker.
function M.is_at(req, mac)
  local a = req[ARP]
  return Ether{src = mac, dst = a.hwsrc}
    / ARP{op = "is-at", hwsrc = mac, psrc = a.pdst, hwdst = a.hwsrc, pdst = a.psrc}
end

-- Is p a who-has for one of addrs?  (An announcement, where the asker
-- asks for its own address, is not a question.)
function M.asks_for(p, addrs)
  local a = p[ARP]
  return a ~= nil and a.op == 1 and a.psrc ~= a.pdst and addrs:has(a.pdst)
end

-- nil if req can be answered, else why not
function M.malformed(req)
  local a = req[ARP]
  if a.hwtype ~= 1 or a.ptype ~= 0x0800 or a.hwlen ~= 6 or a.plen ~= 4 then
    return ("not an Ethernet/IPv4 request (hwtype %d, ptype 0x%04x, hwlen %d, plen %d)")
      :format(a.hwtype, a.ptype, a.hwlen, a.plen)
  end
end

local OPTS = {addresses = "any", mac = "string", name = "string", log = "function",
              debug = "boolean"}

function M.ArpResponderAM(opts)
  options.check("ArpResponderAM", opts, OPTS, 2)
  local addrs = answering.addresses("ArpResponderAM", (opts or {}).addresses, 2)
  local mac = opts.mac
  return answering.AnsweringMachine{
    name = opts.name or "ArpResponderAM", log = opts.log, debug = opts.debug,
    bpf_filter = "arp",
    on_start = function(am) am:use_mac(mac) end,
    is_request = function(p) return M.asks_for(p, addrs) end,
    malformed = M.malformed,  -- a reason to ignore a request, logged
    make_reply = function(p, am) return M.is_at(p, am.mac) end,
  }
end

return M
