-- modbus_spec.lua: Modbus/TCP (core's modbus protocol file).  Oracles:
-- pymodbus's server and client read by tshark (tests/data/modbus_pymodbus.pcap
-- and .tsv, from tests/iot/run_pymodbus.sh --update), Scapy's bytes
-- (iot_golden_spec), the Modbus Application Protocol's examples.
package.path = "tests/iot/?.lua;" .. package.path
local sf = require("stackforge")
local h = require("helpers")
local fields = require("modbus_fields")

local function over_tcp(sport, dport, adu)
  return sf.Packet((sf.IP() / sf.TCP{sport = sport, dport = dport} / adu):bytes(), {proto = sf.IP})
end

describe("Modbus/TCP", function()
  it("reads every ADU of pymodbus's traffic as tshark does, field by field", function()
    local ours = fields.lines(sf, h.path("modbus_pymodbus.pcap"))
    local n, diffs = fields.compare(ours, fields.tshark_lines(h.path("modbus_pymodbus.tsv")))
    assert.are.same({}, diffs)
    assert.is_true(n >= 24)
  end)

  it("reads the captured requests and responses with Scapy's classes, lists as lists", function()
    local names = {}
    for p in sf.PcapReader(h.path("modbus_pymodbus.pcap")) do
      if p:has_layer(sf.Modbus) then
        names[p:layer(5).name] = true
        local r = p[sf.ModbusPDU03ReadHoldingRegistersResponse]
        if r and p.transId == 3 then assert.are.same({100, 101, 102, 103, 104}, r.registerVal) end
        local e = p[sf.ModbusPDU03ReadHoldingRegistersError]
        if e then assert.are.equal(2, e.exceptCode); assert.are.equal(0x83, p.funcCode) end
      end
    end
    for _, n in ipairs({"Read Coils Request", "Read Coils Response", "Read Discrete Inputs Response",
        "Read Holding Registers", "Read Input Registers Response", "Write Single Coil Response",
        "Write Multiple Coils", "Write Multiple Registers Response", "Mask Write Register",
        "Read Write Multiple Registers Response", "Read Holding Registers Exception",
        "Read Device Identification Response"}) do
      assert.is_true(names[n], n)
    end
  end)

  it("builds the specification's examples", function()
    -- MODBUS Application Protocol v1.1b3, 6.3 and 6.12: read registers 108-110,
    -- write registers 2 and 3 with 0x000A and 0x0102
    local read = sf.ModbusADURequest{transId = 1, unitId = 1} /
      sf.ModbusPDU03ReadHoldingRegistersRequest{startAddr = 107, quantity = 3}
    assert.are.equal("000100000006010300" .. "6b0003", h.hex(read:bytes()))
    local answer = sf.ModbusADUResponse{transId = 1, unitId = 1} /
      sf.ModbusPDU03ReadHoldingRegistersResponse{registerVal = {0x022b, 0x0000, 0x0064}}
    assert.are.equal("000100000009010306022b00000064", h.hex(answer:bytes()))
    local write = sf.Modbus{unitId = 1} /
      sf.ModbusPDU10WriteMultipleRegistersRequest{startAddr = 1, outputsValue = {0x000a, 0x0102}}
    assert.are.equal("00000000000b01100001000204000a0102", h.hex(write:bytes()))
    -- the seed toolkit's form: the code and the bytes after it in one layer
    assert.are.equal("000000000006ff030001000a", h.hex(sf.Modbus{func_code = 3, data = "\0\1\0\10"}:bytes()))
  end)

  it("tells requests from responses by the ports, else by the lengths", function()
    local req = sf.Modbus() / sf.ModbusPDU01ReadCoilsRequest{startAddr = 4, quantity = 9}
    local resp = sf.Modbus() / sf.ModbusPDU01ReadCoilsResponse{coilStatus = {0xcd, 0x01}}
    assert.is_truthy(over_tcp(40000, 502, req)[sf.ModbusPDU01ReadCoilsRequest])
    assert.is_truthy(over_tcp(502, 40000, resp)[sf.ModbusPDU01ReadCoilsResponse])
    -- alone, or on another port: a 4-byte read is a request, a counted list a response
    assert.is_truthy(sf.Packet(req:bytes(), {proto = sf.Modbus})[sf.ModbusPDU01ReadCoilsRequest])
    local r = sf.Packet(resp:bytes(), {proto = sf.Modbus})[sf.ModbusPDU01ReadCoilsResponse]
    assert.are.same({0xcd, 0x01}, r.coilStatus)
    assert.are.equal(2, r.byteCount)
    local wr = sf.Modbus() / sf.ModbusPDU0FWriteMultipleCoilsResponse{startAddr = 19, quantityOutput = 10}
    assert.is_truthy(sf.Packet(wr:bytes(), {proto = sf.Modbus})[sf.ModbusPDU0FWriteMultipleCoilsResponse])
  end)

  it("fills counts from the lists, and keeps counts the user set", function()
    local p = sf.Modbus() / sf.ModbusPDU17ReadWriteMultipleRegistersRequest{writeRegistersValue = {1, 2, 3}}
    local v = sf.Packet(p:bytes(), {proto = sf.Modbus})[sf.ModbusPDU17ReadWriteMultipleRegistersRequest]
    assert.are.same({3, 6, {1, 2, 3}}, {v.writeQuantityRegisters, v.byteCount, v.writeRegistersValue})
    local odd = sf.Modbus() / sf.ModbusPDU03ReadHoldingRegistersResponse{byteCount = 9, registerVal = {1}}
    assert.are.equal(9, over_tcp(502, 40000, odd).byteCount)  -- from port 502: a response
    assert.are.equal(5, over_tcp(502, 40000, odd)[sf.Modbus].len)  -- unit, code, count, one register
  end)

  it("parses several ADUs in a segment, and the device identification's objects", function()
    local s = (sf.Modbus{transId = 1} / sf.ModbusPDU06WriteSingleRegisterRequest{registerAddr = 1, registerValue = 3} /
               sf.Modbus{transId = 2} / sf.ModbusPDU2B0EReadDeviceIdentificationRequest{}):bytes()
    local p = sf.Packet(s, {proto = sf.Modbus})
    assert.are.equal("Modbus/TCP / Write Single Register / Modbus/TCP / Read Device Identification", p:summary())
    local d = sf.ModbusADUResponse() / sf.ModbusPDU2B0EReadDeviceIdentificationResponse{} /
      sf.ModbusObjectId{id = 0, value = "vendor"} / sf.ModbusObjectId{id = 1, value = "code"}
    local q = sf.Packet(over_tcp(502, 40000, d):bytes(), {proto = sf.IP})
    assert.are.equal(2, q.objCount)
    assert.are.equal("code", q:layer(6).value)
    assert.are.equal(2, #sf.messages(s, sf.Modbus))
  end)

  it("never reads past malformed bytes", function()
    math.randomseed(7)
    local seeds = {
      (sf.Modbus() / sf.ModbusPDU10WriteMultipleRegistersRequest{outputsValue = {1, 2}}):bytes(),
      (sf.Modbus() / sf.ModbusPDU2B0EReadDeviceIdentificationResponse{} / sf.ModbusObjectId{value = "x"}):bytes(),
    }
    for i = 1, 3000 do
      local t = {seeds[i % 2 + 1]:byte(1, -1)}
      for _ = 1, math.random(1, 4) do t[math.random(1, #t)] = math.random(0, 255) end
      local p = sf.Packet(string.char(table.unpack(t)):sub(1, math.random(1, #t)), {proto = sf.Modbus})
      assert.is_string(p:show())
    end
  end)
end)
