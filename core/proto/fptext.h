/*
 * fptext.h -- the text of computed values (sf_prop) and the hexadecimal
 * digests of fingerprints (TLS's JA3, JA3S and JA4, SSH's hassh): one
 * writer for the protocols that compute such text.
 */
#ifndef SF_PROTO_FPTEXT_H
#define SF_PROTO_FPTEXT_H

#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

/* Text into a caller's buffer, counting what would not fit (snprintf's
   contract for computed values). */
typedef struct text {
  char *out;
  size_t cap, len;
} text;

static inline void put(text *t, const void *s, size_t n) {
  const char *c = s;
  size_t i;
  for (i = 0; i < n; i++, t->len++)
    if (t->len + 1 < t->cap) t->out[t->len] = c[i];
  if (t->cap) t->out[t->len < t->cap ? t->len : t->cap - 1] = 0;
}

static inline void putf(text *t, const char *fmt, unsigned v) {
  char b[16];
  int n = snprintf(b, sizeof b, fmt, v);
  put(t, b, n > 0 ? (size_t)n : 0);
}

/* Hex digest of d (n bytes) by md, its first `digits` digits, into t;
   0 when the digest fails. */
static inline int put_digest(text *t, const EVP_MD *md, const void *d, size_t n,
                             size_t digits) {
  unsigned char h[EVP_MAX_MD_SIZE];
  unsigned hl = 0, i;
  if (!EVP_Digest(d, n, h, &hl, md, NULL)) return 0;
  for (i = 0; i < hl && 2 * i < digits; i++) putf(t, "%02x", h[i]);
  return 1;
}

/* The text f writes of ud, of any length, hashed by md into o: f writes
   into a buffer on the stack, and again into one of the length it said
   when that was short.  The digits written, or -1. */
static inline int put_hashed(text *o, int (*f)(const void *ud, text *t), const void *ud,
                             const EVP_MD *md, size_t digits) {
  char small[1024], *s = small;
  text t = {small, sizeof small, 0};
  int n = f(ud, &t), ok;
  if (n < 0) return -1;
  if ((size_t)n >= sizeof small) {
    if (!(s = malloc((size_t)n + 1))) return -1;
    t.out = s;
    t.cap = (size_t)n + 1;
    t.len = 0;
    f(ud, &t);
  }
  ok = put_digest(o, md, s, (size_t)n, digits);
  if (s != small) free(s);
  return ok ? (int)o->len : -1;
}

#endif
