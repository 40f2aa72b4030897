-- check_custom.lua: sflua against one golden custom-layer case (Scapy's
-- bytes and dissection, tests/data/scapy_custom_golden.lua).  Shared by the
-- live cross-check (run_scapy_custom.sh) and tests/lua/custom_spec.lua.
--
--   local ck = dofile("tests/custom/check_custom.lua")(sf, defs)
--   ck.build(golden_case) -> list of errors (sflua's bytes vs Scapy's)
--   ck.parse(golden_case) -> list of errors (sflua's fields vs Scapy's)
--   ck.known(golden_case) -> reason, when the case meets a known bug
return function(sf, defs)
  local M = {}

  local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
  local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end
  M.hex, M.unhex = hex, unhex

  local function show(v)
    if type(v) == "string" then
      return '"' .. v:gsub('[^%w %.:+_-]', function(c) return ("\\%d"):format(c:byte()) end) .. '"'
    end
    if type(v) ~= "table" then return tostring(v) end
    local o, keys = {}, {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do o[#o + 1] = (math.type(k) and "" or (k .. "=")) .. show(v[k]) end
    return "{" .. table.concat(o, ",") .. "}"
  end
  M.show = show

  -- the layer's values with packet-list items made into packets
  local function sf_values(values)
    local o = {}
    for k, v in pairs(values) do
      if type(v) == "table" and type(v[1]) == "table" and v[1].layer then
        local l = {}
        for i, item in ipairs(v) do l[i] = defs.ctor[item.layer](sf_values(item.values)) end
        v = l
      end
      o[k] = v
    end
    return o
  end

  function M.make(case)
    local inner = defs.ctor[case.layer](sf_values(case.values))
    if case.wrap == "udp" then
      return sf.Ether{dst = "02:00:00:00:00:01", src = "02:00:00:00:00:02"}
        / sf.IP{src = "192.0.2.1", dst = "192.0.2.2"} / sf.UDP{sport = 40000} / inner
    end
    return inner
  end

  -- Known bugs in the implementation, found by this cross-check.  TODO:
  -- delete each entry once fixed (the cases then have to pass).
  -- {dir = "build" | "parse" | "both", match = fn(case) -> bool, why = "..."}
  M.KNOWN = {}  -- every case agrees with Scapy; add {dir=, why=, match=} to park one

  -- the reason, and whether the case may pass by coincidence
  function M.known(g, dir)
    for _, k in ipairs(M.KNOWN) do
      if (k.dir == "both" or k.dir == dir) and k.match(g.case) then return k.why, k.maybe end
    end
  end

  function M.build(g)
    local ok, p = pcall(M.make, g.case)
    if not ok then return {"build raised: " .. tostring(p)} end
    local ok2, raw = pcall(p.bytes, p)
    if not ok2 then return {"bytes() raised: " .. tostring(raw)} end
    if hex(raw) ~= g.hex then
      return {("bytes differ\n  scapy %s\n  sflua %s"):format(g.hex, hex(raw))}
    end
    return {}
  end

  -- compare sflua's value got with Scapy's want (see the golden file)
  local compare_fields
  local function same(got, want, where, errs)
    if type(want) == "table" and want.layer then -- a sub-packet
      local view = got and got[defs.ctor[want.layer]]
      if not view then
        errs[#errs + 1] = ("%s: expected a %s packet, got %s"):format(where, want.layer, tostring(got))
        return
      end
      compare_fields(view, want.fields, where .. ".", errs)
    elseif type(want) == "table" then
      if type(got) ~= "table" then
        errs[#errs + 1] = ("%s: scapy %s, sflua %s"):format(where, show(want), tostring(got))
        return
      end
      if #got ~= #want then
        errs[#errs + 1] = ("%s: scapy has %d items, sflua %d (%s vs %s)"):format(where, #want, #got, show(want), show(got))
        return
      end
      for i = 1, #want do same(got[i], want[i], ("%s[%d]"):format(where, i), errs) end
    elseif got ~= want then
      errs[#errs + 1] = ("%s: scapy %s, sflua %s"):format(where, show(want), show(got))
    end
  end

  function compare_fields(view, fields, prefix, errs)
    for _, f in ipairs(fields) do
      local ok, got = pcall(function() return view[f[1]] end)
      if not ok then
        errs[#errs + 1] = ("%s%s: reading raised %s"):format(prefix, f[1], tostring(got))
      elseif #f == 1 then
        if got ~= nil then
          errs[#errs + 1] = ("%s%s: absent in scapy, sflua has %s"):format(prefix, f[1], show(got))
        end
      else
        same(got, f[2], prefix .. f[1], errs)
      end
    end
  end

  function M.parse(g)
    local ctor = defs.ctor[g.case.layer]
    local raw = unhex(g.hex)
    local ok, p = pcall(function()
      if g.case.wrap == "udp" then return sf.Packet(raw):parse() end
      return sf.Packet(raw, {proto = ctor}):parse()
    end)
    if not ok then return {"Packet() raised: " .. tostring(p)} end
    local view = p[ctor]
    if not view then return {("no %s layer in %s"):format(g.case.layer, p:summary())} end
    local errs = {}
    compare_fields(view, g.fields, "", errs)
    return errs
  end

  return M
end
