/*
 * fuzz_tlsdec.c -- libFuzzer target for TLS decryption (core/crypto):
 * the record walker, the hellos, key logs and certificate lists.
 *
 * Input: a selector byte, a piece-size byte, then bytes.  The selector's
 * low three bits pick a cipher suite (TLS 1.3's AES-128-GCM, AES-256-GCM,
 * ChaCha20, AES-CCM; TLS 1.2's AES-128-GCM, AES-256-GCM, ChaCha20, and a
 * suite it does not decrypt), bit 3 the side.  Bit 7 clear: the bytes are
 * a stream, walked as they are (headers, lengths, tags that fail), and
 * also read as hellos, a key log and a handshake holding certificates.
 * Bit 7 set: the bytes are records to encrypt, {type, length, content}
 * each; they are sealed with the keys the walker is at (so they open,
 * and what they hold -- Finished, KeyUpdate, padding, alerts -- drives
 * the walker on), and the application data that comes out must be what
 * went in, up to where the walker stops.  Every delivered byte is read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/tlsdec.h"

static volatile uint8_t sinkhole;

static const uint16_t SUITES[8] = {0x1301, 0x1302, 0x1303, 0x1304, 0xc02b, 0xc02c, 0xcca9, 0x002f};

typedef struct out {
  uint8_t app[1 << 17];
  size_t napp;
} out;

static void sink(void *ud, int type, const uint8_t *p, size_t n) {
  out *o = (out *)ud;
  size_t i;
  for (i = 0; i < n; i++) sinkhole ^= p[i];
  if (type == SF_TLS_APPDATA && o->napp + n <= sizeof o->app) {
    memcpy(o->app + o->napp, p, n);
    o->napp += n;
  }
}

static void cert(void *ud, const uint8_t *der, size_t n) {
  (void)ud;
  if (n) sinkhole ^= der[0] ^ der[n - 1];
}

/* A session as the hellos and a key log would make it, all secrets 0x42. */
static void make_session(sf_tls_session *s, uint16_t suite) {
  int i;
  memset(s, 0, sizeof *s);
  s->suite_id = suite;
  s->suite = sf_tls_suite_find(suite);
  s->version = suite < 0x1400 && suite >= 0x1300 ? 0x0304 : 0x0303;
  s->have_client = s->have_server = 1;
  for (i = 0; i < 32; i++) s->client_random[i] = (uint8_t)i, s->server_random[i] = (uint8_t)(i + 32);
  for (i = 0; i < SF_KL_NSECRETS; i++) {
    s->keys.len[i] = i == SF_KL_MASTER ? 48 : s->suite ? s->suite->hlen : 32;
    memset(s->keys.secret[i], 0x42 + i, 48);
  }
  if (!s->suite) s->error = "unsupported";
}

static void walk_raw(const sf_tls_session *s, sf_tls_dir *d, int client, const uint8_t *p,
                     size_t n, size_t piece, out *o) {
  size_t off;
  sf_tls_dir_init(d, s, client);
  for (off = 0; off < n; off += piece)
    sf_tls_dir_feed(d, p + off, n - off < piece ? n - off : piece, sink, o);
  if (piece == 13) sf_tls_dir_gap(d, 5);
  sf_tls_dir_end(d);
  sf_tls_dir_free(d);
}

/* hellos, a key log and certificates from the same bytes */
static void read_other_ways(const uint8_t *p, size_t n) {
  sf_tls_session s;
  char err[256];
  sf_keylog *kl = sf_keylog_parse((const char *)p, n, err, sizeof err);
  sf_tls_session_init(&s, kl, p, n / 2, p + n / 2, n - n / 2);
  sf_keylog_free(kl);
  sinkhole ^= (uint8_t)sf_tls_is_client_start(p, n);
  sf_tls_certificates(p, n, 0, cert, NULL);
  sf_tls_certificates(p, n, 1, cert, NULL);
}

/* ---- sealed records ------------------------------------------------------------- */

/* Seal content under k the way the walker opens it; the record's length. */
static size_t seal(const sf_tls_session *s, sf_tls_keys *k, int type, const uint8_t *c, size_t n,
                   uint8_t *rec) {
  const EVP_CIPHER *ciph = s->suite->aead == SF_AEAD_CHACHA ? EVP_chacha20_poly1305()
                         : s->suite->keylen == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  uint8_t nonce[12], aad[13], *body = rec + 5;
  size_t ex = s->version == 0x0303 && s->suite->aead != SF_AEAD_CHACHA ? 8 : 0, pn = n, len;
  int outl, i;
  uint8_t plain[300];
  memcpy(plain, c, n);
  if (s->version == 0x0304) plain[pn++] = (uint8_t)type;  /* inner type */
  len = ex + pn + 16;
  rec[0] = s->version == 0x0304 ? SF_TLS_APPDATA : (uint8_t)type;
  rec[1] = 3;
  rec[2] = 3;
  rec[3] = (uint8_t)(len >> 8);
  rec[4] = (uint8_t)len;
  memcpy(nonce, k->iv, 12);
  if (ex) {
    for (i = 0; i < 8; i++) body[i] = nonce[4 + i] = (uint8_t)(k->seq >> (56 - 8 * i));
  } else {
    for (i = 0; i < 8; i++) nonce[11 - i] ^= (uint8_t)(k->seq >> (8 * i));
  }
  for (i = 0; i < 8; i++) aad[i] = (uint8_t)(k->seq >> (56 - 8 * i));
  aad[8] = (uint8_t)type;
  aad[9] = aad[10] = 3;
  aad[10] = 3;
  aad[11] = (uint8_t)(pn >> 8);
  aad[12] = (uint8_t)pn;
  EVP_EncryptInit_ex(ctx, ciph, NULL, NULL, NULL);
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL);
  EVP_EncryptInit_ex(ctx, NULL, NULL, k->key, nonce);
  if (s->version == 0x0304) EVP_EncryptUpdate(ctx, NULL, &outl, rec, 5);
  else EVP_EncryptUpdate(ctx, NULL, &outl, aad, 13);
  EVP_EncryptUpdate(ctx, body + ex, &outl, plain, (int)pn);
  EVP_EncryptFinal_ex(ctx, body + ex + outl, &outl);
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, body + ex + pn);
  EVP_CIPHER_CTX_free(ctx);
  return 5 + len;
}

static void walk_sealed(const sf_tls_session *s, sf_tls_dir *d, int client, const uint8_t *p,
                        size_t n, out *o) {
  static uint8_t want[1 << 17];
  size_t nwant = 0, off = 0;
  uint8_t rec[400];
  sf_tls_keys k;
  memset(&k, 0, sizeof k);
  sf_tls_dir_init(d, s, client);
  if (s->version == 0x0303) {
    static const uint8_t ccs[6] = {20, 3, 3, 0, 1, 1};
    sf_tls_dir_feed(d, ccs, 6, sink, o);  /* the walker now holds its keys */
  } else {
    k.suite = s->suite;
    sf_hkdf_expand_label(s->suite->hlen, s->keys.secret[client ? SF_KL_CHS : SF_KL_SHS], "key",
                         NULL, 0, k.key, s->suite->keylen);
    sf_hkdf_expand_label(s->suite->hlen, s->keys.secret[client ? SF_KL_CHS : SF_KL_SHS], "iv",
                         NULL, 0, k.iv, 12);
  }
  while (off + 2 <= n && !d->error) {
    int type = 20 + p[off] % 4;
    size_t len = p[off + 1];
    if (len > n - off - 2) len = n - off - 2;
    if (d->phase) k = d->k;  /* where the walker is: the next record's keys */
    k.ctx = NULL;
    sf_tls_dir_feed(d, rec, seal(s, &k, type, p + off + 2, len, rec), sink, o);
    if (type == SF_TLS_APPDATA && !d->error) {
      memcpy(want + nwant, p + off + 2, len);
      nwant += len;
    }
    off += 2 + len;
  }
  /* what opened is what was sealed */
  if (o->napp != nwant || memcmp(o->app, want, nwant) != 0) abort();
  sf_tls_dir_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static sf_tls_dir *d;
  static out o;
  sf_tls_session s;
  uint16_t suite;
  int client;
  if (size < 2) return 0;
  if (!d && !(d = malloc(sizeof *d))) return 0;
  suite = SUITES[data[0] & 7];
  client = data[0] >> 3 & 1;
  make_session(&s, suite);
  o.napp = 0;
  if (data[0] & 0x80) {
    if (s.suite && s.suite->aead != SF_AEAD_AES_CCM) walk_sealed(&s, d, client, data + 2, size - 2, &o);
    return 0;
  }
  walk_raw(&s, d, client, data + 2, size - 2, (size_t)data[1] + 1, &o);
  read_other_ways(data + 2, size - 2);
  return 0;
}
