/*
 * fuzz_tls.c -- libFuzzer target for TLS: records, messages and
 * extensions parsed from hostile bytes, every field and every computed
 * value (JA3, JA3S, JA4, certificates' names through OpenSSL) read, then a
 * copy changed and rebuilt (lengths of records, hellos and extensions
 * filled in) and parsed again.
 *
 * Input: one selector byte -- what the bytes start with: a record (the
 * stream chunk flows hand over), a bare ClientHello (QUIC's CRYPTO data),
 * or an Ethernet frame (port 443 or the record heuristic) -- then the
 * bytes.  The seeds in corpus/tls-* are RFC 8448's records and Scapy's
 * captures; the dissector target reaches TLS through TCP as well.
 */
#include "rebuild.h"

static const char *const starts[] = {"TLS", "TLSClientHello", "Ether"};
static const char *const prefixes[] = {"TLS", NULL};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  sf_init();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  round_trip(sf_proto_find(starts[data[0] % 3]), data + 1, size - 1, prefixes);
  return 0;
}
