/*
 * fuzz_ssh.c -- libFuzzer target for SSH: version lines, binary packets,
 * KEXINIT name-lists and (EC)DH messages parsed from hostile bytes, every
 * field and hassh read, then a copy changed and rebuilt (packet and
 * padding lengths, name-list lengths filled in) and parsed again.
 *
 * Input: one selector byte -- what the bytes start with: a version line,
 * a binary packet (what a stream hands over), or an Ethernet frame (TCP
 * port 22, or a version line on any port) -- then the bytes.  The seeds
 * in corpus/ssh-* are frames of tests/data/ssh_openssh.pcap.
 */
#include "rebuild.h"

static const char *const starts[] = {"SSHVersion", "SSH", "Ether"};
static const char *const prefixes[] = {"SSH", NULL};

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
