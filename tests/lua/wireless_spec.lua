-- Wireless captures parsed as tshark parses them: radiotap, 802.11 (with
-- and without radiotap, with and without FCS), 802.15.4 (with and without
-- FCS), 802.3/LLC/SNAP.  References: tests/data/*.wireless.tsv, made by
-- tests/interop/wireless_fields.sh (every occurrence of each field; ctest
-- wireless_tshark regenerates them with the installed tshark and points
-- SFLUA_WIRELESS_DIR at the fresh copy).  Fields of further radiotap
-- namespaces (a second antenna's signal) are kept undecoded, as Scapy
-- keeps them: for those only the first occurrence is compared.
local sf = require("stackforge")
local h = require("helpers")

local refdir = os.getenv("SFLUA_WIRELESS_DIR") or h.datadir
local captures = {"ieee802.11_exthdr.pcap", "ieee802.11_htc.pcap",
  "bad_rsn_parsing_overrides_ssid.pcap", "dot11_no_radiotap.pcap", "llc_snap.pcap",
  "802_15_4-data.pcap", "802_15_4_beacon.pcap", "802_15_4-oobr-1.pcap",
  "zigbee-join-authenticate.pcap", "dot11_scapy.pcap"}

-- a flags field's value as a number ("to-DS+retry" -> 9)
local protos = require("stackforge.layers").protos
local function flags(layer, field)
  local s = layer[field]
  if s == nil then return nil end
  local names
  for _, f in ipairs(protos[layer.kind + 1].fields) do
    if f.name == field then names = f.flag_names end
  end
  local n = 0
  for part in tostring(s):gmatch("[^+]+") do
    local bit
    for b, name in pairs(names) do if name == part then bit = b end end
    bit = bit or tonumber(part)
    assert(bit, "unknown flag " .. part)
    n = n | (1 << bit)
  end
  return n
end

local function first(p, ...)
  for _, name in ipairs{...} do
    local l = p[sf[name]]
    if l then return l end
  end
end

local function dot11(p) return first(p, "Dot11", "Dot11FCS") end
local function wpan(p) return first(p, "Dot15d4", "Dot15d4FCS") end

-- every layer of the packet of the given kinds, in order
local function each(p, kinds)
  local out = {}
  for i = 1, p.layer_count do
    local l = p:layer(i)
    local id = p:_layer_info(i)
    if kinds[id] then out[#out + 1] = l end
  end
  return out
end

local elt_kinds
local function elts(p)
  if not elt_kinds then
    elt_kinds = {}
    for name, ctor in pairs(sf) do
      if type(name) == "string" and name:match("^Dot11Elt") and type(ctor) == "table" and ctor.kind then
        elt_kinds[ctor.kind] = true
      end
    end
  end
  return each(p, elt_kinds)
end

local function list(t) return table.concat(t, ",") end

local function le32(s, i) return s:byte(i) | s:byte(i + 1) << 8 | s:byte(i + 2) << 16 | s:byte(i + 3) << 24 end

local function mac_of(n, bytes)
  local out = {}
  for i = bytes - 1, 0, -1 do out[#out + 1] = ("%02x"):format((n >> (8 * i)) & 0xff) end
  return table.concat(out, ":")
end

local function rt(p) return p[sf.RadioTap] end

-- tshark field -> function(p) returning sflua's value (a number, a
-- string, or a list joined with commas), or nil when sflua has none
local getters = {
  ["frame.len"] = function(p) return p.wirelen end,
  ["radiotap.length"] = function(p) return rt(p) and rt(p).len end,
  ["radiotap.present.word"] = function(p)
    local r = rt(p)
    if not r then return nil end
    local words = {("0x%08x"):format(flags(r, "present"))}
    local ext = r.Ext or ""
    for i = 1, #ext - 3, 4 do words[#words + 1] = ("0x%08x"):format(le32(ext, i)) end
    return list(words)
  end,
  ["radiotap.mactime"] = function(p) return rt(p) and rt(p).mac_timestamp end,
  ["radiotap.flags"] = function(p) return rt(p) and flags(rt(p), "Flags") end,
  -- (tshark works a rate out of MCS fields too: compared where Rate is)
  ["radiotap.datarate"] = function(p)
    if rt(p) and not rt(p).Rate then return nil, "skip" end
    local r = rt(p) and rt(p).Rate
    return r and (r % 2 == 0 and tostring(r // 2) or tostring(r / 2))
  end,
  ["radiotap.channel.freq"] = function(p) return rt(p) and rt(p).ChannelFrequency end,
  ["radiotap.channel.flags"] = function(p) return rt(p) and flags(rt(p), "ChannelFlags") end,
  ["radiotap.dbm_antsignal"] = function(p) return rt(p) and rt(p).dBm_AntSignal, "first" end,
  ["radiotap.dbm_antnoise"] = function(p) return rt(p) and rt(p).dBm_AntNoise, "first" end,
  -- (an antenna named only in a further namespace is not decoded)
  ["radiotap.antenna"] = function(p)
    if rt(p) and not rt(p).Antenna then return nil, "skip" end
    return rt(p) and rt(p).Antenna, "first"
  end,
  ["radiotap.rxflags"] = function(p) return rt(p) and flags(rt(p), "RXFlags") end,
  ["radiotap.txflags"] = function(p) return rt(p) and flags(rt(p), "TXFlags") end,
  ["radiotap.mcs.index"] = function(p) return rt(p) and rt(p).MCS_index end,
  ["wlan.fc.type"] = function(p) return dot11(p) and dot11(p).type end,
  ["wlan.fc.subtype"] = function(p) return dot11(p) and dot11(p).subtype end,
  ["wlan.flags"] = function(p) return dot11(p) and flags(dot11(p), "FCfield") end,
  -- Scapy reads the duration big-endian (its ID field)
  ["wlan.duration"] = function(p)
    local id = dot11(p) and dot11(p).ID
    return id and ((id >> 8) | (id & 0xff) << 8) & 0x7fff
  end,
  ["wlan.ra"] = function(p) return dot11(p) and dot11(p).addr1 end,
  ["wlan.ta"] = function(p) return dot11(p) and dot11(p).addr2 end,
  ["wlan.addr"] = function(p)
    local d = dot11(p)
    if not d then return nil end
    local t = {}
    for _, f in ipairs{"addr1", "addr2", "addr3", "addr4"} do t[#t + 1] = d[f] end
    return list(t), "set"  -- (tshark lists a four-address frame's in its own order)
  end,
  ["wlan.seq"] = function(p) return dot11(p) and dot11(p).SC and dot11(p).SC >> 4 end,
  ["wlan.frag"] = function(p) return dot11(p) and dot11(p).SC and dot11(p).SC & 15 end,
  ["wlan.fcs"] = function(p) return p[sf.Dot11FCS] and p[sf.Dot11FCS].fcs end,
  ["wlan.fcs.status"] = function(p)
    if not p[sf.Dot11FCS] then return nil end
    return sf.fcs_ok(p) and 1 or 0
  end,
  ["wlan.qos.tid"] = function(p) return p[sf.Dot11QoS] and p[sf.Dot11QoS].TID end,
  ["wlan.qos.ack"] = function(p) return p[sf.Dot11QoS] and p[sf.Dot11QoS].Ack_Policy end,
  ["wlan.fixed.timestamp"] = function(p)
    local b = first(p, "Dot11Beacon", "Dot11ProbeResp")
    return b and b.timestamp
  end,
  ["wlan.fixed.beacon"] = function(p)
    local b = first(p, "Dot11Beacon", "Dot11ProbeResp")
    return b and b.beacon_interval
  end,
  -- Scapy reads the capabilities big-endian
  ["wlan.fixed.capabilities"] = function(p)
    local b = first(p, "Dot11Beacon", "Dot11ProbeResp", "Dot11AssoReq", "Dot11AssoResp",
      "Dot11ReassoReq", "Dot11ReassoResp")
    if not b then return nil end
    local c = flags(b, "cap")
    return (c >> 8) | (c & 0xff) << 8
  end,
  ["wlan.fixed.listen_ival"] = function(p)
    local b = first(p, "Dot11AssoReq", "Dot11ReassoReq")
    return b and b.listen_interval
  end,
  ["wlan.fixed.status_code"] = function(p)
    local b = first(p, "Dot11AssoResp", "Dot11ReassoResp", "Dot11Auth")
    return b and b.status
  end,
  ["wlan.fixed.aid"] = function(p)
    local b = first(p, "Dot11AssoResp", "Dot11ReassoResp")
    return b and b.AID & 0x3fff  -- (the top two bits are set; tshark masks them)
  end,
  ["wlan.fixed.auth.alg"] = function(p) return p[sf.Dot11Auth] and p[sf.Dot11Auth].algo end,
  ["wlan.fixed.auth_seq"] = function(p) return p[sf.Dot11Auth] and p[sf.Dot11Auth].seqnum end,
  ["wlan.fixed.reason_code"] = function(p)
    local b = first(p, "Dot11Deauth", "Dot11Disas")
    return b and b.reason
  end,
  ["wlan.fixed.category_code"] = function(p) return p[sf.Dot11Action] and p[sf.Dot11Action].category end,
  ["wlan.tag.number"] = function(p)
    local t = {}
    for _, e in ipairs(elts(p)) do t[#t + 1] = e.ID end
    return #t > 0 and list(t) or nil
  end,
  ["wlan.tag.length"] = function(p)
    local t = {}
    for _, e in ipairs(elts(p)) do t[#t + 1] = e.len end
    return #t > 0 and list(t) or nil
  end,
  ["wlan.ssid"] = function(p)
    for _, e in ipairs(elts(p)) do
      if e.ID == 0 then return (h.hex(e.info)) end
    end
  end,
  ["wlan.supported_rates"] = function(p)
    local t = {}
    for _, e in ipairs(elts(p)) do
      if e.ID == 1 then for _, r in ipairs(e.rates) do t[#t + 1] = ("0x%02x"):format(r) end end
    end
    return #t > 0 and list(t) or nil
  end,
  ["wlan.extended_supported_rates"] = function(p)
    local t = {}
    for _, e in ipairs(elts(p)) do
      if e.ID == 50 then for _, r in ipairs(e.rates) do t[#t + 1] = ("0x%02x"):format(r) end end
    end
    return #t > 0 and list(t) or nil
  end,
  ["wlan.ds.current_channel"] = function(p) return p[sf.Dot11EltDSSSet] and p[sf.Dot11EltDSSSet].channel end,
  ["wlan.tim.dtim_count"] = function(p) return p[sf.Dot11EltTIM] and p[sf.Dot11EltTIM].dtim_count end,
  ["wlan.tim.dtim_period"] = function(p) return p[sf.Dot11EltTIM] and p[sf.Dot11EltTIM].dtim_period end,
  ["wlan.country_info.code"] = function(p)
    return p[sf.Dot11EltCountry] and p[sf.Dot11EltCountry].country_string:sub(1, 2)
  end,
  ["wlan.rsn.version"] = function(p) return p[sf.Dot11EltRSN] and p[sf.Dot11EltRSN].version end,
  ["wlan.rsn.pcs.count"] = function(p) return p[sf.Dot11EltRSN] and p[sf.Dot11EltRSN].nb_pairwise_cipher_suites end,
  ["wlan.rsn.akms.count"] = function(p) return p[sf.Dot11EltRSN] and p[sf.Dot11EltRSN].nb_akm_suites end,
  ["wlan.ht.capabilities"] = function(p)
    local l = p[sf.Dot11EltHTCapabilities]
    if not l then return nil end
    local b = p:get_layer_bytes(sf.Dot11EltHTCapabilities)
    return b:byte(3) | b:byte(4) << 8
  end,
  ["wlan.ht.ampduparam"] = function(p)
    local b = p[sf.Dot11EltHTCapabilities] and p:get_layer_bytes(sf.Dot11EltHTCapabilities)
    return b and b:byte(5)
  end,
  ["wlan.tag.oui"] = function(p)
    local t = {}
    for _, e in ipairs(elts(p)) do
      if e.kind == sf.Dot11EltVendorSpecific.kind then t[#t + 1] = e.oui end
    end
    return #t > 0 and list(t) or nil
  end,
  ["wlan.fixed.current_ap"] = function(p) return p[sf.Dot11ReassoReq] and p[sf.Dot11ReassoReq].current_AP end,
  ["wlan.tim.bmapctl"] = function(p) return p[sf.Dot11EltTIM] and p[sf.Dot11EltTIM].bitmap_control end,
  ["wlan.vht.capabilities"] = function(p)
    return p[sf.Dot11EltVHTCapabilities] and p[sf.Dot11EltVHTCapabilities].vht_cap
  end,
  ["eapol.version"] = function(p) return p[sf.EAPOL] and p[sf.EAPOL].version end,
  ["eapol.type"] = function(p) return p[sf.EAPOL] and p[sf.EAPOL].type end,
  ["eapol.len"] = function(p) return p[sf.EAPOL] and p[sf.EAPOL].len end,
  ["llc.dsap"] = function(p) return p[sf.LLC] and p[sf.LLC].dsap end,
  ["llc.ssap"] = function(p) return p[sf.LLC] and p[sf.LLC].ssap end,
  ["llc.control"] = function(p) return p[sf.LLC] and p[sf.LLC].ctrl end,
  ["llc.oui"] = function(p) return p[sf.SNAP] and p[sf.SNAP].OUI end,
  ["llc.type"] = function(p) return p[sf.SNAP] and p[sf.SNAP].code end,
  ["eth.len"] = function(p)
    local e = p[sf.Ether]
    return e and e.type <= 1500 and e.type or nil
  end,
  ["wpan.frame_type"] = function(p) return wpan(p) and wpan(p).fcf_frametype end,
  ["wpan.security"] = function(p) return wpan(p) and wpan(p).fcf_security end,
  ["wpan.pending"] = function(p) return wpan(p) and wpan(p).fcf_pending end,
  ["wpan.ack_request"] = function(p) return wpan(p) and wpan(p).fcf_ackreq end,
  ["wpan.pan_id_compression"] = function(p) return wpan(p) and wpan(p).fcf_panidcompress end,
  ["wpan.dst_addr_mode"] = function(p) return wpan(p) and wpan(p).fcf_destaddrmode end,
  ["wpan.version"] = function(p) return wpan(p) and wpan(p).fcf_framever end,
  ["wpan.src_addr_mode"] = function(p) return wpan(p) and wpan(p).fcf_srcaddrmode end,
  ["wpan.seq_no"] = function(p) return wpan(p) and wpan(p).seqnum end,
  ["wpan.dst_pan"] = function(p) return wpan(p) and wpan(p).dest_panid end,
  ["wpan.dst16"] = function(p)
    local w = wpan(p)
    return w and w.fcf_destaddrmode == 2 and w.dest_addr or nil
  end,
  -- (ZigBee's network header names long addresses too: those not compared)
  ["wpan.dst64"] = function(p)
    local w = wpan(p)
    if w and w.fcf_destaddrmode ~= 3 then return nil, "skip" end
    return w and mac_of(w.dest_addr, 8)
  end,
  ["wpan.src_pan"] = function(p) return wpan(p) and wpan(p).src_panid end,
  ["wpan.src16"] = function(p)
    local w = wpan(p)
    return w and w.fcf_srcaddrmode == 2 and w.src_addr or nil
  end,
  ["wpan.src64"] = function(p)
    local w = wpan(p)
    if w and w.fcf_srcaddrmode ~= 3 then return nil, "skip" end
    return w and mac_of(w.src_addr, 8)
  end,
  ["wpan.fcs"] = function(p) return p[sf.Dot15d4FCS] and p[sf.Dot15d4FCS].fcs end,
  -- (tshark says 1 for frames without an FCS, or whose FCS the capture
  -- cut off, too: not compared there)
  ["wpan.fcs_ok"] = function(p)
    if not (p[sf.Dot15d4FCS] and p[sf.Dot15d4FCS].fcs) then return nil, "skip" end
    return sf.fcs_ok(p) and 1 or 0
  end,
  ["wpan.cmd"] = function(p) return p[sf.Dot15d4Cmd] and p[sf.Dot15d4Cmd].cmd_id end,
  ["wpan.beacon_order"] = function(p) return p[sf.Dot15d4Beacon] and p[sf.Dot15d4Beacon].sf_beaconorder end,
  ["wpan.superframe_order"] = function(p) return p[sf.Dot15d4Beacon] and p[sf.Dot15d4Beacon].sf_sforder end,
  ["wpan.cap"] = function(p) return p[sf.Dot15d4Beacon] and p[sf.Dot15d4Beacon].sf_finalcapslot end,
  ["wpan.bcn_coord"] = function(p) return p[sf.Dot15d4Beacon] and p[sf.Dot15d4Beacon].sf_pancoord end,
  ["wpan.assoc_permit"] = function(p) return p[sf.Dot15d4Beacon] and p[sf.Dot15d4Beacon].sf_assocpermit end,
  ["wpan.gts.count"] = function(p) return p[sf.Dot15d4Beacon] and p[sf.Dot15d4Beacon].gts_spec_desccount end,
}

-- tshark's text against sflua's value: numbers in decimal or 0x-hex,
-- booleans as 0/1, lists element by element
local function one(ref, got)
  if type(got) == "number" then return math.tointeger(tonumber(ref)) == got end
  if type(got) == "boolean" then return ref == (got and "1" or "0") end
  return ref == tostring(got)
end

local function sorted(csv)
  local t = {}
  for x in (csv .. ","):gmatch("([^,]*),") do t[#t + 1] = x end
  table.sort(t)
  return table.concat(t, ",")
end

local function same(ref, got, only_first, as_set)
  if got == nil then return false end
  if as_set then return sorted(ref) == sorted(got) end
  if only_first then ref = ref:match("^[^,]*") end
  if type(got) ~= "string" or not got:find(",") and not ref:find(",") then return one(ref, got) end
  local a, b = {}, {}
  for x in (ref .. ","):gmatch("([^,]*),") do a[#a + 1] = x end
  for x in (got .. ","):gmatch("([^,]*),") do b[#b + 1] = x end
  if #a ~= #b then return false end
  for i = 1, #a do
    if not one(a[i], math.tointeger(tonumber(b[i])) or b[i]) then return false end
  end
  return true
end

describe("wireless captures agree with tshark", function()
  for _, name in ipairs(captures) do
    it(name, function()
      local ref = h.read_tsv(refdir .. "/" .. name .. ".wireless.tsv")
      local pkts = sf.rdpcap(h.path(name), {partial = true})  -- (one is cut short)
      assert.equal(#ref, #pkts)
      local checked, fields = 0, {}
      for i, p in ipairs(pkts) do
        for field, want in pairs(ref[i]) do
          local get = getters[field]
          assert(get, "no getter for " .. field)
          local got, how = get(p)
          if how == "skip" then
            checked = checked + 0
          elseif not same(want, got, how == "first", how == "set") then
            error(("%s packet %d (%s): %s is %s, tshark says %s"):format(
              name, i, p:summary(), field, tostring(got), want))
          else
            checked = checked + 1
            fields[field] = true
          end
        end
      end
      assert.is_true(checked > #pkts)
    end)
  end
end)

describe("fcs_ok", function()
  it("tells good and bad frame check sequences and errs on a non-packet", function()
    local good = sf.RadioTap() / sf.Dot11FCS{addr1 = "00:11:22:33:44:55"} / sf.Dot11Deauth{reason = 7}
    local p = sf.Packet(good:bytes(), {linktype = 127})
    assert.is_true(sf.fcs_ok(p))
    local bad = p:bytes():sub(1, -2) .. string.char((p:bytes():byte(-1) + 1) % 256)
    assert.is_false(sf.fcs_ok(sf.Packet(bad, {linktype = 127})))
    assert.is_nil(sf.fcs_ok(sf.Packet(("\0"):rep(30), {linktype = 105})))
    local w = sf.Dot15d4FCS{seqnum = 9} / sf.Dot15d4Cmd{cmd_id = 4}
    assert.is_true(sf.fcs_ok(sf.Packet(w:bytes(), {linktype = 195})))
    assert.has_error(function() sf.fcs_ok("x") end, "fcs_ok: expected a Packet, got string")
  end)
end)

describe("anonymizing 802.11", function()
  it("rewrites every address field and keeps the FCS right", function()
    local out = os.tmpname()
    sf.anonymize_pcap(h.path("ieee802.11_exthdr.pcap"), out,
      sf.AnonymizationPolicy{mac_mode = "salted_hash"})
    local before, after = sf.rdpcap(h.path("ieee802.11_exthdr.pcap")), sf.rdpcap(out)
    os.remove(out)
    assert.equal(#before, #after)
    local fcs_checked = 0
    for i, p in ipairs(after) do
      local a, b = dot11(before[i]), dot11(p)
      for _, f in ipairs{"addr1", "addr2", "addr3", "addr4"} do
        if a[f] and a[f] ~= "ff:ff:ff:ff:ff:ff" then assert.are_not.equal(a[f], b[f]) end
      end
      if p[sf.Dot11FCS] then
        assert.is_true(sf.fcs_ok(p))
        fcs_checked = fcs_checked + 1
      end
    end
    assert.is_true(fcs_checked > 10)
  end)
end)

describe("wireless layers", function()
  it("keep an FCS after the payload that is stacked on them", function()
    local p = sf.Dot11FCS{addr1 = "00:11:22:33:44:55"} / sf.LLC() / sf.SNAP() / sf.IP() / "data"
    local b = p:bytes()
    assert.equal("data", b:sub(-8, -5))            -- the FCS after the payload
    assert.equal("data", sf.Packet(b, {linktype = 105})[sf.Raw].load:sub(1, 4))  -- 105: no FCS
    local w = sf.Packet((sf.RadioTap() / p):bytes(), {linktype = 127})
    assert.equal("RadioTap / 802.11-FCS / LLC / SNAP / IPv4 / Raw", w:summary())
    assert.equal("data", w[sf.Raw].load)
    assert.is_true(sf.fcs_ok(w))
  end)

  it("lay radiotap out again when its bitmap changes, keeping the values", function()
    local r = sf.RadioTap{present = "Flags+Channel", Flags = "FCS", ChannelFrequency = 2437}
    assert.equal(8 + 1 + 1 + 4, #r:bytes())     -- Channel aligned to 2
    r[sf.RadioTap].present = "TSFT+Flags+Channel"
    assert.equal(2437, r[sf.RadioTap].ChannelFrequency)
    assert.equal("FCS", r[sf.RadioTap].Flags)
    assert.equal(8 + 8 + 1 + 1 + 4, #r:bytes())
    assert.equal(22, sf.Packet(r:bytes(), {linktype = 127}).len)
    assert.equal(2437, sf.Packet(r:bytes(), {linktype = 127}).ChannelFrequency)
    r[sf.RadioTap].present = "Channel"
    assert.equal(12, #r:bytes())
    assert.is_nil(r[sf.RadioTap].Flags)
  end)

  it("lay the 802.15.4 header out from frame control", function()
    local w = sf.Dot15d4FCS{fcf_frametype = 1, fcf_destaddrmode = 3, fcf_srcaddrmode = 2,
      fcf_panidcompress = 1, dest_addr = 0x1122334455667788, src_addr = 0xbeef}
    local p = sf.Packet(w:bytes(), {linktype = 195})
    assert.equal(0x1122334455667788, p.dest_addr)
    assert.equal(0xbeef, p.src_addr)
    assert.is_nil(p.src_panid)                  -- compressed
    assert.equal(2 + 1 + 2 + 8 + 2 + 2, #w:bytes())
    p[sf.Dot15d4FCS].fcf_destaddrmode = 2        -- the long address, cut to 16 bits
    assert.equal(0x7788, sf.Packet(p:bytes(), {linktype = 195}).dest_addr)
    assert.is_true(sf.fcs_ok(sf.Packet(p:bytes(), {linktype = 195})))
  end)

  it("say what is wrong with a value, naming the layer and field", function()
    local cases = {
      {function() return sf.RadioTap{present = "Bogus"} end, "RadioTap.present: bad value Bogus"},
      {function() return sf.Dot11EltRates{rates = {300}} end, "Dot11EltRates.rates: list of 8-bit integers: item 1 is 300"},
      {function() return sf.Dot11EltRSN{akm_suites = {{cipher = 1}}} end, "Dot11EltRSN.akm_suites: suite 1"},
      {function() return sf.Dot11{addr1 = "xx"} end, "Dot11.addr1: bad value xx"},
      {function() return sf.Dot15d4FCS{fcf_frametype = 9} end, "Dot15d4FCS.fcf_frametype: value 9 out of range"},
      {function() return sf.Dot11EltCountry{descriptors = {{1, 2}}} end, "Dot11EltCountry.descriptors: triplet 1"},
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(c[1])
      assert.is_false(ok)
      assert.truthy(tostring(err):find(c[2], 1, true), tostring(err))
    end
  end)

  it("leave no field and no crash in a malformed or cut element", function()
    local b = (sf.RadioTap() / sf.Dot11() / sf.Dot11Beacon() / sf.Dot11EltRSN()):bytes()
    for n = 1, #b - 1 do
      local p = sf.Packet(b:sub(1, n), {linktype = 127})
      assert.truthy(p:summary())
      for i = 1, p.layer_count do assert.truthy(p:layer(i).fields) end
    end
    local bad = b:sub(1, -29) .. "\48\200" .. b:sub(-26)  -- an RSN longer than its bytes
    assert.truthy(sf.Packet(bad, {linktype = 127}):summary():find("Raw"))
  end)
end)
