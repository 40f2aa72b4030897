-- make_rules.lua: writes tests/data/flows_rules.pcap, the handcrafted flow
-- cases that tshark and tcpflow can judge (tests/lua/flow_cases.lua).
-- Usage (from the top of the tree): sflua tests/flow/make_rules.lua [OUT]
package.path = "tests/lua/?.lua;" .. package.path
local sf = require("stackforge")
local cases = require("flow_cases")
local out = arg[1] or "tests/data/flows_rules.pcap"
sf.wrpcap(out, cases.all(true))
print("wrote " .. out)
