-- textproto_spec.lua: FTP, SMTP, POP3 and IMAP (LPeg grammars on
-- CustomLayer: stdlib/stackforge/textproto.lua and protocols/).  The
-- capture of vsftpd, tftpd-hpa, aiosmtpd and dovecot (textproto_live.pcap,
-- tests/textproto/run.sh --update) against tshark's reading of it; forms,
-- streams and bad bytes.
local sf = require("stackforge")

local data = os.getenv("SFLUA_TESTDATA") or "tests/data"
local compare = dofile((os.getenv("SFLUA_TESTDATA") and os.getenv("SFLUA_TESTDATA") .. "/../textproto/check.lua")
  or "tests/textproto/check.lua")

local function tcp(payload, dport, sport)
  return sf.Packet((sf.Ether() / sf.IP() / sf.TCP{sport = sport or 40000, dport = dport} / payload):bytes())
end

-- the summary of what follows TCP
local function summaries(p)
  return (p:summary():gsub("^Ethernet / IPv4 / TCP / ", ""))
end

describe("text protocols against tshark", function()
  it("reads every FTP, SMTP, POP3, IMAP and TFTP message of real programs as tshark does", function()
    local report, bad, compared, related = compare(data .. "/textproto_live.pcap",
      data .. "/textproto_live.tsv", 40069)
    assert.are.equal(0, bad, table.concat(report, "\n"))
    assert.is_true(compared > 500)
    assert.are.equal(5, related)
  end)
end)

describe("FTP", function()
  it("builds commands and replies, one layer a message", function()
    assert.are.equal("USER anonymous\r\n", sf.FTP{verb = "USER", args = "anonymous"}:bytes())
    assert.are.equal("NOOP\r\n", sf.FTP():bytes())
    assert.are.equal("QUIT\r\n", sf.FTP{verb = "QUIT"}:bytes())
    assert.are.equal("230 Login successful.\r\n", sf.FTP{code = "230", text = "Login successful."}:bytes())
    assert.are.equal("230-Welcome\r\n230 Login successful.\r\n",
      sf.FTP{code = "230", text = "Welcome\r\n230 Login successful."}:bytes())
    local p = sf.Ether() / sf.IP() / sf.TCP{sport = 40000} / sf.FTP{verb = "USER", args = "bob"} / sf.FTP{verb = "PASS", args = "pw"}
    local back = sf.Packet(p:bytes())
    assert.are.equal(21, back[sf.TCP].dport)
    assert.are.equal("Ethernet / IPv4 / TCP / FTP USER bob / FTP PASS ****", back:summary())
  end)

  it("parses multi-line replies as one message and several messages a segment", function()
    local p = tcp("230-Welcome\r\n230-second line\r\n230 Login successful.\r\n227 Entering Passive Mode (127,0,0,1,195,80).\r\n", 40000, 21)
    assert.are.equal("FTP 230 Welcome / FTP 227 Entering Passive Mode (127,0,0,1,195,80).", summaries(p))
    local r = p[sf.FTP]
    assert.are.equal("230", r.code)
    assert.are.same({"Welcome", "second line", "Login successful."}, sf.ftp_reply_lines(r))
    local u = tcp("USER x\r\n", 21)
    assert.matches("verb", u:show())
    assert.are.equal("USER", u.verb)
    assert.is_string(u:command())  -- Scapy's method, not a field
  end)

  it("reads the data connection's endpoint from PASV, EPSV, PORT and EPRT", function()
    local function ep(s, dport, sport) return {sf.ftp_data_endpoint(tcp(s, dport, sport)[sf.FTP])} end
    assert.are.same({"127.0.0.1", 50000, "PASV"}, ep("227 Entering Passive Mode (127,0,0,1,195,80).\r\n", 40000, 21))
    assert.are.same({nil, 60192, "EPSV"}, ep("229 Entering Extended Passive Mode (|||60192|)\r\n", 40000, 21))
    assert.are.same({"10.0.0.5", 6446, "PORT"}, ep("PORT 10,0,0,5,25,46\r\n", 21))
    assert.are.same({"::1", 6446, "EPRT"}, ep("EPRT |2|::1|6446|\r\n", 21))
    assert.are.same({}, ep("PORT 300,0,0,5,25,46\r\n", 21))  -- no address
  end)

  it("ties vsftpd's data connections to their control connection (relate_flows)", function()
    local convs = sf.extract_flows(data .. "/textproto_live.pcap")
    assert.is_true(sf.relate_flows(convs) >= 9)
    local how = {}
    for _, c in ipairs(convs) do
      if c.related_how and c.related_how:match("^ftp") then
        assert.are.equal(21, c.related.dst_port)
        how[c.related_how] = (how[c.related_how] or 0) + 1
      end
    end
    assert.are.same({["ftp-data (EPSV)"] = 3, ["ftp-data (PASV)"] = 1, ["ftp-data (PORT)"] = 1,
      ["ftp-data (EPRT)"] = 1}, how)
    local ok, err = pcall(sf.relate_flows, "x")
    assert.is_false(ok)
    assert.matches("relate_flows: a list of conversations expected", err)
  end)

  it("keeps what parses of bad bytes: a line not ended, bytes that are no line", function()
    local p = tcp("RETR file.txt", 21)  -- cut before its CRLF
    assert.are.equal("file.txt", p[sf.FTP].args)
    local junk = tcp("\0\1\2\255garbage", 21)
    assert.are.equal("\0\1\2\255garbage", junk[sf.FTP].data)
    assert.are.equal("FTP data (11 bytes)", summaries(junk))
    local ok, err = pcall(function() local x = sf.FTP{command = "USER"}; return x end)
    assert.is_false(ok)
    assert.matches("FTP has no field .command. %(fields: code, verb, args, text, data%)", err)
  end)
end)

describe("SMTP", function()
  it("builds and parses commands, multi-line replies and bodies", function()
    assert.are.equal("EHLO client.example\r\n", sf.SMTP{verb = "EHLO", args = "client.example"}:bytes())
    local r = tcp("250-mx.example\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n", 40000, 25)
    assert.are.equal("250", r[sf.SMTP].code)
    assert.are.equal("mx.example\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME", r[sf.SMTP].text)
    assert.are.equal("SMTP data (24 bytes)", summaries(tcp("Subject: hi\r\n\r\nbody\r\n.\r\n", 587)))
    assert.are.equal("SMTP MAIL FROM:<a@b> / SMTP RCPT TO:<c@d> / SMTP DATA",
      summaries(tcp("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n", 25)))
  end)

  it("reads whole sessions: DATA bodies, AUTH mechanisms, STARTTLS", function()
    local convs = sf.extract_flows(data .. "/textproto_live.pcap")
    local bodies, mechs, tls = {}, {}, 0
    for _, c in ipairs(convs) do
      if c.protocol == "TCP" and (c.dst_port == 25 or c.dst_port == 587) then
        local s = sf.smtp_session(c.reassembled_forward, c.reassembled_reverse)
        for _, cmd in ipairs(s.commands) do
          if cmd.body then bodies[#bodies + 1] = cmd.body end
          if cmd.mechanism then mechs[#mechs + 1] = cmd.mechanism end
        end
        if s.tls then
          tls = tls + 1
          assert.are.equal("\22\3", s.client_tls:sub(1, 2))  -- a TLS handshake record
          assert.are.equal("\22\3", s.server_tls:sub(1, 2))
        end
      end
    end
    assert.are.equal(3, #bodies)
    assert.matches("Hello Bob%.", bodies[1])
    assert.matches("\r\n%.dot line\r\n", bodies[3])  -- unstuffed: "..dot line" on the wire
    assert.are.same({"PLAIN", "LOGIN"}, mechs)
    assert.are.equal(1, tls)
    -- per packet too: after STARTTLS the segments on 587 are TLS (SMTP
    -- refuses records, TLS's heuristic takes them)
    local n, hello = 0, nil
    for _, p in ipairs(sf.rdpcap(data .. "/textproto_live.pcap")) do
      if p:has_layer(sf.TCP) and (p[sf.TCP].dport == 587 or p[sf.TCP].sport == 587) then
        if p:has_layer(sf.TLS) then n = n + 1 end
        assert.is_false(p.truncated)
        hello = hello or p:has_layer(sf.TLSClientHello)
      end
    end
    assert.is_true(n >= 10)
    assert.is_truthy(hello)
    assert.are.same({"PLAIN", "dGVzdA=="}, {sf.smtp_auth("plain dGVzdA==")})
  end)
end)

describe("POP3", function()
  it("builds and parses commands, status lines and multi-line answers", function()
    assert.are.equal("RETR 1\r\n", sf.POP3{verb = "RETR", args = "1"}:bytes())
    assert.are.equal("+OK 2 messages\r\n1 120\r\n.\r\n", sf.POP3{status = "+OK", text = "2 messages", data = "1 120\r\n.\r\n"}:bytes())
    local p = tcp("+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n-ERR no\r\n", 40000, 110)
    assert.are.equal("1 120\r\n2 200\r\n.\r\n", p[sf.POP3].data)
    assert.are.equal("POP3 +OK 2 messages / POP3 -ERR no", summaries(p))
  end)

  it("reads dovecot's sessions: RETR's message, LIST's lines, SASL", function()
    local convs = sf.extract_flows(data .. "/textproto_live.pcap")
    local seen = {}
    for _, c in ipairs(convs) do
      if c.protocol == "TCP" and c.dst_port == 110 then
        local s = sf.pop3_session(c.reassembled_forward, c.reassembled_reverse)
        for i, cmd in ipairs(s.commands) do
          local r = s.replies[i + 1]
          if cmd.verb == "RETR" then seen.retr = table.concat(r.lines, "\n") end
          if cmd.verb == "LIST" then seen.list = r.lines end
          if cmd.sasl then seen.sasl = true end
        end
      end
    end
    assert.matches("Subject: test", seen.retr)
    assert.matches("Hello Bob%.", seen.retr)
    assert.are.equal(1, #seen.list)
    assert.is_true(seen.sasl)
  end)
end)

describe("IMAP", function()
  it("builds and parses tagged commands, statuses and untagged lines", function()
    assert.are.equal("a1 LOGIN bob pw\r\n", sf.IMAP{tag = "a1", verb = "LOGIN", args = "bob pw"}:bytes())
    assert.are.equal("* OK hi\r\n", sf.IMAP{tag = "*", status = "OK", text = "hi"}:bytes())
    local p = tcp("* OK [CAPABILITY IMAP4rev1] ready\r\n* 1 EXISTS\r\na001 OK done\r\n", 40000, 143)
    assert.are.equal("IMAP * OK [CAPABILITY IMAP4rev1] ready / IMAP * 1 EXISTS / IMAP a001 OK done", summaries(p))
    assert.are.equal("a001", p:layer(6).tag)
  end)

  it("takes a literal's bytes into its line", function()
    local p = tcp("* 1 FETCH (BODY[] {13}\r\nline\r\nline2\r\n)\r\na2 OK x\r\n", 40000, 143)
    assert.are.equal("1", p[sf.IMAP].status)
    assert.are.equal("FETCH (BODY[] {13}\r\nline\r\nline2\r\n)", p[sf.IMAP].text)
    assert.are.same({"a2", "OK", "x"}, {p:layer(5).tag, p:layer(5).status, p:layer(5).text})
  end)

  it("reads dovecot's sessions", function()
    local convs = sf.extract_flows(data .. "/textproto_live.pcap")
    local cmds = {}
    for _, c in ipairs(convs) do
      if c.protocol == "TCP" and c.dst_port == 143 then
        local s = sf.imap_session(c.reassembled_forward, c.reassembled_reverse)
        for _, x in ipairs(s.commands) do cmds[#cmds + 1] = x.tag .. " " .. x.verb end
      end
    end
    assert.are.same({"A001 CAPABILITY", "A002 AUTHENTICATE", "A003 LIST", "A004 LOGOUT",
      "A001 CAPABILITY", "A002 AUTHENTICATE", "A003 SELECT", "A004 UID", "A005 LOGOUT",
      "A001 CAPABILITY", "A002 AUTHENTICATE", "A003 EXAMINE", "A004 LOGOUT",
      "A001 CAPABILITY", "A002 AUTHENTICATE"}, cmds)
  end)
end)
