/*
 * fuzz_custom.c -- libFuzzer target for the custom-protocol layout engine
 * (core/custom/), over the C-defined protocols of custom_defs.h: every
 * field type, in every position, with conditions, padding and lists.
 *
 * Input: a selector byte (which protocol), then the bytes, parsed from
 * that protocol.  Every field of every layer is read.  A first layer of
 * the protocol is then rebuilt from its values on a fresh layer (fields
 * set in order, the length and count fields last, as Scapy would take
 * them) and must parse back to the same values: the layout from bytes and
 * the layout from values agree.  Last, a copy gets some fields set to
 * values taken from the input and is finalized (lengths, counts,
 * post_build over hostile layouts).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sf.h"
#include "custom_defs.h"

static volatile uint8_t sink;  /* so ASan sees every byte read */

static int ready(void) {
  static int state;  /* 0 not yet, 1 defined, -1 failed */
  char err[256];
  if (state) return state > 0;
  sf_init();
  state = fz_define_all(err, sizeof err) == 0 ? 1 : -1;
  if (state < 0) abort();  /* the definitions are the harness's own */
  return 1;
}

static void check_index(const sf_pkt *p) {
  int li;
  for (li = 0; li < p->nlayers; li++) {
    const sf_layer *l = &p->layers[li];
    if (!sf_proto_get(l->proto) || l->off > p->len || l->end > p->len ||
        l->off + l->hlen > l->end)
      abort();  /* the layer index stays inside the bytes */
  }
}

static void read_all(const sf_pkt *p) {
  int li, fi;
  check_index(p);
  for (li = 0; li < p->nlayers; li++) {
    const sf_proto *pr = sf_proto_get(p->layers[li].proto);
    for (fi = 0; fi < pr->nfields; fi++) {
      size_t off, bits, i;
      sf_val v;
      if (!sf_field_span(p, li, fi, &off, &bits)) continue;
      if (off + bits > (size_t)p->layers[li].hlen * 8) abort();
      if (sf_field_get(p, li, fi, &v) != SF_OK) abort();
      for (i = 0; i < v.n; i++) sink ^= v.p[i];
      sink ^= (uint8_t)v.u;
    }
  }
}

/* A field's value as a setter takes it: signed ones sign-extended. */
static void as_set(const sf_field *f, sf_val *v) {
  if ((f->flags & SF_FF_SIGNED) && f->bits < 64 && ((v->u >> (f->bits - 1)) & 1))
    v->u |= ~UINT64_C(0) << f->bits;
}

static int is_auto(const sf_proto *pr, int fi) {
  return (pr->fields[fi].flags & SF_FF_AUTO) != 0;
}

/* Layer 0's present values, set on a fresh layer: the others first, in
   order, then the length and count fields. */
static void rebuild(sf_pkt *q, const sf_pkt *p) {
  const sf_proto *pr = sf_proto_get(p->layers[0].proto);
  int pass, fi;
  sf_pkt_init(q);
  if (sf_pkt_new_layer(q, pr->id) != SF_OK) abort();
  for (pass = 0; pass < 2; pass++)
    for (fi = 0; fi < pr->nfields; fi++) {
      sf_val v;
      if (is_auto(pr, fi) != pass || sf_field_get(p, 0, fi, &v) != SF_OK) continue;
      as_set(&pr->fields[fi], &v);
      if (sf_field_set(q, 0, fi, &v) != SF_OK) abort();
    }
}

static int same_value(const sf_val *a, const sf_val *b) {
  return a->u == b->u && a->n == b->n && (!a->n || memcmp(a->p, b->p, a->n) == 0);
}

/* The rebuilt header parses back to the values it was built from. */
static void round_trip(const sf_pkt *p) {
  const sf_proto *pr = sf_proto_get(p->layers[0].proto);
  sf_pkt q, r;
  int fi;
  rebuild(&q, p);
  sf_pkt_init(&r);
  sf_pkt_borrow(&r, q.data, q.len);
  r.first = pr->id + 1;
  sf_pkt_parse(&r);
  read_all(&r);
  if (r.layers[0].proto != pr->id) abort();
  for (fi = 0; fi < pr->nfields; fi++) {
    sf_val a, b;
    int ha = sf_field_get(p, 0, fi, &a) == SF_OK, hb = sf_field_get(&r, 0, fi, &b) == SF_OK;
    if (ha != hb || (ha && !same_value(&a, &b))) abort();
  }
  sf_pkt_free(&r);
  sf_pkt_free(&q);
}

/* Some fields of a copy set from the input, then finalized. */
static void mutate(const sf_pkt *p, const uint8_t *d, size_t n) {
  sf_pkt q;
  size_t k;
  sf_pkt_init(&q);
  if (sf_pkt_copy(&q, p) != SF_OK) abort();
  for (k = 0; k + 3 <= n && k < 24; k += 3) {
    int li = d[k] % q.nlayers, fi;
    const sf_proto *pr = sf_proto_get(q.layers[li].proto);
    sf_val v;
    if (!pr->nfields) continue;
    fi = d[k + 1] % pr->nfields;
    if (sf_field_get(&q, li, fi, &v) != SF_OK) continue;
    if (pr->fields[fi].type == SF_T_BYTES) {
      v.p = d + k;  /* a slice of the input */
      v.n = d[k + 2] % 9 <= n - k ? d[k + 2] % 9 : n - k;
    } else if (pr->fields[fi].type <= SF_T_FLAGS) {
      v.u = (uint64_t)d[k + 2] * 0x0101010101010101u & sf_field_max(&pr->fields[fi]);
      if (pr->fields[fi].flags & SF_FF_SIGNED) v.u = d[k + 2] % 8;
    }
    (void)sf_field_set(&q, li, fi, &v);  /* may be refused */
    check_index(&q);
  }
  q.flags |= SF_P_DIRTY;
  sf_finalize(&q);
  read_all(&q);
  sf_pkt_free(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sf_pkt p;
  int which;
  if (size < 1 || !ready()) return 0;
  which = data[0] % FZ_NDEFS;
  sf_pkt_init(&p);
  sf_pkt_borrow(&p, data + 1, size - 1);
  p.first = fz_ids[which] + 1;
  sf_pkt_parse(&p);
  read_all(&p);
  if (p.nlayers && p.layers[0].proto == fz_ids[which]) round_trip(&p);
  if (p.nlayers) mutate(&p, data + 1, size - 1);
  sf_pkt_free(&p);
  return 0;
}
