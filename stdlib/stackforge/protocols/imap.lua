-- imap.lua: IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051) on TCP 143, an
-- LPeg grammar on textproto's line layer.  Every line starts with a tag:
--   IMAP{tag = "a001", command = "LOGIN", args = "bob secret"}
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
local function status_len(rest, tag)
  local pat = (tag == "*" or tag == "+") and (ATOM + P(true)) or STATUS_WORD * #(SP + EOL)
  return (lpeg.match(pat * Cp(), rest) or 1) - 1
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
  ws_fields = {{"imap.request.command", "command"}, {"imap.response.status", "status"}},
}
if text.fresh("IMAP") then sf.bind_layers(layers.TCP, M.IMAP, {dport = 143}) end

-- imap_session(client_stream, server_stream): the tagged commands and
-- every server line, each a table of its fields (textproto.layers_of);
-- tls = true once STARTTLS was answered OK (client_tls, server_tls).
function M.imap_session(cs, ss)
  if type(cs) ~= "string" or type(ss) ~= "string" then
    error("imap_session: the client's and the server's streams (strings) expected", 2)
  end
  local out = {commands = text.layers_of(M.IMAP, cs), replies = {}, tls = false}
  local replies = text.layers_of(M.IMAP, ss)
  local starttls
  for i, c in ipairs(out.commands) do
    if (c.command or ""):upper() == "STARTTLS" then
      starttls = c.tag
      for j = i + 1, #out.commands do out.commands[j] = nil end
      break
    end
  end
  for _, r in ipairs(replies) do
    out.replies[#out.replies + 1] = r
    if starttls and r.tag == starttls and r.status == "OK" then
      out.tls = true
      break
    end
  end
  return out
end

return M
