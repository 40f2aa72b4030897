/*
 * test_custom_lua.c -- a protocol defined in Lua outlives the Lua state
 * that defined it, and nothing calls into the closed state: its layouts
 * that need Lua fail (the layer parses as Raw, the packet truncated), its
 * bindings are gone, and a new state defines the same name again.  Also:
 * an engine call from C, with no Lua call in progress, runs no Lua.
 * (Linked with the binding and Lua: tests/CMakeLists.txt, *_lua tests.)
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <string.h>

#include "sf.h"

#include "check.h"

int luaopen_stackforge_core(lua_State *L);

/* core.define a TLV whose value's length is Lua's length_from, bind it to
   UDP port 5555; return its id and what Lua parses out of two packets. */
static const char *const define_code =
  "local core, dport = ...\n"
  "local id = core.define('LuaTlv', {\n"
  "  {name = 't', type = 'uint', bits = 8, default = 1},\n"
  "  {name = 'l', type = 'uint', bits = 8},\n"
  "  {name = 'v', type = 'bytes', kind = 'lenfn',\n"
  "   length_from = function(pkt) return pkt.l end}}, 'LuaTlv', {})\n"
  "core.bind('UDP', dport, 5555, id)\n"
  "return id, core.packet('\\1\\2ab', {proto = id}).v\n";

/* Ether / IPv4 / UDP 1234 -> 5555 / 01 02 'a' 'b' */
static const uint8_t frame[] = {
  0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x08, 0x00,
  0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
  0x04, 0xd2, 0x15, 0xb3, 0, 12, 0, 0,
  1, 2, 'a', 'b'
};

static lua_State *new_state(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "stackforge.core", luaopen_stackforge_core, 0);
  return L;  /* the core table on top */
}

/* Define LuaTlv in L: its id, and check Lua parses with it. */
static int define_in(lua_State *L) {
  int id;
  const sf_proto *udp = sf_proto_get(sf_proto_find("UDP"));
  if (luaL_loadstring(L, define_code) != LUA_OK) return -1;
  lua_pushvalue(L, -2);
  lua_pushinteger(L, sf_field_find(udp, "dport"));
  if (lua_pcall(L, 2, 2, 0) != LUA_OK) {
    fprintf(stderr, "define: %s\n", lua_tostring(L, -1));
    return -1;
  }
  id = (int)lua_tointeger(L, -2);
  CHECK(lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "ab") == 0);
  lua_pop(L, 2);
  return id;
}

/* Parse bytes from C, as the flow and anonymization drivers do. */
static int first_proto(const uint8_t *d, size_t n, int first, int *last,
                       int *trunc) {
  sf_pkt p;
  int proto;
  sf_pkt_init(&p);
  sf_pkt_borrow(&p, d, n);
  if (first >= 0) p.first = first + 1;
  sf_pkt_parse(&p);
  proto = p.layers[0].proto;
  *last = p.layers[p.nlayers - 1].proto;
  *trunc = (p.flags & SF_P_TRUNC) != 0;
  sf_pkt_free(&p);
  return proto;
}

static void test_closed_state(void) {
  static const uint8_t tlv[] = {1, 2, 'a', 'b'};
  lua_State *L = new_state();
  int id = define_in(L), id2, last, trunc;
  CHECK(id >= 0);
  /* from C with no Lua call in progress: no Lua runs, the layout fails */
  CHECK_EQ(first_proto(tlv, sizeof tlv, id, &last, &trunc), SF_RAW);
  CHECK(trunc);
  lua_close(L);
  /* closed: the protocol is still registered, never calls Lua again */
  CHECK(sf_proto_get(id) != NULL);
  CHECK_EQ(first_proto(tlv, sizeof tlv, id, &last, &trunc), SF_RAW);
  /* and its binding to UDP 5555 went with the state */
  CHECK_EQ(first_proto(frame, sizeof frame, -1, &last, &trunc), sf_proto_find("Ethernet"));
  CHECK_EQ(last, SF_RAW);
  /* a new state defines the same name again, and parses with it */
  L = new_state();
  id2 = define_in(L);
  CHECK(id2 >= 0 && id2 != id);
  lua_close(L);
}

int main(void) {
  sf_init();
  test_closed_state();
  return check_report("test_custom_lua");
}
