/*
 * lvalue.c -- field values between Lua and the engine.
 *
 * Integers are Lua integers, flags read as their names ("SA", "MF+DF"),
 * addresses as text, variable fields as byte strings or, when the field
 * has a codec (TCP options, say), as the Lua structure the codec makes.
 */
#include <string.h>

#include "lsf.h"

/* registry: name -> field map, for every field name of every protocol.
   The keys table has the same map under the name unless a method or
   property has it; views, constructors and getfieldval look here then. */
static const char field_maps_key = 'f';

/* The field map of the name at keyidx (see lsf.h), or NULL. */
const int16_t *lsf_field_map(lua_State *L, int keysidx, int keyidx) {
  const int16_t *m = NULL;
  keysidx = lua_absindex(L, keysidx);
  keyidx = lua_absindex(L, keyidx);
  lua_pushvalue(L, keyidx);
  if (lua_rawget(L, keysidx) == LUA_TUSERDATA) {
    m = lua_touserdata(L, -1);
  } else if (lua_rawgetp(L, LUA_REGISTRYINDEX, &field_maps_key) == LUA_TTABLE) {
    lua_pushvalue(L, keyidx);  /* a field named like a method, perhaps */
    if (lua_rawget(L, -2) == LUA_TUSERDATA) m = lua_touserdata(L, -1);
    lua_pop(L, 2);
  } else {
    lua_pop(L, 1);
  }
  lua_pop(L, 1);  /* the tables keep the map alive: no map is ever dropped */
  return m;
}

/* The field index of the string at keyidx in proto, or -1. */
int lsf_field_index(lua_State *L, int proto, int keyidx) {
  const int16_t *m;
  keyidx = lua_absindex(L, keyidx);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &lsf_keys_key);
  m = lsf_field_map(L, lua_gettop(L), keyidx);
  lua_pop(L, 1);
  return m ? m[proto] : -1;
}

/* The map of name in the field maps table at mapsidx, made if new. */
static int16_t *name_map(lua_State *L, int mapsidx, const char *name) {
  int16_t *m;
  if (lua_getfield(L, mapsidx, name) == LUA_TUSERDATA) {
    m = lua_touserdata(L, -1);
  } else {
    int i;
    lua_pop(L, 1);
    m = lua_newuserdatauv(L, SF_MAX_PROTOS * sizeof *m, 0);
    for (i = 0; i < SF_MAX_PROTOS; i++) m[i] = -1;
    lua_pushvalue(L, -1);
    lua_setfield(L, mapsidx, name);
  }
  return m;  /* and pushed */
}

/* Enter a field name of proto.  A method or property of that name keeps
   its place in the keys table (p:summary() stays the method on every
   packet, as Scapy's methods win over fields): the layer view reads the
   field. */
static void add_field_name(lua_State *L, int keysidx, int mapsidx, int proto,
                           const char *name, int fi) {
  int16_t *m = name_map(L, mapsidx, name);
  if (lua_getfield(L, keysidx, name) == LUA_TNIL) {
    lua_pushvalue(L, -2);
    lua_setfield(L, keysidx, name);
  }
  lua_pop(L, 2);
  if (m[proto] < 0) m[proto] = (int16_t)fi;  /* variants: the first wins */
}

/* Enter proto's field names, and the other spellings its descriptor
   accepts (Stackforge's and older Scapy's), in the keys table. */
void lsf_add_field_names(lua_State *L, int keysidx, int proto) {
  const sf_proto *pr = sf_proto_get(proto);
  const sf_alias *a;
  int fi, maps;
  keysidx = lua_absindex(L, keysidx);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &field_maps_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &field_maps_key);
  }
  maps = lua_gettop(L);
  for (fi = 0; fi < pr->nfields; fi++)
    add_field_name(L, keysidx, maps, proto, pr->fields[fi].name, fi);
  for (a = pr->aliases; a && a->alias; a++)
    add_field_name(L, keysidx, maps, proto, a->alias, sf_field_find(pr, a->field));
  lua_pop(L, 1);
}

/* "TCP has no field 'dprot' (fields: sport, dport, ...)" */
int lsf_field_error(lua_State *L, int proto, const char *name) {
  const sf_proto *pr = sf_proto_get(proto);
  luaL_Buffer b;
  int i, j;
  luaL_buffinit(L, &b);
  for (i = 0; i < pr->nfields; i++) {
    for (j = 0; j < i; j++)  /* variants share a name: list it once */
      if (strcmp(pr->fields[j].name, pr->fields[i].name) == 0) break;
    if (j < i) continue;
    if (i) luaL_addstring(&b, ", ");
    luaL_addstring(&b, pr->fields[i].name);
  }
  luaL_pushresult(&b);
  return luaL_error(L, "%s has no field '%s' (fields: %s)", pr->name, name,
                    lua_tostring(L, -1));
}

/* Replace the value at the top with codecs[codec][fn](value), the codec
   of field f of layer pr (NULL: unnamed).  A codec's error (a bad option list) is the
   caller's: raised at its line, naming the layer and field unless the
   codec did. */
void lsf_call_codec(lua_State *L, const sf_proto *pr, const sf_field *f,
                    const char *fn) {
  int v = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, LSF_CODECS);
  if (lua_getfield(L, -1, f->codec) != LUA_TTABLE ||
      lua_getfield(L, -1, fn) != LUA_TFUNCTION) {
    lua_settop(L, v);  /* no codec: the bytes stay bytes */
    return;
  }
  lua_pushvalue(L, v);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    if (lua_type(L, -1) == LUA_TSTRING) {
      const char *msg = lua_tostring(L, -1);
      size_t n = pr ? strlen(pr->name) : 0;
      luaL_where(L, 1);
      if (!pr || (strncmp(msg, pr->name, n) == 0 && msg[n] == '.'))
        lua_pushliteral(L, "");
      else
        lua_pushfstring(L, "%s.%s: ", pr->name, f->name);
      lua_rotate(L, -3, 2);
      lua_concat(L, 3);  /* "file:line: Layer.field: " .. message */
    }
    lua_error(L);
  }
  lua_replace(L, v);
  lua_settop(L, v);
}

/* Sign-extend a two's complement field value. */
static lua_Integer signed_value(const sf_field *f, uint64_t u) {
  if (f->bits < 64 && (u >> (f->bits - 1)) & 1) u |= ~UINT64_C(0) << f->bits;
  return (lua_Integer)u;
}

/* The codec the engine has for field f (the text a DNS name or a MAC
   address is), or NULL: a Lua codec, or none. */
static const sf_codec *engine_codec(const sf_field *f) {
  return f->type == SF_T_BYTES && f->codec ? sf_codec_find(f->codec) : NULL;
}

/* Field fi's bytes as the engine's codec reads them, or the bytes
   themselves when they are not what it reads. */
static void push_text(lua_State *L, const sf_codec *c, const sf_pkt *p,
                      int li, int fi, const sf_val *v) {
  char text[1024];
  int n = c->to_text ? c->to_text(p, li, fi, v->p, v->n, text, sizeof text) : -1;
  if (n >= 0 && (size_t)n < sizeof text) lua_pushlstring(L, text, (size_t)n);
  else lua_pushlstring(L, (const char *)v->p, v->n);
}

void lsf_push_field(lua_State *L, const sf_pkt *p, int li, int fi) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  const sf_codec *c;
  sf_val v;
  int rc;
  if (pr->dyn) {  /* a custom layout may run Lua: on L */
    lsf_host h;
    lsf_enter(L, &h);
    rc = sf_field_get(p, li, fi, &v);
    lsf_leave(&h);
    lsf_raise_kept(&h);
  } else {
    rc = sf_field_get(p, li, fi, &v);
  }
  if (rc != SF_OK) lua_pushnil(L);
  else if ((c = engine_codec(&pr->fields[fi])) != NULL) push_text(L, c, p, li, fi, &v);
  else lsf_push_value(L, &pr->fields[fi], &v);
}

void lsf_push_prop(lua_State *L, const sf_pkt *p, int li, const sf_prop *pp) {
  char small[256];
  luaL_Buffer b;
  int n = pp->text(p, li, small, sizeof small);
  if (n < 0) {
    lua_pushnil(L);
  } else if ((size_t)n < sizeof small) {
    lua_pushlstring(L, small, (size_t)n);
  } else {  /* longer: again, into room for all of it */
    char *big = luaL_buffinitsize(L, &b, (size_t)n + 1);
    n = pp->text(p, li, big, (size_t)n + 1);
    luaL_pushresultsize(&b, n < 0 ? 0 : (size_t)n);
  }
}

/* A field's value as Lua sees it. */
void lsf_push_value(lua_State *L, const sf_field *f, const sf_val *vp) {
  sf_val v = *vp;
  char text[512];  /* every name of a 32-bit flags field (radiotap's present) */
  switch (f->type) {
    case SF_T_UINT:
      lua_pushinteger(L, (f->flags & SF_FF_SIGNED) ? signed_value(f, v.u)
                                                   : (lua_Integer)v.u);
      break;
    case SF_T_FLAGS:
      sf_format_flags(f, v.u, text, sizeof text);
      lua_pushstring(L, text);
      break;
    case SF_T_MAC: sf_format_mac(v.p, text); lua_pushstring(L, text); break;
    case SF_T_IP4: sf_format_ip4(v.p, text); lua_pushstring(L, text); break;
    case SF_T_IP6: sf_format_ip6(v.p, text); lua_pushstring(L, text); break;
    default:
      lua_pushlstring(L, (const char *)v.p, v.n);
      if (f->codec) lsf_call_codec(L, NULL, f, "decode");
  }
}

static int bad_value(lua_State *L, const sf_pkt *p, int li, int fi,
                     int validx, const char *expected) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  size_t n;
  const char *v = luaL_tolstring(L, validx, &n);
  if (n > 80)  /* a long value: its start says which */
    v = lua_pushfstring(L, "%s... (%I bytes)", lua_pushlstring(L, v, 60), (lua_Integer)n);
  return luaL_error(L, "%s.%s: bad value %s (expected %s)", pr->name,
                    pr->fields[fi].name, v, expected);
}

static int to_uint(lua_State *L, const sf_proto *pr, int fi, int idx,
                   uint64_t *out) {
  const sf_field *f = &pr->fields[fi];
  int isnum, t = lua_type(L, idx);
  lua_Integer n;
  if (t == LUA_TBOOLEAN) {  /* a one-bit field takes true and false */
    if (f->type != SF_T_UINT || f->bits != 1) return SF_E_TYPE;
    *out = (uint64_t)lua_toboolean(L, idx);
    return SF_OK;
  }
  if (t == LUA_TSTRING) {
    const char *s = lua_tostring(L, idx);
    if (f->type == SF_T_FLAGS) return sf_parse_flags(f, s, out);
    if (sf_field_value_named(pr, fi, s, out) == SF_OK) return SF_OK;
  }
  n = lua_tointegerx(L, idx, &isnum);
  if (!isnum) return SF_E_TYPE;
  /* Lua integers are signed 64-bit: a 64-bit field takes them all */
  if (n < 0 && !(f->flags & SF_FF_SIGNED) && f->bits < 64) return SF_E_RANGE;
  *out = (uint64_t)n;
  return SF_OK;
}

static int to_addr(lua_State *L, const sf_field *f, int idx, uint8_t *out) {
  const char *s = lua_type(L, idx) == LUA_TSTRING ? lua_tostring(L, idx) : NULL;
  if (!s) return SF_E_TYPE;
  if (f->type == SF_T_MAC) return sf_parse_mac(s, out);
  if (f->type == SF_T_IP4) return sf_parse_ip4(s, out);
  return sf_parse_ip6(s, out);
}

static const char *expected(const sf_proto *pr, int fi) {
  const sf_field *f = &pr->fields[fi];
  switch (f->type) {
    case SF_T_FLAGS: return "flag names or an integer";
    case SF_T_MAC: return "a MAC address like \"00:11:22:33:44:55\"";
    case SF_T_IP4: return "an IPv4 address like \"192.0.2.1\"";
    case SF_T_IP6: return "an IPv6 address like \"2001:db8::1\"";
    case SF_T_BYTES:
      if (engine_codec(f)) return engine_codec(f)->expected;
      return f->codec ? "a string or a list" : "a string";
    default:
      return f->enums || sf_field_names_table(pr, fi) >= 0 ? "an integer or a name"
                                                           : "an integer";
  }
}

/* The bytes codec c makes of the text s (n bytes, at most max of them),
   pushed: 0, or < 0 (nothing pushed) when s is not a text of c.  Room for
   n + SF_CODEC_ROOM first (sf.h), more while the codec says too big. */
int lsf_codec_bytes(lua_State *L, const sf_codec *c, const char *s, size_t n,
                    size_t max) {
  size_t cap = n + SF_CODEC_ROOM < max ? n + SF_CODEC_ROOM : max;
  for (;;) {
    uint8_t *out = lua_newuserdatauv(L, cap, 0);
    int r = c->from_text ? c->from_text(s, n, out, cap) : SF_E_VALUE;
    if (r >= 0) {
      lua_pushlstring(L, (const char *)out, (size_t)r);
      lua_remove(L, -2);
      return 0;
    }
    lua_pop(L, 1);
    if (r != SF_E_TOOBIG || cap >= max) return r;
    cap = cap < max / 4 ? cap * 4 : max;
  }
}

/* The text at validx as the bytes the engine's codec makes of it, which
   replace it on the stack (they must live until the field is set). */
static int text_val(lua_State *L, const sf_field *f, const sf_codec *c,
                    int validx, sf_val *v) {
  size_t n;
  const char *s = lua_tolstring(L, validx, &n);
  if (lsf_codec_bytes(L, c, s, n, f->bits ? f->bits / 8u : SF_MAX_LEN) < 0)
    return SF_E_VALUE;
  lua_replace(L, validx);
  v->p = (const uint8_t *)lua_tolstring(L, validx, &v->n);
  return SF_OK;
}

/* The Lua value at validx as the engine value of field fi of pr: integers,
   flag and enum names as numbers, addresses parsed into addr, bytes as
   they are (a codec's structure encoded first, replacing the value). */
/* Does the Lua codec take strings too (DNS's TXT: "hello" is {"hello"})?
   Other codecs leave a string as the field's bytes. */
static int takes_strings(lua_State *L, const char *codec) {
  int top = lua_gettop(L), yes;
  lua_getfield(L, LUA_REGISTRYINDEX, LSF_CODECS);
  yes = lua_getfield(L, -1, codec) == LUA_TTABLE &&
        lua_getfield(L, -1, "strings") != LUA_TNIL && lua_toboolean(L, -1);
  lua_settop(L, top);
  return yes;
}

static int to_val(lua_State *L, const sf_proto *pr, int fi, int validx,
                  sf_val *v, uint8_t addr[16]) {
  const sf_field *f = &pr->fields[fi];
  if (f->type == SF_T_UINT || f->type == SF_T_FLAGS)
    return to_uint(L, pr, fi, validx, &v->u);
  if (f->type == SF_T_BYTES && engine_codec(f) && lua_type(L, validx) == LUA_TSTRING)
    return text_val(L, f, engine_codec(f), validx, v);
  if (f->type == SF_T_BYTES) {
    if (f->codec && (lua_type(L, validx) != LUA_TSTRING || takes_strings(L, f->codec))) {
      lua_pushvalue(L, validx);
      lsf_call_codec(L, pr, f, "encode");
      lua_replace(L, validx);
    }
    if (lua_type(L, validx) != LUA_TSTRING) return SF_E_TYPE;
    v->p = (const uint8_t *)lua_tolstring(L, validx, &v->n);
    return SF_OK;
  }
  v->p = addr;
  v->n = f->bits / 8u;
  return to_addr(L, f, validx, addr);
}

/* Set field fi of layer li from the Lua value at validx; nil restores the
   default and makes an automatic field automatic again.  A value that is
   not one for the field is raised here, before anything changes; the
   engine's code is returned, with the first error of a custom protocol's
   callbacks kept in h: the caller accounts for the packet's memory, then
   raises them (lsf_raise_kept, lsf_raise). */
int lsf_set_field(lua_State *L, sf_pkt *p, int li, int fi, int validx,
                  lsf_host *h) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  sf_val v = {0, NULL, 0};
  uint8_t addr[16];
  int rc = SF_OK;
  validx = lua_absindex(L, validx);
  if (!lua_isnil(L, validx)) {
    rc = to_val(L, pr, fi, validx, &v, addr);
    if (rc == SF_E_TYPE || rc == SF_E_VALUE)
      return bad_value(L, p, li, fi, validx, expected(pr, fi));
    if (rc != SF_OK) return lsf_raise(L, rc, p, li, fi, validx);
  }
  lsf_enter(L, h);
  rc = lua_isnil(L, validx) ? sf_field_default(p, li, fi)
                            : sf_field_set(p, li, fi, &v);
  lsf_leave(h);
  return rc;
}

/* Set field fi of layer li (not variable bytes) of a protocol defined in C
   (no callbacks) from the value at validx, raising nothing: SF_OK, or the
   error lsf_set_field then reports.  For constructors' tables. */
int lsf_set_plain(lua_State *L, sf_pkt *p, int li, int fi, int validx) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  sf_val v = {0, NULL, 0};
  uint8_t addr[16];
  int rc;
  if (pr->dyn || pr->fields[fi].type == SF_T_BYTES) return SF_E_TYPE;
  rc = to_val(L, pr, fi, validx, &v, addr);
  return rc == SF_OK ? sf_field_set(p, li, fi, &v) : rc;
}
