/*
 * test_tlsdec.c -- TLS decryption's engine (core/crypto): the TLS 1.2 PRF
 * against the IETF TLS working group's published P_SHA256 and P_SHA384
 * vectors (mail-archive msg03416, as BearSSL's test_crypto.c carries
 * them), HKDF-Expand-Label and the record walker against RFC 8448
 * section 3 (its traffic secrets as a key log: the server's encrypted
 * flight and the client's Finished open, their tags verified, into the
 * messages the RFC lists), key logs, and each way a walk stops.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "crypto/tlsdec.h"

static size_t unhex(const char *h, uint8_t *out) {
  size_t n = 0;
  while (h[0] && h[1]) {
    unsigned v;
    sscanf(h, "%2x", &v);
    out[n++] = (uint8_t)v;
    h += 2;
  }
  return n;
}

/* RFC 8448 section 3 (tests/data/tls_vectors.lua, ../shared/refdata/04-tls.md) */
static const char CH[] =
  "16030100c4010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7000006"
  "130113031302010000910000000b0009000006736572766572ff01000100000a00140012001d0017001800190100"
  "010101020103010400230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d"
  "5413691e529aaf2c002b0003020304000d0020001e040305030603020308040805080604010501060102010402050"
  "206020202002d00020101001c00024001";
static const char SH[] =
  "160303005a020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100"
  "002e00330024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304";
static const char FLIGHT[] =
  "17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fcf40aa40aa2b8ea73f848a7"
  "ca07612ef9f945cb960b4068905123ea78b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7"
  "b13bd9aefb0e57f271585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9d7477609aee6e122a4cf514273"
  "25250c7d0e509289444c9b3a648f1d71035d2ed65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4"
  "fcd610928d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ead686945ba246ab66e5edd8044b4c"
  "6de3fcf2a89441ac66272fd8fb330ef8190579b3684596c960bd596eea520a56a8d650f563aad27409960dca63d3e6"
  "88611ea5e22f4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26f59ecaba9acbbb317b"
  "66d902f4f292a36ac1b639c637ce343117b659622245317b49eeda0c6258f100d7d961ffb138647e92ea330faeea6d"
  "fa31c7a84dc3bd7e1b7a6c7178af36879018e3f252107f243d243dc7339d5684c8b0378bf30244da8c87c843f5e56e"
  "b4c5e8280a2b48052cf93b16499a66db7cca71e4599426f7d461e66f99882bd89fc50800becca62d6c74116dbd2972"
  "fda1fa80f85df881edbe5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb992f2b992f"
  "67f8afe67f76913fa388cb5630c8ca01e0c65d11c66a1e2ac4c85977b7c7a6999bbf10dc35ae69f5515614636c0b9b"
  "68c19ed2e31c0b3b66763038ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b845e2755"
  "92c12335ee340bbc4fddd502784016e4b3be7ef04dda49f4b440a30cb5d2af939828fd4ae3794e44f94df5a631ede4"
  "2c1719bfdabf0253fe5175be898e750edc53370d2b";
static const char CFIN[] =
  "170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46deb384bd"
  "1caeacab6867d726c40546";
#define RANDOM "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7"
/* the handshake secrets are RFC 8448's; the traffic secrets are only
   installed here (no application data follows in these vectors) */
static const char KEYLOG[] =
  "# RFC 8448 section 3\r\n"
  "CLIENT_HANDSHAKE_TRAFFIC_SECRET " RANDOM " b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21\r\n"
  "SERVER_HANDSHAKE_TRAFFIC_SECRET " RANDOM " b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38\n"
  "EXPORTER_SECRET " RANDOM " 00\n"
  "CLIENT_TRAFFIC_SECRET_0 " RANDOM " 9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5\n"
  "SERVER_TRAFFIC_SECRET_0 " RANDOM " a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643\n";

static void test_prf(void) {
  uint8_t secret[16], seed[16], out[100], want[100];
  unhex("9bbe436ba940f017b17652849a71db35", secret);
  unhex("a0ba9f936cda311827a6f796ffd5198c", seed);
  unhex("e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14"
        "baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e"
        "5a5110fff70187347b66", want);
  CHECK_EQ(sf_tls12_prf(32, secret, 16, "test label", seed, 16, out, 100), 0);
  CHECK(memcmp(out, want, 100) == 0);
  unhex("b80b733d6ceefcdc71566ea48e5567df", secret);
  unhex("cd665cf6a8447dd6ff8b27555edb7465", seed);
  unhex("7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd", want);
  CHECK_EQ(sf_tls12_prf(48, secret, 16, "test label", seed, 16, out, 32), 0);
  CHECK(memcmp(out, want, 32) == 0);
}

static void test_hkdf(void) {
  uint8_t secret[32], key[16], iv[12], want[16];
  unhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38", secret);
  CHECK_EQ(sf_hkdf_expand_label(32, secret, "key", NULL, 0, key, 16), 0);
  CHECK_EQ(sf_hkdf_expand_label(32, secret, "iv", NULL, 0, iv, 12), 0);
  unhex("3fce516009c21727d0f2e4e86ee403bc", want);
  CHECK(memcmp(key, want, 16) == 0);
  unhex("5d313eb2671276ee13000b30", want);
  CHECK(memcmp(iv, want, 12) == 0);
}

static void test_keylog(void) {
  char err[256];
  uint8_t r[32];
  const sf_keylog_entry *e;
  sf_keylog *kl = sf_keylog_parse(KEYLOG, strlen(KEYLOG), err, sizeof err);
  CHECK(kl != NULL);
  CHECK_EQ(sf_keylog_count(kl), 1);  /* four lines, one connection */
  unhex(RANDOM, r);
  e = sf_keylog_find(kl, r);
  CHECK(e != NULL);
  if (e) {
    CHECK_EQ(e->len[SF_KL_MASTER], 0);
    CHECK_EQ(e->len[SF_KL_CHS], 32);
    CHECK_EQ(e->len[SF_KL_SAP], 32);
    CHECK_EQ(e->secret[SF_KL_SHS][0], 0xb6);
  }
  r[0] ^= 1;
  CHECK(sf_keylog_find(kl, r) == NULL);
  sf_keylog_free(kl);
  kl = sf_keylog_parse("\nCLIENT_RANDOM " RANDOM " 00\n", 80, err, sizeof err);
  CHECK(kl == NULL);
  CHECK(strstr(err, "line 2 is no key log line") != NULL);
  kl = sf_keylog_load("/nonexistent/keys", err, sizeof err);
  CHECK(kl == NULL);
  CHECK(strstr(err, "cannot open '/nonexistent/keys'") != NULL);
}

/* ---- the walker ---------------------------------------------------------------- */

typedef struct seen {
  uint8_t hs[4096];
  size_t nhs;
  size_t app;
} seen;

static void sink(void *ud, int type, const uint8_t *p, size_t n) {
  seen *s = (seen *)ud;
  if (type == SF_TLS_HANDSHAKE && s->nhs + n <= sizeof s->hs) {
    memcpy(s->hs + s->nhs, p, n);
    s->nhs += n;
  }
  if (type == SF_TLS_APPDATA) s->app += n;
}

/* the handshake message types in s, in order, as a string of hex pairs */
static void types(const seen *s, char *out) {
  size_t off = 0;
  *out = 0;
  while (off + 4 <= s->nhs) {
    out += sprintf(out, "%02x", s->hs[off]);
    off += 4 + ((size_t)s->hs[off + 1] << 16 | (size_t)s->hs[off + 2] << 8 | s->hs[off + 3]);
  }
}

static uint8_t ch[512], sh[128], flight[1024], cfin[64], srv[1200], cli[600];
static size_t nch, nsh, nflight, ncfin, nsrv, ncli;

static void session(sf_tls_session *s, const char *keylog) {
  char err[256];
  sf_keylog *kl = sf_keylog_parse(keylog, strlen(keylog), err, sizeof err);
  sf_tls_session_init(s, kl, ch, nch, sh, nsh);
  sf_keylog_free(kl);
}

/* walk the server's stream fed in pieces of `piece` bytes */
static void walk(sf_tls_dir *d, const sf_tls_session *s, int client, const uint8_t *p, size_t n,
                 size_t piece, seen *out) {
  size_t off;
  memset(out, 0, sizeof *out);
  sf_tls_dir_init(d, s, client);
  for (off = 0; off < n; off += piece)
    sf_tls_dir_feed(d, p + off, n - off < piece ? n - off : piece, sink, out);
  sf_tls_dir_end(d);
}

/* a certificate's length, when it is a DER SEQUENCE */
static void cert_cb(void *ud, const uint8_t *der, size_t n) {
  if (n > 4 && der[0] == 0x30 && der[1] == 0x82 && (size_t)(der[2] << 8 | der[3]) + 4 == n)
    *(size_t *)ud = n;
}

static void test_rfc8448(sf_tls_dir *d) {
  sf_tls_session s;
  seen out;
  char t[64];
  size_t pieces[] = {1, 7, 300, 4096}, i, certlen = 0;
  session(&s, KEYLOG);
  CHECK(s.error == NULL);
  CHECK_EQ(s.version, 0x0304);
  CHECK_EQ(s.suite_id, 0x1301);
  for (i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
    walk(d, &s, 0, srv, nsrv, pieces[i], &out);
    CHECK(d->error == NULL);
    types(&out, t);
    CHECK(strcmp(t, "02080b0f14") == 0);  /* SH; EE, Certificate, CertificateVerify, Finished */
    CHECK_EQ(d->decrypted, 1);
    CHECK_EQ(d->phase, 2);                /* the Finished moved it to traffic keys */
    CHECK_EQ(out.app, 0);
    sf_tls_dir_free(d);
  }
  walk(d, &s, 0, srv, nsrv, 4096, &out);
  CHECK_EQ(sf_tls_certificates(out.hs, out.nhs, 1, cert_cb, &certlen), 1);
  CHECK(certlen > 100 && certlen < 1000);
  sf_tls_dir_free(d);
  walk(d, &s, 1, cli, ncli, 4096, &out);
  CHECK(d->error == NULL);
  types(&out, t);
  CHECK(strcmp(t, "0114") == 0);          /* CH; Finished */
  CHECK_EQ(out.nhs, nch - 5 + 4 + 32);    /* verify_data: SHA-256's 32 bytes */
  sf_tls_dir_free(d);
}

static void test_failures(sf_tls_dir *d) {
  sf_tls_session s;
  seen out;
  char keylog[2048];
  session(&s, KEYLOG);
  srv[nsh + 100] ^= 0x20;                 /* an altered byte */
  walk(d, &s, 0, srv, nsrv, 4096, &out);
  srv[nsh + 100] ^= 0x20;
  CHECK(d->error && strcmp(d->error, "authentication failed at record 2 (stream offset 95): a wrong "
                           "key in the key log, or the record was altered") == 0);
  sf_tls_dir_free(d);
  walk(d, &s, 0, srv, nsrv - 10, 4096, &out);  /* the capture ends early */
  CHECK(d->error && strcmp(d->error, "the stream ends inside record 2 (stream offset 95): 669 of "
                           "its 679 bytes were captured") == 0);
  sf_tls_dir_free(d);
  walk(d, &s, 0, srv, nsh + 3, 4096, &out);  /* ... or inside a header */
  CHECK(d->error && strcmp(d->error, "the stream ends inside record 2's header (stream offset "
                           "95): 3 of its 5 bytes were captured") == 0);
  sf_tls_dir_free(d);
  memset(&out, 0, sizeof out);
  sf_tls_dir_init(d, &s, 0);
  sf_tls_dir_feed(d, srv, nsh + 20, sink, &out);
  sf_tls_dir_gap(d, 1000);
  sf_tls_dir_feed(d, srv + nsh + 20, 30, sink, &out);  /* nothing after a gap */
  CHECK(d->error && strcmp(d->error, "a gap in the stream: 1000 bytes never captured at stream "
                           "offset 115, in record 2") == 0);
  CHECK_EQ(d->records, 1);
  sf_tls_dir_free(d);
  /* bytes that are no record */
  walk(d, &s, 0, (const uint8_t *)"GET / HTTP/1.1\r\n", 16, 4096, &out);
  CHECK(d->error && strstr(d->error, "bytes at stream offset 0 are no TLS record (type 71") != NULL);
  sf_tls_dir_free(d);
  /* session errors: a key log without this client, or missing a secret */
  session(&s, "CLIENT_RANDOM 0000000000000000000000000000000000000000000000000000000000000000 "
              "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a"
              "2b2c2d2e2f\n");
  CHECK(s.error && strcmp(s.error, "no key for client random " RANDOM " in the key log") == 0);
  walk(d, &s, 0, srv, nsrv, 4096, &out);  /* the plaintext hello, then the reason */
  CHECK(d->error && strcmp(d->error, s.error) == 0);
  CHECK_EQ(out.nhs, nsh - 5);
  sf_tls_dir_free(d);
  snprintf(keylog, sizeof keylog, "%.*s", (int)(strstr(KEYLOG, "CLIENT_TRAFFIC") - KEYLOG), KEYLOG);
  session(&s, keylog);
  CHECK(s.error && strcmp(s.error, "the key log has no CLIENT_TRAFFIC_SECRET_0 for client random "
                          RANDOM) == 0);
  sh[5 + 4 + 2 + 32 + 1 + 1] = 0x2f;      /* the ServerHello picks 0x132f */
  session(&s, KEYLOG);
  CHECK(s.error && strncmp(s.error, "cipher suite 0x132f is not decrypted", 36) == 0);
  sh[5 + 4 + 2 + 32 + 1 + 1] = 0x01;
  nsh = 20;                               /* a ServerHello cut short */
  session(&s, KEYLOG);
  CHECK(s.error && strcmp(s.error, "no ServerHello at the start of the server's stream") == 0);
  nsh = sizeof SH / 2;
}

int main(void) {
  sf_tls_dir *d = malloc(sizeof *d);
  nch = unhex(CH, ch);
  nsh = unhex(SH, sh);
  nflight = unhex(FLIGHT, flight);
  ncfin = unhex(CFIN, cfin);
  memcpy(srv, sh, nsh);                   /* the server's stream: SH, then the flight */
  memcpy(srv + nsh, flight, nflight);
  nsrv = nsh + nflight;
  memcpy(cli, ch, nch);                   /* the client's: CH, then its Finished */
  memcpy(cli + nch, cfin, ncfin);
  ncli = nch + ncfin;
  test_prf();
  test_hkdf();
  test_keylog();
  test_rfc8448(d);
  test_failures(d);
  free(d);
  return check_report("test_tlsdec");
}
