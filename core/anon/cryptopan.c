/*
 * cryptopan.c -- Crypto-PAn, bit-exact with the original reference code.
 *
 * The reference encrypts one block per address bit, each block being the
 * address's first i bits followed by the pad's remaining bits.  Those
 * blocks do not depend on each other's output, so we build them all and
 * hand them to OpenSSL as one ECB call, which pipelines AES-NI: a distinct
 * address costs one call, not 32 (or 128).
 *
 * Caches: the result for the first 16 bits of an IPv4 address (all 65536
 * of them, filled lazily) and for the first 64 bits of an IPv6 address
 * (direct-mapped), plus direct-mapped caches of whole addresses, because
 * real traffic repeats a few addresses most of the time.
 */
#include "cryptopan.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define V4_CACHE 4096   /* whole IPv4 addresses */
#define V6_CACHE 1024   /* whole IPv6 addresses */
#define V6_PREFIX 1024  /* IPv6 /64 prefixes */
#define TOP_VALID 0x10000u

typedef struct { uint32_t in, out, ok; } v4_entry;
typedef struct { uint64_t hi, lo, ohi, olo; int ok; } v6_entry;
typedef struct { uint64_t in, out; int ok; } v6_prefix;

struct sf_cpan {
  EVP_CIPHER_CTX *ctx;
  uint64_t pad_hi, pad_lo;  /* the pad, a 128-bit big-endian number */
  uint32_t *v4top;          /* [65536]: TOP_VALID | anonymized top 16 bits */
  v4_entry v4[V4_CACHE];
  v6_entry v6[V6_CACHE];
  v6_prefix v6p[V6_PREFIX];
};

/* ---- 128-bit helpers ------------------------------------------------ */

/* Big-endian 64-bit loads and stores; compilers turn these into one
   load or store and a byte swap. */
static uint64_t get64(const uint8_t *b) {
  return (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 | (uint64_t)b[2] << 40 |
         (uint64_t)b[3] << 32 | (uint64_t)b[4] << 24 | (uint64_t)b[5] << 16 |
         (uint64_t)b[6] << 8 | b[7];
}

static void put64(uint8_t *b, uint64_t v) {
  b[0] = (uint8_t)(v >> 56);
  b[1] = (uint8_t)(v >> 48);
  b[2] = (uint8_t)(v >> 40);
  b[3] = (uint8_t)(v >> 32);
  b[4] = (uint8_t)(v >> 24);
  b[5] = (uint8_t)(v >> 16);
  b[6] = (uint8_t)(v >> 8);
  b[7] = (uint8_t)v;
}

/* The mask of the first i bits (0..64) of a 64-bit word. */
static uint64_t top_mask(int i) {
  return i <= 0 ? 0 : i >= 64 ? UINT64_MAX : UINT64_MAX << (64 - i);
}

/* Block i: the first i bits of (hi, lo), then the pad's bits. */
static void make_block(const sf_cpan *c, uint64_t hi, uint64_t lo, int i,
                       uint8_t *blk) {
  uint64_t mh = top_mask(i), ml = top_mask(i - 64);
  put64(blk, (hi & mh) | (c->pad_hi & ~mh));
  put64(blk + 8, (lo & ml) | (c->pad_lo & ~ml));
}

static void aes_blocks(sf_cpan *c, const uint8_t *in, uint8_t *out, int n) {
  int outl = 0;
  if (!EVP_EncryptUpdate(c->ctx, out, &outl, in, n * 16))
    memset(out, 0, (size_t)n * 16);  /* cannot fail for ECB without padding */
}

/* The one-time pad for bits [from, to) of (hi, lo), as a 128-bit mask. */
static void otp(sf_cpan *c, uint64_t hi, uint64_t lo, int from, int to,
                uint64_t *mhi, uint64_t *mlo) {
  uint8_t in[128 * 16], out[128 * 16];
  int i, n = to - from;
  *mhi = *mlo = 0;
  if (n <= 0) return;
  for (i = 0; i < n; i++) make_block(c, hi, lo, from + i, in + 16 * i);
  aes_blocks(c, in, out, n);
  for (i = 0; i < n; i++) {
    uint64_t bit = out[16 * i] >> 7;
    int pos = from + i;
    if (pos < 64) *mhi |= bit << (63 - pos);
    else *mlo |= bit << (127 - pos);
  }
}

/* ---- life cycle --------------------------------------------------------- */

sf_cpan *sf_cpan_new(const uint8_t key[32]) {
  sf_cpan *c = calloc(1, sizeof *c);
  uint8_t pad[16];
  if (!c) return NULL;
  c->ctx = EVP_CIPHER_CTX_new();
  if (!c->ctx || !EVP_EncryptInit_ex(c->ctx, EVP_aes_128_ecb(), NULL, key, NULL)) {
    sf_cpan_free(c);
    return NULL;
  }
  EVP_CIPHER_CTX_set_padding(c->ctx, 0);
  aes_blocks(c, key + 16, pad, 1);  /* the reference's m_pad */
  c->pad_hi = get64(pad);
  c->pad_lo = get64(pad + 8);
  return c;
}

void sf_cpan_free(sf_cpan *c) {
  if (!c) return;
  EVP_CIPHER_CTX_free(c->ctx);
  free(c->v4top);
  free(c);
}

/* ---- IPv4 ------------------------------------------------------------------ */

/* The anonymized first 16 bits of a, from the lazily filled table. */
static uint32_t top16(sf_cpan *c, uint32_t a) {
  uint32_t t = a >> 16;
  uint64_t mh, ml;
  if (!c->v4top && !(c->v4top = calloc(65536, sizeof *c->v4top))) {
    otp(c, (uint64_t)a << 32, 0, 0, 16, &mh, &ml);  /* no memory: no cache */
    return (uint32_t)(mh >> 48);
  }
  if (!(c->v4top[t] & TOP_VALID)) {
    otp(c, (uint64_t)a << 32, 0, 0, 16, &mh, &ml);
    c->v4top[t] = TOP_VALID | (uint32_t)(mh >> 48);
  }
  return c->v4top[t] & 0xffff;
}

uint32_t sf_cpan_anon_u32(sf_cpan *c, uint32_t a) {
  v4_entry *e = &c->v4[(a * 0x9E3779B1u) >> 20];  /* 12 bits: V4_CACHE */
  uint64_t mh, ml;
  uint32_t r;
  if (e->ok && e->in == a) return e->out;
  otp(c, (uint64_t)a << 32, 0, 16, 32, &mh, &ml);
  r = a ^ (top16(c, a) << 16 | (uint32_t)(mh >> 32));
  e->in = a;
  e->out = r;
  e->ok = 1;
  return r;
}

void sf_cpan_anon4(sf_cpan *c, const uint8_t in[4], uint8_t out[4]) {
  uint32_t a = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 |
               (uint32_t)in[2] << 8 | in[3];
  uint32_t r = sf_cpan_anon_u32(c, a);
  out[0] = (uint8_t)(r >> 24);
  out[1] = (uint8_t)(r >> 16);
  out[2] = (uint8_t)(r >> 8);
  out[3] = (uint8_t)r;
}

/* ---- IPv6 ------------------------------------------------------------------ */

static uint32_t hash64(uint64_t v) {
  v ^= v >> 33;
  v *= UINT64_C(0xff51afd7ed558ccd);
  v ^= v >> 33;
  return (uint32_t)v;
}

/* The anonymization mask of the first 64 bits. */
static uint64_t prefix64(sf_cpan *c, uint64_t hi) {
  v6_prefix *e = &c->v6p[hash64(hi) % V6_PREFIX];
  uint64_t mh, ml;
  if (e->ok && e->in == hi) return e->out;
  otp(c, hi, 0, 0, 64, &mh, &ml);
  e->in = hi;
  e->out = mh;
  e->ok = 1;
  return mh;
}

void sf_cpan_anon6(sf_cpan *c, const uint8_t in[16], uint8_t out[16]) {
  uint64_t hi = get64(in), lo = get64(in + 8), mh, ml;
  v6_entry *e = &c->v6[hash64(hi ^ (lo * 0x9E3779B97F4A7C15u)) % V6_CACHE];
  if (!(e->ok && e->hi == hi && e->lo == lo)) {
    otp(c, hi, lo, 64, 128, &mh, &ml);
    e->ohi = hi ^ prefix64(c, hi);
    e->olo = lo ^ ml;
    e->hi = hi;
    e->lo = lo;
    e->ok = 1;
  }
  put64(out, e->ohi);
  put64(out + 8, e->olo);
}

/* ---- inverse ----------------------------------------------------------------- */

/* Bit by bit: bit i of the original decides block i + 1, so no batching. */
static void deanon(sf_cpan *c, uint64_t *hi, uint64_t *lo, int nbits) {
  uint64_t oh = 0, ol = 0;
  uint8_t blk[16], out[16];
  int i;
  for (i = 0; i < nbits; i++) {
    uint64_t bit;
    make_block(c, oh, ol, i, blk);
    aes_blocks(c, blk, out, 1);
    bit = out[0] >> 7;
    if (i < 64) oh |= (((*hi >> (63 - i)) & 1) ^ bit) << (63 - i);
    else ol |= (((*lo >> (127 - i)) & 1) ^ bit) << (127 - i);
  }
  *hi = oh;
  *lo = ol;
}

void sf_cpan_deanon4(sf_cpan *c, const uint8_t in[4], uint8_t out[4]) {
  uint8_t b[8] = {in[0], in[1], in[2], in[3], 0, 0, 0, 0};
  uint64_t hi = get64(b), lo = 0;
  deanon(c, &hi, &lo, 32);
  put64(b, hi);
  memcpy(out, b, 4);
}

void sf_cpan_deanon6(sf_cpan *c, const uint8_t in[16], uint8_t out[16]) {
  uint64_t hi = get64(in), lo = get64(in + 8);
  deanon(c, &hi, &lo, 128);
  put64(out, hi);
  put64(out + 8, lo);
}
