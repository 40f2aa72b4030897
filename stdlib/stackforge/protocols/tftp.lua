-- tftp.lua: TFTP (RFC 1350, options RFC 2347-2349, 7440) on UDP 69, with
-- Scapy 2.5's classes and fields (scapy/layers/tftp.py), line by line:
--   IP() / UDP() / TFTP() / TFTP_RRQ{filename = "a.txt", mode = "octet"}
--     / TFTP_Options{options = {TFTP_Option{oname = "blksize", value = "1024"}}}
-- and the seed's one-layer form TFTP{opcode = 1, filename = "test.txt", mode = "octet"}.
--
-- Why CustomLayer and not C: every TFTP field is a 16-bit integer or a
-- NUL-terminated string, which the layout engine places by itself (no Lua
-- call while parsing: custom.md's "Speed"), and a message is a few bytes, so
-- C would gain nothing measurable (bench/README.md's TFTP figure).
--
-- A transfer runs on ports neither side had before (the server answers
-- from a new one): per packet only the request on port 69 is TFTP; read as
-- flows, relate_flows() ties the transfer to its request and tftp_messages()
-- reads its packets (docs/textproto.md).
local sf = require("stackforge.custom")
local layers = require("stackforge.layers")
local core = require("stackforge.core")
local text = require("stackforge.textproto")

local M = {}

M.operations = {[1] = "RRQ", [2] = "WRQ", [3] = "DATA", [4] = "ACK", [5] = "ERROR", [6] = "OACK"}
M.error_codes = {[0] = "Not defined", [1] = "File not found", [2] = "Access violation",
  [3] = "Disk full or allocation exceeded", [4] = "Illegal TFTP operation",
  [5] = "Unknown transfer ID", [6] = "File already exists", [7] = "No such user",
  [8] = "Terminate transfer due to option negotiation"}

local define = text.define

M.TFTP = define("TFTP", {sf.ShortEnumField("op", 1, M.operations)}, {
  display = "TFTP", ws = "tftp", ws_fields = {{"tftp.opcode", "op"}},
})
local function request(name, display, what)
  return define(name, {sf.StrNullField("filename", ""), sf.StrNullField("mode", "octet")}, {
    display = display, ws_fields = {{what, "filename"}, {"tftp.type", "mode"}},
    summary = function(v) return ("TFTP %s %s"):format(name:sub(6), v.filename) end,
  })
end
M.TFTP_RRQ = request("TFTP_RRQ", "TFTP Read Request", "tftp.source_file")
M.TFTP_WRQ = request("TFTP_WRQ", "TFTP Write Request", "tftp.destination_file")
M.TFTP_DATA = define("TFTP_DATA", {sf.ShortField("block", 0)}, {
  display = "TFTP Data", ws_fields = {{"tftp.block", "block"}},
  summary = function(v) return ("TFTP DATA %d"):format(v.block) end,
})
M.TFTP_ACK = define("TFTP_ACK", {sf.ShortField("block", 0)}, {
  display = "TFTP Ack", ws_fields = {{"tftp.block", "block"}},
  summary = function(v) return ("TFTP ACK %d"):format(v.block) end,
})
M.TFTP_ERROR = define("TFTP_ERROR", {sf.ShortEnumField("errorcode", 0, M.error_codes),
    sf.StrNullField("errormsg", "")}, {
  display = "TFTP Error", ws_fields = {{"tftp.error.code", "errorcode"}, {"tftp.error.message", "errormsg"}},
  summary = function(v) return ("TFTP ERROR %d: %s"):format(v.errorcode, v.errormsg) end,
})
M.TFTP_OACK = define("TFTP_OACK", {}, {display = "TFTP Option Ack"})
M.TFTP_Option = define("TFTP_Option", {sf.StrNullField("oname", ""), sf.StrNullField("value", "")}, {
  display = "TFTP Option", ws_fields = {{"tftp.option.name", "oname"}, {"tftp.option.value", "value"}},
})
M.TFTP_Options = define("TFTP_Options", {sf.PacketListField("options", {}, M.TFTP_Option)}, {
  display = "TFTP Options",
})

-- Scapy's bindings (a fresh definition only: a state that loads this file
-- again finds them in the engine)
if text.fresh("TFTP") then
  sf.bind_layers(layers.UDP, M.TFTP, {dport = 69})
  for op, cls in pairs({M.TFTP_RRQ, M.TFTP_WRQ, M.TFTP_DATA, M.TFTP_ACK, M.TFTP_ERROR, M.TFTP_OACK}) do
    sf.bind_layers(M.TFTP, cls, {op = op})
  end
  for _, cls in ipairs({M.TFTP_RRQ, M.TFTP_WRQ, M.TFTP_OACK}) do
    sf.bind_layers(cls, M.TFTP_Options)
  end
  -- TFTP_OACK has no fields (Scapy's): an empty header parses as nothing,
  -- so an OACK read from bytes is TFTP (op 6) / TFTP_Options
  sf.bind_layers(M.TFTP, M.TFTP_Options, {op = 6})
end
layers.add_kind("Tftp", M.TFTP.kind)

-- The seed's form, TFTP{opcode=1, filename="test.txt", mode="octet"}:
-- opcode is Scapy's op, and a request's fields stack its TFTP_RRQ/WRQ;
-- TFTP{opcode=3, block=1} a DATA, 4 an ACK, 5 an ERROR.
local op_numbers = {}
for n, name in pairs(M.operations) do op_numbers[name] = n end
local by_op = {M.TFTP_RRQ, M.TFTP_WRQ, M.TFTP_DATA, M.TFTP_ACK, M.TFTP_ERROR}  -- OACK: no fields
text.seed_form(M.TFTP, function(t)
  local rest, op = {}, t.op or t.opcode or 1
  local upper
  for k, v in pairs(t) do
    if k ~= "op" and k ~= "opcode" then rest[k] = v end
  end
  local n = math.type(op) == "integer" and op or op_numbers[op]
  if next(rest) then
    upper = by_op[n]
    if not upper then
      error(("TFTP: opcode %s takes no fields (filename, mode: 1/RRQ, 2/WRQ; block: 3/DATA, 4/ACK; errorcode, errormsg: 5/ERROR)")
        :format(tostring(op)), 0)
    end
  end
  return {op = op}, upper, rest
end)

-- relate_flows: the server answers a request (client:X -> server:69) from
-- a port of its own to the client's X; that conversation is the transfer.
require("stackforge.flows").add_relater("tftp", function(convs, index)
  for _, req in ipairs(convs) do
    if req.protocol == "UDP" and req.dst_port == 69 then
      for _, t in ipairs(index("UDP", req.src_addr, req.src_port)) do
        if t ~= req and t.related == nil and t.src_port ~= 69 and t.dst_port ~= 69
           and (t.start_time or 0) >= (req.start_time or 0) then
          t.related, t.related_how = req, "tftp"
        end
      end
    end
  end
end)

-- The TFTP messages of a transfer's packets (a conversation's, say): each
-- UDP payload read as TFTP whatever its ports.
function M.tftp_messages(pkts)
  local out = {}
  for _, p in ipairs(pkts) do
    local u = p[layers.UDP]
    if u then
      local payload = p:get_layer_bytes(layers.LayerKind.Udp)
      if payload and #payload > 8 then
        out[#out + 1] = core.packet(payload:sub(9), {proto = M.TFTP.kind})
      end
    end
  end
  return out
end

return M
