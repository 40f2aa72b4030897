/*
 * lclock.c -- require("benchclock").now(): CLOCK_MONOTONIC seconds as a
 * float, so Lua timings use the same clock as the C benchmarks and the
 * Python anchors (time.perf_counter).  os.clock() would be CPU time.
 */
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

static int now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

int luaopen_benchclock(lua_State *L);

int luaopen_benchclock(lua_State *L) {
  static const luaL_Reg funcs[] = {{"now", now}, {NULL, NULL}};
  luaL_newlib(L, funcs);
  return 1;
}
