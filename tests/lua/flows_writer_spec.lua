-- flows_writer_spec.lua: write_flows and FlowWriter write byte for byte
-- what the Lua writer they replaced wrote (tests/data/flows_writer/, made
-- by it before the rewrite): JSONL and CSV, every option, on captures and
-- on hand-made conversations with odd bytes, NaN, infinities, huge and
-- negative numbers, empty and nested lists and other types
-- (flows_writer_cases.lua).
local sf = require("stackforge")
local cases = require("flows_writer_cases")

local DATA = os.getenv("SFLUA_TESTDATA") or "tests/data"

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- where a and b first differ, for the message
local function first_difference(a, b)
  local i = 1
  while i <= #a and a:byte(i) == b:byte(i) do i = i + 1 end
  return ("byte %d: %q ... against %q ..."):format(i, a:sub(i, i + 40), b:sub(i, i + 40))
end

local function convs_of(c)
  if not c.cap then return cases.odd() end
  return sf.extract_flows(DATA .. "/" .. c.cap)
end

describe("write_flows output", function()
  local tmp = os.tmpname()
  after_each(function() os.remove(tmp) end)

  for _, c in ipairs(cases.files()) do
    it("is the golden " .. c.name, function()
      local convs = convs_of(c)
      assert.equal(#convs, sf.write_flows(convs, tmp, c.o))
      local got, want = slurp(tmp), slurp(DATA .. "/flows_writer/" .. c.name)
      if got ~= want then error(c.name .. " differs at " .. first_difference(got, want)) end
    end)
  end

  it("is the same a second time (nothing kept from one line to the next shows)", function()
    for _ = 1, 2 do
      for _, c in ipairs(cases.files()) do
        if not c.cap then
          sf.write_flows(cases.odd(), tmp, c.o)
          assert.equal(slurp(DATA .. "/flows_writer/" .. c.name), slurp(tmp))
        end
      end
    end
  end)

  it("is the same through FlowWriter in on_flow", function()
    for _, c in ipairs(cases.files()) do
      if c.cap == "http.pcap" or c.cap == "anon_mix.pcap" then
        do
          local w <close> = sf.FlowWriter(tmp, c.o)
          local list = {}
          sf.extract_flows(DATA .. "/" .. c.cap, {on_flow = function(conv)
            list[#list + 1] = conv
            w:write(conv)
          end})
        end
        -- on_flow sees conversations in the order they end, the golden
        -- in start order: compare the lines as sets
        local got, want = {}, {}
        for l in slurp(tmp):gmatch("[^\n]*\n") do got[#got + 1] = l end
        for l in slurp(DATA .. "/flows_writer/" .. c.name):gmatch("[^\n]*\n") do want[#want + 1] = l end
        table.sort(got)
        table.sort(want)
        assert.same(want, got)
      end
    end
  end)
end)

describe("stream lengths", function()
  it("come from the engine without reading the streams into strings", function()
    local convs = sf.extract_flows(DATA .. "/http.pcap")
    local seen = 0
    for _, c in ipairs(convs) do
      if c.protocol == "TCP" then
        local fwd, rev = c.reassembled_forward_len, c.reassembled_reverse_len
        assert.is_nil(rawget(c, "reassembled_forward"))  -- nothing read yet
        local tmp = os.tmpname()
        sf.write_flows({c}, tmp)
        os.remove(tmp)
        assert.is_nil(rawget(c, "reassembled_reverse"))  -- nor by the writer
        assert.equal(#c.reassembled_forward, fwd)
        assert.equal(#c.reassembled_reverse, rev)
        seen = seen + (fwd > 0 and 1 or 0)
      end
    end
    assert.is_true(seen > 0)
  end)
end)
