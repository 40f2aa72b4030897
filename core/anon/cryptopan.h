/*
 * cryptopan.h -- prefix-preserving IP address anonymization, exactly as the
 * original Crypto-PAn (Xu, Fan, Ammar, Moon; Georgia Tech reference code).
 *
 * Key: 32 bytes.  The first 16 key AES-128; the pad is AES(key, last 16).
 * Output bit i = input bit i XOR the first bit of AES(the input's first i
 * bits followed by the pad's bits from i on).  IPv4 uses 32 rounds, IPv6
 * 128.  Two addresses sharing a k-bit prefix map to two sharing exactly a
 * k-bit prefix, and the map is a bijection (deanonymize inverts it).
 *
 * An sf_cpan holds caches and is not safe to share between threads.
 */
#ifndef SF_CRYPTOPAN_H
#define SF_CRYPTOPAN_H

#include <stdint.h>

typedef struct sf_cpan sf_cpan;

/* NULL when memory or OpenSSL's AES is not available. */
sf_cpan *sf_cpan_new(const uint8_t key[32]);
void sf_cpan_free(sf_cpan *c);

/* Addresses in network byte order; in and out may be the same buffer. */
void sf_cpan_anon4(sf_cpan *c, const uint8_t in[4], uint8_t out[4]);
void sf_cpan_anon6(sf_cpan *c, const uint8_t in[16], uint8_t out[16]);
void sf_cpan_deanon4(sf_cpan *c, const uint8_t in[4], uint8_t out[4]);
void sf_cpan_deanon6(sf_cpan *c, const uint8_t in[16], uint8_t out[16]);

/* Host-order convenience for IPv4. */
uint32_t sf_cpan_anon_u32(sf_cpan *c, uint32_t addr);

#endif
