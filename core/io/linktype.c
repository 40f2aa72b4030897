/*
 * linktype.c -- which link type a packet's bytes are, for writers: the one
 * place that maps a first protocol to a link type (the other way round
 * is sf_linktype_proto in dissect.c).
 *
 * Protocols are named, never referred to by id constants: the registry
 * assigns ids, and protocols that are not registered (yet) simply do not
 * match.  Raw IP is written as 101 (LINKTYPE_RAW) for both versions, not
 * as 228/229: one pcap file can then hold IPv4 and IPv6 packets together,
 * and every reader (tcpdump, libpcap, Wireshark, Scapy) knows 101; our
 * reader picks the version from the first nibble, as they do.
 */
#include <string.h>

#include "iopriv.h"

static const struct {
  const char *proto;    /* sf_proto.name */
  int32_t linktype;
} first_layer[] = {
  {"Ether", 1},
  {"IP", 101},
  {"IPv6", 101},
  {"CookedLinux", 113},
  {"CookedLinuxV2", 276},
  {"Loopback", 0},
  {"LoopbackBE", 108},
  {"Dot11", 105},
  {"RadioTap", 127},
  {"Dot15d4FCS", 195},
  {"Dot15d4", 230},
};

/* The link type that carries proto first, or -1. */
static int32_t linktype_for(int proto) {
  const sf_proto *pr = sf_proto_get(proto);
  size_t i;
  if (!pr) return -1;
  for (i = 0; i < sizeof first_layer / sizeof first_layer[0]; i++)
    if (strcmp(pr->name, first_layer[i].proto) == 0) return first_layer[i].linktype;
  return -1;
}

/* The packet's first protocol, or -1 when it is dissected from its link
   type and not dissected yet (then that link type is right by definition). */
static int first_proto(const sf_pkt *p) {
  if ((p->flags & SF_P_PARSED) && p->nlayers > 0) return p->layers[0].proto;
  if (p->first > 0) return p->first - 1;
  return -1;
}

int32_t sf_linktype_of(const sf_pkt *p) {
  int first = first_proto(p);
  int32_t lt;
  if (first < 0 || sf_linktype_proto(p->linktype, p->data, p->len) == first)
    return p->linktype;  /* read with it, or built to match it */
  lt = linktype_for(first);
  return lt >= 0 ? lt : p->linktype;
}
