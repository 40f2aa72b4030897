/*
 * fuzz_lua_zwave.c -- libFuzzer target for Z-Wave, a protocol written in
 * Lua (stdlib/stackforge/zwave.lua, on CustomLayer), fuzzed through the
 * Lua state as sflua runs it: hostile bytes parsed as ZWave and as link
 * type 261's ZWaveR1R2, every field of every layer read, shown and
 * summarized, and what parsed rebuilt from its values (post_build's
 * checksum over hostile lengths).  A Lua error is a bug: abort.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

int luaopen_stackforge_core(lua_State *L);

static const char harness[] =
  "local sf = require('stackforge')\n"
  "local function visit(p)\n"
  "  for i = 1, p.layer_count do\n"
  "    local v = p:layer(i)\n"
  "    for _, f in ipairs(v.fields) do local _ = v[f] end\n"
  "  end\n"
  "  local _ = p:show() .. p:summary()\n"
  "end\n"
  "return function(bytes)\n"
  "  for _, name in ipairs({'ZWave', 'ZWaveR1R2'}) do\n"
  "    local p = sf.Packet(bytes, {proto = name})\n"
  "    visit(p)\n"
  "    local z = p[sf[name]]\n"
  "    if z and not p.truncated then\n"
  "      local t = {}\n"
  "      for _, f in ipairs(z.fields) do t[f] = z[f] end\n"
  "      t.checksum, t.length = 0, nil\n"
  "      visit(sf[name](t))\n"
  "    end\n"
  "  end\n"
  "  visit(sf.Packet(bytes, {linktype = 261}))\n"
  "end\n";

static lua_State *state(void) {
  static lua_State *L;
  if (L) return L;
  L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "stackforge.core", luaopen_stackforge_core, 0);
  lua_pop(L, 1);
  lua_getglobal(L, "package");  /* the source tree's stdlib */
  lua_pushstring(L, SFLUA_STDLIB_DIR "/?.lua;" SFLUA_STDLIB_DIR "/?/init.lua");
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);
  if (luaL_loadstring(L, harness) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
    fprintf(stderr, "harness: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_setglobal(L, "fuzz_one");
  return L;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = state();
  lua_getglobal(L, "fuzz_one");
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "Lua error: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_gc(L, LUA_GCSTEP, 0);
  return 0;
}
