-- gen_beacons.lua OUT [N]: the real beacons of tests/data (radiotap, 13 to
-- 19 information elements each) repeated to N frames (100,000) in OUT.
local out, n = arg[1], tonumber(arg[2]) or 100000
local src = {}
for _, f in ipairs{"tests/data/ieee802.11_exthdr.pcap", "tests/data/bad_rsn_parsing_overrides_ssid.pcap"} do
  for _, p in ipairs((rdpcap(f, {partial = true}))) do
    if p[Dot11Beacon] then src[#src + 1] = p end
  end
end
local w <close> = PcapWriter(out, {linktype = 127})
for i = 1, n do w:write(src[(i - 1) % #src + 1]) end
print(("%d distinct beacons, %d frames"):format(#src, n))
