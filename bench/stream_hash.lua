-- stream_hash.lua: a 64-bit hash of a byte string, 8 bytes a step, for
-- comparing TCP streams with the traffic generator's ground truth without
-- keeping them (bench/gen_traffic.lua --truth, tests/flow/check_truth.lua).
-- Not cryptographic; the same string always gives the same hex digest.
local unpack = string.unpack
return function(s)
  local h = 0xcbf29ce484222325 ~ #s
  local n = #s - #s % 8
  for i = 1, n, 8 do
    h = (h ~ unpack("<i8", s, i)) * 0x100000001b3
    h = h ~ (h >> 32)
  end
  for i = n + 1, #s do h = (h ~ s:byte(i)) * 0x100000001b3 end
  return ("%016x"):format(h)
end
