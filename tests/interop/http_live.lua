-- http_live.lua PCAP HTTP1_TSV MSGS_TSV HTTP2_TSV BIG_FILE: sflua's reading
-- of http_live.sh's recording against tshark's (see there).  Prints what
-- differs; exits 1 if anything does.
local pcap, http1_tsv, msgs_tsv, http2_tsv, big_file = ...
local bad = 0
local function fail(fmt, ...)
  bad = bad + 1
  print("FAIL: " .. fmt:format(...))
end

local function rows(path)
  local t = {}
  for line in io.lines(path) do
    local r = {}
    for cell in (line .. "\t"):gmatch("(.-)\t") do r[#r + 1] = cell end
    t[#t + 1] = r
  end
  return t
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local pkts = rdpcap(pcap)

-- ---- HTTP/1, segment by segment ------------------------------------------------------------

-- tshark's columns 2..13 (after frame.number): a request's six, a response's six
local REQ = {"Method", "Path", "Http_Version", "Host", "User_Agent", "Accept_Language"}
local RESP = {"Http_Version", "Status_Code", "Reason_Phrase", "Content_Length", "Server",
  "Content_Type"}

local seen, checked = {}, 0
for _, r in ipairs(rows(http1_tsv)) do
  local n = tonumber(r[1])
  local p = pkts[n]
  local anyvalue = false
  for i = 2, #r do anyvalue = anyvalue or r[i] ~= "" end
  if anyvalue then  -- (tshark lists continuation segments with nothing)
    seen[n] = true
    local l, fields, first = p[HTTPRequest], REQ, 2
    if r[2] == "" then l, fields, first = p[HTTPResponse], RESP, 8 end
    if not l then
      fail("frame %d: tshark sees HTTP, sflua %s", n, p:summary())
    else
      for i, field in ipairs(fields) do
        local want, got = r[first + i - 1] or "", l[field] or ""
        if got ~= want then fail("frame %d: %s is %q in sflua, %q in tshark", n, field, got, want) end
      end
      checked = checked + 1
    end
  end
end
for n, p in ipairs(pkts) do
  if (p:has_layer(HTTPRequest) or p:has_layer(HTTPResponse)) and not seen[n] then
    fail("frame %d: sflua sees %s, tshark no HTTP", n, p:summary())
  end
end
print(("HTTP/1: %d messages' first segments agree with tshark"):format(checked))

-- ---- HTTP/1 messages of the reassembled streams ------------------------------------------------

local big = read(big_file)
local codes, twant = {}, {}
local bigs = 0
for _, c in ipairs(extract_flows(pcap)) do
  if c.dst_port == 80 or c.dst_port == 8123 then
    for m, _, body in http_messages(c.reassembled_reverse or "", {requests = c.reassembled_forward or ""}) do
      codes[#codes + 1] = m.Status_Code
      if m.Content_Length and tonumber(m.Content_Length) == #big and #body > 0 then
        if body ~= big then fail("a big.bin response's body differs from the file") end
        bigs = bigs + 1
      end
    end
  end
end
for _, r in ipairs(rows(msgs_tsv)) do twant[#twant + 1] = r[2] end
table.sort(codes)
table.sort(twant)
if table.concat(codes, " ") ~= table.concat(twant, " ") then
  fail("responses: sflua %s, tshark %s", table.concat(codes, " "), table.concat(twant, " "))
end
if bigs ~= 2 then fail("%d responses carried big.bin whole, 2 expected", bigs) end
print(("HTTP/1: %d responses split from the streams, as tshark counts them"):format(#codes))

-- ---- HTTP/2 header lists -----------------------------------------------------------------------

-- tshark: per (client port, direction) the header fields in order
local tlists = {}
for _, r in ipairs(rows(http2_tsv)) do
  local sport, dport = tonumber(r[2]), tonumber(r[3])
  local key = sport == 8080 and dport .. "<" or sport .. ">"
  local names, values = {}, {}
  for x in (r[5] .. "|"):gmatch("(.-)|") do names[#names + 1] = x end
  for x in (r[6] .. "|"):gmatch("(.-)|") do values[#values + 1] = x end
  local t = tlists[key] or {}
  for i, name in ipairs(names) do t[#t + 1] = name .. ": " .. (values[i] or "") end
  tlists[key] = t
end

local compared, lists = 0, 0
for _, c in ipairs(extract_flows(pcap)) do
  if c.dst_port == 8080 then
    for dir, key in pairs({forward = c.src_port .. ">", reverse = c.src_port .. "<"}) do
      local got = {}
      for _, b in ipairs(h2_headers(c["reassembled_" .. dir] or "")) do
        if b.error then fail("port %d %s: %s", c.src_port, dir, b.error) end
        lists = lists + 1
        for _, hv in ipairs(b.headers or {}) do got[#got + 1] = hv[1] .. ": " .. hv[2] end
      end
      local want = tlists[key] or {}
      if table.concat(got, "\n") ~= table.concat(want, "\n") then
        fail("port %d %s: sflua decodes\n  %s\ntshark\n  %s", c.src_port, dir,
          table.concat(got, "\n  "), table.concat(want, "\n  "))
      end
      compared = compared + #got
    end
  end
end
if compared < 20 then fail("only %d HTTP/2 header fields compared", compared) end
print(("HTTP/2: %d header blocks, %d fields equal tshark's"):format(lists, compared))
os.exit(bad == 0 and 0 or 1)
