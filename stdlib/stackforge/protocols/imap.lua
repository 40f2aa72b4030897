-- imap.lua: IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051) on TCP 143, an
-- LPeg grammar on textproto's line layer.  Every line starts with a tag:
--   IMAP{tag = "a001", verb = "LOGIN", args = "bob secret"}
--   IMAP{tag = "a001", status = "OK", text = "LOGIN completed"}
--   IMAP{tag = "*", status = "OK", text = "[CAPABILITY IMAP4rev1] ready"}
-- A line from the server has status OK, NO, BAD, PREAUTH or BYE, or is
-- untagged ("*": its first word, a number or a name like CAPABILITY, is
-- the status) or a continuation ("+").  A literal ({n} at a line's end)
-- takes the n bytes that follow into the line.
local lpeg = require("lpeg")
local sf = require("stackforge.custom")
local layers = require("stackforge.layers")
local text = require("stackforge.textproto")

local P, S, Cp = lpeg.P, lpeg.S, lpeg.Cp
local EOL, SP, ATOM = text.EOL, text.SP, text.ATOM

local M = {}

M.commands = {"CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "AUTHENTICATE", "LOGIN",
  "SELECT", "EXAMINE", "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE", "LIST",
  "LSUB", "NAMESPACE", "STATUS", "APPEND", "CHECK", "CLOSE", "UNSELECT", "EXPUNGE",
  "SEARCH", "FETCH", "STORE", "COPY", "MOVE", "UID", "IDLE", "DONE", "ENABLE", "ID",
  "GETQUOTA", "GETQUOTAROOT", "SETQUOTA", "GETACL", "SETACL", "MYRIGHTS", "COMPRESS"}

-- The tag and its space; "*" and "+" are the server's
local TAG = (1 - S" \r\n(){%*\"\\]+")^1 * SP + S"*+" * (SP + #EOL)
local STATUS_WORD = P"OK" + P"NO" + P"BAD" + P"PREAUTH" + P"BYE"
-- a status after a tag (what follows the tag is the rest of rest)
-- (built once: LPeg compiles a pattern at its first match)
local UNTAGGED_STATUS = (ATOM + P(true)) * Cp()
local TAGGED_STATUS = STATUS_WORD * #(SP + EOL) * Cp()
local function status_len(rest, tag)
  local pat = (tag == "*" or tag == "+") and UNTAGGED_STATUS or TAGGED_STATUS
  return (lpeg.match(pat, rest) or 1) - 1
end
-- a line, with the literals it announces ({n} at its end: the n bytes
-- after it belong to the line, which goes on after them)
local AFTER_LINE = text.LINE * Cp()
local function line_len(rest)
  local pos = 1
  while true do
    local stop = lpeg.match(AFTER_LINE, rest, pos)
    local n = rest:sub(pos, stop - 1):match("{(%d+)%+?}\r?\n$")
    if not n then return stop - 1 end
    pos = stop + tonumber(n)
    if pos > #rest then return #rest end
  end
end

local verb_pat = text.verbs(M.commands)

M.IMAP = text.line_layer{
  name = "IMAP", kind = "Imap", display = "IMAP", ws = "imap",
  tag = TAG,
  verb = verb_pat,
  status_field = "status",
  status = P(false),  -- replaced below: it needs the tag
  status_len = status_len,
  body = line_len,
  args_len = line_len,
  -- a line that is neither (the end of a literal's line, ")") is data alone
  data = function(rest) return line_len(rest) end,
  ws_fields = {{"imap.request.command", "verb"}, {"imap.response.status", "status"}},
}
if text.fresh("IMAP") then sf.bind_layers(layers.TCP, M.IMAP, {dport = 143}) end

-- Whole streams: every line (a literal's bytes in it) as its tag, its
-- first word and the rest; one LPeg match a stream
local LIT = P"{" * lpeg.Cmt(lpeg.C(lpeg.R"09"^1) * P"+"^-1 * P"}" * EOL, function(s, i, n)
  return math.min(i + tonumber(n), #s + 1) end)
local TEXTL = ((1 - S"{\r\n")^1 + LIT + P"{" + P"\r" * -P"\n")^0
local LINE_END = EOL + -P(1)
local TLS_AT = #(lpeg.R("\20\23") * P"\3" * lpeg.R("\0\4"))
local ITEM = lpeg.C((1 - S" \r\n")^1) * (SP * lpeg.C((1 - S" \r\n")^0) + lpeg.Cc("")) *
  (SP * lpeg.C(TEXTL) + lpeg.Cc("")) * LINE_END
  + lpeg.Cc("") * lpeg.Cc("") * lpeg.Cc("") * EOL
local LINES = lpeg.Ct((ITEM - TLS_AT)^0) * lpeg.Cp()
M._lines = LINES  -- bench/textproto_bench.lua times it alone
local STATUS_OF = {OK = true, NO = true, BAD = true, PREAUTH = true, BYE = true}

-- imap_session(client_stream, server_stream): the tagged commands
-- {tag=, verb=, args=} and every server line {tag=, status=, text=}
-- (an untagged one's status its first word: "CAPABILITY", "1"); tls =
-- true once STARTTLS was answered and TLS followed (client_tls, server_tls).
function M.imap_session(cs, ss)
  text.check_streams("imap_session", cs, ss)
  local c, cend = lpeg.match(LINES, cs)
  local r, send = lpeg.match(LINES, ss)
  local out = {commands = {}, replies = {}, tls = false}
  for i = 1, #c, 3 do
    out.commands[#out.commands + 1] = {tag = c[i], verb = c[i + 1], args = c[i + 2]}
  end
  for i = 1, #r, 3 do
    out.replies[#out.replies + 1] = {tag = r[i], status = r[i + 1], text = r[i + 2]}
  end
  return text.tls_tail(out, cs, cend, ss, send)
end

-- is a line's first word after its tag a status (the server's)?
function M.imap_is_status(tag, word)
  return tag == "*" or tag == "+" or STATUS_OF[(word or ""):upper()] == true
end

return M
