/*
 * linktype.c -- which link type a packet's bytes are, for writers.
 *
 * The registry's "linktype" table says it: each link-layer protocol (and
 * raw IP) takes its place there, and the entry builders write is the one
 * a packet starting with that protocol is written with (sf_table_value),
 * as sf_linktype_proto reads the table the other way.  So no protocol is
 * named here, and a protocol registered later (802.11, 802.15.4) gets its
 * link type from its own places.  Raw IPv4 and IPv6 both build 101
 * (LINKTYPE_RAW), not 228/229: one pcap file then holds both, and every
 * reader (tcpdump, libpcap, Wireshark, Scapy) knows 101; readers pick the
 * version from the first nibble.
 */
#include "iopriv.h"

/* The link type that carries proto first, or -1. */
static int32_t linktype_for(int proto) {
  int tab = sf_table_find("linktype");
  uint64_t v;
  if (tab < 0 || !sf_table_value(tab, proto, &v)) return -1;
  return (int32_t)v;
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
