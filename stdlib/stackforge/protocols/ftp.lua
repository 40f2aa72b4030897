-- ftp.lua: FTP's control channel (RFC 959, 2228, 2389, 2428, 3659) on TCP
-- 21, an LPeg grammar on textproto's line layer:
--   FTP{verb = "USER", args = "anonymous"}      "USER anonymous\r\n"
--   FTP{code = "230", text = "Login successful."}  "230 Login successful.\r\n"
-- A multi-line reply ("230-Welcome\r\n230 Login successful.\r\n") is one
-- layer whose text keeps its inner lines.  PASV, EPSV, PORT and EPRT are
-- read by ftp_data_endpoint(), which relate_flows() uses to tie a data
-- connection to its control connection (docs/flows.md).
local lpeg = require("lpeg")
local sf = require("stackforge.custom")
local layers = require("stackforge.layers")
local text = require("stackforge.textproto")
local flows = require("stackforge.flows")

local P, R, S, C, Ct, Cp = lpeg.P, lpeg.R, lpeg.S, lpeg.C, lpeg.Ct, lpeg.Cp
local EOL, TEXT, SP, DIGIT = text.EOL, text.TEXT, text.SP, text.DIGIT

local M = {}

-- RFC 959's commands and the later ones (IANA's FTP commands registry)
M.commands = {"ABOR", "ACCT", "ADAT", "ALLO", "APPE", "AUTH", "CCC", "CDUP", "CONF",
  "CWD", "DELE", "ENC", "EPRT", "EPSV", "FEAT", "HELP", "HOST", "LANG", "LIST", "MDTM",
  "MIC", "MKD", "MLSD", "MLST", "MODE", "NLST", "NOOP", "OPTS", "PASS", "PASV", "PBSZ",
  "PORT", "PROT", "PWD", "QUIT", "REIN", "REST", "RETR", "RMD", "RNFR", "RNTO", "SITE",
  "SIZE", "SMNT", "STAT", "STOR", "STOU", "STRU", "SYST", "TYPE", "USER", "XCUP",
  "XCWD", "XMKD", "XPWD", "XRMD", "CLNT", "MFMT", "MFCT", "MFF", "AVBL", "CSID", "DSIZ",
  "HASH", "RMDA", "SPSV", "THMB", "LPRT", "LPSV"}

-- A command: a known verb, or any 3-4 letters ended by a space or the line's
-- end (RFC 959 allows extensions; Wireshark takes any).
local VERB = text.verbs(M.commands) + text.ALPHA * text.ALPHA * text.ALPHA * text.ALPHA^-1 * #(SP + EOL)
local CODE = DIGIT * DIGIT * DIGIT * #(S" -" + EOL)

-- A reply from its code on: one line ("230 ..."), or lines up to the one
-- that starts with the same code and a space (RFC 959, 4.2).
local multi = {}  -- code -> the pattern of its multi-line reply
local AFTER_LINE = text.LINE * Cp()  -- built once: LPeg compiles it at its first match
local function reply_len(rest)
  local code = rest:sub(1, 3)
  if rest:sub(4, 4) ~= "-" then return (lpeg.match(AFTER_LINE, rest)) - 1 end
  local m = multi[code]
  if not m then
    local last = P(code) * SP * text.LINE
    m = P(3) * text.LINE1 * (text.LINE1 - last)^0 * last^-1 * Cp()
    multi[code] = m
  end
  return lpeg.match(m, rest) - 1
end
M._reply_len = reply_len  -- smtp.lua's replies are laid out alike

M.FTP = text.line_layer{
  name = "FTP", kind = "Ftp", display = "FTP", ws = "ftp",
  verb = VERB, status = CODE, status_field = "code",
  body = function(rest, pkt) return reply_len(pkt.code .. rest) - 3 end,
  ws_fields = {{"ftp.request.command", "verb"}, {"ftp.response.code", "code"}},
}
if text.fresh("FTP") then sf.bind_layers(layers.TCP, M.FTP, {dport = 21}) end

-- ---- the data connection ------------------------------------------------------------

local NUM = C(DIGIT^1) / tonumber
local COMMA = SP^0 * P"," * SP^0
-- h1,h2,h3,h4,p1,p2 (PORT's argument, anywhere in PASV's 227 text)
local HOSTPORT = NUM * COMMA * NUM * COMMA * NUM * COMMA * NUM * COMMA * NUM * COMMA * NUM
local find_hostport = P{Ct(HOSTPORT) + 1 * lpeg.V(1)}
-- EPRT |1|10.0.0.1|6446| or |2|::1|6446|; EPSV's 229 (|||6446|)
local function eprt_parts(s)
  local d = s:sub(1, 1)
  if d == "" then return nil end
  local af, addr, port = s:match("^%" .. d .. "(%d*)%" .. d .. "([^" .. d .. "]*)%" .. d .. "(%d+)%" .. d)
  return af, addr, tonumber(port)
end

local function from_quad(t)
  if not t or #t ~= 6 then return nil end
  for i = 1, 6 do if t[i] > 255 then return nil end end
  return ("%d.%d.%d.%d"):format(t[1], t[2], t[3], t[4]), t[5] * 256 + t[6]
end

-- The data endpoint a message names: for PORT/EPRT (a command) the
-- client's address and port; for 227 (PASV) and 229 (EPSV) replies the
-- server's (the address nil when EPSV leaves it to the control
-- connection's).  Returns addr, port, how ("PORT", "EPRT", "PASV", "EPSV"),
-- or nil.  m: an FTP layer (p[FTP]) or a table of its fields.
function M.ftp_data_endpoint(m)
  local cmd = (m.verb or ""):upper()
  if cmd == "PORT" then
    local a, port = from_quad(lpeg.match(Ct(HOSTPORT), m.args or ""))
    if a then return a, port, "PORT" end
  elseif cmd == "EPRT" then
    local _, addr, port = eprt_parts((m.args or ""):match("^%s*(.-)%s*$"))
    if port then return addr, port, "EPRT" end
  elseif m.code == "227" then
    local a, port = from_quad(lpeg.match(find_hostport, m.text or ""))
    if a then return a, port, "PASV" end
  elseif m.code == "229" then
    local inner = (m.text or ""):match("%((.-)%)")
    local _, addr, port = eprt_parts(inner or "")
    if port then return (addr ~= "" and addr or nil), port, "EPSV" end
  end
  return nil
end

-- relate_flows: a TCP conversation whose endpoint a control connection
-- named (PORT/EPRT: the client's; PASV/EPSV: the server's) is its data
-- connection.
flows.add_relater("ftp", function(convs, index)
  for _, ctl in ipairs(convs) do
    if ctl.protocol == "TCP" and (ctl.dst_port == 21 or ctl.src_port == 21) then
      local client_fwd = ctl.dst_port == 21
      local cstream = client_fwd and ctl.reassembled_forward or ctl.reassembled_reverse
      local sstream = client_fwd and ctl.reassembled_reverse or ctl.reassembled_forward
      local client = client_fwd and ctl.src_addr or ctl.dst_addr
      local server = client_fwd and ctl.dst_addr or ctl.src_addr
      local function tie(msgs, default_addr)
        for _, m in ipairs(msgs) do
          local addr, port, how = M.ftp_data_endpoint(m)
          if port then
            for _, d in ipairs(index("TCP", addr or default_addr, port)) do
              if d ~= ctl and d.related == nil then
                d.related, d.related_how = ctl, "ftp-data (" .. how .. ")"
              end
            end
          end
        end
      end
      tie(text.layers_of(M.FTP, cstream), client)
      tie(text.layers_of(M.FTP, sstream), server)
    end
  end
end)

M.ftp_reply_lines = function(m)
  local out = {}
  for line in ((m.text or "") .. "\r\n"):gmatch("(.-)\r?\n") do
    out[#out + 1] = (#out > 0 and line:match("^%d%d%d[ %-](.*)$")) or line
  end
  return out
end

return M
