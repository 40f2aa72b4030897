-- dump_flows.lua: a capture's conversations as JSONL with the streams in
-- hex, for check_oracles.py.  Timeouts are made huge: tshark's tables and
-- tcpflow never split a tuple by idleness.
-- Usage: sflua dump_flows.lua CAPTURE OUT.jsonl
local sf = require("stackforge")
local cap, out = arg[1], arg[2]
local convs = sf.extract_flows(cap, {config = sf.FlowConfig{
  udp_timeout = 1e9, tcp_established_timeout = 1e9, tcp_half_open_timeout = 1e9,
  tcp_time_wait_timeout = 1e9, max_reassembly_buffer = 1 << 40}})
sf.write_flows(convs, out, {format = "jsonl", streams = true})
