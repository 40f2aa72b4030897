-- quickstart.lua: craft, send through bytes, parse and change packets.
--   sflua examples/quickstart.lua [capture.pcap]
-- (In sflua every public name is a global; from stock lua5.4 use
--  local sf = require("stackforge") and sf.Ether, sf.IP, ...)

-- 1. Build a TCP SYN the Scapy way: layers stacked with /
local syn = Ether{dst = "ff:ff:ff:ff:ff:ff"} / IP{dst = "192.0.2.10", ttl = 32}
  / TCP{dport = 443, flags = "S", options = {{"MSS", 1460}, {"SAckOK", ""}, {"WScale", 7}}}
print("built:   " .. syn:summary() .. ", " .. #syn .. " bytes")
print(hexdump(syn))

-- 2. Parse the bytes back: lengths and checksums were filled in
local p = Packet(syn:bytes())
print(("parsed:  %s  ttl=%d  dport=%d  flags=%s  IP checksum=0x%04x")
  :format(p:summary(), p.ttl, p.dport, p[TCP].flags, p[IP].chksum))

-- 3. Change a field of the parsed packet: checksums follow
p[TCP].dport = 8443
print(("changed: dport=%d  TCP checksum=0x%04x"):format(Packet(p:bytes()).dport, p[TCP].chksum))

-- 4. ICMP errors quote the datagram that caused them
local err = Ether() / IP{dst = "198.51.100.1"} / ICMP.dest_unreach{code = 3}
  / IP{src = "198.51.100.1", dst = "192.0.2.10"} / UDP{sport = 5353, dport = 53}
print("error:   " .. Packet(err:bytes()):summary())

-- 5. Every layer as Scapy's show() would print it
print(Packet((Ether() / IPv6() / ICMPv6EchoRequest{id = 7, seq = 1, data = "ping"}):bytes()):show())

-- 6. A real capture (the README's command passes a bundled one): what is in it
local path = arg[1]
if path then
  local counts = {}
  for q in PcapReader(path) do
    local s = q:summary()
    counts[s] = (counts[s] or 0) + 1
  end
  print("layers seen in " .. path .. ":")
  for s, n in pairs(counts) do print(("  %5d  %s"):format(n, s)) end
end
