-- tshark_compare.lua: the lines tshark_msgs.py writes, and sflua's written
-- alike, compared field by field (mqtt_fields.lua, modbus_fields.lua).
local M = {}

local function sorted(t)
  table.sort(t, function(x, y) return tostring(x) < tostring(y) end)
  return t
end
M.sorted = sorted

-- name=value fields, names sorted, tab-separated
function M.line(f)
  local keys = {}
  for k in pairs(f) do keys[#keys + 1] = k end
  table.sort(keys)
  for i, k in ipairs(keys) do keys[i] = k .. "=" .. f[k] end
  return table.concat(keys, "\t")
end

-- {["SPORT>DPORT"] = {line, ...}}, in the file's order
function M.tshark_lines(path)
  local out = {}
  for l in io.lines(path) do
    local key, rest = l:match("^(%S+)\t(.*)$")
    if key then
      out[key] = out[key] or {}
      table.insert(out[key], rest)
    end
  end
  return out
end

local function fields_of(l)
  local f = {}
  for kv in (l or ""):gmatch("[^\t]+") do
    local a, b = kv:match("^(.-)=(.*)$")
    f[a] = b
  end
  return f
end

-- Every field tshark gave for every message against sflua's (names for
-- which unordered(name) holds compared as sorted lists; names skip(name)
-- holds left out): the number of messages and the differences (at most
-- limit).
function M.compare(ours, theirs, limit, unordered, skip)
  local n, diffs = 0, {}
  limit = limit or 20
  local function differ(msg) if #diffs < limit then diffs[#diffs + 1] = msg end end
  for key, list in pairs(theirs) do
    for i, want in ipairs(list) do
      n = n + 1
      local got = fields_of((ours[key] or {})[i])
      for a, b in pairs(fields_of(want)) do
        if not (skip and skip(a)) then
          if unordered and unordered(a) then
            local t = {}
            for x in b:gmatch("[^,]+") do t[#t + 1] = x end
            b = table.concat(sorted(t), ",")
          end
          if got[a] ~= b then
            differ(("%s message %d: %s is %s to tshark, %s to sflua"):format(key, i, a,
              b:sub(1, 60), tostring(got[a]):sub(1, 60)))
          end
        end
      end
    end
    if #(ours[key] or {}) ~= #list then
      differ(("%s: %d messages to tshark, %d to sflua"):format(key, #list, #(ours[key] or {})))
    end
  end
  return n, diffs
end

return M
