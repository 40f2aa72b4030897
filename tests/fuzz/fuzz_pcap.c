/*
 * fuzz_pcap.c -- libFuzzer target for the classic pcap reader.
 *
 * Input: a pcap file.  When it does not start with a pcap magic, a
 * little-endian microsecond file header (snaplen 65535, Ethernet) is put
 * in front, so the fuzzer spends its time on records.  The first byte's
 * low bit picks strict or lenient snaplen checks.  Every record is
 * checked to lie inside the input and is dissected from its link type.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drain.h"

static const uint8_t header[24] = {
  0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0xff, 0xff, 0, 0, 1, 0, 0, 0};

static int is_pcap(const uint8_t *d, size_t n) {
  static const uint8_t magics[][4] = {
    {0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4}, {0x4d, 0x3c, 0xb2, 0xa1},
    {0xa1, 0xb2, 0x3c, 0x4d}, {0x34, 0xcd, 0xb2, 0xa1}, {0xa1, 0xb2, 0xcd, 0x34}};
  size_t i;
  for (i = 0; n >= 4 && i < sizeof magics / sizeof magics[0]; i++)
    if (memcmp(d, magics[i], 4) == 0) return 1;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *buf;
  sf_init();
  if (is_pcap(data, size)) {
    drain(data, size, size > 0 && (data[size - 1] & 1));
    return 0;
  }
  if (!(buf = malloc(sizeof header + size))) return 0;
  memcpy(buf, header, sizeof header);
  memcpy(buf + sizeof header, data, size);
  drain(buf, sizeof header + size, size > 0 && (data[0] & 1));
  free(buf);
  return 0;
}
