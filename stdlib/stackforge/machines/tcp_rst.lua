-- TcpRstAM: resets the TCP connections whose segments match a filter, as
-- test rigs do to cut a connection: for each segment seen from X to Y it
-- sends X a reset from Y that X will accept (its sequence number is what
-- X expects next), and with both = true Y one from X.  Copy this file to
-- write a machine of your own.
--
--   local am <close> = TcpRstAM{bpf_filter = "tcp port 5555"}
--   am:start(AutomatonConfig{iface = "eth0"})
--
-- The resets are datagrams the kernel routes (each goes wherever its
-- destination is).  Options: bpf_filter (which segments; "tcp" always
-- applies), both (default true), plus name, log and debug.
local answering = require("stackforge.answering")
local options = require("stackforge.options")
local L = require("stackforge.layers")
local IP, IPv6, TCP = L.IP, L.IPv6, L.TCP

local M = {}

local function has(flags, f) return flags:find(f, 1, true) ~= nil end

-- the segment's sequence space: payload bytes, plus one for SYN and FIN
local function seg_len(p, ip4, ip6, tcp)
  local hdr = tcp.dataofs * 4
  local n = ip4 and (ip4.len - ip4.ihl * 4 - hdr) or (ip6.plen - hdr)
  local f = tcp.flags
  return n + (has(f, "S") and 1 or 0) + (has(f, "F") and 1 or 0)
end

local function net(ip4, src, dst)
  return ip4 and IP{src = src, dst = dst} or IPv6{src = src, dst = dst}
end

-- The resets for segment p (RFC 9293 3.10.7.1: to an ACK, a reset whose
-- seq is that ack; to a segment without one, a reset acking it).
function M.resets(p, both)
  local ip4, ip6, tcp = p[IP], not p[IP] and p[IPv6], p[TCP]
  local ip = ip4 or ip6
  local len = seg_len(p, ip4, ip6, tcp)
  local out = {}
  if has(tcp.flags, "A") then
    out[1] = net(ip4, ip.dst, ip.src) / TCP{sport = tcp.dport, dport = tcp.sport,
      seq = tcp.ack, flags = "R", window = 0}
  else
    out[1] = net(ip4, ip.dst, ip.src) / TCP{sport = tcp.dport, dport = tcp.sport,
      seq = 0, ack = (tcp.seq + len) & 0xffffffff, flags = "RA", window = 0}
  end
  if both and has(tcp.flags, "A") then
    out[2] = net(ip4, ip.src, ip.dst) / TCP{sport = tcp.sport, dport = tcp.dport,
      seq = (tcp.seq + len) & 0xffffffff, flags = "R", window = 0}
  end
  return out
end

-- why a segment cannot be answered, or nil
function M.malformed(p)
  if p.truncated then return "truncated" end
  local ip4 = p[IP]
  if ip4 and (ip4.frag ~= 0 or has(ip4.flags, "MF")) then return "a fragment" end
  if not ip4 and p[IPv6].nh ~= 6 then return "TCP behind IPv6 extension headers" end
end

local OPTS = {bpf_filter = "string", both = "boolean", name = "string", log = "function",
              debug = "boolean"}

function M.TcpRstAM(opts)
  options.check("TcpRstAM", opts, OPTS, 2)
  opts = opts or {}
  answering.check_filter("TcpRstAM", opts.bpf_filter, 2)
  local both = opts.both ~= false
  local filter = opts.bpf_filter and ("tcp and (%s)"):format(opts.bpf_filter) or "tcp"
  return answering.AnsweringMachine{
    name = opts.name or "TcpRstAM", log = opts.log, debug = opts.debug,
    bpf_filter = filter,
    is_request = function(p)
      local tcp = p[TCP]
      return tcp ~= nil and (p[IP] or p[IPv6]) ~= nil and not has(tcp.flags, "R")
    end,
    make_reply = function(p, am)
      local why = M.malformed(p)
      if why then return am:ignore(p, why) end
      return M.resets(p, both)
    end,
  }
end

return M
