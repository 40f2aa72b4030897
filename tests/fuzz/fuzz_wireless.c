/*
 * fuzz_wireless.c -- libFuzzer target for the wireless protocols: radiotap,
 * 802.11 (its elements, RSN's moving fields), 802.15.4 and LLC/SNAP.
 *
 * Input: one selector byte picking how the bytes start (802.11, radiotap,
 * 802.15.4 with and without FCS, LLC, an RSN element), then the bytes.
 * The packet is dissected and every present field read; then, on copies,
 * every field of every layer is set to a value taken from the input (the
 * layouts computed from values: radiotap, 802.15.4, RSN) and the packet
 * finalized (lengths, FCS): the layer index must stay inside the bytes
 * and the packet must parse again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sf.h"

static const char *starts[] = {"Dot11", "RadioTap", "Dot15d4FCS", "Dot15d4", "LLC",
                               "Dot11EltRSN", "Dot11FCS", "Dot11Beacon"};
#define NSTARTS (sizeof starts / sizeof starts[0])

static volatile uint8_t sink;

static void check_index(const sf_pkt *p) {
  int li;
  for (li = 0; li < p->nlayers; li++) {
    const sf_layer *l = &p->layers[li];
    if (!sf_proto_get(l->proto) || l->off > p->len || l->end > p->len ||
        l->off + l->hlen > p->len || l->off + l->hlen > l->end)
      abort();
  }
}

static void read_all_fields(const sf_pkt *p) {
  int li, fi;
  check_index(p);
  for (li = 0; li < p->nlayers; li++) {
    const sf_proto *pr = sf_proto_get(p->layers[li].proto);
    for (fi = 0; fi < pr->nfields; fi++) {
      sf_val v;
      size_t i;
      if (sf_field_get(p, li, fi, &v) != SF_OK) continue;
      for (i = 0; i < v.n; i++) sink ^= v.p[i];
      sink ^= (uint8_t)v.u;
    }
  }
}

/* Field fi of layer li set from the input: integers masked to the field,
   bytes a slice of the input. */
static void set_from(sf_pkt *q, int li, int fi, const uint8_t *d, size_t n, size_t *at) {
  const sf_field *f = &sf_proto_get(q->layers[li].proto)->fields[fi];
  uint8_t mac[16] = {0};
  sf_val v = {0, NULL, 0};
  size_t i;
  if (f->type == SF_T_BYTES) {
    size_t k = n ? d[*at % n] % 24 : 0;
    v.p = n ? d : mac;
    v.n = k <= n ? k : n;
  } else if (f->type == SF_T_UINT || f->type == SF_T_FLAGS) {
    for (i = 0; i < 8; i++) v.u = v.u << 8 | (n ? d[(*at + i) % n] : 0);
    v.u &= sf_field_max(f);
    if (f->flags & SF_FF_SIGNED) v.u = 0;
  } else {
    v.p = mac;
    v.n = f->bits / 8u;
  }
  *at += 3;
  (void)sf_field_set(q, li, fi, &v);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  sf_init();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sf_pkt p, q;
  int first, li, fi;
  size_t at = 0;
  if (size < 1) return 0;
  first = sf_proto_find(starts[data[0] % NSTARTS]);
  data++;
  size--;
  if (first < 0) abort();
  sf_pkt_init(&p);
  if (sf_pkt_borrow(&p, data, size) != SF_OK) return 0;
  sf_dissect(&p, first);
  read_all_fields(&p);
  for (li = 0; li < p.nlayers && li < 8; li++) {
    const sf_proto *pr = sf_proto_get(p.layers[li].proto);
    for (fi = 0; fi < pr->nfields; fi++) {
      sf_pkt_init(&q);
      if (sf_pkt_copy(&q, &p) != SF_OK) continue;
      set_from(&q, li, fi, data, size, &at);
      check_index(&q);
      q.flags |= SF_P_DIRTY;
      sf_finalize(&q);
      read_all_fields(&q);
      if (q.data == data && q.len) abort();  /* the input is never written */
      sf_dissect(&q, first);                   /* and what was built parses */
      read_all_fields(&q);
      sf_pkt_free(&q);
    }
  }
  sf_pkt_free(&p);
  return 0;
}
