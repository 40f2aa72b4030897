-- textproto.lua: what the line-based protocols (FTP, SMTP, POP3, IMAP:
-- stdlib/stackforge/protocols/) share.  Each is an LPeg grammar for its
-- lines and a CustomLayer whose fields the grammar sizes: length_from gets
-- the bytes from the field's start when a header is read (custom.md), and
-- answers with how far the grammar matched.  One layer is one message: a
-- command line, a reply (all its lines), or data that is neither (a mail
-- body, a multi-line listing); several messages in a segment are several
-- layers.  Grammars of whole streams (client_grammar, server_grammar:
-- one match a stream) serve the session readers (smtp_session, ...),
-- which follow the state a packet cannot know (DATA bodies, multi-line
-- answers, STARTTLS).
local lpeg = require("lpeg")
local core = require("stackforge.core")
local layers = require("stackforge.layers")
local sf = require("stackforge.custom")

local P, R, S, C, Cp, Cc, Ct = lpeg.P, lpeg.R, lpeg.S, lpeg.C, lpeg.Cp, lpeg.Cc, lpeg.Ct
local match = lpeg.match

local M = {}

-- ---- grammar pieces ----------------------------------------------------------------

M.EOL = P"\r\n" + P"\n"
-- the rest of a line (a lone CR is text); spans of bytes that are no
-- CR or LF first: LPeg runs a set's repetition as one instruction
local NOT_CRLF = R("\0\9", "\11\12", "\14\255")
M.TEXT = (NOT_CRLF^1 + P"\r" * -P"\n")^0
M.TEXT1 = (1 - M.EOL) * M.TEXT          -- the same, never empty
M.LINE = M.TEXT * (M.EOL + -P(1))       -- a line, or the stream's last bytes
M.LINE1 = M.TEXT * M.EOL + (NOT_CRLF + P"\r" * -P"\n")^1  -- the same, never empty
M.SP = P" "
M.DIGIT = R"09"
M.ALPHA = R("az", "AZ")
M.ATOM = (1 - S" \r\n")^1

-- "USER", "user": a verb from a list, any case, ended by a space or the line's end
function M.verbs(list)
  local p = P(false)
  for _, v in ipairs(list) do
    local q = P(true)
    for ch in v:gmatch(".") do q = q * S(ch:lower() .. ch:upper()) end
    p = p + q
  end
  return p * #(M.SP + M.EOL + -P(1))
end

-- the length a pattern matches at the start of s (0: none)
function M.len(patt)
  local m = patt * Cp() + Cc(1)
  return function(s) return match(m, s) - 1 end
end

-- ---- one definition per state -----------------------------------------------------

-- A Lua state that loads a protocol file again (busted's insulation) finds
-- the layer in the engine: its constructor again, with this state's hooks.
local fresh = {}
function M.define(name, fields, hooks)
  local id = layers.kind_ids[name]
  if id then return layers.register(id, hooks) end
  fresh[name] = true
  return sf.CustomLayer(name, fields, hooks)
end

-- was name defined by this state (its bindings are to be made)?
function M.fresh(name) return fresh[name] == true end

-- The seed's one-layer forms (TFTP{opcode=1, filename=...}): split(t)
-- gives the header's fields, and the message's constructor and fields to
-- stack under it (or nil).
function M.seed_form(ctor, split)
  local construct = core.construct
  layers.own_call(ctor, function(self, t)
    if t == nil then return construct(self) end
    if type(t) ~= "table" then return construct(self, t) end
    local ok, p = pcall(function()
      local own, upper, rest = split(t)
      local q = construct(self, own)
      if upper then q = q / upper(rest) end
      return q
    end)
    if not ok then error((tostring(p):gsub("^[^\n]-:%d+: ", "")), 2) end  -- the caller's line
    return p
  end)
  return ctor
end

-- ---- codecs: what a field's bytes hold besides its value ---------------------------

-- args: " anonymous\r\n" is "anonymous"; "\r\n" is ""
core.codecs["text.args"] = {
  strings = true,
  decode = function(d) return (d:gsub("^ ", "", 1):gsub("\r?\n$", "", 1)) end,
  encode = function(v)
    v = tostring(v)
    return (v == "" and "" or " ") .. v .. "\r\n"
  end,
}
-- a reply's text: " Login successful.\r\n" is "Login successful."; a
-- multi-line reply "-Welcome\r\n230 Login successful.\r\n" keeps its inner
-- lines: "Welcome\r\n230 Login successful."
core.codecs["text.reply"] = {
  strings = true,
  decode = function(d) return (d:gsub("^[ %-]", "", 1):gsub("\r?\n$", "", 1)) end,
  encode = function(v)
    v = tostring(v)
    local sep = v:find("\n", 1, true) and "-" or (v == "" and "" or " ")
    return sep .. v .. "\r\n"
  end,
}
-- a tag: "a001 " is "a001"
core.codecs["text.tag"] = {
  strings = true,
  decode = function(d) return (d:gsub(" $", "", 1)) end,
  encode = function(v) v = tostring(v); return v == "" and "" or v .. " " end,
}

-- ---- the layer of a line protocol ---------------------------------------------------

local line_len = M.len(M.LINE)
-- a TLS record's header: content type 20-23, version 3.x
local TLS_RECORD = R("\20\23") * P"\3" * R("\0\4")

-- spec: name, kind (LayerKind), display, ws (display filter name), tag
-- (IMAP's: a tag starts every line), verb (pattern: a command's verb),
-- status (pattern: a reply's code or status), status_field ("code" or
-- "status"), body(rest) (a reply's length from its status on: its lines),
-- data(rest, pkt) (bytes that are neither: their length), ws_fields.
function M.line_layer(spec)
  local verb_len, status_len = M.len(spec.verb), M.len(spec.status)
  local sname = spec.status_field or "code"
  local body = spec.body or function(rest) return line_len(rest) end
  local fields = {}
  local function add(f) fields[#fields + 1] = f end
  local function coded(f, codec) f.codec = codec; return f end
  if spec.tag then
    local tag_len = M.len(spec.tag)
    add(coded(sf.StrLenField("tag", "", {length_from = function(_, rest)
      return rest and tag_len(rest) or 0 end}), "text.tag"))
  end
  -- The reply's status comes first, so that a layer built from values
  -- knows which kind it is: FTP{code="230", text=...} is a reply, FTP()
  -- and FTP{verb="USER", args=...} commands ("NOOP\r\n" by default).
  -- While a header is rebuilt from values (rest is nil) the lengths are
  -- the values' own: the engine asks only when it reads bytes.
  local st_len = spec.status_len or function(rest) return status_len(rest) end
  add(sf.StrLenField(sname, "", {length_from = function(pkt, rest)
    return rest and st_len(rest, pkt.tag) or 0 end}))
  add(sf.ConditionalField(sf.StrLenField("verb", spec.default_verb or "NOOP", {length_from = function(_, rest)
    return rest and verb_len(rest) or 0 end}),
    function(pkt) return pkt[sname] == "" end))
  local args_len = spec.args_len or function(rest) return line_len(rest) end
  add(sf.ConditionalField(coded(sf.StrLenField("args", "\r\n", {length_from = function(_, rest)
    return rest and args_len(rest) or 0 end}), "text.args"),
    function(pkt) return pkt[sname] == "" and pkt.verb ~= "" end))
  add(sf.ConditionalField(coded(sf.StrLenField("text", "\r\n", {length_from = function(pkt, rest)
    return rest and body(rest, pkt) or 0 end}), "text.reply"),
    function(pkt) return pkt[sname] ~= "" end))
  local data = spec.data or function(rest, pkt) return pkt[sname] == "" and #rest or 0 end
  add(sf.ConditionalField(sf.StrLenField("data", "", {length_from = function(pkt, rest)
    if not rest then return 0 end
    -- TLS after STARTTLS (STLS, AUTH TLS): not this protocol's.  A length
    -- past the bytes refuses them when parsing (the dissector gives them
    -- to TLS's heuristic) and takes them when building (custom.md)
    if pkt[sname] == "" and pkt.verb == "" and lpeg.match(TLS_RECORD, rest) then return #rest + 1 end
    return data(rest, pkt) end}),
    spec.data_cond or function(pkt) return pkt[sname] == "" and pkt.verb == "" end))
  local ctor = M.define(spec.name, fields, {
    display = spec.display, ws = spec.ws, ws_fields = spec.ws_fields,
    summary = function(v) return M.summary(spec.display, v, sname, spec.tag) end,
  })
  -- the next message: a binding with no field (a heuristic that always
  -- holds) costs the dissector one call, a guess_payload a layout and one
  if M.fresh(spec.name) then sf.bind_layers(ctor, ctor) end
  if spec.kind then layers.add_kind(spec.kind, ctor.kind) end
  return ctor
end

-- "FTP USER anonymous", "FTP 230 Login successful.", "SMTP data (312 bytes)"
function M.summary(name, v, sname, tagged)
  local tag = tagged and v.tag ~= "" and (v.tag .. " ") or ""
  local function first(s) return (s:match("^[^\r\n]*")) end
  if v[sname] == "" and v.verb ~= "" then
    local a = v.args
    if v.verb:upper() == "PASS" then a = "****" end
    return ("%s %s%s%s"):format(name, tag, v.verb, a ~= "" and " " .. first(a) or "")
  end
  local st = v[sname]
  if st and st ~= "" then
    return ("%s %s%s%s"):format(name, tag, st, v.text ~= "" and " " .. first(v.text) or "")
  end
  return ("%s %sdata (%d bytes)"):format(name, tag, #(v.data or ""))
end

-- ---- streams ------------------------------------------------------------------------

-- Whole streams are read by one match each (a match costs far more than
-- a line), into flat lists of captures the session readers walk.  A
-- stream stops where TLS starts (STARTTLS, STLS: a TLS record where a
-- line would start); the position comes last.
local TLS_AT = #(R("\20\23") * P"\3" * R("\0\4"))
local LINE_END = M.EOL + -P(1)

-- client lines: a word, the line's rest (or "" and the line when no word
-- and a space or the line's end start it), and false or the body of a
-- command body_after matches (SMTP's DATA, with its ".\r\n").  Which
-- words are verbs the reader decides (known_verb): one test of a word
-- is cheaper than a grammar of every verb.
function M.client_grammar(body_after)
  local word = C(M.ALPHA^1) * (M.SP * C(M.TEXT) + Cc("")) * LINE_END * Cc(false)
  local item = word
  if body_after then
    local END = P"\r\n.\r\n"
    local BODY = P".\r\n" + (1 - END)^0 * (END + -P(1))
    item = C(body_after) * (M.SP * C(M.TEXT) + Cc("")) * M.EOL * C(BODY) + word
  end
  local other = Cc("") * C(M.TEXT) * M.EOL * Cc(false) + Cc("") * C(M.TEXT1) * -P(1) * Cc(false)
  return Ct(((item + other) - TLS_AT)^0) * Cp()
end

-- A set of verbs, known_verb(set, word) -> the verb in capitals, or nil
function M.verb_set(list)
  local t = {}
  for _, v in ipairs(list) do t[v] = v; t[v:lower()] = v end
  return t
end
function M.known_verb(set, w)
  return set[w] or set[w:upper()]
end

-- a line's text again from a word and its rest
function M.line_of(w, rest) return rest ~= "" and (w .. " " .. rest) or w end

-- server lines: status (code, "+OK", ...) or "", the text after it (the
-- line when there is none), and the separator ("-" in a multi-line reply)
function M.server_grammar(status)
  local line = C(status) * (C(S" -") * C(M.TEXT) + Cc("") * Cc("")) * LINE_END
  local other = Cc("") * Cc("") * C(M.TEXT) * M.EOL + Cc("") * Cc("") * C(M.TEXT1) * -P(1)
  return Ct(((line + other) - TLS_AT)^0) * Cp()
end

-- What every session reader checks first: two streams
function M.check_streams(fname, cs, ss)
  if type(cs) ~= "string" or type(ss) ~= "string" then
    error(("%s: the client's and the server's streams (strings) expected, got %s and %s")
      :format(fname, type(cs), type(ss)), 3)
  end
end

-- A session whose streams a grammar stopped before their ends went on in
-- TLS: out.tls, and the TLS bytes each way (client_tls, server_tls)
function M.tls_tail(out, cs, cend, ss, send)
  if cend <= #cs or send <= #ss then
    out.tls, out.client_tls, out.server_tls = true, cs:sub(cend), ss:sub(send)
  end
  return out
end

-- The layers of a protocol in a string of messages (one direction of a
-- reassembled stream, or a segment), each as a table of its field values:
-- {verb=, args=} or {code=, text=} or {data=}.
function M.layers_of(ctor, s)
  local out = {}
  if s == nil or s == "" then return out end
  local p = core.packet(s, {proto = ctor.kind})
  for i = 1, p.layer_count do
    local id = p:_layer_info(i)
    if id == ctor.kind then
      local v, t = p:layer(i), {}
      for _, f in ipairs(ctor.fields_desc) do
        local ok, x = pcall(function() return v[f.name] end)
        if ok and x ~= nil then t[f.name] = x end
      end
      out[#out + 1] = t
    end
  end
  return out
end

return M
