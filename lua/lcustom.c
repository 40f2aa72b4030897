/*
 * lcustom.c -- CustomLayer's binding: a Lua definition becomes an engine
 * protocol (core/custom/) whose callbacks run the Lua functions; plus
 * bind_layers' tables and heuristics.
 *
 * The Lua half (stdlib/stackforge/custom.lua) checks a definition and
 * hands core.define() one plain table per field.  Each protocol is a
 * userdata whose user values hold those tables (with their length_from,
 * count_from, cond and adjust functions), the hooks (post_build,
 * guess_payload) and the bindings it takes part in; the state's registry
 * finds it by the engine's host pointer.  When the state closes, its
 * finalizer unbinds the protocol and tells the engine the host is gone,
 * so nothing calls into a closed state.
 *
 * Which thread runs a callback: the one making the engine call.  The
 * engine API takes no context (sf_pkt_parse, sf_field_get, sf_finalize
 * ... are called from everywhere in the binding and from the flow and
 * anonymization drivers), so every binding site that makes such a call
 * brackets it with lsf_enter/lsf_leave: an lsf_host on the C stack, with
 * the calling lua_State (a coroutine, perhaps) and room for the first
 * error a callback raises, is this thread's current host for the length
 * of that one engine call (_Thread_local, stacked for nested calls).
 * Nothing survives the call: no state stashed at definition, no static
 * error buffer.  A callback with no host on its thread (an engine call
 * from C) or whose protocol another Lua state defined fails quietly: the
 * layout is malformed, and the layer parses as Raw.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsf.h"
#include "../core/custom/custom.h"


/* user values of a protocol */
#define UV_SPECS 1     /* the field tables, in order */
#define UV_HOOKS 2     /* {post_build=, guess_payload=} */
#define UV_BINDS 3     /* bindings naming it: {{lower, fi, value, upper}...} */

typedef struct lproto {
  sf_custom *c;        /* NULL: not defined (yet), or released */
  int id;              /* -1 until registered */
} lproto;

typedef struct lheur {
  int lower, upper;    /* user value 1: the function */
  int adopted;         /* a worker's answer to another state's heuristic */
} lheur;

static const char protos_key = 'p';  /* registry: {[lproto *] = userdata} */
static const char heurs_key = 'h';   /* registry: {[lheur *] = userdata} */

static void keep(lsf_host *h, const char *fmt, ...) {
  va_list ap;
  if (!h || h->err[0]) return;  /* the first error is the cause */
  va_start(ap, fmt);
  vsnprintf(h->err, sizeof h->err, fmt, ap);
  va_end(ap);
}

/* ---- running a callback ----------------------------------------------------- */

enum { CB_LENGTH, CB_COUNT, CB_COND, CB_ADJUST, CB_POST, CB_GUESS, CB_HEUR };
static const char *const cb_names[] = {"length_from", "count_from", "cond",
  "adjust", "post_build", "guess_payload", "heuristic"};

#define FAILED SF_E_ABSENT   /* a callback failed; its error is kept */

typedef struct cbcall {
  void *key;             /* the lproto or lheur */
  int what;              /* CB_* */
  const sf_cview *v;     /* the header as laid out so far */
  int fi;                /* the field asked about */
  int64_t x;             /* adjust: in; length, count, adjust: out */
  int answer;            /* cond: holds; guess, heuristic: protocol id */
  uint8_t *bytes;        /* post_build: the layer; heuristic: payload */
  size_t n;
  char *bad;             /* a number that is no integer, as text */
  struct lview *view;    /* pkt, while the callback runs */
  const sf_cview *prev;  /* what it showed before (a callback's callback) */
  size_t badlen;
  int rc;
} cbcall;

/* The protocol's (or heuristic's) userdata in L's registry: 0 when L's
   state did not define it. */
static int push_owner(lua_State *L, const cbcall *a) {
  const char *key = a->what == CB_HEUR ? &heurs_key : &protos_key;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) != LUA_TTABLE ||
      lua_rawgetp(L, -1, a->key) != LUA_TUSERDATA) {
    lua_pop(L, 2);
    return 0;
  }
  lua_remove(L, -2);
  return 1;
}

/* The function the callback runs, from the owner at the top (replaced). */
static int push_function(lua_State *L, const cbcall *a) {
  if (a->what == CB_HEUR) {
    lua_getiuservalue(L, -1, 1);
  } else if (a->what == CB_POST || a->what == CB_GUESS) {
    lua_getiuservalue(L, -1, UV_HOOKS);
    lua_getfield(L, -1, cb_names[a->what]);
    lua_remove(L, -2);
  } else {
    lua_getiuservalue(L, -1, UV_SPECS);
    lua_rawgeti(L, -1, a->fi + 1);
    lua_getfield(L, -1, cb_names[a->what]);
    lua_replace(L, -3);
    lua_pop(L, 1);
  }
  lua_remove(L, -2);
  return lua_isfunction(L, -1);
}

/* pkt: the fields laid out so far, read by name when asked -- most
   callbacks ask one or two, and a table of them all (codecs run) cost
   more than the callback.  One view per state, pointed at the header of
   the callback running (restored for nested ones); expired (NULL) once
   it returns, as wslua's buffers are. */
typedef struct lview { const sf_cview *v; } lview;
static const char view_key = 'v';  /* registry: the state's lview */

static int lview_index(lua_State *L) {
  const lview *lv = luaL_checkudata(L, 1, LSF_CVIEW);
  const char *name = luaL_checkstring(L, 2);
  const sf_cview *v = lv->v;
  int i;
  if (!v) return luaL_error(L, "a layer's fields used after its callback returned");
  for (i = 0; i < v->upto; i++) {
    sf_val val;
    if (strcmp(v->pr->fields[i].name, name) != 0) continue;
    if (sf_cview_get(v, i, &val) != SF_OK) break;  /* left out */
    lsf_push_value(L, &v->pr->fields[i], &val);
    return 1;
  }
  lua_pushnil(L);
  return 1;
}

/* The state's view, pointed at v; the pointer it had goes in *prev. */
static lview *push_view(lua_State *L, const sf_cview *v, const sf_cview **prev) {
  lview *lv;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &view_key) != LUA_TUSERDATA) {
    lua_pop(L, 1);
    lv = lua_newuserdatauv(L, sizeof *lv, 0);
    lv->v = NULL;
    luaL_setmetatable(L, LSF_CVIEW);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &view_key);
  }
  lv = lua_touserdata(L, -1);
  *prev = lv->v;
  lv->v = v;
  return lv;
}

/* length_from, count_from and conditions get the bytes from the field's
   start on, when the header is laid out from bytes (a text protocol's
   grammar reads them); nil while it is rebuilt from values. */
static void push_rest(lua_State *L, const sf_cview *v) {
  if (v->rebuilding || v->at > v->n) lua_pushnil(L);
  else lua_pushlstring(L, (const char *)v->h + v->at, v->n - v->at);
}

/* A length, count or adjusted value: an integer; a number that is none
   (NaN, 2.5, 1e300) is the engine's to judge; anything else an error. */
static void take_integer(lua_State *L, cbcall *a) {
  int isint;
  lua_Integer n = lua_tointegerx(L, -1, &isint);
  if (lua_type(L, -1) != LUA_TNUMBER)
    luaL_error(L, "must return an integer, got %s", luaL_typename(L, -1));
  if (isint) {
    a->x = n;
    a->rc = SF_OK;
  } else {
    snprintf(a->bad, a->badlen, LUA_NUMBER_FMT, (LUAI_UACNUMBER)lua_tonumber(L, -1));
    a->rc = SF_E_VALUE;
  }
}

/* guess_payload's answer: a layer (constructor, LayerKind, name), or
   nil or false (the dissector tables decide). */
static void take_layer(lua_State *L, cbcall *a) {
  int t = lua_type(L, -1), id = -1;
  a->answer = -1;
  if (t == LUA_TNIL || (t == LUA_TBOOLEAN && !lua_toboolean(L, -1))) return;
  if (t == LUA_TTABLE) {
    if (lua_getfield(L, -1, "kind") == LUA_TNUMBER) id = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
  } else if (t == LUA_TNUMBER) {
    id = (int)lua_tointeger(L, -1);
  } else if (t == LUA_TSTRING) {
    id = sf_proto_find(lua_tostring(L, -1));
  }
  if (!sf_proto_get(id))
    luaL_error(L, "must return a layer or nil, got %s", luaL_tolstring(L, -1, NULL));
  a->answer = id;
}

/* post_build's answer: the layer's bytes again, as many. */
static void take_bytes(lua_State *L, cbcall *a) {
  size_t n;
  const char *s = lua_tolstring(L, -1, &n);
  if (!s || n != a->n)
    luaL_error(L, "must return a string of %d bytes", (int)a->n);
  memcpy(a->bytes, s, n);
}

/* Runs protected, on the thread of the engine call: every Lua error
   (the callback's, a bad answer, memory) stays on this side. */
static int run_protected(lua_State *L) {
  cbcall *a = lua_touserdata(L, 1);
  a->rc = FAILED;
  if (!push_owner(L, a)) {  /* another state's: not ours to run */
    if (lsf_is_worker(L))  /* a worker would quietly parse it differently */
      return luaL_error(L, "runs in the Lua state that defined it; a WorkerPool's "
                        "state needs the definition in its map script too "
                        "(docs/scale.md)");
    return 0;
  }
  if (!push_function(L, a)) return luaL_error(L, "is not a function");
  if (a->what == CB_HEUR) lua_pushlstring(L, (const char *)a->bytes, a->n);
  else a->view = push_view(L, a->v, &a->prev);
  if (a->what == CB_ADJUST) lua_pushinteger(L, (lua_Integer)a->x);
  if (a->what == CB_POST) lua_pushlstring(L, (const char *)a->bytes, a->n);
  if (a->what <= CB_COND) push_rest(L, a->v);
  lua_call(L, (a->what <= CB_ADJUST || a->what == CB_POST) ? 2 : 1, 1);
  a->rc = SF_OK;
  switch (a->what) {
    case CB_LENGTH: case CB_COUNT: case CB_ADJUST: take_integer(L, a); break;
    case CB_COND: a->answer = lua_toboolean(L, -1); break;
    case CB_GUESS: take_layer(L, a); break;
    case CB_POST: take_bytes(L, a); break;
    default: a->answer = lua_toboolean(L, -1); break;
  }
  return 0;
}

/* "MyLayer.len: length_from: file.lua:3: attempt to ..." */
static void keep_callback_error(lsf_host *h, const cbcall *a) {
  const char *msg = lua_tostring(h->L, -1);
  if (!msg) msg = "(error object is not a string)";
  if (a->what == CB_HEUR)
    keep(h, "heuristic: %s", msg);
  else if (a->what == CB_POST || a->what == CB_GUESS)
    keep(h, "%s.%s: %s", a->v->pr->name, cb_names[a->what], msg);
  else
    keep(h, "%s.%s: %s: %s", a->v->pr->name, a->v->pr->fields[a->fi].name,
         cb_names[a->what], msg);
}

static int run(cbcall *a) {
  lsf_host *h = lsf_current();
  lua_State *L;
  int rc;
  if (!h) {  /* no Lua call on this thread to run it on */
    lsf_note_hostless();
    return FAILED;
  }
  L = h->L;
  if (!lua_checkstack(L, 8)) {
    keep(h, "%s: C stack overflow", cb_names[a->what]);
    return FAILED;
  }
  lua_pushcfunction(L, run_protected);  /* neither allocates: cannot raise */
  lua_pushlightuserdata(L, a);
  rc = lua_pcall(L, 1, 0, 0);
  if (a->view) a->view->v = a->prev;  /* expired, or the outer callback's */
  if (rc != LUA_OK) {
    keep_callback_error(h, a);
    lua_pop(L, 1);
    return FAILED;
  }
  return a->rc;
}

static void call_init(cbcall *a, void *key, int what, const sf_cview *v,
                      int fi) {
  memset(a, 0, sizeof *a);
  a->key = key;
  a->what = what;
  a->v = v;
  a->fi = fi;
}

/* ---- the engine's questions -------------------------------------------------- */

static int ask_number(void *host, const sf_cview *v, int fi, int what,
                      int64_t *out, char *bad, size_t badlen) {
  cbcall a;
  int rc;
  call_init(&a, host, what == SF_CQ_LENGTH ? CB_LENGTH : CB_COUNT, v, fi);
  a.bad = bad;
  a.badlen = badlen;
  rc = run(&a);
  *out = a.x;
  return rc;
}

static int ask_cond(void *host, const sf_cview *v, int fi, int *holds) {
  cbcall a;
  int rc;
  call_init(&a, host, CB_COND, v, fi);
  rc = run(&a);
  *holds = a.answer;
  return rc;
}

static int ask_adjust(void *host, const sf_cview *v, int fi, int64_t x,
                      int64_t *out, char *bad, size_t badlen) {
  cbcall a;
  int rc;
  call_init(&a, host, CB_ADJUST, v, fi);
  a.x = x;
  a.bad = bad;
  a.badlen = badlen;
  rc = run(&a);
  *out = a.x;
  return rc;
}

static int ask_post_build(void *host, const sf_cview *v, uint8_t *layer,
                          size_t n) {
  cbcall a;
  call_init(&a, host, CB_POST, v, -1);
  a.bytes = layer;
  a.n = n;
  return run(&a);
}

static int ask_guess(void *host, const sf_cview *v, int *next) {
  cbcall a;
  int rc;
  call_init(&a, host, CB_GUESS, v, -1);
  rc = run(&a);
  *next = a.answer;
  return rc;
}

static void tell_error(void *host, const char *msg) {
  (void)host;
  keep(lsf_current(), "%s", msg);
}

/* The engine remembers layouts per answering state: a state runs only
   its own definitions' callbacks, and a thread with no Lua call none. */
static const void *answerer(void *host) {
  lsf_host *h = lsf_current();
  const void *main;
  (void)host;
  if (!h || !lua_checkstack(h->L, 1)) return NULL;
  lua_rawgeti(h->L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  main = lua_tothread(h->L, -1);
  lua_pop(h->L, 1);
  return main;
}

static const sf_custom_ops lua_ops = {
  ask_number, ask_cond, ask_adjust, ask_post_build, ask_guess, tell_error,
  answerer
};

/* ---- core.define(name, fields, display, hooks) ---------------------------- */

static const char *const type_names[] = {"uint", "flags", "mac", "ip4", "ip6", "bytes", NULL};
static const char *const kind_names[] = {"fixed", "rest", "fixlen", "null", "lenfn", NULL};

static lua_Integer opt_int(lua_State *L, int t, const char *key, lua_Integer d) {
  lua_Integer v = d;
  if (lua_getfield(L, t, key) != LUA_TNIL) {
    int isint;
    v = lua_tointegerx(L, -1, &isint);
    if (!isint) luaL_error(L, "field spec: %s must be an integer", key);
  }
  lua_pop(L, 1);
  return v;
}

static const char *opt_str(lua_State *L, int t, const char *key, size_t *n) {
  const char *s = NULL;
  if (lua_getfield(L, t, key) == LUA_TSTRING) s = lua_tolstring(L, -1, n);
  lua_pop(L, 1);  /* the spec table keeps the string alive */
  return s;
}

static int opt_flag(lua_State *L, int t, const char *key) {
  int yes = lua_getfield(L, t, key) != LUA_TNIL && lua_toboolean(L, -1) &&
            !(lua_isinteger(L, -1) && lua_tointeger(L, -1) == 0);
  lua_pop(L, 1);
  return yes;
}

static int has_function(lua_State *L, int t, const char *key) {
  int yes = lua_getfield(L, t, key) == LUA_TFUNCTION;
  lua_pop(L, 1);
  return yes;
}

/* {[value] = name} or {names...} (flags, least significant bit first), as
   an sf_enum list in a userdata kept in the scratch table at keep. */
static const sf_enum *make_enums(lua_State *L, int t, int flags, int keep) {
  sf_enum *e;
  size_t n = 0, k = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) { n++; lua_pop(L, 1); }
  e = lua_newuserdatauv(L, (n + 1) * sizeof *e, 0);
  memset(e, 0, (n + 1) * sizeof *e);
  lua_rawseti(L, keep, (lua_Integer)luaL_len(L, keep) + 1);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    if (lua_isinteger(L, -2) && lua_type(L, -1) == LUA_TSTRING) {
      e[k].value = (uint64_t)lua_tointeger(L, -2) - (flags ? 1 : 0);
      e[k++].name = lua_tostring(L, -1);  /* alive in the spec table */
    }
    lua_pop(L, 1);
  }
  return e;
}

static int field_index(lua_State *L, int specs, const char *name) {
  int i, n = (int)luaL_len(L, specs);
  for (i = 1; i <= n; i++) {
    int same;
    lua_geti(L, specs, i);
    lua_getfield(L, -1, "name");
    same = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), name) == 0;
    lua_pop(L, 2);
    if (same) return i - 1;
  }
  return -1;
}

static int16_t ref_field(lua_State *L, int t, int specs, const char *key) {
  const char *name = opt_str(L, t, key, NULL);
  return (int16_t)(name ? field_index(L, specs, name) : -1);
}

/* One field from its plain table at t (made by custom.lua). */
static void read_field(lua_State *L, int t, int specs, int keep, sf_field *f,
                       sf_cfield *cf) {
  lua_getfield(L, t, "name");
  f->name = luaL_checkstring(L, -1);
  lua_getfield(L, t, "type");
  f->type = (uint8_t)luaL_checkoption(L, -1, NULL, type_names);
  lua_getfield(L, t, "kind");
  cf->kind = (uint8_t)luaL_checkoption(L, -1, "fixed", kind_names);
  lua_pop(L, 3);
  f->bits = (uint16_t)opt_int(L, t, "bits", 0);
  f->def = (uint64_t)opt_int(L, t, "default", 0);
  f->defstr = opt_str(L, t, "defstr", NULL);
  f->codec = opt_str(L, t, "codec", NULL);
  if (opt_flag(L, t, "hex")) f->flags |= SF_FF_HEX;
  if (opt_flag(L, t, "le")) f->flags |= SF_FF_LE;
  if (opt_flag(L, t, "signed")) f->flags |= SF_FF_SIGNED;
  if (lua_getfield(L, t, "enums") == LUA_TTABLE)
    f->enums = make_enums(L, lua_gettop(L), f->type == SF_T_FLAGS, keep);
  lua_pop(L, 1);
  cf->defbytes = (const uint8_t *)opt_str(L, t, "defbytes", &cf->ndef);
  cf->bytes = (uint32_t)opt_int(L, t, "bytes", 0);
  cf->item_bytes = (uint32_t)opt_int(L, t, "item_bytes", 0);
  cf->align = (uint32_t)opt_int(L, t, "align", 0);
  cf->sub_proto = (int)opt_int(L, t, "packet_kind", -1);
  cf->len_of = ref_field(L, t, specs, "length_of");
  cf->count_of = ref_field(L, t, specs, "count_of");
  if (has_function(L, t, "length_from")) cf->hooks |= SF_CH_LENGTH;
  if (has_function(L, t, "count_from")) cf->hooks |= SF_CH_COUNT;
  if (has_function(L, t, "cond")) cf->hooks |= SF_CH_COND;
  if (has_function(L, t, "adjust")) cf->hooks |= SF_CH_ADJUST;
}

static lproto *new_lproto(lua_State *L, int specs, int hooks) {
  lproto *lp = lua_newuserdatauv(L, sizeof *lp, 3);
  lp->c = NULL;
  lp->id = -1;
  luaL_setmetatable(L, LSF_CPROTO);
  lua_pushvalue(L, specs);
  lua_setiuservalue(L, -2, UV_SPECS);
  if (lua_istable(L, hooks)) lua_pushvalue(L, hooks);
  else lua_newtable(L);
  lua_setiuservalue(L, -2, UV_HOOKS);
  lua_newtable(L);
  lua_setiuservalue(L, -2, UV_BINDS);
  return lp;
}

/* registry[key][p] = the value at idx (nil: forget it) */
static void remember(lua_State *L, const char *key, void *p, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, key);
  }
  lua_pushvalue(L, idx);
  lua_rawsetp(L, -2, p);
  lua_pop(L, 1);
}

static unsigned proto_hooks(lua_State *L, int hooks) {
  unsigned h = 0;
  if (!lua_istable(L, hooks)) return 0;
  if (has_function(L, hooks, "post_build")) h |= SF_CH_POST_BUILD;
  if (has_function(L, hooks, "guess_payload")) h |= SF_CH_GUESS;
  return h;
}

/* The engine protocol of the definition at the stack's arguments, or an
   error; the memory is the userdata's until registered. */
static void make_custom(lua_State *L, lproto *lp, int n) {
  sf_field *fields = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *fields, 0);
  sf_cfield *cf = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *cf, 0);
  int keep = (lua_newtable(L), lua_gettop(L)), i;
  sf_cdef d;
  lsf_host h;
  char err[256];
  memset(fields, 0, ((size_t)n + 1) * sizeof *fields);
  memset(cf, 0, ((size_t)n + 1) * sizeof *cf);
  for (i = 0; i < n; i++) {
    lua_geti(L, 2, i + 1);
    luaL_checktype(L, -1, LUA_TTABLE);
    read_field(L, lua_gettop(L), 2, keep, &fields[i], &cf[i]);
    lua_pop(L, 1);
  }
  d.name = lua_tostring(L, 1);
  d.display = lua_isstring(L, 3) ? lua_tostring(L, 3) : NULL;
  d.nfields = n;
  d.fields = fields;
  d.cf = cf;
  d.hooks = proto_hooks(L, 4);
  d.ops = &lua_ops;
  d.host = lp;
  lsf_enter(L, &h);  /* the default header may ask conditions */
  lp->c = sf_custom_new(&d, err, sizeof err);
  lsf_leave(&h);
  if (!lp->c) {
    lua_pushnil(L);
    remember(L, &protos_key, lp, -1);  /* garbage now: nothing to free */
    luaL_error(L, "CustomLayer %s", h.err[0] ? h.err : err);
  }
}

/* ---- the states of a WorkerPool ------------------------------------------------
   The protocol registry is the process's, shared by every Lua state, and
   stays as it is while a pool's threads run: a worker's state never
   writes it.  A CustomLayer it defines is adopted -- the protocol another
   state registered under that name, with the same fields, whose
   callbacks the worker's functions answer on the worker's thread -- and
   so is a heuristic another state added; a binding that is there already
   is kept; anything new is an error that says where to do it. */

/* The same field names, in order, as the protocol pr? */
static int same_fields(lua_State *L, const sf_proto *pr, int n) {
  int i, same = pr->nfields == n;
  for (i = 0; same && i < n; i++) {
    lua_geti(L, 2, i + 1);
    lua_getfield(L, -1, "name");
    same = lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), pr->fields[i].name) == 0;
    lua_pop(L, 2);
  }
  return same;
}

/* CustomLayer in a worker: the protocol of that name, its callbacks ours. */
static int adopt(lua_State *L) {
  const char *name = lua_tostring(L, 1);
  const sf_proto *pr = sf_proto_get(sf_proto_find(name));
  void *host = sf_custom_host_of(pr);
  if (!host)
    return luaL_error(L, "CustomLayer %s: a WorkerPool's state cannot register a "
                      "protocol (the registry is shared by every state): define %s "
                      "in the main state before pool:map, and again in the map "
                      "script", name, name);
  if (!same_fields(L, pr, (int)luaL_len(L, 2)))
    return luaL_error(L, "CustomLayer %s: the fields differ from those of the %s "
                      "the main state defined", name, name);
  new_lproto(L, 2, 4);
  ((lproto *)lua_touserdata(L, -1))->id = pr->id;
  remember(L, &protos_key, host, -1);  /* the engine's calls find it so */
  lua_rawgetp(L, LUA_REGISTRYINDEX, &lsf_keys_key);
  lsf_add_field_names(L, -1, pr->id);
  lua_pushinteger(L, pr->id);
  return 1;
}

static int define(lua_State *L) {
  lproto *lp;
  int n, ud;
  luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (lsf_is_worker(L)) return adopt(L);
  lua_settop(L, 4);
  n = (int)luaL_len(L, 2);
  luaL_argcheck(L, n <= SF_MAX_FIELDS, 2, "too many fields");
  lp = new_lproto(L, 2, 4);
  ud = lua_gettop(L);
  remember(L, &protos_key, lp, ud);  /* the callbacks find it so */
  make_custom(L, lp, n);
  if ((lp->id = sf_custom_register(lp->c)) < 0) {
    int rc = lp->id;
    sf_custom_free(lp->c);  /* nothing of it stays behind */
    lp->c = NULL;
    lua_pushnil(L);
    remember(L, &protos_key, lp, -1);
    if (rc == SF_E_TOOBIG)
      return luaL_error(L, "CustomLayer %s: too many protocols (the registry "
                        "holds %d, built-in ones included)", lua_tostring(L, 1),
                        SF_MAX_PROTOS);
    return luaL_error(L, "CustomLayer %s: not enough memory", lua_tostring(L, 1));
  }
  lua_rawgetp(L, LUA_REGISTRYINDEX, &lsf_keys_key);
  lsf_add_field_names(L, -1, lp->id);
  lua_pushinteger(L, lp->id);
  return 1;
}

/* Bindings naming the protocol go with it (uservalue 3). */
static void unbind_all(lua_State *L, int ud) {
  lua_Integer i, n;
  lua_getiuservalue(L, ud, UV_BINDS);
  n = lua_istable(L, -1) ? (lua_Integer)lua_rawlen(L, -1) : 0;
  for (i = 1; i <= n; i++) {
    lua_Integer b[4];
    int k;
    lua_rawgeti(L, -1, i);
    for (k = 0; k < 4; k++) {
      lua_rawgeti(L, -1 - k, k + 1);
      b[k] = lua_tointeger(L, -1);
    }
    lua_pop(L, 5);
    sf_unbind((int)b[0], (int)b[1], (uint64_t)b[2], (int)b[3]);
  }
  lua_pop(L, 1);
}

/* The state is closing (the registry held the userdata until now). */
static int lproto_gc(lua_State *L) {
  lproto *lp = luaL_checkudata(L, 1, LSF_CPROTO);
  if (!lp->c) return 0;
  if (lp->id >= 0) {  /* the registry keeps the protocol: dead, unbound */
    unbind_all(L, 1);
    sf_custom_kill(lp->c);
  } else {
    sf_custom_free(lp->c);
  }
  lp->c = NULL;
  return 0;
}

/* ---- bindings ---------------------------------------------------------------- */

/* Note the binding on the custom protocol(s) it names. */
static void note_binding(lua_State *L, int lower, int fi, uint64_t v, int upper) {
  int side[2], k;
  side[0] = lower;
  side[1] = upper;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &protos_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  for (k = 0; k < 2; k++) {
    const sf_proto *pr = sf_proto_get(side[k]);
    lua_Integer b[4];
    int j;
    if (!pr->dyn) continue;  /* a built-in */
    if (lua_rawgetp(L, -1, pr->dyn->ud) != LUA_TUSERDATA) {
      lua_pop(L, 1);
      continue;
    }
    b[0] = lower;
    b[1] = fi;
    b[2] = (lua_Integer)v;
    b[3] = upper;
    lua_getiuservalue(L, -1, UV_BINDS);
    lua_createtable(L, 4, 0);
    for (j = 0; j < 4; j++) {
      lua_pushinteger(L, b[j]);
      lua_rawseti(L, -2, j + 1);
    }
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
}

/* Is the binding (lower, field fi = v) -> upper in the registry already:
   in the table its type fields key, or as a bound field? */
static int bound_already(int lower, int fi, uint64_t v, int upper) {
  const sf_proto *pr = sf_proto_get(lower);
  int have_fi;
  uint64_t have_v;
  if ((fi == pr->next_field || fi == pr->next_field2) && pr->table >= 0 &&
      sf_table_peek(pr->table, v) == upper)
    return 1;
  return sf_bind_field_value(lower, upper, &have_fi, &have_v) && have_fi == fi &&
         have_v == v;
}

/* bind in a worker: nothing to do when the binding is there already */
static int keep_binding(lua_State *L, int lower, int fi, uint64_t v, int upper) {
  if (bound_already(lower, fi, v, upper)) return 0;
  return luaL_error(L, "bind_layers(%s, %s): a WorkerPool's state cannot change "
                    "the protocol registry (shared by every state): bind them in "
                    "the main state before pool:map", sf_proto_get(lower)->name,
                    sf_proto_get(upper)->name);
}

/* core.bind(lower, fi, value, upper): fi -1 = lower's type field */
static int bind(lua_State *L) {
  int lower = lsf_proto_arg(L, 1), fi = (int)luaL_checkinteger(L, 2);
  uint64_t v = (uint64_t)luaL_checkinteger(L, 3);
  int upper = lsf_proto_arg(L, 4);
  if (fi < 0) fi = sf_proto_get(lower)->next_field;
  if (fi >= 0 && lsf_is_worker(L)) return keep_binding(L, lower, fi, v, upper);
  if (fi < 0)
    return luaL_error(L, "cannot bind %s to %s: %s has no type field; name one",
                      sf_proto_get(upper)->name, sf_proto_get(lower)->name,
                      sf_proto_get(lower)->name);
  if (sf_bind_field(lower, fi, v, upper) != SF_OK)
    return luaL_error(L, "cannot bind %s to %s: too many bound fields",
                      sf_proto_get(upper)->name, sf_proto_get(lower)->name);
  note_binding(L, lower, fi, v, upper);
  return 0;
}

/* core.unbind(lower, fi, value or nil, upper) */
static int unbind(lua_State *L) {
  int lower = lsf_proto_arg(L, 1), fi = (int)luaL_checkinteger(L, 2);
  uint64_t v = lua_isnoneornil(L, 3) ? UINT64_MAX : (uint64_t)luaL_checkinteger(L, 3);
  int upper = lsf_proto_arg(L, 4);
  if (lsf_is_worker(L))
    return luaL_error(L, "split_layers(%s, %s): a WorkerPool's state cannot change "
                      "the protocol registry (shared by every state)",
                      sf_proto_get(lower)->name, sf_proto_get(upper)->name);
  if (fi < 0) fi = sf_proto_get(lower)->next_field;
  if (fi >= 0) sf_unbind(lower, fi, v, upper);
  return 0;
}

/* core.bind_linktype(upper, linktype): captures of that link type start
   with upper (the registry drops the entry when upper's state closes). */
static int bind_linktype(lua_State *L) {
  int upper = lsf_proto_arg(L, 1);
  lua_Integer dlt = luaL_checkinteger(L, 2);
  if (dlt < 0 || dlt > 0xffffffffLL)
    return luaL_argerror(L, 2, "a link type from 0 to 4294967295");
  if (sf_table_add(sf_table("linktype"), (uint64_t)dlt, upper, 0, NULL) != SF_OK)
    return luaL_error(L, "cannot bind %s to link type %d", sf_proto_get(upper)->name, (int)dlt);
  return 0;
}

/* ---- heuristics -------------------------------------------------------------- */

/* Asked by the dissector with the layer's payload. */
static int run_heuristic(const sf_pkt *p, int li, void *ud) {
  const sf_layer *l = &p->layers[li];
  lheur *hr = ud;
  cbcall a;
  call_init(&a, hr, CB_HEUR, NULL, -1);
  a.bytes = (uint8_t *)p->data + l->off + l->hlen;  /* only read */
  a.n = l->end - l->off - l->hlen;
  return run(&a) == SF_OK && a.answer ? hr->upper : -1;
}

static int lheur_gc(lua_State *L) {
  lheur *hr = luaL_checkudata(L, 1, LSF_HEUR);
  if (!hr->adopted) sf_heur_remove(hr->lower, run_heuristic, hr);
  return 0;
}

static const char shared_key = 's';  /* registry: {{ptr, lower, upper}...} */

void lsf_share_heuristics(lua_State *from, lua_State *to) {
  lua_Integer n = 0;
  lua_newtable(to);
  if (lua_rawgetp(from, LUA_REGISTRYINDEX, &heurs_key) == LUA_TTABLE) {
    lua_pushnil(from);
    while (lua_next(from, -2)) {
      lheur *hr = luaL_testudata(from, -1, LSF_HEUR);
      if (hr && !hr->adopted) {
        lua_createtable(to, 3, 0);
        lua_pushlightuserdata(to, (void *)lua_topointer(from, -1));
        lua_rawseti(to, -2, 1);
        lua_pushinteger(to, hr->lower);
        lua_rawseti(to, -2, 2);
        lua_pushinteger(to, hr->upper);
        lua_rawseti(to, -2, 3);
        lua_rawseti(to, -2, ++n);
      }
      lua_pop(from, 1);
    }
  }
  lua_pop(from, 1);
  lua_rawsetp(to, LUA_REGISTRYINDEX, &shared_key);
}

/* The one heuristic another state added for (lower, upper), or NULL
   (none, or several: which is which could not be told). */
static void *shared_heuristic(lua_State *L, int lower, int upper) {
  void *found = NULL;
  lua_Integer i, n;
  int hits = 0;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &shared_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    return NULL;
  }
  n = (lua_Integer)lua_rawlen(L, -1);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    lua_rawgeti(L, -1, 2);
    lua_rawgeti(L, -2, 3);
    if (lua_tointeger(L, -2) == lower && lua_tointeger(L, -1) == upper) {
      lua_rawgeti(L, -3, 1);
      found = lua_touserdata(L, -1);
      hits++;
      lua_pop(L, 1);
    }
    lua_pop(L, 3);
  }
  lua_pop(L, 1);
  return hits == 1 ? found : NULL;
}

/* bind_heuristic in a worker: its function answers the other state's. */
static int adopt_heuristic(lua_State *L, int lower, int upper) {
  void *theirs = shared_heuristic(L, lower, upper);
  lheur *hr;
  if (!theirs)
    return luaL_error(L, "bind_heuristic(%s, %s): a WorkerPool's state cannot add "
                      "to the protocol registry (shared by every state): add it in "
                      "the main state before the pool is made, and again in the map "
                      "script", sf_proto_get(lower)->name, sf_proto_get(upper)->name);
  hr = lua_newuserdatauv(L, sizeof *hr, 1);
  hr->lower = lower;
  hr->upper = upper;
  hr->adopted = 1;
  lua_pushvalue(L, 3);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, LSF_HEUR);
  remember(L, &heurs_key, theirs, -1);  /* the engine's calls find it so */
  return 0;
}

/* core.heuristic(lower, upper, fn) */
static int heuristic(lua_State *L) {
  int lower = lsf_proto_arg(L, 1), upper = lsf_proto_arg(L, 2);
  lheur *hr;
  luaL_checktype(L, 3, LUA_TFUNCTION);
  if (lsf_is_worker(L)) return adopt_heuristic(L, lower, upper);
  hr = lua_newuserdatauv(L, sizeof *hr, 1);
  hr->lower = lower;
  hr->upper = upper;
  hr->adopted = 0;
  lua_pushvalue(L, 3);
  lua_setiuservalue(L, -2, 1);
  if (sf_heur_add(lower, run_heuristic, hr) != SF_OK)
    return luaL_error(L, "not enough memory");
  luaL_setmetatable(L, LSF_HEUR);  /* from now on __gc removes it */
  remember(L, &heurs_key, hr, -1);
  return 0;
}

/* core.proto_info(id): as one entry of core.protos() */
void lsf_push_proto_info(lua_State *L, int id);
static int proto_info(lua_State *L) {
  int id = lsf_proto_arg(L, 1);
  lsf_push_proto_info(L, id);
  return 1;
}

static const luaL_Reg custom_funcs[] = {
  {"define", define}, {"bind", bind}, {"unbind", unbind}, {"bind_linktype", bind_linktype},
  {"heuristic", heuristic}, {"proto_info", proto_info}, {NULL, NULL}
};

void lsf_open_custom(lua_State *L) {
  static const luaL_Reg proto_meta[] = {{"__gc", lproto_gc}, {NULL, NULL}};
  static const luaL_Reg heur_meta[] = {{"__gc", lheur_gc}, {NULL, NULL}};
  static const luaL_Reg view_meta[] = {{"__index", lview_index}, {NULL, NULL}};
  lsf_class(L, LSF_CPROTO, proto_meta, NULL);
  lsf_class(L, LSF_HEUR, heur_meta, NULL);
  lsf_class(L, LSF_CVIEW, view_meta, NULL);
  luaL_setfuncs(L, custom_funcs, 0);
}
