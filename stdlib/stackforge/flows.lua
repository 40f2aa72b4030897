-- stackforge.flows: conversations from captures (the Lua half).
--   extract_flows(path, opts), extract_flows_from_packets(pkts, opts),
--   FlowConfig{...}, write_flows(convs_or_iterator, path, {format=...}).
-- The pipeline, the flow table, TCP and reassembly are C (core/flow, with
-- lua/lflow.c converting); this file checks options and writes tables out.
local core = require("stackforge.core")
local options = require("stackforge.options")
local layers = require("stackforge.layers")

local M = {}

-- name -> kind (stackforge.options); the defaults are the engine's
-- (core.flow_defaults: sf_flow_config_default), not written here.
-- Timeouts may be math.huge (never), limits math.huge or anything past
-- what the engine counts to (no limit); NaN and negatives are errors.
local KINDS = {
  tcp_established_timeout = "number",
  tcp_half_open_timeout = "number",
  tcp_time_wait_timeout = "number",
  udp_timeout = "number",
  reorder_window = "number",
  fragment_timeout = "number",
  max_reassembly_buffer = "limit",
  max_ooo_fragments = "limit",
  memory_budget = "limit",
  spill_dir = "string",
  store_packet_indices = "boolean",
  progress_interval = "limit",
  track_max_packet_len = "boolean",
  track_max_flow_len = "boolean",
  verbose = "boolean",
}
local DEFAULTS = core.flow_defaults()

local NAMES = {}
for k in pairs(KINDS) do NAMES[#NAMES + 1] = k end
table.sort(NAMES)

local FlowConfigMT = {__name = "FlowConfig"}
FlowConfigMT.__tostring = function(c)
  local parts = {}
  for _, k in ipairs(NAMES) do
    if c[k] ~= nil then parts[#parts + 1] = k .. "=" .. tostring(c[k]) end
  end
  return "FlowConfig{" .. table.concat(parts, ", ") .. "}"
end

-- FlowConfig's body; errors at `level`, counted as error() does from the caller.
local function make_config(t, level)
  level = level + 1
  t = t or {}
  if type(t) ~= "table" then error("FlowConfig: expected a table", level) end
  options.check("FlowConfig", t, KINDS, level, "field")
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  for k, v in pairs(DEFAULTS) do
    if c[k] == nil then c[k] = v end
  end
  return setmetatable(c, FlowConfigMT)
end

--- FlowConfig{...}: defaults filled in; an unknown key or a bad value is an error.
function M.FlowConfig(t)
  local c = make_config(t, 2)
  return c
end

local OPTS = {config = "table", anonymization = "any", verbose = "boolean",
              on_flow = "function", on_packet = "function", tls_keylog = "string"}
-- extract_flows reads a capture: the reader's options too (strict=, filter=)
local FILE_OPTS = {}
for k, v in pairs(OPTS) do FILE_OPTS[k] = v end
for k, v in pairs(require("stackforge.capture").READER_OPTIONS) do FILE_OPTS[k] = v end
FILE_OPTS.threads = "count"  -- conversations shared out among threads (docs/scale.md)

-- opts -> config table for the C side, on_flow, on_packet
local function parse_opts(opts, fname, allowed)
  opts = opts or {}
  options.check(fname, opts, allowed or OPTS, 3)
  local cfg = opts.config
  if getmetatable(cfg) ~= FlowConfigMT then cfg = make_config(cfg, 3) end
  local run = {}
  for k, v in pairs(cfg) do run[k] = v end
  if opts.verbose ~= nil then run.verbose = opts.verbose and true or false end
  local anon
  if opts.anonymization ~= nil then
    -- every packet is rewritten by the policy before it is keyed: the
    -- conversations, streams and callbacks see only anonymized packets
    local ok, a = pcall(core.Anonymizer, opts.anonymization)
    if not ok then error(fname .. ": anonymization: " .. tostring(a), 3) end
    anon = a
  end
  if opts.tls_keylog ~= nil then
    -- TLS conversations are decrypted with it when their tls or
    -- decrypted_* fields are first read (lua/lflow.c, core/flow/tlsflow.c)
    local kl, err = core.tls_keylog(opts.tls_keylog)
    if not kl then error(fname .. ": tls_keylog: " .. err, 3) end
    if #kl == 0 then
      error(("%s: tls_keylog: '%s' has no key log line (CLIENT_RANDOM or a TLS 1.3 "
        .. "*_TRAFFIC_SECRET* line)"):format(fname, opts.tls_keylog), 3)
    end
    run.tls_keylog = kl
  end
  return run, opts.on_flow, opts.on_packet, anon
end

--- extract_flows(path, opts) -> list of conversations (nothing with on_flow)
function M.extract_flows(path, opts)
  if type(path) ~= "string" then error("extract_flows: path must be a string", 2) end
  local cfg, on_flow, on_packet, anon = parse_opts(opts, "extract_flows", FILE_OPTS)
  if on_packet and opts.threads and opts.threads ~= 1 then
    error("extract_flows: on_packet sees every packet in order on this thread; it cannot be used with threads", 2)
  end
  if opts and opts.filter ~= nil then
    -- only the packets a display filter passes are tracked, read through a
    -- filtering reader; the packet indices then count those packets
    local prog = require("stackforge.dfilter").program_of(opts.filter, 2, "extract_flows")
    local reader, rerr = core.PcapReader(path, {filter = prog, strict = opts.strict})
    if not reader then error(rerr, 2) end
    local convs, err = core.flows_packets(reader, cfg, on_flow, on_packet, anon)
    if err then error(err, 2) end
    return convs
  end
  -- a file that cannot be read comes back as (nil, message): the caller's error
  local convs, err = core.flows_file(path, cfg, on_flow, on_packet, anon, opts)
  if err then error(err, 2) end
  return convs
end

--- extract_flows_from_packets(pkts or iterator, opts)
function M.extract_flows_from_packets(pkts, opts)
  local cfg, on_flow, on_packet, anon = parse_opts(opts, "extract_flows_from_packets")
  local convs, err = core.flows_packets(require("stackforge.packetlist").plain(pkts),
    cfg, on_flow, on_packet, anon)
  if err then error(err, 2) end
  return convs
end

-- ---- export ---------------------------------------------------------------

-- the columns, in order; packet_indices and streams are optional
local COLUMNS = {
  "src_addr", "src_port", "dst_addr", "dst_port", "protocol", "ip_proto",
  "ip_version", "vlan", "status", "tcp_state", "tcp_state_reverse",
  "total_packets", "total_bytes", "forward_packets", "forward_bytes",
  "reverse_packets", "reverse_bytes", "start_time", "end_time", "duration",
  "first_index", "dropped_segments", "dropped_segments_fwd",
  "dropped_segments_rev", "reassembled_forward_len", "reassembled_reverse_len",
  "forward_max_packet_len", "reverse_max_packet_len", "max_flow_len",
  "icmp_type", "icmp_code", "icmp_identifier", "icmp_request_count",
  "icmp_reply_count", "icmp_last_seq", "packet_indices",
  "reassembled_forward", "reassembled_reverse",
}

-- streams run to megabytes: a table lookup per byte, not a function call
local HEX = {}
for b = 0, 255 do HEX[string.char(b)] = ("%02x"):format(b) end
local function hex(s) return (s:gsub(".", HEX)) end

local json_string = require("stackforge.json").string

local function number(v)
  if math.type(v) == "integer" then return tostring(v) end
  return ("%.9f"):format(v)
end

local STREAM_OF = {reassembled_forward_len = "reassembled_forward",
                   reassembled_reverse_len = "reassembled_reverse"}

-- a stream's length: of the stream the caller read or set, else the
-- engine's (a conversation from extract_flows knows it without reading
-- the stream into a string), else of the stream
local function stream_len(conv, k)
  local sk = STREAM_OF[k]
  local s = rawget(conv, sk)
  if s ~= nil then return s and #s end
  local n = conv[k]
  if n ~= nil then return n end
  s = conv[sk]
  return s and #s
end

-- the value of column k, with derived lengths and optional streams
local function column(conv, k, o)
  if STREAM_OF[k] then
    return stream_len(conv, k)
  elseif k == "reassembled_forward" or k == "reassembled_reverse" then
    return o.streams and conv[k] and hex(conv[k]) or nil
  elseif k == "packet_indices" and o.packet_indices == false then
    return nil
  end
  return conv[k]
end

-- any value as JSON, the general case (nested lists, odd types)
local function json_value(v)
  local t = type(v)
  if t == "number" then return number(v)
  elseif t == "string" then return json_string(v)
  elseif t == "boolean" then return tostring(v)
  elseif t == "table" then
    local parts = {}
    for i = 1, #v do parts[i] = json_value(v[i]) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  return "null"
end

-- A line is pieces in one reused table, concatenated once, a piece a
-- field where possible: a SYN flood writes millions of lines, and strings
-- made per field (key .. value, a closure per string, tostring) cost 25 us
-- a line where this costs 11 (bench/write_flows_bench.lua).  A column's
-- integers are written with its key and kept (counts, protocols and
-- states repeat), floats formatted with their key in one go.
local concat, mtype, find, format = table.concat, math.type, string.find, string.format
local NCOL = #COLUMNS
local JSON_ESCAPED = '[%c"\\\128-\255]'  -- what json.string escapes
local CACHED = 4096  -- integers kept a column, plain strings kept: memory stays small

-- the columns column() derives; the others are the conversation's own
local DERIVED = {}
-- each column's key as it starts a line's first field (FIRST) or a later
-- one (NEXT): alone, before a string's text, before %.9f, before a list
local FIRST, NEXT, FIRST_Q, NEXT_Q, FIRST_F, NEXT_F, FIRST_L, NEXT_L = {}, {}, {}, {}, {}, {}, {}, {}
local INTS, NINTS = {}, {}  -- per column: integer -> its piece (after the first)
for i, k in ipairs(COLUMNS) do
  DERIVED[i] = k:find("^reassembled_") ~= nil or k == "packet_indices"
  FIRST[i] = json_string(k) .. ":"
  NEXT[i] = "," .. FIRST[i]
  FIRST_Q[i], NEXT_Q[i] = FIRST[i] .. '"', NEXT[i] .. '"'
  FIRST_F[i], NEXT_F[i] = FIRST[i] .. "%.9f", NEXT[i] .. "%.9f"
  FIRST_L[i], NEXT_L[i] = FIRST[i] .. "[", NEXT[i] .. "["
  INTS[i], NINTS[i] = {}, 0
end

-- whether list v holds only integers (packet indices, VLAN ids)
local function integers(v, len)
  for i = 1, len do
    if mtype(v[i]) ~= "integer" then return false end
  end
  return true
end

-- short strings written as they are (no byte json.string escapes):
-- addresses, protocol and state names repeat, and a look-up costs less
-- than find
local CLEAN, NCLEAN = {}, 0

local line = {}

-- The line of conv, one field after another, inline: a function call a
-- field costs as much as the field itself.
local function jsonl_line(conv, o)
  line[1] = "{"
  local n = 1
  for i = 1, NCOL do
    local v
    if DERIVED[i] then v = column(conv, COLUMNS[i], o) else v = conv[COLUMNS[i]] end
    local m = mtype(v)
    if v == nil then  -- luacheck: ignore 542 (absent: nothing written)
    elseif m == "integer" then
      local p = INTS[i][v]
      if n == 1 then p = FIRST[i] .. v
      elseif not p then
        p = NEXT[i] .. v
        if NINTS[i] < CACHED then INTS[i][v] = p NINTS[i] = NINTS[i] + 1 end
      end
      n = n + 1
      line[n] = p
    elseif m == "float" then
      n = n + 1
      line[n] = format(n == 2 and FIRST_F[i] or NEXT_F[i], v)
    elseif CLEAN[v] or type(v) == "string" and not find(v, JSON_ESCAPED) then
      if NCLEAN < CACHED and #v <= 64 and not CLEAN[v] then
        CLEAN[v] = true
        NCLEAN = NCLEAN + 1
      end
      line[n + 1], line[n + 2], line[n + 3] = n == 1 and FIRST_Q[i] or NEXT_Q[i], v, '"'
      n = n + 3
    elseif type(v) == "table" and integers(v, #v) then
      line[n + 1], line[n + 2], line[n + 3] = n == 1 and FIRST_L[i] or NEXT_L[i], concat(v, ","), "]"
      n = n + 3
    else
      line[n + 1], line[n + 2] = n == 1 and FIRST[i] or NEXT[i], json_value(v)
      n = n + 2
    end
  end
  line[n + 1] = "}\n"
  return concat(line, "", 1, n + 1)
end

-- whether list v holds only numbers and strings (table.concat's own)
local function plain(v, len)
  for i = 1, len do
    local t = type(v[i])
    if t ~= "number" and t ~= "string" then return false end
  end
  return true
end

local function csv_cell(v)
  local t = type(v)
  if t == "table" then
    local len = #v
    if plain(v, len) then
      v = concat(v, " ", 1, len)  -- as tostring writes each
    else
      local parts = {}
      for i = 1, len do parts[i] = tostring(v[i]) end
      v = concat(parts, " ")
    end
  end
  v = tostring(v)
  if find(v, '[",\n\r]') then v = '"' .. v:gsub('"', '""') .. '"' end
  return v
end

local function csv_header(o)
  local cols = {}
  for _, k in ipairs(COLUMNS) do
    if not ((k == "reassembled_forward" or k == "reassembled_reverse") and not o.streams)
       and not (k == "packet_indices" and o.packet_indices == false) then
      cols[#cols + 1] = k
    end
  end
  return cols
end

-- a cell of an integer, kept as line pieces are (small ones repeat)
local INT_CELL = setmetatable({}, {__index = function(t, v)
  local s = tostring(v)
  if v >= 0 and v < CACHED * 16 then t[v] = s end
  return s
end})

-- a line without its newline
local cells = {}
local function csv_line(conv, cols, o)
  local ncols = #cols
  for i = 1, ncols do
    local v = column(conv, cols[i], o)
    local m = mtype(v)
    if m == "integer" then v = INT_CELL[v]
    elseif m == "float" then v = format("%.9f", v)
    elseif v == nil then v = ""
    elseif type(v) ~= "string" or find(v, '[",\n\r]') then v = csv_cell(v) end
    cells[i] = v
  end
  return concat(cells, ",", 1, ncols)
end

-- iterate a list or an iterator function
local function each(src)
  if type(src) == "table" then
    local i = 0
    return function() i = i + 1 return src[i] end
  elseif type(src) == "function" then
    return src
  end
  error("write_flows: expected a list of conversations or an iterator", 3)
end

local function check_format(path, o, fname, level)
  if type(path) ~= "string" then error(fname .. ": path must be a string", level + 1) end
  local format = o.format or (path:lower():match("%.csv$") and "csv" or "jsonl")
  if format ~= "jsonl" and format ~= "csv" then
    error(('%s: format must be "jsonl" or "csv", got %s'):format(fname, tostring(format)), level + 1)
  end
  return format
end

local WriterMT = {__name = "FlowWriter"}
WriterMT.__index = WriterMT

-- FlowWriter's body; errors at `level`, counted as error() does from the caller.
local function open_writer(path, o, fname, level)
  o = o or {}
  local format = check_format(path, o, fname, level + 1)
  local f, err = io.stdout, nil
  if path ~= "-" then f, err = io.open(path, "wb") end
  if not f then error(fname .. ": " .. err, level + 1) end
  local w = setmetatable({f = f, o = o, count = 0, stdout = path == "-"}, WriterMT)
  if format == "csv" then
    w.cols = csv_header(o)
    f:write(table.concat(w.cols, ","), "\n")
  end
  return w
end

--- FlowWriter(path, {format=, streams=, packet_indices=}): w:write(conv),
--- w:close() (also <close>); for on_flow, which cannot yield to an iterator.
function M.FlowWriter(path, o)
  local w = open_writer(path, o, "FlowWriter", 2)
  return w
end

function WriterMT:write(conv)
  if not self.f then error("attempt to use a closed FlowWriter", 2) end
  if self.cols then
    self.f:write(csv_line(conv, self.cols, self.o), "\n")
  else
    self.f:write(jsonl_line(conv, self.o))
  end
  self.count = self.count + 1
  return self
end

function WriterMT:close()
  local f = self.f
  self.f = nil
  if f and self.stdout then f:flush() elseif f then f:close() end
  return self.count
end
WriterMT.__close = WriterMT.close
WriterMT.__gc = WriterMT.close

--- write_flows(convs_or_iterator, path, {format="jsonl"|"csv", streams=false,
--- packet_indices=true}) -> number of conversations written
function M.write_flows(convs, path, o)
  local it = each(convs)
  local w <close> = open_writer(path, o, "write_flows", 2)
  for conv in it do w:write(conv) end
  return w.count
end

-- ---- messages of a stream ---------------------------------------------------------

-- messages(stream, MQTT): a reassembled TCP stream (conv.reassembled_forward,
-- or any string) as the protocol's messages, one Packet each, in order.  The
-- protocol's own framing says where each ends: the stream is parsed from
-- `layer` on, a window at a time, and every layer of that kind starts a
-- message.  A last message the stream cuts short comes last, truncated.
local WINDOW = 1 << 16

-- the offsets (0-based) where messages start in p, and whether p was cut
local function starts(p, kind)
  local at = {}
  for i = 1, p.layer_count do
    local id, off = p:_layer_info(i)
    if id == kind then at[#at + 1] = off end
  end
  return at
end

function M.messages(data, layer)
  if type(data) ~= "string" then
    error(("messages: a stream (a string) expected, got %s"):format(type(data)), 2)
  end
  local kind = layers.kind_of(layer)
  local out, pos, window = {}, 1, WINDOW
  while pos <= #data do
    local last = math.min(#data, pos + window - 1)
    local p = core.packet(data:sub(pos, last), {proto = kind})
    local at = starts(p, kind)
    local whole = last == #data  -- the window reaches the stream's end
    -- the last message may run past the window: keep it for the next one
    local n = (whole and not p.truncated) and #at or #at - 1
    if n < 1 and not whole then
      window = window * 2  -- one message longer than the window
    else
      if n < 1 then n = #at end  -- the stream ends in the middle of it
      if n < 1 then  -- bytes that are no message: one packet, as parsed
        out[#out + 1] = p
        break
      end
      for i = 1, n do
        local b = (i < #at) and at[i + 1] or (last - pos + 1)
        out[#out + 1] = core.packet(data:sub(pos + at[i], pos + b - 1), {proto = kind})
      end
      pos = pos + ((n < #at) and at[n + 1] or (last - pos + 1))
    end
  end
  return out
end

-- ---- related conversations ---------------------------------------------------------

-- Protocols whose conversations open others (FTP's data connections, TFTP's
-- transfers on new ports) add a relater: fn(convs, index), where
-- index(protocol, addr, port) lists the conversations with that endpoint
-- (addr nil: any address).  relate_flows(convs) runs them all: a
-- conversation another opened gets `related` (that conversation) and
-- `related_how` ("ftp-data (PASV)", "tftp"); returns how many were tied.
local relaters = {}
function M.add_relater(name, fn)
  for _, r in ipairs(relaters) do if r.name == name then r.fn = fn return end end
  relaters[#relaters + 1] = {name = name, fn = fn}
end

function M.relate_flows(convs)
  if type(convs) ~= "table" then
    error(("relate_flows: a list of conversations expected (extract_flows' result), got %s"):format(type(convs)), 2)
  end
  local by_end = {}
  local function put(proto, addr, port, c)
    for _, k in ipairs({proto .. " " .. tostring(addr) .. " " .. tostring(port), proto .. " * " .. tostring(port)}) do
      local l = by_end[k]
      if not l then l = {}; by_end[k] = l end
      if l[#l] ~= c then l[#l + 1] = c end
    end
  end
  for _, c in ipairs(convs) do
    put(c.protocol, c.src_addr, c.src_port, c)
    put(c.protocol, c.dst_addr, c.dst_port, c)
  end
  local function index(proto, addr, port)
    return by_end[proto .. " " .. (addr and tostring(addr) or "*") .. " " .. tostring(port)] or {}
  end
  for _, r in ipairs(relaters) do r.fn(convs, index) end
  local n = 0
  for _, c in ipairs(convs) do if c.related then n = n + 1 end end
  return n
end

return M
