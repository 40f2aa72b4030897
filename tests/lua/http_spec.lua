-- HTTP/1 and HTTP/2: Scapy 2.5's bytes (hand-picked and the golden random
-- set), real captures read as tshark reads them (values below are
-- tshark 4.0's), messages split from reassembled streams, RFC 7541
-- Appendix C through libnghttp2, frames of every type, detection,
-- building, changing, errors and damaged bytes.  (Live curl/nghttp
-- against servers: tests/interop/http_live.sh; a new random Scapy set a
-- run: tests/interop/http_random.sh.)
local sf = require("stackforge")
local h = require("helpers")

local function tcp(sport, dport, payload)
  return sf.Packet((sf.Ether() / sf.IP() / sf.TCP{sport = sport, dport = dport, flags = "PA"}
    / payload):bytes())
end

local function names(p)
  local t = {}
  for i = 1, p.layer_count do t[i] = require("stackforge.layers").protos[p:_layer_info(i) + 1].name end
  return table.concat(t, " ")
end

describe("HTTP/1 messages", function()
  local req = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nuser-agent: curl/7.88.1\r\n"
    .. "Accept: */*\r\nX-Trace:  a b  \r\n\r\n"

  it("parse: first line, named headers, every header in order, the body as Raw", function()
    local p = tcp(40000, 80, req .. "body")
    assert.equal("Ether IP TCP HTTPRequest Raw", names(p))
    assert.equal("GET", p.Method)
    assert.equal("/index.html?q=1", p.Path)
    assert.equal("HTTP/1.1", p.Http_Version)
    assert.equal("example.com", p.Host)
    assert.equal("curl/7.88.1", p.User_Agent)  -- matched regardless of case
    assert.is_nil(p.Cookie)
    assert.same({{"Host", "example.com"}, {"user-agent", "curl/7.88.1"}, {"Accept", "*/*"},
      {"X-Trace", "a b"}}, p.headers)
    assert.equal("body", p.load)
    assert.is_false(p.truncated)
  end)

  it("looks headers up regardless of case and of '-' or '_'", function()
    local p = tcp(40000, 80, req)
    assert.equal("curl/7.88.1", sf.http_header(p, "User-Agent"))
    assert.equal("example.com", sf.http_header(p[sf.HTTPRequest], "HOST"))
    assert.equal("a b", sf.http_header(p, "x_trace"))
    assert.is_nil(sf.http_header(p, "Cookie"))
    local v, all = sf.http_header(tcp(1, 80, "GET / HTTP/1.1\r\nVia: a\r\nvia: b\r\n\r\n"), "VIA")
    assert.equal("a", v)
    assert.same({"a", "b"}, all)
    assert.same(p.headers, sf.http_headers(p))
  end)

  it("parse a status line; a reason phrase keeps its spaces", function()
    local p = tcp(80, 40000, "HTTP/1.0 404 Not Found Here\r\nServer: x\r\nContent-Length: 3\r\n\r\nabc")
    assert.equal("Ether IP TCP HTTPResponse Raw", names(p))
    assert.equal("HTTP/1.0", p.Http_Version)
    assert.equal("404", p.Status_Code)
    assert.equal("Not Found Here", p.Reason_Phrase)
    assert.equal("3", p.Content_Length)
    assert.equal("x", p.Server)
  end)

  it("build as Scapy 2.5 builds (named headers sorted, others after them)", function()
    -- bytes(HTTP()/HTTPRequest(Host='a', Accept='b', Unknown_Headers={'X-Foo': '1'})/'body')
    -- with Content_Length='4' (Scapy leaves it out; sflua fills it in)
    local b = sf.HTTPRequest{Host = "a", Accept = "b", headers = {{"X-Foo", "1"}}} / "body"
    assert.equal("GET / HTTP/1.1\r\nAccept: b\r\nContent-Length: 4\r\nHost: a\r\nX-Foo: 1\r\n\r\nbody",
      b:bytes())
    assert.equal("HTTP/1.1 200 OK\r\n\r\n", sf.HTTPResponse():bytes())
    assert.equal("GET / HTTP/1.1\r\n\r\n", sf.HTTPRequest():bytes())
    -- a value of "" sends no line, as Scapy's falsy fields
    assert.equal("GET / HTTP/1.1\r\n\r\n", sf.HTTPRequest{Host = ""}:bytes())
    -- Content-Length as the user set it, and none for chunked bodies
    assert.equal("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab",
      (sf.HTTPResponse{Content_Length = "9"} / "ab"):bytes())
    assert.equal("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
      (sf.HTTPResponse{Transfer_Encoding = "chunked"} / "2\r\nab\r\n0\r\n\r\n"):bytes())
  end)

  it("sets a header on a parsed packet: its line, or a new one in Scapy's place; lengths follow", function()
    local p = tcp(40000, 80, "GET / HTTP/1.1\r\nHost: a\r\nX-Z: 1\r\n\r\n")
    p[sf.HTTPRequest].Host = "bbb"
    p[sf.HTTPRequest].Path = "/longer"
    p[sf.HTTPRequest].Accept = "*/*"
    local q = sf.Packet(p:bytes())
    assert.equal("GET /longer HTTP/1.1\r\nAccept: */*\r\nHost: bbb\r\nX-Z: 1\r\n\r\n",
      q:get_layer_bytes(sf.LayerKind.Http))
    assert.equal(#q - 14, q[sf.IP].len)
    p[sf.HTTPRequest].headers = {{"A", "1"}}
    assert.same({{"A", "1"}}, sf.Packet(p:bytes()).headers)
  end)

  it("is found on ports 80, 8080, 8000, 8008, 8888 and, by its look, on any port", function()
    for _, port in ipairs({80, 8080, 8000, 8008, 8888, 3128, 50000}) do
      assert.equal("Ether IP TCP HTTPRequest", names(tcp(40000, port, req)))
      assert.equal("Ether IP TCP HTTPResponse", names(tcp(port, 40000, "HTTP/1.1 200 OK\r\n\r\n")))
    end
    -- the middle of a body, and text that is no request line, stay Raw
    assert.equal("Ether IP TCP Raw", names(tcp(80, 40000, "more of the body, GET / HTTP/1.1\r\n")))
    assert.equal("Ether IP TCP Raw", names(tcp(5000, 40000, "GETS / HTTP/1.1\r\n\r\n")))
    assert.equal("Ether IP TCP Raw", names(tcp(5000, 40000, "GET / FTP/1.1\r\n\r\n")))
    -- every method RFC 9110, WebDAV, CalDAV and UPnP use, on any port; a
    -- word that only starts or ends like one, or has no space after it, is none
    for m in ("GET POST HEAD PUT DELETE OPTIONS TRACE CONNECT PATCH PROPFIND PROPPATCH "
              .. "MKCOL COPY MOVE LOCK UNLOCK SEARCH REPORT MKCALENDAR NOTIFY SUBSCRIBE "
              .. "UNSUBSCRIBE"):gmatch("%S+") do
      assert.equal("Ether IP TCP HTTPRequest", names(tcp(40000, 5000, m .. " / HTTP/1.1\r\n\r\n")), m)
    end
    for _, line in ipairs({"UNSUBSCRIBEX / HTTP/1.1", "XGET / HTTP/1.1", "OPTION / HTTP/1.1",
                           "GET\t/ HTTP/1.1", "get / HTTP/1.1", "GET", "NOTIFYING / HTTP/1.1"}) do
      assert.equal("Ether IP TCP Raw", names(tcp(40000, 5000, line .. "\r\n\r\n")), line)
    end
  end)

  it("keeps what a segment holds of a header the next segment goes on with", function()
    local p = tcp(40000, 80, "GET / HTTP/1.1\r\nHost: a\r\nUser-Ag")
    assert.equal("a", p.Host)
    assert.is_nil(p.User_Agent)
    -- a first line cut short is no message
    assert.equal("Ether IP TCP Raw", names(tcp(40000, 5000, "GET /very/long/pa")))
  end)

  it("raises errors naming the layer and the field", function()
    assert.error_matches(function() return sf.HTTPRequest{Host = "a\r\nEvil: 1"} end,
      "HTTPRequest.Host")
    assert.error_matches(function() return sf.HTTPRequest{Hots = "a"} end,
      "HTTPRequest has no field 'Hots'")
    assert.error_matches(function() return sf.HTTPRequest{headers = {{"a", "b"}, 3}} end,
      "HTTPRequest.headers: item 2 is not {name, value}")
    assert.error_matches(function() return sf.http_header(3, "x") end,
      "bad argument #1 to 'http_header'")
    assert.error_matches(function() sf.http_messages("", {nope = 1}) end,
      "http_messages: unknown option 'nope'")
  end)
end)

describe("HTTP/1 captures, as tshark reads them", function()
  it("dpkt's http.pcap: requests and responses per segment", function()
    -- tshark -o tcp.desegment_tcp_streams:FALSE -Y http -T fields -e frame.number
    --   -e http.request.method -e http.request.uri -e http.host -e http.response.code
    --   -e http.content_length_header -e http.server
    local want = {
      [4] = {"GET", "/download.html", "www.ethereal.com"},
      [6] = {nil, nil, nil, "200", "18070", "Apache"},
      [18] = {"GET", "/pagead/ads?client=ca-pub-2309191948673629&random=1084443430285&lmt=1082467020"
        .. "&format=468x60_as&output=html&url=http%3A%2F%2Fwww.ethereal.com%2Fdownload.html"
        .. "&color_bg=FFFFFF&color_text=333333&color_link=000000&color_url=666633&color_border=666633",
        "pagead2.googlesyndication.com"},
      [26] = {nil, nil, nil, "200", "1272", "CAFE/1.0"},
    }
    local seen = 0
    for i, p in ipairs(sf.rdpcap(h.path("http.pcap"))) do
      if want[i] then
        local w = want[i]
        assert.same({w[1], w[2], w[3], w[4], w[5], w[6]},
          {p.Method, p.Path, p.Host, p.Status_Code, p.Content_Length, p.Server})
        seen = seen + 1
      end
    end
    assert.equal(4, seen)
  end)

  it("splits reassembled streams into messages: Content-Length, chunked, 204", function()
    local c = sf.extract_flows(h.path("http_content_length.pcap"))
    local got = {}
    for _, conv in ipairs(c) do
      for m, _, body in sf.http_messages(conv.reassembled_forward or "") do
        got[#got + 1] = (m.Method or m.Status_Code) .. " " .. #body
      end
      for m, _, body in sf.http_messages(conv.reassembled_reverse or "") do
        got[#got + 1] = (m.Method or m.Status_Code) .. " " .. #body
      end
    end
    table.sort(got)
    -- tshark: GET / -> 200, Content-Length 5012; GET /csi -> 204, 0
    assert.same({"200 5012", "204 0", "GET 0", "GET 0"}, got)
    c = sf.extract_flows(h.path("http_chunk.pcap.gz"))
    for _, conv in ipairs(c) do
      local m, _, body = sf.http_messages(conv.reassembled_reverse or "")()
      if m and m.Status_Code then
        assert.equal("chunked", m.Transfer_Encoding)
        -- the JPEG image the chunks carry, whole: tshark's "File Data: 33653 bytes"
        assert.equal(33653, #body)
        assert.equal("\xff\xd8\xff\xe1", body:sub(1, 4))
      end
    end
  end)

  it("ends bodies as RFC 9112 says: HEAD, 304, chunks with trailers, close", function()
    local reqs = "GET / HTTP/1.1\r\n\r\nHEAD /x HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n"
      .. "GET /n HTTP/1.1\r\n\r\nGET /e HTTP/1.1\r\n\r\n"
    local resps = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
      .. "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
      .. "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-T: 1\r\n\r\n"
      .. "HTTP/1.1 304 Not Modified\r\n\r\n"
      .. "HTTP/1.1 200 OK\r\n\r\nto the end"
    local got = {}
    for m, off, body in sf.http_messages(resps, {requests = reqs}) do
      got[#got + 1] = {off, m.Status_Code, body}
    end
    assert.same({{0, "200", "hello"}, {43, "200", ""}, {81, "200", "abcde"},
      {160, "304", ""}, {189, "200", "to the end"}}, got)
    -- without the requests, the HEAD's answer takes five bytes of the next
    -- message as its body, and what is left is no message
    local n = 0
    for _ in sf.http_messages(resps) do n = n + 1 end
    assert.equal(2, n)
    -- bytes that are no message stop it; a message cut short comes last
    local list = {}
    for m in sf.http_messages("GET / HTTP/1.1\r\n\r\n\0\1binary") do list[#list + 1] = m end
    assert.equal(1, #list)
    local m, _, body = sf.http_messages("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")()
    assert.equal("abc", body)
    assert.equal("10", m.Content_Length)
  end)
end)

describe("HPACK (RFC 7541 Appendix C) through libnghttp2", function()
  local V = dofile(h.path("hpack_rfc7541.lua"))
  local groups, order = {}, {}
  for _, v in ipairs(V) do
    if not groups[v.group] then
      groups[v.group] = {}
      order[#order + 1] = v.group
    end
    table.insert(groups[v.group], v)
  end

  it("decodes every example, in sequence where the RFC runs them in sequence", function()
    assert.equal(16, #V)
    for _, g in ipairs(order) do
      local blocks, want = {}, {}
      for i, v in ipairs(groups[g]) do
        blocks[i] = h.unhex(v.hex)
        want[i] = v.headers
      end
      assert.same(want, sf.hpack_decode(blocks, {table_size = groups[g][1].table_size}), g)
    end
  end)

  it("encodes them back: C.2.4 and C.4 byte for byte, every one to what decodes the same", function()
    for _, g in ipairs(order) do
      local lists, ts = {}, groups[g][1].table_size
      for i, v in ipairs(groups[g]) do lists[i] = v.headers end
      local enc = sf.hpack_encode(lists, {table_size = ts})
      if g == "C.2.4" or g == "C.4" then
        for i, v in ipairs(groups[g]) do assert.equal(v.hex, h.hex(enc[i]), g) end
      end
      assert.same(lists, sf.hpack_decode(enc, {table_size = ts}), g)
    end
  end)

  it("says which block does not decode", function()
    local ok, err = sf.hpack_decode({h.unhex("82"), h.unhex("bf")})  -- 63: no such entry
    assert.is_nil(ok)
    assert.equal("hpack_decode: block 2 does not decode", err)
    assert.error_matches(function() sf.hpack_encode({{"a", {}}}) end, "hpack_encode: list 1: item 1")
  end)
end)

describe("HTTP/2 frames", function()
  local preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

  it("parse the client start of ../shared/refdata (checked there with tshark)", function()
    local p = tcp(40000, 5000, preface .. h.unhex("000000040000000000000011010500000001"
      .. "828684418cf1e3c2e5f23a6ba0ab90f4ff"))
    assert.equal("Ether IP TCP H2Preface H2SettingsFrame H2HeadersFrame", names(p))
    local f = p[sf.H2HeadersFrame]
    assert.equal(17, f.len)
    assert.equal(1, f.stream_id)
    assert.equal("ES+EH", f.flags)
    assert.same({{":method", "GET"}, {":scheme", "http"}, {":path", "/"},
      {":authority", "www.example.com"}}, f.hdrs)
  end)

  it("build Scapy 2.5's bytes", function()
    local cases = {  -- Scapy expression -> its bytes, and sflua's build
      {"000002000100000001" .. "6162", sf.H2DataFrame{flags = "ES", stream_id = 1, data = "ab"}},
      {"000006040000000000000300000064", sf.H2SettingsFrame{settings = {{3, 100}}}},
      {"000006040000000000000300000064", sf.H2SettingsFrame{settings = {{"MAX_CONCURRENT_STREAMS", 100}}}},
      {"0000050008000000010261620000",  -- H2PaddedDataFrame(data=b'ab', padding=b'\0\0')
        sf.H2DataFrame{flags = "P", stream_id = 1, padding = "\0\0", data = "ab"}},
      {"00000101040000000182", sf.H2HeadersFrame{flags = "EH", stream_id = 1, hdrs = "\x82"}},
      {"000006012400000003800000050782",  -- H2PriorityHeadersFrame, flags {'+', 'EH'}
        sf.H2HeadersFrame{flags = "EH+PR", stream_id = 3, exclusive = 1, stream_dependency = 5,
          weight = 7, hdrs = "\x82"}},
      {"000007050c0000000301000000048200",  -- H2PaddedPushPromiseFrame(stream_id=4, ...)
        sf.H2PushPromiseFrame{flags = "EH+P", stream_id = 3, promised_stream_id = 4,
          hdrs = "\x82", padding = "\0"}},
      {"000009070000000000000000030000000278",
        sf.H2GoAwayFrame{last_stream_id = 3, error = 2, additional_data = "x"}},
      {"00000806000000000000000000000000" .. "05", sf.H2PingFrame{opaque = 5}},
      {"0000040800000000070000000a", sf.H2WindowUpdateFrame{stream_id = 7, win_size_incr = 10}},
      {"0000040300000000050000000a", sf.H2ResetFrame{stream_id = 5, error = 10}},
      {"0000050200000000090000000310", sf.H2PriorityFrame{stream_id = 9, stream_dependency = 3,
        weight = 16}},
      {"00000109040000000182", sf.H2ContinuationFrame{flags = "EH", stream_id = 1, hdrs = "\x82"}},
    }
    for _, c in ipairs(cases) do assert.equal(c[1], h.hex(c[2]:bytes())) end
  end)

  it("encode a header list in HEADERS through HPACK and read it back", function()
    local f = sf.H2HeadersFrame{flags = "EH+ES", stream_id = 1,
      hdrs = {{":method", "GET"}, {":path", "/x"}, {"user-agent", "sflua"}}}
    local p = tcp(40000, 5000, f)
    assert.same({{":method", "GET"}, {":path", "/x"}, {"user-agent", "sflua"}}, p.hdrs)
    assert.equal(#f:bytes() - 9, p[sf.H2HeadersFrame].len)
  end)

  it("several frames a segment; one longer than the segment keeps what is there", function()
    local s = sf.H2SettingsFrame{settings = {{4, 65535}}} / sf.H2WindowUpdateFrame{win_size_incr = 1}
      / sf.H2HeadersFrame{flags = "EH", stream_id = 1, hdrs = {{":status", "200"}}}
      / sf.H2DataFrame{flags = "ES", stream_id = 1, data = ("x"):rep(100)}
    local p = tcp(5000, 40000, s)
    assert.equal("Ether IP TCP H2SettingsFrame H2WindowUpdateFrame H2HeadersFrame H2DataFrame", names(p))
    local cut = tcp(5000, 40000, s:bytes():sub(1, -51))
    assert.equal("Ether IP TCP H2SettingsFrame H2WindowUpdateFrame H2HeadersFrame H2DataFrame", names(cut))
    assert.equal(100, cut[sf.H2DataFrame].len)
    assert.equal(50, #cut[sf.H2DataFrame].data)
  end)

  it("keeps the frames before bytes that are no frame, the rest Raw", function()
    local p = tcp(40000, 5000, preface .. h.unhex("000000040000000000" .. "000008060000000001"
      .. "0000000000000000" .. "00000004"))
    assert.equal("Ether IP TCP H2Preface H2SettingsFrame Raw", names(p))
    -- a padded frame whose pad length runs past it: the frame, its data empty
    local q = tcp(40000, 5000, preface .. h.unhex("00000300080000000109aabb"))
    assert.equal("Ether IP TCP H2Preface H2DataFrame", names(q))
    assert.equal(3, q[sf.H2DataFrame].len)
    assert.equal(9, q[sf.H2DataFrame].padlen)
  end)

  it("a frame of an unknown type is H2Frame with its payload Raw", function()
    local f = sf.H2Frame{type = 12, stream_id = 3} / "zz"
    assert.equal("0000020c00000000037a7a", h.hex(f:bytes()))
  end)

  it("is found by the preface, by frame sanity on any port, and after an h2c upgrade", function()
    local up = tcp(80, 40000, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
      .. "Upgrade: h2c\r\n\r\n" .. sf.H2SettingsFrame{settings = {{3, 100}}}:bytes())
    assert.equal("Ether IP TCP HTTPResponse H2SettingsFrame", names(up))
    -- not frames: a bad type, a flag its type has not, PING on a stream,
    -- SETTINGS of a length no settings have, a frame after it that is no frame
    for _, hex in ipairs({"00000010000000000100", "000000002000000001", "000008060000000001"
      .. "0000000000000000", "000005040000000000" .. "0000000000", "000000040000000000ffffff"}) do
      assert.equal("Ether IP TCP Raw", names(tcp(5000, 40000, h.unhex(hex))), hex)
    end
  end)

  it("reads Scapy's h2c capture as tshark does, header lists included", function()
    local want = {"HTTPRequest", "HTTPResponse H2SettingsFrame", "H2Preface", "H2SettingsFrame",
      "H2SettingsFrame", "H2HeadersFrame H2DataFrame", "H2WindowUpdateFrame", "H2HeadersFrame",
      "H2SettingsFrame", "H2HeadersFrame H2DataFrame"}
    for i, p in ipairs(sf.rdpcap(h.path("http2_h2c.pcap"))) do
      assert.equal("Ether IP TCP " .. want[i], names(p))
    end
    -- tshark -d tcp.port==80,http -T fields -e http2.header.name -e http2.header.value
    local c = sf.extract_flows(h.path("http2_h2c.pcap"))[1]
    local fwd = sf.h2_headers(c.reassembled_forward)
    assert.equal(1, #fwd)
    assert.equal(3, fwd[1].stream_id)
    assert.same({{":method", "GET"}, {":path", "/humans.txt"}, {":scheme", "http"},
      {":authority", "nghttp2.org"}, {"user-agent", "curl/7.61.0"}, {"accept", "*/*"}}, fwd[1].headers)
    local rev = sf.h2_headers(c.reassembled_reverse)
    assert.equal(2, #rev)
    assert.same({":status", "200"}, rev[1].headers[1])
    assert.same({"etag", '"5af1abd2-3e"'}, rev[1].headers[5])
    assert.same({":status", "404"}, rev[2].headers[1])
    assert.same({"content-type", "text/plain; charset=utf-8"}, rev[2].headers[3])
    assert.equal(10, #rev[2].headers)
    local kinds = {}
    for f in sf.h2_frames(c.reassembled_reverse) do kinds[#kinds + 1] = names(f) end
    assert.same({"H2SettingsFrame", "H2HeadersFrame", "H2DataFrame", "H2SettingsFrame",
      "H2HeadersFrame", "H2DataFrame"}, kinds)
  end)

  it("raises errors naming the layer and the field", function()
    assert.error_matches(function() return sf.H2SettingsFrame{settings = {{"NOPE", 1}}} end,
      "H2SettingsFrame.settings: item 1 is not {id, value}")
    assert.error_matches(function() return sf.H2HeadersFrame{hdrs = {{":a", {}}}} end,
      "H2HeadersFrame.hdrs: item 1 is not {name, value}")
    assert.error_matches(function() return sf.H2PingFrame{opaqe = 1} end,
      "H2PingFrame has no field 'opaqe'")
  end)
end)

describe("HTTP inside TLS, decrypted with a key log", function()
  -- tlsdec_openssl.pcap: curl fetching /page.txt from s_server -WWW (5010)
  -- and from nghttpd (5011); tshark -o tls.keylog_file:... -e http2.header.*
  it("splits and decodes the decrypted streams as tshark decrypts them", function()
    local seen = 0
    for _, c in ipairs(sf.extract_flows(h.path("tlsdec_openssl.pcap"),
        {tls_keylog = h.path("tlsdec_openssl.keys")})) do
      if c.dst_port == 5010 then
        local m = sf.http_messages(c.decrypted_forward)()
        assert.same({"GET", "/page.txt", "127.0.0.1:5010", "curl/7.88.1"},
          {m.Method, m.Path, m.Host, m.User_Agent})
        local r, _, body = sf.http_messages(c.decrypted_reverse, {requests = c.decrypted_forward})()
        assert.equal("200", r.Status_Code)
        assert.equal(4092, #body)
        seen = seen + 1
      elseif c.dst_port == 5011 then
        local req, resp = sf.h2_headers(c.decrypted_forward), sf.h2_headers(c.decrypted_reverse)
        assert.same({{":method", "GET"}, {":path", "/page.txt"}, {":scheme", "https"},
          {":authority", "127.0.0.1:5011"}, {"user-agent", "curl/7.88.1"}, {"accept", "*/*"}},
          req[1].headers)
        local names = {}
        for i, hv in ipairs(resp[1].headers) do names[i] = hv[1] end
        assert.same({":status", "server", "cache-control", "date", "content-length",
          "last-modified", "content-type"}, names)
        assert.same({"content-length", "4092"}, resp[1].headers[5])
        seen = seen + 1
      end
    end
    assert.equal(2, seen)
  end)
end)

describe("Scapy's bytes for random HTTP/1 messages and HTTP/2 frames", function()
  -- tests/interop/http_random.sh builds a new random set with Scapy each
  -- run; here the set of its --golden seed, against Scapy's bytes kept
  it("builds them byte for byte and parses them back whole", function()
    local diffs, golden = h.random_golden("http")
    assert.equal(golden.count, #golden.hex)
    assert.same({}, diffs)
  end)
end)
