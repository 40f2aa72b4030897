-- http_random.lua: random HTTP/1 requests and responses (named headers,
-- other headers, bodies) and HTTP/2 frames (all ten types, several a
-- segment, padded and prioritized variants) for the Scapy cross-check
-- (tests/interop/http_random.sh), each as a Scapy expression and its
-- sflua twin.  Scapy does not fill Content-Length: its expression says
-- it, sflua's leaves it to the builder.
--   sflua http_random.lua gen SEED COUNT          "python<TAB>lua" lines
--   sflua http_random.lua check CASES SCAPY_TSV   sflua against Scapy's bytes
--   sflua http_random.lua golden OUT SEED COUNT SCAPY_TSV
-- As a module: check(cases, scapy) -> failures (the golden spec's way).
local M = {}

local R = math.random
local function pick(t) return t[R(#t)] end

local function word(min, max, chars)
  chars = chars or "abcdefghijklmnopqrstuvwxyz0123456789"
  local t = {}
  for i = 1, R(min, max) do
    local k = R(#chars)
    t[i] = chars:sub(k, k)
  end
  return table.concat(t)
end

-- a header value: visible characters and inner spaces (no quote marks,
-- backslashes or colons' trouble for either language's literal)
local function value()
  local t = {}
  for i = 1, R(1, 3) do t[i] = word(1, 12, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789=;,./-") end
  return table.concat(t, " ")
end

local REQ_NAMES = {"Accept", "Accept_Encoding", "Accept_Language", "Authorization",
  "Cache_Control", "Connection", "Cookie", "DNT", "Date", "Forwarded", "Host",
  "If_None_Match", "Origin", "Pragma", "Referer", "TE", "Upgrade", "User_Agent", "Via",
  "X_Forwarded_For", "X_Requested_With", "A_IM", "HTTP2_Settings", "X_Csrf_Token"}
local RESP_NAMES = {"Accept_Ranges", "Age", "Allow", "Cache_Control", "Connection",
  "Content_Encoding", "Content_Type", "Date", "ETag", "Expires", "Last_Modified",
  "Location", "Server", "Set_Cookie", "Vary", "WWW_Authenticate", "X_Frame_Options",
  "X_Powered_By", "P3P", "IM", "Strict_Transport_Security", "X_XSS_Protection"}
local METHODS = {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"}

local function lua_str(s) return ("%q"):format(s) end
local function py_str(s) return "b" .. ("%q"):format(s):gsub("\\\n", "\\n") end

-- named headers and others: Scapy's arguments and sflua's
local function headers(names, py, lua)
  local used = {}
  for _ = 1, R(0, 5) do
    local n = pick(names)
    if not used[n] then
      used[n] = true
      local v = value()
      py[#py + 1] = ("%s=%s"):format(n, py_str(v))
      lua[#lua + 1] = ("%s=%s"):format(n, lua_str(v))
    end
  end
  if R(3) == 1 then
    local pd, ld = {}, {}
    for i = 1, R(1, 3) do
      local n, v = "X-Sf-" .. word(1, 8), value()
      pd[i] = ("%s: %s"):format(py_str(n), py_str(v))
      ld[i] = ("{%s, %s}"):format(lua_str(n), lua_str(v))
    end
    py[#py + 1] = "Unknown_Headers={" .. table.concat(pd, ", ") .. "}"
    lua[#lua + 1] = "headers={" .. table.concat(ld, ", ") .. "}"
  end
end

-- a body: Scapy's Content_Length said, sflua's filled in
local function body(py)
  if R(2) == 1 then return "", "" end
  local b = word(1, 60)
  py[#py + 1] = ("Content_Length=b'%d'"):format(#b)
  return "/Raw(load=" .. py_str(b) .. ")", "/" .. lua_str(b)
end

local function http1()
  local py, lua = {}, {}
  local cls
  if R(2) == 1 then
    cls = "HTTPRequest"
    local m, path, v = pick(METHODS), "/" .. word(0, 20, "abcdefghij0123456789/._-?=&"),
      pick({"HTTP/1.1", "HTTP/1.0"})
    py[1] = ("Method=%s, Path=%s, Http_Version=%s"):format(py_str(m), py_str(path), py_str(v))
    lua[1] = ("Method=%s, Path=%s, Http_Version=%s"):format(lua_str(m), lua_str(path), lua_str(v))
    headers(REQ_NAMES, py, lua)
  else
    cls = "HTTPResponse"
    local code, reason = tostring(pick({200, 201, 204, 301, 302, 304, 400, 404, 500, 503})),
      pick({"OK", "Created", "Not Found", "Moved Permanently", "Internal Server Error", "X"})
    py[1] = ("Status_Code=%s, Reason_Phrase=%s"):format(py_str(code), py_str(reason))
    lua[1] = ("Status_Code=%s, Reason_Phrase=%s"):format(lua_str(code), lua_str(reason))
    headers(RESP_NAMES, py, lua)
  end
  local pb, lb = body(py)
  return ("HTTP()/%s(%s)%s"):format(cls, table.concat(py, ", "), pb),
    ("%s{%s}%s"):format(cls, table.concat(lua, ", "), lb), 80
end

-- ---- HTTP/2 ----------------------------------------------------------------------------

local function bytes_both(n)
  local t = {}
  for i = 1, n do t[i] = ("%02x"):format(R(0, 255)) end
  local hex = table.concat(t)
  return "bytes.fromhex('" .. hex .. "')", '"' .. hex:gsub("%x%x", "\\x%0") .. '"'
end

-- a header block of static table entries (Scapy's HPackIndexedHdr)
local function hdrs()
  local py, raw = {}, {}
  for i = 1, R(1, 6) do
    local k = R(2, 61)
    py[i] = ("HPackIndexedHdr(index=%d)"):format(k)
    raw[i] = ("\\x%02x"):format(0x80 | k)
  end
  return "[" .. table.concat(py, ", ") .. "]", '"' .. table.concat(raw) .. '"'
end

local function sid() return R(1, 0x7fffffff) end

-- Scapy's flag set and sflua's flag text (Scapy's priority flag "+" is
-- "PR" here: "+" joins names)
local function flagset(list)
  local py, lua = {}, {}
  for i, f in ipairs(list) do
    py[i] = "'" .. f .. "'"
    lua[i] = f == "+" and "PR" or f
  end
  return #py == 0 and "set()" or "{" .. table.concat(py, ", ") .. "}", table.concat(lua, "+")
end

-- one frame: Scapy's H2Frame(...)/payload and sflua's frame layer
local FRAMES = {
  function()  -- DATA, padded or not
    local s, fl = sid(), {}
    if R(2) == 1 then fl[#fl + 1] = "ES" end
    local pd, ld = bytes_both(R(0, 40))
    if R(3) == 1 then
      fl[#fl + 1] = "P"
      local pp, lp = bytes_both(R(0, 10))
      local pf, lf = flagset(fl)
      return ("H2Frame(flags=%s, stream_id=%d)/H2PaddedDataFrame(data=%s, padding=%s)"):format(pf, s, pd, pp),
        ("H2DataFrame{flags=%q, stream_id=%d, data=%s, padding=%s}"):format(lf, s, ld, lp)
    end
    local pf, lf = flagset(fl)
    return ("H2Frame(flags=%s, stream_id=%d)/H2DataFrame(data=%s)"):format(pf, s, pd),
      ("H2DataFrame{flags=%q, stream_id=%d, data=%s}"):format(lf, s, ld)
  end,
  function()  -- HEADERS: plain, padded, prioritized, both
    local s, fl = sid(), {"EH"}
    if R(2) == 1 then fl[#fl + 1] = "ES" end
    local ph, lh = hdrs()
    local pad, prio = R(3) == 1, R(3) == 1
    local cls, pargs, largs = "H2HeadersFrame", {"hdrs=" .. ph}, {"hdrs=" .. lh}
    if prio then
      local e, d, w = R(0, 1), R(0, 0x7fffffff), R(0, 255)
      table.insert(fl, "+")
      table.insert(pargs, 1, ("exclusive=%d, stream_dependency=%d, weight=%d"):format(e, d, w))
      table.insert(largs, 1, ("exclusive=%d, stream_dependency=%d, weight=%d"):format(e, d, w))
      cls = "H2PriorityHeadersFrame"
    end
    if pad then
      local pp, lp = bytes_both(R(0, 10))
      fl[#fl + 1] = "P"
      pargs[#pargs + 1] = "padding=" .. pp
      largs[#largs + 1] = "padding=" .. lp
      cls = prio and "H2PaddedPriorityHeadersFrame" or "H2PaddedHeadersFrame"
    end
    local pf, lf = flagset(fl)
    return ("H2Frame(flags=%s, stream_id=%d)/%s(%s)"):format(pf, s, cls, table.concat(pargs, ", ")),
      ("H2HeadersFrame{flags=%q, stream_id=%d, %s}"):format(lf, s, table.concat(largs, ", "))
  end,
  function()  -- PRIORITY
    local s, e, d, w = sid(), R(0, 1), R(0, 0x7fffffff), R(0, 255)
    local a = ("exclusive=%d, stream_dependency=%d, weight=%d"):format(e, d, w)
    return ("H2Frame(stream_id=%d)/H2PriorityFrame(%s)"):format(s, a),
      ("H2PriorityFrame{stream_id=%d, %s}"):format(s, a)
  end,
  function()  -- RST_STREAM
    local s, e = sid(), R(0, 13)
    return ("H2Frame(stream_id=%d)/H2ResetFrame(error=%d)"):format(s, e),
      ("H2ResetFrame{stream_id=%d, error=%d}"):format(s, e)
  end,
  function()  -- SETTINGS, or its ACK
    if R(4) == 1 then return "H2Frame(flags={'A'})/H2SettingsFrame()", "H2SettingsFrame{flags='A'}" end
    local py, lua = {}, {}
    for i = 1, R(0, 6) do
      local id, v = R(1, 6), R(0, 0xffffffff)
      py[i] = ("H2Setting(id=%d, value=%d)"):format(id, v)
      lua[i] = ("{%d, %d}"):format(id, v)
    end
    return ("H2Frame()/H2SettingsFrame(settings=[%s])"):format(table.concat(py, ", ")),
      ("H2SettingsFrame{settings={%s}}"):format(table.concat(lua, ", "))
  end,
  function()  -- PUSH_PROMISE, padded or not
    local s, ps = sid(), sid()
    local ph, lh = hdrs()
    if R(2) == 1 then
      local pp, lp = bytes_both(R(0, 8))
      return ("H2Frame(flags={'EH', 'P'}, stream_id=%d)/H2PaddedPushPromiseFrame(stream_id=%d, hdrs=%s, padding=%s)")
          :format(s, ps, ph, pp),
        ("H2PushPromiseFrame{flags='EH+P', stream_id=%d, promised_stream_id=%d, hdrs=%s, padding=%s}")
          :format(s, ps, lh, lp)
    end
    return ("H2Frame(flags={'EH'}, stream_id=%d)/H2PushPromiseFrame(stream_id=%d, hdrs=%s)"):format(s, ps, ph),
      ("H2PushPromiseFrame{flags='EH', stream_id=%d, promised_stream_id=%d, hdrs=%s}"):format(s, ps, lh)
  end,
  function()  -- PING
    local o, ack = R(0, 0x7fffffffffffffff), R(2) == 1
    return ("H2Frame(flags=%s)/H2PingFrame(opaque=%d)"):format(ack and "{'A'}" or "set()", o),
      ("H2PingFrame{flags=%q, opaque=%d}"):format(ack and "A" or "", o)
  end,
  function()  -- GOAWAY
    local l, e = R(0, 0x7fffffff), R(0, 13)
    local pd, ld = bytes_both(R(0, 20))
    return ("H2Frame()/H2GoAwayFrame(last_stream_id=%d, error=%d, additional_data=%s)"):format(l, e, pd),
      ("H2GoAwayFrame{last_stream_id=%d, error=%d, additional_data=%s}"):format(l, e, ld)
  end,
  function()  -- WINDOW_UPDATE
    local s, w = R(0, 0x7fffffff), R(1, 0x7fffffff)
    return ("H2Frame(stream_id=%d)/H2WindowUpdateFrame(win_size_incr=%d)"):format(s, w),
      ("H2WindowUpdateFrame{stream_id=%d, win_size_incr=%d}"):format(s, w)
  end,
  function()  -- CONTINUATION
    local s = sid()
    local ph, lh = hdrs()
    return ("H2Frame(flags={'EH'}, stream_id=%d)/H2ContinuationFrame(hdrs=%s)"):format(s, ph),
      ("H2ContinuationFrame{flags='EH', stream_id=%d, hdrs=%s}"):format(s, lh)
  end,
}

local function http2()
  local py, lua = {}, {}
  for i = 1, R(1, 4) do py[i], lua[i] = pick(FRAMES)() end
  return "H2Seq(frames=[" .. table.concat(py, ", ") .. "])", table.concat(lua, "/"),
    pick({8080, 50000, 443 + 1})
end

function M.case(i)
  local sport = 1024 + i % 60000
  local pp, lp, port
  if R(2) == 1 then pp, lp, port = http1() else pp, lp, port = http2() end
  return ("Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP(src='10.0.0.1', "
    .. "dst='10.0.0.2')/TCP(sport=%d, dport=%d, flags='PA')/%s"):format(sport, port, pp),
    ("Ether{src='02:00:00:00:00:01', dst='02:00:00:00:00:02'}/IP{src='10.0.0.1', "
    .. "dst='10.0.0.2'}/TCP{sport=%d, dport=%d, flags='PA'}/%s"):format(sport, port, lp)
end

-- ---- checking, files, the command line: scapy_random.lua ---------------------------

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
return dofile(dir .. "scapy_random.lua").family(M, "http_random")
