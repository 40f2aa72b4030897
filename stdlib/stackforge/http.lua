-- http.lua: the Lua half of HTTP/1 and HTTP/2 (the engine parses and
-- builds the layers): header lookup without regard to
-- case, and messages, frames and header lists read from reassembled
-- streams (extract_flows).  docs/http.md says how to use them.
local core = require("stackforge.core")
local layers = require("stackforge.layers")
local h2codec = require("stackforge.codecs.http2")
local options = require("stackforge.options")

local M = {}

local sunpack, spack = string.unpack, string.pack

local argerror, is_packet = options.argerror, options.is_packet

-- the options of fname (nil or a table), checked by stackforge.options
local function check_options(fname, opts, spec)
  options.check(fname, opts, spec, 3)
  return opts or {}
end

-- A stream: a string, or a function returning its chunks until nil
-- (conv:chunks("forward")), read whole.
local function stream_of(fname, src)
  if type(src) == "string" then return src end
  if type(src) ~= "function" then argerror(fname, 1, "string or chunk iterator", src, 1) end
  local t = {}
  for c in src do t[#t + 1] = c end
  return table.concat(t)
end

-- ---- HTTP/1: headers ---------------------------------------------------------------------

local REQ, RESP = layers.HTTPRequest.kind, layers.HTTPResponse.kind

-- The first HTTP/1 message layer of p (a packet or a layer view).
local function message_layer(fname, p)
  if not is_packet(p) then
    local ok, h = pcall(function() return p.headers end)
    if ok and h ~= nil then return p end
    argerror(fname, 1, "packet or HTTP layer", p, 1)
  end
  for i = 1, p.layer_count do
    local id = p:_layer_info(i)
    if id == REQ or id == RESP then return p:layer(i) end
  end
end

-- http_headers(p) -> {{name, value}, ...}: every header line of the first
-- HTTP/1 message of p, in order (nil: none)
function M.http_headers(p)
  local l = message_layer("http_headers", p)
  return l and l.headers
end

-- http_header(p, name) -> the value of the first header called name
-- (case and '-'/'_' aside), and a list of every value it has; nil: none
function M.http_header(p, name)
  if type(name) ~= "string" then argerror("http_header", 2, "string", name) end
  local l = message_layer("http_header", p)
  if not l then return nil end
  local want = name:lower():gsub("_", "-")
  local all = {}
  for _, h in ipairs(l.headers or {}) do
    if h[1]:lower():gsub("_", "-") == want then all[#all + 1] = h[2] end
  end
  if #all == 0 then return nil end
  return all[1], all
end

-- ---- HTTP/1: messages of a stream ------------------------------------------------------------

-- A header block's value of name (lower case), from its bytes.
local function header_value(head, name)
  for line in head:gmatch("\r\n([^\r\n]*)") do
    local n, v = line:match("^([^:]+):[ \t]*(.-)[ \t]*$")
    if n and n:lower():gsub("[ \t]+$", "") == name then return v end
  end
end

-- The body of a chunked message from s[i]: the end of the message (past
-- its trailers), and the body's bytes; nil when the stream ends first.
local function chunked(s, i)
  local body = {}
  while true do
    local line_end = s:find("\r\n", i, true)
    if not line_end then return nil end
    local size = tonumber(s:sub(i, line_end - 1):match("^%s*(%x+)"), 16)
    if not size then return nil end
    i = line_end + 2
    if size == 0 then  -- trailers, then an empty line
      while true do
        local e = s:find("\r\n", i, true)
        if not e then return nil end
        if e == i then return e + 2, table.concat(body) end
        i = e + 2
      end
    end
    if i + size + 1 > #s then return nil end
    body[#body + 1] = s:sub(i, i + size - 1)
    i = i + size + 2
  end
end

-- Where the message whose header is s[i..hend] ends (RFC 9112 6.3), its
-- body, and whether the stream cut it; method: the request's, for a
-- response.
local function message_end(s, i, hend, response, method)
  local head = s:sub(i, hend)
  local code = response and tonumber(head:match("^HTTP/%d%.%d (%d%d%d)"))
  if response and (method == "HEAD" or (code and (code < 200 or code == 204 or code == 304))) then
    return hend, "", false
  end
  local te = header_value(head, "transfer-encoding")
  if te and te:lower():match("chunked%s*$") then
    local e, body = chunked(s, hend + 1)
    if not e then return #s, s:sub(hend + 1), true end
    return e - 1, body, false
  end
  local cl = header_value(head, "content-length")
  cl = cl and tonumber(cl:match("^%d+$"))
  if cl then
    if hend + cl > #s then return #s, s:sub(hend + 1), true end
    return hend + cl, s:sub(hend + 1, hend + cl), false
  end
  if response then return #s, s:sub(hend + 1), false end  -- until the connection closes
  return hend, "", false
end

local function request_methods(src)
  local methods = {}
  for m in M.http_messages(src) do methods[#methods + 1] = m.Method end
  return methods
end

-- http_messages(stream [, {requests = the other direction's stream, or
-- methods = {"GET", "HEAD", ...}}]): each message of a reassembled HTTP/1
-- stream as a Packet (HTTPRequest or HTTPResponse / Raw body), with its
-- offset in the stream and its body (chunks joined).  Bodies end as
-- RFC 9112 says: chunked, Content-Length, none for responses to HEAD
-- (the requests say which) and for 1xx, 204 and 304, else at the
-- stream's end.  A message cut by the stream's end comes last; bytes
-- that are no message stop the iteration.
function M.http_messages(src, opts)
  local s = stream_of("http_messages", src)
  opts = check_options("http_messages", opts, {requests = "any", methods = "table"})
  local methods = opts.methods
  if opts.requests ~= nil then methods = request_methods(opts.requests) end
  local i, k = 1, 0
  return function()
    if i > #s then return nil end
    local response = s:sub(i, i + 4) == "HTTP/"
    local hend = s:find("\r\n\r\n", i, true)
    local head = s:sub(i, hend and hend + 3 or #s)
    if response then
      if not head:match("^HTTP/%d%.%d %d%d%d") then return nil end
    elseif not head:match("^%u[%u%-]* %S+ HTTP/%d%.%d\r\n") then
      return nil
    end
    hend = hend and hend + 3 or #s
    k = k + 1
    local last, body = message_end(s, i, hend, response, methods and methods[k])
    local off = i - 1
    local msg = s:sub(i, last)
    i = last + 1
    return core.packet(msg, {proto = response and "HTTPResponse" or "HTTPRequest"}), off, body
  end
end

-- ---- HTTP/2: frames and header lists of a stream ------------------------------------------------

local PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

-- Where HTTP/2 starts in one direction of a connection: after the client
-- preface; after an HTTP/1 request or 101 response that upgrades to h2c
-- (and the preface after the request); else at once.
local function h2_start(s)
  if s:sub(1, #PREFACE) == PREFACE then return #PREFACE + 1 end
  local head = s:match("^(.-\r\n\r\n)")
  if head and (head:match("^HTTP/1%.%d 101") or
      (head:lower():match("\r\nupgrade:[ \t]*h2c") and not head:match("^HTTP/"))) then
    local m = M.http_messages(s)()
    local i = m and #m + 1 or #head + 1
    if s:sub(i, i + #PREFACE - 1) == PREFACE then i = i + #PREFACE end
    return i
  end
  return 1
end
local FRAMES = {[0] = "H2DataFrame", "H2HeadersFrame", "H2PriorityFrame", "H2ResetFrame",
  "H2SettingsFrame", "H2PushPromiseFrame", "H2PingFrame", "H2GoAwayFrame",
  "H2WindowUpdateFrame", "H2ContinuationFrame"}

-- h2_frames(stream): each frame of one direction of an HTTP/2 connection
-- (the client's preface, and an h2c upgrade's HTTP/1 message, skipped) as
-- a Packet of its frame layer, with its offset; a frame cut by the
-- stream's end comes last.
function M.h2_frames(src)
  local s = stream_of("h2_frames", src)
  local i = h2_start(s)
  return function()
    if #s - i + 1 < 9 then return nil end
    local len, t = sunpack(">I3B", s, i)
    local f, off = s:sub(i, i + 8 + len), i - 1
    i = i + 9 + len
    return core.packet(f, {proto = FRAMES[t] or "H2Frame"}), off
  end
end

-- h2_headers(stream [, {table_size = n}]) -> {{stream_id=, type=, headers={{name,
-- value}, ...}, offset=}, ...}: the header blocks of one direction (HEADERS
-- and PUSH_PROMISE with their CONTINUATIONs), decoded in order by one
-- HPACK decoder (libnghttp2) as the peer's decoder does.  A block that
-- does not decode ends the list, with an `error` entry.
-- A HEADERS, PUSH_PROMISE or CONTINUATION frame's header block fragment.
local function fragment(s, i, len, t, flags)
  local from, to = i + 9, i + 8 + len
  if t ~= 9 and flags & 0x08 ~= 0 then  -- PADDED
    to = to - (s:byte(from) or 0)
    from = from + 1
  end
  if t == 1 and flags & 0x20 ~= 0 then from = from + 5 end  -- PRIORITY
  if t == 5 then from = from + 4 end  -- the promised stream id
  return s:sub(from, to)
end

function M.h2_headers(src, opts)
  local s = stream_of("h2_headers", src)
  opts = check_options("h2_headers", opts, {table_size = "count"})
  local blocks, parts, cur = {}, {}, nil
  local i = h2_start(s)
  while #s - i + 1 >= 9 do
    local len, t, flags, sid = sunpack(">I3BBI4", s, i)
    sid = sid & 0x7fffffff
    if i + 8 + len > #s then break end  -- cut: no whole block
    if t == 1 or t == 5 then
      cur = {stream_id = sid, type = t == 1 and "HEADERS" or "PUSH_PROMISE", offset = i - 1,
             frags = {fragment(s, i, len, t, flags)}}
      if t == 5 then cur.promised_stream_id = sunpack(">I4", s, i + 9 + (flags & 0x08 ~= 0 and 1 or 0)) & 0x7fffffff end
      blocks[#blocks + 1] = cur
    elseif t == 9 and cur then
      cur.frags[#cur.frags + 1] = fragment(s, i, len, t, flags)
    end
    i = i + 9 + len
  end
  for k, b in ipairs(blocks) do parts[k] = spack(">s4", table.concat(b.frags)) end
  local text = core.codec_text("hpack_seq", spack(">I4", opts.table_size or 4096) ..
    table.concat(parts))
  local out, pos = {}, 1
  for _, b in ipairs(blocks) do
    if not text or pos > #text then break end
    local n
    n, pos = sunpack(">i4", text, pos)
    local e = {stream_id = b.stream_id, type = b.type, offset = b.offset,
      promised_stream_id = b.promised_stream_id}
    out[#out + 1] = e
    if n < 0 then
      e.error = "header block does not decode"
      break
    end
    e.headers, pos = h2codec.unpack_pairs(text, pos, n)
  end
  return out
end

-- hpack_decode(blocks [, {table_size = n}]) -> for each block (a string, or a
-- list of them decoded in order by one decoder) its {{name, value}, ...};
-- nil and a message at the first block that does not decode.
-- hpack_encode(lists [, {table_size = n}]) -> the blocks, one encoder.
local function blocks_arg(fname, x)
  if type(x) == "string" then return {x}, true end
  if type(x) ~= "table" then argerror(fname, 1, "string or list of strings", x, 1) end
  return x, false
end

function M.hpack_decode(x, opts)
  local list, single = blocks_arg("hpack_decode", x)
  opts = check_options("hpack_decode", opts, {table_size = "count"})
  local parts = {}
  for k, b in ipairs(list) do parts[k] = spack(">s4", b) end
  local text = core.codec_text("hpack_seq", spack(">I4", opts.table_size or 4096) ..
    table.concat(parts))
  if not text then return nil, "hpack_decode: bad table size" end
  local out, pos = {}, 1
  for k = 1, #list do
    local n
    n, pos = sunpack(">i4", text, pos)
    if n < 0 then return nil, ("hpack_decode: block %d does not decode"):format(k) end
    out[k], pos = h2codec.unpack_pairs(text, pos, n)
  end
  if single then return out[1] end
  return out
end

function M.hpack_encode(lists, opts)
  if type(lists) ~= "table" then argerror("hpack_encode", 1, "list of header lists", lists) end
  opts = check_options("hpack_encode", opts, {table_size = "count"})
  local single = type(lists[1]) == "table" and type(lists[1][1]) == "string"
  if single then lists = {lists} end
  local parts = {}
  for k, l in ipairs(lists) do
    local ok, p = pcall(h2codec.pack_pairs, l)
    if not ok then error(("hpack_encode: list %d: %s"):format(k, p), 2) end
    parts[k] = spack(">I4", #p) .. p
  end
  local b = core.codec_bytes("hpack_seq", spack(">I4", opts.table_size or 4096) ..
    table.concat(parts))
  if not b then error("hpack_encode: the header lists do not encode", 2) end
  local out, pos = {}, 1
  for k = 1, #lists do out[k], pos = sunpack(">s4", b, pos) end
  if single then return out[1] end
  return out
end

return M
