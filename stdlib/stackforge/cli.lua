-- stackforge.cli: `sflua -r capture -Y filter [-w out] [-T fields -e f ...]`,
-- a drop-in for the common `tshark -r -Y -T fields` pipelines
-- (docs/filters.md).  sflua runs main(args) when its first option is -r.
local sf = require("stackforge")
local dfilter = require("stackforge.dfilter")

local M = {}

local USAGE = [[
usage: sflua -r FILE [-Y FILTER] [-c COUNT] [-w OUT] [-T fields|text] [-e FIELD]...
             [-E header=y|n] [-E separator=/t|/s|CHAR] [-E occurrence=a|f|l]
  -r FILE     capture to read (pcap or pcapng, "-" for stdin)
  -Y FILTER   display filter (Wireshark's language; docs/filters.md)
  -c COUNT    stop after COUNT packets read, as tshark (passing or not)
  -w OUT      write the packets that pass to OUT (.pcapng: pcapng) instead of printing
  -T fields   print the fields named by -e, tab-separated (tshark -T fields)
  -T text     print one summary line per packet (the default)
  -e FIELD    a field for -T fields (any filter field name)
  -E ...      header=y: a first line of field names; separator=/t (tab), /s
              (space) or a character; occurrence=a (all, the default), f, l]]

local function die(msg)
  io.stderr:write("sflua: ", msg, "\n")
  os.exit(2)
end

local function parse_args(args)
  local o = {fields = {}, sep = "\t", header = false, occurrence = "a", format = nil}
  local i = 1
  local function value(flag)
    i = i + 1
    if args[i] == nil then die(("option %s needs a value\n%s"):format(flag, USAGE)) end
    return args[i]
  end
  while i <= #args do
    local a = args[i]
    if a == "-r" then o.read = value(a)
    elseif a == "-Y" then o.filter = value(a)
    elseif a == "-w" then o.write = value(a)
    elseif a == "-c" then
      o.count = math.tointeger(tonumber(value(a)))
      if not o.count or o.count < 1 then die("-c needs a positive count") end
    elseif a == "-T" then
      o.format = value(a)
      if o.format ~= "fields" and o.format ~= "text" then
        die(("-T %s: sflua prints fields or text"):format(o.format))
      end
    elseif a == "-e" then o.fields[#o.fields + 1] = value(a)
    elseif a == "-E" then
      local k, v = value(a):match("^(%w+)=(.*)$")
      if k == "header" and (v == "y" or v == "n") then o.header = v == "y"
      elseif k == "separator" then o.sep = v == "/t" and "\t" or v == "/s" and " " or v
      elseif k == "occurrence" and (v == "a" or v == "f" or v == "l") then o.occurrence = v
      else die(("-E %s: expected header=y|n, separator=/t|/s|CHAR or occurrence=a|f|l"):format(args[i]))
      end
    elseif a == "-h" or a == "--help" then
      io.write(USAGE, "\n")
      os.exit(0)
    else
      die(("unknown option %s\n%s"):format(a, USAGE))
    end
    i = i + 1
  end
  if not o.read then die("-r FILE is needed\n" .. USAGE) end
  if #o.fields > 0 and o.format == nil then o.format = "fields" end
  if o.format == "fields" and #o.fields == 0 then die("-T fields needs at least one -e FIELD") end
  return o
end

-- tshark's occurrence=f/l and separator: the engine prints all with ','
local function reshape(line, o)
  if o.sep == "\t" and o.occurrence == "a" then return line end
  local cols = {}
  for col in (line .. "\t"):gmatch("(.-)\t") do
    if o.occurrence ~= "a" and col ~= "" then
      local first, last = col:match("^([^,]*)"), col:match("([^,]*)$")
      col = o.occurrence == "f" and first or last
    end
    cols[#cols + 1] = col
  end
  return table.concat(cols, o.sep)
end

-- a text line: number, time since the first packet, summary, as tshark's columns
local function text_line(p, t0)
  local src, dst = p.src, p.dst
  local route = ""
  if src ~= nil and dst ~= nil then route = tostring(src) .. " → " .. tostring(dst) .. " " end
  return ("%5d %11.6f %s%s %d"):format(p.frame_number or 0, p.time - t0, route, p:summary(), p.wirelen)
end

-- the function that makes a packet's line: -T fields or a summary
local function line_maker(o)
  if o.format == "fields" then
    local ok, fp = pcall(dfilter.fields, o.fields)
    if not ok then die(tostring(fp)) end
    if o.header then io.write(table.concat(o.fields, o.sep), "\n") end
    if o.sep == "\t" and o.occurrence == "a" then
      return function(p) return fp:format(p) end
    end
    return function(p) return reshape(fp:format(p), o) end
  end
  local t0
  return function(p)
    t0 = t0 or p.time
    return text_line(p, t0)
  end
end

-- one line per packet that passes, written 512 at a time
local function print_lines(reader, o, line)
  local out, buffered = {}, 0
  for p in reader do
    if o.count and p.frame_number > o.count then break end
    buffered = buffered + 1
    out[buffered] = line(p)
    if buffered == 512 then
      out[buffered + 1] = ""
      io.write(table.concat(out, "\n"))
      out, buffered = {}, 0
    end
  end
  if buffered > 0 then io.write(table.concat(out, "\n"), "\n") end
end

local function run(o)
  local ropts = {}
  if o.filter then
    local f, err = dfilter.compile(o.filter)
    if not f then die(err) end
    if not f.prog then die("-Y: a flow filter (flow.*) cannot select packets") end
    ropts.filter = f
  end
  local ok, reader = pcall(sf.PcapReader, o.read, ropts)
  if not ok then die(tostring(reader)) end
  if o.write then
    local okw, w = pcall(sf.PcapWriter, o.write)
    if not okw then die(tostring(w)) end
    for p in reader do
      if o.count and p.frame_number > o.count then break end
      w:write(p)
    end
    w:close()
    return
  end
  print_lines(reader, o, line_maker(o))
end

--- main(args): args are sflua's command line after the program name
function M.main(args)
  local ok, err = pcall(run, parse_args(args))
  if not ok then
    io.stderr:write("sflua: ", tostring(err), "\n")
    return false
  end
  io.stdout:flush()
  return true
end

return M
