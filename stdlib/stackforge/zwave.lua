-- zwave.lua: Z-Wave (ITU-T G.9959, data rates R1 and R2), written with
-- CustomLayer: a built-in protocol on the same machinery as a plugin's.
-- Z-Wave is radio, not IP: frames come as raw bytes (Packet(raw, {proto
-- = "ZWave"})) or from captures of link type 261 (ZWaveR1R2).
--   ZWave{home_id = 0x12345678, src = 1, dst = 2, cmd_class = 0x25, cmd = 0x01}
--
-- A singlecast MAC frame: home id, source node, two bytes of frame control
-- (routed, ack request, low power, speed modified, header type; beaming,
-- sequence number), the frame's length, the destination node, the payload
-- -- a command class, a command and its parameters -- and a checksum: 0xFF
-- XOR every byte before it, filled in when built (post_build) unless set.
-- An acknowledgement (header type 3) has no payload.  Link type 261 moves
-- the destination before the length (tcpdump.org's LINKTYPE_ZWAVE_R1_R2).
local sf = require("stackforge.custom")  -- CustomLayer, the field types, bind_linktype
local layers = require("stackforge.layers")

local M = {}

-- Command classes (Z-Wave Alliance's list), the common ones by name.
M.command_classes = {
  [0x00] = "NO_OPERATION", [0x01] = "ZWAVE_PROTOCOL", [0x20] = "BASIC",
  [0x21] = "CONTROLLER_REPLICATION", [0x22] = "APPLICATION_STATUS",
  [0x25] = "SWITCH_BINARY", [0x26] = "SWITCH_MULTILEVEL", [0x27] = "SWITCH_ALL",
  [0x2b] = "SCENE_ACTIVATION", [0x30] = "SENSOR_BINARY", [0x31] = "SENSOR_MULTILEVEL",
  [0x32] = "METER", [0x40] = "THERMOSTAT_MODE", [0x43] = "THERMOSTAT_SETPOINT",
  [0x44] = "THERMOSTAT_FAN_MODE", [0x45] = "THERMOSTAT_FAN_STATE",
  [0x59] = "ASSOCIATION_GRP_INFO", [0x5a] = "DEVICE_RESET_LOCALLY",
  [0x5e] = "ZWAVEPLUS_INFO", [0x60] = "MULTI_CHANNEL", [0x62] = "DOOR_LOCK",
  [0x63] = "USER_CODE", [0x6c] = "SUPERVISION", [0x70] = "CONFIGURATION",
  [0x71] = "NOTIFICATION", [0x72] = "MANUFACTURER_SPECIFIC", [0x73] = "POWERLEVEL",
  [0x7a] = "FIRMWARE_UPDATE_MD", [0x80] = "BATTERY", [0x84] = "WAKE_UP",
  [0x85] = "ASSOCIATION", [0x86] = "VERSION", [0x8e] = "MULTI_CHANNEL_ASSOCIATION",
  [0x98] = "SECURITY", [0x9f] = "SECURITY_2",
}

local get_set_report = {[1] = "SET", [2] = "GET", [3] = "REPORT"}
-- Commands of the common classes.
M.commands = {
  [0x20] = get_set_report, [0x25] = get_set_report,
  [0x26] = {[1] = "SET", [2] = "GET", [3] = "REPORT", [4] = "START_LEVEL_CHANGE",
            [5] = "STOP_LEVEL_CHANGE"},
  [0x27] = {[1] = "SET", [2] = "GET", [3] = "REPORT", [4] = "ON", [5] = "OFF"},
  [0x30] = {[2] = "GET", [3] = "REPORT"}, [0x31] = {[4] = "GET", [5] = "REPORT"},
  [0x32] = {[1] = "GET", [2] = "REPORT"}, [0x62] = {[1] = "OPERATION_SET",
            [2] = "OPERATION_GET", [3] = "OPERATION_REPORT"},
  [0x70] = {[4] = "SET", [5] = "GET", [6] = "REPORT"}, [0x71] = {[4] = "GET", [5] = "REPORT"},
  [0x72] = {[4] = "GET", [5] = "REPORT"}, [0x80] = {[2] = "GET", [3] = "REPORT"},
  [0x84] = {[4] = "INTERVAL_SET", [5] = "INTERVAL_GET", [6] = "INTERVAL_REPORT",
            [7] = "NOTIFICATION", [8] = "NO_MORE_INFORMATION"},
  [0x85] = {[1] = "SET", [2] = "GET", [3] = "REPORT", [4] = "REMOVE"},
  [0x86] = {[0x11] = "GET", [0x12] = "REPORT", [0x13] = "COMMAND_CLASS_GET",
            [0x14] = "COMMAND_CLASS_REPORT"},
}

-- "SWITCH_BINARY SET", or numbers where there are no names
function M.command_name(cc, cmd)
  local class, names = M.command_classes[cc], M.commands[cc]
  return ("%s %s"):format(class or ("0x%02x"):format(cc),
    names and names[cmd] or ("0x%02x"):format(cmd))
end

local header_types = {[1] = "singlecast", [2] = "multicast", [3] = "ack", [8] = "routed"}
local ACK = 3

-- the payload's part: present unless the frame is an acknowledgement
local function has_payload(pkt) return pkt.headertype ~= ACK end

-- 9 header bytes and the checksum, then the command class and command
local function frame_length(pkt, x) return x + (has_payload(pkt) and 12 or 10) end

-- The checksum: 0xFF XOR the bytes before it (G.9959 R1/R2), at the end of
-- the frame (its length byte says where).  A value the user set is kept.
local function fill_checksum(pkt, bytes)
  local n = pkt.length
  if pkt.checksum ~= 0 or n < 10 or n > #bytes then return bytes end
  local x = 0xff
  for i = 1, n - 1 do x = x ~ bytes:byte(i) end
  return bytes:sub(1, n - 1) .. string.char(x) .. bytes:sub(n + 1)
end

local function summary(v)
  local s = ("ZWave %08x %d > %d"):format(v.home_id, v.src, v.dst)
  if v.headertype == ACK then return s .. " ack" end
  return s .. " " .. M.command_name(v.cmd_class or 0, v.cmd or 0)
end

-- The fields: dst_first puts the destination before the length (link type
-- 261), else it follows the length (on the air, the seed's order).
local function fields(dst_first)
  local dst = sf.XByteField("dst", 0)
  local length = sf.FieldLenField("length", nil, {length_of = "data", fmt = "B",
    adjust = frame_length})
  local f = {
    sf.XIntField("home_id", 0), sf.XByteField("src", 1),
    sf.BitField("routed", 0, 1), sf.BitField("ackreq", 0, 1), sf.BitField("lowpower", 0, 1),
    sf.BitField("speedframe", 0, 1), sf.BitField("headertype", 1, 4),
    sf.BitField("reserved1", 0, 1), sf.BitField("beam_control", 0, 2),
    sf.BitField("reserved2", 0, 1), sf.BitField("seqn", 0, 4),
    dst_first and dst or length, dst_first and length or dst,
    sf.ConditionalField(sf.ByteEnumField("cmd_class", 0, M.command_classes), has_payload),
    sf.ConditionalField(sf.XByteField("cmd", 0), has_payload),
    sf.ConditionalField(sf.StrLenField("data", "", {length_from = function(pkt)
      return pkt.length - 12 end}), has_payload),
    sf.XByteField("checksum", 0),
  }
  return f
end

-- A Lua state that loads this module again (busted's insulation) finds the
-- layers in the engine already: their constructors, its hooks again.
local function layer(name, dst_first, hooks)
  local id = layers.kind_ids[name]
  if id then return layers.register(id, hooks), false end
  return sf.CustomLayer(name, fields(dst_first), hooks), true
end

M.ZWave = layer("ZWave", false, {
  display = "Z-Wave", post_build = fill_checksum, summary = summary,
})
local fresh
M.ZWaveR1R2, fresh = layer("ZWaveR1R2", true, {
  display = "Z-Wave (R1/R2 capture)", post_build = fill_checksum, summary = summary,
})
if fresh then sf.bind_linktype(M.ZWaveR1R2, 261) end

M.header_types = header_types
return M
