-- stackforge: Scapy-style packets on a C engine.
--   local sf = require("stackforge")
--   local p = sf.Ether() / sf.IP{dst="192.0.2.1"} / sf.TCP{dport=80, flags="S"}
-- The C half is "stackforge.core"; this file gathers the public names.
local core = require("stackforge.core")
local layers = require("stackforge.layers")
local show = require("stackforge.show")
require("stackforge.navigate")  -- getlayer, haslayer, ..., and layer views' methods
require("stackforge.codecs")
require("stackforge.mqtt")  -- MQTT's codecs and MQTT.publish{...}, ...
local custom = require("stackforge.custom")
require("stackforge.zwave")  -- Z-Wave: built in, on CustomLayer
local plugins = require("stackforge.plugins")
plugins.install_searcher()  -- require("stackforge.plugins.NAME")

local M = {
  version = core.version,
  LayerKind = layers.LayerKind,
  Packet = core.packet,
  show = show.show,
  show2 = show.show2,
  hexdump = show.hexdump,
  ls = show.ls,
  completions = show.completions,
  checksum = core.checksum,
  load_plugins = plugins.load_all,
}

-- captures (stdlib/stackforge/capture.lua over lua/lpcap.c)
do
  local capture = require("stackforge.capture")
  M.rdpcap = capture.rdpcap
  M.wrpcap = capture.wrpcap
  M.wrpcapng = capture.wrpcapng
  M.PcapReader = capture.PcapReader
  M.PcapWriter = capture.PcapWriter
end

-- flows (stdlib/stackforge/flows.lua over lua/lflow.c)
do
  local flows = require("stackforge.flows")
  M.extract_flows = flows.extract_flows
  M.extract_flows_from_packets = flows.extract_flows_from_packets
  M.FlowConfig = flows.FlowConfig
  M.write_flows = flows.write_flows
  M.FlowWriter = flows.FlowWriter
  M.messages = flows.messages
  M.relate_flows = flows.relate_flows
end

-- anonymization (stdlib/stackforge/anon.lua over lua/lanon.c)
do
  local anon = require("stackforge.anon")
  M.AnonymizationPolicy = anon.AnonymizationPolicy
  M.CryptoPan = anon.CryptoPan
  M.Anonymizer = anon.Anonymizer
  M.anonymize_pcap = anon.anonymize_pcap
end

-- live traffic (stdlib/stackforge/live.lua over lua/lcapture.c)
do
  local live = require("stackforge.live")
  for _, name in ipairs{"sniff", "Sniffer", "AsyncSniffer", "list_interfaces",
      "validate_filter", "get_if_addr", "get_if_addr6", "get_if_hwaddr", "send",
      "sendp", "sr", "sr1", "srp", "srp1", "srloop", "traceroute", "arping", "conf",
      "sleep", "PacketList", "answers"} do
    M[name] = live[name]
  end
end

-- TLS fingerprints, tls_info, a ClientHello builder, records from streams
-- (stdlib/stackforge/tls.lua over core/proto's TLS layers)
for name, fn in pairs(require("stackforge.tls")) do M[name] = fn end
-- hassh, ssh_messages (stdlib/stackforge/ssh.lua over core/proto's SSH layers)
for name, fn in pairs(require("stackforge.ssh")) do M[name] = fn end
-- QUIC: Initials decrypted and built, ClientHellos joined across Initials
-- (stdlib/stackforge/quic.lua over core/proto's QUIC layers)
for name, fn in pairs(require("stackforge.quic")) do M[name] = fn end
-- HTTP/1 header lookup and messages of streams, HTTP/2 frames and header
-- lists of streams, HPACK (stdlib/stackforge/http.lua)
for name, fn in pairs(require("stackforge.http")) do M[name] = fn end
M.fcs_ok = require("stackforge.fcs").fcs_ok

-- automata and answering machines (stdlib/stackforge/automaton.lua,
-- answering.lua, and one file per built-in machine in machines/)
do
  local automaton = require("stackforge.automaton")
  M.Automaton = automaton.Automaton
  M.AutomatonConfig = automaton.AutomatonConfig
  M.AnsweringMachine = require("stackforge.answering").AnsweringMachine
  M.ArpResponderAM = require("stackforge.machines.arp").ArpResponderAM
  M.NdpResponderAM = require("stackforge.machines.ndp").NdpResponderAM
  M.IcmpEchoAM = require("stackforge.machines.icmp_echo").IcmpEchoAM
  M.TcpRstAM = require("stackforge.machines.tcp_rst").TcpRstAM
  local dhcp = require("stackforge.machines.dhcp_server")
  M.DhcpServerAM = dhcp.DhcpServerAM
  M.DhcpPoolConfig = dhcp.DhcpPoolConfig
  M.DnsServerAM = require("stackforge.machines.dns_server").DnsServerAM
end

for name, v in pairs(layers) do
  if layers.is_constructor(v) then M[name] = v end
end
for name, fn in pairs(layers.globals) do M[name] = fn end  -- dns_compress, ...

-- custom protocols: CustomLayer, the field types, bind_layers, ...
for name, v in pairs(custom) do M[name] = v end

-- Protocols written in Lua that come with sflua: every file of
-- stdlib/stackforge/protocols/ (FTP, TFTP, SMTP, POP3, IMAP), loaded in
-- name order; a new one needs no edit here.  What they return that is a
-- layer or a function (not "_name") becomes public.
do
  local here = package.searchpath("stackforge.textproto", package.path)
  local dir = here and here:gsub("textproto%.lua$", "protocols")
  for _, file in ipairs(dir and core.listdir(dir) or {}) do
    local name = file:match("^(.+)%.lua$")
    if name then
      for k, v in pairs(require("stackforge.protocols." .. name)) do  -- its layers and functions
        if layers.is_constructor(v) or (type(v) == "function" and k:sub(1, 1) ~= "_") then M[k] = v end
      end
    end
  end
end

-- display filters (stdlib/stackforge/dfilter.lua over lua/lfilter.c)
do
  local dfilter = require("stackforge.dfilter")
  M.DisplayFilter = dfilter.DisplayFilter
  core.Packet.matches = dfilter.matches
end

-- volatile values, fuzz, implicit sets (stdlib/stackforge/volatile.lua)
do
  local volatile = require("stackforge.volatile")
  for _, name in ipairs{"RandNum", "RandByte", "RandShort", "RandInt", "RandLong",
      "RandSByte", "RandSShort", "RandSInt", "RandIP", "RandIP6", "RandMAC",
      "RandString", "RandBin", "RandEnum", "RandChoice", "RandTermString",
      "random_seed", "fuzz", "Range"} do
    M[name] = volatile[name]
  end
end

-- IP fragments (stdlib/stackforge/fragment.lua)
do
  local fragment = require("stackforge.fragment")
  for _, name in ipairs{"fragment", "fragment6", "defragment", "defrag", "defragment6"} do
    M[name] = fragment[name]
  end
end

-- hex tools (stdlib/stackforge/hextools.lua); hexdump is show.lua's
do
  local hex = require("stackforge.hextools")
  for _, name in ipairs{"hexdiff", "hexstr", "linehexdump", "chexdump", "import_hexcap"} do
    M[name] = hex[name]
  end
  --- Raw.from_hexdump(text): a Raw layer of the bytes a hex dump shows
  function M.Raw.from_hexdump(text)
    return M.Raw{load = hex.read_hexcap("Raw.from_hexdump", text)}
  end
end

-- help, lsc, explore (stdlib/stackforge/help.lua)
do
  local help = require("stackforge.help")
  M.help, M.lsc, M.explore = help.help, help.lsc, help.explore
end

-- threads (stdlib/stackforge/pool.lua over lua/lpool.c)
do
  local pool = require("stackforge.pool")
  M.WorkerPool = pool.WorkerPool
  M.parse_batch = pool.parse_batch
end

-- Scapy spellings that users type from habit.
M.Ethernet = M.Ether
M.IPv4 = M.IP

return M
