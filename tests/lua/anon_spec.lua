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

  it("has presets with documented effects, overridable", function()
    local ml = Policy.ml_optimized()
    assert.equal("preserve", ml.port_mode)
    assert.equal(64, ml.payload_truncate_bytes)
    local mx = Policy.maximum_privacy{timestamp_jitter_ms = 50}
    assert.equal("permute", mx.ip_mode)
    assert.equal("drop", mx.payload_mode)
    assert.equal(50, mx.timestamp_jitter_ms)
  end)

  it("names the valid modes and options in its errors", function()
    assert.has_error(function() Policy{ip_mode = "cryptopan"} end,
      "AnonymizationPolicy.ip_mode: unknown mode 'cryptopan' (valid: preserve, crypto_pan, permute)")
    local ok, msg = pcall(Policy, {ipmode = 1})
    assert.is_false(ok)
    assert.truthy(msg:find("no option 'ipmode'", 1, true) and msg:find("hash_salt", 1, true))
    assert.has_error(function() Policy{payload_truncate_bytes = -1} end)
    assert.has_error(function() Policy().ip_mode = "preserve" end)
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

  it("fixes lengths and checksums after truncating payloads", function()
    local a = sf.Anonymizer(Policy(with{payload_truncate_bytes = 4}))
    local raw = (sf.Ether() / sf.IP{src = "10.1.1.1", dst = "10.2.2.2"} / sf.UDP{sport = 5353, dport = 53} /
                 ("x"):rep(100)):bytes()
    local p = a:packet(sf.Packet(raw))
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

  it("reports errors with the file's name", function()
    assert.has_error(function() sf.anonymize_pcap("/nonexistent.pcap", tmpname(".pcap"), Policy()) end)
  end)
end)
