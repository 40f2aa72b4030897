-- modbus_send.lua HOST PORT: a Read Holding Registers request built by
-- sflua, sent on a TCP socket (luv); the server's answer is parsed by
-- sflua and printed.  Exit 1 unless it holds modbus_server.py's registers.
local sf = require("stackforge")
local uv = require("luv")
local host, port = arg[1], tonumber(arg[2])
local request = (sf.ModbusADURequest{transId = 0x5f1a, unitId = 1} /
                 sf.ModbusPDU03ReadHoldingRegistersRequest{startAddr = 40, quantity = 3}):bytes()
local got, ok = "", false
local tcp = uv.new_tcp()
local timer = uv.new_timer()
timer:start(5000, 0, function() tcp:close(); timer:close() end)
tcp:connect(host, port, function(err)
  assert(not err, err)
  tcp:write(request)
  tcp:read_start(function(rerr, data)
    assert(not rerr, rerr)
    if data then got = got .. data end
    local m = sf.messages(got, sf.Modbus)[1]
    local r = m and not m.truncated and m[sf.ModbusPDU03ReadHoldingRegistersResponse]
    if r or not data then
      if r then
        print(("transId 0x%04x, registers %s"):format(m.transId, table.concat(r.registerVal, ",")))
        ok = m.transId == 0x5f1a and table.concat(r.registerVal, ",") == "140,141,142"
      end
      tcp:read_stop()
      tcp:shutdown(function() tcp:close(); timer:close() end)
    end
  end)
end)
uv.run()
os.exit(ok and 0 or 1)
