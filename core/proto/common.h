/*
 * common.h -- shorthand for writing protocol descriptors.
 */
#ifndef SF_PROTO_COMMON_H
#define SF_PROTO_COMMON_H

#include "../sf.h"

/* name, bit offset, width, default [, flags, enum names, condition] */
#define UINTF(n, off, w, d, fl, en, c) \
  {(n), SF_T_UINT, (fl), (c), 0, (off), (w), (d), NULL, (en), NULL, NULL}
/* an integer named by a dissector table's protocols (ARP's ptype) */
#define UINTT(n, off, w, d, fl, en, table) \
  {(n), SF_T_UINT, (fl), 0, 0, (off), (w), (d), NULL, (en), NULL, (table)}
#define FLAGF(n, off, w, d, names, c) \
  {(n), SF_T_FLAGS, 0, (c), 0, (off), (w), (d), NULL, (names), NULL, NULL}
#define MACF(n, off, d, c) {(n), SF_T_MAC, 0, (c), 0, (off), 48, 0, (d), NULL, NULL, NULL}
#define IP4F(n, off, d, c) {(n), SF_T_IP4, 0, (c), 0, (off), 32, 0, (d), NULL, NULL, NULL}
#define IP6F(n, off, d, c) {(n), SF_T_IP6, 0, (c), 0, (off), 128, 0, (d), NULL, NULL, NULL}
/* variable bytes: pad multiple, codec name, default as hex, condition */
#define BYTESF(n, off, pad, codec, hexdef, c) \
  {(n), SF_T_BYTES, 0, (c), (pad), (off), 0, 0, (hexdef), NULL, (codec), NULL}

/* Wireshark's names (sf_wsfield): WS a field as it is; WSX printed in
   hexadecimal with this many digits; WS2 either of two fields
   ("tcp.port"); WSBIT some bits of a field, shifted down as Wireshark
   does ("ip.flags.df"); WSMUL ours times a factor ("tcp.hdr_len") */
#define WS(n, f) {(n), (f), NULL, 0, 0, 0}
#define WSX(n, f, digits) {(n), (f), NULL, 0, 0, (digits)}
#define WS2(n, f, f2) {(n), (f), (f2), 0, 0, 0}
#define WS2X(n, f, f2, digits) {(n), (f), (f2), 0, 0, (digits)}
#define WSBIT(n, f, mask) {(n), (f), NULL, (mask), 0, 0}
#define WSMUL(n, f, mul) {(n), (f), NULL, 0, (mul), 0}
#define WSEND {NULL, NULL, NULL, 0, 0, 0}

#define NFIELDS(a) ((uint16_t)(sizeof(a) / sizeof((a)[0])))

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* Where a message that chains with others in a stream (MQTT, Modbus/TCP:
   no extent, each message's layers then the next message's) ends: at the
   next layer of its own protocol, else where layer li's bytes end. */
static inline size_t message_end(const sf_pkt *p, int li) {
  int j;
  for (j = li + 1; j < p->nlayers; j++)
    if (p->layers[j].proto == p->layers[li].proto) return p->layers[j].off;
  return p->layers[li].end;
}

/* Is port one of the two of transport layer li (TCP, UDP: ports first)?
   Scapy binds by port alone: its text follows its bindings. */
static inline int on_port(const sf_pkt *p, int li, unsigned port) {
  const uint8_t *h;
  if (li < 0 || p->layers[li].hlen < 4) return 0;
  h = p->data + p->layers[li].off;
  return rd16(h) == port || rd16(h + 2) == port;
}

/* Scapy's class(es) of the bytes after layer li when it binds none of its
   own there: its raw_cls ("_TLSEncryptedContent" on TCP port 443), else
   Raw.  (A layer sflua finds by a heuristic where Scapy binds by port.) */
static inline const char *scapy_payload_class(const sf_pkt *p, int li) {
  const sf_proto *pr = li >= 0 ? sf_proto_get(p->layers[li].proto) : NULL;
  const char *c = pr && pr->scapy && pr->scapy->raw_cls ? pr->scapy->raw_cls(p, li) : NULL;
  return c ? c : "Raw";
}

/* May a layer before layer j keep it in a field (sf_scapy.keeps)?  An
   inner layer (a TLS record's message, an HTTP/2 frame), a Raw or a
   Padding. */
static inline int scapy_keepable(const sf_pkt *p, int j) {
  const sf_proto *pr = sf_proto_get(p->layers[j].proto);
  return (pr->scapy && pr->scapy->inner) || p->layers[j].proto == SF_RAW ||
         p->layers[j].proto == SF_PADDING;
}

/* store a checksum unless the user set that field */
static inline void put_checksum(sf_pkt *p, int li, int fi, uint16_t ck) {
  sf_lput(p, li, fi, ck);
}

/* zero a checksum field before summing, unless the user set it */
static inline int clear_checksum(sf_pkt *p, int li, int fi) {
  if (sf_isset(p, li, fi)) return 0;
  sf_lput(p, li, fi, 0);
  return 1;
}

/* The protocol registered under a name, looked up once (protocols that
   follow another by its own logic: ICMP errors quote an IPv4 datagram). */
static inline int proto_named(int *cache, const char *name) {
  if (*cache <= 0) *cache = sf_proto_find(name) + 1;
  return *cache - 1;
}

#endif
