-- sflua tlsdec_check.lua CAPTURE KEYLOG EXPECTED_DIR [PORTS]
-- Every TLS conversation of CAPTURE is decrypted with KEYLOG by
-- extract_flows and by tshark (-z follow,tls,raw, one per TCP stream);
-- the two must agree byte for byte in both directions, and with what the
-- programs sent: EXPECTED_DIR/PORT.client and PORT.server (s_client and
-- s_server's stdin), PORT.page (a page fetched by curl: the response's
-- body, after a GET over HTTP/1.1 or the HTTP/2 preface), PORT.unsupported
-- (the reason sflua must give for not decrypting).
local pcap, keys, dir = arg[1], arg[2], arg[3]
-- only these ports are looked for (a recording of some of the connections)
local pcap_ports
if arg[4] then
  pcap_ports = {}
  for p in arg[4]:gmatch("%d+") do pcap_ports[tonumber(p)] = true end
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end

-- tshark's TCP streams: index -> server port (the SYN's destination)
local function tshark_ports()
  local p = assert(io.popen(("tshark -r '%s' -T fields -e tcp.stream -e tcp.dstport "
    .. "-Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' 2>/dev/null"):format(pcap)))
  local ports = {}
  for line in p:lines() do
    local i, port = line:match("^(%d+)\t(%d+)")
    if i then ports[tonumber(i)] = tonumber(port) end
  end
  p:close()
  return ports
end

-- tshark's decrypted streams: {[server port] = {client=, server=}}.  In
-- Follow's raw output, node 0 is whoever sent decrypted data first, its
-- lines plain, node 1's indented by a tab.
local function tshark_streams(n)
  local ports = tshark_ports()
  local cmd = {("tshark -r '%s' -o 'tls.keylog_file:%s' -q"):format(pcap, keys)}
  local seen = {}
  for _, port in pairs(ports) do  -- TLS on every server port (5010 is IPSICTL's)
    if not seen[port] then cmd[#cmd + 1] = ("-d tcp.port==%d,tls"):format(port) end
    seen[port] = true
  end
  for i = 0, n - 1 do cmd[#cmd + 1] = ("-z follow,tls,raw,%d"):format(i) end
  local p = assert(io.popen(table.concat(cmd, " ") .. " 2>/dev/null"))
  local out, cur = {}, nil
  for line in p:lines() do
    local stream = line:match("^Filter: tcp.stream eq (%d+)")
    local node0 = line:match("^Node 0: .*:(%d+)$")
    if stream then
      cur = {[0] = {}, [1] = {}, port = ports[tonumber(stream)]}
      if cur.port then out[cur.port] = cur end
    elseif node0 and cur then
      cur.node0_server = tonumber(node0) == cur.port
    elseif cur and line:match("^\t%x+$") then
      cur[1][#cur[1] + 1] = unhex(line:sub(2))
    elseif cur and line:match("^%x+$") then
      cur[0][#cur[0] + 1] = unhex(line)
    end
  end
  p:close()
  for _, s in pairs(out) do
    local a, b = table.concat(s[0]), table.concat(s[1])
    if s.node0_server then a, b = b, a end
    s.client, s.server = a, b
  end
  return out
end

-- the server certificates tshark reads (TLS 1.3's only once decrypted):
-- {[server port] = DER of the first}
local function tshark_certificates()
  local ports, decode, seen = tshark_ports(), {}, {}
  for _, port in pairs(ports) do
    if not seen[port] then decode[#decode + 1] = ("-d tcp.port==%d,tls"):format(port) end
    seen[port] = true
  end
  local p = assert(io.popen(("tshark -r '%s' -o 'tls.keylog_file:%s' %s -T fields -e tcp.srcport "
    .. "-e tls.handshake.certificate -Y tls.handshake.certificate 2>/dev/null"):format(pcap, keys,
    table.concat(decode, " "))))
  local out = {}
  for line in p:lines() do
    local port, hex = line:match("^(%d+)\t(%x+)")
    if port then out[tonumber(port)] = out[tonumber(port)] or unhex(hex) end
  end
  p:close()
  return out
end

local convs = extract_flows(pcap, {tls_keylog = keys})
local certs = tshark_certificates()
local ts = tshark_streams(#convs)
local fails, checked, ciphers = 0, 0, {}
local function fail(fmt, ...)
  fails = fails + 1
  print("FAIL: " .. fmt:format(...))
end

local function first_diff(a, b)
  for i = 1, math.max(#a, #b) do
    if a:byte(i) ~= b:byte(i) then return i end
  end
end

local function same(what, port, got, want)
  if got ~= want then
    fail("%d %s: sflua has %d bytes, %s %d (first difference at byte %s)", port, what, #got,
      "expected", #want, tostring(first_diff(got, want)))
  end
end

for _, c in ipairs(convs) do
  local port = c.dst_port
  local client, server, page = read(dir .. "/" .. port .. ".client"),
    read(dir .. "/" .. port .. ".server"), read(dir .. "/" .. port .. ".page")
  local unsupported = read(dir .. "/" .. port .. ".unsupported")
  if unsupported then
    checked = checked + 1
    local t = c.tls
    local want = unsupported:gsub("\n$", "")
    if not t or t.decrypted or not (t.error_forward or ""):find(want, 1, true)
       or t.error_reverse ~= t.error_forward or c.decrypted_forward ~= "" then
      fail("%d: expected '%s', got %s", port, want, t and tostring(t.error_forward) or "no TLS")
    end
  elseif client or page then
    checked = checked + 1
    local t = c.tls
    if not t then
      fail("%d: no TLS found", port)
    else
      ciphers[#ciphers + 1] = ("%d %s 0x%04x %s"):format(port, t.version == 0x0304 and "TLS1.3" or "TLS1.2",
        t.cipher_suite, t.cipher or "?")
      if not t.decrypted then
        fail("%d: not decrypted: %s / %s", port, tostring(t.error_forward), tostring(t.error_reverse))
      end
      local fwd, rev = c.decrypted_forward, c.decrypted_reverse
      if client then
        same("client to server", port, fwd, client)
        same("server to client", port, rev, server)
      else
        if not (fwd:find("^GET /page.txt HTTP/1.1\r\n") or fwd:find("^PRI %* HTTP/2.0\r\n\r\nSM\r\n\r\n")) then
          fail("%d: the client's plaintext is no HTTP request: %q", port, fwd:sub(1, 40))
        end
        if not rev:find(page, 1, true) then fail("%d: the page is not in the server's plaintext", port) end
      end
      if not t.certificates[1] or t.certificates[1] ~= certs[port] then
        fail("%d: the server's certificate differs from tshark's (%s bytes, tshark %s)", port,
          tostring(t.certificates[1] and #t.certificates[1]), tostring(certs[port] and #certs[port]))
      end
      -- the chunked reader gives the same bytes
      local parts = {}
      for piece in c:chunks("decrypted_reverse", 1000) do parts[#parts + 1] = piece end
      same("server to client, in chunks", port, table.concat(parts), rev)
      local w = ts[port]
      if not w then
        fail("%d: tshark has no decrypted stream", port)
      else
        same("client to server against tshark", port, fwd, w.client)
        same("server to client against tshark", port, rev, w.server)
      end
    end
  end
end
for _, s in ipairs(ciphers) do print(s) end
-- every expectation was met by a conversation
local ports = {}
for _, c in ipairs(convs) do ports[c.dst_port] = true end
local ls = assert(io.popen("ls '" .. dir .. "'"))
for name in ls:lines() do
  local port = tonumber(name:match("^(%d+)%."))
  if port and not ports[port] and (pcap_ports == nil or pcap_ports[port]) then
    fail("%d: expected in %s, but no conversation of %s has it", port, dir, pcap)
  end
end
ls:close()
if checked == 0 then fail("no conversation of %s has an expected plaintext in %s", pcap, dir) end
print(("%d conversations checked, %d failures"):format(checked, fails))
os.exit(fails == 0 and 0 or 1)
