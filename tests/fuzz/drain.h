/*
 * drain.h -- shared by the capture-reader fuzz targets: read every record
 * of an in-memory capture, abort if a record (or its comment) read in
 * place points outside the input, and dissect each from its link type.
 * (A gzip input is inflated into the reader's window: ASan guards those.)
 */
#ifndef SF_FUZZ_DRAIN_H
#define SF_FUZZ_DRAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "io/io.h"

static int inside(const uint8_t *p, size_t len, const uint8_t *base, size_t n) {
  return p >= base && len <= n && p - base <= (ptrdiff_t)(n - len);
}

static void drain(const uint8_t *base, size_t n, int strict) {
  char err[600];
  sf_reader *r = sf_reader_open_mem(base, n, "fuzz", err, sizeof err);
  sf_rec rec;
  if (!r) return;
  sf_reader_set_strict(r, strict);
  while (sf_reader_next(r, &rec) == SF_IO_REC) {
    sf_pkt p;
    int in_place = sf_reader_map(r) != NULL;
    if (in_place && !inside(rec.data, rec.caplen, base, n)) abort();
    if (in_place && rec.comment &&
        !inside((const uint8_t *)rec.comment, rec.comment_len, base, n))
      abort();
    sf_pkt_init(&p);
    p.linktype = rec.linktype;
    if (sf_pkt_borrow(&p, rec.data, rec.caplen) == SF_OK)
      sf_dissect(&p, sf_linktype_proto(p.linktype, p.data, p.len));
    sf_pkt_free(&p);
  }
  sf_reader_close(r);
}

#endif
