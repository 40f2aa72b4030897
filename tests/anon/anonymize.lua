-- anonymize.lua IN OUT MODE: anonymize a capture with a fixed key and salt.
-- MODE "keep": payloads and timing kept (for comparing conversations);
-- "default": the default policy (payloads cut to 256 bytes); "max":
-- maximum_privacy().
local sf = require("stackforge")
local inp, out, mode = arg[1], arg[2], arg[3] or "default"
local keys = {crypto_pan_key = ("k"):rep(32), hash_salt = ("s"):rep(32)}
local policy
if mode == "keep" then
  keys.payload_mode = "preserve"
  policy = sf.AnonymizationPolicy(keys)
elseif mode == "max" then
  policy = sf.AnonymizationPolicy.maximum_privacy(keys)
else
  keys.timestamp_jitter_ms = 3
  policy = sf.AnonymizationPolicy(keys)
end
local st = sf.anonymize_pcap(inp, out, policy)
io.write(st.packets, "\n")
