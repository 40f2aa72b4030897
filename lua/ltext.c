/*
 * ltext.c -- Scapy's text for packets in Lua: p:summary("scapy"),
 * p:sprintf(fmt), Scapy's class names and field values as Scapy shows
 * them.  The formatting is the engine's (core/summary.c); this file
 * converts.
 */
#include <string.h>

#include "../core/summary.h"
#include "lsf.h"

/* Push the text fn writes (as snprintf), trying a stack buffer first. */
typedef size_t (*text_fn)(const sf_pkt *p, void *ud, char *out, size_t cap);

static void push_text(lua_State *L, const sf_pkt *p, text_fn fn, void *ud) {
  char tmp[512];
  size_t n;
  lsf_host h;
  lsf_enter(L, &h);  /* custom layers' fields may be laid out in Lua */
  n = fn(p, ud, tmp, sizeof tmp);
  if (n >= sizeof tmp) {
    luaL_Buffer b;
    char *s;
    lsf_leave(&h);
    s = luaL_buffinitsize(L, &b, n + 1);
    lsf_enter(L, &h);
    fn(p, ud, s, n + 1);
    lsf_leave(&h);
    luaL_pushresultsize(&b, n);
  } else {
    lsf_leave(&h);
    lua_pushlstring(L, tmp, n);
  }
  lsf_raise_kept(&h);
}

static size_t summary_fn(const sf_pkt *p, void *ud, char *out, size_t cap) {
  (void)ud;
  return sf_scapy_summary(p, out, cap);
}

/* The packet at idx, parsed and with its automatic fields filled. */
static sf_pkt *ready(lua_State *L, int idx) {
  sf_pkt *p = lsf_parsed(L, idx);
  if (p->flags & SF_P_DIRTY) lsf_finalize(L, idx, p);
  return p;
}

/* p:summary([style]): the seed's layer list without a style (lpacket.c's
   summary, upvalue 1), Scapy's Packet.summary() with "scapy". */
static int text_summary(lua_State *L) {
  const char *style;
  if (lua_isnoneornil(L, 2)) return lua_tocfunction(L, lua_upvalueindex(1))(L);
  style = luaL_checkstring(L, 2);
  if (strcmp(style, "scapy") != 0)
    return luaL_argerror(L, 2, lua_pushfstring(L, "unknown style '%s' "
                         "(styles: \"scapy\", or none for the layer names)", style));
  push_text(L, ready(L, 1), summary_fn, NULL);
  return 1;
}

typedef struct spf {
  const char *fmt;
  char err[128];
  long rc;
} spf;

static size_t sprintf_fn(const sf_pkt *p, void *ud, char *out, size_t cap) {
  spf *s = (spf *)ud;
  s->rc = sf_scapy_sprintf(p, s->fmt, out, cap, s->err, sizeof s->err);
  return s->rc < 0 ? 0 : (size_t)s->rc;
}

/* p:sprintf(fmt): Scapy's Packet.sprintf */
static int text_sprintf(lua_State *L) {
  spf s;
  sf_pkt *p = ready(L, 1);
  s.fmt = luaL_checkstring(L, 2);
  s.err[0] = '\0';
  push_text(L, p, sprintf_fn, &s);
  if (s.rc < 0) return luaL_argerror(L, 2, s.err);
  return 1;
}

typedef struct units {
  int li;
  long n;
} units;

static size_t units_fn(const sf_pkt *p, void *ud, char *out, size_t cap) {
  units *u = (units *)ud;
  u->n = sf_scapy_units(p, u->li, out, cap);
  return u->n < 0 ? 0 : (size_t)u->n;
}

/* core.scapy_class(p, i): Scapy's class name of layer i (1-based), and
   the classes of Scapy's layers layer i is, " / " between them ("HTTP /
   HTTPRequest"), or nil when it is none of Scapy's (a DNS record, a TLS
   record's message, the bytes a CCMP frame's data field holds) */
static int text_class(lua_State *L) {
  sf_pkt *p = ready(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2);
  units u;
  if (i < 1 || i > p->nlayers) return 0;
  lua_pushstring(L, sf_scapy_class(p, (int)i - 1));
  u.li = (int)i - 1;
  push_text(L, p, units_fn, &u);
  if (u.n < 0) {
    lua_pop(L, 1);
    lua_pushnil(L);
  }
  return 2;
}

typedef struct rpr {
  int li, fi, present;
} rpr;

/* (a custom layer's layout, in Lua, says whether the field is present:
   asked inside push_text's host section) */
static size_t repr_fn(const sf_pkt *p, void *ud, char *out, size_t cap) {
  rpr *r = (rpr *)ud;
  r->present = sf_field_present(p, r->li, r->fi);
  if (!r->present) {
    if (cap) out[0] = '\0';
    return 0;
  }
  return sf_scapy_repr(p, r->li, r->fi, out, cap);
}

/* core.scapy_repr(p, i, fi): field fi (0-based) of layer i as Scapy
   shows it; nil when the field is not in that header */
static int text_repr(lua_State *L) {
  sf_pkt *p = ready(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2), fi = luaL_checkinteger(L, 3);
  rpr r;
  if (i < 1 || i > p->nlayers || fi < 0 ||
      fi >= sf_proto_get(p->layers[i - 1].proto)->nfields)
    return 0;
  r.li = (int)i - 1;
  r.fi = (int)fi;
  push_text(L, p, repr_fn, &r);
  return r.present ? 1 : 0;
}

/* core.scapy_name(source, value): a name from the system's files */
static int text_name(lua_State *L) {
  const char *s = sf_scapy_name(luaL_checkstring(L, 1),
                                (uint64_t)luaL_checkinteger(L, 2));
  if (!s) return 0;
  lua_pushstring(L, s);
  return 1;
}

/* core.field_isset(p, i, fi): did the user set field fi (0-based) of
   layer i?  (show() prints an automatic field the user left as None.) */
static int text_isset(lua_State *L) {
  sf_pkt *p = lsf_parsed(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2), fi = luaL_checkinteger(L, 3);
  luaL_argcheck(L, i >= 1 && i <= p->nlayers, 2, "no such layer");
  luaL_argcheck(L, fi >= 0 && fi < sf_proto_get(p->layers[i - 1].proto)->nfields, 3,
                "no such field");
  lua_pushboolean(L, sf_isset(p, (int)i - 1, (int)fi));
  return 1;
}

static const luaL_Reg text_funcs[] = {
  {"field_isset", text_isset},
  {"scapy_class", text_class}, {"scapy_repr", text_repr},
  {"scapy_name", text_name}, {NULL, NULL}
};

static const char seed_summary_key = 's';  /* registry: lpacket.c's summary */

/* Functions into the module at mod, p:sprintf into the packet methods. */
void lsf_open_text(lua_State *L, int mod, int methods) {
  mod = lua_absindex(L, mod);
  methods = lua_absindex(L, methods);
  lua_pushvalue(L, mod);
  luaL_setfuncs(L, text_funcs, 0);
  lua_pop(L, 1);
  lua_pushcfunction(L, text_sprintf);
  lua_setfield(L, methods, "sprintf");
  /* the seed's summary, called without a style: kept in the registry the
     first time, as a module loaded again (busted's insulation) finds
     summary wrapped already, or replaced by the Lua half's hooks */
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &seed_summary_key) != LUA_TFUNCTION) {
    lua_pop(L, 1);
    lua_getfield(L, methods, "summary");
    luaL_argcheck(L, lua_iscfunction(L, -1), 1, "packets' summary is not the binding's");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &seed_summary_key);
  }
  lua_pushcclosure(L, text_summary, 1);
  lua_setfield(L, methods, "summary");
}
