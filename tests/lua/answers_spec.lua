-- Which packet answers which request (what sr() matches with), against
-- Scapy's reply.answers(request) for pairs it built
-- (tests/data/scapy_answers.lua, from tests/live/scapy_answers.py;
-- tests/live/run_scapy_answers.sh checks against today's Scapy by setting
-- SFLUA_ANSWERS to a fresh file).
local sf = require("stackforge")

local file = os.getenv("SFLUA_ANSWERS") or
  ((os.getenv("SFLUA_TESTDATA") or "tests/data") .. "/scapy_answers.lua")
local cases = dofile(file)

local function packet(hex, link)
  local raw = hex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)
  return sf.Packet(raw, {linktype = link == "ether" and 1 or 101})
end

describe("answers, as Scapy judges them", function()
  assert.is_true(#cases >= 30)
  for _, c in ipairs(cases) do
    it(c.name, function()
      local req, resp = packet(c.req, c.link), packet(c.resp, c.link)
      local yes, why = sf.answers(resp, req)
      assert.equal(c.answers, yes, why)
      if yes then  -- sr() finds it: the request and the answer hash alike
        local _, _, same = require("stackforge.core").answers(resp, req)
        assert.is_true(same)
      else
        assert.is_string(why)
        assert.is_true(#why > 0)
      end
    end)
  end
end)

describe("answers", function()
  it("explains a no by the field that differs", function()
    local req = sf.IP{src = "10.0.0.1", dst = "10.0.0.2"} / sf.UDP{sport = 1234, dport = 9100}
    local resp = sf.IP{src = "10.0.0.2", dst = "10.0.0.1"} / sf.UDP{sport = 9101, dport = 1234}
    local yes, why = sf.answers(resp, req)
    assert.is_false(yes)
    assert.equal("UDP: the answer's sport 9101 is not the request's dport 9100", why)
  end)

  it("asks a CustomLayer's answers hook for its layer", function()
    local Q = sf.CustomLayer("AnsQ", {sf.ByteField("op", 1), sf.ShortField("tag", 0)},
      {answers = function(resp, req) return resp.op == 2 and resp.tag == req.tag end})
    local function pkt(op, tag, a, b)
      return sf.IP{src = a, dst = b} / sf.UDP{sport = 7000, dport = 7000} / Q{op = op, tag = tag}
    end
    local req = pkt(1, 5, "10.0.0.1", "10.0.0.2")
    assert.is_true(sf.answers(pkt(2, 5, "10.0.0.2", "10.0.0.1"), req))
    local yes, why = sf.answers(pkt(3, 5, "10.0.0.2", "10.0.0.1"), req)
    assert.is_false(yes)
    assert.equal("AnsQ: its answers hook said no", why)
  end)

  it("raises the hook's error", function()
    local Bad = sf.CustomLayer("AnsBad", {sf.ByteField("x", 0)},
      {answers = function() error("hook broke") end})
    local req = sf.IP{src = "10.0.0.1", dst = "10.0.0.2"} / sf.UDP() / Bad()
    local resp = sf.IP{src = "10.0.0.2", dst = "10.0.0.1"} / sf.UDP() / Bad()
    assert.has_error(function() sf.answers(resp, req) end)
  end)

  it("rejects what is not a packet", function()
    assert.has_error(function() sf.answers("x", sf.IP()) end,
      "answers: expected two packets, got string and Packet")
  end)
end)
