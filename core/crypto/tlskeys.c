/*
 * tlskeys.c -- key logs, TLS key derivation and AEAD record opening.
 *
 * A key log (NSS's format) is read into an array of entries sorted by
 * client random, one per connection however many lines name it.  HKDF
 * (RFC 5869) is HMAC over OpenSSL's SHA-256 and SHA-384, its contexts kept
 * per thread: QUIC derives five keys a packet, and OpenSSL's KDF objects
 * cost more than the hashing.  The TLS 1.2 PRF is OpenSSL's "TLS1-PRF";
 * the ciphers are its EVP AEADs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "tlsdec.h"
#include "../sf.h"

/* ---- key logs ----------------------------------------------------------------- */

struct sf_keylog {
  sf_keylog_entry *e;
  size_t n, cap;
};

static const struct { const char *label; int which; int len; } LABELS[] = {
  {"CLIENT_RANDOM", SF_KL_MASTER, 48},
  {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", SF_KL_CHS, 0},
  {"SERVER_HANDSHAKE_TRAFFIC_SECRET", SF_KL_SHS, 0},
  {"CLIENT_TRAFFIC_SECRET_0", SF_KL_CAP, 0},
  {"SERVER_TRAFFIC_SECRET_0", SF_KL_SAP, 0},
};

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* The hex word at *p (up to end or a blank) into out (at most max bytes):
   its byte count, or -1 when it is no even-length hex of that size. */
static int hex_word(const char **p, const char *end, uint8_t *out, int max) {
  const char *s = *p;
  int n = 0;
  while (s < end && *s != ' ' && *s != '\t' && *s != '\r') {
    int hi = hexval((unsigned char)s[0]), lo = s + 1 < end ? hexval((unsigned char)s[1]) : -1;
    if (hi < 0 || lo < 0 || n == max) return -1;
    out[n++] = (uint8_t)(hi << 4 | lo);
    s += 2;
  }
  *p = s;
  return n;
}

static void skip_blanks(const char **p, const char *end) {
  while (*p < end && (**p == ' ' || **p == '\t')) (*p)++;
}

static int add_entry(sf_keylog *kl, const sf_keylog_entry *e) {
  if (kl->n == kl->cap) {
    size_t cap = kl->cap ? kl->cap * 2 : 16;
    sf_keylog_entry *ne = realloc(kl->e, cap * sizeof *ne);
    if (!ne) return SF_E_NOMEM;
    kl->e = ne;
    kl->cap = cap;
  }
  kl->e[kl->n++] = *e;
  return SF_OK;
}

/* One line (without its newline): 1 taken, 0 skipped, -1 malformed. */
static int parse_line(sf_keylog *kl, const char *s, const char *end, int *nomem) {
  sf_keylog_entry e;
  size_t i, ll;
  int n;
  skip_blanks(&s, end);
  if (s == end || *s == '#') return 0;
  for (i = 0; i < sizeof LABELS / sizeof LABELS[0]; i++) {
    ll = strlen(LABELS[i].label);
    if ((size_t)(end - s) > ll && memcmp(s, LABELS[i].label, ll) == 0 &&
        (s[ll] == ' ' || s[ll] == '\t'))
      break;
  }
  if (i == sizeof LABELS / sizeof LABELS[0]) return 0;  /* another label */
  memset(&e, 0, sizeof e);
  s += strlen(LABELS[i].label);
  skip_blanks(&s, end);
  if (hex_word(&s, end, e.random, 32) != 32) return -1;
  skip_blanks(&s, end);
  n = hex_word(&s, end, e.secret[LABELS[i].which], 48);
  skip_blanks(&s, end);
  if (s != end && *s != '\r') return -1;
  if (LABELS[i].len ? n != LABELS[i].len : (n != 32 && n != 48)) return -1;
  e.len[LABELS[i].which] = (uint8_t)n;
  if (add_entry(kl, &e) != SF_OK) *nomem = 1;
  return *nomem ? -1 : 1;
}

static int cmp_random(const void *a, const void *b) {
  return memcmp(((const sf_keylog_entry *)a)->random, ((const sf_keylog_entry *)b)->random, 32);
}

/* Sorted by random, the lines of one connection merged into one entry
   (a later line of the same label wins, as the last session logged). */
static void merge_entries(sf_keylog *kl) {
  size_t i, j = 0, k;
  if (!kl->n) return;
  qsort(kl->e, kl->n, sizeof *kl->e, cmp_random);
  for (i = 0; i < kl->n; i++) {
    if (j && memcmp(kl->e[j - 1].random, kl->e[i].random, 32) == 0) {
      for (k = 0; k < SF_KL_NSECRETS; k++) {
        if (!kl->e[i].len[k]) continue;
        kl->e[j - 1].len[k] = kl->e[i].len[k];
        memcpy(kl->e[j - 1].secret[k], kl->e[i].secret[k], 48);
      }
    } else {
      kl->e[j++] = kl->e[i];
    }
  }
  kl->n = j;
}

sf_keylog *sf_keylog_parse(const char *text, size_t n, char *err, size_t errlen) {
  sf_keylog *kl = calloc(1, sizeof *kl);
  const char *s = text, *end = text + n;
  int line = 0, nomem = 0;
  if (errlen) err[0] = 0;
  if (!kl) return NULL;
  while (s < end) {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    const char *le = nl ? nl : end;
    line++;
    if (parse_line(kl, s, le, &nomem) < 0) {
      if (!nomem)
        snprintf(err, errlen, "line %d is no key log line (LABEL <64 hex digits of client "
                 "random> <hex secret: 48 bytes for CLIENT_RANDOM, 32 or 48 for TLS 1.3's>)",
                 line);
      sf_keylog_free(kl);
      return NULL;
    }
    s = nl ? nl + 1 : end;
  }
  merge_entries(kl);
  return kl;
}

sf_keylog *sf_keylog_load(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t n = 0, cap = 0;
  sf_keylog *kl;
  if (errlen) err[0] = 0;
  if (!f) {
    snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
    return NULL;
  }
  for (;;) {
    size_t r;
    if (n == cap) {
      char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);
      if (!nb) { free(buf); fclose(f); return NULL; }
      buf = nb;
    }
    r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (r == 0) break;
  }
  if (ferror(f)) {
    snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
    free(buf);
    fclose(f);
    return NULL;
  }
  fclose(f);
  kl = sf_keylog_parse(buf, n, err, errlen);
  free(buf);
  return kl;
}

void sf_keylog_free(sf_keylog *kl) {
  if (!kl) return;
  free(kl->e);
  free(kl);
}

size_t sf_keylog_count(const sf_keylog *kl) { return kl ? kl->n : 0; }

const sf_keylog_entry *sf_keylog_find(const sf_keylog *kl, const uint8_t random[32]) {
  sf_keylog_entry key;
  if (!kl || !kl->n) return NULL;
  memcpy(key.random, random, 32);
  return bsearch(&key, kl->e, kl->n, sizeof *kl->e, cmp_random);
}

/* ---- key derivation --------------------------------------------------------------- */

static const char *digest_name(int hlen) { return hlen == 48 ? "SHA384" : "SHA256"; }

/* OpenSSL's KDF `name` with params; SF_OK or -1. */
static int derive(const char *name, OSSL_PARAM *params, uint8_t *out, size_t outlen) {
  EVP_KDF *kdf = EVP_KDF_fetch(NULL, name, NULL);
  EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
  int ok = kctx && EVP_KDF_derive(kctx, out, outlen, params) > 0;
  EVP_KDF_CTX_free(kctx);
  EVP_KDF_free(kdf);
  return ok ? SF_OK : -1;
}

/* ---- HKDF by HMAC ------------------------------------------------------------------ */

static EVP_MD *md256, *md384;
static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_ctx_free(void *c) { EVP_MD_CTX_free(c); }

static void fetch_mds(void) {
  md256 = EVP_MD_fetch(NULL, "SHA256", NULL);
  md384 = EVP_MD_fetch(NULL, "SHA384", NULL);
  pthread_key_create(&md_key, md_ctx_free);
}

/* This thread's digest context, made once. */
static EVP_MD_CTX *md_ctx(void) {
  EVP_MD_CTX *c;
  pthread_once(&md_once, fetch_mds);
  if ((c = pthread_getspecific(md_key))) return c;
  if ((c = EVP_MD_CTX_new()) && pthread_setspecific(md_key, c) != 0) {
    EVP_MD_CTX_free(c);
    c = NULL;
  }
  return c;
}

/* HMAC (RFC 2104) with SHA-256 (hlen 32) or SHA-384 (48) of the n pieces
   m[i] (len[i] bytes) under key; out gets hlen bytes. */
static int hmac(int hlen, const uint8_t *key, size_t klen, const uint8_t *const *m,
                const size_t *len, int n, uint8_t *out) {
  EVP_MD_CTX *c = md_ctx();
  const EVP_MD *md = hlen == 48 ? md384 : md256;
  size_t block = hlen == 48 ? 128 : 64, i;
  uint8_t k[128], pad[128], inner[48];
  unsigned kl = 0;
  int ok = 1, j;
  if (!c || !md) return -1;
  memset(k, 0, sizeof k);
  if (klen > block) ok = EVP_Digest(key, klen, k, &kl, md, NULL);  /* a long key: its hash */
  else memcpy(k, key, klen);
  for (i = 0; i < block; i++) pad[i] = k[i] ^ 0x36;
  ok = ok && EVP_DigestInit_ex(c, md, NULL) && EVP_DigestUpdate(c, pad, block);
  for (j = 0; ok && j < n; j++) ok = !len[j] || EVP_DigestUpdate(c, m[j], len[j]);
  ok = ok && EVP_DigestFinal_ex(c, inner, NULL);
  for (i = 0; i < block; i++) pad[i] = k[i] ^ 0x5c;
  ok = ok && EVP_DigestInit_ex(c, md, NULL) && EVP_DigestUpdate(c, pad, block) &&
       EVP_DigestUpdate(c, inner, (size_t)hlen) && EVP_DigestFinal_ex(c, out, NULL);
  return ok ? SF_OK : -1;
}

int sf_hkdf_extract(int hlen, const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
                    size_t n, uint8_t *out) {
  const uint8_t *m[1] = {ikm};
  size_t len[1] = {n};
  return hmac(hlen, salt, saltlen, m, len, 1, out);
}

/* HKDF-Expand (RFC 5869 2.3): T(i) = HMAC(prk, T(i-1) | info | i). */
static int hkdf_expand(int hlen, const uint8_t *prk, const uint8_t *info, size_t ni,
                       uint8_t *out, size_t outlen) {
  uint8_t t[48], i = 0;
  size_t done = 0, tl = 0;
  if (outlen > 255u * (size_t)hlen) return -1;
  while (done < outlen) {
    const uint8_t *m[3] = {t, info, &i};
    size_t len[3] = {tl, ni, 1}, k;
    i++;
    if (hmac(hlen, prk, (size_t)hlen, m, len, 3, t) != SF_OK) return -1;
    tl = (size_t)hlen;
    k = outlen - done < tl ? outlen - done : tl;
    memcpy(out + done, t, k);
    done += k;
  }
  return SF_OK;
}

int sf_hkdf_expand_label(int hlen, const uint8_t *secret, const char *label,
                         const uint8_t *ctx, size_t ctxlen, uint8_t *out, size_t outlen) {
  uint8_t info[2 + 1 + 255 + 1 + 255];
  size_t ll = strlen(label), n = 0;
  if (6 + ll > 255 || ctxlen > 255 || outlen > 0xffff) return -1;
  info[n++] = (uint8_t)(outlen >> 8);  /* HkdfLabel: length, "tls13 " label, context */
  info[n++] = (uint8_t)outlen;
  info[n++] = (uint8_t)(6 + ll);
  memcpy(info + n, "tls13 ", 6);
  memcpy(info + n + 6, label, ll);
  n += 6 + ll;
  info[n++] = (uint8_t)ctxlen;
  if (ctxlen) memcpy(info + n, ctx, ctxlen);
  n += ctxlen;
  return hkdf_expand(hlen, secret, info, n, out, outlen);
}

int sf_tls12_prf(int hlen, const uint8_t *secret, size_t slen, const char *label,
                 const uint8_t *seed, size_t seedlen, uint8_t *out, size_t outlen) {
  uint8_t full[64 + 128];
  size_t ll = strlen(label);
  OSSL_PARAM params[4];
  if (ll + seedlen > sizeof full) return -1;
  memcpy(full, label, ll);  /* the PRF's seed is label || seed */
  memcpy(full + ll, seed, seedlen);
  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest_name(hlen), 0);
  params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, slen);
  params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, full, ll + seedlen);
  params[3] = OSSL_PARAM_construct_end();
  return derive("TLS1-PRF", params, out, outlen);
}

/* ---- cipher suites ------------------------------------------------------------------ */

#define GCM128(id, name) {id, SF_AEAD_AES_GCM, 16, 16, 32, 0, name}
#define GCM256(id, name) {id, SF_AEAD_AES_GCM, 32, 16, 48, 0, name}
#define CHACHA(id, name) {id, SF_AEAD_CHACHA, 32, 16, 32, 0, name}

/* Sorted by id (bsearch).  TLS 1.2's AEAD suites of RFC 5288, 5289, 5487
   and 7905 (key exchange does not matter: the key log gives the master
   secret), and TLS 1.3's five. */
static const sf_tls_suite SUITES[] = {
  GCM128(0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"),
  GCM256(0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"),
  GCM128(0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"),
  GCM256(0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"),
  GCM128(0x00a2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256"),
  GCM256(0x00a3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384"),
  GCM128(0x00a8, "TLS_PSK_WITH_AES_128_GCM_SHA256"),
  GCM256(0x00a9, "TLS_PSK_WITH_AES_256_GCM_SHA384"),
  GCM128(0x00aa, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256"),
  GCM256(0x00ab, "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384"),
  GCM128(0x00ac, "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256"),
  GCM256(0x00ad, "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384"),
  {0x1301, SF_AEAD_AES_GCM, 16, 16, 32, 1, "TLS_AES_128_GCM_SHA256"},
  {0x1302, SF_AEAD_AES_GCM, 32, 16, 48, 1, "TLS_AES_256_GCM_SHA384"},
  {0x1303, SF_AEAD_CHACHA, 32, 16, 32, 1, "TLS_CHACHA20_POLY1305_SHA256"},
  {0x1304, SF_AEAD_AES_CCM, 16, 16, 32, 1, "TLS_AES_128_CCM_SHA256"},
  {0x1305, SF_AEAD_AES_CCM, 16, 8, 32, 1, "TLS_AES_128_CCM_8_SHA256"},
  GCM128(0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
  GCM256(0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
  GCM128(0xc02d, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256"),
  GCM256(0xc02e, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384"),
  GCM128(0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
  GCM256(0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
  GCM128(0xc031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256"),
  GCM256(0xc032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384"),
  CHACHA(0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
  CHACHA(0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
  CHACHA(0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
  CHACHA(0xccab, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256"),
  CHACHA(0xccac, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256"),
  CHACHA(0xccad, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256"),
  CHACHA(0xccae, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256"),
};

static int cmp_suite(const void *a, const void *b) {
  return (int)((const sf_tls_suite *)a)->id - (int)((const sf_tls_suite *)b)->id;
}

const sf_tls_suite *sf_tls_suite_find(uint16_t id) {
  sf_tls_suite key;
  key.id = id;
  return bsearch(&key, SUITES, sizeof SUITES / sizeof SUITES[0], sizeof SUITES[0], cmp_suite);
}

/* ---- AEAD ---------------------------------------------------------------------------- */

static const EVP_CIPHER *evp_cipher(const sf_tls_suite *s) {
  switch (s->aead) {
  case SF_AEAD_AES_GCM: return s->keylen == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
  case SF_AEAD_AES_CCM: return EVP_aes_128_ccm();
  default: return EVP_chacha20_poly1305();
  }
}

void sf_tls_keys_free(sf_tls_keys *k) {
  EVP_CIPHER_CTX_free((EVP_CIPHER_CTX *)k->ctx);
  k->ctx = NULL;
}

/* CCM takes its tag and the lengths before the data (OpenSSL's order). */
static int ccm_open(EVP_CIPHER_CTX *c, sf_tls_keys *k, const uint8_t nonce[12],
                    const uint8_t *aad, size_t aadlen, const uint8_t *ct, size_t n,
                    uint8_t *out) {
  int outl, tl = k->suite->taglen;
  if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, tl, (void *)(ct + n)) != 1 ||
      EVP_DecryptInit_ex(c, NULL, NULL, k->key, nonce) != 1 ||
      EVP_DecryptUpdate(c, NULL, &outl, NULL, (int)n) != 1 ||
      EVP_DecryptUpdate(c, NULL, &outl, aad, (int)aadlen) != 1)
    return -1;
  return EVP_DecryptUpdate(c, out, &outl, ct, (int)n) == 1 ? (int)n : -1;
}

/* The cipher and key are set once per key (ctx NULL until then); each
   record sets only its nonce. */
static EVP_CIPHER_CTX *keyed_ctx(sf_tls_keys *k) {
  EVP_CIPHER_CTX *c = (EVP_CIPHER_CTX *)k->ctx;
  if (c) return c;
  if (!(c = EVP_CIPHER_CTX_new())) return NULL;
  if (EVP_DecryptInit_ex(c, evp_cipher(k->suite), NULL, NULL, NULL) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) != 1 ||
      (k->suite->aead == SF_AEAD_AES_CCM &&
       EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, k->suite->taglen, NULL) != 1) ||
      EVP_DecryptInit_ex(c, NULL, NULL, k->key, NULL) != 1) {
    EVP_CIPHER_CTX_free(c);
    return NULL;
  }
  return k->ctx = c;
}

int sf_tls_aead_open(sf_tls_keys *k, const uint8_t nonce[12], const uint8_t *aad,
                     size_t aadlen, const uint8_t *ct, size_t n, uint8_t *out) {
  EVP_CIPHER_CTX *c = keyed_ctx(k);
  int outl, fin;
  if (!c) return -1;
  if (k->suite->aead == SF_AEAD_AES_CCM) return ccm_open(c, k, nonce, aad, aadlen, ct, n, out);
  if (EVP_DecryptInit_ex(c, NULL, NULL, NULL, nonce) != 1 ||
      EVP_DecryptUpdate(c, NULL, &outl, aad, (int)aadlen) != 1 ||
      EVP_DecryptUpdate(c, out, &outl, ct, (int)n) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, k->suite->taglen, (void *)(ct + n)) != 1)
    return -1;
  if (EVP_DecryptFinal_ex(c, out + outl, &fin) != 1) return -1;
  return outl + fin;
}
