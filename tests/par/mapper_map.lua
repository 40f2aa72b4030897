-- The map script of the mapper test (tests/par/mapper.sh, docs/scale.md):
-- one record per IP packet; with "reduce" as its argument, a count of
-- packets and bytes per transport for each capture instead.
local function record(p, path)
  local ip = p[IP] or p[IPv6]
  if not ip then return nil end
  return {file = path:match("[^/]*$"), frame = p.frame_number, src = ip.src, dst = ip.dst,
          proto = p[TCP] and "tcp" or p[UDP] and "udp" or "other", len = p.wirelen}
end

if arg[1] ~= "reduce" then return record end

return {
  filter = "ip or ipv6",
  map = function(p, path)
    local r = record(p, path)
    return {file = r.file, [r.proto] = {packets = 1, bytes = r.len}}
  end,
  reduce = function(a, b)
    for k, v in pairs(b) do
      if k ~= "file" then
        local t = a[k] or {packets = 0, bytes = 0}
        t.packets, t.bytes = t.packets + v.packets, t.bytes + v.bytes
        a[k] = t
      end
    end
    return a
  end,
}
