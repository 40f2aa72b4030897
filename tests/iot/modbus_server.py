#!/usr/bin/python3
"""modbus_server.py ADDRESS PORT: a pymodbus Modbus/TCP server with 100
coils, discrete inputs, holding and input registers (addresses 0-99; a read
past them is answered with exception 2) and a device identification."""
import sys
from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.device import ModbusDeviceIdentification
from pymodbus.server import StartTcpServer

store = ModbusSlaveContext(
    di=ModbusSequentialDataBlock(0, [1, 0, 1, 1] * 25),
    co=ModbusSequentialDataBlock(0, [0, 1] * 50),
    hr=ModbusSequentialDataBlock(0, list(range(100, 200))),
    ir=ModbusSequentialDataBlock(0, list(range(1000, 1100))),
    zero_mode=True)
identity = ModbusDeviceIdentification()
identity.VendorName = "sflua tests"
identity.ProductCode = "SF"
identity.MajorMinorRevision = "1.0"
StartTcpServer(context=ModbusServerContext(slaves=store, single=True), identity=identity,
               address=(sys.argv[1], int(sys.argv[2])))
