-- zwave_spec.lua: Z-Wave (stdlib/stackforge/zwave.lua, on CustomLayer).
-- The checksums below were computed apart, with Python (0xFF XOR every byte
-- before the checksum, ITU-T G.9959 for R1 and R2); tshark 4.0 has no
-- Z-Wave dissector and Scapy 2.5 no Z-Wave layer.
local sf = require("stackforge")
local h = require("helpers")

describe("Z-Wave", function()
  it("builds the seed toolkit's form, the length and the checksum filled in", function()
    local z = sf.ZWave{home_id = 0x12345678, src = 1, dst = 2, cmd_class = 0x25, cmd = 0x01, data = "\255"}
    assert.are.equal("123456780101000d022501ff23", h.hex(z:bytes()))
    assert.are.equal("ZWave 12345678 1 > 2 SWITCH_BINARY SET", z:summary())
    assert.are.equal(sf.ZWave.kind, z:layer(1).kind)
    assert.are.equal("ZWave", sf.LayerKind.ZWave)
  end)

  it("parses frames from raw bytes: command classes by name, acknowledgements without a payload", function()
    local p = sf.Packet(h.unhex("c0ffee00014105" .. "0c" .. "02" .. "2502" .. "42"), {proto = sf.ZWave})
    local v = p[sf.ZWave]
    assert.are.same({0xc0ffee00, 1, 1, 1, 5, 12, 2, 0x25, 2, "", 0x42},
      {v.home_id, v.src, v.ackreq, v.headertype, v.seqn, v.length, v.dst, v.cmd_class, v.cmd, v.data, v.checksum})
    assert.matches("cmd_class = SWITCH_BINARY", p:show())
    assert.are.equal("ZWave c0ffee00 1 > 2 SWITCH_BINARY GET", p:summary())
    local ack = sf.Packet(h.unhex("deadbeef0203050a01d2"), {proto = sf.ZWave})
    assert.are.equal("ZWave deadbeef 2 > 1 ack", ack:summary())
    assert.is_nil(ack[sf.ZWave].cmd_class)
    assert.are.equal("deadbeef0203050a01d2",
      h.hex(sf.ZWave{home_id = 0xdeadbeef, src = 2, dst = 1, headertype = 3, seqn = 5}:bytes()))
  end)

  it("keeps a checksum the user set, and a length", function()
    local z = sf.ZWave{home_id = 1, dst = 2, cmd_class = 0x20, cmd = 1, checksum = 0x99, length = 40}
    local b = z:bytes()
    assert.are.equal(0x99, b:byte(#b))
    assert.are.equal(40, b:byte(8))
  end)

  it("reads and writes link type 261, whose destination comes before the length", function()
    local r = sf.ZWaveR1R2{home_id = 1, src = 1, dst = 2, cmd_class = 0x20, cmd = 2}
    assert.are.equal("0000000101010002" .. "0c" .. "2002" .. "d2", h.hex(r:bytes()))
    local path = os.tmpname()
    sf.wrpcap(path, {r})
    local got = sf.rdpcap(path)
    os.remove(path)
    assert.are.equal(261, got[1].linktype)
    assert.are.equal("ZWave 00000001 1 > 2 BASIC GET", got[1]:summary())
  end)

  it("names commands of the common classes, numbers otherwise", function()
    local zw = require("stackforge.zwave")
    assert.are.equal("WAKE_UP INTERVAL_SET", zw.command_name(0x84, 4))
    assert.are.equal("0xf1 0x05", zw.command_name(0xf1, 5))
    assert.are.equal("BATTERY 0x09", zw.command_name(0x80, 9))
  end)

  it("turns bytes that are no frame into Raw, never reading past them", function()
    local p = sf.Packet(h.unhex("1234567801010005"), {proto = sf.ZWave})  -- a length of 5
    assert.is_true(p.truncated)
    math.randomseed(3)
    local seed = sf.ZWave{home_id = 7, dst = 3, cmd_class = 0x26, cmd = 1, data = "\99\1"}:bytes()
    for _ = 1, 2000 do
      local t = {seed:byte(1, -1)}
      for _ = 1, math.random(1, 3) do t[math.random(1, #t)] = math.random(0, 255) end
      local q = sf.Packet(string.char(table.unpack(t)):sub(1, math.random(1, #t)), {proto = sf.ZWave})
      assert.is_string(q:show() .. q:summary())
    end
  end)
end)
