/*
 * fuzz_l2tp.c -- libFuzzer target for L2TP and PPP: headers with every
 * combination of flags, AVPs, PPP frames with and without HDLC's address
 * and control, LCP and IPCP messages and options, parsed from hostile
 * bytes, every field read, then a copy changed and rebuilt (lengths,
 * offset pads, option and message lengths filled in) and parsed again.
 *
 * Input: one selector byte -- what the bytes start with: L2TP, PPP, HDLC
 * or an Ethernet frame (UDP port 1701) -- then the bytes.  The seeds in
 * corpus/l2tp-* are frames of tests/data/l2tp_xl2tpd.pcap and packets of
 * the Scapy golden set (tests/data/l2tp_random_golden.lua).
 */
#include "rebuild.h"

static const char *const starts[] = {"L2TP", "PPP", "HDLC", "Ether"};
static const char *const prefixes[] = {"L2TP", "PPP", "HDLC", NULL};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  sf_init();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  round_trip(sf_proto_find(starts[data[0] % 4]), data + 1, size - 1, prefixes);
  return 0;
}
