-- Anonymization: CryptoPan, AnonymizationPolicy, Anonymizer, anonymize_pcap.
-- tests/c/test_anon.c checks the engine; tests/anon/check_tshark.sh asks
-- tshark about the captures written.
local sf = require("stackforge")
local h = require("helpers")
local CryptoPan, Policy = sf.CryptoPan, sf.AnonymizationPolicy

local sample_key = string.char(21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22,
  73, 144, 125, 16, 216, 152, 143, 131, 121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2)
local KEYS = {crypto_pan_key = ("k"):rep(32), hash_salt = ("s"):rep(32)}

local function with(t)
  local r = {}
  for k, v in pairs(KEYS) do r[k] = v end
  for k, v in pairs(t or {}) do r[k] = v end
  return r
end

local function tmpname(ext)
  local n = os.tmpname()
  os.remove(n)
  return n .. ext
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local d = f:read("a")
  f:close()
  return d
end

local function bits(s)  -- an address's bits as a string of 0/1
  local b = require("stackforge.core").pton(s)
  return (b:gsub(".", function(c)
    local x, out = c:byte(), {}
    for i = 7, 0, -1 do out[#out + 1] = (x >> i) & 1 end
    return table.concat(out)
  end))
end

local function common(a, b)
  local n = 0
  while n < #a and a:sub(n + 1, n + 1) == b:sub(n + 1, n + 1) do n = n + 1 end
  return n
end

describe("CryptoPan", function()
  it("reproduces the original sample", function()
    local c = CryptoPan(sample_key)
    assert.equal("135.242.180.132", c:anonymize("128.11.68.132"))
    assert.equal("100.9.15.210", c:anonymize("24.5.0.80"))
    assert.equal("134.136.186.123", c:anonymize("129.118.74.4"))
  end)

  it("reproduces every published vector, and inverts them", function()
    local core = require("stackforge.core")
    local c, n = nil, 0
    for line in io.lines(h.path("cryptopan.txt")) do
      local key = line:match("^key (%x+)")
      if key then
        c = CryptoPan(key)  -- 64 hex digits are accepted too
      elseif not line:match("^#") then
        local a, b = line:match("^(%S+) (%S+)")
        if a then
          assert.equal(core.pton(b), core.pton(c:anonymize(a)), a)
          assert.equal(core.pton(a), core.pton(c:deanonymize(b)), b)
          n = n + 1
        end
      end
    end
    assert.equal(141, n)
  end)

  it("preserves prefixes of random IPv4 and IPv6 pairs", function()
    local c = CryptoPan(sample_key)
    math.randomseed(11)
    for _ = 1, 300 do
      local a = ("%d.%d.%d.%d"):format(math.random(0, 255), math.random(0, 255),
                                        math.random(0, 255), math.random(0, 255))
      local b = ("%d.%d.%d.%d"):format(math.random(0, 255), math.random(0, 255),
                                        math.random(0, 255), math.random(0, 255))
      assert.equal(common(bits(a), bits(b)), common(bits(c:anonymize(a)), bits(c:anonymize(b))))
      local p = ("2001:db8:%x:%x::%x"):format(math.random(0, 0xffff), math.random(0, 0xffff), math.random(0, 0xffff))
      local q = ("2001:db8:%x:%x::%x"):format(math.random(0, 0xffff), math.random(0, 0xffff), math.random(0, 0xffff))
      assert.equal(common(bits(p), bits(q)), common(bits(c:anonymize(p)), bits(c:anonymize(q))))
    end
  end)

  it("rejects bad keys and addresses, and closes cleanly", function()
    assert.has_error(function() CryptoPan("short") end)
    local c = CryptoPan(sample_key)
    assert.has_error(function() c:anonymize("1.2.3") end)
    c:close()
    c:close()
    assert.has_error(function() c:anonymize("1.2.3.4") end, "attempt to use a closed CryptoPan")
  end)
end)

describe("AnonymizationPolicy", function()
  it("has defaults, and generates a key and salt that can be read back", function()
    local p = Policy()
    assert.equal("crypto_pan", p.ip_mode)
    assert.equal("truncate_to", p.payload_mode)
    assert.equal(256, p.payload_truncate_bytes)
    assert.equal(32, #p.crypto_pan_key)
    assert.equal(32, #p.hash_salt)
    assert.not_equal(p.crypto_pan_key, Policy().crypto_pan_key)
    local q = Policy(p:options())  -- the same policy again
    assert.equal(p.crypto_pan_key, q.crypto_pan_key)
    assert.equal(tostring(p), tostring(q))
  end)

  it("takes the modes of DESIGN.md", function()
    local p = Policy{ip_mode = "crypto_pan", mac_mode = "salted_hash", port_mode = "preserve_well_known",
      timestamp_mode = "epoch_shift", tcp_seq_mode = "random_offset", payload_mode = "truncate_to",
      payload_truncate_bytes = 256, crypto_pan_key = ("\0"):rep(32), timestamp_jitter_ms = 10}
    assert.equal(10, p.timestamp_jitter_ms)
    assert.equal(("\0"):rep(32), p.crypto_pan_key)
  end)

  it("has the seed toolkit's presets, overridable", function()
    -- Stackforge's README: ml_optimized is Crypto-PAn, well-known ports
    -- kept, epoch shift, random seq offset, payloads cut to 256 bytes
    local ml = Policy.ml_optimized()
    assert.same({"crypto_pan", "salted_hash", "preserve_well_known", "epoch_shift", "random_offset",
                 "truncate_to", 256, 0},
      {ml.ip_mode, ml.mac_mode, ml.port_mode, ml.timestamp_mode, ml.tcp_seq_mode, ml.payload_mode,
       ml.payload_truncate_bytes, ml.timestamp_jitter_ms})
    -- maximum_privacy: Crypto-PAn, all ports categorized, epoch shift with
    -- jitter, random seq offset, payloads removed
    local mx = Policy.maximum_privacy()
    assert.same({"crypto_pan", "categorize", "epoch_shift_jitter", "random_offset", "truncate_all"},
      {mx.ip_mode, mx.port_mode, mx.timestamp_mode, mx.tcp_seq_mode, mx.payload_mode})
    assert.equal(10, mx.timestamp_jitter_ms)
    assert.equal(50, Policy.maximum_privacy{timestamp_jitter_ms = 50}.timestamp_jitter_ms)
    -- a timestamp mode brings its own jitter: none for epoch_shift
    assert.equal(0, Policy.maximum_privacy{timestamp_mode = "epoch_shift"}.timestamp_jitter_ms)
  end)

  it("takes the seed toolkit's mode names, sflua's older ones as aliases", function()
    local p = Policy{mac_mode = "salted_hash_preserve_oui", port_mode = "categorize",
                     timestamp_mode = "epoch_shift_jitter", payload_mode = "truncate_all"}
    assert.equal("salted_hash_preserve_oui", p.mac_mode)
    assert.equal("categorize", p.port_mode)
    assert.equal(10, p.timestamp_jitter_ms)  -- epoch_shift_jitter's own
    assert.equal("truncate_all", p.payload_mode)
    local q = Policy{mac_mode = "salted_hash_keep_oui", payload_mode = "drop"}
    assert.equal("salted_hash_preserve_oui", q.mac_mode)
    assert.equal("truncate_all", q.payload_mode)
    -- the seed's None: false (a key set to nil is no key in a Lua table) or "none"
    local n = Policy{ip_mode = false, mac_mode = "none", port_mode = false, timestamp_mode = false,
                     tcp_seq_mode = false, payload_mode = false}
    for _, k in ipairs{"ip_mode", "mac_mode", "port_mode", "timestamp_mode", "tcp_seq_mode", "payload_mode"} do
      assert.equal("preserve", n[k])
    end
    local a = sf.Anonymizer(n)
    assert.equal("10.1.2.3", a:ip("10.1.2.3"))
    assert.equal(40000, a:port(40000))
  end)

  it("categorizes ports as the seed does (IANA ranges, each to its first port)", function()
    local a = sf.Anonymizer(Policy(with{port_mode = "categorize"}))
    for port, want in pairs{[0] = 0, [80] = 0, [1023] = 0, [1024] = 1024, [8080] = 1024,
                            [49151] = 1024, [49152] = 49152, [65535] = 49152} do
      assert.equal(want, a:port(port), port)
    end
  end)

  it("names the valid modes and options in its errors", function()
    assert.has_error(function() Policy{ip_mode = "cryptopan"} end,
      "AnonymizationPolicy.ip_mode: unknown mode 'cryptopan' (valid: preserve (or none), crypto_pan, permute; false passes through)")
    local ok, msg = pcall(Policy, {ipmode = 1})
    assert.is_false(ok)
    assert.truthy(msg:find("no option 'ipmode'", 1, true) and msg:find("hash_salt", 1, true))
    assert.has_error(function() Policy().ip_mode = "preserve" end)
  end)

  it("checks every numeric option, naming it and what it takes", function()
    local bad = {0 / 0, math.huge, -math.huge, -1, 1e300, 2.5, "12", true, 1 << 40}
    for _, opt in ipairs{"timestamp_jitter_ms", "payload_truncate_bytes"} do
      for _, v in ipairs(bad) do
        local ok, msg = pcall(function() local _ = Policy{[opt] = v} end)
        assert.is_false(ok, opt .. " = " .. tostring(v))
        assert.truthy(msg:find("AnonymizationPolicy." .. opt .. ": expected a whole number of ", 1, true), msg)
        assert.truthy(msg:find("from 0 to %d+, got "), msg)
        assert.truthy(msg:find("^[^:]*anon_spec%.lua:%d+:"), msg)  -- the caller's line
      end
    end
    assert.equal(128, Policy{payload_truncate_bytes = 128.0}.payload_truncate_bytes)
    assert.equal(3600000, Policy{timestamp_jitter_ms = 3600000}.timestamp_jitter_ms)
    assert.has_error(function() Policy{timestamp_jitter_ms = 3600001} end)
    assert.has_error(function() Policy{timestamp_mode = "epoch_shift_jitter", timestamp_jitter_ms = 0} end,
      "AnonymizationPolicy.timestamp_jitter_ms: epoch_shift_jitter needs at least 1 ms (timestamp_mode \"epoch_shift\" has none)")
    assert.has_error(function() Policy{payload_rewrite_lengths = 1} end,
      "AnonymizationPolicy.payload_rewrite_lengths: expected true or false, got number")
    assert.has_error(function() Policy{port_mode = 3} end)
  end)
end)

describe("Anonymizer", function()
  local function tcp_pair(a)
    local c2s = sf.Ether{src = "00:1b:21:01:02:03", dst = "00:1b:21:0a:0b:0c"} /
      sf.IP{src = "10.0.0.1", dst = "192.0.2.9"} /
      sf.TCP{sport = 40000, dport = 80, seq = 1000, ack = 5000, flags = "PA",
             options = {{"NOP"}, {"NOP"}, {"SAck", {5100, 5200}}}} / "GET / HTTP/1.0\r\n\r\n"
    local s2c = sf.Ether{src = "00:1b:21:0a:0b:0c", dst = "00:1b:21:01:02:03"} /
      sf.IP{src = "192.0.2.9", dst = "10.0.0.1"} /
      sf.TCP{sport = 80, dport = 40000, seq = 5000, ack = 1018, flags = "A"}
    return a:packet(sf.Packet(c2s:bytes())), a:packet(sf.Packet(s2c:bytes()))
  end

  it("keeps seq/ack consistent per direction, SACK included", function()
    local a = sf.Anonymizer(Policy(with()))
    local p, q = tcp_pair(a)
    assert.equal((q.ack - p.seq) % 2^32, 18)  -- ack still covers the request
    assert.equal(p.ack, q.seq)
    assert.not_equal(1000, p.seq)
    local sack = p[sf.TCP].options[3][2]
    assert.equal((sack[1] - q.seq) % 2^32, 100)
    assert.equal(80, p.dport)                 -- well-known kept
    assert.not_equal(40000, p.sport)
    assert.equal(p.sport, q.dport)
    assert.equal(a:ip("10.0.0.1"), p[sf.IP].src)
    assert.equal(p[sf.IP].src, q[sf.IP].dst)
    assert.equal(p[sf.Ether].src, q[sf.Ether].dst)
    assert.not_equal("00:1b:21:01:02:03", p[sf.Ether].src)
  end)

  local function udp_packet(load)
    return (sf.Ether() / sf.IP{src = "10.1.1.1", dst = "10.2.2.2"} / sf.UDP{sport = 5353, dport = 53} /
            load):bytes()
  end

  it("cuts payloads as a snap length does, checksums moved by exactly its changes", function()
    local raw = udp_packet(("x"):rep(100))
    local p = sf.Anonymizer(Policy(with{payload_truncate_bytes = 4})):packet(sf.Packet(raw))
    local fresh = sf.Packet(p:bytes())
    assert.equal(14 + 20 + 8 + 4, #fresh)
    assert.equal(#raw, p.wirelen)        -- the record keeps its length...
    assert.equal(128, fresh[sf.IP].len)  -- ...and so do the headers
    assert.equal(108, fresh[sf.UDP].len)
    -- the UDP checksum is the one of the whole anonymized datagram
    local whole = sf.Anonymizer(Policy(with{payload_mode = "preserve"})):packet(sf.Packet(raw))
    assert.equal(whole[sf.UDP].chksum, fresh[sf.UDP].chksum)
    assert.equal(whole[sf.IP].chksum, fresh[sf.IP].chksum)
  end)

  it("fixes lengths and checksums after truncating payloads, asked to", function()
    local a = sf.Anonymizer(Policy(with{payload_truncate_bytes = 4, payload_rewrite_lengths = true}))
    local raw = udp_packet(("x"):rep(100))
    local p = a:packet(sf.Packet(raw))
    assert.equal(#p, p.wirelen)
    local fresh = sf.Packet(p:bytes())
    assert.equal(14 + 20 + 8 + 4, #fresh)
    assert.equal(32, fresh[sf.IP].len)
    assert.equal(12, fresh[sf.UDP].len)
    local rebuilt = sf.Packet(fresh:bytes())
    rebuilt[sf.UDP].chksum = nil
    rebuilt[sf.IP].chksum = nil
    local final = sf.Packet(rebuilt:bytes())
    assert.equal(final[sf.UDP].chksum, fresh[sf.UDP].chksum)
    assert.equal(final[sf.IP].chksum, fresh[sf.IP].chksum)
  end)

  it("rewrites the addresses quoted in ICMP errors", function()
    local a = sf.Anonymizer(Policy(with{port_mode = "preserve"}))
    local err = sf.Ether() / sf.IP{src = "198.51.100.1", dst = "10.0.0.1"} / sf.ICMP.dest_unreach{code = 3} /
      sf.IP{src = "10.0.0.1", dst = "192.0.2.7"} / sf.UDP{sport = 1234, dport = 33434} / "probe"
    local p = sf.Packet(a:packet(sf.Packet(err:bytes())):bytes())
    local inner = p:layer(4)
    assert.equal(a:ip("10.0.0.1"), inner.src)
    assert.equal(a:ip("192.0.2.7"), inner.dst)
  end)
end)

describe("anonymize_pcap", function()
  it("is deterministic and keeps every packet", function()
    local o1, o2 = tmpname(".pcap"), tmpname(".pcap")
    local p = Policy(with{timestamp_jitter_ms = 5})
    local st = sf.anonymize_pcap(h.path("http.pcap"), o1, p)
    sf.anonymize_pcap(h.path("http.pcap"), o2, Policy(p:options()))
    assert.equal(43, st.packets)
    assert.equal(read_file(o1), read_file(o2))
    local pk = sf.rdpcap(o1)
    assert.equal(43, #pk)
    assert.is_true(pk[1].time < 1)  -- epoch_shift: the capture starts at 0
    for i = 2, #pk do assert.is_true(pk[i].time >= pk[i - 1].time) end
    os.remove(o1)
    os.remove(o2)
  end)

  local function ip_len(p)  -- IPv4's total length or IPv6's payload length
    return p:has_layer("IP") and p[sf.IP].len or p:has_layer("IPv6") and p[sf.IPv6].plen or nil
  end

  it("cuts payloads as a snap length does: lengths and the record's length kept", function()
    local out = tmpname(".pcap")
    sf.anonymize_pcap(h.path("dnssec.pcap"), out, Policy(with()))
    local a, b, cut = sf.rdpcap(h.path("dnssec.pcap")), sf.rdpcap(out), 0
    assert.equal(#a, #b)
    for i = 1, #a do
      assert.equal(a[i].wirelen, b[i].wirelen)
      assert.equal(ip_len(a[i]), ip_len(b[i]))
      if #b[i] < #a[i] then
        cut = cut + 1
        assert.is_true(#b[i] <= 14 + 20 + 8 + 256)
      end
    end
    assert.is_true(cut > 0)
    -- asked for, the lengths follow the cut instead
    sf.anonymize_pcap(h.path("dnssec.pcap"), out, Policy(with{payload_rewrite_lengths = true}))
    b = sf.rdpcap(out)
    for i = 1, #a do
      assert.equal(#b[i], b[i].wirelen)
      if #b[i] < #a[i] then assert.equal(#b[i] - 14, ip_len(b[i]) + (b[i]:has_layer("IP") and 0 or 40)) end
    end
    os.remove(out)
  end)

  it("never stops at a clock that steps back", function()
    for _, name in ipairs{"l2tp-avp-overflow.pcap", "pcapng-conformance/le/advanced/test101.pcapng"} do
      local inp = sf.rdpcap(h.path(name))
      for _, mode in ipairs{"epoch_shift", "epoch_shift_jitter", "random_shift"} do
        local out = tmpname(name:match("%.%w+$"))
        local st = sf.anonymize_pcap(h.path(name), out, Policy(with{timestamp_mode = mode}))
        local pk = sf.rdpcap(out)
        assert.equal(#inp, st.packets)
        assert.equal(#inp, #pk)
        for i = 2, #pk do  -- each step keeps its direction
          if inp[i].time_ns >= inp[i - 1].time_ns then assert.is_true(pk[i].time_ns >= pk[i - 1].time_ns)
          else assert.is_true(pk[i].time_ns <= pk[i - 1].time_ns) end
        end
        if mode ~= "random_shift" then
          assert.is_true(st.timestamps_clamped > 0)  -- steps back past the first packet: at 1970
          for i = 1, #pk do assert.is_true(pk[i].time_ns >= 0) end
        end
        os.remove(out)
      end
    end
    -- epoch_shift: the same shift for every packet, so steps back stay as they were
    local out = tmpname(".pcap")
    sf.anonymize_pcap(h.path("l2tp-avp-overflow.pcap"), out, Policy(with()))
    local pk = sf.rdpcap(out)
    local orig = sf.rdpcap(h.path("l2tp-avp-overflow.pcap"))
    assert.is_true(orig[4].time_ns < orig[3].time_ns)
    assert.equal(orig[3].time_ns - orig[4].time_ns, pk[3].time_ns - pk[4].time_ns)
    os.remove(out)
  end)

  it("reports errors with the file's name", function()
    assert.has_error(function() sf.anonymize_pcap("/nonexistent.pcap", tmpname(".pcap"), Policy()) end)
  end)
end)
