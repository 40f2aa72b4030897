/*
 * lcore.c -- the module "stackforge.core": protocol introspection for the
 * Lua half, constructors' entry point, and the registry tables the other
 * binding files share.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "lsf.h"
#include "sf_version.h"  /* generated from CMakeLists.txt */


static int core_protos(lua_State *L) {
  int id, n = sf_proto_count();
  lua_createtable(L, n, 0);
  for (id = 0; id < n; id++) {
    lsf_push_proto_info(L, id);
    lua_rawseti(L, -2, id + 1);
  }
  return 1;
}

/* core.checksum(bytes) -> the Internet checksum (RFC 1071) */
static int core_checksum(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  lua_pushinteger(L, sf_fold(sf_sum16((const uint8_t *)s, n, 0)));
  return 1;
}

/* core.pton("192.0.2.1" or "2001:db8::1") -> 4 or 16 bytes, or nil */
static int core_pton(lua_State *L) {
  const char *s = luaL_checkstring(L, 1);
  uint8_t a[16];
  if (sf_parse_ip4(s, a) == SF_OK) lua_pushlstring(L, (const char *)a, 4);
  else if (sf_parse_ip6(s, a) == SF_OK) lua_pushlstring(L, (const char *)a, 16);
  else lua_pushnil(L);
  return 1;
}

/* core.ntop(4 or 16 bytes) -> text */
static int core_ntop(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  char out[46];
  luaL_argcheck(L, n == 4 || n == 16, 1, "expected 4 or 16 bytes");
  if (n == 4) sf_format_ip4((const uint8_t *)s, out);
  else sf_format_ip6((const uint8_t *)s, out);
  lua_pushstring(L, out);
  return 1;
}

/* core.listdir(path) -> sorted names, or nil, message (plugin folders) */
static int core_listdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  DIR *d = opendir(path);
  struct dirent *e;
  int n = 0;
  if (!d) {
    luaL_pushfail(L);
    lua_pushfstring(L, "%s: %s", path, strerror(errno));
    return 2;
  }
  lua_newtable(L);
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    lua_pushstring(L, e->d_name);
    lua_rawseti(L, -2, ++n);
  }
  closedir(d);
  lua_getglobal(L, "table");  /* sort in Lua: order must not depend on the fs */
  lua_getfield(L, -1, "sort");
  lua_pushvalue(L, -3);
  lua_call(L, 1, 0);
  lua_pop(L, 1);
  return 1;
}

/* An engine codec (sf_codec) by name on bytes the caller gives, with no
   packet: core.codec_text(name, bytes) -> its text, or nil;
   core.codec_bytes(name, text) -> the bytes, or nil.  For Lua codecs whose
   work the engine does (HTTP/2's HPACK through libnghttp2). */
static const sf_codec *codec_arg(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  const sf_codec *c = sf_codec_find(name);
  if (!c) luaL_argerror(L, 1, lua_pushfstring(L, "no engine codec '%s'", name));
  return c;
}

static int core_codec_text(lua_State *L) {
  const sf_codec *c = codec_arg(L);
  size_t n, cap = 4096;
  const char *d = luaL_checklstring(L, 2, &n);
  for (;;) {
    char *out = lua_newuserdatauv(L, cap, 0);  /* freed by the collector */
    int r = c->to_text ? c->to_text(NULL, -1, -1, (const uint8_t *)d, n, out, cap) : -1;
    if (r < 0) {
      luaL_pushfail(L);
      return 1;
    }
    if ((size_t)r < cap) {
      lua_pushlstring(L, out, (size_t)r);
      return 1;
    }
    cap = (size_t)r + 1;  /* again, with room for all of it */
    lua_pop(L, 1);
  }
}

static int core_codec_bytes(lua_State *L) {
  const sf_codec *c = codec_arg(L);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  if (lsf_codec_bytes(L, c, s, n, SF_MAX_LEN) < 0) luaL_pushfail(L);
  return 1;
}

static const luaL_Reg core_funcs[] = {
  {"listdir", core_listdir},
  {"pton", core_pton}, {"ntop", core_ntop},
  {"protos", core_protos}, {"packet", lsf_packet_new},
  {"constructor", lsf_constructor}, {"checksum", core_checksum},
  {"codec_text", core_codec_text}, {"codec_bytes", core_codec_bytes},
  {NULL, NULL}
};

int luaopen_stackforge_core(lua_State *L) {
  int id;
  sf_init();
  luaL_newlib(L, core_funcs);
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, LSF_CODECS);
  lua_setfield(L, -2, "codecs");  /* the Lua half registers codecs here */
  lsf_open_custom(L);
  lsf_open_packet(L);
  lsf_open_text(L, -2, -1);  /* p:summary("scapy"), p:sprintf, ... */
  for (id = 0; id < sf_proto_count(); id++) lsf_add_field_names(L, -1, id);
  lua_setfield(L, -2, "Packet");  /* methods; the Lua half adds more */
  lsf_open_pcap(L);  /* PcapReader, PcapWriter, rdpcap, wrpcap, wrpcapng */
  lsf_open_plist(L);  /* PacketStore: the records behind a PacketList */
  lsf_open_flow(L);  /* flows_file, flows_packets */
  lsf_open_anon(L);  /* CryptoPan, anon_policy, Anonymizer, anonymize_pcap */
  lsf_open_capture(L);  /* live_open, sender_open, sr, route, sleep, ... */
  lsf_open_filter(L);  /* filter_load, frame_protocols */
  lsf_open_pool(L);    /* pool_new, pool_methods, parse_batch, cpus */
  lua_pushliteral(L, SF_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
