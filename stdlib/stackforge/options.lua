-- stackforge.options: the one checker of option tables.  FlowConfig, the
-- capture functions (stackforge.capture) and anonymize_pcap use it: an
-- unknown key is an error that names the valid keys; a value of the wrong
-- type or range is an error that names the key, what it takes and what it
-- got.  Errors point at the line that called the public function.  It
-- also holds the one check of a positional argument (argerror, is_packet).
local M = {}

-- A kind is "boolean", "string", "function", "table", "number" (a number
-- >= 0, math.huge included), "count" (an integer >= 0), "limit" (an
-- integer >= 0, or math.huge: no limit), "int31" (an integer 0 .. 2^31-1), a
-- list of the strings allowed, or "any" (its owner checks the value).
local WANT = {
  boolean = "a boolean", string = "a string", ["function"] = "a function",
  table = "a table", number = "a non-negative number",
  count = "a non-negative integer", int31 = "an integer from 0 to 2147483647",
  limit = "a non-negative integer, or math.huge for no limit",
}

local function fits(kind, v)
  if kind == "any" then
    return true
  elseif type(kind) == "table" then
    for _, s in ipairs(kind) do if v == s then return true end end
    return false
  elseif kind == "number" then
    return type(v) == "number" and v >= 0
  elseif kind == "count" then
    return math.type(v) == "integer" and v >= 0
  elseif kind == "limit" then
    return (math.type(v) == "integer" and v >= 0) or v == math.huge
  elseif kind == "int31" then
    return math.type(v) == "integer" and v >= 0 and v <= 0x7fffffff
  end
  return type(v) == kind
end

local function want(kind)
  if type(kind) ~= "table" then return WANT[kind] end
  local q = {}
  for i, s in ipairs(kind) do q[i] = ("%q"):format(s) end
  return "one of " .. table.concat(q, ", ")
end

--- A value as an error message shows it: numbers and booleans as they
--- are, strings quoted, anything else by its type.
function M.show(v)
  local t = type(v)
  if t == "number" or t == "boolean" then return tostring(v) end
  if t == "string" then return ("%q"):format(v) end
  return t
end

--- The keys of spec, sorted and joined: "a, b, c".
function M.keys(spec)
  local names = {}
  for k in pairs(spec) do names[#names + 1] = k end
  table.sort(names)
  return table.concat(names, ", ")
end

--- check(what, t, spec, level [, noun]): t (nil or a table) against spec
--- (key -> kind).  level counts as error()'s does from the caller (2: the
--- caller's caller).  noun "field" words the messages as FlowConfig's
--- ("FlowConfig has no field 'x'", "FlowConfig.x: ..."); the default is
--- a function's options ("rdpcap: unknown option 'x'").
function M.check(what, t, spec, level, noun)
  level = level + 1
  if t == nil then return end
  if type(t) ~= "table" then
    error(("%s: options must be a table, got %s"):format(what, M.show(t)), level)
  end
  for k, v in pairs(t) do
    local kind = spec[k]
    if kind == nil then
      if noun == "field" then
        error(("%s has no field '%s' (fields: %s)"):format(what, tostring(k), M.keys(spec)), level)
      end
      error(("%s: unknown option '%s' (options: %s)"):format(what, tostring(k), M.keys(spec)), level)
    end
    if not fits(kind, v) then
      local name = noun == "field" and ("%s.%s:"):format(what, k)
        or ("%s: option '%s'"):format(what, k)
      error(("%s expected %s, got %s"):format(name, want(kind), M.show(v)), level)
    end
  end
end

--- argerror(fname, i, expected, x [, depth]): "bad argument #i to 'fname'
--- (expected expected, got <type>)" at the line that called fname; depth
--- counts the calls between fname and this one (0: fname calls it).
function M.argerror(fname, i, expected, x, depth)
  error(("bad argument #%d to '%s' (%s expected, got %s)"):format(i, fname, expected,
    type(x) == "userdata" and tostring(x) or type(x)), 3 + (depth or 0))
end

--- is_packet(x): x is a Packet (a userdata that counts its layers)
function M.is_packet(x)
  if type(x) ~= "userdata" then return false end
  local ok, n = pcall(function() return x.layer_count end)
  return ok and math.type(n) == "integer"
end

--- chunks_of(fname, src [, depth]): a source of stream bytes, a string or
--- a function returning chunks until nil (conv:chunks("forward")), as
--- such a function; anything else is fname's bad argument #1 (depth as
--- argerror's)
function M.chunks_of(fname, src, depth)
  if type(src) == "string" then
    local done = false
    return function()
      if done then return nil end
      done = true
      return src
    end
  end
  if type(src) ~= "function" then M.argerror(fname, 1, "string or chunk iterator", src, (depth or 0) + 1) end
  return src
end

--- fingerprint(fname, first, second): the function fname(p) -> p[first],
--- p[second] of a packet's computed values (JA3's hash and string, say);
--- nil when p has no first
function M.fingerprint(fname, first, second)
  return function(p)
    if not M.is_packet(p) then M.argerror(fname, 1, "packet", p) end
    local v = p[first]
    if v == nil then return nil end
    return v, p[second]
  end
end

return M
