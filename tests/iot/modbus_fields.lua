-- modbus_fields.lua: sflua's reading of a Modbus/TCP capture as
-- tshark_msgs.py writes tshark's: one line per ADU, "SPORT>DPORT<TAB>
-- name=value...", with Wireshark's mbtcp.* and modbus.* names.  The ADUs
-- come from each TCP conversation's reassembled streams (messages(stream,
-- Modbus)); a response's register and coil numbers come from its request,
-- as tshark pairs them by transaction id.
--   lines(sf, path) -> {["SPORT>DPORT"] = {line, ...}}
local compare = require("tshark_compare")

local M = {}

local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
local function join(t) for i, x in ipairs(t) do t[i] = tostring(x) end return table.concat(t, ",") end
local function regs_hex(list)
  local t = {}
  for i, v in ipairs(list) do t[i] = ("%04x"):format(v) end
  return table.concat(t)
end

-- the fields tshark shows for ADU m (a Packet), req the request it answers
function M.fields(sf, m, req)
  local f = {}
  local a = m[sf.Modbus]
  f["mbtcp.trans_id"], f["mbtcp.prot_id"] = tostring(a.transId), tostring(a.protoId)
  f["mbtcp.len"], f["mbtcp.unit_id"] = tostring(a.len), tostring(a.unitId)
  f["modbus.func_code"] = tostring(a.funcCode & 0x7f)
  local v = m:layer(2)
  local function set(name, x, fmt) if x ~= nil then f[name] = fmt and fmt:format(x) or tostring(x) end end
  if a.funcCode >= 0x80 then
    set("modbus.exception_code", v.exceptCode)
    return f
  end
  local fc, q = a.funcCode, req and req:layer(2)
  local resp = v.name:match("Response$") ~= nil  -- the classes' names say
  if fc == 1 or fc == 2 then
    if not resp then
      set("modbus.reference_num", v.startAddr); set("modbus.bit_cnt", v.quantity)
    else
      set("modbus.byte_cnt", v.byteCount)
      if q then
        local nums, vals, list = {}, {}, fc == 1 and v.coilStatus or v.inputStatus
        for i = 0, q.quantity - 1 do
          nums[#nums + 1] = q.startAddr + i
          vals[#vals + 1] = (list[i // 8 + 1] >> (i % 8)) & 1
        end
        f["modbus.bitnum"], f["modbus.bitval"] = join(nums), join(vals)
      end
    end
  elseif fc == 3 or fc == 4 then
    if not resp then
      set("modbus.reference_num", v.startAddr); set("modbus.word_cnt", v.quantity)
    else
      set("modbus.byte_cnt", v.byteCount)
      if q then
        local nums = {}
        for i = 0, #v.registerVal - 1 do nums[#nums + 1] = q.startAddr + i end
        f["modbus.regnum16"], f["modbus.regval_uint16"] = join(nums), join({table.unpack(v.registerVal)})
      end
    end
  elseif fc == 5 then
    set("modbus.reference_num", v.outputAddr); set("modbus.data", v.outputValue, "%04x")
    set("modbus.padding", v.outputValue & 0xff, "0x%02x")
  elseif fc == 6 then
    set("modbus.reference_num", v.registerAddr); set("modbus.data", v.registerValue, "%04x")
  elseif fc == 15 then
    set("modbus.reference_num", v.startAddr); set("modbus.bit_cnt", v.quantityOutput)
    if not resp then
      set("modbus.byte_cnt", v.byteCount)
      f["modbus.data"] = hex(string.char(table.unpack(v.outputsValue)))
    end
  elseif fc == 16 then
    set("modbus.reference_num", v.startAddr); set("modbus.word_cnt", v.quantityRegisters)
    if not resp then
      set("modbus.byte_cnt", v.byteCount)
      local nums = {}
      for i = 0, #v.outputsValue - 1 do nums[#nums + 1] = v.startAddr + i end
      f["modbus.regnum16"], f["modbus.regval_uint16"] = join(nums), join({table.unpack(v.outputsValue)})
    end
  elseif fc == 22 then
    set("modbus.reference_num", v.refAddr); set("modbus.and_mask", v.andMask, "0x%04x")
    set("modbus.or_mask", v.orMask, "0x%04x")
  elseif fc == 23 then
    set("modbus.byte_cnt", v.byteCount)
    if not resp then
      set("modbus.read_reference_num", v.readStartingAddr)
      set("modbus.read_word_cnt", v.readQuantityRegisters)
      set("modbus.write_reference_num", v.writeStartingAddr)
      set("modbus.write_word_cnt", v.writeQuantityRegisters)
      f["modbus.data"] = regs_hex(v.writeRegistersValue)
    else
      f["modbus.data"] = regs_hex(v.registerVal)
    end
  elseif fc == 43 then
    set("modbus.mei", v.MEIType); set("modbus.read_device_id", v.readCode)
    if resp then
      set("modbus.conformity_level", v.conformityLevel, "0x%02x")
      set("modbus.more_follows", v.more, "0x%02x"); set("modbus.next_object_id", v.nextObjId)
      set("modbus.num_objects", v.objCount)
      local ids, lens, vals = {}, {}, {}
      for i = 3, m.layer_count do
        local o = m:layer(i)
        ids[#ids + 1], lens[#lens + 1], vals[#vals + 1] = o.id, #o.value, o.value
      end
      f["modbus.object_id"], f["modbus.objects_len"] = join(ids), join(lens)
      f["modbus.object_str_value"] = table.concat(vals, ",")
    else
      set("modbus.object_id", v.objectId)
    end
  end
  return f
end

-- {["SPORT>DPORT"] = {line, ...}} over every Modbus/TCP conversation
function M.lines(sf, path)
  local out = {}
  for _, c in ipairs(sf.extract_flows(path)) do
    if c.protocol == "TCP" and (c.src_port == 502 or c.dst_port == 502) then
      local requests = {}
      for _, dir in ipairs({{"forward", c.src_port, c.dst_port}, {"reverse", c.dst_port, c.src_port}}) do
        local key = dir[2] .. ">" .. dir[3]
        out[key] = out[key] or {}
        for _, m in ipairs(sf.messages(c["reassembled_" .. dir[1]], sf.Modbus)) do
          if dir[3] == 502 then requests[m.transId] = m end
          table.insert(out[key], compare.line(M.fields(sf, m, requests[m.transId])))
        end
      end
    end
  end
  return out
end

function M.compare(ours, theirs, limit)
  return compare.compare(ours, theirs, limit, nil, function(name)
    return name == "modbus.request_frame" or name == "modbus.response_time"
  end)
end

M.tshark_lines = compare.tshark_lines
return M
