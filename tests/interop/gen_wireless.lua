-- gen_wireless.lua: random wireless packets for the Scapy cross-check.
--
--   lua5.4 tests/interop/gen_wireless.lua [seed] [count]
--
-- Prints one line per case: a Python expression that builds it in Scapy
-- 2.5, a tab, the same packet as a Lua expression over stackforge's
-- names, a tab, the link type its bytes are read back with.  RadioTap,
-- the Dot11 family (management bodies with their elements, data, QoS,
-- CCMP/TKIP headers, Dot11FCS), Dot15d4/Dot15d4FCS with beacons, commands,
-- data and security headers, Dot3/LLC/SNAP.  wireless_oracle.py builds
-- the Python side.  Where the two models differ the expressions differ
-- too: Scapy keeps 802.15.4 addresses in Dot15d4Data/Beacon/Cmd, sflua in
-- Dot15d4; Scapy's Rate is in Mb/s, sflua's in 500 kb/s units; a CCMP or
-- TKIP body is Scapy's data field and sflua's payload.  Cases Scapy builds
-- off the radiotap specification (an MCS field aligned to 2, a 7-byte
-- Channel+), and Scapy 2.5 elements sflua has no twin of, are not made.
local seed = tonumber(arg[1]) or 20241129
local count = tonumber(arg[2]) or 400
math.randomseed(seed)

local R = math.random
local function chance(p) return R() < p end
local function pick(t) return t[R(1, #t)] end

local function rmac()
  local b = {}
  for i = 1, 6 do b[i] = ("%02x"):format(R(0, 255)) end
  return table.concat(b, ":")
end

local function rbytes(n)
  local b = {}
  for i = 1, n do b[i] = string.char(R(0, 255)) end
  return table.concat(b)
end

local function pybytes(s)
  return "b'" .. s:gsub(".", function(c) return ("\\x%02x"):format(c:byte()) end) .. "'"
end

local function luabytes(s)
  return '"' .. s:gsub(".", function(c) return ("\\%03d"):format(c:byte()) end) .. '"'
end

-- a layer both ways: name and an ordered list of {field, python, lua}
local function layer(py, lua, fields)
  local a, b = {}, {}
  for _, f in ipairs(fields) do
    a[#a + 1] = f[1] .. "=" .. f[2]
    b[#b + 1] = (f[4] or f[1]) .. "=" .. f[3]
  end
  return py .. "(" .. table.concat(a, ", ") .. ")", lua .. "{" .. table.concat(b, ", ") .. "}"
end

local function num(name, v) return {name, tostring(v), tostring(v)} end
local function str(name, s) return {name, "'" .. s .. "'", '"' .. s .. '"'} end
local function bytes(name, s) return {name, pybytes(s), luabytes(s)} end

-- ---- radiotap -----------------------------------------------------------------------

local rt_bits = {
  {0, "TSFT", function(f) f[#f + 1] = num("mac_timestamp", R(0, 0x7fffffff) * R(1, 1000)) end},
  {1, "Flags", nil},  -- chosen by the caller (FCS or not)
  {2, "Rate", function(f)
    local r = pick{2, 4, 11, 12, 18, 22, 24, 36, 48, 72, 96, 108}
    f[#f + 1] = {"Rate", tostring(r / 2), tostring(r)}
  end},
  {3, "Channel", function(f)
    f[#f + 1] = num("ChannelFrequency", pick{2412, 2437, 2462, 5180, 5745})
    f[#f + 1] = num("ChannelFlags", pick{0xa0, 0xc0, 0x140, 0x480})
  end},
  {5, "dBm_AntSignal", function(f) f[#f + 1] = num("dBm_AntSignal", R(-100, -10)) end},
  {6, "dBm_AntNoise", function(f) f[#f + 1] = num("dBm_AntNoise", R(-110, -60)) end},
  {7, "Lock_Quality", function(f) f[#f + 1] = num("Lock_Quality", R(0, 100)) end},
  {11, "Antenna", function(f) f[#f + 1] = num("Antenna", R(0, 3)) end},
  {14, "RXFlags", function(f) f[#f + 1] = num("RXFlags", pick{0, 2}) end},
  {15, "TXFlags", function(f) f[#f + 1] = num("TXFlags", R(0, 63)) end},
  {20, "A_MPDU", function(f)
    f[#f + 1] = num("A_MPDU_ref", R(0, 0xffffff))
    f[#f + 1] = num("A_MPDU_flags", R(0, 0x7f))
  end},
  {21, "VHT", function(f)
    f[#f + 1] = num("KnownVHT", R(0, 0x1ff))
    f[#f + 1] = num("PresentVHT", R(0, 0x3f))
    f[#f + 1] = num("VHT_bandwidth", R(0, 11))
    f[#f + 1] = num("GroupID", R(0, 63))
    f[#f + 1] = num("PartialAID", R(0, 511))
  end},
  {22, "timestamp", function(f)
    f[#f + 1] = num("timestamp", R(0, 0x7fffffff))
    f[#f + 1] = num("ts_accuracy", R(0, 1000))
    f[#f + 1] = num("ts_unit", R(0, 3))
    f[#f + 1] = num("ts_position", R(0, 15))
    f[#f + 1] = num("ts_flags", R(0, 3))
  end},
  {23, "HE", function(f)
    for i = 1, 6 do f[#f + 1] = num("he_data" .. i, R(0, 0xffff)) end
  end},
}

local function radiotap(fcs)
  local present, fields = 0, {}
  local names = {}
  for _, b in ipairs(rt_bits) do
    if b[1] == 1 then
      if fcs or chance(0.4) then
        present = present | 2
        names[#names + 1] = "Flags"
      end
    elseif chance(0.35) then
      present = present | (1 << b[1])
      names[#names + 1] = b[2]
    end
  end
  fields[1] = {"present", "'" .. table.concat(names, "+") .. "'", '"' .. table.concat(names, "+") .. '"'}
  if #names == 0 then fields[1] = num("present", 0) end
  for _, b in ipairs(rt_bits) do
    if present >> b[1] & 1 == 1 then
      if b[1] == 1 then
        local fl = (fcs and 0x10 or 0) | (R(0, 1) << 1) | (R(0, 1) << 7)
        fields[#fields + 1] = num("Flags", fl)
      else
        b[3](fields)
      end
    end
  end
  return layer("RadioTap", "RadioTap", fields)
end

-- ---- information elements ------------------------------------------------------------

local suites = {1, 2, 4, 5, 8, 9, 10}
local akms = {1, 2, 3, 5, 6, 8, 18}

local function rsn()
  local f = {num("version", 1)}
  local function list(name, key, values)
    local k = R(1, 3)
    local py, lua = {}, {}
    for i = 1, k do
      local v = pick(values)
      py[i] = ("%s(%s=%d)"):format(key == "cipher" and "RSNCipherSuite" or "AKMSuite", key, v)
      lua[i] = ("{%s=%d}"):format(key, v)
    end
    f[#f + 1] = {name, "[" .. table.concat(py, ", ") .. "]", "{" .. table.concat(lua, ", ") .. "}"}
  end
  list("pairwise_cipher_suites", "cipher", suites)
  list("akm_suites", "suite", akms)
  for _, b in ipairs{"mfp_capable", "mfp_required", "pre_auth", "no_pairwise", "ocvc"} do
    f[#f + 1] = num(b, R(0, 1))
  end
  f[#f + 1] = num("ptksa_replay_counter", R(0, 3))
  return layer("Dot11EltRSN", "Dot11EltRSN", f)
end

local function country()
  local k = R(0, 4)
  local py, lua = {}, {}
  for i = 1, k do
    local a, b, c = R(1, 200), R(1, 24), R(0, 40)
    py[i] = ("Dot11EltCountryConstraintTriplet(first_channel_number=%d, num_channels=%d, mtp=%d)"):format(a, b, c)
    lua[i] = ("{%d, %d, %d}"):format(a, b, c)
  end
  local cc = pick{"US ", "DE\x04", "JPI", "FRO"}
  return ("Dot11EltCountry(country_string=b'%s', descriptors=[%s])"):format(cc, table.concat(py, ", ")),
    ('Dot11EltCountry{country_string="%s", descriptors={%s}}'):format(cc:gsub("\\x04", "\\004"), table.concat(lua, ", "))
end

local function element()
  local k = R(1, 10)
  if k == 10 then return country() end
  if k == 1 then
    return layer("Dot11Elt", "Dot11Elt", {str("ID", "SSID"), bytes("info", ("x"):rep(R(0, 12)))})
  elseif k == 2 then
    local rates, py = {}, {}
    for i = 1, R(1, 8) do rates[i] = pick{0x82, 0x84, 0x8b, 0x96, 0x0c, 0x12, 0x18, 0x24, 0x30, 0x48, 0x60, 0x6c} end
    for i, r in ipairs(rates) do py[i] = tostring(r) end
    local id = pick{1, 50}
    return layer("Dot11EltRates", "Dot11EltRates", {num("ID", id),
      {"rates", "[" .. table.concat(py, ", ") .. "]", "{" .. table.concat(py, ", ") .. "}"}})
  elseif k == 3 then
    return layer("Dot11EltDSSSet", "Dot11EltDSSSet", {num("channel", R(1, 14))})
  elseif k == 4 then
    return layer("Dot11EltERP", "Dot11EltERP", {num("NonERP_Present", R(0, 1)),
      num("Use_Protection", R(0, 1)), num("Barker_Preamble_Mode", R(0, 1))})
  elseif k == 5 then
    local f = {}
    for _, n in ipairs{"L_SIG_TXOP_Protection", "Forty_Mhz_Intolerant", "DSSS_CCK", "Max_A_MSDU",
        "Short_GI_40Mhz", "Short_GI_20Mhz", "Green_Field", "Supported_Channel_Width",
        "LDPC_Coding_Capability", "Tx_STBC", "RD_Responder", "HTC_HT_Support", "PCO"} do
      if chance(0.5) then f[#f + 1] = num(n, R(0, 1)) end
    end
    f[#f + 1] = num("Rx_STBC", R(0, 3))
    f[#f + 1] = num("SM_Power_Save", pick{0, 1, 3})
    f[#f + 1] = num("Max_A_MPDU_Length_Exponent", R(0, 3))
    f[#f + 1] = num("Min_MPDCU_Start_Spacing", R(0, 7))
    f[#f + 1] = num("MCS_Feedback", R(0, 3))
    f[#f + 1] = num("PCO_Transition_Time", R(0, 3))
    return layer("Dot11EltHTCapabilities", "Dot11EltHTCapabilities", f)
  elseif k == 6 then
    return rsn()
  elseif k == 7 then
    return layer("Dot11EltVendorSpecific", "Dot11EltVendorSpecific",
      {num("oui", pick{0x00904c, 0x001018, 0x00037f, 0x506f9a}), bytes("info", rbytes(R(0, 10)))})
  else
    local id = pick{6, 11, 32, 33, 36, 46, 52, 61, 107, 127}
    return layer("Dot11Elt", "Dot11Elt", {num("ID", id), bytes("info", rbytes(R(0, 16)))})
  end
end

local function elements(py, lua)
  for _ = 1, R(0, 5) do
    local a, b = element()
    py = py .. "/" .. a
    lua = lua .. "/" .. b
  end
  return py, lua
end

-- ---- 802.11 --------------------------------------------------------------------------------

local function caps() return num("cap", R(0, 0xffff)) end

local function body(cls, fields, elts)
  local a, b = layer(cls, cls, fields)
  return a, b, elts
end

local bodies = {
  function() return body("Dot11Beacon", {num("timestamp", R(0, 0x7fffffff)),
    num("beacon_interval", R(1, 1000)), caps()}, true) end,
  function() return body("Dot11ProbeResp", {num("timestamp", R(0, 0x7fffffff)),
    num("beacon_interval", R(1, 1000)), caps()}, true) end,
  function() return body("Dot11AssoReq", {caps(), num("listen_interval", R(0, 500))}, true) end,
  function() return body("Dot11AssoResp", {caps(), num("status", R(0, 18)),
    num("AID", R(1, 2007))}, true) end,
  function() return body("Dot11ReassoReq", {caps(), num("listen_interval", R(0, 500)),
    str("current_AP", rmac())}, true) end,
  function() return body("Dot11ReassoResp", {caps(), num("status", R(0, 18)),
    num("AID", R(1, 2007))}, true) end,
  function() return body("Dot11Auth", {num("algo", R(0, 1)), num("seqnum", R(1, 4)),
    num("status", R(0, 18))}, true) end,
  function() return body("Dot11Deauth", {num("reason", R(0, 9))}, false) end,
  function() return body("Dot11Disas", {num("reason", R(0, 9))}, false) end,
  function() return "Dot11ProbeReq()", "Dot11ProbeReq()", true end,
}

local function dot11_header(cls, t, fcfield)
  return layer(cls, cls, {num("type", t), num("FCfield", fcfield), num("ID", R(0, 0xffff)),
    str("addr1", rmac()), str("addr2", rmac()), str("addr3", rmac()), num("SC", R(0, 0xffff))})
end

local function mgmt(cls)
  local py, lua = dot11_header(cls, 0, R(0, 0x3f))
  local a, b, elts = pick(bodies)()
  py, lua = py .. "/" .. a, lua .. "/" .. b
  if elts then py, lua = elements(py, lua) end
  return py, lua
end

local function ip_udp()
  local s = ("IP(src='10.%d.%d.%d', dst='10.0.0.%d')/UDP(sport=%d, dport=%d)"):format(
    R(0, 255), R(0, 255), R(1, 254), R(1, 254), R(10000, 60000), R(10000, 60000))
  return s, (s:gsub("%((.-)%)", "{%1}"):gsub("'", '"'))
end

local function data(cls)
  local fc = R(0, 3) | (R(0, 1) << 3)
  local t = {num("type", 2), num("FCfield", fc), num("ID", R(0, 0xffff)), str("addr1", rmac()),
    str("addr2", rmac()), str("addr3", rmac()), num("SC", R(0, 0xffff))}
  if fc & 3 == 3 then t[#t + 1] = str("addr4", rmac()) end
  local py, lua = layer(cls, cls, t)
  if chance(0.5) then
    local a, b = layer("Dot11QoS", "Dot11QoS", {num("TID", R(0, 15)), num("Ack_Policy", R(0, 3)),
      num("EOSP", R(0, 1)), num("TXOP", R(0, 255))})
    py, lua = py .. "/" .. a, lua .. "/" .. b
    -- Scapy's Dot11()/Dot11QoS() makes the frame a QoS null (subtype 12)
  end
  local a, b = ip_udp()
  py = py .. "/LLC()/SNAP()/" .. a
  lua = lua .. "/LLC()/SNAP()/" .. b
  return py, lua
end

local function protected(cls)
  local t = {num("type", 2), num("FCfield", 0x40 | R(0, 1)), str("addr1", rmac()),
    str("addr2", rmac()), str("addr3", rmac()), num("SC", R(0, 0xffff))}
  local py, lua = layer(cls, cls, t)
  local body = rbytes(R(8, 40))
  if chance(0.5) then
    -- a second byte equal to (first | 0x20) & 0x7f is TKIP's WEP seed to
    -- both readers (Scapy's Dot11 guesses so too): not a CCMP header
    local pn0, pn1 = R(0, 255), R(0, 255)
    if pn1 == (pn0 | 0x20) & 0x7f then pn1 = pn1 ~ 1 end
    local f = {num("PN0", pn0), num("PN1", pn1), num("key_id", R(0, 3)), num("ext_iv", 1),
      num("PN2", R(0, 255)), num("PN3", R(0, 255)), num("PN4", R(0, 255)), num("PN5", R(0, 255))}
    local a, b = layer("Dot11CCMP", "Dot11CCMP", f)
    return py .. "/" .. a:gsub("%)$", ", data=" .. pybytes(body) .. ")"), lua .. "/" .. b .. "/" .. luabytes(body)
  end
  local tsc1 = R(0, 255)
  local f = {num("TSC1", tsc1), num("WEPSeed", (tsc1 | 0x20) & 0x7f), num("TSC0", R(0, 255)),
    num("key_id", R(0, 3)), num("ext_iv", 1), num("TSC2", R(0, 255)), num("TSC3", R(0, 255)),
    num("TSC4", R(0, 255)), num("TSC5", R(0, 255))}
  local a, b = layer("Dot11TKIP", "Dot11TKIP", f)
  return py .. "/" .. a:gsub("%)$", ", data=" .. pybytes(body) .. ")"), lua .. "/" .. b .. "/" .. luabytes(body)
end

local function dot11_case()
  local fcs = chance(0.4)
  local cls = fcs and "Dot11FCS" or "Dot11"
  local py, lua
  local k = R(1, 10)
  if k <= 6 then py, lua = mgmt(cls)
  elseif k <= 8 then py, lua = data(cls)
  else py, lua = protected(cls) end
  if fcs or chance(0.6) then
    local a, b = radiotap(fcs)
    return a .. "/" .. py, b .. "/" .. lua, 127
  end
  return py, lua, 105
end

-- ---- 802.15.4 ------------------------------------------------------------------------------

local function addr(mode)
  if mode == 2 then return R(0, 0xffff) end
  return R(0, 0x7fffffff) * 0x100000000 + R(0, 0xffffffff)
end

local function wpan_case()
  local fcs = chance(0.6)
  local cls = fcs and "Dot15d4FCS" or "Dot15d4"
  local ft = pick{0, 1, 1, 2, 3, 3}
  local dm, sm = pick{2, 3}, pick{0, 2, 3}
  local comp = (sm ~= 0 and chance(0.5)) and 1 or 0
  local sec = (ft == 1 or ft == 3) and chance(0.3) and 1 or 0
  if ft == 0 then dm, sm, comp, sec = 0, pick{2, 3}, 0, 0 end
  if ft == 2 then dm, sm, comp, sec = 0, 0, 0, 0 end
  local fcf = {num("fcf_frametype", ft), num("fcf_destaddrmode", dm), num("fcf_srcaddrmode", sm),
    -- (Scapy asks `fcf_security is True`: a number 1 does not bring the header in)
    num("fcf_panidcompress", comp), {"fcf_security", sec == 1 and "True" or "False", tostring(sec)},
    num("fcf_ackreq", R(0, 1)),
    num("fcf_pending", R(0, 1)), num("fcf_framever", R(0, 1)), num("seqnum", R(0, 255))}
  local mac = {}  -- addressing: Scapy's upper layer, sflua's Dot15d4
  if ft ~= 0 and ft ~= 2 then
    mac[#mac + 1] = num("dest_panid", R(0, 0xffff))
    mac[#mac + 1] = num("dest_addr", addr(dm))
    if sm ~= 0 and comp == 0 then mac[#mac + 1] = num("src_panid", R(0, 0xffff)) end
    if sm ~= 0 then mac[#mac + 1] = num("src_addr", addr(sm)) end
  elseif ft == 0 then
    mac[#mac + 1] = num("src_panid", R(0, 0xffff))
    mac[#mac + 1] = num("src_addr", addr(sm))
  end
  local secf, pysec = {}, nil
  if sec == 1 then
    local kim = R(0, 3)
    secf = {num("sec_sc_keyidmode", kim), num("sec_sc_seclevel", R(0, 7)),
      num("sec_framecounter", R(0, 0x7fffffff))}
    if kim >= 2 then secf[#secf + 1] = num("sec_keyid_keysource", kim == 2 and R(0, 0x7fffffff) or addr(3)) end
    if kim ~= 0 then secf[#secf + 1] = num("sec_keyid_keyindex", R(0, 255)) end
    local a = layer("Dot15d4AuxSecurityHeader", "-", secf)
    pysec = {"aux_sec_header", a, nil}
  end
  local head = {}
  for _, f in ipairs(fcf) do head[#head + 1] = f end
  local pyhead = layer(cls, cls, fcf)
  for _, f in ipairs(mac) do head[#head + 1] = f end
  for _, f in ipairs(secf) do head[#head + 1] = f end
  local _, luahead = layer(cls, cls, head)
  local pymac = {}
  for _, f in ipairs(mac) do pymac[#pymac + 1] = f end
  if pysec then pymac[#pymac + 1] = pysec end
  local function pyl(name, extra)
    local all = {}
    for _, f in ipairs(pymac) do all[#all + 1] = f end
    for _, f in ipairs(extra or {}) do all[#all + 1] = f end
    local a = {}
    for _, f in ipairs(all) do a[#a + 1] = f[1] .. "=" .. f[2] end
    return name .. "(" .. table.concat(a, ", ") .. ")"
  end
  local py, lua = pyhead, luahead
  if ft == 0 then
    local sf = {num("sf_sforder", R(0, 15)), num("sf_beaconorder", R(0, 15)),
      num("sf_assocpermit", R(0, 1)), num("sf_pancoord", R(0, 1)), num("sf_battlifeextend", R(0, 1)),
      num("sf_finalcapslot", R(0, 15)), num("gts_spec_permit", R(0, 1))}
    local _, b = layer("-", "Dot15d4Beacon", sf)
    py = py .. "/" .. pyl("Dot15d4Beacon", sf)
    lua = lua .. "/" .. b
    local pay = rbytes(R(0, 8))
    if #pay > 0 then py, lua = py .. "/Raw(" .. pybytes(pay) .. ")", lua .. "/" .. luabytes(pay) end
  elseif ft == 1 then
    local pay = rbytes(R(1, 20))
    py = py .. "/" .. pyl("Dot15d4Data") .. "/Raw(" .. pybytes(pay) .. ")"
    lua = lua .. "/" .. luabytes(pay)
  elseif ft == 2 then
    py = py .. "/Dot15d4Ack()"
  else
    local cmds = {
      {1, "Dot15d4CmdAssocReq", {num("allocate_address", R(0, 1)), num("device_type", R(0, 1)),
        num("power_source", R(0, 1)), num("receiver_on_when_idle", R(0, 1))}},
      {2, "Dot15d4CmdAssocResp", {num("short_address", R(0, 0xffff)), num("association_status", R(0, 2))}},
      {3, "Dot15d4CmdDisassociation", {num("disassociation_reason", R(1, 2))}},
      {8, "Dot15d4CmdCoordRealign", {num("panid", R(0, 0xffff)), num("coord_address", R(0, 0xffff)),
        num("channel", R(11, 26)), num("dev_address", R(0, 0xffff))}},
      {9, "Dot15d4CmdGTSReq", {num("gts_len", R(0, 15)), num("gts_dir", R(0, 1)), num("charact_type", R(0, 1))}},
    }
    local c = pick(cmds)
    py = py .. "/" .. pyl("Dot15d4Cmd", {num("cmd_id", c[1])})
    lua = lua .. "/Dot15d4Cmd{cmd_id=" .. c[1] .. "}"
    if sec == 0 then  -- (a secured payload is not read as a command's)
      local a, b = layer(c[2], c[2], c[3])
      py, lua = py .. "/" .. a, lua .. "/" .. b
    end
  end
  return py, lua, fcs and 195 or 230
end

-- ---- 802.3 / LLC / SNAP --------------------------------------------------------------------

local function llc_case()
  local src, dst = rmac(), rmac()
  local k = R(1, 3)
  if k == 1 then
    local d, s, c = pick{0x42, 0xe0, 0xf0, 0x06, 0xfe}, pick{0x42, 0xe0, 0xf0, 0x06, 0xfe}, pick{3, 0x13, 0xf3}
    local pay = rbytes(R(1, 30))
    return ("Dot3(src='%s', dst='%s')/LLC(dsap=%d, ssap=%d, ctrl=%d)/Raw(%s)"):format(src, dst, d, s, c, pybytes(pay)),
      ('Dot3{src="%s", dst="%s"}/LLC{dsap=%d, ssap=%d, ctrl=%d}/%s'):format(src, dst, d, s, c, luabytes(pay)), 1
  elseif k == 2 then
    local a, b = ip_udp()
    return ("Dot3(src='%s', dst='%s')/LLC()/SNAP()/%s"):format(src, dst, a),
      ('Dot3{src="%s", dst="%s"}/LLC()/SNAP()/%s'):format(src, dst, b), 1
  end
  local ip1, ip2 = ("10.1.%d.%d"):format(R(0, 255), R(1, 254)), ("10.2.%d.%d"):format(R(0, 255), R(1, 254))
  return ("Ether(src='%s', dst='%s')/LLC()/SNAP()/ARP(hwsrc='%s', psrc='%s', pdst='%s')"):format(src, dst, src, ip1, ip2),
    ('Ether{src="%s", dst="%s"}/LLC()/SNAP()/ARP{hwsrc="%s", psrc="%s", pdst="%s"}'):format(src, dst, src, ip1, ip2), 1
end

for _ = 1, count do
  local k = R(1, 10)
  local py, lua, lt
  if k <= 6 then py, lua, lt = dot11_case()
  elseif k <= 9 then py, lua, lt = wpan_case()
  else py, lua, lt = llc_case() end
  print(py .. "\t" .. lua .. "\t" .. lt)
end
