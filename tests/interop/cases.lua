-- cases.lua: reads the per-protocol case files of tests/interop/cases/
-- (their format: tests/interop/cases/README.md).
--   lua5.4 tests/interop/cases.lua scapy NAME    the Scapy expressions, one a line
--   lua5.4 tests/interop/cases.lua fields NAME   the tshark fields, one a line
--   lua5.4 tests/interop/cases.lua tshark_args NAME   tshark's options for it, one a line
--   lua5.4 tests/interop/cases.lua names         every case file's NAME
local M = {}

M.dir = (os.getenv("SFLUA_CASES_DIR") or "tests/interop/cases")

function M.names()
  local names = {}
  local p = io.popen('ls "' .. M.dir .. '"')
  for line in p:lines() do
    local n = line:match("^(.+)%.lua$")
    if n then names[#names + 1] = n end
  end
  p:close()
  table.sort(names)
  return names
end

function M.load(name)
  return assert(dofile(M.dir .. "/" .. name .. ".lua"))
end

-- Scapy's Name(a=1, b="x") as Lua's Name{a=1, b="x"}; Name() stays.
function M.lua_expr(case)
  if case[2] then return case[2] end
  return (case[1]:gsub("(%w+)(%b())", function(name, args)
    if args == "()" then return name .. "()" end
    return name .. "{" .. args:sub(2, -2) .. "}"
  end))
end

function M.fields(spec)
  local list = {}
  for f in pairs(spec.tshark or {}) do list[#list + 1] = f end
  table.sort(list)
  return list
end

if arg and arg[0] and arg[0]:match("cases%.lua$") then
  local what, name = arg[1], arg[2]
  if what == "names" then
    for _, n in ipairs(M.names()) do print(n) end
  elseif what == "scapy" then
    for _, c in ipairs(M.load(name).cases) do print(c[1]) end
  elseif what == "fields" then
    for _, f in ipairs(M.fields(M.load(name))) do print(f) end
  elseif what == "linktype" then
    print(M.load(name).linktype or 1)
  elseif what == "tshark_args" then  -- tshark's options for the case's capture
    for _, a in ipairs(M.load(name).tshark_args or {}) do print(a) end
  else
    io.stderr:write("usage: cases.lua names | scapy NAME | fields NAME | linktype NAME | tshark_args NAME\n")
    os.exit(2)
  end
end

return M
