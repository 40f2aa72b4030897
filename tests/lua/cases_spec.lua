-- Per-protocol interop cases (tests/interop/cases/*.lua; format in its
-- README): sflua builds every case to Scapy's bytes, parses Scapy's bytes
-- back to the same layers and bytes, and reads tshark's field values.
-- References: tests/data/cases/, made by tests/interop/run_cases.sh, which
-- also runs this spec over freshly made ones (SFLUA_CASES_REF).
local sf = require("stackforge")
local h = require("helpers")
local cases = dofile("tests/interop/cases.lua")

local refdir = os.getenv("SFLUA_CASES_REF") or h.path("cases")

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

-- {expression = hex} from NAME.scapy.tsv
local function scapy_bytes(name)
  local t = {}
  for line in io.lines(refdir .. "/" .. name .. ".scapy.tsv") do
    local e, hex = line:match("^(.-)\t(%x*)$")
    if e then t[e] = hex end
  end
  return t
end

local function build(expr)
  local env = setmetatable({}, {__index = function(_, k) return sf[k] or _G[k] end})
  local chunk = assert(load("return " .. expr, "=" .. expr, "t", env))
  return chunk()
end

-- tshark's spelling of a value: numbers (decimal or 0x), booleans as 1/0
-- or True/False, addresses as text
local function agrees(want, got, ctor, field)
  if got == nil then return false end
  if type(got) == "string" and ctor then
    local info = require("stackforge.layers").protos[ctor.kind + 1]
    for _, f in ipairs(info.fields) do
      if f.name == field and f.type == "flags" then got = h.flags_number(ctor, field, got) end
    end
  end
  if type(got) == "number" then
    if want == "True" then return got == 1 end
    if want == "False" then return got == 0 end
    return math.tointeger(tonumber(want)) == got
  end
  return want == got
end

for _, name in ipairs(cases.names()) do
  local spec = cases.load(name)
  describe("cases of " .. name, function()
    local ref = scapy_bytes(name)
    it("build Scapy's bytes", function()
      for _, c in ipairs(spec.cases) do
        local want = ref[c[1]]
        assert(want, ("no Scapy reference for %s (run tests/interop/run_cases.sh --update)"):format(c[1]))
        assert.equal(want, h.hex(build(cases.lua_expr(c)):bytes()), c[1])
      end
    end)
    it("parse Scapy's bytes to the same layers and bytes", function()
      for _, c in ipairs(spec.cases) do
        local raw = h.unhex(ref[c[1]])
        local p = sf.Packet(raw, {linktype = spec.linktype or 1})
        assert.equal(build(cases.lua_expr(c)):build():summary(), p:summary(), c[1])
        assert.is_false(p.truncated, c[1])
        assert.equal(h.hex(raw), h.hex(p:bytes()), c[1])
      end
    end)
    local tsv = refdir .. "/" .. name .. ".tshark.tsv"
    if spec.tshark and exists(tsv) then
      it("read tshark's field values", function()
        local rows = h.read_tsv(tsv)
        assert.equal(#spec.cases, #rows)
        local checked = 0
        for i, c in ipairs(spec.cases) do
          local p = sf.Packet(h.unhex(ref[c[1]]), {linktype = spec.linktype or 1})
          for field, want in pairs(rows[i]) do
            local get, layer, fname, got = spec.tshark[field], nil, nil, nil
            if type(get) == "function" then
              got = get(p, sf)
            else
              layer, fname = get[1], get[2]
              got = p[sf[layer]] and p[sf[layer]][fname]
            end
            if not agrees(want, got, layer and sf[layer], fname) then
              error(("%s case %d (%s): %s is %s, tshark's %s says %s"):format(
                name, i, c[1], layer and (layer .. "." .. fname) or "sflua",
                tostring(got), field, want))
            end
            checked = checked + 1
          end
        end
        assert.is_true(checked >= #spec.cases)
      end)
    end
  end)
end
