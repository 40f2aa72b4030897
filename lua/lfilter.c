/*
 * lfilter.c -- compiled display filters in Lua: the program the Lua half
 * (stdlib/stackforge/dfilter.lua) emits, loaded into the engine
 * (core/filter) and run on packets.  Conversions only.
 */
#include <string.h>

#include "../core/filter/filter.h"
#include "lsf.h"

/* core.filter_load(program) -> FilterProgram, or nil, message */
static int filter_load(lua_State *L) {
  size_t n;
  const char *prog = luaL_checklstring(L, 1, &n);
  char err[200];
  sf_filter **ud = (sf_filter **)lua_newuserdatauv(L, sizeof *ud, 0);
  *ud = NULL;
  luaL_setmetatable(L, LSF_FILTER);
  if (!(*ud = sf_filter_load((const uint8_t *)prog, n, err, sizeof err))) {
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
  }
  return 1;
}

sf_filter *lsf_checkfilter(lua_State *L, int idx) {
  sf_filter **ud = (sf_filter **)luaL_checkudata(L, idx, LSF_FILTER);
  if (!*ud) luaL_argerror(L, idx, "a freed filter program");
  return *ud;
}

/* prog:run(p) -> boolean; Lua protocols' layouts run on L */
static int filter_run(lua_State *L) {
  sf_filter *f = lsf_checkfilter(L, 1);
  sf_pkt *p = lsf_parsed(L, 2);
  lsf_host h;
  int pass;
  lsf_enter(L, &h);
  pass = sf_filter_run(f, p);
  lsf_leave(&h);
  lsf_raise_kept(&h);
  lua_pushboolean(L, pass);
  return 1;
}

/* prog:format(p) -> the fields line, as tshark -T fields prints it */
static int filter_format(lua_State *L) {
  sf_filter *f = lsf_checkfilter(L, 1);
  sf_pkt *p = lsf_parsed(L, 2);
  char buf[2048];
  lsf_host h;
  size_t n;
  lsf_enter(L, &h);
  n = sf_filter_format(f, p, buf, sizeof buf);
  lsf_leave(&h);
  lsf_raise_kept(&h);
  if (n < sizeof buf) {
    lua_pushlstring(L, buf, n);
  } else {  /* a long line: once more into a buffer of its size */
    luaL_Buffer b;
    char *q = luaL_buffinitsize(L, &b, n + 1);
    lsf_enter(L, &h);
    sf_filter_format(f, p, q, n + 1);
    lsf_leave(&h);
    lsf_raise_kept(&h);
    luaL_pushresultsize(&b, n);
  }
  return 1;
}

/* core.frame_protocols(p) -> "eth:ethertype:ip:tcp" */
static int frame_protocols(lua_State *L) {
  sf_pkt *p = lsf_parsed(L, 1);
  luaL_Buffer b;
  size_t n = sf_filter_protocols(p, NULL, 0);
  char *q = luaL_buffinitsize(L, &b, n + 1);
  sf_filter_protocols(p, q, n + 1);
  luaL_pushresultsize(&b, n);
  return 1;
}

static int filter_gc(lua_State *L) {
  sf_filter **ud = (sf_filter **)luaL_checkudata(L, 1, LSF_FILTER);
  sf_filter_free(*ud);
  *ud = NULL;
  return 0;
}

static const luaL_Reg methods[] = {
  {"run", filter_run}, {"format", filter_format}, {NULL, NULL}
};

static const luaL_Reg meta[] = {{"__gc", filter_gc}, {NULL, NULL}};

static const luaL_Reg funcs[] = {
  {"filter_load", filter_load}, {"frame_protocols", frame_protocols}, {NULL, NULL}
};

void lsf_open_filter(lua_State *L) {
  lsf_class(L, LSF_FILTER, meta, methods);
  luaL_setfuncs(L, funcs, 0);
}
