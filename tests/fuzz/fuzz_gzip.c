/*
 * fuzz_gzip.c -- libFuzzer target for gzip-compressed captures
 * (core/io/gzip.c: member headers, deflate data, trailers, members one
 * after another, trailing bytes).
 *
 * Input: a gzip file.  When it does not start with the gzip magic, a
 * 10-byte member header is put in front, so the fuzzer spends its time
 * on deflate data and trailers.  The first byte's low bit picks strict or
 * lenient.  The inflated capture's records are read to the end (their
 * bytes live in the reader's window: ASan guards them) and dissected
 * (drain.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drain.h"

static const uint8_t member[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *buf;
  int strict = size > 0 && (data[0] & 1);
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
    drain(data, size, strict);
    return 0;
  }
  if (!(buf = malloc(sizeof member + size))) return 0;
  memcpy(buf, member, sizeof member);
  if (size) memcpy(buf + sizeof member, data, size);
  drain(buf, sizeof member + size, strict);
  free(buf);
  return 0;
}
