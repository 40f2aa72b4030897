/*
 * fuzz_dissect.c -- libFuzzer target for the dissector entry point.
 *
 * Input: one selector byte picking a link type, then the packet bytes.
 * The packet is dissected, every present field of every layer is read,
 * then a copy is changed (one UINT field per layer) and finalized, which
 * runs every protocol's fixup (lengths, checksums) over hostile layouts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sf.h"

static const int linktypes[] = {1, 101, 228, 229, 0, 113, 127};
#define NLINKTYPES (sizeof linktypes / sizeof linktypes[0])

/* Touch the bytes a getter hands out, so ASan sees any overread. */
static volatile uint8_t sink;

static void read_all_fields(const sf_pkt *p) {
  int li, fi;
  for (li = 0; li < p->nlayers; li++) {
    const sf_layer *l = &p->layers[li];
    const sf_proto *pr = sf_proto_get(l->proto);
    if (!pr) abort();
    if (l->off > p->len || l->end > p->len || l->off + l->hlen > p->len)
      abort();  /* the layer index must stay inside the bytes */
    for (fi = 0; fi < pr->nfields; fi++) {
      sf_val v;
      size_t i;
      (void)sf_field_resolve(p, li, fi);
      if (!sf_field_present(p, li, fi)) continue;
      if (sf_field_get(p, li, fi, &v) != SF_OK) continue;
      for (i = 0; i < v.n; i++) sink ^= v.p[i];
      sink ^= (uint8_t)v.u;
      if (pr->fields[fi].type == SF_T_UINT) (void)sf_enum_name(&pr->fields[fi], v.u);
    }
  }
}

/* a copy sharing src's bytes; dst starts as a fresh packet */
static int copy_pkt(sf_pkt *dst, const sf_pkt *src) {
  sf_pkt_init(dst);
  return sf_pkt_copy(dst, src);
}

/* First writable UINT field of layer li that is not an auto field. */
static int pick_uint_field(const sf_pkt *p, int li) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  int fi;
  for (fi = 0; fi < pr->nfields; fi++) {
    const sf_field *f = &pr->fields[fi];
    if (f->type == SF_T_UINT && !(f->flags & (SF_FF_AUTO | SF_FF_SHAPE)) &&
        sf_field_present(p, li, fi))
      return fi;
  }
  return -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  sf_init();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sf_pkt p, q;
  int lt, li, first;
  if (size < 1) return 0;
  lt = linktypes[data[0] % NLINKTYPES];
  data++;
  size--;

  sf_pkt_init(&p);
  p.linktype = lt;
  if (sf_pkt_borrow(&p, data, size) != SF_OK) return 0;
  first = sf_linktype_proto(lt, data, size);
  sf_dissect(&p, first);
  read_all_fields(&p);

  /* dissecting twice gives the same index */
  if (copy_pkt(&q, &p) == SF_OK) {
    sf_dissect(&q, first);
    if (q.nlayers != p.nlayers ||
        memcmp(q.layers, p.layers, p.nlayers * sizeof(sf_layer)) != 0)
      abort();
    sf_pkt_free(&q);
  }

  /* change a copy (copy-on-write), then recompute the automatic fields */
  if (copy_pkt(&q, &p) == SF_OK) {
    for (li = 0; li < q.nlayers; li++) {
      int fi = pick_uint_field(&q, li);
      if (fi >= 0) {
        sf_val v;
        if (sf_field_get(&q, li, fi, &v) == SF_OK) {
          v.u ^= 1;
          if (v.u > sf_field_max(&sf_proto_get(q.layers[li].proto)->fields[fi]))
            v.u = 0;
          (void)sf_field_set(&q, li, fi, &v);
        }
        break;
      }
    }
    q.flags |= SF_P_DIRTY;
    sf_finalize(&q);
    read_all_fields(&q);
    /* the borrowed input itself is never written */
    if (q.data == data && q.len) abort();
    sf_pkt_free(&q);
  }
  sf_pkt_free(&p);
  return 0;
}
