-- codecs/http2.lua: HTTP/2 header blocks and settings for the engine's
-- HTTP/2 frames.
--   hdrs (HEADERS, PUSH_PROMISE, CONTINUATION): {{":method", "GET"}, ...},
--     decoded and encoded by libnghttp2's HPACK (the engine's "hpack"
--     codec); a block that needs an earlier block's table entries does
--     not decode alone and stays bytes (h2_headers decodes a stream's).
--   settings (SETTINGS): {{id, value}, ...}; ids also by name
--     ("MAX_CONCURRENT_STREAMS", or Scapy's SETTINGS_... spelling).
local core = require("stackforge.core")

local spack, sunpack = string.pack, string.unpack

local M = {}

-- ">s4s4" pairs -> {{name, value}, ...}
function M.unpack_pairs(t, i, count)
  local r = {}
  i = i or 1
  while (count and #r < count) or (not count and i <= #t) do
    local name, value
    name, value, i = sunpack(">s4s4", t, i)
    r[#r + 1] = {name, value}
  end
  return r, i
end

function M.pack_pairs(list)
  local out = {}
  for i, item in ipairs(list) do
    if type(item) ~= "table" or type(item[1]) ~= "string" or
       (type(item[2]) ~= "string" and type(item[2]) ~= "number") then
      error(("item %d is not {name, value} (strings)"):format(i), 0)
    end
    out[i] = spack(">s4s4", item[1], tostring(item[2]))
  end
  return table.concat(out)
end

M.h2_headers = {
  decode = function(d)
    local t = core.codec_text("hpack", d)
    if not t then return d end
    return (M.unpack_pairs(t))
  end,
  encode = function(list)
    if type(list) ~= "table" then return list end
    local b = core.codec_bytes("hpack", M.pack_pairs(list))
    if not b then error("the header list does not encode", 0) end
    return b
  end,
}

M.settings_names = {
  [1] = "HEADER_TABLE_SIZE", [2] = "ENABLE_PUSH", [3] = "MAX_CONCURRENT_STREAMS",
  [4] = "INITIAL_WINDOW_SIZE", [5] = "MAX_FRAME_SIZE", [6] = "MAX_HEADER_LIST_SIZE",
  [8] = "ENABLE_CONNECT_PROTOCOL", [9] = "NO_RFC7540_PRIORITIES",
}
local settings_ids = {}
for k, v in pairs(M.settings_names) do
  settings_ids[v] = k
  settings_ids["SETTINGS_" .. v] = k
end

M.h2_settings = {
  decode = function(d)
    if #d % 6 ~= 0 then return d end
    local r = {}
    for i = 1, #d, 6 do
      local id, value = sunpack(">I2I4", d, i)
      r[#r + 1] = {id, value}
    end
    return r
  end,
  encode = function(list)
    if type(list) ~= "table" then return list end
    local out = {}
    for i, item in ipairs(list) do
      local id = type(item) == "table" and (item[1] or item.id)
      local value = type(item) == "table" and (item[2] or item.value)
      if type(id) == "string" then id = settings_ids[id] or settings_ids[id:upper()] end
      if math.type(id) ~= "integer" or id < 0 or id > 0xffff or
         math.type(value) ~= "integer" or value < 0 or value > 0xffffffff then
        error(("item %d is not {id, value} (a 16-bit id or its name, " ..
          "a 32-bit value)"):format(i), 0)
      end
      out[i] = spack(">I2I4", id, value)
    end
    return table.concat(out)
  end,
}

core.codecs.h2_headers = M.h2_headers
core.codecs.h2_settings = M.h2_settings
return M
