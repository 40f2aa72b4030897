/*
 * rebuild.h -- shared by the protocol fuzz targets (TLS, SSH, L2TP and
 * PPP): read every field and computed value of every layer, aborting if
 * the index leaves the bytes or a computed text lies about its length;
 * change a copy (a BYTES field gets the input's last bytes, an integer
 * that is not automatic a flipped bit) so that lengths are filled in
 * again; and run the whole round: parse, read, change, rebuild, parse
 * what the rebuild wrote.
 */
#ifndef SF_FUZZ_REBUILD_H
#define SF_FUZZ_REBUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sf.h"

static volatile uint8_t sink;

static void read_layer(const sf_pkt *p, int li) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  const sf_prop *pp;
  char text[96];
  int fi;
  if (p->layers[li].off + p->layers[li].hlen > p->len || p->layers[li].end > p->len)
    abort();  /* the index stays inside the bytes */
  for (fi = 0; fi < pr->nfields; fi++) {
    sf_val v;
    size_t i;
    if (sf_field_get(p, li, fi, &v) != SF_OK) continue;
    for (i = 0; i < v.n; i++) sink ^= v.p[i];
    sink ^= (uint8_t)v.u;
  }
  for (pp = pr->props; pp && pp->name; pp++) {  /* a short buffer: cut text */
    int n = pp->text(p, li, text, sizeof text);
    if (n >= 0 && strlen(text) != ((size_t)n < sizeof text ? (size_t)n : sizeof text - 1))
      abort();
  }
}

static void read_all(const sf_pkt *p) {
  int li;
  for (li = 0; li < p->nlayers; li++) read_layer(p, li);
}

/* Is the layer's protocol one of the target's (its name starts with one
   of the prefixes, a NULL-ended list)? */
static int ours(const sf_proto *pr, const char *const *prefixes) {
  for (; *prefixes; prefixes++)
    if (strncmp(pr->name, *prefixes, strlen(*prefixes)) == 0) return 1;
  return 0;
}

/* The first BYTES field present in one of our layers gets the input's
   last bytes; the first UINT field not automatic is flipped. */
static void change(sf_pkt *q, const uint8_t *data, size_t size, const char *const *prefixes) {
  int li, fi, done_bytes = 0, done_uint = 0;
  for (li = 0; li < q->nlayers && !(done_bytes && done_uint); li++) {
    const sf_proto *pr = sf_proto_get(q->layers[li].proto);
    if (!ours(pr, prefixes)) continue;
    for (fi = 0; fi < pr->nfields; fi++) {
      const sf_field *f = &pr->fields[fi];
      sf_val v;
      if (sf_field_get(q, li, fi, &v) != SF_OK) continue;
      if (f->type == SF_T_BYTES && !done_bytes && !f->codec && !f->bits) {
        v.p = data + size / 2;
        v.n = size - size / 2;
        done_bytes = sf_field_set(q, li, fi, &v) == SF_OK;
        break;  /* the layer is laid out anew: look at the next */
      }
      if (f->type == SF_T_UINT && !done_uint && !(f->flags & SF_FF_AUTO)) {
        v.u ^= 1;
        if (v.u > sf_field_max(f)) v.u = 0;
        done_uint = sf_field_set(q, li, fi, &v) == SF_OK;
        break;
      }
    }
  }
}

/* Parse data from protocol first, read it, change a copy, rebuild it and
   parse what it wrote. */
static void round_trip(int first, const uint8_t *data, size_t size, const char *const *prefixes) {
  sf_pkt p, q, r;
  if (first < 0) abort();
  sf_pkt_init(&p);
  if (sf_pkt_borrow(&p, data, size) != SF_OK) return;
  sf_dissect(&p, first);
  read_all(&p);
  sf_pkt_init(&q);
  if (sf_pkt_copy(&q, &p) == SF_OK) {
    change(&q, data, size, prefixes);
    q.flags |= SF_P_DIRTY;
    if (sf_finalize(&q) == SF_OK) {
      read_all(&q);
      sf_pkt_init(&r);  /* what the rebuild wrote parses again */
      if (sf_pkt_copy(&r, &q) == SF_OK) {
        sf_dissect(&r, first);
        read_all(&r);
      }
      sf_pkt_free(&r);
    }
    if (q.data == data && q.len) abort();  /* the input is never written */
  }
  sf_pkt_free(&q);
  sf_pkt_free(&p);
}

#endif
