#!/usr/bin/python3
"""modbus_client.py ADDRESS PORT: pymodbus's client reading and writing coils
and registers of modbus_server.py (codes 1-6, 15, 16, 22, 23 and 43/14),
and one read past its registers, answered with an exception.  Exit 1 when
an answer is not what the server holds."""
import sys
from pymodbus.client import ModbusTcpClient
from pymodbus.mei_message import ReadDeviceInformationRequest

c = ModbusTcpClient(sys.argv[1], port=int(sys.argv[2]))
assert c.connect()
checks = [
    c.read_coils(0, 10, slave=1).bits[:10] == [False, True] * 5,
    c.read_discrete_inputs(0, 12, slave=1).bits[:12] == [True, False, True, True] * 3,
    c.read_holding_registers(0, 5, slave=1).registers == [100, 101, 102, 103, 104],
    c.read_input_registers(3, 4, slave=1).registers == [1003, 1004, 1005, 1006],
    not c.write_coil(5, True, slave=1).isError(),
    not c.write_register(2, 777, slave=1).isError(),
    not c.write_coils(20, [True, False, True, True, False, False, True, True, True], slave=1).isError(),
    not c.write_registers(10, [1, 2, 3], slave=1).isError(),
    not c.mask_write_register(address=2, and_mask=0xf0f0, or_mask=0x0101, slave=1).isError(),
    c.readwrite_registers(read_address=10, read_count=3, write_address=20,
                          write_registers=[9, 8], slave=1).registers == [1, 2, 3],
    c.read_holding_registers(500, 2, slave=1).isError(),  # exception 2
    c.execute(ReadDeviceInformationRequest(read_code=1, object_id=0, slave=1)).information[0]
    == b"sflua tests",
]
c.close()
print("pymodbus client checks:", checks)
sys.exit(0 if all(checks) else 1)
