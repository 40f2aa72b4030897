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

const char lsf_keys_key = 'k';

/* A protocol named by LayerKind number, constructor table or name. */
int lsf_proto_arg(lua_State *L, int idx) {
  int id = -1;
  switch (lua_type(L, idx)) {
    case LUA_TNUMBER: id = (int)lua_tointeger(L, idx); break;
    case LUA_TTABLE:
      if (lua_getfield(L, idx, "kind") == LUA_TNUMBER) id = (int)lua_tointeger(L, -1);
      lua_pop(L, 1);
      break;
    case LUA_TSTRING: id = sf_proto_find(lua_tostring(L, idx)); break;
    default: break;
  }
  if (!sf_proto_get(id))
    luaL_argerror(L, idx, lua_pushfstring(L, "expected a layer (TCP, "
                  "LayerKind.Tcp or \"TCP\"), got %s", luaL_tolstring(L, idx, NULL)));
  return id;
}

/* Raise if the options table at idx has a key not in names (NULL-ended):
   "Packet: unknown option 'tme' (options: linktype, time, wirelen, proto)". */
void lsf_check_options(lua_State *L, int idx, const char *fname,
                       const char *const names[]) {
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int i, known = 0;
    lua_pop(L, 1);  /* the value */
    for (i = 0; names[i] && !known; i++)
      known = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), names[i]) == 0;
    if (!known) {
      const char *key = luaL_tolstring(L, -1, NULL);
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (i = 0; names[i]; i++) {
        if (i) luaL_addstring(&b, ", ");
        luaL_addstring(&b, names[i]);
      }
      luaL_pushresult(&b);
      luaL_error(L, "%s: unknown option '%s' (options: %s)", fname, key,
                 lua_tostring(L, -1));
    }
  }
}

/* A time in seconds as nanoseconds since the epoch: finite, and within
   what 64-bit nanoseconds hold (about 292 years either side of 1970). */
int64_t lsf_check_time(lua_State *L, int idx, const char *what) {
  lua_Number t = luaL_checknumber(L, idx);
  if (!(t > -9.2e9 && t < 9.2e9))  /* also NaN */
    luaL_error(L, "%s: bad value %s (expected seconds since 1970, within 9.2e9 "
               "either way)", what, luaL_tolstring(L, idx, NULL));
  {  /* whole seconds and the fraction apart: t * 1e9 would round away ns */
    lua_Number whole = floor(t);
    return (int64_t)whole * 1000000000 + (int64_t)floor((t - whole) * 1e9 + 0.5);
  }
}

/* An integer in [lo, hi], or an error naming what it is. */
lua_Integer lsf_check_range(lua_State *L, int idx, const char *what,
                            lua_Integer lo, lua_Integer hi) {
  int isint;
  lua_Integer v = lua_tointegerx(L, idx, &isint);
  if (!isint)
    luaL_error(L, "%s: bad value %s (expected an integer)", what,
               luaL_tolstring(L, idx, NULL));
  if (v < lo || v > hi)
    luaL_error(L, "%s: value %I out of range (%I..%I)", what, v, lo, hi);
  return v;
}

static const char *type_name(int t) {
  static const char *const names[] = {"uint", "flags", "mac", "ip4", "ip6", "bytes"};
  return names[t];
}

/* A field's value names: its own, then those of the protocols its table
   names (an EtherType's "IPv4"). */
static void push_enums(lua_State *L, const sf_proto *pr, int fi) {
  const sf_enum *e;
  int tab = sf_field_names_table(pr, fi), upper;
  size_t cursor = 0;
  uint64_t value;
  lua_newtable(L);
  for (e = pr->fields[fi].enums; e && e->name; e++) {
    lua_pushstring(L, e->name);
    lua_rawseti(L, -2, (lua_Integer)e->value);
  }
  while (tab >= 0 && sf_table_next(tab, &cursor, &value, &upper)) {
    if (lua_rawgeti(L, -1, (lua_Integer)value) == LUA_TNIL) {
      lua_pushstring(L, sf_proto_get(upper)->display);
      lua_rawseti(L, -3, (lua_Integer)value);
    }
    lua_pop(L, 1);
  }
}

static void push_field_info(lua_State *L, const sf_proto *pr, int fi) {
  const sf_field *f = &pr->fields[fi];
  lua_createtable(L, 0, 9);
  lua_pushstring(L, f->name);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, type_name(f->type));
  lua_setfield(L, -2, "type");
  lua_pushinteger(L, f->bits);
  lua_setfield(L, -2, "bits");
  lua_pushboolean(L, f->flags & SF_FF_HEX);
  lua_setfield(L, -2, "hex");
  lua_pushboolean(L, f->flags & SF_FF_AUTO);
  lua_setfield(L, -2, "auto");
  lua_pushboolean(L, f->flags & SF_FF_SIGNED);
  lua_setfield(L, -2, "signed");
  if (f->type == SF_T_UINT || f->type == SF_T_FLAGS) {
    lua_pushinteger(L, (lua_Integer)f->def);
    lua_setfield(L, -2, "default");
  } else if (f->defstr && f->type != SF_T_BYTES) {
    lua_pushstring(L, f->defstr);
    lua_setfield(L, -2, "default");
  }
  if (f->enums || sf_field_names_table(pr, fi) >= 0) {
    push_enums(L, pr, fi);
    lua_setfield(L, -2, f->type == SF_T_FLAGS ? "flag_names" : "enums");
  }
  if (f->codec) {
    lua_pushstring(L, f->codec);
    lua_setfield(L, -2, "codec");
  }
}

/* {{name=, cls=, field=, value=}, ...}: the named messages */
static void push_variants(lua_State *L, const sf_proto *pr) {
  const sf_variant *v;
  int n = 0;
  lua_newtable(L);
  for (v = pr->variants; v && v->name; v++) {
    lua_createtable(L, 0, 4);
    lua_pushstring(L, v->name);
    lua_setfield(L, -2, "name");
    if (v->cls) {
      lua_pushstring(L, v->cls);
      lua_setfield(L, -2, "cls");
    }
    lua_pushstring(L, v->field);
    lua_setfield(L, -2, "field");
    lua_pushinteger(L, (lua_Integer)v->value);
    lua_setfield(L, -2, "value");
    lua_rawseti(L, -2, ++n);
  }
}

/* {{name=, field=, field2=, mask=, mul=}, ...}: Wireshark's field names */
static void push_ws_fields(lua_State *L, const sf_proto *pr) {
  const sf_wsfield *w;
  int n = 0;
  lua_newtable(L);
  for (w = pr->ws_fields; w && w->name; w++) {
    lua_createtable(L, 0, 5);
    lua_pushstring(L, w->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, w->field);
    lua_setfield(L, -2, "field");
    if (w->field2) {
      lua_pushstring(L, w->field2);
      lua_setfield(L, -2, "field2");
    }
    if (w->mask) {
      lua_pushinteger(L, (lua_Integer)w->mask);
      lua_setfield(L, -2, "mask");
    }
    lua_pushinteger(L, w->mul ? (lua_Integer)w->mul : 1);
    lua_setfield(L, -2, "mul");
    lua_rawseti(L, -2, ++n);
  }
}

/* {alias = field, ...} */
static void push_aliases(lua_State *L, const sf_proto *pr) {
  const sf_alias *a;
  lua_newtable(L);
  for (a = pr->aliases; a && a->alias; a++) {
    lua_pushstring(L, a->field);
    lua_setfield(L, -2, a->alias);
  }
}

/* core.protos() -> {[id+1] = {id=, name=, display=, kind=, fields={...},
   variants={...}, aliases={...}}} */
void lsf_push_proto_info(lua_State *L, int id) {
  const sf_proto *pr = sf_proto_get(id);
  int fi;
  lua_createtable(L, 0, 7);
  lua_pushinteger(L, id);
  lua_setfield(L, -2, "id");
  lua_pushstring(L, pr->name);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, pr->display);
  lua_setfield(L, -2, "display");
  lua_pushstring(L, pr->kind);
  lua_setfield(L, -2, "kind");
  lua_createtable(L, pr->nfields, 0);
  for (fi = 0; fi < pr->nfields; fi++) {
    push_field_info(L, pr, fi);
    lua_rawseti(L, -2, fi + 1);
  }
  lua_setfield(L, -2, "fields");
  push_variants(L, pr);
  lua_setfield(L, -2, "variants");
  push_aliases(L, pr);
  lua_setfield(L, -2, "aliases");
  if (pr->ws) {
    lua_pushstring(L, pr->ws);
    lua_setfield(L, -2, "ws");
  }
  push_ws_fields(L, pr);
  lua_setfield(L, -2, "ws_fields");
}

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

static const luaL_Reg core_funcs[] = {
  {"listdir", core_listdir},
  {"pton", core_pton}, {"ntop", core_ntop},
  {"protos", core_protos}, {"packet", lsf_packet_new},
  {"constructor", lsf_constructor}, {"checksum", core_checksum},
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
  for (id = 0; id < sf_proto_count(); id++) lsf_add_field_names(L, -1, id);
  lua_setfield(L, -2, "Packet");  /* methods; the Lua half adds more */
  lsf_open_pcap(L);  /* PcapReader, PcapWriter, rdpcap, wrpcap, wrpcapng */
  lsf_open_flow(L);  /* flows_file, flows_packets */
  lsf_open_anon(L);  /* CryptoPan, anon_policy, Anonymizer, anonymize_pcap */
  lua_pushliteral(L, SF_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
