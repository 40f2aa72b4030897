-- codecs/http.lua: HTTP/1 header lines as an ordered list, for the
-- `headers` field of HTTPRequest and HTTPResponse (the engine keeps
-- the lines' bytes):  {{"Host", "example.com"}, {"Accept", "*/*"}}.
-- Names and values as sent (a value's surrounding spaces left out); a
-- line without a colon is {line}.
local core = require("stackforge.core")

local M = {}

function M.decode(d)
  local r = {}
  for line in d:gmatch("(.-)\r\n") do
    local name, value = line:match("^([^:]*):[ \t]*(.-)[ \t]*$")
    if name then r[#r + 1] = {name:match("^(.-)[ \t]*$"), value}
    else r[#r + 1] = {line} end
  end
  return r
end

local function bad(i, why) error(("item %d %s"):format(i, why), 0) end

function M.encode(list)
  if type(list) ~= "table" then return list end
  local out = {}
  for i, item in ipairs(list) do
    if type(item) ~= "table" or type(item[1]) ~= "string" then
      bad(i, "is not {name, value}")
    end
    local name, value = item[1], item[2]
    if value ~= nil and type(value) ~= "string" and type(value) ~= "number" then
      bad(i, "has a value that is not a string")
    end
    if name:find("[\r\n:]") or (value and tostring(value):find("[\r\n]")) then
      bad(i, "holds a line break (or a colon in its name)")
    end
    out[i] = value == nil and name .. "\r\n" or name .. ": " .. tostring(value) .. "\r\n"
  end
  return table.concat(out)
end

core.codecs.http_headers = M
return M
