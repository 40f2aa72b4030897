-- tcp_client.lua: a TCP client as an automaton (states and transitions,
-- Scapy's ATMT way): handshake, one line of data, close.
--   sflua examples/tcp_client.lua DST PORT [SRC]
-- With SRC (an address of this link no interface has), the kernel knows
-- nothing of the connection and sends no resets of its own; an
-- ArpResponderAM answers for SRC meanwhile, on the same loop.
--   require("examples.tcp_client") gives the definition (TcpClient).
local sf = require("stackforge")
local IP, TCP, Raw = sf.IP, sf.TCP, sf.Raw

local function segment(self, flags, payload)
  local p = IP{src = self.src, dst = self.dst}
    / TCP{sport = self.sport, dport = self.dport, flags = flags, seq = self.seq,
          ack = self.ack, window = 65535}
  if payload then p = p / payload end
  return p
end

local function from_peer(self, p)  -- a segment of this connection
  local tcp = p[TCP]
  return tcp and tcp.sport == self.dport and tcp.dport == self.sport and tcp
end

local function has(tcp, flag) return tcp.flags:find(flag, 1, true) ~= nil end

local TcpClient = sf.Automaton{
  name = "TcpClient",
  filter = function(self)
    return ("tcp and src host %s and src port %d and dst port %d"):format(self.dst,
      self.dport, self.sport)
  end,
  states = {
    BEGIN = {initial = true},
    SYN_SENT = {},
    ESTABLISHED = {},
    DATA_ACKED = {},
    FIN_WAIT = {},
    CLOSED = {final = true, enter = function(self) return self.line end},
    FAILED = {error = true, enter = function(self) return "no answer" end},
  },
  transitions = {
    {"BEGIN", "SYN_SENT", name = "connect", condition = function() return true end,
     action = function(self)
       self.seq, self.ack = math.random(0, 0x7fffffff), 0
       self:send(segment(self, "S"))
       self.seq = self.seq + 1
     end},
    {"SYN_SENT", "ESTABLISHED", name = "synack",
     receive = function(self, p)
       local tcp = from_peer(self, p)
       return tcp and tcp.flags == "SA" and tcp.ack == self.seq
     end,
     action = function(self, p)
       self.ack = (p[TCP].seq + 1) & 0xffffffff
       self:send(segment(self, "A"))
       self:send(segment(self, "PA", self.line))
       self.seq = self.seq + #self.line
     end},
    {"SYN_SENT", "FAILED", timeout = 3},
    {"ESTABLISHED", "DATA_ACKED", name = "acked",
     receive = function(self, p)
       local tcp = from_peer(self, p)
       return tcp and has(tcp, "A") and tcp.ack == self.seq
     end},
    {"ESTABLISHED", "FAILED", timeout = 3},
    {"DATA_ACKED", "FIN_WAIT", name = "close", condition = function() return true end,
     action = function(self)
       self:send(segment(self, "FA"))
       self.seq = self.seq + 1
     end},
    {"FIN_WAIT", "CLOSED", name = "fin",
     receive = function(self, p)
       local tcp = from_peer(self, p)
       return tcp and has(tcp, "F")
     end,
     action = function(self, p)
       local tcp = p[TCP]
       self.ack = (tcp.seq + 1) & 0xffffffff  -- nc sent no data of its own
       self:send(segment(self, "A"))
     end},
    {"FIN_WAIT", "FAILED", timeout = 3},
  },
}

if ... == "examples.tcp_client" then return TcpClient end  -- required

local dst, port, src = arg[1], tonumber(arg[2]), arg[3]
if not dst or not port then
  io.stderr:write("usage: sflua examples/tcp_client.lua DST PORT [SRC]\n")
  os.exit(2)
end
local responder
if src then
  responder = sf.ArpResponderAM{addresses = src}
  responder:start(sf.AutomatonConfig{iface = sf.conf.route:get(dst).iface})
end
local client = TcpClient{dst = dst, dport = port, src = src, sport = math.random(20000, 60000),
                         line = "hello from an automaton\n", debug = true}
print(client:run(sf.AutomatonConfig{iface = sf.conf.route:get(dst).iface}))
print(table.concat(client.history, " -> "))
if responder then responder:stop() end
