-- hexdiff, hexstr, linehexdump, chexdump, hexdump, import_hexcap and
-- Raw.from_hexdump (stdlib/stackforge/hextools.lua) against Scapy's text:
-- tests/data/scapy_hex_golden.tsv, written by python3-scapy
-- (tests/interop/run_scapy_hex.sh --golden; new cases each run live).
local sf = require("stackforge")
local check = dofile("tests/interop/check_hex.lua")

describe("hex tools", function()
  it("print what Scapy prints and read what tcpdump, tshark and Wireshark write", function()
    local n, kinds = 0, {}
    for line in io.lines(os.getenv("SFLUA_TESTDATA") .. "/scapy_hex_golden.tsv") do
      if not line:find("^#") then
        n = n + 1
        local why = check.check(line)
        assert(why == nil, ("case %d: %s"):format(n, why))
        local k = line:match("^hexcap\t(%w+)") or line:match("^(%w+)")
        kinds[k] = true
      end
    end
    assert.equal(1350, n)
    for _, k in ipairs{"hexdiff", "hexstr", "linehexdump", "chexdump", "hexdump",
                       "tcpdump", "tshark", "wireshark"} do
      assert.is_true(kinds[k], k)
    end
  end)

  it("take packets as well as strings", function()
    local p = sf.IP{dst = "10.0.0.1"} / sf.UDP()
    assert.equal(sf.hexstr(p:bytes()), sf.hexstr(p))
    assert.equal(p:bytes(), sf.import_hexcap(sf.hexdump(p)))
    assert.equal(p:bytes(), sf.Raw.from_hexdump(sf.hexdump(p)).load)
    -- equal lines: both offsets, one line (Scapy's hexdiff(p, p))
    assert.equal("0000 0000   45 00 00 1C 00 01 00 00  40 11 F1 CE 7F 00 00 01   E.......@.......",
      (sf.hexdiff(p, p):match("^[^\n]*")))
    assert.equal("", sf.hexdiff("", ""))
  end)

  it("say what is wrong at the caller's line", function()
    local ok, err = pcall(sf.hexdiff, "a", 5)
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'hexdiff' %(packet or string expected, got number%)", err)
    ok, err = pcall(sf.hexstr, "a", {onlyascii = true})
    assert.matches("hexstr: unknown option 'onlyascii' %(options: onlyasc, onlyhex%)", err)
    ok, err = pcall(sf.Raw.from_hexdump, nil)
    assert.matches("bad argument #1 to 'Raw.from_hexdump' %(string expected, got nil%)", err)
  end)
end)
