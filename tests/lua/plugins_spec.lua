-- Plugins: sflua loads a plugin folder at start; require() finds plugins;
-- a broken plugin is reported with file and line and the rest still load.
local sf = require("stackforge")
local h = require("helpers")
local plugins = require("stackforge.plugins")

local sflua = os.getenv("SFLUA_BIN")

local function run(env, code)
  local f = io.popen(("%s %s -e %q 2>&1"):format(env, sflua, code))
  local out = f:read("a")
  f:close()
  return out
end

describe("plugins", function()
  it("are loaded by sflua from SFLUA_PLUGIN_PATH; a broken one is reported", function()
    if not sflua then return pending("SFLUA_BIN not set") end
    local out = run("SFLUA_PLUGIN_PATH=" .. h.path("plugins"),
      [[print(Packet((IP()/UDP()/Beacon{id=7, name="x"}):bytes(), {linktype=228}):summary())]])
    assert.truthy(out:find("IPv4 / UDP / Beacon", 1, true), out)
    assert.truthy(out:find("broken.lua:3:", 1, true), out)
    assert.truthy(out:find("attempt to index a nil value", 1, true), out)
  end)

  it("load from ~/.config/sflua/plugins too", function()
    if not sflua then return pending("SFLUA_BIN not set") end
    local home = os.tmpname()
    os.remove(home)
    os.execute(("mkdir -p %s/.config/sflua/plugins && cp %s %s/.config/sflua/plugins/"):format(
      home, h.path("plugins/beacon.lua"), home))
    local out = run("HOME=" .. home, [[print(LayerKind.Beacon ~= nil)]])
    os.execute("rm -rf " .. home)
    assert.truthy(out:find("true", 1, true), out)
  end)

  it("are found by require('stackforge.plugins.NAME')", function()
    plugins.path = {"examples/plugins"}
    local VXLAN = require("stackforge.plugins.vxlan")
    local Telemetry = require("stackforge.plugins.telemetry")
    plugins.path = nil
    local p = sf.Packet((sf.Ether() / sf.IP() / sf.UDP() / VXLAN{vni = 42} / sf.Ether()
      / sf.IP{dst = "10.1.1.1"} / sf.ICMP()):bytes())
    assert.equal("Ethernet / IPv4 / UDP / LuaVXLAN vni=42 / Ethernet / IPv4 / ICMP", p:summary())
    assert.equal(4789, p[sf.UDP].dport)
    -- the plugin's binding shadows the built-in VXLAN until it is split
    sf.split_layers(sf.UDP, VXLAN, {dport = 4789})
    p = sf.Packet(p:bytes())
    assert.equal("Ethernet / IPv4 / UDP / VXLAN / Ethernet / IPv4 / ICMP", p:summary())
    local t = sf.Packet((sf.IP() / sf.UDP() / Telemetry{sensor = "boiler", readings = {210, 215, 220}}):bytes(),
      {linktype = 228})
    assert.equal(6, t.name_len)
    assert.same({210, 215, 220}, t.readings)
    -- the XOR checksum makes the whole layer XOR to zero
    local x = 0
    for _, b in ipairs({t:get_layer_bytes(Telemetry):byte(1, -1)}) do x = x ~ b end
    assert.equal(0, x)
  end)

  it("report a missing plugin clearly", function()
    local ok, err = pcall(require, "stackforge.plugins.no_such_plugin")
    assert.is_false(ok)
    assert.truthy(tostring(err):find("no plugin 'no_such_plugin'", 1, true))
  end)
end)
