-- fragment, fragment6, defragment, defrag, defragment6 (stdlib/stackforge/
-- fragment.lua) against Scapy's bytes: tests/data/scapy_frag_golden.tsv,
-- 300 random cases written by python3-scapy (tests/interop/run_scapy_frag.sh
-- --golden; the live check makes new ones each run).  A real kernel joins
-- the fragments and answers: tests/live/live_spec.lua.
local sf = require("stackforge")
local check = dofile("tests/interop/check_frag.lua")

describe("fragments", function()
  it("are Scapy's bytes on 300 random cases (fragment, fragment6, defragment, defrag)", function()
    local n, kinds = 0, {}
    for line in io.lines(os.getenv("SFLUA_TESTDATA") .. "/scapy_frag_golden.tsv") do
      if not line:find("^#") then
        n = n + 1
        local why = check.check(line)
        assert(why == nil, ("case %d: %s"):format(n, why))
        kinds[line:match("^(%w+)")] = true
      end
    end
    assert.equal(300, n)
    assert.same({fragment = true, fragment6 = true, defragment = true, defrag = true}, kinds)
  end)

  it("cut at multiples of 8 with MF on all but the last, which may fill the size", function()
    local p = sf.IP{dst = "192.0.2.1", id = 9} / sf.UDP{sport = 1, dport = 2} / ("x"):rep(2000)
    local f = sf.fragment(p, 1001)  -- 2008 bytes: 1000, 1000, 8
    assert.equal(3, #f)
    assert.same({1020, 1020, 28}, {f[1][sf.IP].len, f[2][sf.IP].len, f[3][sf.IP].len})
    assert.same({0, 125, 250}, {f[1][sf.IP].frag, f[2][sf.IP].frag, f[3][sf.IP].frag})
    assert.same({"MF", "MF", ""}, {f[1][sf.IP].flags, f[2][sf.IP].flags, f[3][sf.IP].flags})
    -- the last piece may be longer than the step, up to the size: 1010 <= 1012
    local one = sf.fragment(sf.IP() / ("x"):rep(1010), 1012)
    assert.equal(1, #one)
    assert.equal(1030, one[1][sf.IP].len)
    local whole = sf.defragment(f)
    assert.equal(1, #whole)
    assert.equal(p:bytes(), whole[1]:bytes())
  end)

  it("defrag keeps what is not a fragment and what misses a piece apart", function()
    local p = sf.IP{dst = "192.0.2.1", id = 10} / sf.ICMP() / ("y"):rep(300)
    local q = sf.IP{dst = "192.0.2.1", id = 11} / sf.ICMP() / ("z"):rep(300)
    local fp, fq = sf.fragment(p, 100), sf.fragment(q, 100)
    local list = {fp[2], fp[1], sf.IP{dst = "192.0.2.9"} / sf.UDP(), fq[1], fq[3], fp[3], fp[4]}
    local plain, whole, miss = sf.defrag(list)
    assert.equal(1, #plain)
    assert.equal(1, #whole)
    assert.equal(p:bytes(), whole[1]:bytes())
    assert.equal(2, #miss)
    local all = sf.defragment(list)
    assert.equal(4, #all)  -- the UDP packet, q's two pieces, then p whole at its last piece's place
    assert.equal("Defragmented", all:listname())
    assert.equal(p:bytes(), all[4]:bytes())
  end)

  it("fragment6 keeps the headers before the fragment header and joins back", function()
    local p = sf.IPv6{src = "2001:db8::1", dst = "2001:db8::2"} / sf.IPv6ExtHdrHopByHop() /
      sf.IPv6ExtHdrFragment{id = 99} / sf.UDP{sport = 7, dport = 9} / ("q"):rep(3000)
    local f = sf.fragment6(p, 1280)
    assert.equal(3, #f)
    for i, q in ipairs(f) do
      assert.truthy(q[sf.IPv6ExtHdrHopByHop])
      assert.equal(99, q[sf.IPv6ExtHdrFragment].id)
      assert.equal(i < 3 and 1 or 0, q[sf.IPv6ExtHdrFragment].m)
      assert.is_true(#q:bytes() <= 1280)
    end
    local back = sf.defragment6(f)
    assert.equal(("q"):rep(3000), back[sf.Raw].load)
    assert.equal(3008, back[sf.UDP].len)
  end)

  it("say what is wrong at the caller's line", function()
    local p = sf.IP() / ("x"):rep(100)
    local ok, err = pcall(sf.fragment, p, 4)
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'fragment' %(a size of at least 8", err)
    ok, err = pcall(sf.fragment, "x", 100)
    assert.matches("bad argument #1 to 'fragment' %(packet or list of packets expected, got string%)", err)
    ok, err = pcall(sf.fragment, sf.Ether() / sf.ARP(), 100)
    assert.matches("fragment: a packet has no IP layer", err)
    ok, err = pcall(sf.fragment6, sf.IPv6() / ("x"):rep(2000), 50)
    assert.matches("fragment6: size 50 is too small", err)
    ok, err = pcall(sf.defragment, 5)
    assert.matches("bad argument #1 to 'defragment' %(list of packets expected, got number%)", err)
    assert.is_nil(sf.defragment6({p}))
  end)
end)
