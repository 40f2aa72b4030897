/*
 * fuzz_lua_zwave.c -- libFuzzer target for Z-Wave, a protocol written in
 * Lua (stdlib/stackforge/zwave.lua, on CustomLayer), fuzzed through the
 * Lua state as sflua runs it: hostile bytes parsed as ZWave and as link
 * type 261's ZWaveR1R2, every field of every layer read, shown and
 * summarized, and what parsed rebuilt from its values (post_build's
 * checksum over hostile lengths).  A Lua error is a bug: abort.
 */
#define FUZZ_HARNESS \
  "return function(bytes)\n" \
  "  for _, name in ipairs({'ZWave', 'ZWaveR1R2'}) do\n" \
  "    local p = sf.Packet(bytes, {proto = name})\n" \
  "    visit(p)\n" \
  "    local z = p[sf[name]]\n" \
  "    if z and not p.truncated then\n" \
  "      local t = {}\n" \
  "      for _, f in ipairs(z.fields) do t[f] = z[f] end\n" \
  "      t.checksum, t.length = 0, nil\n" \
  "      visit(sf[name](t))\n" \
  "    end\n" \
  "  end\n" \
  "  visit(sf.Packet(bytes, {linktype = 261}))\n" \
  "end\n"
#include "lua_harness.h"
