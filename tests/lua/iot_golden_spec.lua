-- iot_golden_spec.lua: MQTT, MQTT-SN and Modbus/TCP messages that
-- python3-scapy 2.5 built (tests/data/iot/scapy_golden.tsv, from
-- tests/iot/run_scapy.sh --golden): sflua builds the same bytes from the
-- same fields, and parses Scapy's bytes back to them with every layer known.
local sf = require("stackforge")
local h = require("helpers")

local env = setmetatable({}, {__index = function(_, k) return sf[k] or _G[k] end})

-- as scapy_iot.py keeps them: hex, or length and FNV-1a 64 for long packets
local function digest(s)
  if #s <= 1024 then return h.hex(s) end
  local x = 0xcbf29ce484222325
  for i = 1, #s do x = (x ~ s:byte(i)) * 0x100000001b3 end
  return ("len%d:fnv%016x"):format(#s, x)
end

local function cases()
  local list = {}
  for line in io.lines(h.path("iot/scapy_golden.tsv")) do
    local luax, want = line:match("^(.-)\t(%S+)$")
    list[#list + 1] = {luax = luax, want = want}
  end
  return list
end

describe("MQTT, MQTT-SN and Modbus against Scapy 2.5's bytes", function()
  local all = cases()

  it("has the committed cases, of every protocol", function()
    assert.is_true(#all >= 300)
    local seen = {}
    for _, c in ipairs(all) do
      for name in c.luax:gmatch("(%u[%w_]*){") do seen[name] = true end
    end
    for _, name in ipairs({"MQTTConnect", "MQTTPublish", "MQTTSubscribe", "MQTTSNPublish",
        "MQTTSNEncaps", "ModbusADURequest", "ModbusADUResponse", "ModbusObjectId"}) do
      assert.is_true(seen[name], name)
    end
  end)

  it("builds Scapy's bytes from the same fields", function()
    for i, c in ipairs(all) do
      local p = assert(load("return " .. c.luax, "case", "t", env))()
      assert.are.equal(c.want, digest(p:bytes()), ("case %d: %s"):format(i, c.luax:sub(1, 200)))
    end
  end)

  it("parses them back, every layer known, to the same bytes", function()
    for i, c in ipairs(all) do
      local built = assert(load("return " .. c.luax, "case", "t", env))()
      local raw = built:bytes()
      local p = sf.Packet(raw, {proto = built:layer(1).kind})
      assert.is_false(p.truncated, ("case %d"):format(i))
      assert.is_false(p:has_layer(sf.Raw), ("case %d: %s"):format(i, p:summary()))
      local kinds = {}  -- the built layers that have bytes (an empty DISCONNECT has none)
      for k = 1, built.layer_count do
        local id, _, hlen = built:_layer_info(k)
        if hlen > 0 then kinds[#kinds + 1] = id end
      end
      assert.are.equal(#kinds, p.layer_count, ("case %d: %s"):format(i, p:summary()))
      for k, id in ipairs(kinds) do
        local got = p:_layer_info(k)
        if got ~= id and not p:has_layer(sf.TCP) then
          -- without ports, codes 5, 6 and 22 ask and answer alike: a request
          local want, name = require("stackforge.layers").kind_ids, nil  -- LayerKind name -> id
          for n, v in pairs(want) do if v == id then name = n end end
          assert.is_truthy(name and name:match("^ModbusPdu(%x%x)%a+Response$"), ("case %d layer %d"):format(i, k))
          assert.are.equal(want[name:gsub("Response$", "Request")], got, ("case %d layer %d"):format(i, k))
          assert.is_truthy(({["05"] = 1, ["06"] = 1, ["16"] = 1})[name:match("^ModbusPdu(%x%x)")])
        else
          assert.are.equal(id, got, ("case %d layer %d"):format(i, k))
        end
      end
      assert.are.equal(raw, p:build():bytes(), ("case %d"):format(i))
    end
  end)
end)
