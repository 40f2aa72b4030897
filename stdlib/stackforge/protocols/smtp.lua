-- smtp.lua: SMTP (RFC 5321) and mail submission (RFC 6409) on TCP 25 and
-- 587, an LPeg grammar on textproto's line layer (465 is TLS from the
-- first byte: RFC 8314):
--   SMTP{command = "EHLO", args = "client.example"}   "EHLO client.example\r\n"
--   SMTP{code = "250", text = "mx.example\r\n250 AUTH PLAIN LOGIN"}  (multi-line)
-- A segment that is neither a command nor a reply (a message body after
-- DATA, an AUTH exchange's base64 lines, TLS after STARTTLS) is data.
-- smtp_session() reads a whole conversation with the state a packet lacks.
local lpeg = require("lpeg")
local sf = require("stackforge.custom")
local layers = require("stackforge.layers")
local text = require("stackforge.textproto")
local ftp = require("stackforge.protocols.ftp")

local P, S, Cp = lpeg.P, lpeg.S, lpeg.Cp
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
  body = function(rest, pkt) return ftp.reply_len(pkt.code .. rest) - 3 end,
  ws_fields = {{"smtp.req.command", "command"}, {"smtp.response.code", "code"}},
}
if text.fresh("SMTP") then
  sf.bind_layers(layers.TCP, M.SMTP, {dport = 25})
  sf.bind_layers(layers.TCP, M.SMTP, {dport = 587})
end

-- ---- sessions -------------------------------------------------------------------------

local reply_text = require("stackforge.core").codecs["text.reply"].decode
local function core_text(line) return reply_text(line:sub(4)) end

-- AUTH's mechanism and initial response: "PLAIN dGVzdA==" -> "PLAIN", "dGVzdA=="
function M.smtp_auth(args)
  local mech, initial = (args or ""):match("^%s*(%S+)%s*(%S*)")
  return mech and mech:upper(), initial ~= "" and initial or nil
end

local is_command
do
  local verb = text.verbs(M.commands)
  is_command = function(line) return lpeg.match(verb, line) ~= nil end
end

-- A body's bytes as sent (dot-stuffed, ended by CRLF.CRLF): its length
-- with the end, and the message without stuffing.
local END = P"\r\n.\r\n"
local body_end = (1 - END)^0 * Cp() * END * Cp()
local function body_of(s, pos)
  local stop, after = lpeg.match(body_end, s, pos)
  if not stop then return s:sub(pos), #s + 1, false end
  local b = s:sub(pos, stop + 1)   -- with the last line's CRLF
  b = b:gsub("\n%.%.", "\n."):gsub("^%.%.", ".")
  return b, after, true
end

-- smtp_session(client_stream, server_stream): the client's commands (with
-- a DATA command's message as `body`, AUTH's mechanism as `mechanism`)
-- and the server's replies, in order; tls = true and the bytes from the
-- TLS handshake on (client_tls, server_tls) once STARTTLS was accepted.
function M.smtp_session(cs, ss)
  if type(cs) ~= "string" or type(ss) ~= "string" then
    error("smtp_session: the client's and the server's streams (strings) expected", 2)
  end
  local out = {commands = {}, replies = {}, tls = false}
  -- replies first: STARTTLS ends the text where its 220 does
  local rpos, starttls_ok = 1, false
  local cpos = 1
  local function next_reply()
    if rpos > #ss then return nil end
    local n = ftp.reply_len(ss:sub(rpos))
    if n <= 0 then return nil end
    local line = ss:sub(rpos, rpos + n - 1)
    rpos = rpos + n
    local r = {code = line:sub(1, 3), text = core_text(line)}
    out.replies[#out.replies + 1] = r
    return r
  end
  local line_len = text.len(text.LINE1)
  local in_auth = false
  while cpos <= #cs do
    local n = line_len(cs:sub(cpos, cpos + 4095))
    if n <= 0 then break end
    local line = cs:sub(cpos, cpos + n - 1):gsub("\r?\n$", "")
    cpos = cpos + n
    local c
    if is_command(line) then
      local verb, args = line:match("^(%S+) ?(.*)$")
      c = {command = verb:upper(), args = args}
    else  -- a SASL response during AUTH, or a line no command starts
      c = {command = "", args = "", data = line, sasl = in_auth or nil}
    end
    out.commands[#out.commands + 1] = c
    if c.command ~= "" then in_auth = c.command == "AUTH" end
    if c.command == "AUTH" then c.mechanism = M.smtp_auth(c.args) end
    if c.command == "DATA" then
      c.body, cpos, c.complete = body_of(cs, cpos)
    elseif c.command == "STARTTLS" then
      starttls_ok = true
      break
    end
  end
  if starttls_ok then
    -- the replies up to STARTTLS's 220: the rest of the server's stream is TLS
    while true do
      local r = next_reply()
      if not r then break end
      if r.code == "220" and #out.replies > 1 then break end
    end
    out.tls = true
    out.client_tls, out.server_tls = cs:sub(cpos), ss:sub(rpos)
  else
    while next_reply() do end
  end
  return out
end

return M
