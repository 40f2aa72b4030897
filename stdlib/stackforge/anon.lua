-- stackforge.anon: the public face of anonymization (lua/lanon.c, core/anon).
--   AnonymizationPolicy{ip_mode="crypto_pan", ...}        -- defaults for the rest
--   AnonymizationPolicy.ml_optimized{payload_truncate_bytes=128}  -- a preset, overridden
--   anonymize_pcap("in.pcap", "out.pcap", policy)
--   CryptoPan(key32):anonymize("10.1.2.3")
local core = require("stackforge.core")
local options = require("stackforge.options")
local capture = require("stackforge.capture")

local M = {}

local presets = {"ml_optimized", "maximum_privacy"}

-- AnonymizationPolicy is a table to hang the presets on, callable as the
-- constructor.  Every form takes an optional table of options that win
-- over the preset's (keys and salts not given are generated once and can
-- be read back: policy.crypto_pan_key, policy.hash_salt).
-- Errors name the caller's line, not this file's.
local function make(opts, preset)
  local ok, p = pcall(core.anon_policy, opts, preset)
  if not ok then error(p, 3) end
  return p
end

local Policy = {}
for _, name in ipairs(presets) do
  Policy[name] = function(opts)
    local p = make(opts, name)
    return p
  end
end
setmetatable(Policy, {
  __call = function(_, opts)
    local p = make(opts)
    return p
  end,
  __tostring = function() return "AnonymizationPolicy" end,
})

M.AnonymizationPolicy = Policy
M.CryptoPan = core.CryptoPan
M.Anonymizer = core.Anonymizer

-- With a display filter (opts.filter), only the packets it passes are
-- anonymized and written, through a filtering reader (out's format by its
-- name, as PcapWriter's); errors are raised at `level`.
local function anonymize_filtered(inp, out, policy, opts, level)
  local prog = require("stackforge.dfilter").program_of(opts.filter, level + 1, "anonymize_pcap")
  local reader, err = core.PcapReader(inp, {filter = prog, strict = opts.strict})
  if not reader then error(err, level + 1) end
  local w, werr = core.PcapWriter(out)
  if not w then error(werr, level + 1) end
  local a = core.Anonymizer(policy)
  local stats = {packets = 0, bytes_in = 0, bytes_out = 0}
  for p in reader do
    stats.bytes_in = stats.bytes_in + #p
    a:packet(p)
    w:write(p)
    stats.packets = stats.packets + 1
    stats.bytes_out = stats.bytes_out + #p
  end
  w:close()
  return stats
end

-- anonymize_pcap(in, out [, policy [, reader options]]) -> {packets=,
-- bytes_in=, bytes_out=}, policy.  Without a policy, the defaults with a
-- fresh key; it is returned so the run can be repeated.  The reader
-- options are PcapReader's (strict=, filter=).  out appears only when complete.
function M.anonymize_pcap(inp, out, policy, opts)
  options.check("anonymize_pcap", opts, capture.READER_OPTIONS, 2)
  policy = policy or core.anon_policy()
  if opts and opts.filter ~= nil then return anonymize_filtered(inp, out, policy, opts, 2), policy end
  local stats, err = core.anonymize_pcap(inp, out, policy, opts)
  if not stats then error(err, 2) end  -- a file error is the caller's
  return stats, policy
end

return M
