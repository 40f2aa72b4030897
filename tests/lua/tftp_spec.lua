-- tftp_spec.lua: TFTP (stdlib/stackforge/protocols/tftp.lua, Scapy's
-- classes on CustomLayer).  Scapy 2.5's bytes for 300 random messages
-- (tests/data/tftp_scapy_golden.tsv, run_scapy.sh --golden) are built
-- again and parsed back; tftpd-hpa's transfers (textproto_live.pcap) are
-- related to their requests.
local sf = require("stackforge")
local h = require("helpers")

local data = os.getenv("SFLUA_TESTDATA") or "tests/data"

-- the UDP payload of a built or parsed packet (or the packet, alone)
local function tftp_bytes(p)
  local u = p:get_layer_bytes(sf.LayerKind.Udp)
  return u and u:sub(9) or p:bytes()
end

describe("TFTP", function()
  it("builds the seed's form and Scapy's classes alike", function()
    local seed = sf.TFTP{opcode = 1, filename = "test.txt", mode = "octet"}
    assert.are.equal("\0\1test.txt\0octet\0", seed:bytes())
    assert.are.equal(seed:bytes(), (sf.TFTP() / sf.TFTP_RRQ{filename = "test.txt", mode = "octet"}):bytes())
    assert.are.equal("\0\3\0\7abc", sf.TFTP{opcode = "DATA", block = 7}:bytes() .. "abc")
    assert.are.equal("\0\5\0\1nope\0", sf.TFTP{opcode = 5, errorcode = 1, errormsg = "nope"}:bytes())
    local p = sf.Ether() / sf.IP() / sf.UDP{sport = 3333} / seed
    assert.are.equal(69, sf.Packet(p:bytes())[sf.UDP].dport)
    assert.are.equal("Ethernet / IPv4 / UDP / TFTP / TFTP RRQ test.txt", sf.Packet(p:bytes()):summary())
  end)

  it("says what is wrong with a seed form or a field", function()
    local ok, err = pcall(function() local x = sf.TFTP{opcode = 6, filename = "x"}; return x end)
    assert.is_false(ok)
    assert.matches("tftp_spec.lua:%d+: TFTP: opcode 6 takes no fields %(filename, mode: 1/RRQ", err)
    ok, err = pcall(function() local x = sf.TFTP{opcode = 4, filename = "x"}; return x end)
    assert.is_false(ok)
    assert.matches("tftp_spec.lua:%d+: TFTP_ACK has no field 'filename' %(fields: block%)", err)
    ok, err = pcall(function() return sf.TFTP_RRQ{name = "x"} end)
    assert.is_false(ok)
    assert.matches("TFTP_RRQ", err)
    assert.matches("filename", err)
  end)

  it("reads options as Scapy's list, on requests and option acknowledgements", function()
    local opts = sf.TFTP_Options{options = {sf.TFTP_Option{oname = "blksize", value = "1024"},
      sf.TFTP_Option{oname = "tsize", value = "0"}}}
    local rrq = sf.Packet((sf.Ether() / sf.IP() / sf.UDP() / sf.TFTP() / sf.TFTP_RRQ{filename = "f"} / opts):bytes())
    local o = rrq[sf.TFTP_Options].options
    assert.are.same({"blksize", "1024", "tsize", "0"}, {o[1].oname, o[1].value, o[2].oname, o[2].value})
    -- an OACK (Scapy's TFTP_OACK has no fields) reads as TFTP / TFTP_Options
    local oack = sf.TFTP{op = 6} / sf.TFTP_OACK() / opts
    local back = sf.Packet(oack:bytes(), {proto = sf.TFTP})
    assert.are.equal("TFTP / TFTP Options", back:summary())
    assert.are.equal("\0\6blksize\0001024\0tsize\0000\0", oack:bytes())
  end)

  it("keeps what parses of bad bytes and marks the rest", function()
    local one = sf.Packet("\0", {proto = sf.TFTP})
    assert.is_true(one.truncated)
    assert.are.equal("Raw", one:summary())
    local cut = sf.Packet("\0\1name-without-nul", {proto = sf.TFTP})
    assert.are.equal("name-without-nul", cut[sf.TFTP_RRQ].filename)
    local ack = sf.Packet("\0\4\0", {proto = sf.TFTP})  -- a block number cut short
    assert.is_true(ack.truncated)
    assert.are.equal(4, ack[sf.TFTP].op)
  end)

  it("builds Scapy 2.5's bytes for 300 random messages, and parses them back", function()
    local n = 0
    for line in io.lines(data .. "/tftp_scapy_golden.tsv") do
      local lua, hex = line:match("^(.-)\t(%x+)$")
      local p = assert(load("local _ENV = ...; return " .. lua))(sf)
      assert.are.equal(hex, h.hex(p:bytes()), lua)
      local b = tftp_bytes(p)
      local back = sf.Packet(b, {proto = sf.TFTP})
      assert.is_false(back.truncated, lua)
      assert.are.equal(b, back:bytes())
      local want = lua:match("TFTP_(%u+)[{(]") or ({"RRQ", "WRQ"})[tonumber(lua:match("opcode=(%d)"))]
      if want ~= "OACK" then
        assert.is_not_nil(back[sf["TFTP_" .. want]], lua)
      end
      n = n + 1
    end
    assert.are.equal(300, n)
  end)

  it("relates tftpd-hpa's transfers to their requests, read as flows", function()
    local convs = sf.extract_flows(data .. "/textproto_live.pcap")
    sf.relate_flows(convs)
    local transfers = {}
    for _, c in ipairs(convs) do
      if c.related_how == "tftp" then
        assert.are.equal(69, c.related.dst_port)
        transfers[#transfers + 1] = c
      end
    end
    assert.are.equal(5, #transfers)
    -- the curl transfer with blksize 1024: an OACK, then 5 DATA blocks
    local pkts = sf.rdpcap(data .. "/textproto_live.pcap")
    local blocks = 0
    for _, c in ipairs(transfers) do
      local mine = {}
      for _, i in ipairs(c.packet_indices) do mine[#mine + 1] = pkts[i + 1] end
      for _, m in ipairs(sf.tftp_messages(mine)) do
        local d = m[sf.TFTP_DATA]
        if d and #m:get_layer_bytes(sf.TFTP_DATA.kind) == 1024 + 2 then blocks = blocks + 1 end
      end
    end
    assert.are.equal(4, blocks)  -- 5000 bytes: four full blocks of 1024 and one of 904
  end)
end)
