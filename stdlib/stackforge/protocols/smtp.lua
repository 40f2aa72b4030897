-- smtp.lua: SMTP (RFC 5321) and mail submission (RFC 6409) on TCP 25 and
-- 587, an LPeg grammar on textproto's line layer (465 is TLS from the
-- first byte: RFC 8314):
--   SMTP{verb = "EHLO", args = "client.example"}   "EHLO client.example\r\n"
--   SMTP{code = "250", text = "mx.example\r\n250 AUTH PLAIN LOGIN"}  (multi-line)
-- A segment that is neither a command nor a reply (a message body after
-- DATA, an AUTH exchange's base64 lines, TLS after STARTTLS) is data.
-- smtp_session() reads a whole conversation with the state a packet lacks.
local lpeg = require("lpeg")
local sf = require("stackforge.custom")
local layers = require("stackforge.layers")
local text = require("stackforge.textproto")
local ftp = require("stackforge.protocols.ftp")

local P, S = lpeg.P, lpeg.S
local DIGIT, EOL = text.DIGIT, text.EOL

local M = {}

-- RFC 5321's commands and the common extensions' (AUTH, STARTTLS, BDAT, ...)
M.commands = {"HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "VRFY", "EXPN", "HELP",
  "NOOP", "QUIT", "AUTH", "STARTTLS", "BDAT", "ETRN", "TURN", "ATRN", "SEND", "SOML",
  "SAML", "XCLIENT", "XFORWARD", "XEXCH50", "X-EXPS", "XUSR", "LHLO"}

M.SMTP = text.line_layer{
  name = "SMTP", kind = "Smtp", display = "SMTP", ws = "smtp",
  verb = text.verbs(M.commands),
  status = DIGIT * DIGIT * DIGIT * #(S" -" + EOL + -P(1)), status_field = "code",
  body = function(rest, pkt) return ftp._reply_len(pkt.code .. rest) - 3 end,
  ws_fields = {{"smtp.req.command", "verb"}, {"smtp.response.code", "code"}},
}
if text.fresh("SMTP") then
  sf.bind_layers(layers.TCP, M.SMTP, {dport = 25})
  sf.bind_layers(layers.TCP, M.SMTP, {dport = 587})
end

-- ---- sessions -------------------------------------------------------------------------

-- AUTH's mechanism and initial response: "PLAIN dGVzdA==" -> "PLAIN", "dGVzdA=="
function M.smtp_auth(args)
  local mech, initial = (args or ""):match("^%s*(%S+)%s*(%S*)")
  return mech and mech:upper(), initial ~= "" and initial or nil
end

local CLIENT = text.client_grammar(text.verbs({"DATA"}))
local VERBS = text.verb_set(M.commands)
local SERVER = text.server_grammar(DIGIT * DIGIT * DIGIT)

-- A DATA body as sent (dot-stuffed, ended by CRLF.CRLF) as the message:
-- the end and the stuffing removed; complete when the end was there.
local function unstuff(b)
  local complete = b == ".\r\n" or b:sub(-5) == "\r\n.\r\n"
  if b == ".\r\n" then b = "" elseif complete then b = b:sub(1, -4) end
  b = b:gsub("\n%.%.", "\n."):gsub("^%.%.", ".")
  return b, complete
end

-- Replies from the server's lines (flat: code, separator, text): the
-- lines of a multi-line reply ("250-" ... "250 ") make one reply, its
-- text as the layer has it and (multi-line only) its lines apart.
function M._replies_of(r)
  local out, cur = {}, nil
  for i = 1, #r, 3 do
    local code, sep, t = r[i], r[i + 1], r[i + 2]
    if cur and cur.more and code == cur.code then
      cur.lines = cur.lines or {cur.text}
      cur.lines[#cur.lines + 1] = t
      cur.text = cur.text .. "\r\n" .. code .. sep .. t
      cur.more = sep == "-" or nil
    else
      cur = {code = code, text = t, more = sep == "-" or nil}
      out[#out + 1] = cur
    end
  end
  if cur then cur.more = nil end
  return out
end

-- smtp_session(client_stream, server_stream): the client's commands (with
-- a DATA command's message as `body`, AUTH's mechanism as `mechanism`,
-- SASL lines as {data=, sasl=true}) and the server's replies, in order;
-- tls = true and the bytes from the TLS handshake on (client_tls,
-- server_tls) once STARTTLS was accepted.  One LPeg match a stream.
function M.smtp_session(cs, ss)
  text.check_streams("smtp_session", cs, ss)
  local c, cend = lpeg.match(CLIENT, cs)
  local r, send = lpeg.match(SERVER, ss)
  local cmds, in_auth = {}, false
  for i = 1, #c, 3 do
    local verb, args, body = c[i], c[i + 1], c[i + 2]
    local x
    local v = verb ~= "" and text.known_verb(VERBS, verb)
    if v then
      x = {verb = v, args = args}
      in_auth = x.verb == "AUTH"
      if in_auth then x.mechanism = M.smtp_auth(args) end
      if body then x.body, x.complete = unstuff(body) end
    else  -- a SASL response during AUTH, or a line no command starts
      x = {verb = "", args = "", data = verb == "" and args or text.line_of(verb, args),
        sasl = in_auth or nil}
    end
    cmds[#cmds + 1] = x
  end
  return text.tls_tail({commands = cmds, replies = M._replies_of(r), tls = false}, cs, cend, ss, send)
end

return M
