-- check_readme.lua: what README.md shows is what sflua does.
-- usage: sflua tests/docs/check_readme.lua README.md
--
-- * Lua blocks are run as if typed into the REPL, chunk by chunk (a chunk
--   grows line by line until it compiles; an expression is evaluated), up
--   to the first line that names a capture file the reader does not have.
--   "local" is dropped, as every chunk runs on its own.  A claim
--   `code --> values`, or a line `--> values` after a chunk, must equal
--   what the chunk gives.
-- * Plain blocks of "> input" lines followed by an error message: the
--   input run as the REPL runs it must raise exactly that message.
-- * Shell blocks: no command needs sudo (root may have none).
local path = assert(arg[1], "usage: check_readme.lua README.md")

local passed, failed = 0, 0
local function ok(what) passed = passed + 1; print("ok   " .. what) end
local function fail(what) failed = failed + 1; print("FAIL " .. what) end

-- {lang=, first=line number, lines={...}} for every fenced block
local function blocks(file)
  local list, cur, n = {}, nil, 0
  for line in io.lines(file) do
    n = n + 1
    local fence = line:match("^```(%w*)")
    if fence and not cur then
      cur = {lang = fence, first = n + 1, lines = {}}
    elseif fence then
      list[#list + 1] = cur
      cur = nil
    elseif cur then
      cur.lines[#cur.lines + 1] = line
    end
  end
  return list
end

-- the blocks' own globals; what they print is not checked
local env = setmetatable({print = function() end}, {__index = _G})

local function repr(v)
  return type(v) == "string" and ("%q"):format(v) or tostring(v)
end

local function same(got, want)
  if got.n ~= want.n then return false end
  for i = 1, want.n do
    if got[i] ~= want[i] then return false end
  end
  return true
end

local function show(t)
  local parts = {}
  for i = 1, t.n do parts[i] = repr(t[i]) end
  return table.concat(parts, ", ")
end

-- compiles a chunk the REPL way: "return chunk", else the chunk itself;
-- returns the function, or nil and whether more lines may complete it
local function compile(chunk, name)
  local f = load("return " .. chunk .. ";", name, "t", env)
  if f then return f end
  local err
  f, err = load(chunk, name, "t", env)
  if f then return f end
  return nil, err:find("<eof>$") ~= nil, err
end

local function check_claim(where, values, claim)
  local want = load("return " .. claim, "=claim", "t", env)
  if not want then return fail(where .. ": the claim '" .. claim .. "' is not Lua") end
  want = table.pack(want())
  if values and same(values, want) then ok(where .. ": --> " .. claim)
  else fail(("%s: README says --> %s, sflua gives %s"):format(where, claim,
    values and show(values) or "no value")) end
end

local function run_lua(b)
  local chunk, start, values = nil, nil, nil
  for i, line in ipairs(b.lines) do
    local where = ("%s:%d"):format(path, b.first + i - 1)
    if line:find("%.pcap") then return end  -- captures the reader does not have
    local claim = line:match("^%s*%-%->%s*(.-)%s*$")
    if claim and not chunk then
      check_claim(where, values, claim)
    elseif not line:match("^%s*%-%-") and line:match("%S") then
      local code = line:gsub("^(%s*)local%s+", "%1")
      chunk = chunk and (chunk .. "\n" .. code) or code
      start = start or where
      local f, more, err = compile(chunk, "=" .. start)
      if f then
        local res = table.pack(pcall(f))
        if not res[1] then
          fail(("%s: %s"):format(start, tostring(res[2])))
          return
        end
        values = table.pack(table.unpack(res, 2, res.n))
        claim = line:match("%-%->%s*(.-)%s*$")
        if claim then check_claim(where, values, claim) end
        chunk, start = nil, nil
      elseif not more then
        fail(("%s: does not compile: %s"):format(start, err))
        return
      end
    end
  end
end

local function run_errors(b)
  for i, line in ipairs(b.lines) do
    local input = line:match("^> (.*)$")
    if input then
      local where = ("%s:%d"):format(path, b.first + i - 1)
      local want = b.lines[i + 1]
      local f, err = compile(input, "=stdin")
      local ran, msg = false, err
      if f then ran, msg = pcall(f) end
      if not ran and msg == want then ok(where .. ": " .. input)
      else fail(("%s: README shows\n       %s\n     sflua says\n       %s"):format(
        where, want, ran and "no error" or tostring(msg))) end
    end
  end
end

local function run_sh(b)
  for i, line in ipairs(b.lines) do
    if line:match("^%s*sudo%s") or line:match("[;&|]%s*sudo%s") then
      fail(("%s:%d: needs sudo, which root may not have: %s"):format(path, b.first + i - 1, line))
      return
    end
  end
  ok(("%s:%d: shell block needs no sudo"):format(path, b.first))
end

for _, b in ipairs(blocks(path)) do
  if b.lang == "lua" then run_lua(b)
  elseif b.lang == "sh" then run_sh(b)
  elseif b.lines[1] and b.lines[1]:match("^> ") then run_errors(b) end
end

print(("%d passed, %d failed"):format(passed, failed))
os.exit(failed == 0 and passed > 0)
