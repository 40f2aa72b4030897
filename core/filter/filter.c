/*
 * filter.c -- the display-filter engine: loads a program (filter.h says
 * its format) into a tree of nodes, then answers packets.
 *
 * A value node yields a list (a field occurs once per layer that has it,
 * twice for "either side" names such as tcp.port): lists are built in a
 * scratch arena of the filter, emptied after each test, so a run makes no
 * allocation once the arena has grown to the filter's needs.  Tests follow
 * Wireshark's quantifiers: a comparison holds when some pair of values
 * does ("any"); "all" (===, all_eq) when every left value does.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"

/* ---- the loaded program --------------------------------------------------- */

typedef struct falt {    /* one protocol's field under a filter name */
  uint16_t proto, field, field2;
  uint64_t mask;
  uint32_t mul;
  uint8_t hex;
  uint8_t exact;         /* this field only, not others of its name */
} falt;

typedef struct fnode {
  uint8_t op, arg, all;  /* op; cmp / frame / fn; the "all" quantifier */
  uint32_t kid[2];       /* children (node indices) */
  uint32_t first, count; /* into alts, protos, items, slices or consts */
  int64_t i;
  double d;
  pcre2_code *re;
  pcre2_match_data *md;
} fnode;

typedef struct fitem { uint32_t lo, hi; int range; } fitem;  /* IN */
typedef struct fslice { int32_t start, len; } fslice;

/* one value of a list; bytes at p, or at off in the byte arena when p is
   NULL (the arena moves as it grows) */
enum { K_INT, K_FLOAT, K_BYTES };
/* how tshark prints a value: FMT_HEX with hex digits, the others by type */
enum { FMT_DEC, FMT_HEX, FMT_MAC, FMT_IP4, FMT_IP6, FMT_HEXBYTES, FMT_TEXT, FMT_TIME };
typedef struct fval {
  uint8_t kind, fmt, digits;
  int16_t prefix;        /* an address's bits that count; -1: all */
  uint32_t n, hl;        /* bytes; len() of it (a header's length) */
  int64_t i;
  double d;
  const uint8_t *p;
  size_t off;
} fval;

struct sf_filter {
  fnode *nodes;
  uint32_t nnodes, root;
  falt *alts;
  uint16_t *protos;
  fitem *items;
  fslice *slices;
  uint8_t *consts;
  uint32_t nalts, nprotos, nitems, nslices, nconsts;
  /* scratch of one run */
  fval *vals;
  size_t nv, vcap;
  uint8_t *bytes;
  size_t nb, bcap;
  int nomem;             /* the arena could not grow: the run fails */
};

/* ---- loading: a bounds-checked cursor over the program -------------------- */

typedef struct loader {
  const uint8_t *p;
  size_t n, pos;
  sf_filter *f;
  char *err;
  size_t errlen;
  int failed;
} loader;

static int fail(loader *ld, const char *msg) {
  if (!ld->failed) snprintf(ld->err, ld->errlen, "%s at byte %zu", msg, ld->pos);
  ld->failed = 1;
  return -1;
}

static int take(loader *ld, void *out, size_t k) {
  if (ld->failed || k > ld->n - ld->pos) return fail(ld, "program cut short");
  memcpy(out, ld->p + ld->pos, k);
  ld->pos += k;
  return 0;
}

static uint64_t take_le(loader *ld, size_t k) {
  uint8_t b[8] = {0};
  uint64_t v = 0;
  size_t i;
  if (take(ld, b, k) < 0) return 0;
  for (i = k; i-- > 0;) v = v << 8 | b[i];
  return v;
}

#define U8(ld) ((uint8_t)take_le(ld, 1))
#define U16(ld) ((uint16_t)take_le(ld, 2))
#define U32(ld) ((uint32_t)take_le(ld, 4))

/* grow *arr (of elem bytes) to hold one more than *n */
static int grow(void **arr, uint32_t n, size_t elem) {
  if ((n & (n - 1)) == 0) {  /* at 0, 1, 2, 4, ...: double */
    void *q = realloc(*arr, (n ? 2 * (size_t)n : 1) * elem);
    if (!q) return -1;
    *arr = q;
  }
  return 0;
}

static int new_node(loader *ld, uint8_t op) {
  sf_filter *f = ld->f;
  if (f->nnodes >= SF_FILTER_MAX_NODES) return fail(ld, "too many nodes");
  if (grow((void **)&f->nodes, f->nnodes, sizeof *f->nodes) < 0)
    return fail(ld, "not enough memory");
  memset(&f->nodes[f->nnodes], 0, sizeof *f->nodes);
  f->nodes[f->nnodes].op = op;
  return (int)f->nnodes++;
}

static int is_test(uint8_t op) { return op >= SF_FT_TRUE && op <= SF_FT_IN; }

static int load_node(loader *ld, int depth, int want_test);

/* the root of a fields program: its values are kids kept in items */
static int load_fields(loader *ld) {
  sf_filter *f = ld->f;
  unsigned k = U16(ld), i;
  int ni = new_node(ld, SF_FO_FIELDS);
  if (ni < 0) return -1;
  for (i = 0; i < k && !ld->failed; i++)
    if (grow((void **)&f->items, f->nitems++, sizeof *f->items) < 0)
      return fail(ld, "not enough memory");
  f->nodes[ni].first = f->nitems - k;
  f->nodes[ni].count = k;
  for (i = 0; i < k && !ld->failed; i++) {
    int v = load_node(ld, 1, 0);
    if (v < 0) return -1;
    f->items[f->nodes[ni].first + i].lo = (uint32_t)v;
  }
  return ld->failed ? -1 : ni;
}

static int load_node(loader *ld, int depth, int want_test);

static int load_kids(loader *ld, int ni, int k, int depth, int want_test) {
  int i, kid;
  for (i = 0; i < k; i++) {
    if ((kid = load_node(ld, depth + 1, want_test)) < 0) return -1;
    ld->f->nodes[ni].kid[i] = (uint32_t)kid;
  }
  return ni;
}

static int load_alts(loader *ld, int ni) {
  sf_filter *f = ld->f;
  unsigned k = U8(ld), i;
  f->nodes[ni].first = f->nalts;
  f->nodes[ni].count = k;
  for (i = 0; i < k && !ld->failed; i++) {
    falt a;
    const sf_proto *pr;
    a.proto = U16(ld);
    a.field = U16(ld);
    a.field2 = U16(ld);
    a.mask = take_le(ld, 8);
    a.mul = U32(ld);
    a.hex = U8(ld);
    a.exact = U8(ld);
    if (ld->failed) break;
    pr = sf_proto_get(a.proto);
    if (!pr || a.field >= pr->nfields || (a.field2 != 0xffff && a.field2 >= pr->nfields))
      return fail(ld, "no such protocol or field");
    if (grow((void **)&f->alts, f->nalts, sizeof *f->alts) < 0)
      return fail(ld, "not enough memory");
    f->alts[f->nalts++] = a;
  }
  return ld->failed ? -1 : ni;
}

static int load_protos(loader *ld, int ni) {
  sf_filter *f = ld->f;
  unsigned k = U8(ld), i;
  f->nodes[ni].first = f->nprotos;
  f->nodes[ni].count = k;
  for (i = 0; i < k && !ld->failed; i++) {
    uint16_t id = U16(ld);
    if (ld->failed) break;
    if (!sf_proto_get(id)) return fail(ld, "no such protocol");
    if (grow((void **)&f->protos, f->nprotos, sizeof *f->protos) < 0)
      return fail(ld, "not enough memory");
    f->protos[f->nprotos++] = id;
  }
  return ld->failed ? -1 : ni;
}

/* constant bytes, kept in the consts blob */
static int load_bytes(loader *ld, int ni, size_t k) {
  sf_filter *f = ld->f;
  uint8_t *q;
  if (k > ld->n - ld->pos) return fail(ld, "program cut short");
  if (!(q = realloc(f->consts, f->nconsts + k + 1))) return fail(ld, "not enough memory");
  f->consts = q;
  memcpy(q + f->nconsts, ld->p + ld->pos, k);
  ld->pos += k;
  f->nodes[ni].first = f->nconsts;
  f->nodes[ni].count = (uint32_t)k;
  f->nconsts += (uint32_t)k;
  return ni;
}

static int load_regex(loader *ld, int ni) {
  fnode *nd;
  int code;
  PCRE2_SIZE at;
  size_t k = U32(ld);
  if (ld->failed || load_bytes(ld, ni, k) < 0) return -1;
  nd = &ld->f->nodes[ni];
  /* Wireshark's matches: PCRE2, case-insensitive unless (?-i) */
  nd->re = pcre2_compile(ld->f->consts + nd->first, k, PCRE2_CASELESS, &code, &at, NULL);
  if (!nd->re) {
    PCRE2_UCHAR msg[120];
    pcre2_get_error_message(code, msg, sizeof msg);
    snprintf(ld->err, ld->errlen, "regular expression: %s at offset %zu", (char *)msg,
             (size_t)at);
    ld->failed = 1;
    return -1;
  }
  (void)pcre2_jit_compile(nd->re, PCRE2_JIT_COMPLETE);  /* faster when it can */
  if (!(nd->md = pcre2_match_data_create_from_pattern(nd->re, NULL)))
    return fail(ld, "not enough memory");
  return ni;
}

static int load_items(loader *ld, int ni, int depth) {
  sf_filter *f = ld->f;
  unsigned k = U16(ld), i;
  uint32_t first = f->nitems;
  if (ld->failed || k == 0) return fail(ld, "bad set");
  /* items are reserved first: their values load nodes in between */
  for (i = 0; i < k; i++)
    if (grow((void **)&f->items, f->nitems++, sizeof *f->items) < 0)
      return fail(ld, "not enough memory");
  f->nodes[ni].first = first;
  f->nodes[ni].count = k;
  for (i = 0; i < k && !ld->failed; i++) {
    int range = U8(ld), lo, hi = -1;
    if (range > 1) return fail(ld, "bad set item");
    if ((lo = load_node(ld, depth + 1, 0)) < 0) return -1;
    if (range && (hi = load_node(ld, depth + 1, 0)) < 0) return -1;
    f->items[first + i].lo = (uint32_t)lo;
    f->items[first + i].hi = (uint32_t)hi;
    f->items[first + i].range = range;
  }
  return ld->failed ? -1 : ni;
}

static int load_slices(loader *ld, int ni) {
  sf_filter *f = ld->f;
  unsigned k = U8(ld), i;
  if (ld->failed || k == 0) return fail(ld, "bad slice");
  f->nodes[ni].first = f->nslices;
  f->nodes[ni].count = k;
  for (i = 0; i < k && !ld->failed; i++) {
    fslice s;
    s.start = (int32_t)U32(ld);
    s.len = (int32_t)U32(ld);
    if (grow((void **)&f->slices, f->nslices, sizeof *f->slices) < 0)
      return fail(ld, "not enough memory");
    f->slices[f->nslices++] = s;
  }
  return ld->failed ? -1 : ni;
}

/* the operands of op after the op byte */
static int load_body(loader *ld, int ni, uint8_t op, int depth) {
  fnode *nd = &ld->f->nodes[ni];
  switch (op) {
    case SF_FT_TRUE: case SF_FT_FALSE: return ni;
    case SF_FT_NOT: return load_kids(ld, ni, 1, depth, 1);
    case SF_FT_AND: case SF_FT_OR: case SF_FT_XOR: return load_kids(ld, ni, 2, depth, 1);
    case SF_FT_EXISTS: case SF_FT_NONZERO: return load_kids(ld, ni, 1, depth, 0);
    case SF_FT_CMP:
      nd->arg = U8(ld);
      nd->all = U8(ld);
      if (nd->arg > SF_FC_GE || nd->all > 1) return fail(ld, "bad comparison");
      return load_kids(ld, ni, 2, depth, 0);
    case SF_FT_CONTAINS: return load_kids(ld, ni, 2, depth, 0);
    case SF_FT_MATCHES:
      if (load_kids(ld, ni, 1, depth, 0) < 0) return -1;
      return load_regex(ld, ni);
    case SF_FT_IN:
      if (load_kids(ld, ni, 1, depth, 0) < 0) return -1;
      return load_items(ld, ni, depth);
    case SF_FV_FIELD: return load_alts(ld, ni);
    case SF_FV_PROTO: return load_protos(ld, ni);
    case SF_FV_FRAME:
      nd->arg = U8(ld);
      return nd->arg > SF_FF_BYTES ? fail(ld, "bad frame field") : ni;
    case SF_FV_INT: nd->i = (int64_t)take_le(ld, 8); return ni;
    case SF_FV_FLOAT: {
      uint64_t b = take_le(ld, 8);
      memcpy(&nd->d, &b, sizeof nd->d);
      return isnan(nd->d) ? fail(ld, "bad number") : ni;
    }
    case SF_FV_BYTES: return load_bytes(ld, ni, U32(ld));
    case SF_FV_ADDR: {
      unsigned prefix = U8(ld), k = U8(ld);
      nd->arg = (uint8_t)prefix;
      if ((k != 4 && k != 16) || prefix > k * 8) return fail(ld, "bad address");
      return load_bytes(ld, ni, k);
    }
    case SF_FV_SLICE:
      if (load_kids(ld, ni, 1, depth, 0) < 0) return -1;
      return load_slices(ld, ni);
    case SF_FV_FUNC:
      nd->arg = U8(ld);
      if (nd->arg > SF_FN_UPPER) return fail(ld, "bad function");
      return load_kids(ld, ni, 1, depth, 0);
    case SF_FV_BITAND: return load_kids(ld, ni, 2, depth, 0);
    default: return fail(ld, "bad operation");
  }
}

static int load_node(loader *ld, int depth, int want_test) {
  uint8_t op = U8(ld);
  int ni;
  if (ld->failed) return -1;
  if (depth > SF_FILTER_MAX_DEPTH) return fail(ld, "nested too deep");
  if (is_test(op) != want_test)
    return fail(ld, want_test ? "a test expected" : "a value expected");
  if ((ni = new_node(ld, op)) < 0) return -1;
  return load_body(ld, ni, op, depth);
}

sf_filter *sf_filter_load(const uint8_t *prog, size_t n, char *err,
                          size_t errlen) {
  loader ld = {prog, n, 0, NULL, err, errlen, 0};
  int root;
  if (errlen) err[0] = '\0';
  if (!(ld.f = calloc(1, sizeof *ld.f))) {
    snprintf(err, errlen, "not enough memory");
    return NULL;
  }
  if (n < 5 || memcmp(prog, "SFDF", 4) != 0 || prog[4] != SF_FILTER_VERSION) {
    snprintf(err, errlen, "not a filter program (version %d)", SF_FILTER_VERSION);
    sf_filter_free(ld.f);
    return NULL;
  }
  ld.pos = 5;
  if (n > 5 && prog[5] == SF_FO_FIELDS) {
    ld.pos = 6;
    root = load_fields(&ld);
  } else {
    root = load_node(&ld, 0, 1);
  }
  if (root >= 0 && ld.pos != n) fail(&ld, "bytes after the program");
  if (ld.failed) {
    sf_filter_free(ld.f);
    return NULL;
  }
  ld.f->root = (uint32_t)root;
  return ld.f;
}

void sf_filter_free(sf_filter *f) {
  uint32_t i;
  if (!f) return;
  for (i = 0; i < f->nnodes; i++) {
    pcre2_match_data_free(f->nodes[i].md);
    pcre2_code_free(f->nodes[i].re);
  }
  free(f->nodes);
  free(f->alts);
  free(f->protos);
  free(f->items);
  free(f->slices);
  free(f->consts);
  free(f->vals);
  free(f->bytes);
  free(f);
}

/* ---- the scratch arena ------------------------------------------------------ */

static fval *push_val(sf_filter *f) {
  fval *v;
  if (f->nv == f->vcap) {
    size_t cap = f->vcap ? 2 * f->vcap : 16;
    fval *q = realloc(f->vals, cap * sizeof *q);
    if (!q) {
      f->nomem = 1;
      return NULL;
    }
    f->vals = q;
    f->vcap = cap;
  }
  v = &f->vals[f->nv++];
  memset(v, 0, sizeof *v);
  v->prefix = -1;
  return v;
}

/* k bytes in the byte arena; their offset, or SIZE_MAX */
static size_t reserve_bytes(sf_filter *f, size_t k) {
  size_t at = f->nb;
  if (k > f->bcap - f->nb) {
    size_t cap = f->bcap ? f->bcap : 256;
    uint8_t *q;
    while (cap - f->nb < k) cap *= 2;
    if (!(q = realloc(f->bytes, cap))) {
      f->nomem = 1;
      return SIZE_MAX;
    }
    f->bytes = q;
    f->bcap = cap;
  }
  f->nb += k;
  return at;
}

static const uint8_t no_bytes[1];  /* what empty values point at */

static const uint8_t *bytes_of(const sf_filter *f, const fval *v) {
  if (v->p) return v->p;
  return f->bytes ? f->bytes + v->off : no_bytes;
}

static fval *push_int(sf_filter *f, int64_t i) {
  fval *v = push_val(f);
  if (v) v->i = i;
  return v;
}

static fval *push_bytes(sf_filter *f, const uint8_t *p, size_t n, size_t hl) {
  fval *v = push_val(f);
  if (!v) return NULL;
  v->kind = K_BYTES;
  v->fmt = FMT_HEXBYTES;
  v->p = p;
  v->n = (uint32_t)n;
  v->hl = (uint32_t)hl;
  return v;
}

/* ---- values ------------------------------------------------------------------ */

#define TEXT_MAX 1024  /* the longest text a codec gives a filter */

/* A field whose bytes encode a text (a DNS name): the text, as Wireshark
   shows it, is its value. */
static void push_text(sf_filter *f, const sf_pkt *p, int li, int fi,
                      const sf_val *v, const sf_codec *c) {
  size_t at = reserve_bytes(f, TEXT_MAX);
  fval *fv;
  int k;
  if (at == SIZE_MAX) return;
  k = (c->ws_text ? c->ws_text : c->to_text)(p, li, fi, v->p, v->n,
                                             (char *)f->bytes + at, TEXT_MAX);
  if (k < 0 || k >= TEXT_MAX || !(fv = push_val(f))) return;
  fv->kind = K_BYTES;
  fv->fmt = FMT_TEXT;
  fv->off = at;
  fv->n = fv->hl = (uint32_t)k;
}

static void eval_value(sf_filter *f, const sf_pkt *p, uint32_t ni);

static int64_t sign_extend(uint64_t u, unsigned bits) {
  if (bits >= 64 || !(u >> (bits - 1) & 1)) return (int64_t)u;
  return (int64_t)(u | ~((UINT64_C(1) << bits) - 1));
}

/* field fi of layer li as Wireshark sees it: masked bits shifted down,
   scaled */
static void push_field(sf_filter *f, const sf_pkt *p, int li, int fi, const falt *a) {
  const sf_field *fd;
  fval *fv;
  sf_val v;
  if (!a->exact) fi = sf_field_resolve(p, li, fi);
  if (fi < 0 || sf_field_get(p, li, fi, &v) != SF_OK) return;
  fd = &sf_proto_get(p->layers[li].proto)->fields[fi];
  if (fd->type == SF_T_UINT || fd->type == SF_T_FLAGS) {
    uint64_t u = v.u;
    if (a->mask) {
      uint64_t m = a->mask;
      u &= m;
      while (!(m & 1)) {
        m >>= 1;
        u >>= 1;
      }
    }
    if (a->mul) u *= a->mul;
    fv = push_int(f, (fd->flags & SF_FF_SIGNED) && !a->mask ? sign_extend(u, fd->bits) : (int64_t)u);
    if (fv) fv->hl = (uint32_t)((fd->bitoff % 8 + fd->bits + 7) / 8);  /* len(): its bytes */
    if (fv && a->hex) {
      fv->fmt = FMT_HEX;
      fv->digits = a->hex;
    }
  } else if (fd->type == SF_T_BYTES && fd->codec && sf_codec_find(fd->codec)) {
    push_text(f, p, li, fi, &v, sf_codec_find(fd->codec));
  } else if ((fv = push_bytes(f, v.p, v.n, v.n))) {
    fv->fmt = fd->type == SF_T_MAC ? FMT_MAC : fd->type == SF_T_IP4 ? FMT_IP4
            : fd->type == SF_T_IP6 ? FMT_IP6 : FMT_HEXBYTES;
  }
}

static void eval_field(sf_filter *f, const sf_pkt *p, const fnode *nd) {
  int li;
  uint32_t k;
  for (li = 0; li < p->nlayers; li++)
    for (k = 0; k < nd->count; k++) {
      const falt *a = &f->alts[nd->first + k];
      if (p->layers[li].proto != a->proto) continue;
      push_field(f, p, li, a->field, a);
      if (a->field2 != 0xffff) push_field(f, p, li, a->field2, a);
    }
}

/* A protocol's value: its bytes from the header on (what contains and
   slices see), its length the header's (what len() says), as tshark. */
static void eval_proto(sf_filter *f, const sf_pkt *p, const fnode *nd) {
  int li;
  uint32_t k;
  for (li = 0; li < p->nlayers; li++) {
    const sf_layer *l = &p->layers[li];
    for (k = 0; k < nd->count; k++)
      if (l->proto == f->protos[nd->first + k]) {
        size_t end = l->end > p->len ? p->len : l->end;
        push_bytes(f, p->data + l->off, end > l->off ? end - l->off : 0, l->hlen);
        break;
      }
  }
}

static int ws_named(const sf_proto *pr) { return pr && pr->ws; }

/* After a link layer or a tag, Wireshark's EtherType dissector is a
   protocol of its own in frame.protocols. */
static int ethertype_after(const sf_pkt *p, int li) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  return li + 1 < p->nlayers && pr->facts && pr->next_table &&
         strcmp(pr->next_table, "ethertype") == 0 &&
         (pr->facts->role == SF_ROLE_LINK || pr->facts->role == SF_ROLE_VLAN) &&
         ws_named(sf_proto_get(p->layers[li + 1].proto));
}

static size_t append(char *out, size_t n, size_t at, const char *s) {
  size_t k = strlen(s), i;
  for (i = 0; i < k; i++)
    if (at + i + 1 < n) out[at + i] = s[i];
  return at + k;
}

size_t sf_filter_protocols(const sf_pkt *p, char *out, size_t n) {
  size_t at = 0;
  int li;
  for (li = 0; li < p->nlayers; li++) {
    const sf_proto *pr = sf_proto_get(p->layers[li].proto);
    if (!ws_named(pr)) continue;
    if (at) at = append(out, n, at, ":");
    at = append(out, n, at, pr->ws);
    if (ethertype_after(p, li)) at = append(out, n, at, ":ethertype");
  }
  if (n) out[at < n ? at : n - 1] = '\0';
  return at;
}

static void eval_protocols(sf_filter *f, const sf_pkt *p) {
  size_t k = sf_filter_protocols(p, NULL, 0), at = reserve_bytes(f, k + 1);
  fval *v;
  if (at == SIZE_MAX) return;
  sf_filter_protocols(p, (char *)f->bytes + at, k + 1);
  if (!(v = push_val(f))) return;
  v->kind = K_BYTES;
  v->fmt = FMT_TEXT;
  v->off = at;
  v->n = v->hl = (uint32_t)k;
}

static void eval_frame(sf_filter *f, const sf_pkt *p, const fnode *nd) {
  fval *v;
  switch (nd->arg) {
    case SF_FF_NUMBER: push_int(f, (int64_t)p->frame); break;
    case SF_FF_LEN: push_int(f, p->wirelen > p->len ? p->wirelen : (int64_t)p->len); break;
    case SF_FF_CAPLEN: push_int(f, (int64_t)p->len); break;
    case SF_FF_TIME:
      if ((v = push_val(f))) {
        v->kind = K_FLOAT;
        v->fmt = FMT_TIME;
        v->d = (double)p->time_ns / 1e9;
        v->i = p->time_ns;
      }
      break;
    case SF_FF_PROTOCOLS: eval_protocols(f, p); break;
    default: push_bytes(f, p->data, p->len, p->len); break;
  }
}

static void eval_const(sf_filter *f, const fnode *nd) {
  fval *v = push_val(f);
  if (!v) return;
  switch (nd->op) {
    case SF_FV_INT: v->i = nd->i; break;
    case SF_FV_FLOAT: v->kind = K_FLOAT; v->d = nd->d; break;
    default:  /* BYTES, ADDR */
      v->kind = K_BYTES;
      v->p = f->consts ? f->consts + nd->first : no_bytes;
      v->n = v->hl = nd->count;
      if (nd->op == SF_FV_ADDR && nd->arg < nd->count * 8) v->prefix = nd->arg;  /* /0 too */
  }
}

/* one range of a value: start < 0 counts from the end, len < 0 to the
   end; 0 when it does not fit (the slice does not exist) */
static int slice_range(const fslice *s, size_t n, size_t *off, size_t *len) {
  int64_t start = s->start < 0 ? (int64_t)n + s->start : s->start;
  int64_t k = s->len < 0 ? (int64_t)n - start : s->len;
  if (start < 0 || k < 0 || start + k > (int64_t)n) return 0;
  *off = (size_t)start;
  *len = (size_t)k;
  return 1;
}

static void slice_one(sf_filter *f, const fnode *nd, size_t vi) {
  size_t total = 0, off = 0, len = 0, at, j;
  uint32_t k;
  fval v = f->vals[vi];
  if (v.kind != K_BYTES) return;
  for (k = 0; k < nd->count; k++) {
    if (!slice_range(&f->slices[nd->first + k], v.n, &off, &len)) return;
    total += len;
  }
  if (nd->count == 1) {  /* a view into the same bytes */
    slice_range(&f->slices[nd->first], v.n, &off, &len);
    push_bytes(f, v.p ? v.p + off : NULL, len, len);
    if (!v.p && !f->nomem) f->vals[f->nv - 1].off = v.off + off;
    return;
  }
  if (total == 0) {  /* empty pieces: an empty value, no arena */
    push_bytes(f, no_bytes, 0, 0);
    return;
  }
  if ((at = reserve_bytes(f, total)) == SIZE_MAX) return;
  for (j = at, k = 0; k < nd->count; k++) {
    slice_range(&f->slices[nd->first + k], v.n, &off, &len);
    memcpy(f->bytes + j, bytes_of(f, &f->vals[vi]) + off, len);
    j += len;
  }
  push_bytes(f, NULL, total, total);
  if (!f->nomem) f->vals[f->nv - 1].off = at;
}

/* evaluate kid, then replace its values with what fn makes of them */
static void eval_derived(sf_filter *f, const sf_pkt *p, const fnode *nd) {
  size_t base = f->nv, end, i;
  eval_value(f, p, nd->kid[0]);
  end = f->nv;
  for (i = base; i < end && !f->nomem; i++) {
    fval v = f->vals[i];
    if (nd->op == SF_FV_SLICE) {
      slice_one(f, nd, i);
    } else if (nd->arg == SF_FN_LEN) {
      push_int(f, (int64_t)v.hl);
    } else if (v.kind == K_BYTES) {  /* lower, upper */
      size_t at = reserve_bytes(f, v.n), j;
      if (at == SIZE_MAX) break;
      for (j = 0; j < v.n; j++) {
        int c = bytes_of(f, &f->vals[i])[j];
        f->bytes[at + j] = (uint8_t)(nd->arg == SF_FN_LOWER ? tolower(c) : toupper(c));
      }
      push_bytes(f, NULL, v.n, v.n);
      if (!f->nomem) f->vals[f->nv - 1].off = at;
    }
  }
  if (f->nomem || end == base) return;  /* nothing to drop (vals may be NULL) */
  memmove(f->vals + base, f->vals + end, (f->nv - end) * sizeof *f->vals);
  f->nv -= end - base;
}

static void eval_bitand(sf_filter *f, const sf_pkt *p, const fnode *nd) {
  size_t a = f->nv, b, e, i, j;
  eval_value(f, p, nd->kid[0]);
  b = f->nv;
  eval_value(f, p, nd->kid[1]);
  e = f->nv;
  for (i = a; i < b; i++)
    for (j = b; j < e; j++)
      if (f->vals[i].kind == K_INT && f->vals[j].kind == K_INT)
        push_int(f, f->vals[i].i & f->vals[j].i);
  if (f->nomem || e == a) return;  /* nothing to drop (vals may be NULL) */
  memmove(f->vals + a, f->vals + e, (f->nv - e) * sizeof *f->vals);
  f->nv -= e - a;
}

/* Appends node ni's values to the arena. */
static void eval_value(sf_filter *f, const sf_pkt *p, uint32_t ni) {
  const fnode *nd = &f->nodes[ni];
  switch (nd->op) {
    case SF_FV_FIELD: eval_field(f, p, nd); break;
    case SF_FV_PROTO: eval_proto(f, p, nd); break;
    case SF_FV_FRAME: eval_frame(f, p, nd); break;
    case SF_FV_SLICE: eval_derived(f, p, nd); break;
    case SF_FV_FUNC:
      if (nd->arg == SF_FN_COUNT) {
        size_t base = f->nv, k;
        eval_value(f, p, nd->kid[0]);
        k = f->nv - base;
        f->nv = base;
        push_int(f, (int64_t)k);
      } else {
        eval_derived(f, p, nd);
      }
      break;
    case SF_FV_BITAND: eval_bitand(f, p, nd); break;
    default: eval_const(f, nd); break;
  }
}

/* ---- comparisons ----------------------------------------------------------------- */

static int prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits) {
  unsigned whole = bits / 8, rest = bits % 8;
  if (memcmp(a, b, whole) != 0) return 0;
  return rest == 0 || ((a[whole] ^ b[whole]) & (0xff00 >> rest) & 0xff) == 0;
}

/* -1, 0, 1; 2 when the two cannot be compared */
static int compare(const sf_filter *f, const fval *a, const fval *b) {
  if (a->kind == K_BYTES || b->kind == K_BYTES) {
    const uint8_t *x = bytes_of(f, a), *y = bytes_of(f, b);
    int prefix = a->prefix >= 0 ? a->prefix : b->prefix;
    size_t n = a->n < b->n ? a->n : b->n;
    int c;
    if (a->kind != b->kind) return 2;
    if (prefix >= 0 && a->n == b->n)
      return prefix_equal(x, y, (unsigned)prefix) ? 0 : memcmp(x, y, n) < 0 ? -1 : 1;
    c = n ? memcmp(x, y, n) : 0;
    if (c) return c < 0 ? -1 : 1;
    return a->n == b->n ? 0 : a->n < b->n ? -1 : 1;
  }
  if (a->kind == K_INT && b->kind == K_INT) return a->i == b->i ? 0 : a->i < b->i ? -1 : 1;
  {
    double x = a->kind == K_INT ? (double)a->i : a->d, y = b->kind == K_INT ? (double)b->i : b->d;
    return x == y ? 0 : x < y ? -1 : 1;
  }
}

static int holds(int op, int c) {
  if (c == 2) return 0;
  switch (op) {
    case SF_FC_EQ: return c == 0;
    case SF_FC_NE: return c != 0;
    case SF_FC_LT: return c < 0;
    case SF_FC_LE: return c <= 0;
    case SF_FC_GT: return c > 0;
    default: return c >= 0;
  }
}

/* any: some pair holds; all: there are pairs, and every one holds */
static int test_cmp(sf_filter *f, size_t a, size_t b, size_t e, const fnode *nd) {
  size_t i, j;
  for (i = a; i < b; i++)
    for (j = b; j < e; j++)
      if (holds(nd->arg, compare(f, &f->vals[i], &f->vals[j])) != nd->all) return !nd->all;
  return nd->all && a < b && b < e;
}

static int contains(const sf_filter *f, const fval *h, const fval *n) {
  const uint8_t *hp = bytes_of(f, h), *np = bytes_of(f, n);
  size_t i;
  if (h->kind != K_BYTES || n->kind != K_BYTES || n->n > h->n) return 0;
  if (n->n == 0) return 1;
  for (i = 0; i + n->n <= h->n; i++)
    if (hp[i] == np[0] && memcmp(hp + i, np, n->n) == 0) return 1;
  return 0;
}

static int test_contains(sf_filter *f, size_t a, size_t b, size_t e) {
  size_t i, j;
  for (i = a; i < b; i++)
    for (j = b; j < e; j++)
      if (contains(f, &f->vals[i], &f->vals[j])) return 1;
  return 0;
}

static int test_matches(sf_filter *f, size_t a, size_t b, const fnode *nd) {
  size_t i;
  for (i = a; i < b; i++) {
    const fval *v = &f->vals[i];
    if (v->kind == K_BYTES &&
        pcre2_match(nd->re, bytes_of(f, v), v->n, 0, 0, nd->md, NULL) >= 0)
      return 1;
  }
  return 0;
}

static int nonzero(const sf_filter *f, const fval *v) {
  size_t i;
  if (v->kind == K_INT) return v->i != 0;
  if (v->kind == K_FLOAT) return v->d != 0;
  for (i = 0; i < v->n; i++)
    if (bytes_of(f, v)[i]) return 1;
  return 0;
}

static int test(sf_filter *f, const sf_pkt *p, uint32_t ni);

/* is value i one of the set's items? */
static int in_set(sf_filter *f, const sf_pkt *p, const fnode *nd, size_t i) {
  uint32_t k;
  for (k = 0; k < nd->count; k++) {
    const fitem *it = &f->items[nd->first + k];
    size_t base = f->nv, j, mid;
    int ok = 0;
    eval_value(f, p, it->lo);
    mid = f->nv;
    if (it->range) eval_value(f, p, it->hi);
    for (j = base; j < mid && !ok; j++) {
      int lo = compare(f, &f->vals[i], &f->vals[j]);
      if (!it->range) ok = lo == 0;
      else if (lo != 2 && lo >= 0 && f->nv > mid) {
        int hi = compare(f, &f->vals[i], &f->vals[mid]);
        ok = hi != 2 && hi <= 0;
      }
    }
    f->nv = base;
    if (ok) return 1;
  }
  return 0;
}

/* tests whose operands are value lists */
static int test_values(sf_filter *f, const sf_pkt *p, const fnode *nd) {
  size_t a = f->nv, b, e, i;
  int r = 0;
  eval_value(f, p, nd->kid[0]);
  b = f->nv;
  switch (nd->op) {
    case SF_FT_EXISTS: r = b > a; break;
    case SF_FT_NONZERO:
      for (i = a; i < b && !r; i++) r = nonzero(f, &f->vals[i]);
      break;
    case SF_FT_MATCHES: r = test_matches(f, a, b, nd); break;
    case SF_FT_IN:
      for (i = a; i < b && !r; i++) r = in_set(f, p, nd, i);
      break;
    default:  /* CMP, CONTAINS: a right side */
      eval_value(f, p, nd->kid[1]);
      e = f->nv;
      r = nd->op == SF_FT_CMP ? test_cmp(f, a, b, e, nd) : test_contains(f, a, b, e);
  }
  f->nv = a;
  return r;
}

static int test(sf_filter *f, const sf_pkt *p, uint32_t ni) {
  const fnode *nd = &f->nodes[ni];
  size_t nb = f->nb;
  int r;
  switch (nd->op) {
    case SF_FT_TRUE: return 1;
    case SF_FT_FALSE: return 0;
    case SF_FT_NOT: return !test(f, p, nd->kid[0]);
    case SF_FT_AND: return test(f, p, nd->kid[0]) && test(f, p, nd->kid[1]);
    case SF_FT_OR: return test(f, p, nd->kid[0]) || test(f, p, nd->kid[1]);
    case SF_FT_XOR: return test(f, p, nd->kid[0]) != test(f, p, nd->kid[1]);
    default:
      r = test_values(f, p, nd);
      f->nb = nb;
      return r;
  }
}

int sf_filter_run(sf_filter *f, const sf_pkt *p) {
  int r;
  if (f->nodes[f->root].op == SF_FO_FIELDS) return 0;
  f->nv = 0;
  f->nb = 0;
  f->nomem = 0;
  r = test(f, p, f->root);
  return f->nomem ? 0 : r;
}

/* ---- printing (tshark -T fields) ----------------------------------------------------- */

typedef struct outbuf { char *p; size_t n, at; } outbuf;

static void put(outbuf *o, const char *s, size_t k) {
  size_t i;
  for (i = 0; i < k; i++, o->at++)
    if (o->at + 1 < o->n) o->p[o->at] = s[i];
}

/* printf into o; what does not fit buf is cut (hex digits are a byte) */
static void putf(outbuf *o, const char *fmt, ...) {
  char buf[320];
  va_list ap;
  int k;
  va_start(ap, fmt);
  k = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (k > 0) put(o, buf, (size_t)k < sizeof buf ? (size_t)k : sizeof buf - 1);
}

static void put_time(outbuf *o, int64_t ns) {
  int64_t sec = ns / 1000000000, frac = ns % 1000000000;
  if (frac < 0) {
    sec -= 1;
    frac += 1000000000;
  }
  putf(o, "%lld.%09lld", (long long)sec, (long long)frac);
}

/* an address as Wireshark writes it; 0 if the bytes are not one */
static int put_address(outbuf *o, int fmt, const uint8_t *b, size_t n) {
  char buf[64];
  if (fmt == FMT_MAC && n == 6) sf_format_mac(b, buf);
  else if (fmt == FMT_IP4 && n == 4) sf_format_ip4(b, buf);
  else if (fmt == FMT_IP6 && n == 16) sf_format_ip6(b, buf);
  else return 0;
  put(o, buf, strlen(buf));
  return 1;
}

static void put_value(const sf_filter *f, const fval *v, outbuf *o) {
  const uint8_t *b = v->kind == K_BYTES ? bytes_of(f, v) : NULL;
  size_t i;
  switch (v->kind == K_BYTES ? v->fmt : v->kind == K_FLOAT ? FMT_TIME : v->fmt) {
    case FMT_HEX:
      putf(o, "0x%0*llx", v->digits, (unsigned long long)v->i);
      return;
    case FMT_TIME:
      if (v->fmt == FMT_TIME) put_time(o, v->i);
      else putf(o, "%.9f", v->d);
      return;
    case FMT_MAC: case FMT_IP4: case FMT_IP6:
      if (put_address(o, v->fmt, b, v->n)) return;
      break;  /* odd lengths: as bytes */
    case FMT_TEXT: put(o, (const char *)b, v->n); return;
    case FMT_HEXBYTES: break;
    default:
      putf(o, "%lld", (long long)v->i);
      return;
  }
  for (i = 0; i < v->n; i++) putf(o, "%02x", b[i]);
}

size_t sf_filter_format(sf_filter *f, const sf_pkt *p, char *out, size_t n) {
  const fnode *root = &f->nodes[f->root];
  outbuf o = {out, n, 0};
  uint32_t k;
  if (root->op != SF_FO_FIELDS) {
    if (n) out[0] = '\0';
    return 0;
  }
  for (k = 0; k < root->count; k++) {
    size_t i;
    f->nv = 0;
    f->nb = 0;
    f->nomem = 0;
    if (k) put(&o, "\t", 1);
    eval_value(f, p, f->items[root->first + k].lo);
    for (i = 0; i < f->nv && !f->nomem; i++) {
      if (i) put(&o, ",", 1);
      put_value(f, &f->vals[i], &o);
    }
  }
  if (n) out[o.at < n ? o.at : n - 1] = '\0';
  return o.at;
}
