-- pop3.lua: POP3 (RFC 1939, 2449, 2595, 5034) on TCP 110, an LPeg grammar
-- on textproto's line layer:
--   POP3{command = "USER", args = "bob"}            "USER bob\r\n"
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
  data_cond = function(pkt) return pkt.command == "" or pkt.command == nil end,
  ws_fields = {{"pop.request.command", "command"}, {"pop.response.indicator", "status"}},
}
if text.fresh("POP3") then sf.bind_layers(layers.TCP, M.POP3, {dport = 110}) end

-- Commands whose +OK answer has lines after it (RFC 1939, 2449)
local multi = {LIST = "noargs", UIDL = "noargs", RETR = true, TOP = true, CAPA = true,
  AUTH = "noargs"}

-- pop3_session(client_stream, server_stream): the commands, and each one's
-- answer {status=, text=, lines={...}} (a multi-line answer unstuffed);
-- tls = true once STLS was accepted (client_tls, server_tls: the rest).
function M.pop3_session(cs, ss)
  if type(cs) ~= "string" or type(ss) ~= "string" then
    error("pop3_session: the client's and the server's streams (strings) expected", 2)
  end
  local out = {commands = {}, replies = {}, tls = false}
  local line = lpeg.C(text.TEXT) * EOL * Cp()
  local spos = 1
  local function reply(cmd)
    local l, after = lpeg.match(line, ss, spos)
    if not l then return nil end
    spos = after
    local st, t = l:match("^([+-]%S*) ?(.*)$")
    local r = {status = st or "", text = t or l}
    local m = cmd and multi[cmd.command]
    if st == "+OK" and m and not (m == "noargs" and cmd.args ~= "") then
      r.lines = {}
      while true do
        local x, a = lpeg.match(line, ss, spos)
        if not x then break end
        spos = a
        if x == "." then break end
        r.lines[#r.lines + 1] = x:gsub("^%.%.", ".")
      end
    end
    out.replies[#out.replies + 1] = r
    return r
  end
  reply(nil)  -- the greeting
  local cpos = 1
  while true do
    local l, after = lpeg.match(line, cs, cpos)
    if not l then break end
    cpos = after
    local c
    if lpeg.match(VERB, l) then
      local verb, args = l:match("^(%S+) ?(.*)$")
      c = {command = verb:upper(), args = args}
    else  -- a SASL response during AUTH (RFC 5034)
      c = {command = "", args = "", data = l, sasl = true}
    end
    out.commands[#out.commands + 1] = c
    local r = reply(c)
    if c.command == "STLS" and r and r.status == "+OK" then
      out.tls, out.client_tls, out.server_tls = true, cs:sub(cpos), ss:sub(spos)
      break
    end
  end
  return out
end

return M
