/*
 * lua_harness.h -- the body of the fuzz targets of protocols written in
 * Lua (fuzz_lua_zwave, _ftp, _smtp, _pop3, _imap, _tftp: CustomLayer,
 * LPeg grammars), fuzzed through a Lua state as sflua runs them.  The
 * target defines FUZZ_HARNESS, a Lua chunk that returns function(bytes)
 * (after FUZZ_VISIT: sf, visit(p), rebuild(p, ctor)); a Lua error in it
 * is a bug: abort.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

int luaopen_stackforge_core(lua_State *L);

/* what every harness visits: each field of each layer, show and summary */
#define FUZZ_VISIT \
  "local sf = require('stackforge')\n" \
  "local function visit(p)\n" \
  "  for i = 1, p.layer_count do\n" \
  "    local v = p:layer(i)\n" \
  "    for _, f in ipairs(v.fields) do local _ = v[f] end\n" \
  "  end\n" \
  "  local _ = p:show() .. p:summary()\n" \
  "end\n" \
  "local function rebuild(p, ctor)\n" \
  "  local v = p[ctor]\n" \
  "  if not v or p.truncated then return end\n" \
  "  local t = {}\n" \
  "  for _, f in ipairs(v.fields) do t[f] = v[f] end\n" \
  "  visit(ctor(t))\n" \
  "end\n"

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
  if (luaL_loadstring(L, FUZZ_VISIT FUZZ_HARNESS) != LUA_OK ||
      lua_pcall(L, 0, 1, 0) != LUA_OK) {
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
