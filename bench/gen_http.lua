-- gen_http.lua: captures for the HTTP benchmarks (bench/http_bench.sh).
--   sflua bench/gen_http.lua h1 OUT.pcap [N]   N frames Ether/IPv4/TCP(80)
--     /HTTPRequest of four clients' shapes (curl, a browser, a crawler, an
--     API client: 3 to 14 headers, Host among them, some with a body)
--   sflua bench/gen_http.lua h2 OUT.pcap [N]   N frames Ether/IPv4/TCP(8080)
--     /H2HeadersFrame of a request or a response, its header list (5 to 12
--     fields) encoded by libnghttp2 from an empty table, as a connection's
--     first block is
local sf = require("stackforge")
local kind, out, n = arg[1], arg[2], tonumber(arg[3] or 200000)
math.randomseed(1)

local function host(i) return ("www%d.site%d.example"):format(i % 97, i % 7919) end

local H1 = {
  function(i)
    return sf.HTTPRequest{Path = "/", Host = host(i), User_Agent = "curl/7.88.1", Accept = "*/*"}
  end,
  function(i)
    return sf.HTTPRequest{Path = ("/static/app.%d.js?v=%d"):format(i % 1000, i), Host = host(i),
      User_Agent = "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0",
      Accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
      Accept_Language = "en-US,en;q=0.5", Accept_Encoding = "gzip, deflate",
      Connection = "keep-alive", Referer = "http://" .. host(i + 1) .. "/index.html",
      Cookie = ("session=%08x; theme=dark"):format(i), Upgrade_Insecure_Requests = "1",
      headers = {{"Sec-Fetch-Dest", "script"}, {"Sec-Fetch-Mode", "no-cors"},
                 {"Sec-Fetch-Site", "same-origin"}}}
  end,
  function(i)
    return sf.HTTPRequest{Method = "HEAD", Path = ("/page/%d"):format(i), Host = host(i),
      User_Agent = "Googlebot/2.1 (+http://www.google.com/bot.html)", From = "bot@example.com",
      Accept = "*/*"}
  end,
  function(i)
    return sf.HTTPRequest{Method = "POST", Path = "/api/v1/items", Host = host(i),
      Content_Type = "application/json", Authorization = "Bearer abcdefghijklmnop",
      User_Agent = "python-requests/2.28.1"} / ('{"id": %d, "name": "item"}'):format(i)
  end,
}

local function h2_list(i)
  if i % 2 == 0 then
    return {{":method", "GET"}, {":scheme", "https"}, {":authority", host(i)},
      {":path", ("/api/v2/object/%d"):format(i)}, {"user-agent", "nghttp2/1.52.0"},
      {"accept", "*/*"}, {"accept-encoding", "gzip, deflate"},
      {"cookie", ("id=%08x"):format(i)}}
  end
  return {{":status", "200"}, {"date", "Sun, 29 Nov 2026 23:00:00 GMT"},
    {"content-type", "application/json"}, {"content-length", tostring(100 + i % 5000)},
    {"server", "nghttpd nghttp2/1.52.0"}, {"cache-control", "max-age=3600"},
    {"etag", ('"%x"'):format(i)}, {"vary", "accept-encoding"}}
end

local w <close> = sf.PcapWriter(out)
for i = 1, n do
  local l4 = sf.Ether{src = "02:00:00:00:00:01", dst = "02:00:00:00:00:02"}
    / sf.IP{src = "10.0.0.1", dst = "10.0.0.2"}
  local p
  if kind == "h1" then
    p = l4 / sf.TCP{sport = 1024 + i % 60000, dport = 80, flags = "PA"} / H1[i % #H1 + 1](i)
  else
    p = l4 / sf.TCP{sport = 1024 + i % 60000, dport = 8080, flags = "PA"}
      / sf.H2HeadersFrame{flags = "EH", stream_id = 1 + 2 * (i % 1000), hdrs = h2_list(i)}
  end
  w:write(p:build())
end
