-- TLS decryption with a key log (extract_flows{tls_keylog=}): a recording
-- of openssl s_client against s_server (TLS 1.2 ChaCha20-Poly1305, TLS 1.3
-- AES-128-GCM, a CBC suite, TLS 1.3 through a HelloRetryRequest and a
-- KeyUpdate) and curl fetching a page over TLS 1.3 (HTTP/1.1 from s_server
-- -WWW, HTTP/2 from nghttpd), with the
-- programs' own key log (tests/interop/tlsdec_live.sh --update, where the
-- same streams were checked against tshark's decryption).  Each side sent
-- known lines; the decrypted streams must be those lines, and each damage
-- (a key log without the key, a wrong secret, a lost segment, a capture
-- cut inside a record, an altered record) must stop decryption where it
-- happens and say why.
local sf = require("stackforge")
local h = require("helpers")

local PCAP, KEYS = h.path("tlsdec_openssl.pcap"), h.path("tlsdec_openssl.keys")

-- what s_client and s_server read from their stdin (seq -f "... %g" N)
local function lines(fmt, port, n)
  local t = {}
  for i = 1, n do t[i] = fmt:format(port, i) end
  return table.concat(t)
end
local function client_text(port, n) return lines("client to server on %d, line %d: the quick brown fox\n", port, n) end
local function server_text(port, n) return lines("server to client on %d, line %d: jumps over the lazy dog\n", port, n) end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function write_tmp(s)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
  return path
end

local function by_port(convs)
  local t = {}
  for _, c in ipairs(convs) do t[c.dst_port] = c end
  return t
end

local function flows(opts) return by_port(sf.extract_flows(PCAP, opts or {tls_keylog = KEYS})) end

-- the capture's packets with those of port `port` changed by fn(i, pkt,
-- payload, from_server) -> nil (kept), false (dropped) or new bytes
local function edited(port, fn)
  local out, n = {}, 0
  for _, p in ipairs(sf.rdpcap(PCAP)) do
    local b = p:bytes()
    local keep = b
    if p.sport == port or p.dport == port then
      n = n + 1
      local ip = 15
      local tcp = ip + (b:byte(ip) & 15) * 4
      local pay = tcp + (b:byte(tcp + 12) >> 4) * 4
      local r = fn(n, b, pay, p.sport == port)
      if r == false then keep = nil elseif r then keep = r end
    end
    if keep then out[#out + 1] = sf.Packet(keep, {time = p.time}) end
  end
  return by_port(sf.extract_flows_from_packets(out, {tls_keylog = KEYS}))
end

-- the server's stream's records: {offset=, type=, len=}
local function records(stream)
  local r = {}
  for rec, off in sf.tls_records(stream) do
    local raw = rec:bytes()
    r[#r + 1] = {offset = off, type = raw:byte(1), len = #raw}
  end
  return r
end

describe("TLS decryption with a key log", function()
  local convs = flows()

  it("decrypts TLS 1.2 with ChaCha20-Poly1305 to what each side sent", function()
    local c = convs[5003]
    assert.are.equal(client_text(5003, 40), c.decrypted_forward)
    assert.are.equal(server_text(5003, 40), c.decrypted_reverse)
    local t = c.tls
    assert.are.equal(0x0303, t.version)
    assert.are.equal(0xcca9, t.cipher_suite)
    assert.are.equal("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", t.cipher)
    assert.are.equal("forward", t.client)
    assert.is_true(t.decrypted)
    assert.is_nil(t.error_forward)
    assert.is_nil(t.error_reverse)
    -- Finished, the lines, close_notify: three records each way
    assert.are.equal(3, t.decrypted_records_forward)
    assert.are.equal(3, t.decrypted_records_reverse)
    -- the client random is the ClientHello's, and the key log's line
    local ch = sf.tls_records(c.reassembled_forward)()[sf.TLSClientHello]
    assert.are.equal(("%08x"):format(ch.gmt_unix_time) .. h.hex(ch.random_bytes), t.client_random)
    assert.truthy(read(KEYS):find("CLIENT_RANDOM " .. t.client_random, 1, true))
  end)

  it("decrypts TLS 1.3 with AES-128-GCM, its encrypted handshake included", function()
    local c = convs[5004]
    assert.are.equal(client_text(5004, 40), c.decrypted_forward)
    assert.are.equal(server_text(5004, 40), c.decrypted_reverse)
    local t = c.tls
    assert.are.equal(0x0304, t.version)
    assert.are.equal("TLS_AES_128_GCM_SHA256", t.cipher)
    assert.is_true(t.decrypted)
    -- the server's: EncryptedExtensions, Certificate, CertificateVerify,
    -- Finished (one record each), two tickets, the lines, close_notify
    assert.are.equal(8, t.decrypted_records_reverse)
    local types = {}
    local hs, i = t.handshake_reverse, 1
    while i + 3 <= #hs do
      types[#types + 1] = hs:byte(i)
      i = i + 4 + string.unpack(">I3", hs, i + 1)
    end
    assert.are.same({2, 8, 11, 15, 20, 4, 4}, types)  -- ServerHello (plaintext) on
  end)

  it("follows a HelloRetryRequest and a KeyUpdate", function()
    local c = convs[5013]
    assert.are.equal(lines("client to server on %d, line %d: before and after\n", 5013, 50),
      c.decrypted_forward)
    assert.are.equal(lines("server to client on %d, line %d: before the key update\n", 5013, 20)
      .. lines("server to client on %d, line %d: after the key update\n", 5013, 20), c.decrypted_reverse)
    assert.is_true(c.tls.decrypted)
    -- the server's handshake: HelloRetryRequest, ServerHello, then
    -- decrypted: EE, Certificate, CertificateVerify, Finished, two
    -- tickets, the KeyUpdate
    local types = {}
    local hs, i = c.tls.handshake_reverse, 1
    while i + 3 <= #hs do
      types[#types + 1] = hs:byte(i)
      i = i + 4 + string.unpack(">I3", hs, i + 1)
    end
    assert.are.same({2, 2, 8, 11, 15, 20, 4, 4, 24}, types)
  end)

  it("reads the server's certificate, decrypted under TLS 1.3 as in TLS 1.2's plaintext", function()
    local c12, c13 = convs[5003], convs[5004]
    assert.are.equal(1, #c13.tls.certificates)
    assert.are.equal(c12.tls.certificates[1], c13.tls.certificates[1])  -- the same server
    local info = sf.Packet(string.pack(">s3", c13.tls.certificates[1]), {proto = "TLSCertificateEntry"})
    assert.are.equal("O=sflua tlsdec test,CN=sflua.test", info.subject)
  end)

  it("decrypts curl's HTTP/1.1 request and the page s_server -WWW sent", function()
    local c = convs[5010]
    assert.are.equal("TLS_AES_256_GCM_SHA384", c.tls.cipher)
    assert.truthy(c.decrypted_forward:find("^GET /page.txt HTTP/1.1\r\nHost: 127.0.0.1:5010\r\n"))
    local page = lines("page line %.0s%d\n", 0, 300)
    assert.are.equal("HTTP/1.0 200 ok\r\nContent-type: text/plain\r\n\r\n" .. page, c.decrypted_reverse)
  end)

  it("decrypts curl's HTTP/2 connection to nghttpd", function()
    local c = convs[5011]
    assert.is_true(c.tls.decrypted)
    assert.are.equal("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", c.decrypted_forward:sub(1, 24))
    local page = lines("page line %.0s%d\n", 0, 300)
    assert.truthy(c.decrypted_reverse:find(page, 1, true))  -- one DATA frame
  end)

  -- the HTTP layers parse what was decrypted (issue 11 items 3-4: their
  -- helpers are http_messages and h2_headers; pending until they are in)
  local http_it = sf.http_messages and sf.h2_headers and it or pending
  http_it("parses HTTP/1.1 and HTTP/2 from the decrypted streams", function()
    local c = convs[5010]
    local req = sf.http_messages(c.decrypted_forward)()
    assert.are.equal("GET", req.Method)
    assert.are.equal("/page.txt", req.Path)
    local resp, _, body = sf.http_messages(c.decrypted_reverse, {requests = c.decrypted_forward})()
    assert.are.equal("200", tostring(resp.Status_Code))
    assert.are.equal(lines("page line %.0s%d\n", 0, 300), body)
    local h2 = convs[5011]
    local function header(list, name)
      for _, hv in ipairs(list) do if hv[1] == name then return hv[2] end end
    end
    local asked = sf.h2_headers(h2.decrypted_forward)[1]
    assert.are.equal("GET", header(asked.headers, ":method"))
    assert.are.equal("/page.txt", header(asked.headers, ":path"))
    local answered = sf.h2_headers(h2.decrypted_reverse)[1]
    assert.are.equal("200", header(answered.headers, ":status"))
  end)

  it("reads the plaintext in chunks, the same bytes", function()
    local c = convs[5010]
    for _, size in ipairs({1, 7, 1000, 1 << 20}) do
      local parts = {}
      for piece in c:chunks("decrypted_reverse", size) do
        assert.is_true(#piece <= size)
        parts[#parts + 1] = piece
      end
      assert.are.equal(c.decrypted_reverse, table.concat(parts))
    end
  end)

  it("says why a CBC suite is not decrypted, and still reads its certificate", function()
    local t = convs[5012].tls
    assert.is_false(t.decrypted)
    assert.are.equal("cipher suite 0xc009 is not decrypted (AEAD suites only: AES-GCM, "
      .. "ChaCha20-Poly1305, and TLS 1.3's AES-CCM)", t.error_forward)
    assert.are.equal(t.error_forward, t.error_reverse)
    assert.are.equal("", convs[5012].decrypted_forward)
    assert.are.equal(convs[5003].tls.certificates[1], t.certificates[1])
  end)

  it("says which client random has no key in the key log", function()
    local keep = {}
    local want = convs[5003].tls.client_random
    for line in read(KEYS):gmatch("[^\n]+") do
      if not line:find(want, 1, true) then keep[#keep + 1] = line end
    end
    local path = write_tmp(table.concat(keep, "\n") .. "\n")
    local c = flows({tls_keylog = path})[5003]
    os.remove(path)
    assert.are.equal("no key for client random " .. want .. " in the key log", c.tls.error_forward)
    assert.are.equal("", c.decrypted_forward)
    assert.are.equal("", c.decrypted_reverse)
    assert.is_false(c.tls.decrypted)
  end)

  it("stops at the first record a wrong secret does not open", function()
    local want = convs[5003].tls.client_random
    local text = read(KEYS):gsub("(CLIENT_RANDOM " .. want .. " )(%x)", function(a, d)
      return a .. (d == "0" and "1" or "0")
    end)
    local path = write_tmp(text)
    local c = flows({tls_keylog = path})[5003]
    os.remove(path)
    -- each side's first encrypted record is the one after its CCS
    for d, dir in ipairs({"forward", "reverse"}) do
      local recs = records(c["reassembled_" .. dir])
      local n
      for i, r in ipairs(recs) do
        if r.type == 20 then n = i + 1 break end
      end
      assert.are.equal(("authentication failed at record %d (stream offset %d): a wrong key in "
        .. "the key log, or the record was altered"):format(n, recs[n].offset), c.tls["error_" .. dir])
      assert.are.equal(d == 1 and 0 or 0, c.tls["decrypted_records_" .. dir])
    end
    assert.are.equal("", c.decrypted_reverse)
  end)

  it("stops at an altered record, keeping the plaintext before it", function()
    local c = edited(5003, function(_, b, pay, from_server)
      if from_server and b:byte(pay) == 21 then  -- the encrypted close_notify
        local i = pay + 10
        return b:sub(1, i - 1) .. string.char(b:byte(i) ~ 1) .. b:sub(i + 1)
      end
    end)[5003]
    local recs = records(c.reassembled_reverse)
    assert.are.equal(server_text(5003, 40), c.decrypted_reverse)
    assert.are.equal(("authentication failed at record %d (stream offset %d): a wrong key in "
      .. "the key log, or the record was altered"):format(#recs, recs[#recs].offset), c.tls.error_reverse)
    assert.is_nil(c.tls.error_forward)
    assert.is_false(c.tls.decrypted)
  end)

  it("stops at a segment the capture lost (a gap)", function()
    local lost
    local c = edited(5003, function(_, b, pay, from_server)
      if from_server and b:byte(pay) == 23 then lost = #b - pay + 1 return false end
    end)[5003]
    assert.are.equal(1, #c.gaps_reverse)
    assert.are.equal(lost, c.gaps_reverse[1].length)
    local before = 0  -- the records before the hole
    for _, r in ipairs(records(c.reassembled_reverse)) do
      if r.offset < c.gaps_reverse[1].offset then before = before + 1 end
    end
    assert.are.equal(("a gap in the stream: %d bytes never captured at stream offset %d, in record %d")
      :format(lost, c.gaps_reverse[1].offset, before + 1), c.tls.error_reverse)
    assert.are.equal("", c.decrypted_reverse)
    assert.are.equal(client_text(5003, 40), c.decrypted_forward)
  end)

  it("says when the capture ends inside a record", function()
    local cut = false
    local c = edited(5003, function(_, b, pay, from_server)
      if not from_server then return nil end
      if cut then return false end  -- nothing of the server's after it
      if b:byte(pay) == 23 then
        cut = true
        local keep = 1000
        local short = b:sub(1, pay + keep - 1)
        local iplen = string.unpack(">I2", b, 17) - (#b - #short)
        return short:sub(1, 16) .. string.pack(">I2", iplen) .. short:sub(19)
      end
    end)[5003]
    local recs = records(c.reassembled_reverse)
    local last = recs[#recs]
    assert.are.equal(("the stream ends inside record %d (stream offset %d): 1000 of its %d bytes "
      .. "were captured"):format(#recs, last.offset, 2372), c.tls.error_reverse)
    assert.are.equal("", c.decrypted_reverse)
  end)

  it("says when the flow table did not keep some of a stream's segments", function()
    -- a cap under the server's second flight: it is dropped, the later
    -- close_notify kept, and nothing in the plaintext handshake shows it
    local c = flows({tls_keylog = KEYS, config = sf.FlowConfig{max_reassembly_buffer = 890}})[5003]
    assert.is_true(c.dropped_segments_rev > 0)
    assert.are.equal(("%d TCP segments of this direction were not kept (max_reassembly_buffer, "
      .. "the snap length, or data after a skipped gap): its plaintext may lack their records")
      :format(c.dropped_segments_rev), c.tls.error_reverse)
    assert.is_false(c.tls.decrypted)
  end)

  it("delivers decrypted streams to on_flow, lent like the others", function()
    local seen, kept, untouched = {}, nil, nil
    sf.extract_flows(PCAP, {tls_keylog = KEYS, on_flow = function(c)
      if c.dst_port == 5010 then untouched = c return end
      seen[c.dst_port] = c.decrypted_forward
      if c.dst_port == 5004 then kept = c end
    end})
    assert.are.equal(client_text(5004, 40), seen[5004])
    assert.are.equal(client_text(5003, 40), seen[5003])
    -- read inside the call: kept; not read, gone with the call
    assert.are.equal(client_text(5004, 40), kept.decrypted_forward)
    assert.has_error(function() return kept.decrypted_reverse end,
      "conversation streams are lent to on_flow: read them (or conv:chunks()) inside the callback, not after it returned")
    assert.has_error(function() return untouched.decrypted_reverse end,
      "conversation streams are lent to on_flow: read them (or conv:chunks()) inside the callback, not after it returned")
    assert.has_error(function() return untouched.tls end,
      "conversation streams are lent to on_flow: read them (or conv:chunks()) inside the callback, not after it returned")
  end)

  it("gives nothing for conversations that are no TLS, or without a key log", function()
    local c = sf.extract_flows(h.path("http.pcap"), {tls_keylog = KEYS})[1]
    assert.is_nil(c.tls)
    assert.is_nil(c.decrypted_forward)
    local plain = flows({})[5003]
    assert.is_nil(plain.tls)
    assert.is_nil(plain.decrypted_forward)
    assert.is_nil((plain:chunks("decrypted_forward"))())
  end)

  it("refuses a key log it cannot read, at the caller's line", function()
    local ok, err = pcall(sf.extract_flows, PCAP, {tls_keylog = "/nonexistent/keys.log"})
    assert.is_false(ok)
    assert.truthy(err:find("extract_flows: tls_keylog: cannot open '/nonexistent/keys.log': No such file", 1, true))
    local path = write_tmp("# a comment\nCLIENT_RANDOM 00 11\n")
    ok, err = pcall(sf.extract_flows_from_packets, {}, {tls_keylog = path})
    os.remove(path)
    assert.is_false(ok)
    assert.truthy(err:find("extract_flows_from_packets: tls_keylog: line 2 is no key log line", 1, true))
    path = write_tmp("# nothing yet\n")
    ok, err = pcall(sf.extract_flows, PCAP, {tls_keylog = path})
    os.remove(path)
    assert.is_false(ok)
    assert.truthy(err:find("' has no key log line (CLIENT_RANDOM", 1, true))
    ok, err = pcall(sf.extract_flows, PCAP, {tls_keylog = 42})
    assert.is_false(ok)
    assert.truthy(err:find("tls_keylog", 1, true))
  end)

  it("skips other labels and comments in a key log", function()
    local path = write_tmp("# written by hand\nEXPORTER_SECRET aa bb\nRSA 00 11\n\n" .. read(KEYS))
    local c = flows({tls_keylog = path})[5004]
    os.remove(path)
    assert.is_true(c.tls.decrypted)
  end)
end)
