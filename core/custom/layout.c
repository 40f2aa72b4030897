/*
 * layout.c -- where a custom protocol's fields are: laid out from the
 * bytes (parsing, reading), rebuilt from the values (setting a field, the
 * default header), length and count fields filled in, and the hooks the
 * engine calls (sf_dyn).
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpriv.h"

#define NAME(c, i) (c)->proto.name, (c)->fields[i].name

/* ---- reading a view --------------------------------------------------------- */

static uint64_t swap_le(uint64_t be, unsigned bytes) {
  uint64_t le = 0;
  unsigned i;
  for (i = 0; i < bytes; i++, be >>= 8) le = (le << 8) | (be & 0xff);
  return le;
}

int sf_cview_get(const sf_cview *v, int fi, sf_val *out) {
  const sf_field *f;
  sf_span sp;
  if (fi < 0 || fi >= v->upto || v->spans[fi].bits == SF_ABSENT)
    return SF_E_ABSENT;
  f = &v->pr->fields[fi];
  sp = v->spans[fi];
  if ((size_t)sp.bitoff + sp.bits > v->n * 8) return SF_E_ABSENT;
  out->u = 0;
  out->p = NULL;
  out->n = 0;
  if (f->type <= SF_T_FLAGS) {
    out->u = sf_getbits(v->h, sp.bitoff, sp.bits);
    if (f->flags & SF_FF_LE) out->u = swap_le(out->u, sp.bits / 8u);
  } else {
    out->p = v->h + sp.bitoff / 8u;
    out->n = sp.bits / 8u;
  }
  return SF_OK;
}

/* ---- asking the host ---------------------------------------------------------- */

/* how sizing a field went */
enum { FITS, CUT, BAD };

static int ask_cond(const sf_custom *c, const sf_cview *v, int fi,
                    int *holds) {
  if (c->dead) return BAD;
  return c->ops->cond(c->host, v, fi, holds) == SF_OK ? FITS : BAD;
}

/* A length or a count from the host: FITS with *out, else BAD (reported
   when building: a number that is no size is a bug; when parsing it says
   the bytes are not this protocol's). */
static int ask_number(const sf_custom *c, const sf_cview *v, int fi, int what,
                      int build, uint64_t *out) {
  const char *fn = what == SF_CQ_LENGTH ? "length_from" : "count_from";
  char bad[48] = "";
  int64_t x = 0;
  int rc;
  if (c->dead) return BAD;
  rc = c->ops->number(c->host, v, fi, what, &x, bad, sizeof bad);
  if (rc == SF_OK && x >= 0 && (uint64_t)x <= SF_MAX_LEN) {
    *out = (uint64_t)x;
    return FITS;
  }
  if (rc != SF_OK && rc != SF_E_VALUE) return BAD;  /* the host kept why */
  if (rc == SF_OK) snprintf(bad, sizeof bad, "%" PRId64, x);
  if (build)
    sf_custom_report(c, "%s.%s: %s returned %s (expected an integer from 0 "
                     "to %u)", NAME(c, fi), fn, bad, (unsigned)SF_MAX_LEN);
  return BAD;
}

/* ---- laying out from bytes ------------------------------------------------------ */

typedef struct laying {
  const sf_custom *c;
  const uint8_t *h;
  size_t n;       /* bytes at h */
  sf_span *sp;
  int build;      /* report bad values instead of failing quietly */
} laying;

static sf_cview view_of(const laying *ly, int upto, size_t at) {
  sf_cview v;
  v.pr = &ly->c->proto;
  v.h = ly->h;
  v.n = ly->n;
  v.spans = ly->sp;
  v.upto = upto;
  v.rebuilding = 0;
  v.at = at;
  return v;
}

/* PadField, as Scapy: zeros after the field up to a multiple of align of
   the field's own length. */
static size_t pad_after(const sf_cfield *cf, size_t own) {
  return cf->align ? (cf->align - own % cf->align) % cf->align : 0;
}

static size_t nul_len(const uint8_t *h, size_t n) {
  const uint8_t *z = memchr(h, 0, n);
  return z ? (size_t)(z - h) : n;
}

/* count headers of protocol sub at h: their length; CUT (with the length
   of those that fit) when they do not all fit. */
static int sub_items(int sub, uint64_t count, const uint8_t *h, size_t n,
                     size_t *len) {
  const sf_proto *pr = sf_proto_get(sub);
  size_t at = 0;
  uint64_t k;
  for (k = 0; k < count; k++) {
    size_t hl = at < n ? sf_header_len(pr, NULL, h + at, n - at) : 0;
    if (hl == 0 || hl > n - at) break;
    at += hl;
  }
  *len = at;
  return k == count ? FITS : CUT;
}

/* The byte length of host-sized field fi at byte pos.  A built header was
   laid out from its values, so the fields after this one are there: a
   length the user set larger than the data (Scapy builds it) leaves them
   their bytes rather than swallowing them. */
static int host_len(const laying *ly, int fi, size_t pos, size_t *len) {
  const sf_cfield *cf = &ly->c->cf[fi];
  sf_cview v = view_of(ly, fi, pos);
  size_t avail = ly->n - pos, after = ly->c->after[fi];
  uint64_t k;
  int what = (cf->hooks & SF_CH_LENGTH) ? SF_CQ_LENGTH : SF_CQ_COUNT;
  if (ask_number(ly->c, &v, fi, what, ly->build, &k) != FITS) return BAD;
  if (ly->build) avail = avail > after ? avail - after : 0;
  if (what == SF_CQ_COUNT && !cf->item_bytes)
    return sub_items(cf->sub_proto, k, ly->h + pos, avail, len);
  if (what == SF_CQ_COUNT) k *= cf->item_bytes;  /* both <= 2^24: no overflow */
  if (k <= avail) {
    *len = (size_t)k;
    return FITS;
  }
  *len = what == SF_CQ_COUNT ? avail - avail % cf->item_bytes : avail;
  return CUT;
}

/* The byte length of variable field fi at byte pos. */
static int var_len(const laying *ly, int fi, size_t pos, size_t *len) {
  const sf_cfield *cf = &ly->c->cf[fi];
  size_t avail = ly->n - pos;
  switch (cf->kind) {
    case SF_CK_FIXLEN:
      *len = cf->bytes;
      return cf->bytes <= avail ? FITS : CUT;
    case SF_CK_NULL:
      *len = nul_len(ly->h + pos, avail);
      return FITS;
    default:  /* a list with neither length_from nor count_from: the rest */
      if (cf->kind == SF_CK_VAR && (cf->hooks & (SF_CH_LENGTH | SF_CH_COUNT)))
        return host_len(ly, fi, pos, len);
      *len = avail;
      if (ly->build)  /* but what the fields after it were built with */
        *len = avail > ly->c->after[fi] ? avail - ly->c->after[fi] : 0;
      return FITS;
  }
}

/* Field i of a layout at *bit: its span, and *bit past it (value, NUL,
   padding).  0 when it does not lay out. */
static int lay_field(const laying *ly, int i, size_t *bit) {
  const sf_field *f = &ly->c->fields[i];
  const sf_cfield *cf = &ly->c->cf[i];
  size_t len, own;
  int st;
  if (cf->kind == SF_CK_FIXED) {
    if (*bit + f->bits > ly->n * 8) return 0;  /* cut short */
    ly->sp[i].bitoff = (uint32_t)*bit;
    ly->sp[i].bits = f->bits;
    *bit += f->bits + 8 * pad_after(cf, f->bits / 8u);
    return 1;
  }
  if (*bit % 8) {
    if (ly->build)
      sf_custom_report(ly->c, "%s.%s: a string or a list must start on a "
                       "byte (the fields before it add up to %zu bits)",
                       NAME(ly->c, i), *bit);
    return 0;
  }
  st = var_len(ly, i, *bit / 8, &len);
  /* a length past the bytes: cut short when parsing; a build takes what
     is there (a length field the user set larger than its data) */
  if (st == BAD || (st == CUT && (!ly->build || cf->kind != SF_CK_VAR)))
    return 0;
  ly->sp[i].bitoff = (uint32_t)*bit;
  ly->sp[i].bits = (uint32_t)(len * 8);
  own = len + (cf->kind == SF_CK_NULL && *bit / 8 + len < ly->n);
  *bit += 8 * (own + pad_after(cf, own));
  return 1;
}

/* 1 when the fields lay out, with the header's length in *len. */
static int lay_out(const laying *ly, size_t *len) {
  const sf_custom *c = ly->c;
  size_t bit = 0;
  int i, holds;
  for (i = 0; i < c->proto.nfields; i++) {  /* what a cut-short header lacks */
    ly->sp[i].bitoff = 0;
    ly->sp[i].bits = SF_ABSENT;
  }
  for (i = 0; i < c->proto.nfields; i++) {
    if (c->cf[i].hooks & SF_CH_COND) {
      sf_cview v = view_of(ly, i, bit / 8);
      if (ask_cond(c, &v, i, &holds) != FITS) return 0;
      if (!holds) {
        ly->sp[i].bitoff = (uint32_t)bit;
        continue;
      }
    }
    if (!lay_field(ly, i, &bit) || bit > ly->n * 8) return 0;
  }
  *len = (bit + 7) / 8;
  return 1;
}

/* ---- remembered layouts ---------------------------------------------------------

   Laying a header out asks the host (Lua callbacks) field by field, and a
   packet's header is laid out again for every field read, present and
   resolve, and once more by the dissector: the last few layouts of each
   thread are kept, keyed by the protocol, the bytes themselves and the
   build flag, and who answers (ops->answerer: a Lua state), so a header
   is laid out once until its bytes change (custom.h).  Only layouts that succeed
   are kept (a failure reports, or keeps the host's error, each time); a
   killed protocol's are never used.  Per thread, so no locking, and no
   pointer into a packet: a changed or freed packet cannot be mistaken. */

#define MEMOS 4          /* the headers a loop over layers reads in turn */
#define MEMO_BYTES 512   /* longer headers are laid out each time */

typedef struct memo {
  uint64_t serial;       /* the protocol's (sf_custom.serial); 0: empty */
  const void *who;       /* ops->answerer's key */
  size_t n, len;
  int build;
  sf_span sp[SF_MAX_FIELDS];
  uint8_t h[MEMO_BYTES];
} memo;

static _Thread_local struct {
  memo m[MEMOS];
  unsigned next;         /* the one to replace */
} memos;

uint64_t sf_custom_next_serial(void) {
  static atomic_uint_fast64_t last;
  return (uint64_t)atomic_fetch_add(&last, 1) + 1;
}

/* Who answers c's callbacks now, NULL: keep nothing. */
static const void *answerer(const sf_custom *c, size_t n) {
  if (n > MEMO_BYTES || c->dead || !c->ops->answerer) return NULL;
  return c->ops->answerer(c->host);
}

static const memo *recall(const sf_custom *c, const void *who,
                          const uint8_t *h, size_t n, int build) {
  int i;
  if (!who) return NULL;
  for (i = 0; i < MEMOS; i++) {
    const memo *m = &memos.m[i];
    if (m->serial == c->serial && m->who == who && m->n == n &&
        m->build == build &&
        (n == 0 || memcmp(m->h, h, n) == 0))
      return m;
  }
  return NULL;
}

static void remember(const sf_custom *c, const void *who, const uint8_t *h,
                     size_t n, int build, const sf_span *sp, size_t len) {
  memo *m;
  if (!who || c->dead) return;
  m = &memos.m[memos.next];
  memos.next = (memos.next + 1) % MEMOS;
  m->serial = c->serial;
  m->who = who;
  m->n = n;
  m->build = build;
  m->len = len;
  if (n) memcpy(m->h, h, n);
  memcpy(m->sp, sp, (size_t)c->proto.nfields * sizeof *sp);
}

int sf_custom_lay(const sf_custom *c, const uint8_t *h, size_t n, sf_span *sp,
                  int build, size_t *len) {
  const void *who = answerer(c, n);
  const memo *m = recall(c, who, h, n, build);
  laying ly;
  if (m) {
    memcpy(sp, m->sp, (size_t)c->proto.nfields * sizeof *sp);
    *len = m->len;
    return 1;
  }
  ly.c = c;
  ly.h = h;
  ly.n = n;
  ly.sp = sp;
  ly.build = build;
  if (!lay_out(&ly, len)) return 0;
  remember(c, who, h, n, build, sp, *len);
  return 1;
}

/* ---- rebuilding from values -------------------------------------------------- */

void sf_tb_free(sf_tbuf *b) {
  free(b->d);
  b->d = NULL;
  b->bits = b->cap = 0;
}

static int tb_room(sf_tbuf *b, size_t morebits) {
  size_t need = (b->bits + morebits + 7) / 8 + 1, have = (b->bits + 7) / 8;
  uint8_t *d;
  if (b->oom) return 0;
  if (need > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    if (cap > 2 * (size_t)SF_MAX_LEN || !(d = realloc(b->d, cap))) {
      b->oom = 1;
      return 0;
    }
    b->d = d;
    b->cap = cap;
  }
  memset(b->d + have, 0, b->cap - have);  /* bits not written read as 0 */
  return 1;
}

static void tb_zeros(sf_tbuf *b, size_t bytes) {
  if (tb_room(b, bytes * 8)) b->bits += bytes * 8;
}

/* bits bits of src from bit `from` */
static void tb_bits(sf_tbuf *b, const uint8_t *src, size_t from, size_t bits) {
  if (bits == 0 || !tb_room(b, bits)) return;
  if (!(from % 8) && !(b->bits % 8) && !(bits % 8)) {
    memcpy(b->d + b->bits / 8, src + from / 8, bits / 8);
    b->bits += bits;
    return;
  }
  while (bits) {  /* bit fields: up to 32 bits at a time */
    unsigned take = bits > 32 ? 32 : (unsigned)bits;
    sf_setbits(b->d, (unsigned)b->bits, take,
               sf_getbits(src, (unsigned)from, take));
    b->bits += take;
    from += take;
    bits -= take;
  }
}

/* An integer as field f holds it (little-endian ones byte-swapped). */
static void tb_int(sf_tbuf *b, const sf_field *f, uint64_t v) {
  v &= sf_field_max(f);
  if (f->flags & SF_FF_LE) v = swap_le(v, f->bits / 8u);
  if (tb_room(b, f->bits)) {
    sf_setbits(b->d, (unsigned)b->bits, f->bits, v);
    b->bits += f->bits;
  }
}

/* Field i's value from v: integers, addresses, bytes (a fixed length cut
   or padded with NULs, as Scapy's StrFixedLenField). */
static void tb_value(sf_tbuf *b, const sf_custom *c, int i, const sf_val *v) {
  const sf_field *f = &c->fields[i];
  const sf_cfield *cf = &c->cf[i];
  size_t n = v->n;
  if (f->type <= SF_T_FLAGS) {
    tb_int(b, f, v->u);
    return;
  }
  if (f->type != SF_T_BYTES) n = f->bits / 8u;
  if (cf->kind == SF_CK_FIXLEN && n > cf->bytes) n = cf->bytes;
  tb_bits(b, v->p, 0, n * 8);
  if (cf->kind == SF_CK_FIXLEN) tb_zeros(b, cf->bytes - n);
}

typedef struct relaying {
  const sf_custom *c;
  const uint8_t *h;       /* the header before, or NULL */
  const sf_span *old;     /* its spans */
  int fi;                 /* the field being set, or -1 */
  const sf_val *v;        /* its value (NULL: its default) */
  sf_tbuf *out;
  sf_span *sp;
} relaying;

/* Field i in the new header: the value being set, what it had, or its
   default; then its NUL and padding. */
static int relay_field(const relaying *r, int i) {
  const sf_custom *c = r->c;
  const sf_cfield *cf = &c->cf[i];
  sf_tbuf *out = r->out;
  size_t start = out->bits, own;
  if (cf->kind != SF_CK_FIXED && start % 8) {
    sf_custom_report(c, "%s.%s: a string or a list must start on a byte "
                     "(the fields before it add up to %zu bits)", NAME(c, i),
                     start);
    return SF_E_VALUE;
  }
  if (i == r->fi && r->v)
    tb_value(out, c, i, r->v);
  else if (i != r->fi && r->old && r->old[i].bits != SF_ABSENT)
    tb_bits(out, r->h, r->old[i].bitoff, r->old[i].bits);
  else
    tb_bits(out, c->defv[i], 0, c->defbits[i]);
  r->sp[i].bitoff = (uint32_t)start;
  r->sp[i].bits = (uint32_t)(out->bits - start);
  own = cf->kind == SF_CK_FIXED ? c->fields[i].bits / 8u
                                : r->sp[i].bits / 8u + (cf->kind == SF_CK_NULL);
  if (cf->kind == SF_CK_NULL) tb_zeros(out, 1);
  tb_zeros(out, pad_after(cf, own));
  return out->oom ? SF_E_NOMEM : SF_OK;
}

/* Items in the n bytes of list field fi. */
static uint64_t count_items(const sf_custom *c, int fi, const uint8_t *d,
                            size_t n) {
  const sf_cfield *cf = &c->cf[fi];
  const sf_proto *sub = sf_proto_get(cf->sub_proto);
  size_t at = 0, hl;
  uint64_t k = 0;
  if (cf->item_bytes) return n / cf->item_bytes;
  while (sub && at < n && (hl = sf_header_len(sub, NULL, d + at, n - at)) &&
         hl <= n - at) {
    at += hl;
    k++;
  }
  return k;
}

/* What length or count field i holds for x measured (through adjust). */
static int measured(const sf_custom *c, const sf_cview *v, int i, uint64_t x,
                    uint64_t *out) {
  const sf_field *f = &c->fields[i];
  char bad[48] = "";
  int64_t y = (int64_t)x;
  int rc = SF_OK;
  if (c->cf[i].hooks & SF_CH_ADJUST) {
    if (c->dead) return SF_E_VALUE;
    rc = c->ops->adjust(c->host, v, i, (int64_t)x, &y, bad, sizeof bad);
    if (rc != SF_OK && rc != SF_E_VALUE) return rc;  /* the host kept why */
  }
  if (rc == SF_OK && y >= 0 && (uint64_t)y <= sf_field_max(f)) {
    *out = (uint64_t)y;
    return SF_OK;
  }
  if (rc == SF_OK) snprintf(bad, sizeof bad, "%" PRId64, y);
  sf_custom_report(c, "%s.%s: adjust returned %s (expected an integer from "
                   "0 to %" PRIu64 ")", NAME(c, i), bad, sf_field_max(f));
  return SF_E_VALUE;
}

/* Length and count fields not in `set` take what they measure in the n
   bytes at h, laid out as sp. */
static int sync_lengths(const sf_custom *c, uint8_t *h, size_t n,
                        const sf_span *sp, uint64_t set) {
  sf_cview v;
  int i, rc;
  v.pr = &c->proto;
  v.h = h;
  v.n = n;
  v.spans = sp;
  v.upto = c->proto.nfields;
  v.rebuilding = 0;  /* the header is complete: lengths are being measured */
  v.at = n;
  for (i = 0; i < c->proto.nfields; i++) {
    const sf_cfield *cf = &c->cf[i];
    const sf_field *f = &c->fields[i];
    int t = cf->len_of >= 0 ? cf->len_of : cf->count_of;
    uint64_t x = 0;
    if (t < 0 || ((set >> (i & 63)) & 1) || sp[i].bits == SF_ABSENT) continue;
    if (sp[t].bits != SF_ABSENT)
      x = cf->len_of >= 0 ? sp[t].bits / 8u
                          : count_items(c, t, h + sp[t].bitoff / 8u, sp[t].bits / 8u);
    if ((rc = measured(c, &v, i, x, &x)) != SF_OK) return rc;
    if (f->flags & SF_FF_LE) x = swap_le(x, f->bits / 8u);
    sf_setbits(h, sp[i].bitoff, f->bits, x);
  }
  return SF_OK;
}

int sf_custom_relay(const sf_custom *c, const uint8_t *h, const sf_span *old,
                    int fi, const sf_val *v, uint64_t set, sf_tbuf *out,
                    sf_span *sp) {
  relaying r;
  int i, holds, rc;
  r.c = c;
  r.h = h;
  r.old = old;
  r.fi = fi;
  r.v = v;
  r.out = out;
  r.sp = sp;
  if (!tb_room(out, 8)) return SF_E_NOMEM;
  for (i = 0; i < c->proto.nfields; i++) {
    sp[i].bitoff = (uint32_t)out->bits;
    sp[i].bits = SF_ABSENT;
    if (c->cf[i].hooks & SF_CH_COND) {  /* asked of the values so far */
      sf_cview cv;
      cv.pr = &c->proto;
      cv.h = out->d;
      cv.n = (out->bits + 7) / 8;
      cv.spans = sp;
      cv.upto = i;
      cv.rebuilding = 1;
      cv.at = cv.n;
      if (ask_cond(c, &cv, i, &holds) != FITS) return SF_E_VALUE;
      if (!holds) continue;
    }
    if ((rc = relay_field(&r, i)) != SF_OK) return rc;
  }
  return sync_lengths(c, out->d, (out->bits + 7) / 8, sp, set);
}

/* ---- the engine's hooks ------------------------------------------------------- */

static const sf_custom *custom_of(const sf_proto *pr) { return pr->dyn->ud; }

static int built(const sf_layer *l) {
  return (l->flags & (SF_L_BUILT | SF_L_TRUNC)) == SF_L_BUILT;
}

/* The header's length, 0 when malformed (an empty header is too: parsing
   must move on). */
static size_t dyn_layout(const sf_proto *pr, const uint8_t *h, size_t n,
                         sf_span *sp, int build) {
  size_t len;
  return sf_custom_lay(custom_of(pr), h, n, sp, build, &len) ? len : 0;
}

/* Fixed fields: their static offsets, and no host. */
static size_t static_layout(const sf_proto *pr, const uint8_t *h, size_t n,
                            sf_span *sp, int build) {
  int i;
  (void)h;
  (void)build;
  for (i = 0; i < pr->nfields; i++) {
    sp[i].bitoff = pr->fields[i].bitoff;
    sp[i].bits = pr->fields[i].bits;
  }
  return pr->minlen <= n ? pr->minlen : 0;
}

/* Setting a field rebuilds the header from the values, as Scapy builds
   one: the field gets v, the others keep their values, a condition that
   changed its mind brings a field in (with its default) or drops it, and
   lengths, counts, NULs and padding follow. */
static int dyn_set(const sf_proto *pr, sf_pkt *p, int li, int fi,
                   const sf_val *v) {
  const sf_custom *c = custom_of(pr);
  sf_layer *l = &p->layers[li];
  sf_span old[SF_MAX_FIELDS], sp[SF_MAX_FIELDS];
  sf_tbuf out = {NULL, 0, 0, 0};
  size_t len;
  int rc;
  if (!sf_custom_lay(c, p->data + l->off, l->hlen, old, built(l), &len) ||
      old[fi].bits == SF_ABSENT)
    return SF_E_ABSENT;  /* not in this header, cut short, or no host */
  rc = sf_custom_relay(c, p->data + l->off, old, fi, v,
                       l->set | (v ? UINT64_C(1) << (fi & 63) : 0), &out, sp);
  if (rc == SF_OK && out.bits % 8) {
    sf_custom_report(c, "%s: the fields add up to %zu bits, not whole bytes",
                     pr->name, out.bits);
    rc = SF_E_VALUE;
  }
  if (rc == SF_OK)
    rc = sf_pkt_splice(p, li, l->off, l->hlen, out.d, out.bits / 8);
  sf_tb_free(&out);
  return rc;
}

/* Lengths and counts the user did not set, from the layer as it is. */
static void dyn_fixup(const sf_proto *pr, sf_pkt *p, int li) {
  const sf_custom *c = custom_of(pr);
  const sf_layer *l = &p->layers[li];
  sf_span sp[SF_MAX_FIELDS];
  size_t len;
  if (sf_custom_lay(c, p->data + l->off, l->hlen, sp, built(l), &len))
    sync_lengths(c, (uint8_t *)p->data + l->off, l->hlen, sp, l->set);
}

static int dyn_next(const sf_proto *pr, const sf_pkt *p, int li) {
  const sf_custom *c = custom_of(pr);
  const sf_layer *l = &p->layers[li];
  sf_span sp[SF_MAX_FIELDS];
  sf_cview v;
  int next = -1;
  if (c->dead) return -1;
  v.pr = pr;
  v.h = p->data + l->off;
  v.n = l->hlen;
  v.spans = sp;
  v.upto = pr->nfields;
  v.rebuilding = 0;
  v.at = v.n;
  dyn_layout(pr, v.h, v.n, sp, 0);
  if (c->ops->guess(c->host, &v, &next) != SF_OK) return -2;  /* Raw */
  return sf_proto_get(next) ? next : -1;
}

static void dyn_post_build(const sf_proto *pr, sf_pkt *p, int li) {
  const sf_custom *c = custom_of(pr);
  const sf_layer *l = &p->layers[li];
  sf_span sp[SF_MAX_FIELDS];
  sf_cview v;
  if (c->dead) return;
  v.pr = pr;
  v.h = p->data + l->off;
  v.n = l->hlen;
  v.spans = sp;
  v.upto = pr->nfields;
  v.rebuilding = 0;
  v.at = v.n;
  dyn_layout(pr, v.h, v.n, sp, built(l));
  c->ops->post_build(c->host, &v, (uint8_t *)p->data + l->off, l->end - l->off);
}

void sf_custom_hooks(sf_custom *c, int fixed) {
  int i;
  c->dyn.ud = c;
  c->proto.dyn = &c->dyn;
  if (c->hooks & SF_CH_POST_BUILD) c->dyn.post_build = dyn_post_build;
  if (c->hooks & SF_CH_GUESS) c->dyn.next = dyn_next;
  if (fixed) {  /* parsing, reading and setting need nothing of ours */
    c->dyn.layout = static_layout;
    return;
  }
  c->dyn.layout = dyn_layout;
  c->dyn.set = dyn_set;
  for (i = 0; i < c->proto.nfields; i++)  /* lengths or counts to fill */
    if (c->cf[i].len_of >= 0 || c->cf[i].count_of >= 0) c->dyn.fixup = dyn_fixup;
}
