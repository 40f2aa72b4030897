-- flows_writer_cases.lua: what write_flows is checked on by
-- flows_writer_spec.lua against the JSONL and CSV kept in
-- tests/data/flows_writer/ (written by the Lua writer before it was
-- rewritten for speed, tests/data/SOURCES): captures' conversations with
-- each option, and hand-made tables with values no capture gives (odd
-- bytes in strings, NaN, infinities, huge numbers, empty and nested
-- lists, booleans, tables tostring writes by a metamethod).
local M = {}

-- the captures and the options each is written with (streams only where
-- they are small); the golden file is CAPTURE.TAG.jsonl or .csv
local ALL = {"http.pcap", "dns_tcp.pcap", "icmpv6.pcap", "flows_rules.pcap",
             "flows_frag.pcap", "dns_icmp.pcap", "anon_mix.pcap"}
local SMALL = {"http.pcap", "dns_tcp.pcap", "flows_overlap.pcap"}
local OPTIONS = {
  {tag = "default", caps = ALL},
  {tag = "noidx", o = {packet_indices = false}, caps = ALL},
  {tag = "csv", o = {format = "csv"}, caps = ALL},
  {tag = "streams", o = {streams = true}, caps = SMALL},
  {tag = "csv_streams", o = {format = "csv", streams = true, packet_indices = false},
   caps = SMALL},
}

-- {capture (nil: the hand-made ones), options, golden file name}, ...
function M.files()
  local out = {}
  for _, opt in ipairs(OPTIONS) do
    local ext = opt.o and opt.o.format == "csv" and ".csv" or ".jsonl"
    for _, cap in ipairs(opt.caps) do
      out[#out + 1] = {cap = cap, o = opt.o, name = cap .. "." .. opt.tag .. ext}
    end
    out[#out + 1] = {o = opt.o, name = "odd." .. opt.tag .. ext}
  end
  return out
end

local odd_bytes = {}
for b = 0, 255 do odd_bytes[#odd_bytes + 1] = string.char(b) end
odd_bytes = table.concat(odd_bytes)

-- a table whose tostring is name (CSV writes values by tostring: no
-- addresses that change from run to run)
local function named(t, name)
  return setmetatable(t, {__tostring = function() return name end})
end

-- hand-made conversations: fresh tables each call (a writer may read
-- streams into them)
function M.odd()
  local convs = {
    {},
    {src_addr = odd_bytes, dst_addr = 'a"b\\c,d\ne\rf\tg', protocol = "",
     status = "caf\195\169", tcp_state = "\0", tcp_state_reverse = "\127"},
    {total_packets = math.maxinteger, total_bytes = math.mininteger,
     forward_packets = 0, start_time = 0 / 0, end_time = math.huge,
     duration = -math.huge, first_index = 2^63, forward_bytes = 1e300,
     reverse_bytes = -0.0, reverse_packets = 1 / 3, src_port = 3.0,
     dst_port = -5e-10},
    {vlan = {}, packet_indices = {}, reassembled_forward = "",
     reassembled_reverse = "\0\1\255"},
    {vlan = {1, 2.5, "x\"", true, false, named({3, {}}, "nested,"), named({}, "t")},
     packet_indices = {0, 1, 2}, ip_proto = true, ip_version = false,
     icmp_type = named({}, "a table"), reassembled_forward = false},
    {src_addr = "10.0.0.1", src_port = 1, dst_addr = "10.0.0.2", dst_port = 2,
     protocol = "TCP", ip_proto = 6, ip_version = 4, status = "Closed",
     reassembled_forward = string.rep("\0\255", 40), related = "ignored",
     max_flow_len = 7, forward_max_packet_len = 1, reverse_max_packet_len = 2,
     icmp_identifier = 9, icmp_request_count = 1, icmp_reply_count = 0,
     icmp_last_seq = 65535, dropped_segments = 0, dropped_segments_fwd = 0,
     dropped_segments_rev = 0},
  }
  -- each byte alone in a string, where a line's other strings are plain
  for b = 0, 255 do
    convs[#convs + 1] = {src_addr = "10.0.0.1", protocol = "a" .. string.char(b) .. "z",
                         status = string.char(b)}
  end
  return convs
end

return M
