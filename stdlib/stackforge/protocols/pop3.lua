-- pop3.lua: POP3 (RFC 1939, 2449, 2595, 5034) on TCP 110, an LPeg grammar
-- on textproto's line layer:
--   POP3{verb = "USER", args = "bob"}            "USER bob\r\n"
--   POP3{status = "+OK", text = "2 messages"}       "+OK 2 messages\r\n"
-- What follows a status line in the same segment up to the next status
-- line (a multi-line answer: LIST, RETR, CAPA, ... ended by ".") is its
-- data; a segment that continues one is data alone.
local lpeg = require("lpeg")
local sf = require("stackforge.custom")
local layers = require("stackforge.layers")
local text = require("stackforge.textproto")

local P, S, Cp = lpeg.P, lpeg.S, lpeg.Cp
local EOL, SP = text.EOL, text.SP

local M = {}

M.commands = {"USER", "PASS", "APOP", "STAT", "LIST", "RETR", "DELE", "NOOP", "RSET",
  "QUIT", "TOP", "UIDL", "CAPA", "STLS", "AUTH", "UTF8", "LANG"}

local STATUS = (P"+OK" + P"-ERR") * #(SP + EOL + -P(1)) + P"+" * #(SP + EOL)
-- the lines after a status line: up to a lone "." (and it), or to the
-- next status line
local DOT = P".\r\n" + P".\n"
local MORE = (text.LINE1 - STATUS - DOT)^0 * DOT^-1 * Cp()

local VERB = text.verbs(M.commands)

M.POP3 = text.line_layer{
  name = "POP3", kind = "Pop3", display = "POP3", ws = "pop",
  verb = VERB, status = STATUS, status_field = "status",
  data = function(rest) return lpeg.match(MORE, rest) - 1 end,
  data_cond = function(pkt) return pkt.verb == "" or pkt.verb == nil end,
  ws_fields = {{"pop.request.command", "verb"}, {"pop.response.indicator", "status"}},
}
if text.fresh("POP3") then sf.bind_layers(layers.TCP, M.POP3, {dport = 110}) end

-- Commands whose +OK answer has lines after it (RFC 1939, 2449)
local multi = {LIST = "noargs", UIDL = "noargs", RETR = true, TOP = true, CAPA = true,
  AUTH = "noargs"}

local CLIENT = text.client_grammar()
local VERBS = text.verb_set(M.commands)
local SERVER = text.server_grammar(STATUS)

-- pop3_session(client_stream, server_stream): the commands (SASL lines as
-- {data=, sasl=true}), and each one's answer {status=, text=, lines={...}}
-- (a multi-line answer unstuffed), the greeting first; tls = true once
-- STLS was accepted (client_tls, server_tls: the rest).  One LPeg match a
-- stream.
function M.pop3_session(cs, ss)
  text.check_streams("pop3_session", cs, ss)
  local c, cend = lpeg.match(CLIENT, cs)
  local r, send = lpeg.match(SERVER, ss)
  local out = {commands = {}, replies = {}, tls = false}
  local j = 1
  local function reply(cmd)
    if j > #r then return nil end
    local st, t = r[j], r[j + 2]
    j = j + 3
    local rep = {status = st, text = t}
    local m = cmd and multi[cmd.verb]
    if st == "+OK" and m and not (m == "noargs" and cmd.args ~= "") then
      rep.lines = {}
      while j <= #r do
        local line = r[j] .. r[j + 1] .. r[j + 2]  -- the line as sent
        j = j + 3
        if line == "." then break end
        rep.lines[#rep.lines + 1] = line:sub(1, 2) == ".." and line:sub(2) or line
      end
    end
    out.replies[#out.replies + 1] = rep
    return rep
  end
  reply(nil)  -- the greeting
  for i = 1, #c, 3 do
    local verb, args = c[i], c[i + 1]
    local x
    local v = verb ~= "" and text.known_verb(VERBS, verb)
    if v then x = {verb = v, args = args}
    else  -- a SASL response (RFC 5034)
      x = {verb = "", args = "", data = verb == "" and args or text.line_of(verb, args), sasl = true}
    end
    out.commands[#out.commands + 1] = x
    reply(x)
  end
  return text.tls_tail(out, cs, cend, ss, send)
end

return M
