-- tls_compare.lua: sflua's TLS fields of a capture against tshark's
-- (tls_tshark.sh's TSV), frame by frame and occurrence by occurrence.
--   sflua tests/interop/tls_compare.lua PCAP TSV   prints what differs;
--   exit 1 when anything does or when nothing was compared
-- As a module: compare(pcap, tsv) -> compared cells, {mismatch text...}.
local M = {}
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local fields = dofile(here .. "/tls_fields.lua")

local function read_tsv(path)
  local rows, head = {}, nil
  for line in io.lines(path) do
    local cells = {}
    for c in (line .. "\t"):gmatch("([^\t]*)\t") do cells[#cells + 1] = c end
    if not head then head = cells else
      local r = {}
      for i, f in ipairs(head) do if cells[i] and cells[i] ~= "" then r[f] = cells[i] end end
      rows[#rows + 1] = r
    end
  end
  return rows
end

-- tshark's content types with TLS 1.3's opaque types, sorted, as sflua
-- gives them (tls_fields.lua says why)
local function outer_types(row, sort)
  local t = {}
  for _, f in ipairs({"tls.record.content_type", "tls.record.opaque_type"}) do
    for v in (row[f] or ""):gmatch("[^,]+") do t[#t + 1] = v end
  end
  if sort then table.sort(t) end
  return #t > 0 and table.concat(t, ",") or nil
end

function M.compare(pcap, tsv)
  local want, got, bad, n = read_tsv(tsv), fields.rows(pcap), {}, 0
  for i, row in ipairs(want) do
    row["tls.record.content_type"] = outer_types(row, true)
    row["tls.record.opaque_type"] = nil
    if got[i] then got[i]["tls.record.content_type"] = outer_types(got[i], true) end
  end
  if #want ~= #got then bad[#bad + 1] = ("%d frames in tshark's reading, %d in sflua's"):format(#want, #got) end
  for i, row in ipairs(got) do
    if row then  -- a frame whose last record goes on in the next segment: tshark shows none of it
      for _, f in ipairs(fields.fields) do
        local a, b = want[i] and want[i][f], row[f]
        if a ~= b then
          bad[#bad + 1] = ("frame %d %s: tshark %s, sflua %s"):format(i, f, tostring(a), tostring(b))
        elseif a then
          n = n + 1
        end
      end
    end
  end
  return n, bad
end

if arg and arg[0] and arg[0]:match("tls_compare%.lua$") then
  local n, bad = M.compare(arg[1], arg[2])
  for _, b in ipairs(bad) do print(b) end
  print(("%s: %d values equal, %d differ"):format(arg[1], n, #bad))
  os.exit(#bad == 0 and n > 0 and 0 or 1)
end

return M
