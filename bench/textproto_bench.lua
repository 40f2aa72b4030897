-- textproto_bench.lua: FTP, SMTP, POP3 and IMAP lines parsed by their LPeg
-- grammars (stdlib/stackforge/protocols/).
--   sflua bench/textproto_bench.lua gen CAPTURE [PACKETS]   write the capture:
--     one line a segment, commands and replies of the four protocols in turn
--   sflua bench/textproto_bench.lua read CAPTURE [RUNS]     per packet: every
--     text layer's verb (command) or status (code), as tshark -T fields reads them
--   sflua bench/textproto_bench.lua streams [RUNS]          the session readers
--     (smtp_session, pop3_session, imap_session) over long streams, and the
--     line layers over them (one Packet a stream, a layer a line)
-- Prints lines per second (wall time on a monotonic clock, median of RUNS).
local sf = require("stackforge")
local mode = arg[1]

-- client lines and server lines of each protocol, with its port
local SAMPLES = {
  {21, {"USER anonymous\r\n", "PASS guest@example.org\r\n", "CWD pub\r\n", "EPSV\r\n", "RETR file.txt\r\n"},
       {"220 (vsFTPd 3.0.3)\r\n", "331 Please specify the password.\r\n", "230 Login successful.\r\n",
        "229 Entering Extended Passive Mode (|||60192|)\r\n", "226 Transfer complete.\r\n"}},
  {25, {"EHLO client.example\r\n", "MAIL FROM:<alice@example.org>\r\n", "RCPT TO:<bob@example.org>\r\n",
        "DATA\r\n", "QUIT\r\n"},
       {"220 mx.example ESMTP\r\n", "250 OK\r\n", "354 End data with <CR><LF>.<CR><LF>\r\n",
        "250 OK: queued\r\n", "221 Bye\r\n"}},
  {110, {"USER bob\r\n", "PASS secret\r\n", "STAT\r\n", "RETR 1\r\n", "QUIT\r\n"},
        {"+OK Dovecot ready.\r\n", "+OK\r\n", "+OK Logged in.\r\n", "+OK 1 120\r\n", "-ERR no such message\r\n"}},
  {143, {"a001 LOGIN bob secret\r\n", "a002 SELECT INBOX\r\n", "a003 FETCH 1 (FLAGS)\r\n",
         "a004 NOOP\r\n", "a005 LOGOUT\r\n"},
        {"* OK Dovecot ready.\r\n", "a001 OK Logged in\r\n", "* 1 EXISTS\r\n", "a002 OK [READ-WRITE] Select completed\r\n",
         "* BYE Logging out\r\n"}},
}

if mode == "gen" then
  local cap, n = arg[2], tonumber(arg[3]) or 200000
  local w = sf.PcapWriter(cap)
  local e = sf.Ether() / sf.IP{src = "10.0.0.1", dst = "10.0.0.2"}
  for i = 1, n do
    local s = SAMPLES[i % 4 + 1]
    local k = (i // 8) % 5 + 1
    local p
    if (i // 4) % 2 == 0 then
      p = e / sf.TCP{sport = 40000 + i % 100, dport = s[1], flags = "PA"} / s[2][k]
    else
      p = e / sf.TCP{sport = s[1], dport = 40000 + i % 100, flags = "PA"} / s[3][k]
    end
    w:write(p)
  end
  w:close()
  return
end

local clock = require("benchclock")
local runs = tonumber(arg[mode == "read" and 3 or 2]) or 5

local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end

if mode == "read" then
  local cap = arg[2]
  local kinds = {[sf.FTP.kind] = "code", [sf.SMTP.kind] = "code", [sf.POP3.kind] = "status",
    [sf.IMAP.kind] = "status"}
  local function pass()
    local lines, check = 0, 0
    for p in sf.PcapReader(cap) do
      for i = 4, p.layer_count do
        local st = kinds[p:_layer_info(i)]
        if st then
          local v = p:layer(i)
          local s = v[st]
          if s == "" then s = v.verb end
          lines = lines + 1
          check = check + #s
        end
      end
    end
    return lines, check
  end
  local times, lines = {}, 0
  for r = 1, runs do
    local t0 = clock.now()
    lines = pass()
    times[r] = clock.now() - t0
  end
  local t = median(times)
  print(("per packet: %d lines in %.3f s (median of %d) : %.0f lines/s"):format(lines, t, runs, lines / t))
  return
end

assert(mode == "streams", "usage: textproto_bench.lua gen|read|streams ...")
-- sessions of 200,000 lines a side, built from the samples
local N = 200000
local readers = {
  {"SMTP", sf.smtp_session, SAMPLES[2]}, {"POP3", sf.pop3_session, SAMPLES[3]},
  {"IMAP", sf.imap_session, SAMPLES[4]},
}
for _, r in ipairs(readers) do
  local name, fn, s = r[1], r[2], r[3]
  local c, sv = {}, {s[3][1]}
  for i = 1, N do
    local k = i % 4 + 1
    if name == "SMTP" and k == 4 then k = 3 end  -- no DATA body here
    c[i] = s[2][k]
    sv[i + 1] = s[3][(i % 3) + 2]
  end
  local cs, ss = table.concat(c), table.concat(sv)
  -- the grammars alone: one match a stream, the lines as captures
  local text = require("stackforge.textproto")
  local lpeg = require("lpeg")
  local cg = text.client_grammar(name == "SMTP" and text.verbs({"DATA"}) or nil)
  local sg = text.server_grammar(name == "POP3" and (lpeg.P"+OK" + lpeg.P"-ERR" + lpeg.P"+")
    or lpeg.R"09" * lpeg.R"09" * lpeg.R"09")
  if name == "IMAP" then cg = require("stackforge.protocols.imap")._lines; sg = cg end
  local gt = {}
  for k = 1, runs do
    local t0 = clock.now()
    local a, b = lpeg.match(cg, cs), lpeg.match(sg, ss)
    gt[k] = clock.now() - t0
    assert(#a == 3 * N and #b == 3 * (N + 1), name)
  end
  local g = median(gt)
  print(("%s grammars: %d lines in %.3f s (median of %d) : %.0f lines/s"):format(name, 2 * N + 1, g, runs, (2 * N + 1) / g))
  local times = {}
  for k = 1, runs do
    local t0 = clock.now()
    local out = fn(cs, ss)
    times[k] = clock.now() - t0
    assert(#out.commands == N, name)
  end
  local t = median(times)
  print(("%s session: %d lines in %.3f s (median of %d) : %.0f lines/s"):format(name, 2 * N + 1, t, runs, (2 * N + 1) / t))
end
