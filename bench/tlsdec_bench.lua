-- tlsdec_bench.lua: one pass of extract_flows over a TLS capture, every
-- conversation's streams read in 1 MiB chunks inside on_flow (bounded
-- memory): "decrypted" reads the plaintext (tls_keylog), "reassembled"
-- the ciphertext as reassembled (the baseline: what decryption adds).
-- Prints "BYTES n" (bytes read: tlsdec_bench.sh checks them against what
-- was sent), "WALL MB/s" and "CPU MB/s" (10^6 bytes).
--   sflua bench/tlsdec_bench.lua CAPTURE KEYLOG decrypted|reassembled
local sf = require("stackforge")
local clock = require("benchclock")
local cap, keys, mode = arg[1], arg[2], arg[3]
local streams = mode == "decrypted" and {"decrypted_forward", "decrypted_reverse"}
  or {"forward", "reverse"}

local bytes = 0
local t0, c0 = clock.now(), os.clock()
-- streams whole in memory (zero-copy pieces of the mapped capture), not cut
local config = sf.FlowConfig{max_reassembly_buffer = math.huge}
sf.extract_flows(cap, {tls_keylog = keys, config = config, on_flow = function(c)
  for _, s in ipairs(streams) do
    for piece in c:chunks(s, 1 << 20) do bytes = bytes + #piece end
  end
end})
local wall, cpu = clock.now() - t0, os.clock() - c0
print(("BYTES %d"):format(bytes))
print(("WALL %.1f"):format(bytes / 1e6 / wall))
print(("CPU %.1f"):format(bytes / 1e6 / cpu))
