/*
 * lcustom.c -- protocols defined in Lua (CustomLayer) become engine
 * descriptors like the built-in ones, plus bind_layers and heuristics.
 *
 * The Lua half (stdlib/stackforge/custom.lua) checks a definition and
 * hands core.define() one plain table per field.  A protocol whose fields
 * all have fixed sizes gets static bit offsets and parses with no Lua call
 * at all; one with lengths, conditions or lists gets a layout hook that
 * walks its fields and asks Lua where it must (length_from, the condition
 * of a ConditionalField).  Callbacks run protected: an error in one is
 * kept and raised once the engine call that ran it has returned.
 */
#include <stdlib.h>
#include <string.h>

#include "lsf.h"

/* how a field finds its size */
enum { K_FIXED, K_REST, K_FIXLEN, K_NULL, K_LENFN };

typedef struct cfield {
  uint8_t kind;
  uint32_t bytes;       /* K_FIXLEN */
  int len_ref;          /* K_LENFN: length_from(pkt) */
  int count_ref;        /* lists: count_from(pkt), with item_bytes */
  uint32_t item_bytes;  /* fixed size of a list item, 0 if not fixed */
  int cond_ref;         /* ConditionalField: fn(pkt) */
  uint32_t align;       /* PadField: bytes */
  int len_of, count_of; /* FieldLenField: the field it measures, or -1 */
  int adjust_ref;       /* FieldLenField: adjust(pkt, x) */
  int sub_proto;        /* PacketListField: the items' protocol, or -1 */
  uint8_t *defb;        /* the default value's bits, for a field a */
  size_t defbits;       /* condition brings in */
} cfield;

typedef struct custom {
  lua_State *L;
  sf_proto proto;
  sf_dyn dyn;
  sf_field *fields;
  cfield *cf;
  int post_ref, guess_ref;
  char *strings;        /* names, enum names: owned */
} custom;

static char callback_error[512];  /* the first error of a callback */

/* ---- errors from callbacks ----------------------------------------------- */

static void keep_error(lua_State *L, const char *what) {
  if (!callback_error[0])
    snprintf(callback_error, sizeof callback_error, "%s: %s", what,
             lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
  lua_pop(L, 1);
}

/* Raise the error a callback left, if any (after an engine call). */
void lsf_callback_check(lua_State *L) {
  if (callback_error[0]) {
    lua_pushstring(L, callback_error);
    callback_error[0] = '\0';
    lua_error(L);
  }
}

/* Call the function referenced by ref with nargs arguments on the stack;
   1 result on success, nothing (error kept) on failure. */
static int call_ref(custom *c, int ref, int nargs, const char *what) {
  lua_State *L = c->L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  lua_insert(L, -nargs - 1);
  if (lua_pcall(L, nargs, 1, 0) != LUA_OK) {
    char buf[160];
    snprintf(buf, sizeof buf, "%s.%s", c->proto.name, what);
    keep_error(L, buf);
    return 0;
  }
  return 1;
}

/* ---- the pkt table callbacks see ----------------------------------------- */

/* Value of field i from its span in h, as a field read gives it. */
static void push_span(lua_State *L, const sf_field *f, const uint8_t *h,
                      const sf_span *sp) {
  sf_val v = {0, NULL, 0};
  if (f->type == SF_T_UINT || f->type == SF_T_FLAGS) {
    v.u = sf_getbits(h, sp->bitoff, sp->bits);
    if (f->flags & SF_FF_LE) {
      uint64_t le = 0, be = v.u;
      unsigned i;
      for (i = 0; i < sp->bits / 8u; i++, be >>= 8) le = (le << 8) | (be & 0xff);
      v.u = le;
    }
  } else {
    v.p = h + sp->bitoff / 8u;
    v.n = sp->bits / 8u;
  }
  lsf_push_value(L, f, &v);
}

/* pkt.name for the fields laid out so far (a Lua table on the stack). */
static void add_to_pkt(lua_State *L, int pkt, const sf_field *f,
                       const uint8_t *h, const sf_span *sp) {
  push_span(L, f, h, sp);
  lua_setfield(L, pkt, f->name);
}

static int cond_holds(custom *c, int i, int pkt) {
  int ok;
  lua_pushvalue(c->L, pkt);
  if (!call_ref(c, c->cf[i].cond_ref, 1, c->fields[i].name)) return 0;
  ok = lua_toboolean(c->L, -1);
  lua_pop(c->L, 1);
  return ok;
}

/* A length from a callback, clamped to what is there; -1 on error. */
static long len_from(custom *c, int ref, int pkt, const char *what,
                     size_t avail) {
  lua_Integer n;
  int isnum;
  lua_pushvalue(c->L, pkt);
  if (!call_ref(c, ref, 1, what)) return -1;
  n = lua_tointegerx(c->L, -1, &isnum);
  lua_pop(c->L, 1);
  if (!isnum || n < 0) return 0;
  return (size_t)n > avail ? (long)avail : (long)n;
}

/* ---- layout -------------------------------------------------------------- */

/* PadField, as Scapy: zeros after the field up to a multiple of align of
   the field's own length. */
static size_t pad_after(const cfield *cf, size_t len) {
  return cf->align ? (cf->align - len % cf->align) % cf->align : 0;
}

/* Bytes of `count` items of protocol sub at pos; -1 when they do not fit. */
static long sub_items_len(int sub, long count, const uint8_t *h, size_t pos,
                          size_t n) {
  const sf_proto *pr = sf_proto_get(sub);
  size_t at = pos;
  long k;
  if (!pr) return -1;
  for (k = 0; k < count; k++) {
    size_t hl = sf_header_len(pr, h + at, n - at);
    if (hl == 0) return -1;
    at += hl;
  }
  return (long)(at - pos);
}

static size_t nul_len(const uint8_t *h, size_t from, size_t n) {
  const uint8_t *z = memchr(h + from, 0, n - from);
  return z ? (size_t)(z - (h + from)) : n - from;
}

/* Byte length of variable field i starting at byte pos; -1 on error. */
static long var_len(custom *c, int i, int pkt, const uint8_t *h, size_t pos,
                    size_t n) {
  const cfield *cf = &c->cf[i];
  size_t avail = n - pos;
  switch (cf->kind) {
    case K_REST: return (long)avail;
    case K_FIXLEN: return cf->bytes <= avail ? (long)cf->bytes : -1;
    case K_NULL: return (long)nul_len(h, pos, n);
    default:
      if (cf->len_ref != LUA_NOREF)
        return len_from(c, cf->len_ref, pkt, c->fields[i].name, avail);
      if (cf->count_ref != LUA_NOREF && cf->item_bytes) {
        long k = len_from(c, cf->count_ref, pkt, c->fields[i].name, avail);
        if (k < 0) return -1;
        return (size_t)k * cf->item_bytes > avail ? (long)avail
                                                  : k * (long)cf->item_bytes;
      }
      if (cf->count_ref != LUA_NOREF && cf->sub_proto >= 0) {
        long k = len_from(c, cf->count_ref, pkt, c->fields[i].name, (size_t)-1 >> 1);
        return k < 0 ? -1 : sub_items_len(cf->sub_proto, k, h, pos, n);
      }
      return (long)avail;
  }
}

static size_t custom_layout(const sf_proto *pr, const uint8_t *h, size_t n,
                            sf_span *sp) {
  custom *c = pr->dyn->ud;
  lua_State *L = c->L;
  size_t bit = 0;
  int i, pkt;
  for (i = 0; i < pr->nfields; i++) {  /* what a cut-short header lacks */
    sp[i].bitoff = 0;
    sp[i].bits = SF_ABSENT;
  }
  lua_createtable(L, 0, pr->nfields);
  pkt = lua_gettop(L);
  for (i = 0; i < pr->nfields; i++) {
    const sf_field *f = &pr->fields[i];
    const cfield *cf = &c->cf[i];
    if (cf->cond_ref != LUA_NOREF && !cond_holds(c, i, pkt)) {
      sp[i].bitoff = (uint32_t)bit;
      sp[i].bits = SF_ABSENT;
      continue;
    }
    if (cf->kind == K_FIXED) {
      if (bit + f->bits > n * 8) break;  /* cut short */
      sp[i].bitoff = (uint32_t)bit;
      sp[i].bits = f->bits;
      bit += f->bits;
      bit += 8 * pad_after(cf, f->bits / 8u);
    } else {
      long len;
      size_t own;
      if (bit % 8) break;  /* variable fields start on a byte */
      if ((len = var_len(c, i, pkt, h, bit / 8, n)) < 0) break;
      sp[i].bitoff = (uint32_t)bit;
      sp[i].bits = (uint32_t)len * 8;
      own = (size_t)len + (cf->kind == K_NULL && bit / 8 + (size_t)len < n);
      bit += 8 * (own + pad_after(cf, own));  /* value, NUL, padding */
    }
    if (bit > n * 8) break;
    add_to_pkt(L, pkt, f, h, &sp[i]);
  }
  lua_pop(L, 1);
  if (i < pr->nfields) return 0;  /* malformed or cut short */
  return (bit + 7) / 8 ? (bit + 7) / 8 : 0;
}

/* ---- default bytes ---------------------------------------------------------- */

typedef struct tbuf {
  uint8_t *d;
  size_t bits, cap;  /* cap in bytes */
} tbuf;

static void tb_room(lua_State *L, tbuf *b, size_t morebits) {
  size_t need = (b->bits + morebits + 7) / 8;
  if (need <= b->cap) return;
  while (b->cap < need) b->cap = b->cap ? b->cap * 2 : 64;
  b->d = realloc(b->d, b->cap);
  if (!b->d) luaL_error(L, "not enough memory");
  memset(b->d + (b->bits + 7) / 8, 0, b->cap - (b->bits + 7) / 8);
}

static void tb_uint(lua_State *L, tbuf *b, const sf_field *f) {
  uint64_t v = f->def & sf_field_max(f);
  tb_room(L, b, f->bits);
  if (f->flags & SF_FF_LE) {
    unsigned i;
    for (i = 0; i < f->bits / 8u; i++) b->d[b->bits / 8 + i] = (uint8_t)(v >> (8 * i));
  } else {
    sf_setbits(b->d, (unsigned)b->bits, f->bits, v);
  }
  b->bits += f->bits;
}

static void tb_bytes(lua_State *L, tbuf *b, const char *s, size_t n) {
  if (n == 0) return;
  tb_room(L, b, n * 8);
  memcpy(b->d + b->bits / 8, s, n);
  b->bits += n * 8;
}

/* The field's value bits in b (its default), NUL and padding excluded. */
static void encode_default(custom *c, lua_State *L, tbuf *b, int specs, int i) {
  const sf_field *f = &c->fields[i];
  uint8_t addr[16];
  if (f->type == SF_T_UINT || f->type == SF_T_FLAGS) {
    tb_uint(L, b, f);
  } else if (f->type != SF_T_BYTES) {
    int rc = f->type == SF_T_MAC ? sf_parse_mac(f->defstr, addr)
           : f->type == SF_T_IP4 ? sf_parse_ip4(f->defstr, addr)
                                 : sf_parse_ip6(f->defstr, addr);
    if (rc != SF_OK)
      luaL_error(L, "%s.%s: bad default %s", c->proto.name, f->name, f->defstr);
    tb_bytes(L, b, (const char *)addr, f->bits / 8u);
  } else {
    size_t n;
    const char *d;
    lua_geti(L, specs, i + 1);
    lua_getfield(L, -1, "defbytes");
    d = lua_tolstring(L, -1, &n);
    tb_bytes(L, b, d ? d : "", d ? n : 0);
    lua_pop(L, 2);
  }
}

/* The field's default value bits alone: what a field brought in by a
   condition starts with. */
static void keep_default(custom *c, lua_State *L, int specs, int i) {
  cfield *cf = &c->cf[i];
  tbuf one = {NULL, 0, 0};
  encode_default(c, L, &one, specs, i);
  tb_room(L, &one, 8);
  cf->defb = one.d;
  cf->defbits = one.bits;
}

static void tb_copy_bits(lua_State *L, tbuf *b, const uint8_t *src, size_t from,
                         size_t bits) {
  if (bits == 0) return;
  tb_room(L, b, bits);
  if (!(from % 8) && !(b->bits % 8) && !(bits % 8)) {
    memcpy(b->d + b->bits / 8, src + from / 8, bits / 8);
    b->bits += bits;
    return;
  }
  while (bits) {  /* bit fields: up to 32 bits at a time */
    unsigned take = bits > 32 ? 32 : (unsigned)bits;
    sf_setbits(b->d, (unsigned)b->bits, take, sf_getbits(src, (unsigned)from, take));
    b->bits += take;
    from += take;
    bits -= take;
  }
}

/* One field's default into the template; the pkt table at pkt sees it. */
static void default_field(custom *c, lua_State *L, tbuf *b, int specs, int i,
                          int pkt) {
  const sf_field *f = &c->fields[i];
  const cfield *cf = &c->cf[i];
  sf_span sp;
  keep_default(c, L, specs, i);
  if (cf->cond_ref != LUA_NOREF && !cond_holds(c, i, pkt)) return;
  if (cf->kind != K_FIXED && b->bits % 8)
    luaL_error(L, "%s.%s: a variable field must start on a byte", c->proto.name, f->name);
  sp.bitoff = (uint32_t)b->bits;
  encode_default(c, L, b, specs, i);
  sp.bits = (uint32_t)(b->bits - sp.bitoff);
  add_to_pkt(L, pkt, f, b->d, &sp);
  if (cf->kind == K_NULL) tb_bytes(L, b, "", 1);
  if (cf->align) {
    size_t pad = 8 * pad_after(cf, (b->bits - sp.bitoff + 7) / 8);
    tb_room(L, b, pad);
    b->bits += pad;
  }
}

/* ---- build hooks ---------------------------------------------------------- */

/* The layer's field values as a table (for adjust, post_build, guess). */
static void push_pkt(lua_State *L, const sf_pkt *p, int li) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  int i;
  lua_createtable(L, 0, pr->nfields);
  for (i = 0; i < pr->nfields; i++) {
    if (!sf_field_present(p, li, i)) continue;
    lsf_push_field(L, p, li, i);
    lua_setfield(L, -2, pr->fields[i].name);
  }
}

/* Items in list field fi: by fixed size, else by the codec's decoding. */
static uint64_t count_items(custom *c, const sf_pkt *p, int li, int fi) {
  const cfield *cf = &c->cf[fi];
  size_t off, bits;
  uint64_t k;
  if (!sf_field_span(p, li, fi, &off, &bits)) return 0;
  if (cf->item_bytes) return bits / 8 / cf->item_bytes;
  lsf_push_field(c->L, p, li, fi);
  k = lua_istable(c->L, -1) ? (uint64_t)luaL_len(c->L, -1) : 0;
  lua_pop(c->L, 1);
  return k;
}

static void custom_fixup(const sf_proto *pr, sf_pkt *p, int li) {
  custom *c = pr->dyn->ud;
  int i;
  for (i = 0; i < pr->nfields; i++) {
    const cfield *cf = &c->cf[i];
    size_t off, bits;
    uint64_t x;
    if ((cf->len_of < 0 && cf->count_of < 0) || sf_isset(p, li, i)) continue;
    if (cf->len_of >= 0)
      x = sf_field_span(p, li, cf->len_of, &off, &bits) ? bits / 8 : 0;
    else
      x = count_items(c, p, li, cf->count_of);
    if (cf->adjust_ref != LUA_NOREF) {
      push_pkt(c->L, p, li);
      lua_pushinteger(c->L, (lua_Integer)x);
      if (!call_ref(c, cf->adjust_ref, 2, "adjust")) continue;
      x = (uint64_t)lua_tointeger(c->L, -1);
      lua_pop(c->L, 1);
    }
    sf_lput(p, li, i, x);
  }
}

/* Items in n bytes of list field fi: by fixed size, else decoded. */
static uint64_t items_in(custom *c, int fi, const uint8_t *d, size_t n) {
  uint64_t k;
  if (c->cf[fi].item_bytes) return n / c->cf[fi].item_bytes;
  if (!c->fields[fi].codec) return 0;
  lua_pushlstring(c->L, (const char *)d, n);
  lsf_call_codec(c->L, c->fields[fi].codec, "decode");
  k = lua_istable(c->L, -1) ? (uint64_t)luaL_len(c->L, -1) : 0;
  lua_pop(c->L, 1);
  return k;
}

/* A variable field got new bytes: the fields that measure it follow at
   once (unless the user set them), so the layout reads the new length. */
static void repad(custom *c, sf_pkt *p, int li, int fi, size_t off,
                  size_t oldn, size_t n) {
  const cfield *cf = &c->cf[fi];
  size_t nul = cf->kind == K_NULL, oldpad, newpad;
  if (!cf->align) return;
  oldpad = pad_after(cf, oldn + nul);
  newpad = pad_after(cf, n + nul);
  if (oldpad != newpad)
    sf_pkt_splice(p, li, p->layers[li].off + off + n + nul, oldpad, NULL, newpad);
}

static void custom_resized(const sf_proto *pr, sf_pkt *p, int li, int fi,
                           size_t off, size_t oldn, size_t n) {
  custom *c = pr->dyn->ud;
  int i;
  repad(c, p, li, fi, off, oldn, n);
  for (i = 0; i < pr->nfields; i++) {
    uint64_t x;
    if (sf_isset(p, li, i)) continue;
    if (c->cf[i].len_of == fi) x = n;
    else if (c->cf[i].count_of == fi)
      x = items_in(c, fi, p->data + p->layers[li].off + off, n);
    else continue;
    if (c->cf[i].adjust_ref != LUA_NOREF) {
      push_pkt(c->L, p, li);
      lua_pushinteger(c->L, (lua_Integer)x);
      if (!call_ref(c, c->cf[i].adjust_ref, 2, "adjust")) continue;
      x = (uint64_t)lua_tointeger(c->L, -1);
      lua_pop(c->L, 1);
    }
    sf_lput(p, li, i, x);
  }
}

/* A condition may have changed its mind: the header is laid out again from
   the values, as Scapy builds it.  A field present before keeps its bytes,
   one that comes in gets its default, one that goes out is dropped; NULs
   and padding follow. */
static void custom_changed(const sf_proto *pr, sf_pkt *p, int li,
                           const sf_span *before) {
  custom *c = pr->dyn->ud;
  lua_State *L = c->L;
  const uint8_t *h = p->data + p->layers[li].off;
  tbuf out = {NULL, 0, 0};
  int i, pkt;
  lua_newtable(L);
  pkt = lua_gettop(L);
  for (i = 0; i < pr->nfields; i++) {
    const cfield *cf = &c->cf[i];
    sf_span sp;
    size_t own;
    if (cf->cond_ref != LUA_NOREF && !cond_holds(c, i, pkt)) continue;
    sp.bitoff = (uint32_t)out.bits;
    if (before[i].bits != SF_ABSENT)
      tb_copy_bits(L, &out, h, before[i].bitoff, before[i].bits);
    else
      tb_copy_bits(L, &out, cf->defb, 0, cf->defbits);
    sp.bits = (uint32_t)(out.bits - sp.bitoff);
    add_to_pkt(L, pkt, &pr->fields[i], out.d, &sp);
    if (cf->kind == K_NULL) tb_bytes(L, &out, "", 1);
    own = (out.bits - sp.bitoff + 7) / 8;
    if (cf->align && !(out.bits % 8)) {
      tb_room(L, &out, 8 * pad_after(cf, own));
      out.bits += 8 * pad_after(cf, own);
    }
  }
  lua_pop(L, 1);
  sf_pkt_splice(p, li, p->layers[li].off, p->layers[li].hlen, out.d,
                (out.bits + 7) / 8);
  free(out.d);
}

/* post_build(pkt, bytes) -> bytes, for the layer with its payload.  The
   result must keep the length: the layers inside are already laid out. */
static void custom_post_build(const sf_proto *pr, sf_pkt *p, int li) {
  custom *c = pr->dyn->ud;
  const sf_layer *l = &p->layers[li];
  size_t n;
  const char *out;
  push_pkt(c->L, p, li);
  lua_pushlstring(c->L, (const char *)p->data + l->off, l->end - l->off);
  if (!call_ref(c, c->post_ref, 2, "post_build")) return;
  out = lua_tolstring(c->L, -1, &n);
  if (!out || n != l->end - l->off) {
    lua_pushfstring(c->L, "must return a string of %d bytes",
                    (int)(l->end - l->off));
    keep_error(c->L, "post_build");
  } else {
    memcpy((uint8_t *)p->data + l->off, out, n);
  }
  lua_pop(c->L, 1);
}

/* guess_payload(pkt) -> a layer constructor (or nil: the tables decide) */
static int custom_next(const sf_proto *pr, const sf_pkt *p, int li) {
  custom *c = pr->dyn->ud;
  int id = -1;
  push_pkt(c->L, p, li);
  if (!call_ref(c, c->guess_ref, 1, "guess_payload")) return -2;
  if (lua_istable(c->L, -1) && lua_getfield(c->L, -1, "kind") == LUA_TNUMBER)
    id = (int)lua_tointeger(c->L, -1);
  else if (lua_isnumber(c->L, -1))
    id = (int)lua_tointeger(c->L, -1);
  lua_settop(c->L, lua_gettop(c->L) - (lua_istable(c->L, -2) ? 2 : 1));
  return sf_proto_get(id) ? id : -1;
}

/* ---- core.define(name, display, fields, hooks) -------------------------- */

static char *keep_string(custom *c, lua_State *L, int idx) {
  size_t n;
  const char *s = lua_tolstring(L, idx, &n);
  char *copy = malloc(n + 1);
  (void)c;
  if (!copy) luaL_error(L, "not enough memory");
  memcpy(copy, s, n + 1);
  return copy;
}

static int opt_ref(lua_State *L, int t, const char *key) {
  if (lua_getfield(L, t, key) == LUA_TFUNCTION) return luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 1);
  return LUA_NOREF;
}

static lua_Integer opt_int(lua_State *L, int t, const char *key, lua_Integer d) {
  lua_Integer v = d;
  if (lua_getfield(L, t, key) == LUA_TNUMBER) v = lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

/* {[value] = name} or {names...} (flags, least significant bit first) */
static sf_enum *make_enums(custom *c, lua_State *L, int t, int flags) {
  sf_enum *e;
  size_t n = 0, k = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) { n++; lua_pop(L, 1); }
  e = calloc(n + 1, sizeof *e);
  if (!e) luaL_error(L, "not enough memory");
  lua_pushnil(L);
  while (lua_next(L, t)) {
    if (lua_isinteger(L, -2) && lua_type(L, -1) == LUA_TSTRING) {
      e[k].value = (uint64_t)lua_tointeger(L, -2) - (flags ? 1 : 0);
      e[k++].name = keep_string(c, L, -1);
    }
    lua_pop(L, 1);
  }
  return e;
}

static const char *const type_names[] = {"uint", "flags", "mac", "ip4", "ip6", "bytes", NULL};
static const char *const kind_names[] = {"fixed", "rest", "fixlen", "null", "lenfn", NULL};

static int field_index(lua_State *L, int specs, const char *name) {
  int i, n = (int)luaL_len(L, specs);
  for (i = 1; i <= n; i++) {
    int same;
    lua_geti(L, specs, i);
    lua_getfield(L, -1, "name");
    same = strcmp(lua_tostring(L, -1), name) == 0;
    lua_pop(L, 2);
    if (same) return i - 1;
  }
  return -1;
}

/* One field from its plain table (made by stdlib/stackforge/custom.lua). */
static void define_field(custom *c, lua_State *L, int specs, int i) {
  sf_field *f = &c->fields[i];
  cfield *cf = &c->cf[i];
  int t = lua_gettop(L);
  lua_getfield(L, t, "name");
  f->name = keep_string(c, L, -1);
  lua_getfield(L, t, "type");
  f->type = (uint8_t)luaL_checkoption(L, -1, NULL, type_names);
  lua_getfield(L, t, "kind");
  cf->kind = (uint8_t)luaL_checkoption(L, -1, "fixed", kind_names);
  lua_pop(L, 3);
  f->bits = (uint16_t)opt_int(L, t, "bits", 0);
  f->def = (uint64_t)opt_int(L, t, "default", 0);
  if (lua_getfield(L, t, "defstr") == LUA_TSTRING) f->defstr = keep_string(c, L, -1);
  lua_pop(L, 1);
  if (opt_int(L, t, "hex", 0)) f->flags |= SF_FF_HEX;
  if (opt_int(L, t, "le", 0)) f->flags |= SF_FF_LE;
  if (opt_int(L, t, "signed", 0)) f->flags |= SF_FF_SIGNED;
  if (lua_getfield(L, t, "enums") == LUA_TTABLE)
    f->enums = make_enums(c, L, lua_gettop(L), f->type == SF_T_FLAGS);
  lua_pop(L, 1);
  if (lua_getfield(L, t, "codec") == LUA_TSTRING) f->codec = keep_string(c, L, -1);
  lua_pop(L, 1);
  cf->bytes = (uint32_t)opt_int(L, t, "bytes", 0);
  if (cf->kind == K_FIXLEN) f->bits = (uint16_t)(cf->bytes * 8);  /* exact */
  cf->item_bytes = (uint32_t)opt_int(L, t, "item_bytes", 0);
  cf->align = (uint32_t)opt_int(L, t, "align", 0);
  cf->len_ref = opt_ref(L, t, "length_from");
  cf->count_ref = opt_ref(L, t, "count_from");
  cf->cond_ref = opt_ref(L, t, "cond");
  cf->adjust_ref = opt_ref(L, t, "adjust");
  cf->len_of = cf->count_of = -1;
  cf->sub_proto = (int)opt_int(L, t, "packet_kind", -1);
  if (lua_getfield(L, t, "length_of") == LUA_TSTRING)
    cf->len_of = field_index(L, specs, lua_tostring(L, -1));
  if (lua_getfield(L, t, "count_of") == LUA_TSTRING)
    cf->count_of = field_index(L, specs, lua_tostring(L, -1));
  lua_pop(L, 2);
  if (cf->len_of >= 0 || cf->count_of >= 0) f->flags |= SF_FF_AUTO;
}

/* Fixed fields, unconditional, unpadded: static offsets, no Lua at parse. */
static int is_static(const custom *c, int n) {
  int i;
  for (i = 0; i < n; i++)
    if (c->cf[i].kind != K_FIXED || c->cf[i].cond_ref != LUA_NOREF ||
        c->cf[i].align || c->cf[i].len_of >= 0 || c->cf[i].count_of >= 0)
      return 0;
  return 1;
}

/* Fixed fields: their static offsets, and no Lua. */
static size_t static_layout(const sf_proto *pr, const uint8_t *h, size_t n,
                            sf_span *sp) {
  int i;
  (void)h;
  for (i = 0; i < pr->nfields; i++) {
    sp[i].bitoff = pr->fields[i].bitoff;
    sp[i].bits = pr->fields[i].bits;
  }
  return pr->minlen <= n ? pr->minlen : 0;
}

/* ---- the default header ---------------------------------------------------- */

static void make_default(custom *c, lua_State *L, int specs) {
  tbuf b = {NULL, 0, 0};
  int i, pkt;
  lua_newtable(L);
  pkt = lua_gettop(L);
  for (i = 0; i < c->proto.nfields; i++) default_field(c, L, &b, specs, i, pkt);
  lua_pop(L, 1);
  if (b.bits % 8)
    luaL_error(L, "%s: the fields add up to %d bits, not whole bytes",
               c->proto.name, (int)b.bits);
  tb_room(L, &b, 8);
  c->proto.deftmpl = b.d;
  c->proto.minlen = (uint16_t)(b.bits / 8);
}

static int define(lua_State *L) {
  int specs = 2, hooks = 4, n, i, id;
  custom *c;
  luaL_checkstring(L, 1);
  luaL_checktype(L, specs, LUA_TTABLE);
  n = (int)luaL_len(L, specs);
  luaL_argcheck(L, n <= SF_MAX_FIELDS, 2, "too many fields");
  c = calloc(1, sizeof *c);
  c->fields = calloc((size_t)n + 1, sizeof *c->fields);
  c->cf = calloc((size_t)n + 1, sizeof *c->cf);
  if (!c || !c->fields || !c->cf) return luaL_error(L, "not enough memory");
  c->L = L;
  for (i = 0; i < n; i++) {
    lua_geti(L, specs, i + 1);
    define_field(c, L, specs, i);
    lua_pop(L, 1);
  }
  c->proto.name = keep_string(c, L, 1);
  c->proto.display = lua_isstring(L, 3) ? keep_string(c, L, 3) : c->proto.name;
  c->proto.kind = c->proto.name;
  c->proto.fields = c->fields;
  c->proto.nfields = (uint16_t)n;
  c->proto.next_field = -1;
  c->post_ref = lua_istable(L, hooks) ? opt_ref(L, hooks, "post_build") : LUA_NOREF;
  c->guess_ref = lua_istable(L, hooks) ? opt_ref(L, hooks, "guess_payload") : LUA_NOREF;
  c->dyn.ud = c;
  c->dyn.fixup = custom_fixup;
  c->dyn.resized = custom_resized;
  for (i = 0; i < n; i++)  /* conditions: fields come and go as values change */
    if (c->cf[i].cond_ref != LUA_NOREF) c->dyn.changed = custom_changed;
  if (c->post_ref != LUA_NOREF) c->dyn.post_build = custom_post_build;
  if (c->guess_ref != LUA_NOREF) c->dyn.next = custom_next;
  c->proto.dyn = &c->dyn;
  if (is_static(c, n)) {
    size_t bit = 0;
    for (i = 0; i < n; i++) {
      c->fields[i].bitoff = (uint16_t)bit;
      bit += c->fields[i].bits;
    }
    c->dyn.layout = static_layout;
  } else {
    c->dyn.layout = custom_layout;
  }
  make_default(c, L, specs);
  if ((id = sf_register(&c->proto)) < 0)
    return luaL_error(L, "%s: too many protocols or fields", c->proto.name);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &lsf_keys_key);
  lsf_add_field_names(L, -1, id);
  lua_pop(L, 1);
  lua_pushinteger(L, id);
  return 1;
}

/* ---- bindings -------------------------------------------------------------- */

/* core.bind(lower, fi, value, upper): fi -1 = lower's type field */
static int bind(lua_State *L) {
  int lower = lsf_proto_arg(L, 1), fi = (int)luaL_checkinteger(L, 2);
  uint64_t v = (uint64_t)luaL_checkinteger(L, 3);
  int upper = lsf_proto_arg(L, 4);
  if (fi < 0) fi = sf_proto_get(lower)->next_field;
  if (fi < 0)
    return luaL_error(L, "cannot bind %s to %s: %s has no type field; name one",
                      sf_proto_get(upper)->name, sf_proto_get(lower)->name,
                      sf_proto_get(lower)->name);
  if (sf_bind_field(lower, fi, v, upper) != SF_OK)
    return luaL_error(L, "cannot bind %s to %s: too many bound fields",
                      sf_proto_get(upper)->name, sf_proto_get(lower)->name);
  return 0;
}

/* core.unbind(lower, fi, value or nil, upper) */
static int unbind(lua_State *L) {
  int lower = lsf_proto_arg(L, 1), fi = (int)luaL_checkinteger(L, 2);
  uint64_t v = lua_isnoneornil(L, 3) ? UINT64_MAX : (uint64_t)luaL_checkinteger(L, 3);
  int upper = lsf_proto_arg(L, 4);
  if (fi < 0) fi = sf_proto_get(lower)->next_field;
  if (fi >= 0) sf_unbind(lower, fi, v, upper);
  return 0;
}

/* Heuristics: registry table {[lower] = {{upper=, fn=}, ...}}, asked in
   order with the layer's payload bytes. */
static const char heuristics_key = 'h';
static lua_State *heuristic_state;

static int run_heuristic(const sf_pkt *p, int li, void *ud) {
  lua_State *L = heuristic_state;
  const sf_layer *l = &p->layers[li];
  int i, n, found = -1;
  (void)ud;
  if (!L || lua_rawgetp(L, LUA_REGISTRYINDEX, &heuristics_key) != LUA_TTABLE) {
    if (L) lua_pop(L, 1);
    return -1;
  }
  lua_rawgeti(L, -1, l->proto);
  n = lua_istable(L, -1) ? (int)luaL_len(L, -1) : 0;
  for (i = 1; i <= n && found < 0; i++) {
    lua_rawgeti(L, -1, i);
    lua_getfield(L, -1, "fn");
    lua_pushlstring(L, (const char *)p->data + l->off + l->hlen,
                    l->end - l->off - l->hlen);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) keep_error(L, "heuristic");
    else {
      if (lua_toboolean(L, -1)) {
        lua_getfield(L, -2, "upper");
        found = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
  return found;
}

/* core.heuristic(lower, upper, fn) */
static int heuristic(lua_State *L) {
  int lower = lsf_proto_arg(L, 1), upper = lsf_proto_arg(L, 2);
  luaL_checktype(L, 3, LUA_TFUNCTION);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &heuristics_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &heuristics_key);
  }
  if (lua_rawgeti(L, -1, lower) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, lower);
  }
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, upper);
  lua_setfield(L, -2, "upper");
  lua_pushvalue(L, 3);
  lua_setfield(L, -2, "fn");
  lua_rawseti(L, -2, luaL_len(L, -2) + 1);
  heuristic_state = L;
  sf_heur_add(lower, run_heuristic, NULL);
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
  {"define", define}, {"bind", bind}, {"unbind", unbind},
  {"heuristic", heuristic}, {"proto_info", proto_info}, {NULL, NULL}
};

void lsf_open_custom(lua_State *L) { luaL_setfuncs(L, custom_funcs, 0); }
