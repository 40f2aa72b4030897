/*
 * anonpriv.h -- the anonymizer's state, shared by anon.c, anon_pkt.c and
 * anon_pcap.c.  Not part of the API.
 */
#ifndef SF_ANONPRIV_H
#define SF_ANONPRIV_H

#include <openssl/evp.h>

#include "anon.h"
#include "cryptopan.h"

#define SF_ANON_V4BITS 12
#define SF_ANON_MACS 1024
#define SF_ANON_SEQS 8192

typedef struct { uint32_t in, out, ok; } sf_anon_v4cache;
typedef struct { uint8_t in[6], out[6], ok; } sf_anon_maccache;
typedef struct { uint8_t key[36], n, ok; uint32_t off; } sf_anon_seqcache;

/* per protocol, its MAC/IPv4/IPv6 fields, found on first use (custom
   protocols may register after the anonymizer is made) */
typedef struct sf_anon_fields {
  uint8_t addr_known[SF_MAX_PROTOS], naddr[SF_MAX_PROTOS];
  uint8_t addr[SF_MAX_PROTOS][8];
} sf_anon_fields;

/* the protocols of sf_anon_fast's shapes, found by their tables */
enum { FAST_ETHER, FAST_VLAN, FAST_IP4, FAST_IP6, FAST_TCP, FAST_UDP, FAST_N };

struct sf_anon {
  sf_anon_policy pol;
  sf_cpan *cpan;               /* ip_mode crypto_pan */
  EVP_CIPHER_CTX *perm;        /* ip_mode permute */
  uint16_t ports[65536];       /* the port map, identity where preserved */
  int64_t epoch, first;       /* timestamps: the shift */
  int64_t prev, last;          /* the previous packet's, in and out */
  int have_first;
  uint64_t count, jitter_seed, clamped;
  int keep_time;               /* times pass unchanged: another anonymizer
                                  gives them, in capture order (anon_pcap.c) */
  sf_anon_fields f;
  /* HMAC-SHA-256 under the salt, keyed once: the states after the
     inner and outer pads, copied for each message; NULL: HMAC() */
  EVP_MD *sha256;
  EVP_MD_CTX *hm_in, *hm_out, *hm_tmp;
  sf_anon_v4cache v4perm[1 << SF_ANON_V4BITS];
  sf_anon_maccache macs[SF_ANON_MACS];
  sf_anon_seqcache seqs[SF_ANON_SEQS];
  /* sf_anon_fast: the type numbers sf_finalize would write (registry
     bindings, read once per capture); 0 where the fast path is off */
  uint16_t fast_eth[2][2];  /* [Ethernet, 802.1Q][IPv4, IPv6] */
  uint16_t fast_vlan;       /* Ethernet's type for 802.1Q */
  uint8_t fast_ip[2][2];  /* [IPv4, IPv6][TCP, UDP] */
  uint8_t fast_nonzero[2];  /* [TCP, UDP]: a computed 0 is sent as 0xffff */
  uint8_t fast_pseudo[2];   /* [TCP, UDP]: the pseudo-header's protocol */
  int fast_id[FAST_N];
  int fast_on;
};

void sf_anon_hmac(const sf_anon *a, const char *label, const uint8_t *d,
                  size_t n, uint8_t out[32]);
uint64_t sf_anon_mix(uint64_t x);
int sf_anon_fields_init(sf_anon *a);  /* anon_pkt.c */

/* anon_pkt.c: sf_anon_packet for the common shapes (Ethernet / IPv4 or
   IPv6 / TCP or UDP / payload / padding, nothing quoted or cut), with the
   same output, written straight to out (cap bytes) without touching p.
   sf_anon_fast_init reads the registry's bindings: call it when they may
   have changed.  1: done (*olen bytes, *wirelen, *time_ns set); 0: not a
   shape it handles, nothing done. */
void sf_anon_fast_init(sf_anon *a);
int sf_anon_fast(sf_anon *a, const sf_pkt *p, uint8_t *out, size_t cap,
                 size_t *olen, uint32_t *wirelen, int64_t *time_ns);

#endif
