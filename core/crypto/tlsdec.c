/*
 * tlsdec.c -- TLS sessions from their hellos, and the record walker that
 * decrypts one direction.
 *
 * The walker follows what each side does on the wire.  TLS 1.2: records
 * are plaintext until the side's ChangeCipherSpec, then all encrypted
 * with the keys the PRF expands from the master secret.  TLS 1.3: the
 * hellos are plaintext, ChangeCipherSpec records are compatibility noise,
 * the first application_data record starts the handshake keys, the
 * side's Finished switches to its traffic secret, and a KeyUpdate to the
 * next one.  Sequence numbers count the records under each key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsdec.h"
#include "../sf.h"

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be24(const uint8_t *p) { return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]; }

/* SHA-256("HelloRetryRequest"): a ServerHello with this random is one */
static const uint8_t HRR_RANDOM[32] = {
  0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
  0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

/* ---- the hellos ------------------------------------------------------------------- */

static int record_header_ok(const uint8_t *d) {
  return d[0] >= 20 && d[0] <= 24 && d[1] == 3 && d[2] <= 4 &&
         be16(d + 3) <= SF_TLS_MAX_RECORD - 5;
}

int sf_tls_is_client_start(const uint8_t *d, size_t n) {
  return n >= 6 && d[0] == SF_TLS_HANDSHAKE && record_header_ok(d) && d[5] == 1;
}

/* The handshake messages carried by the plaintext records at the start
   of a stream, joined (a message may span records), into buf: their
   length.  Stops at the first record that is not handshake or CCS. */
static size_t plaintext_handshake(const uint8_t *d, size_t n, uint8_t *buf, size_t cap) {
  size_t off = 0, len = 0;
  while (off + 5 <= n && record_header_ok(d + off)) {
    size_t rl = be16(d + off + 3), take;
    if (d[off] != SF_TLS_HANDSHAKE && d[off] != SF_TLS_CCS) break;
    if (d[off] == SF_TLS_HANDSHAKE) {
      take = rl;
      if (take > n - off - 5) take = n - off - 5;
      if (take > cap - len) take = cap - len;
      memcpy(buf + len, d + off + 5, take);
      len += take;
    }
    off += 5 + rl;
  }
  return len;
}

/* The body of the first whole message of type t in hs (skipping
   HelloRetryRequests when t is a ServerHello), or NULL. */
static const uint8_t *find_message(const uint8_t *hs, size_t n, int t, size_t *blen) {
  size_t off = 0;
  while (off + 4 <= n) {
    size_t ml = be24(hs + off + 1);
    if (ml > n - off - 4) return NULL;
    if (hs[off] == t && ml >= 38 &&
        !(t == 2 && memcmp(hs + off + 6, HRR_RANDOM, 32) == 0)) {
      *blen = ml;
      return hs + off + 4;
    }
    off += 4 + ml;
  }
  return NULL;
}

/* The ServerHello's supported_versions choice, or its legacy version. */
static uint16_t server_version(const uint8_t *b, size_t n) {
  size_t off = 34, end;
  uint16_t v = (uint16_t)be16(b);
  if (off >= n) return v;
  off += 1 + b[off] + 3;  /* session id, cipher suite, compression */
  if (off + 2 > n) return v;
  end = off + 2 + be16(b + off);
  if (end > n) end = n;
  for (off += 2; off + 4 <= end; off += 4 + be16(b + off + 2))
    if (be16(b + off) == 43 && be16(b + off + 2) == 2 && off + 6 <= end) return (uint16_t)be16(b + off + 4);
  return v;
}

static const char *fail(sf_tls_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *fail(sf_tls_session *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->errbuf, sizeof s->errbuf, fmt, ap);
  va_end(ap);
  return s->error = s->errbuf;
}

static void hex32(const uint8_t *r, char out[65]) {
  int i;
  for (i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* The hellos: randoms, version, suite. */
static int read_hellos(sf_tls_session *s, const uint8_t *client, size_t cn,
                       const uint8_t *server, size_t sn) {
  enum { CAP = 65536 };
  uint8_t *buf = malloc(CAP);
  const uint8_t *m;
  size_t n, ml;
  int rc = -1;
  if (!buf) return fail(s, "not enough memory"), -1;
  n = plaintext_handshake(client, cn, buf, CAP);
  if (!(m = find_message(buf, n, 1, &ml))) {
    fail(s, "no ClientHello at the start of the client's stream");
    goto done;
  }
  memcpy(s->client_random, m + 2, 32);
  s->have_client = 1;
  n = plaintext_handshake(server, sn, buf, CAP);
  if (!(m = find_message(buf, n, 2, &ml)) || ml < 38 + (size_t)m[34]) {
    fail(s, "no ServerHello at the start of the server's stream");
    goto done;
  }
  memcpy(s->server_random, m + 2, 32);
  s->have_server = 1;
  s->suite_id = (uint16_t)be16(m + 35 + m[34]);
  s->version = server_version(m, ml);
  rc = 0;
done:
  free(buf);
  return rc;
}

int sf_tls_certificates(const uint8_t *hs, size_t n, int tls13,
                        void (*cb)(void *ud, const uint8_t *der, size_t len), void *ud) {
  size_t off = 0, ml, end;
  int count = 0;
  while (off + 4 <= n && hs[off] != 11) off += 4 + be24(hs + off + 1);
  if (off + 4 > n || (ml = be24(hs + off + 1)) > n - off - 4) return 0;
  end = off + 4 + ml;
  off += 4;
  if (tls13) {
    if (off >= end) return 0;
    off += 1 + hs[off];  /* certificate_request_context */
  }
  if (off + 3 > end) return 0;
  if (be24(hs + off) < end - off - 3) end = off + 3 + be24(hs + off);
  for (off += 3; off + 3 <= end; count++) {
    size_t cl = be24(hs + off);
    if (cl > end - off - 3) break;
    cb(ud, hs + off + 3, cl);
    off += 3 + cl;
    if (tls13) {
      if (off + 2 > end) break;
      off += 2 + be16(hs + off);  /* the entry's extensions */
    }
  }
  return count;
}

/* Are the secrets this version needs in the entry, of the suite's size? */
static int check_secrets(sf_tls_session *s, const char *hex) {
  static const char *const names[] = {"CLIENT_RANDOM", "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"};
  int i;
  if (s->version == 0x0303) {
    if (!s->keys.len[SF_KL_MASTER])
      return fail(s, "the key log has no CLIENT_RANDOM line (TLS 1.2's master secret) "
                  "for client random %s", hex), -1;
    return 0;
  }
  for (i = SF_KL_CHS; i <= SF_KL_SAP; i++) {
    if (!s->keys.len[i])
      return fail(s, "the key log has no %s for client random %s", names[i], hex), -1;
    if (s->keys.len[i] != s->suite->hlen)
      return fail(s, "the key log's %s has %d bytes, %s needs %d", names[i], s->keys.len[i],
                  s->suite->name, s->suite->hlen), -1;
  }
  return 0;
}

void sf_tls_session_init(sf_tls_session *s, const sf_keylog *kl,
                         const uint8_t *client, size_t cn,
                         const uint8_t *server, size_t sn) {
  const sf_keylog_entry *e;
  char hex[65];
  memset(s, 0, sizeof *s);
  if (read_hellos(s, client, cn, server, sn) < 0) return;
  if (s->version != 0x0303 && s->version != 0x0304) {
    fail(s, "TLS version 0x%04x is not decrypted (TLS 1.2 and 1.3 are)", s->version);
    return;
  }
  s->suite = sf_tls_suite_find(s->suite_id);
  if (!s->suite || s->suite->tls13 != (s->version == 0x0304)) {
    s->suite = NULL;
    fail(s, "cipher suite 0x%04x is not decrypted (AEAD suites only: AES-GCM, "
         "ChaCha20-Poly1305, and TLS 1.3's AES-CCM)", s->suite_id);
    return;
  }
  hex32(s->client_random, hex);
  if (!(e = sf_keylog_find(kl, s->client_random))) {
    fail(s, "no key for client random %s in the key log", hex);
    return;
  }
  s->keys = *e;
  check_secrets(s, hex);
}

/* ---- keys -------------------------------------------------------------------------- */

static void dir_fail(sf_tls_dir *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dir_fail(sf_tls_dir *d, const char *fmt, ...) {
  va_list ap;
  if (d->error) return;
  va_start(ap, fmt);
  vsnprintf(d->errbuf, sizeof d->errbuf, fmt, ap);
  va_end(ap);
  d->error = d->errbuf;
}

/* TLS 1.3: key and IV from a traffic secret, the sequence from 0. */
static int keys13(sf_tls_dir *d, const uint8_t *secret) {
  const sf_tls_suite *su = d->s->suite;
  sf_tls_keys_free(&d->k);
  memcpy(d->secret, secret, su->hlen);
  d->k.suite = su;
  d->k.seq = 0;
  if (sf_hkdf_expand_label(su->hlen, secret, "key", NULL, 0, d->k.key, su->keylen) != SF_OK ||
      sf_hkdf_expand_label(su->hlen, secret, "iv", NULL, 0, d->k.iv, 12) != SF_OK) {
    dir_fail(d, "HKDF failed (OpenSSL)");
    return -1;
  }
  return 0;
}

/* TLS 1.2: this side's key and IV out of the key block (RFC 5246 6.3:
   client key, server key, client IV, server IV; AEADs have no MAC key). */
static int keys12(sf_tls_dir *d) {
  const sf_tls_session *s = d->s;
  const sf_tls_suite *su = s->suite;
  int ivlen = su->aead == SF_AEAD_CHACHA ? 12 : 4;
  uint8_t seed[64], kb[2 * 32 + 2 * 12];
  sf_tls_keys_free(&d->k);
  memcpy(seed, s->server_random, 32);
  memcpy(seed + 32, s->client_random, 32);
  if (sf_tls12_prf(su->hlen, s->keys.secret[SF_KL_MASTER], 48, "key expansion", seed, 64, kb,
                   (size_t)(2 * su->keylen + 2 * ivlen)) != SF_OK) {
    dir_fail(d, "the TLS 1.2 PRF failed (OpenSSL)");
    return -1;
  }
  d->k.suite = su;
  d->k.seq = 0;
  memcpy(d->k.key, kb + (d->client ? 0 : su->keylen), su->keylen);
  memcpy(d->k.iv, kb + 2 * su->keylen + (d->client ? 0 : ivlen), (size_t)ivlen);
  return 0;
}

void sf_tls_dir_init(sf_tls_dir *d, const sf_tls_session *s, int client) {
  memset(d, 0, offsetof(sf_tls_dir, rec));
  d->s = s;
  d->client = client;
  /* without keys the plaintext handshake is still read (a TLS 1.2
     certificate); the walk stops where encryption starts */
  if (s->error && s->version != 0x0303 && s->version != 0x0304) d->error = s->error;
}

void sf_tls_dir_free(sf_tls_dir *d) { sf_tls_keys_free(&d->k); }

/* ---- records ------------------------------------------------------------------------- */

/* nonce = IV xor the sequence number, left-padded (TLS 1.3, ChaCha20) */
static void xor_nonce(const sf_tls_keys *k, uint8_t nonce[12]) {
  int i;
  memcpy(nonce, k->iv, 12);
  for (i = 0; i < 8; i++) nonce[11 - i] ^= (uint8_t)(k->seq >> (8 * i));
}

static void put_seq(uint8_t *p, uint64_t seq) {
  int i;
  for (i = 0; i < 8; i++) p[i] = (uint8_t)(seq >> (56 - 8 * i));
}

static void auth_failed(sf_tls_dir *d) {
  dir_fail(d, "authentication failed at record %llu (stream offset %llu): a wrong key "
           "in the key log, or the record was altered",
           (unsigned long long)d->records + 1, (unsigned long long)d->offset);
}

/* TLS 1.3: open the record, strip its padding; the inner type, -1. */
static int open13(sf_tls_dir *d, const uint8_t *hdr, const uint8_t *body, size_t len, size_t *pn) {
  uint8_t nonce[12];
  size_t tl = d->k.suite->taglen;
  int n;
  if (len < tl + 1) return auth_failed(d), -1;
  xor_nonce(&d->k, nonce);
  if ((n = sf_tls_aead_open(&d->k, nonce, hdr, 5, body, len - tl, d->plain)) < 0)
    return auth_failed(d), -1;
  d->k.seq++;
  while (n > 0 && d->plain[n - 1] == 0) n--;  /* padding */
  if (n == 0) {
    dir_fail(d, "record %llu (stream offset %llu) has no content type (all padding)",
             (unsigned long long)d->records + 1, (unsigned long long)d->offset);
    return -1;
  }
  *pn = (size_t)n - 1;
  return d->plain[n - 1];
}

/* TLS 1.2: GCM's explicit nonce first, ChaCha20's from the sequence; the
   additional data is seq || type || version || plaintext length. */
static int open12(sf_tls_dir *d, const uint8_t *hdr, const uint8_t *body, size_t len, size_t *pn) {
  uint8_t nonce[12], aad[13];
  size_t tl = d->k.suite->taglen, ex = d->k.suite->aead == SF_AEAD_CHACHA ? 0 : 8;
  int n;
  if (len < ex + tl) return auth_failed(d), -1;
  if (ex) {
    memcpy(nonce, d->k.iv, 4);
    memcpy(nonce + 4, body, 8);
  } else {
    xor_nonce(&d->k, nonce);
  }
  put_seq(aad, d->k.seq);
  memcpy(aad + 8, hdr, 3);
  aad[11] = (uint8_t)((len - ex - tl) >> 8);
  aad[12] = (uint8_t)(len - ex - tl);
  if ((n = sf_tls_aead_open(&d->k, nonce, aad, 13, body + ex, len - ex - tl, d->plain)) < 0)
    return auth_failed(d), -1;
  d->k.seq++;
  *pn = (size_t)n;
  return hdr[0];
}

/* Follow the decrypted handshake messages' boundaries (a message may
   span records) to see a Finished or a KeyUpdate end. */
static void track_handshake(sf_tls_dir *d, const uint8_t *p, size_t n) {
  while (n) {
    if (d->hdrlen < 4) {
      d->hdr[d->hdrlen++] = *p++;
      n--;
      if (d->hdrlen < 4) continue;
      d->hsleft = be24(d->hdr + 1);
    } else {
      size_t take = n < d->hsleft ? n : d->hsleft;
      p += take;
      n -= take;
      d->hsleft -= (uint32_t)take;
    }
    if (d->hsleft == 0) {
      if (d->hdr[0] == 20) d->finished = 1;
      if (d->hdr[0] == 24) d->update = 1;
      d->hdrlen = 0;
    }
  }
}

/* TLS 1.3's key changes, at the end of the record that asked for them. */
static void next_keys13(sf_tls_dir *d) {
  uint8_t next[48];
  int hlen = d->s->suite->hlen;
  if (d->phase == 1 && d->finished) {
    d->phase = 2;
    keys13(d, d->s->keys.secret[d->client ? SF_KL_CAP : SF_KL_SAP]);
  } else if (d->phase == 2 && d->update) {
    if (sf_hkdf_expand_label(hlen, d->secret, "traffic upd", NULL, 0, next, (size_t)hlen) != SF_OK)
      dir_fail(d, "HKDF failed (OpenSSL)");
    else
      keys13(d, next);
  }
  d->finished = d->update = 0;
}

/* A plaintext record's content to the sink. */
static void deliver(sf_tls_dir *d, int type, const uint8_t *p, size_t n, sf_tls_sink sink, void *ud) {
  if (type == SF_TLS_HANDSHAKE && d->phase) track_handshake(d, p, n);
  if (type == SF_TLS_CCS && d->phase == 2 && d->s->version == 0x0303) {
    dir_fail(d, "renegotiation at record %llu (stream offset %llu) is not decrypted",
             (unsigned long long)d->records + 1, (unsigned long long)d->offset);
    return;
  }
  if (type >= SF_TLS_CCS && type <= SF_TLS_APPDATA) sink(ud, type, p, n);
}

/* Start encrypting where this side does: TLS 1.2 after its CCS, TLS 1.3
   at its first application_data record.  0, or 1 when the record is the
   CCS itself (nothing to decrypt). */
static int maybe_start(sf_tls_dir *d, int type) {
  int starts = (d->s->version == 0x0303 && type == SF_TLS_CCS) ||
               (d->s->version == 0x0304 && type == SF_TLS_APPDATA);
  if (d->phase) return 0;
  if (starts && d->s->error) {
    dir_fail(d, "%s", d->s->error);
    return 1;
  }
  if (d->s->version == 0x0303 && type == SF_TLS_CCS) {
    if (keys12(d) == 0) d->phase = 2;
    return 1;
  }
  if (d->s->version == 0x0304 && type == SF_TLS_APPDATA) {
    if (keys13(d, d->s->keys.secret[d->client ? SF_KL_CHS : SF_KL_SHS]) == 0) d->phase = 1;
  }
  return 0;
}

static void record(sf_tls_dir *d, const uint8_t *hdr, const uint8_t *body, size_t len,
                   sf_tls_sink sink, void *ud) {
  int type = hdr[0];
  size_t n;
  if (maybe_start(d, type) || d->error) return;
  if (d->phase == 0 || (d->s->version == 0x0304 && type != SF_TLS_APPDATA)) {
    if (type != SF_TLS_CCS) sink(ud, type, body, len);  /* plaintext */
    return;
  }
  type = d->s->version == 0x0304 ? open13(d, hdr, body, len, &n) : open12(d, hdr, body, len, &n);
  if (type < 0) return;
  d->decrypted++;
  deliver(d, type, d->plain, n, sink, ud);
  if (d->s->version == 0x0304) next_keys13(d);
}

/* The header of the record starting at d->offset: checked. */
static int check_header(sf_tls_dir *d, const uint8_t *h) {
  if (record_header_ok(h)) return 0;
  dir_fail(d, "bytes at stream offset %llu are no TLS record (type %u, version 0x%02x%02x, "
           "length %u) after record %llu", (unsigned long long)d->offset, h[0], h[1], h[2],
           be16(h + 3), (unsigned long long)d->records);
  return -1;
}

int sf_tls_dir_feed(sf_tls_dir *d, const uint8_t *p, size_t n, sf_tls_sink sink, void *ud) {
  while (n && !d->error) {
    size_t want, take;
    if (d->have == 0 && n >= 5 && check_header(d, p) == 0 && n >= 5 + be16(p + 3)) {
      size_t len = be16(p + 3);   /* whole in the input: no copy */
      record(d, p, p + 5, len, sink, ud);
      d->records++;
      d->offset += 5 + len;
      p += 5 + len;
      n -= 5 + len;
      continue;
    }
    if (d->error) break;
    want = d->have < 5 ? 5 - d->have : 5 + be16(d->rec + 3) - d->have;
    take = n < want ? n : want;
    memcpy(d->rec + d->have, p, take);
    d->have += take;
    p += take;
    n -= take;
    if (d->have == 5 && check_header(d, d->rec) < 0) break;
    if (d->have >= 5 && d->have == 5 + (size_t)be16(d->rec + 3)) {
      record(d, d->rec, d->rec + 5, d->have - 5, sink, ud);
      d->records++;
      d->offset += d->have;
      d->have = 0;
    }
  }
  return d->error ? -1 : SF_OK;
}

void sf_tls_dir_gap(sf_tls_dir *d, uint64_t len) {
  dir_fail(d, "a gap in the stream: %llu bytes never captured at stream offset %llu, "
           "in record %llu", (unsigned long long)len,
           (unsigned long long)(d->offset + d->have), (unsigned long long)d->records + 1);
}

void sf_tls_dir_end(sf_tls_dir *d) {
  if (d->have >= 5)
    dir_fail(d, "the stream ends inside record %llu (stream offset %llu): %zu of its %u bytes "
             "were captured", (unsigned long long)d->records + 1, (unsigned long long)d->offset,
             d->have, 5 + be16(d->rec + 3));
  else if (d->have)
    dir_fail(d, "the stream ends inside record %llu's header (stream offset %llu): %zu of its "
             "5 bytes were captured", (unsigned long long)d->records + 1,
             (unsigned long long)d->offset, d->have);
}
