-- WorkerPool, parse_batch and the threads= options (docs/scale.md): results
-- equal one thread's, and a worker's error reaches the caller with the
-- worker's traceback.  tests/par/equal.lua checks the same equalities on
-- the bench generators' captures.  Run by ctest par_spec (also in the
-- ThreadSanitizer tree) in a process of its own: the busted suites bind
-- Lua heuristics that a WorkerPool's states would have to define again.
local sf = require("stackforge")
local h = require("helpers")

local MIX = h.path("anon_mix.pcap")

local function tmpname(ext)
  local n = os.tmpname()
  os.remove(n)
  return n .. (ext or "")
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- anon_mix.pcap's packets 14 times over, a second later each time: 9 MB,
-- so that it splits into chunks (core/io/split.c cuts every 4 MB)
local big
local function big_capture()
  if big then return big end
  local path = tmpname(".pcap")
  local w = sf.PcapWriter(path)
  for round = 0, 13 do
    for p in sf.PcapReader(MIX) do
      p.time = p.time + round * 1000
      w:write(p)
    end
  end
  w:close()
  big = path
  return big
end

local function summaries(path, opts)
  local out = {}
  for p in sf.PcapReader(path, opts) do out[#out + 1] = p.frame_number .. " " .. p:summary() end
  return out
end

describe("WorkerPool", function()
  local pool = sf.WorkerPool{threads = 2}

  it("pool:map gives what a loop gives, in capture order", function()
    local want = {}
    for p in sf.PcapReader(MIX) do want[#want + 1] = p.frame_number .. " " .. p.wirelen end
    local got = pool:map(MIX, function(p) return p.frame_number .. " " .. p.wirelen end)
    assert.are.same(want, got)
    got = pool:map(big_capture(), "function(p) return p.frame_number end")
    assert.are.equal(14 * #want, #got)
    for i = 1, #got do assert(got[i] == i, "frame " .. i) end
  end)

  it("pool:map with reduce and filter, from a script", function()
    local script = tmpname(".lua")
    local f = assert(io.open(script, "w"))
    f:write("return {map = function(p) return p.wirelen end, reduce = function(a, b) return a + b end}\n")
    f:close()
    local total = 0
    for p in sf.PcapReader(big_capture(), {filter = "tcp"}) do total = total + p.wirelen end
    assert.are.equal(total, pool:map(big_capture(), script, {filter = "tcp"}))
    os.remove(script)
  end)

  it("a worker's error reaches the caller with the worker's traceback", function()
    local src = [[
      local function inner(p) error("bad packet " .. p.frame_number) end
      return function(p) if p.frame_number == 30007 then inner(p) end end]]
    local ok, err = pcall(pool.map, pool, big_capture(), src)
    assert.is_false(ok)
    assert.matches("frame 30007", err)
    assert.matches("bad packet 30007", err)
    assert.matches("stack traceback:", err, 1, true)
    assert.matches("inner", err)  -- the function that failed, in the worker
  end)

  it("refuses what another state cannot run, at the caller's line", function()
    local upvalue = 1
    local ok, err = pcall(function()
      local r = pool:map(MIX, function() return upvalue end)
      return r
    end)
    assert.is_false(ok)
    assert.matches("pool_spec%.lua:%d+: pool:map: the function uses local variables", err)
    assert.matches("upvalue", err)
    ok, err = pcall(sf.WorkerPool, {threads = 0})
    assert.is_false(ok)
    assert.matches("threads must be at least 1", err)
  end)

  it("parse_batch dissects as one thread does", function()
    local raw = {}
    for p in sf.PcapReader(MIX) do raw[#raw + 1] = p:bytes() end
    local got = sf.parse_batch(raw)
    assert.are.equal(#raw, #got)
    for i = 1, #raw do assert.are.equal(sf.Packet(raw[i]):summary(), got[i]:summary()) end
  end)
end)

describe("threads= options", function()
  it("extract_flows{threads=2} gives one thread's conversations, in order", function()
    for _, name in ipairs{"flows_frag.pcap", "anon_mix.pcap"} do
      local a, b = tmpname(), tmpname()
      sf.write_flows(sf.extract_flows(h.path(name)), a)
      sf.write_flows(sf.extract_flows(h.path(name), {threads = 2}), b)
      assert.are.equal(slurp(a), slurp(b))
      os.remove(a)
      os.remove(b)
    end
    local ok, err = pcall(sf.extract_flows, MIX, {threads = 2, on_packet = function() end})
    assert.is_false(ok)
    assert.matches("on_packet", err)
  end)

  it("extract_flows{threads=2, tls_keylog=} decrypts what one thread decrypts", function()
    local pcap, keys = h.path("tlsdec_openssl.pcap"), h.path("tlsdec_openssl.keys")
    local function plain(opts)
      local out = {}
      for _, c in ipairs(sf.extract_flows(pcap, opts)) do
        out[#out + 1] = table.concat({c.dst_port, tostring(c.decrypted_forward), tostring(c.decrypted_reverse),
                                      c.tls and c.tls.version or "-"}, "|")
      end
      return out
    end
    local one = plain({tls_keylog = keys})
    assert.is_true(#one > 1)
    assert.are.same(one, plain({tls_keylog = keys, threads = 2}))
    assert.are.same(one, plain({tls_keylog = keys, threads = 3}))
  end)

  it("anonymize_pcap{threads=} writes one thread's bytes, filtered or not", function()
    local policy = sf.AnonymizationPolicy{crypto_pan_key = ("k"):rep(32), hash_salt = ("s"):rep(32),
                                          timestamp_jitter_ms = 2}
    for _, filter in ipairs{false, "tcp or icmp"} do
      local a, b = tmpname(".pcap"), tmpname(".pcap")
      local s1 = sf.anonymize_pcap(big_capture(), a, policy, {filter = filter or nil})
      local s2 = sf.anonymize_pcap(big_capture(), b, policy, {filter = filter or nil, threads = 2})
      assert.are.same(s1, s2)
      assert.is_true(slurp(a) == slurp(b))
      os.remove(a)
      os.remove(b)
    end
    local ok, err = pcall(function()
      local st = sf.anonymize_pcap(MIX, tmpname(), policy, {threads = 300})
      return st
    end)
    assert.is_false(ok)
    assert.matches("pool_spec%.lua:%d+: anonymize_pcap: threads must be at most 255", err)
  end)

  it("PcapReader and rdpcap with filter= and threads= read what one thread reads", function()
    local cap = big_capture()
    assert.are.same(summaries(cap, {filter = "udp or icmp"}),
                    summaries(cap, {filter = "udp or icmp", threads = 2}))
    local one = sf.rdpcap(cap, {filter = "tcp.flags.syn == 1", count = 100})
    local two = sf.rdpcap(cap, {filter = "tcp.flags.syn == 1", count = 100, threads = 3})
    assert.are.equal(100, #two)
    for i = 1, 100 do assert.are.equal(one[i].frame_number, two[i].frame_number) end
  end)

  it("a capture cut short fails in the same place with threads", function()
    local data = slurp(big_capture())
    local cut = tmpname(".pcap")
    local f = assert(io.open(cut, "wb"))
    f:write(data:sub(1, #data - 500))
    f:close()
    local function read(opts)
      local n, last = 0, 0
      local ok, err = pcall(function()
        for p in sf.PcapReader(cut, opts) do n, last = n + 1, p.frame_number end
      end)
      return ok, n, last, tostring(err):gsub("^.-pool_spec%.lua:%d+: ", "")
    end
    local ok1, n1, last1, err1 = read({filter = "ip"})
    local ok2, n2, last2, err2 = read({filter = "ip", threads = 2})
    assert.are.same({ok1, n1, last1, err1}, {ok2, n2, last2, err2})
    os.remove(cut)
  end)
end)

-- Last: a heuristic written in Lua, bound in this state, can run only on
-- this thread; the drivers on threads notice and do the work here.
describe("threads= with a protocol that needs Lua", function()
  local seen = 0
  local H = sf.CustomLayer("ParHeur", {sf.StrFixedLenField("magic", "PARH", 4)})
  sf.bind_heuristic(sf.UDP, H, function(b) seen = seen + 1 return b:sub(1, 4) == "PARH" end)

  it("gives what one thread gives, the Lua run on the caller's thread", function()
    local cap = big_capture()
    seen = 0
    local one = summaries(cap, {filter = "udp or icmp"})
    local calls = seen
    assert.is_true(calls > 0)
    assert.are.same(one, summaries(cap, {filter = "udp or icmp", threads = 2}))
    assert.is_true(seen >= 2 * calls)  -- the heuristic ran here, for every UDP packet
    local a, b = tmpname(), tmpname()
    sf.write_flows(sf.extract_flows(cap), a)
    sf.write_flows(sf.extract_flows(cap, {threads = 2}), b)
    assert.are.equal(slurp(a), slurp(b))
    local policy = sf.AnonymizationPolicy{crypto_pan_key = ("k"):rep(32), hash_salt = ("s"):rep(32)}
    sf.anonymize_pcap(cap, a, policy, {filter = "udp"})
    sf.anonymize_pcap(cap, b, policy, {filter = "udp", threads = 2})
    assert.is_true(slurp(a) == slurp(b))
    os.remove(a)
    os.remove(b)
  end)
end)

describe("sflua -m", function()
  local sflua = os.getenv("SFLUA_BIN")
  local function run(script_text, paths)
    local script = tmpname(".lua")
    local f = assert(io.open(script, "w"))
    f:write(script_text)
    f:close()
    local input = tmpname()
    f = assert(io.open(input, "w"))
    f:write(table.concat(paths, "\n"), "\n")
    f:close()
    local err = tmpname()
    local p = io.popen(("%s -m %s < %s 2> %s; echo status=$?"):format(sflua, script, input, err))
    local out = p:read("a")
    p:close()
    local e = slurp(err)
    os.remove(script)
    os.remove(input)
    os.remove(err)
    return out, e
  end

  it("writes a JSON line per value the map returns, per capture in order", function()
    if not sflua then return pending("SFLUA_BIN not set") end
    local out = run("return function(p, path) return {n = p.frame_number, len = p.wirelen} end",
                    {MIX, h.path("http.pcap")})
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.are.equal(3000 + 43 + 1, #lines)
    assert.are.equal('{"len":62,"n":1}', lines[3001])
    assert.are.equal("status=0", lines[#lines])
  end)

  it("names the capture and the map's traceback on an error, and goes on", function()
    if not sflua then return pending("SFLUA_BIN not set") end
    local out, err = run([[
      local function check(p) if p.frame_number == 5 then error("five") end end
      return function(p) check(p) return 1 end]], {h.path("http.pcap"), "/nonexistent.pcap", MIX})
    assert.matches("http.pcap: .*five", err)
    assert.matches("check'", err, 1, true)  -- the map's own frames
    assert.matches("/nonexistent.pcap", err, 1, true)
    assert.matches("status=1", out, 1, true)
    local n = select(2, out:gsub("\n", ""))
    assert.are.equal(4 + 4 + 1, n)  -- 4 lines of http.pcap, then 4 of anon_mix.pcap (error at 5)
  end)

  it("says what the script must return", function()
    if not sflua then return pending("SFLUA_BIN not set") end
    local out, err = run("return 42", {MIX})
    assert.matches("must return its map function", err, 1, true)
    assert.matches("status=1", out, 1, true)
  end)
end)
