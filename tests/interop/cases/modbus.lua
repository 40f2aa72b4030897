-- Modbus/TCP (the protocol file in core) against scapy.contrib.modbus and
-- tshark's mbtcp and modbus dissectors: requests to port 502, responses
-- from it, an exception.
local Q = "Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP(src='192.0.2.1', dst='192.0.2.2')/TCP(sport=40000, dport=502, flags='PA')/"
local R = "Ether(src='02:00:00:00:00:02', dst='02:00:00:00:00:01')/IP(src='192.0.2.2', dst='192.0.2.1')/TCP(sport=502, dport=40000, flags='PA')/"
local function lua(s) return (s:gsub("(%u%w*)%(", "%1{"):gsub("%)/", "}/"):gsub("%)$", "}"):gsub("%[", "{"):gsub("%]", "}")) end
local function c(s) return {s, lua(s)} end
return {
  linktype = 1,
  tshark = {
    ["mbtcp.trans_id"] = {"Modbus", "transId"},
    ["mbtcp.len"] = {"Modbus", "len"},
    ["mbtcp.unit_id"] = {"Modbus", "unitId"},
    ["modbus.func_code"] = function(p, sf) local m = p[sf.Modbus] return m and m.funcCode & 0x7f end,
    ["modbus.reference_num"] = function(p) return p.startAddr or p.outputAddr or p.registerAddr or p.refAddr end,
    ["modbus.word_cnt"] = function(p) return p.quantityRegisters or (p.funcCode == 3 or p.funcCode == 4) and p.quantity or nil end,
    ["modbus.byte_cnt"] = function(p) return p.byteCount end,
    ["modbus.exception_code"] = function(p) return p.exceptCode end,
    ["modbus.and_mask"] = function(p) return p.andMask end,
    ["modbus.or_mask"] = function(p) return p.orMask end,
  },
  cases = {
    c(Q .. "ModbusADURequest(transId=1, unitId=1)/ModbusPDU03ReadHoldingRegistersRequest(startAddr=107, quantity=3)"),
    c(R .. "ModbusADUResponse(transId=1, unitId=1)/ModbusPDU03ReadHoldingRegistersResponse(registerVal=[555, 0, 100])"),
    c(Q .. "ModbusADURequest(transId=2, unitId=1)/ModbusPDU01ReadCoilsRequest(startAddr=19, quantity=19)"),
    c(R .. "ModbusADUResponse(transId=2, unitId=1)/ModbusPDU01ReadCoilsResponse(coilStatus=[205, 107, 5])"),
    c(Q .. "ModbusADURequest(transId=3, unitId=1)/ModbusPDU10WriteMultipleRegistersRequest(startAddr=1, outputsValue=[10, 258])"),
    c(R .. "ModbusADUResponse(transId=3, unitId=1)/ModbusPDU10WriteMultipleRegistersResponse(startAddr=1, quantityRegisters=2)"),
    c(Q .. "ModbusADURequest(transId=4, unitId=1)/ModbusPDU16MaskWriteRegisterRequest(refAddr=4, andMask=242, orMask=37)"),
    c(R .. "ModbusADUResponse(transId=5, unitId=1)/ModbusPDU03ReadHoldingRegistersError(exceptCode=2)"),
    c(Q .. "ModbusADURequest(transId=6, unitId=1)/ModbusPDU05WriteSingleCoilRequest(outputAddr=172, outputValue=65280)"),
    c(Q .. "ModbusADURequest(transId=7, unitId=1)/ModbusPDU2B0EReadDeviceIdentificationRequest(readCode=1, objectId=0)"),
  },
}
