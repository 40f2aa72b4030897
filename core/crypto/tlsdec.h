/*
 * tlsdec.h -- TLS decryption for analysis: key log files (SSLKEYLOGFILE,
 * as curl, browsers and `openssl s_client -keylogfile` write them), the
 * key schedules of TLS 1.2 (the PRF's key expansion) and TLS 1.3
 * (HKDF-Expand-Label), AEAD records (AES-GCM, AES-CCM, ChaCha20-Poly1305),
 * and a record walker that turns one direction's reassembled bytes into
 * its plaintext.  OpenSSL does the ciphers, HKDF and the PRF.
 *
 * Proto- and flow-independent: it reads bytes, not packets or flows
 * (core/flow/tlsflow.c runs it over a conversation's streams).  Memory is
 * bounded: a direction holds one record at a time.
 */
#ifndef SF_TLSDEC_H
#define SF_TLSDEC_H

#include <stddef.h>
#include <stdint.h>

/* ---- key logs ------------------------------------------------------------ */

/* The secrets of one connection, found by its client random. */
enum { SF_KL_MASTER,        /* CLIENT_RANDOM: TLS 1.2's master secret */
       SF_KL_CHS, SF_KL_SHS,   /* CLIENT_/SERVER_HANDSHAKE_TRAFFIC_SECRET */
       SF_KL_CAP, SF_KL_SAP,   /* CLIENT_/SERVER_TRAFFIC_SECRET_0 */
       SF_KL_NSECRETS };

typedef struct sf_keylog_entry {
  uint8_t random[32];
  uint8_t len[SF_KL_NSECRETS];          /* 0: not in the log */
  uint8_t secret[SF_KL_NSECRETS][48];
} sf_keylog_entry;

typedef struct sf_keylog sf_keylog;

/* Parse a key log's text.  Lines of other labels (EXPORTER_SECRET, RSA,
   CLIENT_EARLY_TRAFFIC_SECRET) and comments are skipped; a line of a known
   label that is not one is an error naming its line.  NULL with err set
   (or with err empty: no memory). */
sf_keylog *sf_keylog_parse(const char *text, size_t n, char *err, size_t errlen);
/* The same from a file. */
sf_keylog *sf_keylog_load(const char *path, char *err, size_t errlen);
void sf_keylog_free(sf_keylog *kl);
size_t sf_keylog_count(const sf_keylog *kl);
/* The entry of this client random, or NULL. */
const sf_keylog_entry *sf_keylog_find(const sf_keylog *kl, const uint8_t random[32]);

/* ---- crypto primitives (tlskeys.c) ---------------------------------------- */

/* HKDF-Extract (RFC 5869 2.2) with SHA-256 (hlen 32) or SHA-384 (48):
   out gets hlen bytes.  SF_OK or -1. */
int sf_hkdf_extract(int hlen, const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
                    size_t n, uint8_t *out);
/* TLS 1.3's HKDF-Expand-Label (RFC 8446 7.1) with SHA-256 (hlen 32) or
   SHA-384 (48).  SF_OK or -1. */
int sf_hkdf_expand_label(int hlen, const uint8_t *secret, const char *label,
                         const uint8_t *ctx, size_t ctxlen, uint8_t *out, size_t outlen);
/* TLS 1.2's PRF (RFC 5246 5) with SHA-256 or SHA-384. */
int sf_tls12_prf(int hlen, const uint8_t *secret, size_t slen, const char *label,
                 const uint8_t *seed, size_t seedlen, uint8_t *out, size_t outlen);

/* A cipher suite this code decrypts: its AEAD, key and IV sizes, hash. */
enum { SF_AEAD_AES_GCM = 1, SF_AEAD_CHACHA, SF_AEAD_AES_CCM };
typedef struct sf_tls_suite {
  uint16_t id;
  uint8_t aead, keylen, taglen;
  uint8_t hlen;          /* the PRF's or HKDF's hash: 32 or 48 */
  uint8_t tls13;         /* a TLS 1.3 suite */
  const char *name;
} sf_tls_suite;
/* NULL when the suite is not one this code decrypts. */
const sf_tls_suite *sf_tls_suite_find(uint16_t id);

/* One direction's record protection. */
typedef struct sf_tls_keys {
  const sf_tls_suite *suite;
  uint8_t key[32];
  uint8_t iv[12];        /* TLS 1.2 GCM: the 4-byte salt first */
  uint64_t seq;
  void *ctx;             /* OpenSSL's cipher context, made on first use */
} sf_tls_keys;
void sf_tls_keys_free(sf_tls_keys *k);   /* call before changing key */
/* Open ct (n bytes, the suite's tag after them) under nonce and aad into
   out: the plaintext's length, or -1 when it does not authenticate. */
int sf_tls_aead_open(sf_tls_keys *k, const uint8_t nonce[12], const uint8_t *aad,
                     size_t aadlen, const uint8_t *ct, size_t n, uint8_t *out);

/* ---- sessions and records (tlsdec.c) --------------------------------------- */

/* What the hellos say, and the keys found for them. */
typedef struct sf_tls_session {
  uint16_t version;      /* 0x0303 or 0x0304 when known, else 0 */
  uint16_t suite_id;
  const sf_tls_suite *suite;
  uint8_t client_random[32], server_random[32];
  uint8_t have_client, have_server;  /* the hellos were seen */
  sf_keylog_entry keys;  /* a copy of the log's entry */
  const char *error;     /* why nothing can be decrypted, or NULL */
  char errbuf[160];
} sf_tls_session;

/* Does this look like the start of a client's TLS stream (a handshake
   record holding a ClientHello)? */
int sf_tls_is_client_start(const uint8_t *d, size_t n);
/* Read the plaintext hellos at the start of the client's and the
   server's streams (as many of their first bytes as the caller has),
   then look the keys up: s->error says why decryption cannot go on. */
void sf_tls_session_init(sf_tls_session *s, const sf_keylog *kl,
                         const uint8_t *client, size_t cn,
                         const uint8_t *server, size_t sn);

/* The certificates (DER) of the first Certificate message among the
   handshake messages hs (joined, as a direction's sink gets them), in
   TLS 1.2's form or TLS 1.3's (a request context first, extensions
   after each certificate); cb gets each.  Their count. */
int sf_tls_certificates(const uint8_t *hs, size_t n, int tls13,
                        void (*cb)(void *ud, const uint8_t *der, size_t len), void *ud);

/* Content types handed to the sink. */
enum { SF_TLS_CCS = 20, SF_TLS_ALERT = 21, SF_TLS_HANDSHAKE = 22, SF_TLS_APPDATA = 23 };

/* What a direction's plaintext records are handed to: content type,
   bytes (valid during the call). */
typedef void (*sf_tls_sink)(void *ud, int type, const uint8_t *p, size_t n);

#define SF_TLS_MAX_RECORD (5 + 16384 + 2048)  /* TLS 1.2's ciphertext limit */

/* One direction's walker: records in, plaintext out. */
typedef struct sf_tls_dir {
  const sf_tls_session *s;
  int client;            /* the client's records (else the server's) */
  int phase;             /* 0 plaintext, 1 handshake keys (1.3), 2 traffic keys */
  sf_tls_keys k;
  uint8_t secret[48];    /* TLS 1.3: the traffic secret in use (KeyUpdate) */
  uint8_t hdr[4];        /* decrypted handshake messages: the header so far */
  uint8_t hdrlen;
  uint32_t hsleft;       /* bytes of the current message's body to come */
  uint8_t update;        /* a KeyUpdate ended in this record */
  uint8_t finished;      /* a Finished ended in this record */
  uint64_t records;      /* records walked */
  uint64_t decrypted;    /* of which decrypted */
  uint64_t offset;       /* stream offset of the record being read */
  size_t have;           /* bytes of it in rec */
  const char *error;     /* set: the walk stopped */
  char errbuf[200];
  uint8_t rec[SF_TLS_MAX_RECORD];     /* a record read across feeds */
  uint8_t plain[SF_TLS_MAX_RECORD];   /* its plaintext */
} sf_tls_dir;

/* A walker over the client's (client = 1) or the server's records; the
   session must outlive it.  Free with sf_tls_dir_free. */
void sf_tls_dir_init(sf_tls_dir *d, const sf_tls_session *s, int client);
void sf_tls_dir_free(sf_tls_dir *d);
/* The next bytes of the direction's stream, in order.  Whole records go
   to the sink; SF_OK, or -1 once d->error is set (later calls do
   nothing). */
int sf_tls_dir_feed(sf_tls_dir *d, const uint8_t *p, size_t n, sf_tls_sink sink, void *ud);
/* The capture never had len bytes at this point of the stream. */
void sf_tls_dir_gap(sf_tls_dir *d, uint64_t len);
/* The stream ended: a record cut short is an error. */
void sf_tls_dir_end(sf_tls_dir *d);

#endif
