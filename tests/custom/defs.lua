-- defs.lua: the custom layers of the Scapy cross-check, sflua's side.
-- scapy_custom_oracle.py declares the same layers as Scapy Packet classes
-- (same names, fields, defaults and options); keep the two in step.
--
--   local defs = dofile("tests/custom/defs.lua")(sf)
--   defs.ctor.CTInts, defs.order (layer names), defs.rand.CTInts(R) -> values
--   defs.ports.CTInts -> the UDP dport it is bound to (defs.bind() binds,
--   defs.unbind() splits)
--
-- Layer names start with "CT" so they do not meet other specs' layers.
return function(sf)
  local D = {ctor = {}, rand = {}, ports = {}, order = {}, broken = {}}

  local function def(name, fields, hooks, port)
    local ok, ctor = pcall(sf.CustomLayer, name, fields, hooks)
    if not ok then D.broken[name] = ctor; return end
    D.ctor[name] = ctor
    D.order[#D.order + 1] = name
    D.ports[name] = port
  end

  -- every fixed-size integer, with non-zero defaults for some
  def("CTInts", {
    sf.ByteField("a", 1), sf.XByteField("b", 0xab), sf.SignedByteField("c", -5),
    sf.ShortField("d", 0x1234), sf.XShortField("e", 0), sf.LEShortField("f", 0x0102),
    sf.IntField("g", 7), sf.XIntField("h", 0xdeadbeef), sf.LEIntField("i", 0x01020304),
    sf.SignedIntField("j", -2), sf.LongField("k", 0x0102030405060708),
    sf.XLongField("l", 0),
  }, nil, 7001)

  -- bit fields and flags summing to whole bytes (4+4+8+8+12+4+9+7 = 56 bits)
  def("CTBits", {
    sf.BitField("ver", 4, 4), sf.BitField("ihl", 5, 4),
    sf.FlagsField("fl", 0, 8, "ABCDEFGH"),
    sf.FlagsField("opts", 0, 8, {"SYN", "ACK", "FIN", "RST", "PSH", "URG", "ECE", "CWR"}),
    sf.BitField("x", 0xabc, 12), sf.BitField("y", 3, 4),
    sf.FlagsField("nine", 0, 9, {"f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8"}),
    sf.BitField("tail", 0, 7),
  }, nil, 7002)

  -- enums, set by name or number
  def("CTEnum", {
    sf.ByteEnumField("op", 1, {[1] = "get", [2] = "set", [3] = "del"}),
    sf.ShortEnumField("status", 0, {[0] = "ok", [256] = "err", [0xffff] = "fatal"}),
    sf.IntEnumField("code", 7, {[7] = "seven", [0x10000] = "big"}),
  }, nil, 7003)

  -- strings: fixed (padded), NUL-terminated, the rest
  def("CTStr", {
    sf.StrFixedLenField("tag", "ab", 8), sf.StrNullField("label", "x"),
    sf.ByteField("mid", 0), sf.StrField("rest", ""),
  }, nil, 7004)

  -- FieldLenField: length_of, count_of (fmt B), little-endian with adjust
  def("CTLen", {
    sf.FieldLenField("len", nil, {length_of = "data"}),
    sf.FieldLenField("cnt", nil, {count_of = "items", fmt = "B"}),
    sf.FieldLenField("alen", nil, {length_of = "data2", fmt = "<H",
      adjust = function(pkt, x) return x + 2 end}),
    sf.StrLenField("data", "", {length_from = function(pkt) return pkt.len end}),
    sf.FieldListField("items", {}, sf.ShortField("item", 0),
      {count_from = function(pkt) return pkt.cnt end}),
    sf.StrLenField("data2", "", {length_from = function(pkt) return pkt.alen - 2 end}),
  }, nil, 7005)

  -- FieldListField by length (IPv4) and by count (IPv6), I-sized lengths
  def("CTAddrList", {
    sf.FieldLenField("ln", nil, {length_of = "addrs", fmt = "B"}),
    sf.FieldListField("addrs", {}, sf.IPField("a", "0.0.0.0"),
      {length_from = function(pkt) return pkt.ln end}),
    sf.FieldLenField("n6", nil, {count_of = "addrs6", fmt = "I"}),
    sf.FieldListField("addrs6", {}, sf.IP6Field("a6", "::"),
      {count_from = function(pkt) return pkt.n6 end}),
    sf.FieldLenField("nle", nil, {count_of = "les", fmt = "<H"}),
    sf.FieldListField("les", {}, sf.LEIntField("v", 0),
      {count_from = function(pkt) return pkt.nle end}),
  }, nil, 7006)

  -- a TLV element, and a layer with lists of them (by count and by length)
  def("CTTlv", {
    sf.ByteField("t", 1),
    sf.FieldLenField("l", nil, {length_of = "v", fmt = "B"}),
    sf.StrLenField("v", "", {length_from = function(pkt) return pkt.l end}),
  })
  def("CTPkts", {
    sf.ByteField("kind", 0),
    sf.FieldLenField("blen", nil, {length_of = "more"}),
    sf.PacketListField("more", {}, D.ctor.CTTlv, {length_from = function(pkt) return pkt.blen end}),
    sf.ShortField("trailer", 0xffff),
  }, nil, 7007)
  -- D.broken names the layers whose definition fails; their cases are not
  -- generated until it is fixed.
  def("CTPktsCnt", {
    sf.FieldLenField("cnt", nil, {count_of = "elems", fmt = "B"}),
    sf.PacketListField("elems", {}, D.ctor.CTTlv, {count_from = function(pkt) return pkt.cnt end}),
    sf.ShortField("trailer", 0xffff),
  }, nil, 7012)

  -- ConditionalField on flag bits
  def("CTCond", {
    sf.ByteField("present", 0),
    sf.ConditionalField(sf.IntField("x", 0x11111111), function(pkt) return pkt.present & 1 ~= 0 end),
    sf.ConditionalField(sf.StrFixedLenField("y", "zz", 2), function(pkt) return pkt.present & 2 ~= 0 end),
    sf.ConditionalField(sf.IPField("z", "1.2.3.4"), function(pkt) return pkt.present & 4 ~= 0 end),
    sf.ShortField("tail", 0x5555),
  }, nil, 7008)

  -- variable fields after and inside conditionals (issue 10 item 8: a
  -- StrField after a ConditionalField was dropped on build, a
  -- PacketListField after one came out empty), every kind in turn
  def("CTCondVar", {
    sf.ByteField("op", 1),
    sf.ConditionalField(sf.IntField("x", 7), function(pkt) return pkt.op == 2 end),
    sf.StrField("s", ""),
  }, nil, 7013)
  def("CTCondPkts", {
    sf.ByteField("op", 0),
    sf.FieldLenField("blen", nil, {length_of = "elems", fmt = "B"}),
    sf.FieldLenField("cnt", nil, {count_of = "more", fmt = "B"}),
    sf.ConditionalField(sf.ShortField("x", 0x1234), function(pkt) return pkt.op & 1 ~= 0 end),
    sf.PacketListField("elems", {}, D.ctor.CTTlv, {length_from = function(pkt) return pkt.blen end}),
    sf.ConditionalField(sf.ByteField("y", 9), function(pkt) return pkt.op & 2 ~= 0 end),
    sf.PacketListField("more", {}, D.ctor.CTTlv, {count_from = function(pkt) return pkt.cnt end}),
    sf.ConditionalField(sf.ShortField("z", 0x5678), function(pkt) return pkt.op & 4 ~= 0 end),
    sf.StrField("rest", ""),
  }, nil, 7014)
  def("CTCondEvery", {
    sf.ByteField("op", 0),
    sf.FieldLenField("ln", nil, {length_of = "s", fmt = "B"}),
    sf.FieldLenField("cn", nil, {count_of = "items", fmt = "B"}),
    sf.ConditionalField(sf.ByteField("a", 1), function(pkt) return pkt.op & 1 ~= 0 end),
    sf.StrLenField("s", "", {length_from = function(pkt) return pkt.ln end}),
    sf.ConditionalField(sf.ShortField("b", 2), function(pkt) return pkt.op & 2 ~= 0 end),
    sf.StrNullField("n", "nn"),
    sf.ConditionalField(sf.StrFixedLenField("f", "ff", 3), function(pkt) return pkt.op & 4 ~= 0 end),
    sf.FieldListField("items", {}, sf.ShortField("i", 0), {count_from = function(pkt) return pkt.cn end}),
    sf.ConditionalField(sf.PadField(sf.StrNullField("p", "pp"), 4), function(pkt) return pkt.op & 8 ~= 0 end),
    sf.ConditionalField(sf.StrNullField("q", "qq"), function(pkt) return pkt.op & 16 ~= 0 end),
    sf.PadField(sf.ByteField("z", 3), 2),
    sf.ConditionalField(sf.IPField("ip", "1.2.3.4"), function(pkt) return pkt.op & 32 ~= 0 end),
    sf.ByteField("pc", 0),
    sf.ConditionalField(sf.PacketListField("pk", {}, D.ctor.CTTlv, {count_from = function(pkt) return pkt.pc end}),
      function(pkt) return pkt.op & 64 ~= 0 end),
    sf.StrField("rest", ""),
  }, nil, 7015)

  -- PadField: aligned at the start, then after a byte (Scapy pads the
  -- field's own length to the alignment)
  def("CTPad", {
    sf.PadField(sf.StrNullField("s", "ab"), 4),
    sf.PadField(sf.ByteField("b", 9), 4),
    sf.ShortField("z", 0x0102),
  }, nil, 7009)
  def("CTPad2", {
    sf.ByteField("first", 1),
    sf.PadField(sf.StrNullField("s", "abc"), 4),
    sf.PadField(sf.ShortField("w", 2), 8),
    sf.ByteField("last", 3),
  }, nil, 7010)

  -- addresses
  def("CTAddr", {
    sf.IPField("ip", "10.0.0.1"), sf.IP6Field("ip6", "2001:db8::1"),
    sf.MACField("mac", "00:11:22:33:44:55"),
  }, nil, 7011)

  -- ---- random values (R = math.random) -------------------------------------

  local function bytes(R, lo, hi)
    local t = {}
    for i = 1, R(lo, hi) do t[i] = string.char(R(0, 255)) end
    return table.concat(t)
  end
  local function text(R, lo, hi) -- no NUL
    local t = {}
    for i = 1, R(lo, hi) do t[i] = string.char(R(1, 255)) end
    return table.concat(t)
  end
  local function ip4(R) return ("%d.%d.%d.%d"):format(R(0, 255), R(0, 255), R(0, 255), R(0, 255)) end
  local function ip6(R)
    local g = {}
    for i = 1, 8 do g[i] = R() < 0.35 and "0" or ("%x"):format(R(0, 0xffff)) end
    return table.concat(g, ":")
  end
  local function mac(R)
    local b = {}
    for i = 1, 6 do b[i] = ("%02x"):format(R(0, 255)) end
    return table.concat(b, ":")
  end
  local function u(R, bits)
    if bits == 64 then return R(math.mininteger, math.maxinteger) end
    return R(0, (1 << bits) - 1)
  end
  local function some(R, t) -- a random subset of t (each key kept with p=.6)
    local o = {}
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    table.sort(keys) -- pairs' order changes from run to run
    for _, k in ipairs(keys) do if R() < 0.6 then o[k] = t[k] end end
    return o
  end
  local function flagnames(R, names)
    local o = {}
    for _, n in ipairs(names) do if R() < 0.4 then o[#o + 1] = n end end
    return o
  end

  D.rand.CTInts = function(R)
    return some(R, {a = u(R, 8), b = u(R, 8), c = R(-128, 127), d = u(R, 16), e = u(R, 16),
      f = u(R, 16), g = u(R, 32), h = u(R, 32), i = u(R, 32), j = R(-0x80000000, 0x7fffffff),
      k = u(R, 64), l = u(R, 64)})
  end
  D.rand.CTBits = function(R)
    local v = some(R, {ver = u(R, 4), ihl = u(R, 4), x = u(R, 12), y = u(R, 4), tail = u(R, 7)})
    local r = R(1, 3) -- flags: by letters/names, by number, or left out
    if r == 1 then
      v.fl = table.concat(flagnames(R, {"A", "B", "C", "D", "E", "F", "G", "H"}))
      v.opts = table.concat(flagnames(R, {"SYN", "ACK", "FIN", "RST", "PSH", "URG", "ECE", "CWR"}), "+")
      v.nine = table.concat(flagnames(R, {"f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8"}), "+")
    elseif r == 2 then
      v.fl, v.opts, v.nine = u(R, 8), u(R, 8), u(R, 9)
    end
    return v
  end
  D.rand.CTEnum = function(R)
    local names = {"get", "set", "del"}
    return some(R, {
      op = R() < 0.5 and names[R(1, 3)] or u(R, 8),
      status = R() < 0.5 and ({"ok", "err", "fatal"})[R(1, 3)] or u(R, 16),
      code = R() < 0.5 and ({"seven", "big"})[R(1, 2)] or u(R, 32),
    })
  end
  D.rand.CTStr = function(R)
    return some(R, {tag = text(R, 0, 8), label = text(R, 0, 12), mid = u(R, 8), rest = bytes(R, 0, 20)})
  end
  D.rand.CTLen = function(R)
    local items = {}
    for i = 1, R(0, 6) do items[i] = u(R, 16) end
    return some(R, {data = bytes(R, 0, 30), items = items, data2 = bytes(R, 0, 10)})
  end
  D.rand.CTAddrList = function(R)
    local a, b, c = {}, {}, {}
    for i = 1, R(0, 4) do a[i] = ip4(R) end
    for i = 1, R(0, 3) do b[i] = ip6(R) end
    for i = 1, R(0, 3) do c[i] = u(R, 32) end
    return some(R, {addrs = a, addrs6 = b, les = c})
  end
  local function tlvs(R, n)
    local l = {}
    for i = 1, R(0, n) do l[i] = {layer = "CTTlv", values = some(R, {t = u(R, 8), v = bytes(R, 0, 6)})} end
    return l
  end
  D.rand.CTPkts = function(R)
    return some(R, {kind = u(R, 8), more = tlvs(R, 4), trailer = u(R, 16)})
  end
  D.rand.CTPktsCnt = function(R)
    return some(R, {elems = tlvs(R, 4), trailer = u(R, 16)})
  end
  D.rand.CTCond = function(R)
    return some(R, {present = u(R, 3), x = u(R, 32), y = text(R, 2, 2), z = ip4(R), tail = u(R, 16)})
  end
  D.rand.CTCondVar = function(R)
    return some(R, {op = R() < 0.5 and 2 or u(R, 8), x = u(R, 32), s = bytes(R, 0, 12)})
  end
  D.rand.CTCondPkts = function(R)
    return some(R, {op = u(R, 3), x = u(R, 16), elems = tlvs(R, 3), y = u(R, 8),
      more = tlvs(R, 3), z = u(R, 16), rest = bytes(R, 0, 6)})
  end
  D.rand.CTCondEvery = function(R)
    local items = {}
    for i = 1, R(0, 4) do items[i] = u(R, 16) end
    local v = some(R, {op = u(R, 7), a = u(R, 8), s = bytes(R, 0, 9), b = u(R, 16),
      n = text(R, 0, 6), f = text(R, 0, 3), items = items, p = text(R, 0, 6),
      q = text(R, 0, 5), z = u(R, 8), ip = ip4(R), rest = bytes(R, 0, 5)})
    if R() < 0.5 then -- the packet list: only with its count and its condition
      v.op = (v.op or 0) | 64
      v.pk = tlvs(R, 3)
      v.pc = #v.pk
    end
    return v
  end
  D.rand.CTPad = function(R)
    return some(R, {s = text(R, 0, 9), b = u(R, 8), z = u(R, 16)})
  end
  D.rand.CTPad2 = function(R)
    return some(R, {first = u(R, 8), s = text(R, 0, 9), w = u(R, 16), last = u(R, 8)})
  end
  D.rand.CTAddr = function(R)
    return some(R, {ip = ip4(R), ip6 = ip6(R), mac = mac(R)})
  end

  function D.bind()
    for name, port in pairs(D.ports) do sf.bind_layers(sf.UDP, D.ctor[name], {dport = port}) end
  end
  function D.unbind()
    for name, port in pairs(D.ports) do sf.split_layers(sf.UDP, D.ctor[name], {dport = port}) end
  end
  return D
end
