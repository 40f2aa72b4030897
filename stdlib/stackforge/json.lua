-- stackforge.json: values as JSON text, for the JSONL sflua writes
-- (write_flows, `sflua -m`).  Strings are bytes: those >= 128 are written
-- as the Latin-1 code points they are (\u0080..\u00ff), so any bytes
-- survive and the output is ASCII.
local M = {}

local ESC = {['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t"}

--- A string as a JSON string.
function M.string(s)
  return '"' .. s:gsub('[%c"\\\128-\255]', function(c)
    return ESC[c] or ("\\u%04x"):format(c:byte())
  end) .. '"'
end

-- A table is an array when its keys are 1..n (n >= 1), an object when
-- they are all strings (written sorted: the same value, the same text).
local function kind(t)
  local n, strings = 0, 0
  for k in pairs(t) do
    if math.type(k) == "integer" and k >= 1 then n = n + 1
    elseif type(k) == "string" then strings = strings + 1
    else return nil end
  end
  if strings == 0 and n == #t then return "array" end
  if n == 0 then return "object" end
  return nil
end

local encode

local function encode_table(t, depth, path)
  if depth > 64 then error(("json: %s nests more than 64 deep (a cycle?)"):format(path), 0) end
  local k = kind(t)
  local parts = {}
  if k == "array" then
    for i = 1, #t do parts[i] = encode(t[i], depth + 1, path .. "[" .. i .. "]") end
    return "[" .. table.concat(parts, ",") .. "]"
  elseif k == "object" then
    local keys = {}
    for key in pairs(t) do keys[#keys + 1] = key end
    table.sort(keys)
    for i, key in ipairs(keys) do
      parts[i] = M.string(key) .. ":" .. encode(t[key], depth + 1, path .. "." .. key)
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  error(("json: %s mixes keys: a table is an array (keys 1..n) or an object "
    .. "(string keys)"):format(path), 0)
end

function encode(v, depth, path)
  local t = type(v)
  if t == "string" then return M.string(v)
  elseif t == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    if v == math.floor(v) and math.abs(v) < 2^53 then return ("%d"):format(v) end
    return ("%.17g"):format(v)
  elseif t == "boolean" then return tostring(v)
  elseif t == "nil" then return "null"
  elseif t == "table" then return encode_table(v, depth, path)
  end
  local s = tostring(v)  -- a Packet, an address, ...: its text
  return M.string(s)
end

--- encode(v) -> text: nil, booleans, numbers (NaN and infinities: null),
--- strings, arrays and objects; anything else by its tostring.
function M.encode(v) return encode(v, 0, "value") end

return M
