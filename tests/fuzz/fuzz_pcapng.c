/*
 * fuzz_pcapng.c -- libFuzzer target for the pcapng reader.
 *
 * Input: a pcapng file.  When it does not start with a section header
 * block, a little-endian one and an Ethernet interface block are put in
 * front, so the fuzzer reaches packet blocks and options quickly.  Every
 * record is checked to lie inside the input (comments too) and is
 * dissected from its link type.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"

static const uint8_t prefix[] = {
  /* SHB: type, length 28, byte-order magic, 1.0, section length -1 */
  0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0,
  /* IDB: Ethernet, snaplen 0, if_tsresol 9 */
  1, 0, 0, 0, 32, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
  9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0, 0};

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
    if (!inside(rec.data, rec.caplen, base, n)) abort();
    if (rec.comment && !inside((const uint8_t *)rec.comment, rec.comment_len, base, n))
      abort();
    sf_pkt_init(&p);
    p.linktype = rec.linktype;
    if (sf_pkt_borrow(&p, rec.data, rec.caplen) == SF_OK)
      sf_dissect(&p, sf_linktype_proto(p.linktype, p.data, p.len));
    sf_pkt_free(&p);
  }
  sf_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *buf;
  sf_init();
  if (size >= 4 && memcmp(data, prefix, 4) == 0) {
    drain(data, size, data[size - 1] & 1);
    return 0;
  }
  if (!(buf = malloc(sizeof prefix + size))) return 0;
  memcpy(buf, prefix, sizeof prefix);
  memcpy(buf + sizeof prefix, data, size);
  drain(buf, sizeof prefix + size, size > 0 && (data[0] & 1));
  free(buf);
  return 0;
}
