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

#include "drain.h"

static const uint8_t prefix[] = {
  /* SHB: type, length 28, byte-order magic, 1.0, section length -1 */
  0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0,
  /* IDB: Ethernet, snaplen 0, if_tsresol 9 */
  1, 0, 0, 0, 32, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
  9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0, 0};

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
