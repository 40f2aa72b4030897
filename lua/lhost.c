/*
 * lhost.c -- the binding's ground floor, which every other file of lua/
 * builds on and which needs none of them: the Lua host of an engine call
 * (which thread a custom protocol's callbacks run on, and the first error
 * they raise), errors from engine codes, arguments and options checked at
 * the API edge, protocols named and described to Lua, and the one way a
 * Lua-visible C type gets its metatable.
 */
#include <math.h>
#include <string.h>

#include "lsf.h"

const char lsf_keys_key = 'k';

/* ---- the engine call in progress ------------------------------------------ */

static _Thread_local lsf_host *current;

void lsf_enter(lua_State *L, lsf_host *h) {
  h->L = L;
  h->prev = current;
  h->err[0] = '\0';
  current = h;
}

void lsf_leave(lsf_host *h) { current = h->prev; }

lsf_host *lsf_current(void) { return current; }

/* Callbacks that found no Lua call on their thread (an engine call from
   a thread of C alone: parse_batch's), counted per thread. */
static _Thread_local unsigned long hostless;

void lsf_note_hostless(void) { hostless++; }
unsigned long lsf_hostless(void) { return hostless; }

/* The engine's thread_work hook (flows, anonymization, filtered reads):
   on the 0 call, did a callback since the 1 call find no host? */
static _Thread_local unsigned long hostless_before;

int lsf_thread_work(void *ud, int begin) {
  (void)ud;
  if (begin) {
    hostless_before = hostless;
    return 0;
  }
  return hostless != hostless_before;
}

int lsf_is_worker(lua_State *L) {
  int yes;
  lua_getfield(L, LUA_REGISTRYINDEX, LSF_WORKER);
  yes = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return yes;
}

void lsf_raise_kept(lsf_host *h) {
  if (h->err[0]) luaL_error(h->L, "%s", h->err);
}

/* ---- arguments and options ----------------------------------------------------- */

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

/* ---- errors from engine codes ------------------------------------------------ */

/* An engine code as a Lua error naming the layer, field and value. */
int lsf_raise(lua_State *L, int rc, const sf_pkt *p, int li, int fi,
              int validx) {
  const sf_proto *pr = p ? sf_proto_get(p->layers[li].proto) : NULL;
  const sf_field *f = pr && fi >= 0 ? &pr->fields[fi] : NULL;
  switch (rc) {
    case SF_E_RANGE:
      if (f->flags & SF_FF_SIGNED)
        return luaL_error(L, "%s.%s: value %s out of range (%I..%I)", pr->name,
                          f->name, luaL_tolstring(L, validx, NULL),
                          -(lua_Integer)(sf_field_max(f) >> 1) - 1,
                          (lua_Integer)(sf_field_max(f) >> 1));
      return luaL_error(L, "%s.%s: value %s out of range (0..%I)", pr->name,
                        f->name, luaL_tolstring(L, validx, NULL),
                        (lua_Integer)sf_field_max(f));
    case SF_E_ABSENT:
      if (pr->dyn)
        return luaL_error(L, "%s.%s: field is not in this %s (a condition "
                          "or length excludes it)", pr->name, f->name, pr->name);
      return luaL_error(L, "%s.%s: field does not apply to this %s (type %d)",
                        pr->name, f->name, pr->name,
                        (int)p->data[p->layers[li].off]);
    case SF_E_TOOBIG:
      return luaL_error(L, "packet too large (%d bytes at most)", (int)SF_MAX_LEN);
    case SF_E_DEPTH:
      return luaL_error(L, "too many layers (%d at most)", SF_MAX_LAYERS);
    case SF_E_NOMEM: return luaL_error(L, "not enough memory");
    default:
      return luaL_error(L, "%s.%s: bad value %s", pr ? pr->name : "?",
                        f ? f->name : "?", luaL_tolstring(L, validx, NULL));
  }
}

/* ---- protocols described to Lua --------------------------------------------------- */

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
  lua_pushboolean(L, f->flags & SF_FF_SHAPE);
  lua_setfield(L, -2, "shape");
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

/* {{name=, field=, field2=, mask=, mul=, hex=}, ...}: Wireshark's field names */
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
    if (w->hex) {
      lua_pushinteger(L, w->hex);
      lua_setfield(L, -2, "hex");
    }
    lua_rawseti(L, -2, ++n);
  }
}

/* {{name=, doc=}, ...}: the values computed from a layer */
static void push_props(lua_State *L, const sf_proto *pr) {
  const sf_prop *pp;
  int n = 0;
  lua_newtable(L);
  for (pp = pr->props; pp && pp->name; pp++) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, pp->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, pp->doc ? pp->doc : "");
    lua_setfield(L, -2, "doc");
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
/* {{name=, count=}, ...}: the counted parts (records) */
static void push_parts(lua_State *L, const sf_proto *pr) {
  const sf_part *pt;
  int n = 0;
  lua_newtable(L);
  for (pt = pr->parts; pt && pt->name; pt++) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, pt->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, pt->count);
    lua_setfield(L, -2, "count");
    lua_rawseti(L, -2, ++n);
  }
}

/* {{name=, global=}, ...}: the layer's methods */
static void push_methods(lua_State *L, const sf_proto *pr) {
  const sf_method *m;
  int n = 0;
  lua_newtable(L);
  for (m = pr->methods; m && m->name; m++) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, m->name);
    lua_setfield(L, -2, "name");
    if (m->global) {
      lua_pushstring(L, m->global);
      lua_setfield(L, -2, "global");
    }
    lua_rawseti(L, -2, ++n);
  }
}

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
  lua_pushboolean(L, pr->record);
  lua_setfield(L, -2, "record");
  lua_pushboolean(L, pr->dyn != NULL);  /* defined at run time (CustomLayer) */
  lua_setfield(L, -2, "custom");
  push_parts(L, pr);
  lua_setfield(L, -2, "parts");
  push_methods(L, pr);
  lua_setfield(L, -2, "methods");
  push_props(L, pr);
  lua_setfield(L, -2, "props");
}

/* ---- classes ---------------------------------------------------------------- */

/* "stackforge.PcapReader: 0x55..." for types without a __tostring */
static int default_tostring(lua_State *L) {
  if (luaL_getmetafield(L, 1, "__name") != LUA_TSTRING) lua_pushstring(L, luaL_typename(L, 1));
  lua_pushfstring(L, "%s: %p", lua_tostring(L, -1), lua_topointer(L, 1));
  return 1;
}

/* The metatable of the C type tname: its metamethods (meta), each with the
   methods table as upvalue 1 (an __index function may look there first),
   __index the methods unless meta has its own, and a __tostring naming the
   type unless meta has one.  The stack is left as it was. */
void lsf_class(lua_State *L, const char *tname, const luaL_Reg *meta,
               const luaL_Reg *methods) {
  luaL_newmetatable(L, tname);
  lua_newtable(L);
  if (methods) luaL_setfuncs(L, methods, 0);
  lua_pushvalue(L, -1);
  lua_insert(L, -3);       /* methods, mt, methods */
  luaL_setfuncs(L, meta, 1);
  if (lua_getfield(L, -1, "__index") == LUA_TNIL) {
    lua_pushvalue(L, -3);
    lua_setfield(L, -3, "__index");
  }
  lua_pop(L, 1);
  if (lua_getfield(L, -1, "__tostring") == LUA_TNIL) {
    lua_pushcfunction(L, default_tostring);
    lua_setfield(L, -3, "__tostring");
  }
  lua_pop(L, 3);
}
