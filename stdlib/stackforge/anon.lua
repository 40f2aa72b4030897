-- stackforge.anon: the public face of anonymization (lua/lanon.c, core/anon).
--   AnonymizationPolicy{ip_mode="crypto_pan", ...}        -- defaults for the rest
--   AnonymizationPolicy.ml_optimized{payload_truncate_bytes=128}  -- a preset, overridden
--   anonymize_pcap("in.pcap", "out.pcap", policy)
--   CryptoPan(key32):anonymize("10.1.2.3")
local core = require("stackforge.core")
local options = require("stackforge.options")

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

local OPTIONS = {strict = "boolean", filter = "any", threads = "count"}

-- anonymize_pcap(in, out [, policy [, {strict=, filter=, threads=}]]) ->
-- {packets=, bytes_in=, bytes_out=, timestamps_clamped=}, policy.
-- Without a policy, the defaults with a fresh key; it is returned so the
-- run can be repeated.  filter: a display filter (only the packets it
-- passes are anonymized and written; frame numbers are the input's).
-- threads: N threads (0: one per CPU), the output the same bytes as one
-- thread's.  out has the input's format and appears only when complete.
function M.anonymize_pcap(inp, out, policy, opts)
  options.check("anonymize_pcap", opts, OPTIONS, 2)
  policy = policy or core.anon_policy()
  local copts = opts
  if opts then
    copts = {strict = opts.strict, threads = opts.threads}
    if opts.threads and opts.threads > 255 then
      error(("anonymize_pcap: threads must be at most 255 (0: one per CPU), got %d")
        :format(opts.threads), 2)
    end
    if opts.filter ~= nil then
      local n = opts.threads or 1
      if n == 0 then n = core.cpus() end
      copts.filters = require("stackforge.dfilter").programs_of(opts.filter, n, 2, "anonymize_pcap")
    end
  end
  local stats, err = core.anonymize_pcap(inp, out, policy, copts)
  if not stats then error(err, 2) end  -- a file error is the caller's
  return stats, policy
end

return M
