-- Regenerates docs/protocols.md from the protocol descriptors:
--   build/sflua docs/gen_protocols.lua > docs/protocols.md
local layers = require("stackforge.layers")

print("# Protocols and fields\n")
print("Generated from the engine's descriptors by `docs/gen_protocols.lua`; "
  .. "`ls(TCP)` prints the same in the REPL. Field names are Scapy's. "
  .. "`auto` fields are filled in at build time unless you set them "
  .. "(set one to `nil` to make it automatic again).\n")
local variants = {}
for name, v in pairs(layers) do
  if getmetatable(v) == layers.Constructor and v.preset then
    local list = variants[v.kind] or {}
    list[#list + 1] = name
    variants[v.kind] = list
  end
end
for _, info in ipairs(layers.protos) do
  print(("## %s — `%s{...}`, `LayerKind.%s`\n"):format(info.display, info.name, info.kind))
  local ctor = layers[info.name]
  local named = {}
  for k, v in pairs(ctor) do
    if getmetatable(v) == layers.Constructor then named[#named + 1] = info.name .. "." .. k end
  end
  for _, n in ipairs(variants[info.id] or {}) do
    if not n:find("%.") then named[#named + 1] = n end
  end
  table.sort(named)
  if #named > 0 then print("Named variants: " .. table.concat(named, ", ") .. "\n") end
  print("```")
  print(ls(ctor))
  print("```\n")
end
