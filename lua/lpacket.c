/*
 * lpacket.c -- the Packet userdata and its layer views.
 *
 * A Packet built from a Lua string borrows the string's bytes (kept alive
 * in the userdata's user value) and is dissected on first use.  A built
 * packet keeps its bytes inline, after the sf_pkt in the same userdata.
 * Such packets own no C memory and need no finalizer, which matters when
 * millions are made a second: a packet gets the metatable with __gc only
 * once the engine gives it heap memory (lsf_track).  A layer view (p[TCP])
 * is a packet reference plus a layer index.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lsf.h"

/* property codes in the keys table (methods are functions there) */
enum { P_LAYER_COUNT = 1, P_TIME, P_TIME_NS, P_WIRELEN, P_LINKTYPE, P_FIELDS,
       P_TRUNCATED, P_INTERFACE_ID, P_COMMENT, P_FRAME_NUMBER, P_PAYLOAD };

/* registry keys of the two packet metatables: without and with __gc */
static const char light_key = 'l', heavy_key = 'h';

/* A packet with volatile values or implicit sets in its fields (RandShort(),
   fuzz(), TCP{dport={80,443}}): the Lua half (stackforge.volatile) keeps
   them in the table at key "lazy" of the packet's user value 2 and draws
   the volatile ones at each build.  A binding bit of sf_pkt.flags (the
   engine defines the low ones and leaves the rest to the host), so that
   packets without any cost one bit test where they are built. */
#define LAZY 0x4000

static const char lazy_hooks_key = 'z';  /* registry: {set=, clear=, merge=} */
static int lazy_draw(lua_State *L);

#define STORE_MAX 16384   /* larger packets keep their bytes on the heap */
#define STORE_SLACK 48    /* room to grow an option or two in place */

/* Type checks run on every operation, so the two metatables' addresses
   are cached per thread (and per Lua state, by its registry). */
typedef struct mt_cache {
  const lua_State *L;  /* the thread last seen in the registry's state */
  const void *registry, *light, *heavy;
  int light_ref;  /* the light one as an integer key of the registry too */
} mt_cache;

static _Thread_local mt_cache mts;

/* registry: the integer key (luaL_ref) of the light metatable */
static const char light_ref_key = 'r';

/* Is the cache this state's?  The thread it was last used by is: that
   saves asking for the registry on every call. */
static int mts_mine(lua_State *L) {
  if (mts.L == L) return 1;
  if (mts.registry != lua_topointer(L, LUA_REGISTRYINDEX)) return 0;
  mts.L = L;  /* another thread (a coroutine) of the same state */
  return 1;
}

static void load_mts(lua_State *L) {
  mts.L = L;
  mts.registry = lua_topointer(L, LUA_REGISTRYINDEX);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &light_key);
  mts.light = lua_topointer(L, -1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &heavy_key);
  mts.heavy = lua_topointer(L, -1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &light_ref_key);
  mts.light_ref = (int)lua_tointeger(L, -1);
  lua_pop(L, 3);
}

/* Push the light metatable: lua_rawgeti is cheaper than lua_rawgetp on the
   registry's hash part, and every new packet needs it. */
static void push_light(lua_State *L) {
  if (mts_mine(L)) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, mts.light_ref);
    if (mts.light && lua_topointer(L, -1) == mts.light) return;
    lua_pop(L, 1);
  }
  load_mts(L);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &light_key);
}

sf_pkt *lsf_testpacket(lua_State *L, int idx) {
  sf_pkt *p = (sf_pkt *)lua_touserdata(L, idx);
  const void *mt;
  if (!p || !lua_getmetatable(L, idx)) return NULL;
  mt = lua_topointer(L, -1);
  lua_pop(L, 1);
  if ((mt == mts.light || mt == mts.heavy) && mts_mine(L)) return p;
  load_mts(L);  /* another state, or the first call in this one */
  return (mt == mts.light || mt == mts.heavy) ? p : NULL;
}

sf_pkt *lsf_checkpacket(lua_State *L, int idx) {
  sf_pkt *p = lsf_testpacket(L, idx);
  if (!p) luaL_typeerror(L, idx, "Packet");
  return p;
}

sf_pkt *lsf_newpacket_store(lua_State *L, size_t cap) {
  sf_pkt *p;
  if (cap > STORE_MAX) cap = 0;
  p = (sf_pkt *)lua_newuserdatauv(L, sizeof(sf_pkt) + cap, 2);
  sf_pkt_init(p);
  if (cap) sf_pkt_set_store(p, (uint8_t *)(p + 1), cap);
  push_light(L);
  lua_setmetatable(L, -2);
  return p;
}

sf_pkt *lsf_newpacket(lua_State *L) { return lsf_newpacket_store(L, 0); }

/* A packet that now holds heap memory must be finalized: arm __gc. */
void lsf_track(lua_State *L, int idx, sf_pkt *p) {
  if ((p->flags & SF_P_HOST) || !sf_pkt_on_heap(p)) return;
  idx = lua_absindex(L, idx);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &heavy_key);
  lua_setmetatable(L, idx);
  p->flags |= SF_P_HOST;
}

/* Dissect p (at idx) now, custom protocols' callbacks running on L. */
static sf_pkt *parse_now(lua_State *L, int idx, sf_pkt *p) {
  if (!(p->flags & SF_P_PARSED)) {
    lsf_host h;
    lsf_enter(L, &h);
    sf_pkt_parse(p);
    lsf_leave(&h);
    lsf_track(L, idx, p);  /* many layers: the index went to the heap */
    lsf_raise_kept(&h);
  }
  return p;
}

/* The packet at idx, dissected if it was not yet. */
sf_pkt *lsf_parsed(lua_State *L, int idx) {
  return parse_now(L, idx, lsf_checkpacket(L, idx));
}

/* Field lookups lay a custom header out, which may run Lua: on L. */
static int resolve(lua_State *L, const sf_pkt *p, int li, int fi) {
  lsf_host h;
  if (!sf_proto_get(p->layers[li].proto)->dyn) return sf_field_resolve(p, li, fi);
  lsf_enter(L, &h);
  fi = sf_field_resolve(p, li, fi);
  lsf_leave(&h);
  lsf_raise_kept(&h);
  return fi;
}

static int present(lua_State *L, const sf_pkt *p, int li, int fi) {
  lsf_host h;
  int yes;
  if (!sf_proto_get(p->layers[li].proto)->dyn) return sf_field_present(p, li, fi);
  lsf_enter(L, &h);
  yes = sf_field_present(p, li, fi);
  lsf_leave(&h);
  lsf_raise_kept(&h);
  return yes;
}

/* Set field fi of layer li of the packet at pidx from the value at validx:
   then its memory is accounted for, and errors raised. */
/* Call the Lua half's lazy hook name with the packet at pidx and n more
   arguments on the stack; leaves one result. */
static void lazy_call(lua_State *L, const char *name, int pidx, int n) {
  pidx = lua_absindex(L, pidx);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &lazy_hooks_key);
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  lua_pushvalue(L, pidx);
  lua_rotate(L, -2 - n, 2);  /* hook, packet, args */
  lua_call(L, n + 1, 1);
}

/* A volatile value (a Rand object) or an implicit set (a list for a field
   that holds no Lua table itself -- a list is an option field's value --
   or an IPv4 network "10.0.0.0/30"): the Lua half records it and gives
   the value to set now. */
static int is_lazy(lua_State *L, const sf_pkt *p, int li, int fi, int validx) {
  int lazy, t = lua_type(L, validx);
  if (t == LUA_TSTRING)  /* an IPv4 network: Scapy's Net, a set */
    return sf_proto_get(p->layers[li].proto)->fields[fi].type == SF_T_IP4 &&
           strchr(lua_tostring(L, validx), '/') != NULL;
  if (t != LUA_TTABLE) return 0;
  if (!lua_getmetatable(L, validx))
    return sf_proto_get(p->layers[li].proto)->fields[fi].type != SF_T_BYTES;
  lazy = lua_getfield(L, -1, "__lazy") != LUA_TNIL;
  lua_pop(L, 2);
  return lazy;
}

static void set_plain_value(lua_State *L, int pidx, sf_pkt *p, int li, int fi,
                            int validx);

static void set_field(lua_State *L, int pidx, sf_pkt *p, int li, int fi,
                      int validx) {
  validx = lua_absindex(L, validx);
  pidx = lua_absindex(L, pidx);
  if (is_lazy(L, p, li, fi, validx)) {
    lua_pushinteger(L, li + 1);
    lua_pushinteger(L, fi);
    lua_pushvalue(L, validx);
    lazy_call(L, "set", pidx, 3);  /* records it; the value to set now */
    p->flags |= LAZY;
    set_plain_value(L, pidx, p, li, fi, lua_gettop(L));
    lua_pop(L, 1);
    return;
  }
  if (p->flags & LAZY) {  /* a plain value replaces a lazy one */
    lua_pushinteger(L, li + 1);
    lua_pushinteger(L, fi);
    lazy_call(L, "clear", pidx, 2);
    if (!lua_toboolean(L, -1)) p->flags &= (uint16_t)~LAZY;  /* none left */
    lua_pop(L, 1);
  }
  set_plain_value(L, pidx, p, li, fi, validx);
}

static void set_plain_value(lua_State *L, int pidx, sf_pkt *p, int li, int fi,
                            int validx) {
  lsf_host h;
  int rc;
  rc = lsf_set_field(L, p, li, fi, validx, &h);
  lsf_track(L, pidx, p);
  lsf_raise_kept(&h);
  if (rc != SF_OK) lsf_raise(L, rc, p, li, fi, validx);
}

static void check(lua_State *L, int rc) {
  if (rc != SF_OK) lsf_raise(L, rc, NULL, 0, -1, 0);
}

/* Run an engine call's result through lsf_track before checking it. */
static void checked(lua_State *L, int idx, sf_pkt *p, int rc) {
  lsf_track(L, idx, p);
  check(L, rc);
}

/* ---- parts and methods (sf_part, sf_method) ---------------------------- */

/* The part of pr called name (DNS's "an"), or -1. */
static int part_index(const sf_proto *pr, const char *name) {
  int k;
  for (k = 0; pr->parts && pr->parts[k].name; k++)
    if (strcmp(pr->parts[k].name, name) == 0) return k;
  return -1;
}


/* Lengths and checksums of p (at idx), custom protocols' hooks running
   on L; an error is raised. */
void lsf_finalize(lua_State *L, int idx, sf_pkt *p) {
  lsf_host h;
  int rc;
  if (p->flags & LAZY) {  /* volatile values drawn anew at each build */
    idx = lua_absindex(L, idx);
    lua_pushcfunction(L, lazy_draw);
    lua_pushvalue(L, idx);
    lua_call(L, 1, 0);
  }
  lsf_enter(L, &h);
  rc = sf_finalize(p);
  lsf_leave(&h);
  lsf_track(L, idx, p);
  lsf_raise_kept(&h);
  check(L, rc);
}

/* ---- construction --------------------------------------------------------- */

/* The original length: 0 (the captured length) or at least that. */
static uint32_t check_wirelen(lua_State *L, int idx, const sf_pkt *p, const char *what) {
  lua_Integer v = lsf_check_range(L, idx, what, 0, UINT32_MAX);
  if (v && (size_t)v < p->len)
    luaL_error(L, "%s: %I is less than the packet's %d bytes", what, v, (int)p->len);
  return (uint32_t)v;
}

#define MAX_LINKTYPE 0x7fffffff

static const char *const packet_options[] = {"linktype", "time", "wirelen", "proto", NULL};

/* Packet(raw [, {linktype=, time=, wirelen=, proto=}]) */
int lsf_packet_new(lua_State *L) {
  size_t n;
  const char *raw;
  sf_pkt *p;
  luaL_checktype(L, 1, LUA_TSTRING);  /* bytes, not a number made text */
  raw = lua_tolstring(L, 1, &n);
  luaL_argcheck(L, n <= SF_MAX_LEN, 1, "packet too large");
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lsf_check_options(L, 2, "Packet", packet_options);
  }
  p = lsf_newpacket(L);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);  /* keep the borrowed bytes alive */
  sf_pkt_borrow(p, (const uint8_t *)raw, n);
  if (lua_istable(L, 2)) {
    if (lua_getfield(L, 2, "linktype") != LUA_TNIL)
      p->linktype = (int32_t)lsf_check_range(L, -1, "Packet.linktype", 0, MAX_LINKTYPE);
    if (lua_getfield(L, 2, "time") != LUA_TNIL)
      p->time_ns = lsf_check_time(L, -1, "Packet.time");
    if (lua_getfield(L, 2, "wirelen") != LUA_TNIL)
      p->wirelen = check_wirelen(L, -1, p, "Packet.wirelen");
    if (lua_getfield(L, 2, "proto") != LUA_TNIL)
      p->first = lsf_proto_arg(L, lua_gettop(L)) + 1;
    lua_pop(L, 4);
  }
  return 1;
}

/* Field names in constructors' tables, resolved by the key string's
   address: a short string is interned, and every field name stays in the
   keys table or the field maps table (lvalue.c), so while the state lives
   one address is one name.  A userdata of the state (upvalue 2 of
   core.construct); the maps it points to live as long as the state (the
   field maps table drops none). */
#define NAME_SETS 128  /* of two entries: a constructor call's few names */

typedef struct name_cache {
  struct { const void *name; const int16_t *map; } e[NAME_SETS][2];
} name_cache;

#define NAME_SHORT 32  /* at most LUAI_MAXSHORTLEN (40 in Lua 5.2-5.4) */
#define NAMES lua_upvalueindex(2)
#define KEYS lua_upvalueindex(1)

static void push_name_cache(lua_State *L) {
  memset(lua_newuserdatauv(L, sizeof(name_cache), 0), 0, sizeof(name_cache));
}

/* Remember that the string at idx names the map m. */
static void cache_name(lua_State *L, name_cache *c, unsigned h, int idx,
                       const int16_t *m) {
  c->e[h][1] = c->e[h][0];  /* the older entry moves, the oldest goes */
  c->e[h][0].name = lua_topointer(L, idx);
  c->e[h][0].map = m;
}

/* The field map (see lsf.h) of the key at idx, or NULL when it is no
   field name. */
static const int16_t *key_map(lua_State *L, int idx) {
  name_cache *c = (name_cache *)lua_touserdata(L, NAMES);
  const void *k = lua_topointer(L, idx);  /* a string's object, or NULL */
  unsigned h = (unsigned)(((uint64_t)(uintptr_t)k * UINT64_C(0x9E3779B97F4A7C15)) >> 57);
  const int16_t *m;
  if (k && c->e[h][0].name == k) return c->e[h][0].map;
  if (k && c->e[h][1].name == k) return c->e[h][1].map;
  if (lua_type(L, idx) != LUA_TSTRING) return NULL;
  m = lsf_field_map(L, KEYS, idx);
  if (m && lua_rawlen(L, idx) <= NAME_SHORT) cache_name(L, c, h, idx, m);
  return m;
}

/* The field of pr named by the key at -2 (as lua_next leaves it), or an
   error. */
static int key_field(lua_State *L, const sf_proto *pr) {
  const int16_t *m = key_map(L, lua_gettop(L) - 1);
  int fi = m ? m[pr->id] : -1;
  if (fi < 0 && pr->parts && lua_type(L, -2) == LUA_TSTRING &&
      part_index(pr, lua_tostring(L, -2)) >= 0)
    return -1;  /* a part (DNS's an): construct_parts stacks it */
  if (fi < 0) {
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "%s: field names must be strings, got %s", pr->name,
                 luaL_typename(L, -2));
    lsf_field_error(L, pr->id, lua_tostring(L, -2));
  }
  return fi;
}

/* Apply t's fields to layer li: variant-selecting fields (ICMP type) first,
   so the fields they bring in exist when the others are set. */
/* A protocol whose fields come and go with conditions takes the fields in
   its own order, as Scapy builds them: the condition's field first. */
static void apply_in_order(lua_State *L, int pidx, sf_pkt *p, int li, int t) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  int fi, f;
  for (fi = 0; fi < pr->nfields; fi++) {
    /* as Scapy, a value whose condition is false is not built */
    if (lua_getfield(L, t, pr->fields[fi].name) != LUA_TNIL &&
        (f = resolve(L, p, li, fi)) >= 0)
      set_field(L, pidx, p, li, f, -1);
    lua_pop(L, 1);
  }
}

static void apply_pass(lua_State *L, int pidx, sf_pkt *p, int li, int t,
                       int shape) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  int ordered = pr->dyn && pr->dyn->set;  /* else names only checked */
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int fi = key_field(L, pr), f;
    if (fi >= 0 && !(pr->fields[fi].flags & SF_FF_SHAPE) == !shape && !ordered) {
      if ((f = resolve(L, p, li, fi)) >= 0) fi = f;
      set_field(L, pidx, p, li, fi, -1);
    }
    lua_pop(L, 1);
  }
  if (ordered && !shape) apply_in_order(L, pidx, p, li, t);
}

/* The short way for the common case, one pass over t setting fields that
   lie at a fixed place in every header of the protocol (no variant
   selector, condition or option list).  0 at the first field that does
   not, or value that does not suit: the full way (apply_pass) then builds
   the layer again, and raises the error there is. */
static int apply_plain(lua_State *L, sf_pkt *p, int t) {
  const sf_proto *pr = sf_proto_get(p->layers[0].proto);
  int top = lua_gettop(L);
  if (pr->dyn) return 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int fi = key_field(L, pr);
    const sf_field *f = &pr->fields[fi < 0 ? 0 : fi];
    if (fi < 0 || f->cond || (f->flags & (SF_FF_SHAPE | SF_FF_AT | SF_FF_VARINT)) ||
        f->type == SF_T_BYTES ||
        lsf_set_plain(L, p, 0, fi, top + 2) != SF_OK) {
      lua_settop(L, top);
      return 0;
    }
    lua_settop(L, top + 1);
  }
  return 1;
}

/* The value at idx as a list of packets (one packet is a list of one). */
static int part_items(lua_State *L, int idx, const char *ctor, const char *part) {
  int n, i;
  if (lsf_testpacket(L, idx)) return 1;
  if (!lua_istable(L, idx))
    return luaL_error(L, "%s: %s must be a layer or a list of layers, got %s",
                      ctor, part, luaL_typename(L, idx));
  n = (int)luaL_len(L, idx);
  for (i = 1; i <= n; i++) {
    lua_geti(L, idx, i);
    if (!lsf_testpacket(L, -1))
      luaL_error(L, "%s: %s[%d] is a %s, not a layer (like DNSRR{...})", ctor,
                 part, i, luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  return n;
}

/* Stack item i of the part value on top onto the packet at pidx. */
static void stack_item(lua_State *L, int pidx, int i) {
  sf_pkt *a = lsf_checkpacket(L, pidx), *b, *r;
  int rc;
  if (lsf_testpacket(L, -1)) lua_pushvalue(L, -1);
  else lua_geti(L, -1, i);
  b = parse_now(L, lua_gettop(L), lsf_checkpacket(L, -1));
  r = lsf_newpacket_store(L, a->len + b->len + STORE_SLACK);
  rc = sf_pkt_concat(r, a, b);
  checked(L, -1, r, rc);
  r->time_ns = a->time_ns;
  lua_replace(L, pidx);
  lua_pop(L, 1);  /* the item */
}

/* ctor{part = layer or {layers}}: the one-layer packet at pidx with each
   part's layers stacked after it in the declared order, and each part's
   count set unless the fields gave it. */
static void construct_parts(lua_State *L, int pidx, int t) {
  const sf_proto *pr = sf_proto_get(lsf_checkpacket(L, pidx)->layers[0].proto);
  int k, i, n;
  for (k = 0; pr->parts[k].name; k++) {
    if (lua_getfield(L, t, pr->parts[k].name) == LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    n = part_items(L, lua_gettop(L), pr->name, pr->parts[k].name);
    for (i = 1; i <= n; i++) stack_item(L, pidx, i);
    lua_pop(L, 1);  /* the part's value */
    if (lua_getfield(L, t, pr->parts[k].count) == LUA_TNIL) {
      lua_pushinteger(L, n);
      set_field(L, pidx, lsf_checkpacket(L, pidx), 0,
                sf_field_find(pr, pr->parts[k].count), -1);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int has_shape_field(const sf_proto *pr) {
  int i;
  for (i = 0; i < pr->nfields; i++)
    if (pr->fields[i].flags & SF_FF_SHAPE) return 1;
  return 0;
}

/* A constructor's code: its protocol id * 2, + 1 for a variant with preset
   fields.  core.constructor keeps it in the constructor at index 1 (the
   cheapest lookup there is), so that a call costs one. */
static int ctor_code(lua_State *L, int cidx) {
  int code;
  if (lua_rawgeti(L, cidx, 1) == LUA_TNUMBER) {
    code = (int)lua_tointeger(L, -1);
  } else {  /* a table core.constructor has not seen */
    lua_getfield(L, cidx, "kind");
    code = (int)lua_tointeger(L, -1) * 2;
    code += lua_getfield(L, cidx, "preset") == LUA_TTABLE;
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  return code;
}

/* core.constructor(t) -> t: t (with kind and perhaps preset) is ready to
   be called as a constructor. */
int lsf_constructor(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_pushinteger(L, ctor_code(L, 1));
  lua_rawseti(L, 1, 1);
  return 1;
}

/* The full way: a variant's preset (ICMP.echo_request's type) goes under
   the user's fields, variant-selecting fields before the others. */
static void apply_all(lua_State *L, int pidx, sf_pkt *p, int preset, int t) {
  if (has_shape_field(sf_proto_get(p->layers[0].proto))) {
    if (preset) apply_pass(L, pidx, p, 0, preset, 1);
    if (t) apply_pass(L, pidx, p, 0, t, 1);
  }
  if (preset) apply_pass(L, pidx, p, 0, preset, 0);
  if (t) apply_pass(L, pidx, p, 0, t, 0);
}

/* IP(raw): the bytes dissected from that protocol on, as Scapy's
   constructors do with bytes (a Packet borrowing the string). */
static int construct_parse(lua_State *L, int proto) {
  size_t n;
  const char *raw = lua_tolstring(L, 2, &n);
  sf_pkt *p;
  if (n > SF_MAX_LEN) return luaL_error(L, "%s: packet too large", sf_proto_get(proto)->name);
  p = lsf_newpacket(L);
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, -2, 1);  /* keep the borrowed bytes alive */
  sf_pkt_borrow(p, (const uint8_t *)raw, n);
  p->first = proto + 1;
  p->time_ns = now_ns();
  return 1;
}

/* __call of a constructor: TCP{dport=80}, a one-layer packet.  Upvalues:
   the keys table and the name cache.  Most tables are applied in one pass
   (apply_plain); a variant's, or one with variant selectors, options or
   a bad value, the full way. */
static int lsf_construct(lua_State *L) {
  int code, proto, t;
  sf_pkt *p;
  lua_settop(L, 2);  /* constructor, fields */
  code = ctor_code(L, 1);
  proto = code >> 1;
  if (!sf_proto_get(proto))
    return luaL_error(L, "core.construct: not a constructor");
  t = lua_istable(L, 2) ? 2 : 0;
  if (!t && lua_type(L, 2) == LUA_TSTRING) return construct_parse(L, proto);
  if (!t && !lua_isnil(L, 2))
    return luaL_error(L, "bad argument to '%s' (table of fields or bytes "
                      "expected, got %s)", sf_proto_get(proto)->name, luaL_typename(L, 2));
  p = lsf_newpacket_store(L, sf_proto_get(proto)->minlen + STORE_SLACK);
  checked(L, 3, p, sf_pkt_new_layer(p, proto));
  if ((code & 1) || (t && !apply_plain(L, p, t))) {
    int preset = (code & 1) && lua_getfield(L, 1, "preset") == LUA_TTABLE ? 4 : 0;
    checked(L, 3, p, sf_pkt_new_layer(p, proto));  /* from the start */
    apply_all(L, 3, p, preset, t);
    lua_settop(L, 3);
  }
  p->time_ns = now_ns();  /* as Scapy: a built packet's time is its making */
  if (t && sf_proto_get(proto)->parts) construct_parts(L, 3, t);
  return 1;
}

/* The operand at idx as a packet: a string becomes Raw. */
static sf_pkt *operand(lua_State *L, int idx) {
  sf_pkt *p;
  if (lua_type(L, idx) == LUA_TSTRING) {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    sf_val v = {0, (const uint8_t *)s, n};
    p = lsf_newpacket_store(L, n);
    checked(L, -1, p, sf_pkt_new_layer(p, SF_RAW));
    checked(L, -1, p, sf_field_set(p, 0, 0, &v));
    lua_replace(L, idx);
    return p;
  }
  if (!(p = lsf_testpacket(L, idx)))
    luaL_error(L, "attempt to stack a %s onto a packet (use a layer like "
               "TCP{} or a string)", luaL_typename(L, idx));
  return parse_now(L, idx, p);
}

static int pkt_div(lua_State *L) {
  sf_pkt *a = operand(L, 1), *b = operand(L, 2);
  sf_pkt *r = lsf_newpacket_store(L, a->len + b->len + STORE_SLACK);
  checked(L, -1, r, sf_pkt_concat(r, a, b));
  if ((a->flags | b->flags) & LAZY) {  /* the operands' lazy values go along */
    r->flags |= LAZY;
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushinteger(L, a->nlayers);
    lazy_call(L, "merge", -4, 3);
    lua_pop(L, 1);
  }
  return 1;
}

/* ---- methods ------------------------------------------------------------ */

static sf_pkt *finalized(lua_State *L, int idx) {
  sf_pkt *p = lsf_parsed(L, idx);
  if (p->flags & (SF_P_DIRTY | LAZY)) lsf_finalize(L, idx, p);
  return p;
}

int lsf_volatile(const sf_pkt *p) { return (p->flags & LAZY) != 0; }

static int pkt_bytes(lua_State *L) {
  sf_pkt *p = finalized(L, 1);
  if (!p->buf && lua_getiuservalue(L, 1, 1) == LUA_TSTRING)
    return 1;  /* unchanged borrowed bytes: the string itself */
  lua_pushlstring(L, (const char *)p->data, p->len);
  return 1;
}

/* A copy of the packet at 1 (bytes shared until one changes), pushed. */
static sf_pkt *copy_packet(lua_State *L) {
  sf_pkt *p = lsf_parsed(L, 1);
  sf_pkt *r = lsf_newpacket_store(L, p->store ? p->len + STORE_SLACK : 0);
  checked(L, -1, r, sf_pkt_copy(r, p));
  if (lua_getiuservalue(L, 1, 1) != LUA_TNIL)
    lua_setiuservalue(L, -2, 1);  /* borrowed: keep the same string alive */
  else
    lua_pop(L, 1);
  lsf_push_comment(L, 1);  /* capture metadata goes along */
  if (lua_isnil(L, -1)) lua_pop(L, 1);
  else lsf_set_comment(L, -2, -1), lua_pop(L, 1);
  return r;
}

static int pkt_build(lua_State *L) {
  sf_pkt *r = copy_packet(L);
  lsf_finalize(L, lua_gettop(L), r);
  return 1;
}

/* p:copy(): Scapy's copy, what the user set still set and automatic
   fields still automatic */
static int pkt_copy(lua_State *L) {
  sf_pkt *r = copy_packet(L), *p = lsf_checkpacket(L, 1);
  if (p->flags & LAZY) {  /* volatile values and sets too */
    r->flags |= LAZY;
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    lua_pushinteger(L, p->nlayers);
    lazy_call(L, "merge", -4, 3);
    lua_pop(L, 1);
  }
  return 1;
}

/* ---- volatile values drawn in C --------------------------------------------- */

/* The generator of volatile values: xorshift64, per thread, seeded by
   random_seed (core.random_seed) for reproducible runs. */
static _Thread_local uint64_t rng = 0x2545F4914F6CDD1DULL;

static uint64_t rng_next(void) {
  uint64_t x = rng;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return rng = x;
}

/* uniform in [lo, hi] (signed; a span past 2^63: lo plus 63 bits) */
static lua_Integer rng_range(lua_Integer lo, lua_Integer hi) {
  uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;
  uint64_t r = rng_next() >> 1;
  return (lua_Integer)((uint64_t)lo + (span && span <= (UINT64_C(1) << 63) ? r % span : r));
}

/* A seed from the system's entropy (getrandom), so that processes and
   threads started in the same second draw different values; the clock,
   the process and an address mixed when it has none to give. */
static uint64_t entropy_seed(void) {
  uint64_t x;
  if (getrandom(&x, sizeof x, GRND_NONBLOCK) == (ssize_t)sizeof x) return x;
  return (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&x;
}

/* core.random_seed([n]): splitmix64 of n (or of the system's entropy), never 0 */
static int core_random_seed(lua_State *L) {
  uint64_t x = (lua_isnoneornil(L, 1) ? entropy_seed() : (uint64_t)luaL_checkinteger(L, 1)) +
               UINT64_C(0x9E3779B97F4A7C15);
  x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
  x ^= x >> 31;
  rng = x ? x : 1;
  return 0;
}

/* core.random(lo, hi) -> an integer in [lo, hi] from the same generator */
static int core_random(lua_State *L) {
  lua_pushinteger(L, rng_range(luaL_checkinteger(L, 1), luaL_checkinteger(L, 2)));
  return 1;
}

/* core.random_bytes(n) -> n bytes */
static int core_random_bytes(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1), i;
  luaL_Buffer b;
  char *s;
  luaL_argcheck(L, n >= 0 && n <= SF_MAX_LEN, 1, "size out of range");
  s = luaL_buffinitsize(L, &b, (size_t)n);
  for (i = 0; i < n; i += 8) {
    uint64_t r = rng_next();
    memcpy(s + i, &r, n - i < 8 ? (size_t)(n - i) : 8);
  }
  luaL_pushresultsize(&b, (size_t)n);
  return 1;
}

/* A packet's volatile values as a plan C runs at each build without
   reading Lua tables: made from the lazy table (at its key "plan") when
   missing; the Lua half drops it whenever the table changes. */
enum { D_NUM, D_BYTES, D_ADDR, D_LUA };

typedef struct ditem {
  int li, fi, kind, entry;     /* entry: its index in the lazy table */
  lua_Integer lo, hi;          /* D_NUM: the range; D_BYTES: the length's */
  const uint8_t *base, *mask;  /* D_ADDR: bits of base where mask is set are
                                  kept (strings of the value in the table) */
  size_t alen;
} ditem;

typedef struct dplan {
  int n;
  ditem it[];
} dplan;

/* the integer at key k of the table at idx, or 0 with *ok cleared */
static lua_Integer int_field(lua_State *L, int idx, const char *k, int *ok) {
  lua_Integer v = 0;
  if (lua_getfield(L, idx, k) == LUA_TNUMBER && lua_isinteger(L, -1)) v = lua_tointeger(L, -1);
  else *ok = 0;
  lua_pop(L, 1);
  return v;
}

/* How to draw the volatile value at the top for an item of protocol pr */
static void plan_item(lua_State *L, const sf_proto *pr, ditem *d) {
  int obj = lua_gettop(L), ok = 1;
  d->kind = D_LUA;
  if (pr->dyn) return;  /* run-time protocols' fields run Lua: set as values */
  d->lo = int_field(L, obj, "lo", &ok), d->hi = int_field(L, obj, "hi", &ok);
  if (ok) {
    d->kind = D_NUM;
    return;
  }
  ok = 1;
  d->lo = int_field(L, obj, "blo", &ok), d->hi = int_field(L, obj, "bhi", &ok);
  if (ok && d->lo >= 0 && d->hi <= 4096) {
    d->kind = D_BYTES;
    return;
  }
  if (lua_getfield(L, obj, "abase") == LUA_TSTRING && lua_getfield(L, obj, "amask") == LUA_TSTRING &&
      lua_rawlen(L, -1) == lua_rawlen(L, -2) && lua_rawlen(L, -1) <= 16) {
    d->kind = D_ADDR;
    d->base = (const uint8_t *)lua_tolstring(L, -2, &d->alen);
    d->mask = (const uint8_t *)lua_tostring(L, -1);
  }
  lua_settop(L, obj);
}

/* The plan of the lazy table at t of p (made and kept at t.plan). */
static dplan *plan_of(lua_State *L, const sf_pkt *p, int t) {
  dplan *pl;
  lua_Integer k, n;
  if (lua_getfield(L, t, "plan") == LUA_TUSERDATA) return (dplan *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  n = (lua_Integer)lua_rawlen(L, t);
  pl = (dplan *)lua_newuserdatauv(L, sizeof *pl + (size_t)n * sizeof(ditem), 0);
  pl->n = 0;
  for (k = 1; k <= n; k++) {
    ditem *d = &pl->it[pl->n];
    lua_rawgeti(L, t, k);
    if (lua_rawgeti(L, -1, 4) == LUA_TBOOLEAN) {  /* volatile (a set has none) */
      lua_rawgeti(L, -2, 1);
      lua_rawgeti(L, -3, 2);
      d->li = (int)lua_tointeger(L, -2) - 1;
      d->fi = (int)lua_tointeger(L, -1);
      d->entry = (int)k;
      lua_pop(L, 2);
      lua_rawgeti(L, -2, 3);
      if (d->li >= 0 && d->li < p->nlayers && lua_istable(L, -1)) {
        plan_item(L, sf_proto_get(p->layers[d->li].proto), d);
        pl->n++;
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 2);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, t, "plan");
  return pl;
}

/* Set field fi of layer li of the packet at 1 to v straight (a built-in
   protocol's: no Lua value to convert), raising as set_field does. */
static void set_drawn(lua_State *L, sf_pkt *p, int li, int fi, const sf_val *v) {
  int rc = sf_field_set(p, li, fi, v);
  if (rc != SF_OK) {
    lsf_track(L, 1, p);
    if (v->p) lua_pushlstring(L, (const char *)v->p, v->n);
    else lua_pushinteger(L, (lua_Integer)v->u);
    lsf_raise(L, rc, p, li, fi, lua_gettop(L));
  }
}

/* One item drawn (the lazy table at t, for D_LUA). */
static void draw_item(lua_State *L, sf_pkt *p, const ditem *d, int fi, int t) {
  if (d->kind == D_NUM) {
    sf_val v = {(uint64_t)rng_range(d->lo, d->hi), NULL, 0};
    set_drawn(L, p, d->li, fi, &v);
  } else if (d->kind == D_BYTES) {
    uint8_t buf[4096 + 8];
    sf_val v = {0, buf, (size_t)rng_range(d->lo, d->hi)};
    size_t i;
    for (i = 0; i < v.n; i += 8) {
      uint64_t r = rng_next();
      memcpy(buf + i, &r, 8);
    }
    set_drawn(L, p, d->li, fi, &v);
  } else if (d->kind == D_ADDR) {
    uint8_t buf[24];
    sf_val v = {0, buf, d->alen};
    size_t i;
    uint64_t r[3] = {rng_next(), rng_next(), 0};
    memcpy(buf, r, 16);
    for (i = 0; i < d->alen; i++) buf[i] = (uint8_t)((d->base[i] & d->mask[i]) | (buf[i] & ~d->mask[i]));
    set_drawn(L, p, d->li, fi, &v);
  } else {
    lua_rawgeti(L, t, d->entry);
    lua_rawgeti(L, -1, 3);
    lua_getfield(L, -1, "fn");
    lua_call(L, 0, 1);
    set_plain_value(L, 1, p, d->li, fi, -1);
    lua_pop(L, 3);
  }
}

/* core.lazy_draw(p): every volatile value of the packet drawn again (the
   layout-changing ones first: the Lua half keeps them at the front); a
   field absent from the header as it now is stays as it is */
static int lazy_draw(lua_State *L) {
  sf_pkt *p = lsf_parsed(L, 1);
  dplan *pl;
  int k;
  lua_settop(L, 1);
  if (lua_getiuservalue(L, 1, 2) != LUA_TTABLE || lua_getfield(L, 2, "lazy") != LUA_TTABLE)
    return 0;
  pl = plan_of(L, p, 3);
  for (k = 0; k < pl->n; k++) {
    const ditem *d = &pl->it[k];
    int fi;
    if (d->li >= p->nlayers || (fi = resolve(L, p, d->li, d->fi)) < 0) continue;
    draw_item(L, p, d, fi, 3);
  }
  lsf_track(L, 1, p);
  return 0;
}

/* core.lazy_hooks(t): the Lua half's set, clear, merge */
static int lazy_hooks(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &lazy_hooks_key);
  return 0;
}

/* core.lazy_table(p) -> the packet's table of lazy values (made if need be) */
static int lazy_table(lua_State *L) {
  lsf_checkpacket(L, 1);
  if (lua_getiuservalue(L, 1, 2) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 4, 1);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, 1, 2);
  }
  if (lua_getfield(L, -1, "lazy") != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "lazy");
  }
  return 1;
}

/* core.lazy_put(p, i, fi, value): set field fi of layer i, keeping the
   lazy value it was drawn from */
static int lazy_put(lua_State *L) {
  sf_pkt *p = lsf_parsed(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2), fi = luaL_checkinteger(L, 3);
  luaL_argcheck(L, i >= 1 && i <= p->nlayers, 2, "no such layer");
  luaL_argcheck(L, fi >= 0 && fi < sf_proto_get(p->layers[i - 1].proto)->nfields, 3,
                "no such field");
  if ((fi = resolve(L, p, (int)i - 1, (int)fi)) < 0) return 0;  /* not in this header now */
  set_plain_value(L, 1, p, (int)i - 1, (int)fi, 4);
  return 0;
}

static int pkt_parse(lua_State *L) {
  lsf_parsed(L, 1);
  lua_settop(L, 1);
  return 1;
}

static int pkt_summary(lua_State *L) {
  sf_pkt *p = lsf_parsed(L, 1);
  luaL_Buffer b;
  int i, named = 0;
  luaL_buffinit(L, &b);
  for (i = 0; i < p->nlayers; i++) {
    const sf_proto *pr = sf_proto_get(p->layers[i].proto);
    if (pr->record && i) continue;  /* the message names its records */
    if (named++) luaL_addstring(&b, " / ");
    luaL_addstring(&b, pr->display);
  }
  luaL_pushresult(&b);
  return 1;
}

static int find_layer(const sf_pkt *p, int proto) {
  int i;
  for (i = 0; i < p->nlayers; i++)
    if (p->layers[i].proto == proto) return i;
  return -1;
}

static int pkt_has_layer(lua_State *L) {
  sf_pkt *p = lsf_parsed(L, 1);
  lua_pushboolean(L, find_layer(p, lsf_proto_arg(L, 2)) >= 0);
  return 1;
}

/* The field called by the string at keyidx in layer li, variant resolved;
   -1 when the layer's protocol has no such field, -2 when absent here. */
static int layer_field(lua_State *L, const sf_pkt *p, int li, int keyidx) {
  int fi = lsf_field_index(L, p->layers[li].proto, keyidx);
  if (fi < 0) return -1;
  fi = resolve(L, p, li, fi);
  return fi < 0 ? -2 : fi;
}

/* The outermost layer that has the mapped field, and the field's index
   (its variant resolved), or -1. */
static int find_field(lua_State *L, const sf_pkt *p, const int16_t *map,
                      int *fi) {
  int li;
  for (li = 0; li < p->nlayers; li++) {
    int f = map[p->layers[li].proto];
    if (f >= 0 && (f = resolve(L, p, li, f)) >= 0) {
      *fi = f;
      return li;
    }
  }
  return -1;
}

static int pkt_getfieldval(lua_State *L) {
  sf_pkt *p = lsf_parsed(L, 1);
  int proto = lsf_proto_arg(L, 2), li = find_layer(p, proto), fi;
  luaL_checktype(L, 3, LUA_TSTRING);
  if (lsf_field_index(L, proto, 3) < 0) lsf_field_error(L, proto, lua_tostring(L, 3));
  if (li < 0 || (fi = layer_field(L, p, li, 3)) < 0) return 0;
  lsf_push_field(L, p, li, fi);
  return 1;
}

static int pkt_get_layer_bytes(lua_State *L) {
  sf_pkt *p = finalized(L, 1);
  int li = find_layer(p, lsf_proto_arg(L, 2));
  if (li < 0) return 0;
  lua_pushlstring(L, (const char *)p->data + p->layers[li].off,
                  p->layers[li].end - p->layers[li].off);
  return 1;
}

/* Views are cached in the packet's second user value, so a loop over
   p[TCP].sport = i does not make a view per iteration. */
static void push_view(lua_State *L, int pidx, int li) {
  lsf_layerview *v;
  pidx = lua_absindex(L, pidx);
  if (lua_getiuservalue(L, pidx, 2) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 4, 0);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, pidx, 2);
  }
  if (lua_rawgeti(L, -1, li + 1) == LUA_TUSERDATA) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 1);
  v = (lsf_layerview *)lua_newuserdatauv(L, sizeof *v, 1);
  v->li = li;
  lua_pushvalue(L, pidx);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, LSF_LAYER);
  lua_pushvalue(L, -1);
  lua_rawseti(L, -3, li + 1);
  lua_remove(L, -2);
}

/* p:layer(i): the i-th layer (1-based, negative from the end) */
static int pkt_layer(lua_State *L) {
  sf_pkt *p = lsf_parsed(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2);
  if (i < 0) i += p->nlayers + 1;
  if (i < 1 || i > p->nlayers) return 0;
  push_view(L, 1, (int)i - 1);
  return 1;
}

/* p:_layer_info(i) -> proto id, offset, header length, end, flags */
static int pkt_layer_info(lua_State *L) {
  sf_pkt *p = lsf_parsed(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2);
  const sf_layer *l;
  if (i < 1 || i > p->nlayers) return 0;
  l = &p->layers[i - 1];
  lua_pushinteger(L, l->proto);
  lua_pushinteger(L, l->off);
  lua_pushinteger(L, l->hlen);
  lua_pushinteger(L, l->end);
  lua_pushinteger(L, l->flags);
  return 5;
}

/* p:_field(i, fi) -> value (nil when the field does not apply) */
static int pkt_field_at(lua_State *L) {
  sf_pkt *p = finalized(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2), fi = luaL_checkinteger(L, 3);
  if (i < 1 || i > p->nlayers || fi < 0 ||
      fi >= sf_proto_get(p->layers[i - 1].proto)->nfields ||
      !present(L, p, (int)i - 1, (int)fi))
    return 0;
  lsf_push_field(L, p, (int)i - 1, (int)fi);
  return 1;
}

/* names of the fields present in layers [from, to) */
static void push_fields(lua_State *L, const sf_pkt *p, int from, int to) {
  int li, fi, n = 0;
  lua_newtable(L);
  for (li = from; li < to; li++) {
    const sf_proto *pr = sf_proto_get(p->layers[li].proto);
    for (fi = 0; fi < pr->nfields; fi++)
      if (present(L, p, li, fi)) {
        lua_pushstring(L, pr->fields[fi].name);
        lua_rawseti(L, -2, ++n);
      }
  }
}

static int property(lua_State *L, sf_pkt *p, int code) {
  switch (code) {
    case P_LAYER_COUNT: lua_pushinteger(L, p->nlayers); break;
    case P_TIME: lua_pushnumber(L, (lua_Number)p->time_ns / 1e9); break;
    case P_TIME_NS: lua_pushinteger(L, p->time_ns); break;
    case P_WIRELEN: lua_pushinteger(L, p->wirelen ? p->wirelen : p->len); break;
    case P_LINKTYPE: lua_pushinteger(L, p->linktype); break;
    case P_FIELDS: push_fields(L, p, 0, p->nlayers); break;
    case P_TRUNCATED: lua_pushboolean(L, p->flags & SF_P_TRUNC); break;
    case P_INTERFACE_ID: lua_pushinteger(L, p->interface_id); break;
    case P_COMMENT: lsf_push_comment(L, 1); break;  /* lpcap.c */
    case P_FRAME_NUMBER:  /* nil: not read from a capture */
      if (p->frame) lua_pushinteger(L, (lua_Integer)p->frame);
      else lua_pushnil(L);
      break;
    default: lua_pushnil(L);
  }
  return 1;
}

static int set_property(lua_State *L, sf_pkt *p, int code) {
  switch (code) {
    case P_TIME: p->time_ns = lsf_check_time(L, 3, "Packet.time"); break;
    case P_TIME_NS: p->time_ns = lsf_check_range(L, 3, "Packet.time_ns", INT64_MIN, INT64_MAX); break;
    case P_WIRELEN: p->wirelen = check_wirelen(L, 3, p, "Packet.wirelen"); break;
    case P_LINKTYPE:
      p->linktype = (int32_t)lsf_check_range(L, 3, "Packet.linktype", 0, MAX_LINKTYPE);
      break;
    case P_INTERFACE_ID:
      p->interface_id = (uint32_t)lsf_check_range(L, 3, "Packet.interface_id", 0, UINT32_MAX);
      break;
    case P_COMMENT: lsf_set_comment(L, 1, 3); break;  /* lpcap.c */
    default: return luaL_error(L, "Packet.%s is read-only", lua_tostring(L, 2));
  }
  return 0;
}

static void raise_no_field(lua_State *L) {
  lua_pushcfunction(L, pkt_summary);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  luaL_error(L, "no layer of this packet (%s) has a field '%s'",
             lua_tostring(L, -1), lua_tostring(L, 2));
}

/* A computed value (sf_prop) called name: pushes the outermost layer's
   that has it (nil when none here has it) and returns 1; 0 when no
   protocol computes one by that name. */
static int push_prop_named(lua_State *L, int idx, sf_pkt *p, const char *name) {
  const sf_prop *pp;
  int li, id, n = sf_proto_count();
  for (li = 0; li < p->nlayers; li++)
    if ((pp = sf_prop_find(sf_proto_get(p->layers[li].proto), name))) {
      if (p->flags & SF_P_DIRTY) lsf_finalize(L, idx, p);
      lsf_push_prop(L, p, li, pp);
      return 1;
    }
  for (id = 0; id < n; id++)
    if (sf_prop_find(sf_proto_get(id), name)) {
      lua_pushnil(L);
      return 1;
    }
  return 0;
}

/* p.name: a method, a property, the field of the outermost layer that has
   it or a value computed from it (nil when no layer here has it); a name
   no protocol has is an error (a typo, not a nil).  p[TCP] is a layer
   view. */
static int pkt_index(lua_State *L) {
  sf_pkt *p;
  int li, fi = 0, t;
  lua_pushvalue(L, 2);
  t = lua_rawget(L, lua_upvalueindex(1));
  if (t == LUA_TFUNCTION) {  /* a method: the method checks its packet */
    if (lua_type(L, 1) != LUA_TUSERDATA) lsf_checkpacket(L, 1);  /* raises */
    return 1;
  }
  p = lsf_checkpacket(L, 1);
  parse_now(L, 1, p);
  if (t == LUA_TNUMBER && lua_tointeger(L, -1) == P_PAYLOAD) {
    if (p->nlayers < 2) return 0;  /* Scapy's NoPayload */
    push_view(L, 1, 1);
    return 1;
  }
  if (t == LUA_TNUMBER) return property(L, p, (int)lua_tointeger(L, -1));
  if (lua_isinteger(L, 2)) {  /* p[2]: the second layer, p[-1] the last */
    lua_Integer i = lua_tointeger(L, 2);
    if (i < 0) i += p->nlayers + 1;
    if (i < 1 || i > p->nlayers) return 0;
    push_view(L, 1, (int)i - 1);
    return 1;
  }
  if (t == LUA_TUSERDATA) {
    if ((li = find_field(L, p, lua_touserdata(L, -1), &fi)) < 0) return 0;
    if (p->flags & SF_P_DIRTY) lsf_finalize(L, 1, p);
    lsf_push_field(L, p, li, fi);
    return 1;
  }
  if (lua_type(L, 2) == LUA_TSTRING && sf_proto_find(lua_tostring(L, 2)) < 0) {
    if (push_prop_named(L, 1, p, lua_tostring(L, 2))) return 1;
    raise_no_field(L);
  }
  li = find_layer(p, lsf_proto_arg(L, 2));
  if (li < 0) return 0;
  push_view(L, 1, li);
  return 1;
}

static int pkt_newindex(lua_State *L) {
  sf_pkt *p = lsf_checkpacket(L, 1);
  int li, fi = 0, t;
  lua_pushvalue(L, 2);
  t = lua_rawget(L, lua_upvalueindex(1));
  if (t == LUA_TNUMBER) return set_property(L, p, (int)lua_tointeger(L, -1));
  if (t == LUA_TFUNCTION)  /* a layer's field may have the name: say where */
    return luaL_error(L, "p.%s = ...: %s is a method of packets; a layer's "
                      "field of that name is set as p[Layer].%s = ...",
                      lua_tostring(L, 2), lua_tostring(L, 2), lua_tostring(L, 2));
  parse_now(L, 1, p);
  li = t == LUA_TUSERDATA ? find_field(L, p, lua_touserdata(L, -1), &fi) : -1;
  if (li < 0) raise_no_field(L);  /* does not return */
  set_field(L, 1, p, li, fi, 3);
  return 0;
}

static int pkt_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)finalized(L, 1)->len);
  return 1;
}

static int pkt_eq(lua_State *L) {
  sf_pkt *a = finalized(L, 1), *b = finalized(L, 2);
  lua_pushboolean(L, a->len == b->len && memcmp(a->data, b->data, a->len) == 0);
  return 1;
}

static int pkt_gc(lua_State *L) {
  sf_pkt_free(lsf_checkpacket(L, 1));
  return 0;
}

/* ---- layer views --------------------------------------------------------- */

/* The viewed packet, pushed on the stack (its index is the new top). */
static sf_pkt *view_packet(lua_State *L, int idx, int *li) {
  lsf_layerview *v = (lsf_layerview *)luaL_checkudata(L, idx, LSF_LAYER);
  sf_pkt *p;
  lua_getiuservalue(L, idx, 1);
  p = lsf_parsed(L, -1);
  if (v->li >= p->nlayers) luaL_error(L, "layer view no longer valid");
  *li = v->li;
  return p;
}

/* The field named by argument 2 in the viewed layer, as layer_field. */
static int view_field(lua_State *L, const sf_pkt *p, int li) {
  const int16_t *m = lsf_field_map(L, lua_upvalueindex(1), 2);
  int fi = m ? m[p->layers[li].proto] : -1;
  if (fi < 0) return -1;
  fi = resolve(L, p, li, fi);
  return fi < 0 ? -2 : fi;
}

static const sf_method *method_named(const sf_proto *pr, const char *name) {
  const sf_method *m;
  for (m = pr->methods; m && m->name; m++)
    if (strcmp(m->name, name) == 0) return m;
  return NULL;
}

/* view:method([bytes]): the engine changes the viewed packet in place. */
static int call_method(lua_State *L) {
  const char *name = lua_tostring(L, lua_upvalueindex(2)), *arg = NULL;
  const sf_method *m;
  lsf_host h;
  size_t n = 0;
  sf_pkt *p;
  int li, rc;
  if (!lua_isnoneornil(L, 2)) arg = luaL_checklstring(L, 2, &n);
  p = view_packet(L, 1, &li);  /* above the arguments */
  m = method_named(sf_proto_get(p->layers[li].proto), name);
  if (!m) return luaL_error(L, "this layer has no method '%s'", name);
  if (arg && !m->fn_bytes) return luaL_argerror(L, 2, "the method takes no argument");
  lsf_enter(L, &h);
  rc = sf_pkt_writable(p);
  if (rc == SF_OK) rc = arg ? m->fn_bytes(p, li, (const uint8_t *)arg, n) : m->fn(p, li);
  lsf_leave(&h);
  lsf_track(L, -1, p);
  lsf_raise_kept(&h);
  if (rc == SF_E_VALUE)  /* the method's own refusal: these bytes do not allow it */
    return luaL_error(L, "%s:%s(): not possible on this layer", sf_proto_get(p->layers[li].proto)->name, name);
  check(L, rc);
  lua_settop(L, 1);
  return 1;
}

/* What name k is on layer li of the packet at pidx beyond its fields: a
   part (a list of record views) or a method; 0 if neither. */
static int view_extra(lua_State *L, int pidx, const sf_pkt *p, int li,
                      const char *k) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  int part = part_index(pr, k), first, n, i;
  if (part >= 0) {
    n = sf_part_layers(p, li, part, &first);
    lua_createtable(L, n, 0);
    for (i = 0; i < n; i++) {
      push_view(L, pidx, first + i);
      lua_rawseti(L, -2, i + 1);
    }
    return 1;
  }
  if (method_named(pr, k)) {
    lua_pushvalue(L, lua_upvalueindex(1));  /* the keys, as views have them */
    lua_pushstring(L, k);
    lua_pushcclosure(L, call_method, 2);
    return 1;
  }
  return 0;
}

static const char view_methods_key = 'v';  /* registry: the Lua half's methods of views */

/* Scapy's navigation from a layer (the packet at 3): payload and
   underlayer are the next and previous layers' views (nil past the ends);
   other names are the Lua half's view methods (core.set_view_methods).
   0 if k is none of them. */
static int view_nav(lua_State *L, const sf_pkt *p, int li, const char *k) {
  if (strcmp(k, "payload") == 0 || strcmp(k, "underlayer") == 0) {
    int to = k[0] == 'p' ? li + 1 : li - 1;
    if (to < 0 || to >= p->nlayers) lua_pushnil(L);
    else push_view(L, 3, to);
    return 1;
  }
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &view_methods_key) == LUA_TTABLE &&
      lua_getfield(L, -1, k) == LUA_TFUNCTION)
    return 1;
  return 0;
}

/* core.set_view_methods(t): names views answer with functions */
static int set_view_methods(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &view_methods_key);
  return 0;
}

/* core.view_info(view) -> packet, 1-based layer index */
static int view_info(lua_State *L) {
  lsf_layerview *v = (lsf_layerview *)luaL_checkudata(L, 1, LSF_LAYER);
  lua_getiuservalue(L, 1, 1);
  lua_pushinteger(L, v->li + 1);
  return 2;
}

static int view_index(lua_State *L) {
  int li, fi;
  sf_pkt *p;
  const sf_proto *pr;
  const sf_prop *pp;
  const char *k = luaL_checkstring(L, 2);
  lua_settop(L, 2);
  p = view_packet(L, 1, &li);  /* at index 3 */
  pr = sf_proto_get(p->layers[li].proto);
  fi = view_field(L, p, li);
  if (fi >= 0) {
    if (p->flags & SF_P_DIRTY) lsf_finalize(L, 3, p);
    lsf_push_field(L, p, li, fi);
  } else if (fi == -2) {
    lua_pushnil(L);
  } else if (strcmp(k, "fields") == 0) {
    push_fields(L, p, li, li + 1);
  } else if (strcmp(k, "name") == 0) {
    lua_pushstring(L, pr->display);
  } else if (strcmp(k, "kind") == 0) {
    lua_pushinteger(L, pr->id);  /* as its constructor's kind */
  } else if ((pp = sf_prop_find(pr, k))) {
    if (p->flags & SF_P_DIRTY) lsf_finalize(L, 3, p);
    lsf_push_prop(L, p, li, pp);
  } else if (!view_extra(L, 3, p, li, k) && !view_nav(L, p, li, k)) {
    lsf_field_error(L, pr->id, k);
  }
  return 1;
}

static int view_newindex(lua_State *L) {
  int li, fi;
  sf_pkt *p;
  luaL_checkstring(L, 2);
  lua_settop(L, 3);
  p = view_packet(L, 1, &li);  /* at index 4 */
  fi = view_field(L, p, li);
  if (fi == -1) return lsf_field_error(L, p->layers[li].proto, lua_tostring(L, 2));
  if (fi == -2) {  /* absent in this variant: let the engine say why */
    const int16_t *m = lsf_field_map(L, lua_upvalueindex(1), 2);
    fi = m[p->layers[li].proto];
  }
  set_field(L, 4, p, li, fi, 3);
  return 0;
}

/* tostring(p): p:summary(), so that custom layers' summaries show too */
static int pkt_tostring(lua_State *L) {
  lua_pushliteral(L, "summary");
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TFUNCTION) return pkt_summary(L);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  return 1;
}

static int view_tostring(lua_State *L) {
  int li;
  sf_pkt *p = view_packet(L, 1, &li);
  lua_pushfstring(L, "<%s layer>", sf_proto_get(p->layers[li].proto)->display);
  return 1;
}

/* ---- registration --------------------------------------------------------- */

static const luaL_Reg pkt_methods[] = {
  {"bytes", pkt_bytes}, {"build", pkt_build}, {"copy", pkt_copy}, {"parse", pkt_parse},
  {"summary", pkt_summary}, {"has_layer", pkt_has_layer},
  {"getfieldval", pkt_getfieldval}, {"get_layer_bytes", pkt_get_layer_bytes},
  {"layer", pkt_layer}, {"_layer_info", pkt_layer_info},
  {"_field", pkt_field_at}, {NULL, NULL}
};

static const char *const pkt_properties[] = {
  "layer_count", "time", "time_ns", "wirelen", "linktype", "fields",
  "truncated", "interface_id", "comment", "frame_number", "payload", NULL
};

static const luaL_Reg pkt_meta[] = {
  {"__index", pkt_index}, {"__newindex", pkt_newindex}, {"__div", pkt_div},
  {"__len", pkt_len}, {"__eq", pkt_eq}, {"__tostring", pkt_tostring},
  {"__gc", pkt_gc}, {"__close", pkt_gc}, {NULL, NULL}
};

static const luaL_Reg view_meta[] = {
  {"__index", view_index}, {"__newindex", view_newindex},
  {"__tostring", view_tostring}, {NULL, NULL}
};

/* A packet metatable; every metamethod sees the keys table (at -1). */
static void packet_metatable(lua_State *L, const void *key, int with_gc) {
  lua_newtable(L);
  lua_pushvalue(L, -2);
  luaL_setfuncs(L, pkt_meta, 1);
  if (!with_gc) {
    lua_pushnil(L);
    lua_setfield(L, -2, "__gc");
  }
  lua_pushliteral(L, LSF_PACKET);
  lua_setfield(L, -2, "__name");
  if (!with_gc) {  /* the light one is also the named type */
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, LSF_PACKET);
  }
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

static void open_packet_types(lua_State *L);
static const char names_key = 'n';

/* Leaves the keys table (methods and property codes) on the stack, and
   sets construct in the module (at the top).  A second require (busted's
   insulation does that) reuses the first one's tables, so packets made
   before it stay packets. */
void lsf_open_packet(lua_State *L) {
  int mod = lua_gettop(L);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &lsf_keys_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    open_packet_types(L);
  }
  lua_pushvalue(L, -1);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &names_key) != LUA_TUSERDATA) {
    lua_pop(L, 1);
    push_name_cache(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &names_key);
  }
  lua_pushcclosure(L, lsf_construct, 2);
  lua_setfield(L, mod, "construct");
  lua_pushcfunction(L, set_view_methods);
  lua_setfield(L, mod, "set_view_methods");
  lua_pushcfunction(L, lazy_hooks);
  lua_setfield(L, mod, "lazy_hooks");
  lua_pushcfunction(L, lazy_table);
  lua_setfield(L, mod, "lazy_table");
  lua_pushcfunction(L, lazy_put);
  lua_setfield(L, mod, "lazy_put");
  lua_pushcfunction(L, lazy_draw);
  lua_setfield(L, mod, "lazy_draw");
  lua_pushcfunction(L, core_random_seed);
  lua_setfield(L, mod, "random_seed");
  lua_pushcfunction(L, core_random);
  lua_setfield(L, mod, "random");
  lua_pushcfunction(L, core_random_bytes);
  lua_setfield(L, mod, "random_bytes");
  lua_pushcfunction(L, view_info);
  lua_setfield(L, mod, "view_info");
}

/* ---- comments --------------------------------------------------------------- */

static const char comments_key = 'c';  /* registry: weak {packet -> comment} */

/* Comments are rare: a weak table keeps them without growing every packet. */
void lsf_push_comment(lua_State *L, int pidx) {
  pidx = lua_absindex(L, pidx);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &comments_key) != LUA_TTABLE) return;
  lua_pushvalue(L, pidx);
  lua_rawget(L, -2);
  lua_remove(L, -2);  /* the table */
}


void lsf_set_comment(lua_State *L, int pidx, int vidx) {
  pidx = lua_absindex(L, pidx);
  vidx = lua_absindex(L, vidx);
  if (!lua_isnil(L, vidx)) luaL_checktype(L, vidx, LUA_TSTRING);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &comments_key);
  lua_pushvalue(L, pidx);
  lua_pushvalue(L, vidx);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

static void open_comments(lua_State *L) {
  lua_newtable(L);  /* weak keys, so packets die freely */
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &comments_key);
}

/* Pushes the keys table, after making it and the metatables. */
static void open_packet_types(lua_State *L) {
  int i;
  lua_newtable(L);  /* keys */
  luaL_setfuncs(L, pkt_methods, 0);
  for (i = 0; pkt_properties[i]; i++) {
    lua_pushinteger(L, i + 1);
    lua_setfield(L, -2, pkt_properties[i]);
  }
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &lsf_keys_key);
  open_comments(L);
  packet_metatable(L, &light_key, 0);
  packet_metatable(L, &heavy_key, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &light_key);
  lua_pushinteger(L, luaL_ref(L, LUA_REGISTRYINDEX));
  lua_rawsetp(L, LUA_REGISTRYINDEX, &light_ref_key);
  luaL_newmetatable(L, LSF_LAYER);
  lua_pushvalue(L, -2);
  luaL_setfuncs(L, view_meta, 1);  /* views see the keys too */
  lua_pop(L, 1);
}
