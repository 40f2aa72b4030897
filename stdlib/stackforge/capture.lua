-- stackforge.capture: rdpcap, wrpcap, wrpcapng, PcapReader, PcapWriter.
-- Reading and writing are C (lua/lpcap.c over core/io); this file checks
-- arguments and options (stackforge.options) and raises file errors at the
-- caller's line.  docs/pcap.md describes the functions.
local core = require("stackforge.core")
local options = require("stackforge.options")
local plist = require("stackforge.packetlist")

local M = {}

--- The options of every function that reads a capture; anonymize_pcap
--- and extract_flows take them too.
M.READER_OPTIONS = {strict = "boolean", filter = "any"}

local READER = {strict = "boolean", filter = "any", threads = "count"}
local RDPCAP = {count = "count", partial = "boolean", strict = "boolean", filter = "any",
                threads = "count"}
local WRITER = {format = {"pcap", "pcapng"}, linktype = "int31", nanosecond = "boolean",
                snaplen = "int31", append = "boolean"}

-- Raised at the caller of the public function (level 3 from here).
local function path_arg(fname, path)
  if type(path) ~= "string" then
    error(("bad argument #1 to '%s' (file name expected, got %s)")
      :format(fname, path == nil and "no value" or type(path)), 3)
  end
end

local function packets_arg(fname, pkts, n)
  if pkts == nil then
    error(("bad argument #%d to '%s' (packets expected, got no value)"):format(n, fname), 3)
  end
end

-- The options for the C reader: filter= (a display filter's text or a
-- DisplayFilter, docs/filters.md) compiled; a bad one is raised at the
-- caller of the public function.
-- threads=N (0: one per CPU) with a filter: one program per thread, the
-- filter run on N threads (docs/scale.md); without a filter there is
-- nothing for threads to do.
local function compiled(fname, opts)
  if type(opts) ~= "table" or opts.filter == nil then return opts end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  local dfilter = require("stackforge.dfilter")
  local n = opts.threads or 1
  if n == 0 then n = core.cpus() end
  if n > 256 then error(("%s: threads must be at most 256 (0: one per CPU), got %d"):format(fname, n), 3) end
  o.threads = n
  if n > 1 then
    o.filters = dfilter.programs_of(opts.filter, n, 3, fname)
    o.filter = o.filters[1]
  else
    o.filter = dfilter.program_of(opts.filter, 3, fname)
  end
  return o
end

--- PcapReader(path [, {strict=, filter=}]) -> reader
function M.PcapReader(path, opts)
  path_arg("PcapReader", path)
  options.check("PcapReader", opts, READER, 2)
  local r, err = core.PcapReader(path, compiled("PcapReader", opts))
  if not r then error(err, 2) end
  return r
end

--- rdpcap(path [, {count=, partial=, strict=, filter=}]) -> PacketList [, message]
--- A mapped file's list holds its records, not packets (stackforge.packetlist).
function M.rdpcap(path, opts)
  path_arg("rdpcap", path)
  options.check("rdpcap", opts, RDPCAP, 2)
  local o = compiled("rdpcap", opts)
  local name = path:match("[^/]*$")
  local store, err = core.PacketStore(path, o)
  local pkts
  if store then
    pkts = plist.new({}, name, store, #store)
  elseif store == false then  -- a pipe or gzip: the packets themselves
    local t
    t, err = core.rdpcap(path, o)
    pkts = t and plist.new(t, name)
  end
  if err and not (pkts and opts and opts.partial) then error(err, 2) end
  return pkts, err
end

--- PcapWriter(path [, {format=, linktype=, nanosecond=, snaplen=, append=}])
function M.PcapWriter(path, opts)
  path_arg("PcapWriter", path)
  options.check("PcapWriter", opts, WRITER, 2)
  local w, err = core.PcapWriter(path, opts)
  if not w then error(err, 2) end
  return w
end

-- A whole-file writer: the core function under its public name.
local function file_writer(fname, write)
  return function(path, pkts, opts)
    path_arg(fname, path)
    packets_arg(fname, pkts, 2)
    options.check(fname, opts, WRITER, 2)
    local _, err = write(path, plist.plain(pkts), opts)
    if err then error(err, 2) end
  end
end

--- wrpcap(path, pkts [, opts]): pkts a Packet, a list, a PcapReader or an
--- iterator; ".pcapng" names write pcapng.
M.wrpcap = file_writer("wrpcap", core.wrpcap)

--- wrpcapng(path, pkts [, opts]): wrpcap, always pcapng.
M.wrpcapng = file_writer("wrpcapng", core.wrpcapng)

return M
