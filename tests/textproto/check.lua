-- check.lua PCAP TSV [PORT]: sflua's reading of every FTP, SMTP, POP3, IMAP and
-- TFTP message in PCAP against tshark's (TSV: `tshark -T fields -E
-- header=y` with the fields of run.sh, occurrences joined by ";").  TFTP
-- transfers on ports of their own are read through relate_flows(), as a
-- user reads them; everything else per packet.  Prints the differences
-- and exits 1 when there are any.  PORT: the client port of the TFTP
-- request built in Lua, whose transfer must be there.  Required as a
-- module (textproto_spec), it is compare(pcap, tsv, port).
local sf = require("stackforge")
local extract_flows, relate_flows, PcapReader = sf.extract_flows, sf.relate_flows, sf.PcapReader
local tftp_messages, LayerKind = sf.tftp_messages, sf.LayerKind
local TFTP, TFTP_RRQ, TFTP_WRQ, TFTP_DATA, TFTP_ACK, TFTP_ERROR, TFTP_Options =
  sf.TFTP, sf.TFTP_RRQ, sf.TFTP_WRQ, sf.TFTP_DATA, sf.TFTP_ACK, sf.TFTP_ERROR, sf.TFTP_Options

local function compare(pcap, tsv, lua_port_arg)
local report = {}
local function print(s) report[#report + 1] = s end

-- tshark's columns, by frame number
local cols, want = nil, {}
for line in io.lines(tsv) do
  local t = {}
  for v in (line .. "\t"):gmatch("(.-)\t") do t[#t + 1] = v end
  if not cols then cols = t
  else
    local row = {}
    for i = 2, #cols do row[cols[i]] = t[i] or "" end
    want[tonumber(t[1])] = row
  end
end

local function add(row, name, v)
  row[name] = row[name] and (row[name] .. ";" .. v) or tostring(v)
end

-- Reply lines as tshark shows them: one code and text per line
local function reply_lines(code, textv)
  local out = {}
  for l in (textv .. "\r\n"):gmatch("(.-)\r?\n") do
    local c, rest = l:match("^(%d%d%d)[ %-](.*)$")
    if #out == 0 then c, rest = code, l end
    if c then out[#out + 1] = {c, rest} end
  end
  return out
end

local function text_layer(row, v, proto)
  if proto == "FTP" or proto == "SMTP" then
    local req = proto == "FTP" and "ftp.request" or "smtp.req"
    if v.code == "" and v.verb ~= "" then
      add(row, req .. ".command", proto == "SMTP" and v.verb:upper() or v.verb)
      add(row, proto == "FTP" and "ftp.request.arg" or "smtp.req.parameter", v.args)
    elseif v.code ~= "" then
      for _, l in ipairs(reply_lines(v.code, v.text)) do
        add(row, proto == "FTP" and "ftp.response.code" or "smtp.response.code", tonumber(l[1]))
        add(row, proto == "FTP" and "ftp.response.arg" or "smtp.rsp.parameter", l[2])
      end
    end
  elseif proto == "POP3" then
    if v.status == "" and v.verb ~= "" then
      add(row, "pop.request.command", v.verb)
      add(row, "pop.request.parameter", v.args)
    elseif v.status ~= "" and v.status ~= "+" then  -- tshark leaves SASL's "+" unnamed
      add(row, "pop.response.indicator", v.status)
      add(row, "pop.response.description", v.text)
    end
  elseif proto == "IMAP" then
    if v.status == "" and v.verb ~= "" then
      add(row, "imap.request_tag", v.tag)
      -- tshark names UID's command (imap.request.command.uid)
      add(row, "imap.request.command", v.verb:upper() == "UID" and v.args:match("^(%S+)") or v.verb)
    elseif v.tag ~= "*" and v.tag ~= "+" and v.status ~= "" then
      add(row, "imap.response_tag", v.tag)
      add(row, "imap.response.status", v.status)
    end
  end
end

local tftp_cols = {
  [TFTP.kind] = {{"tftp.opcode", "op"}},
  [TFTP_RRQ.kind] = {{"tftp.source_file", "filename"}, {"tftp.type", "mode"}},
  [TFTP_WRQ.kind] = {{"tftp.destination_file", "filename"}, {"tftp.type", "mode"}},
  [TFTP_DATA.kind] = {{"tftp.block", "block"}}, [TFTP_ACK.kind] = {{"tftp.block", "block"}},
  [TFTP_ERROR.kind] = {{"tftp.error.code", "errorcode"}, {"tftp.error.message", "errormsg"}},
}
local function tftp_layers(row, p)
  for i = 1, p.layer_count do
    local l = p:layer(i)
    for _, c in ipairs(tftp_cols[l.kind] or {}) do add(row, c[1], l[c[2]]) end
    if l.kind == TFTP_Options.kind then
      for _, o in ipairs(l.options) do
        add(row, "tftp.option.name", o.oname)
        add(row, "tftp.option.value", o.value)
      end
    end
  end
end

-- the packets of TFTP transfers, by index: their conversations are related
local convs = extract_flows(pcap)
relate_flows(convs)
local transfer = {}
local related = 0
for _, c in ipairs(convs) do
  if c.related_how == "tftp" then
    related = related + 1
    for _, i in ipairs(c.packet_indices) do transfer[i + 1] = true end  -- 0-based
  end
end

local got, n = {}, 0
-- frames holding only the last line of an SMTP reply whose other lines
-- came in segments before it, by port: open[port] is true after a "250-"
local open, last_line = {}, {}
for p in PcapReader(pcap) do
  n = n + 1
  local row = {}
  local tftp_seen = false
  for i = 1, p.layer_count do
    local l = p:layer(i)
    local name = l.name
    if name == "FTP" or name == "SMTP" or name == "POP3" or name == "IMAP" then text_layer(row, l, name) end
    if l.kind == TFTP.kind then tftp_seen = true end
  end
  local smtp = p[sf.SMTP]
  if smtp and p.layer_count == 4 and smtp.code ~= "" then
    local port = p[sf.TCP].sport .. ">" .. p[sf.TCP].dport
    last_line[n] = open[port] and not smtp.text:find("\n") or nil
    open[port] = p:bytes():sub(-#smtp.text - 3):find("^%-") ~= nil or smtp.text:find("\r\n%d%d%d%-[^\n]*$") ~= nil
  end
  if tftp_seen then tftp_layers(row, p)
  elseif transfer[n] then
    for _, m in ipairs(tftp_messages({p})) do tftp_layers(row, m) end
  end
  -- an ICMP error quoting a TFTP datagram: tshark reads the quoted bytes
  -- as TFTP by the conversation; sflua shows them as the quoted UDP
  if p:has_layer(LayerKind.Icmp) then row = nil end
  got[n] = row
end

-- tshark's quirks, each named: a line its dissector calls a tag (")", the
-- end of a FETCH literal, in the segment after the literal); the SASL
-- lines a client sends during AUTH, which tshark's POP3 takes for commands
-- (sflua: data, no verb); STARTTLS cut short; the file name tshark repeats on a transfer's packets
local function tshark_view(f, name, v)
  if name == "imap.response_tag" then  -- ")" has no status in tshark's list
    return (";" .. v .. ";"):gsub(";%);", ";"):gsub("^;", ""):gsub(";$", "")
  end
  -- tshark cuts STARTTLS after four letters (smtp.req.command "STAR",
  -- smtp.req.parameter "TLS"), as it reads every SMTP verb
  if name == "smtp.req.command" or name == "smtp.req.parameter" then
    local cmds, pars, out = {}, {}, {}
    for x in (f["smtp.req.command"] .. ";"):gmatch("(.-);") do cmds[#cmds + 1] = x end
    for x in (f["smtp.req.parameter"] .. ";"):gmatch("(.-);") do pars[#pars + 1] = x end
    for i, c in ipairs(cmds) do
      if c == "STAR" and pars[i] == "TLS" then cmds[i], pars[i] = "STARTTLS", "" end
      out[i] = name == "smtp.req.command" and cmds[i] or (pars[i] or "")
    end
    return table.concat(out, ";")
  end
  -- tshark repeats a request's file name on every packet of its transfer
  if (name == "tftp.source_file" or name == "tftp.destination_file") and
     f["tftp.opcode"] ~= "1" and f["tftp.opcode"] ~= "2" then return "" end
  if name == "pop.request.command" and v ~= "" and not v:match("^%a+$") then return "" end
  if name == "pop.request.parameter" and f["pop.request.command"] ~= "" and
     not f["pop.request.command"]:match("^%a+$") then return "" end
  return v
end

-- tshark at times reads nothing in a segment holding only the last line
-- of a multi-line SMTP reply (the EHLO reply's "250 HELP", aiosmtpd
-- writing a line a segment; 3 runs in about 10): such a frame is left out
local function tshark_skipped(frame, f)
  return last_line[frame] and (f["smtp.response.code"] or "") == "" and (f["smtp.req.command"] or "") == ""
end

local bad, compared, skipped = 0, 0, 0
for frame, f in pairs(want) do
  local g = got[frame]
  if got[frame] == nil and frame <= n then goto next end  -- ICMP, above
  if tshark_skipped(frame, f) then skipped = skipped + 1; goto next end
  g = g or {}
  for name, v in pairs(f) do
    local t = tshark_view(f, name, v)
    local mine = g[name] or ""
    if t ~= "" or mine ~= "" then
      compared = compared + 1
      if t ~= mine then
        bad = bad + 1
        if bad <= 40 then
          print(("frame %d %s: tshark %q, sflua %q"):format(frame, name, t, mine))
        end
      end
    end
  end
  ::next::
end
-- and nothing sflua reads that tshark does not
for frame, g in pairs(got) do
  if not want[frame] and last_line[frame] then  -- tshark's quirk above, no row at all
    skipped = skipped + 1
  elseif not want[frame] then
    for name, v in pairs(g) do
      bad = bad + 1
      if bad <= 40 then print(("frame %d %s: tshark nothing, sflua %q"):format(frame, name, v)) end
    end
  end
end
-- the transfer a request built in Lua started (scenario.sh's tftp_rrq.lua:
-- client port arg[3]): the server's DATA came back
local lua_port = tonumber(lua_port_arg or "")
if lua_port then
  local ok = false
  for _, c in ipairs(convs) do
    if c.related_how == "tftp" and c.related.src_port == lua_port then ok = true end
  end
  if not ok then bad = bad + 1; print("no transfer answered the RRQ built in Lua (port " .. lua_port .. ")") end
end
print(("%d packets, %d values compared, %d TFTP transfers related, %d differences%s"):format(n, compared, related,
  bad, skipped > 0 and (", %d last reply line(s) tshark did not read"):format(skipped) or ""))
return report, bad, compared, related
end

if arg and arg[0] and arg[0]:match("check%.lua$") and arg[1] then
  local report, bad, compared, related = compare(arg[1], arg[2], arg[3])
  io.write(table.concat(report, "\n"), "\n")
  os.exit(bad == 0 and compared > 0 and related > 0 and 0 or 1)
end
return compare
