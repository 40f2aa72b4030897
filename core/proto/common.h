/*
 * common.h -- shorthand for writing protocol descriptors.
 */
#ifndef SF_PROTO_COMMON_H
#define SF_PROTO_COMMON_H

#include "../sf.h"

/* name, bit offset, width, default [, flags, enum names, condition] */
#define UINTF(n, off, w, d, fl, en, c) \
  {(n), SF_T_UINT, (fl), (c), 0, (off), (w), (d), NULL, (en), NULL}
#define FLAGF(n, off, w, d, names, c) \
  {(n), SF_T_FLAGS, 0, (c), 0, (off), (w), (d), NULL, (names), NULL}
#define MACF(n, off, d, c) {(n), SF_T_MAC, 0, (c), 0, (off), 48, 0, (d), NULL, NULL}
#define IP4F(n, off, d, c) {(n), SF_T_IP4, 0, (c), 0, (off), 32, 0, (d), NULL, NULL}
#define IP6F(n, off, d, c) {(n), SF_T_IP6, 0, (c), 0, (off), 128, 0, (d), NULL, NULL}
/* variable bytes: pad multiple, codec name, default as hex, condition */
#define BYTESF(n, off, pad, codec, hexdef, c) \
  {(n), SF_T_BYTES, 0, (c), (pad), (off), 0, 0, (hexdef), NULL, (codec)}

#define NFIELDS(a) ((uint16_t)(sizeof(a) / sizeof((a)[0])))

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

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

/* per-family registration, called by sf_init() */
void sf_register_raw(void);
void sf_register_ether(void);
void sf_register_ipv4(void);
void sf_register_ipv6(void);
void sf_register_tcp(void);
void sf_register_udp(void);
void sf_register_icmp(void);
void sf_register_icmpv6(void);
void sf_register_sll(void);
void sf_register_loopback(void);

#endif
