-- text_inputs.lua: the packets of the Scapy text check, as "HEX<TAB>LINKTYPE"
-- lines: the random packets of gen_cases.lua (their hex, on stdin) and
-- every packet of the captures named on the command line.
--   sflua text_inputs.lua CAPTURE... < gen_cases output
for line in io.lines() do
  local hex = line:match("^[^\t]*\t(%x+)")
  if hex then print(hex .. "\t1") end
end
for _, path in ipairs(arg) do
  for p in PcapReader(path) do
    print(p:bytes():gsub(".", function(c) return ("%02x"):format(c:byte()) end) .. "\t" .. p.linktype)
  end
end
