-- Parsing real captures: every field equals what tshark reports.
-- References: tests/data/*.tshark.tsv, made by tests/interop/tshark_fields.sh
-- (the interop_tshark test regenerates them with the installed tshark and
-- points SFLUA_TSHARK_DIR at the fresh copy).
local sf = require("stackforge")
local h = require("helpers")

local refdir = os.getenv("SFLUA_TSHARK_DIR") or h.datadir
local captures = {"http.pcap", "dns_icmp.pcap", "truncated_dns.pcap", "icmpv6.pcap",
  "LINKTYPE_IPV6.pcap", "edns-opts.pcap", "dns_tcp.pcap"}

local function num(s) return math.tointeger(tonumber(s)) end

-- tshark field -> function(packet) returning sflua's value in tshark's form
local getters = {
  ["frame.len"] = function(p) return p.wirelen end,
  ["eth.src"] = function(p) return p[sf.Ether] and p[sf.Ether].src end,
  ["eth.dst"] = function(p) return p[sf.Ether] and p[sf.Ether].dst end,
  ["eth.type"] = function(p) return p[sf.Ether] and p[sf.Ether].type end,
  ["ip.src"] = function(p) return p[sf.IP] and p[sf.IP].src end,
  ["ip.dst"] = function(p) return p[sf.IP] and p[sf.IP].dst end,
  ["ip.ttl"] = function(p) return p[sf.IP] and p[sf.IP].ttl end,
  ["ip.id"] = function(p) return p[sf.IP] and p[sf.IP].id end,
  ["ip.len"] = function(p) return p[sf.IP] and p[sf.IP].len end,
  ["ip.proto"] = function(p) return p[sf.IP] and p[sf.IP].proto end,
  ["ip.checksum"] = function(p) return p[sf.IP] and p[sf.IP].chksum end,
  ["ip.flags"] = function(p) return p[sf.IP] and h.flags_number(sf.IP, "flags", p[sf.IP].flags) end,
  ["tcp.srcport"] = function(p) return p[sf.TCP] and p[sf.TCP].sport end,
  ["tcp.dstport"] = function(p) return p[sf.TCP] and p[sf.TCP].dport end,
  ["tcp.seq_raw"] = function(p) return p[sf.TCP] and p[sf.TCP].seq end,
  ["tcp.ack_raw"] = function(p) return p[sf.TCP] and p[sf.TCP].ack end,
  ["tcp.flags"] = function(p) return p[sf.TCP] and h.flags_number(sf.TCP, "flags", p[sf.TCP].flags) end,
  ["tcp.window_size_value"] = function(p) return p[sf.TCP] and p[sf.TCP].window end,
  ["tcp.checksum"] = function(p) return p[sf.TCP] and p[sf.TCP].chksum end,
  ["tcp.hdr_len"] = function(p) return p[sf.TCP] and p[sf.TCP].dataofs * 4 end,
  ["udp.srcport"] = function(p) return p[sf.UDP] and p[sf.UDP].sport end,
  ["udp.dstport"] = function(p) return p[sf.UDP] and p[sf.UDP].dport end,
  ["udp.length"] = function(p) return p[sf.UDP] and p[sf.UDP].len end,
  ["udp.checksum"] = function(p) return p[sf.UDP] and p[sf.UDP].chksum end,
  ["icmp.type"] = function(p) return p[sf.ICMP] and p[sf.ICMP].type end,
  ["icmp.code"] = function(p) return p[sf.ICMP] and p[sf.ICMP].code end,
  ["icmp.checksum"] = function(p) return p[sf.ICMP] and p[sf.ICMP].chksum end,
  ["ipv6.src"] = function(p) return p[sf.IPv6] and p[sf.IPv6].src end,
  ["ipv6.dst"] = function(p) return p[sf.IPv6] and p[sf.IPv6].dst end,
  ["ipv6.hlim"] = function(p) return p[sf.IPv6] and p[sf.IPv6].hlim end,
  ["ipv6.plen"] = function(p) return p[sf.IPv6] and p[sf.IPv6].plen end,
  ["ipv6.nxt"] = function(p) return p[sf.IPv6] and p[sf.IPv6].nh end,
  ["icmpv6.type"] = function(p) return p[sf.ICMPv6] and p[sf.ICMPv6].type end,
  ["icmpv6.code"] = function(p) return p[sf.ICMPv6] and p[sf.ICMPv6].code end,
  ["icmpv6.checksum"] = function(p) return p[sf.ICMPv6] and p[sf.ICMPv6].cksum end,
}

-- tshark prints numbers in decimal or 0x-hex; addresses as text
local function same(ref, got)
  if type(got) == "number" then return num(ref) == got end
  return ref == got
end

describe("parsing real captures agrees with tshark", function()
  for _, name in ipairs(captures) do
    it(name, function()
      local cap = h.read_pcap(h.path(name))
      local ref = h.read_tsv(refdir .. "/" .. name .. ".tshark.tsv")
      assert.equal(#ref, #cap.packets)
      local checked = 0
      for i, rec in ipairs(cap.packets) do
        local p = sf.Packet(rec.data, {linktype = cap.linktype, wirelen = rec.wirelen})
        for field, want in pairs(ref[i]) do
          local get = getters[field]
          if get and field ~= "vlan.id" then
            local got = get(p)
            if not same(want, got) then
              error(("%s packet %d (%s): %s is %s, tshark says %s"):format(
                name, i, p:summary(), field, tostring(got), want))
            end
            checked = checked + 1
          end
        end
      end
      assert.is_true(checked > #cap.packets)
    end)
  end
end)
