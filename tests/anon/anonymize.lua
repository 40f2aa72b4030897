-- anonymize.lua IN OUT MODE: anonymize a capture with a fixed key and salt;
-- prints the packet count.  MODE:
--   default          the default policy
--   ml_optimized     AnonymizationPolicy.ml_optimized()
--   maximum_privacy  AnonymizationPolicy.maximum_privacy()
--   rewrite          the default, payload_rewrite_lengths=true
--   keep             payloads and timestamps kept (for comparing
--                    conversations with the original)
local sf = require("stackforge")
local inp, out, mode = arg[1], arg[2], arg[3] or "default"
local keys = {crypto_pan_key = ("k"):rep(32), hash_salt = ("s"):rep(32)}
local policy
if mode == "keep" then
  keys.payload_mode, keys.timestamp_mode = "preserve", "preserve"
  policy = sf.AnonymizationPolicy(keys)
elseif mode == "rewrite" then
  keys.payload_rewrite_lengths = true
  policy = sf.AnonymizationPolicy(keys)
elseif mode == "default" then
  policy = sf.AnonymizationPolicy(keys)
else
  policy = assert(sf.AnonymizationPolicy[mode], "no such preset")(keys)
end
local st = sf.anonymize_pcap(inp, out, policy)
io.write(st.packets, "\n")
