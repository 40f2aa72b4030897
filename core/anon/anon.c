/*
 * anon.c -- policies, and the anonymization of single values: addresses,
 * MACs, ports, timestamps, TCP sequence offsets.  anon_pkt.c applies them
 * to packets, anon_pcap.c to capture files.
 *
 * Every secret value derives from the policy's key and salt: Crypto-PAn
 * uses the key; everything else uses HMAC-SHA-256 under the salt with a
 * label per use ("mac", "seq", ...), so no two uses share a stream.
 */
#include "anon.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonpriv.h"

/* ---- names ----------------------------------------------------------- */

static const char *const setting_names[SF_AN_NSETTINGS] = {
  "ip_mode", "mac_mode", "port_mode", "timestamp_mode", "tcp_seq_mode",
  "payload_mode"
};

/* Each setting's names: every mode's own name first (the one read back),
   then aliases: "none" for pass-through (the seed's None), and sflua's
   spellings from before it followed the seed's. */
typedef struct mode_name { const char *name; int mode; } mode_name;

static const mode_name mode_names[SF_AN_NSETTINGS][8] = {
  {{"preserve", SF_IP_PRESERVE}, {"crypto_pan", SF_IP_CRYPTOPAN},
   {"permute", SF_IP_PERMUTE}, {"none", SF_IP_PRESERVE}, {NULL, 0}},
  {{"preserve", SF_MAC_PRESERVE}, {"salted_hash", SF_MAC_HASH},
   {"salted_hash_preserve_oui", SF_MAC_HASH_OUI}, {"zero", SF_MAC_ZERO},
   {"none", SF_MAC_PRESERVE}, {"salted_hash_keep_oui", SF_MAC_HASH_OUI},
   {NULL, 0}},
  {{"preserve", SF_PORT_PRESERVE}, {"preserve_well_known", SF_PORT_WELL_KNOWN},
   {"permute", SF_PORT_PERMUTE}, {"categorize", SF_PORT_CATEGORIZE},
   {"none", SF_PORT_PRESERVE}, {NULL, 0}},
  {{"preserve", SF_TS_PRESERVE}, {"epoch_shift", SF_TS_EPOCH_SHIFT},
   {"random_shift", SF_TS_RANDOM_SHIFT},
   {"epoch_shift_jitter", SF_TS_EPOCH_JITTER}, {"none", SF_TS_PRESERVE},
   {NULL, 0}},
  {{"preserve", SF_SEQ_PRESERVE}, {"random_offset", SF_SEQ_RANDOM_OFFSET},
   {"none", SF_SEQ_PRESERVE}, {NULL, 0}},
  {{"preserve", SF_PL_PRESERVE}, {"truncate_to", SF_PL_TRUNCATE},
   {"truncate_all", SF_PL_DROP}, {"zero", SF_PL_ZERO},
   {"none", SF_PL_PRESERVE}, {"drop", SF_PL_DROP}, {NULL, 0}},
};

static const char *const mode_lists[SF_AN_NSETTINGS] = {
  "preserve (or none), crypto_pan, permute",
  ("preserve (or none), salted_hash, salted_hash_preserve_oui "
   "(or salted_hash_keep_oui), zero"),
  "preserve (or none), preserve_well_known, permute, categorize",
  "preserve (or none), epoch_shift, random_shift, epoch_shift_jitter",
  "preserve (or none), random_offset",
  "preserve (or none), truncate_to, truncate_all (or drop), zero",
};

const char *sf_anon_setting_name(int s) {
  return (unsigned)s < SF_AN_NSETTINGS ? setting_names[s] : NULL;
}

int sf_anon_mode_find(int s, const char *name) {
  const mode_name *m;
  if ((unsigned)s >= SF_AN_NSETTINGS) return -1;
  for (m = mode_names[s]; m->name; m++)
    if (strcmp(m->name, name) == 0) return m->mode;
  return -1;
}

const char *sf_anon_mode_name(int s, int mode) {
  const mode_name *m;
  if ((unsigned)s >= SF_AN_NSETTINGS) return NULL;
  for (m = mode_names[s]; m->name; m++)
    if (m->mode == mode) return m->name;
  return NULL;
}

const char *sf_anon_mode_list(int s) {
  return (unsigned)s < SF_AN_NSETTINGS ? mode_lists[s] : NULL;
}

/* ---- policies -------------------------------------------------------------- */

static void set_modes(sf_anon_policy *p, int ip, int mac, int port, int ts,
                      int seq, int pl) {
  p->mode[SF_AN_IP] = ip;
  p->mode[SF_AN_MAC] = mac;
  p->mode[SF_AN_PORT] = port;
  p->mode[SF_AN_TIME] = ts;
  p->mode[SF_AN_SEQ] = seq;
  p->mode[SF_AN_PAYLOAD] = pl;
}

/* The seed toolkit's presets (its README): ml_optimized keeps what models
   learn from (subnets, service ports, exact timing, the first 256 bytes
   of payload), maximum_privacy keeps no port, no payload and blurs timing. */
int sf_anon_policy_preset(sf_anon_policy *p, const char *name) {
  if (strcmp(name, "default") == 0 || strcmp(name, "ml_optimized") == 0) {
    set_modes(p, SF_IP_CRYPTOPAN, SF_MAC_HASH, SF_PORT_WELL_KNOWN,
              SF_TS_EPOCH_SHIFT, SF_SEQ_RANDOM_OFFSET, SF_PL_TRUNCATE);
    p->timestamp_jitter_ms = 0;
    p->payload_truncate_bytes = 256;
  } else if (strcmp(name, "maximum_privacy") == 0) {
    set_modes(p, SF_IP_CRYPTOPAN, SF_MAC_HASH, SF_PORT_CATEGORIZE,
              SF_TS_EPOCH_JITTER, SF_SEQ_RANDOM_OFFSET, SF_PL_DROP);
    p->timestamp_jitter_ms = SF_ANON_JITTER_MS;
    p->payload_truncate_bytes = 0;
  } else {
    return SF_E_VALUE;
  }
  p->payload_rewrite_lengths = 0;
  return SF_OK;
}

void sf_anon_policy_set_mode(sf_anon_policy *p, int s, int mode) {
  if ((unsigned)s >= SF_AN_NSETTINGS) return;
  p->mode[s] = mode;
  if (s == SF_AN_TIME)
    p->timestamp_jitter_ms = mode == SF_TS_EPOCH_JITTER ? SF_ANON_JITTER_MS : 0;
}

int sf_anon_policy_check(const sf_anon_policy *p, char *err, size_t errlen) {
  if (p->timestamp_jitter_ms > SF_ANON_MAX_JITTER_MS)
    snprintf(err, errlen, "timestamp_jitter_ms: %lu is more than %lu (an hour)",
             (unsigned long)p->timestamp_jitter_ms, (unsigned long)SF_ANON_MAX_JITTER_MS);
  else if (p->payload_truncate_bytes > SF_ANON_MAX_TRUNCATE)
    snprintf(err, errlen, "payload_truncate_bytes: %lu is more than %lu (a packet's largest size)",
             (unsigned long)p->payload_truncate_bytes, (unsigned long)SF_ANON_MAX_TRUNCATE);
  else if (p->mode[SF_AN_TIME] == SF_TS_EPOCH_JITTER && p->timestamp_jitter_ms == 0)
    snprintf(err, errlen, "timestamp_jitter_ms: epoch_shift_jitter needs at least 1 ms "
             "(timestamp_mode \"epoch_shift\" has none)");
  else
    return SF_OK;
  return SF_E_VALUE;
}

int sf_anon_policy_init(sf_anon_policy *p) {
  memset(p, 0, sizeof *p);
  sf_anon_policy_preset(p, "default");
  if (RAND_bytes(p->crypto_pan_key, 32) != 1 || RAND_bytes(p->hash_salt, 32) != 1)
    return SF_E_NOMEM;
  return SF_OK;
}

/* ---- keyed functions ----------------------------------------------------------- */

/* HMAC-SHA-256(salt, label || data) */
void sf_anon_hmac(const sf_anon *a, const char *label, const uint8_t *d,
                  size_t n, uint8_t out[32]) {
  uint8_t msg[64], ih[32];
  size_t ln = strlen(label);
  unsigned int olen = 32;
  if (ln + n > sizeof msg) n = sizeof msg - ln;  /* callers stay far below */
  memcpy(msg, label, ln);
  if (n) memcpy(msg + ln, d, n);
  if (a->hm_tmp) {  /* the keyed states: no key setup nor fetch per call */
    if (EVP_MD_CTX_copy_ex(a->hm_tmp, a->hm_in) &&
        EVP_DigestUpdate(a->hm_tmp, msg, ln + n) &&
        EVP_DigestFinal_ex(a->hm_tmp, ih, &olen) &&
        EVP_MD_CTX_copy_ex(a->hm_tmp, a->hm_out) &&
        EVP_DigestUpdate(a->hm_tmp, ih, 32) &&
        EVP_DigestFinal_ex(a->hm_tmp, out, &olen))
      return;
  }
  if (!HMAC(EVP_sha256(), a->pol.hash_salt, 32, msg, ln + n, out, &olen))
    memset(out, 0, 32);
}

/* RFC 2104 with the 32-byte salt as key (zero-padded to SHA-256's 64-byte
   block): hash states after key ^ ipad and key ^ opad. */
static void setup_hmac(sf_anon *a) {
  uint8_t ipad[64], opad[64];
  int i;
  memset(ipad, 0x36, 64);
  memset(opad, 0x5c, 64);
  for (i = 0; i < 32; i++) {
    ipad[i] ^= a->pol.hash_salt[i];
    opad[i] ^= a->pol.hash_salt[i];
  }
  a->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
  a->hm_in = EVP_MD_CTX_new();
  a->hm_out = EVP_MD_CTX_new();
  a->hm_tmp = EVP_MD_CTX_new();
  if (!a->sha256 || !a->hm_in || !a->hm_out || !a->hm_tmp ||
      !EVP_DigestInit_ex(a->hm_in, a->sha256, NULL) ||
      !EVP_DigestUpdate(a->hm_in, ipad, 64) ||
      !EVP_DigestInit_ex(a->hm_out, a->sha256, NULL) ||
      !EVP_DigestUpdate(a->hm_out, opad, 64)) {
    EVP_MD_CTX_free(a->hm_tmp);
    a->hm_tmp = NULL;  /* HMAC() then */
  }
}

static uint64_t get64(const uint8_t *b) {
  uint64_t v = 0;
  int i;
  for (i = 0; i < 8; i++) v = v << 8 | b[i];
  return v;
}

/* splitmix64: a counter-based generator, so a packet's jitter depends on
   its index alone */
uint64_t sf_anon_mix(uint64_t x) {
  x += UINT64_C(0x9E3779B97F4A7C15);
  x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
  return x ^ (x >> 31);
}

static uint64_t seed_of(const sf_anon *a, const char *label) {
  uint8_t h[32];
  sf_anon_hmac(a, label, NULL, 0, h);
  return get64(h);
}

/* The seed's categories (IANA's ranges, RFC 6335), each port replaced by
   its range's first: system 0-1023 -> 0, user 1024-49151 -> 1024,
   dynamic 49152-65535 -> 49152. */
static void categorize_ports(sf_anon *a) {
  uint32_t i;
  for (i = 0; i < 65536; i++) a->ports[i] = i < 1024 ? 0 : i < 49152 ? 1024 : 49152;
}

/* A keyed shuffle of ports [lo, 65535]; the rest map to themselves. */
static void build_ports(sf_anon *a) {
  uint64_t s = seed_of(a, "ports");
  uint32_t i, lo;
  if (a->pol.mode[SF_AN_PORT] == SF_PORT_CATEGORIZE) {
    categorize_ports(a);
    return;
  }
  for (i = 0; i < 65536; i++) a->ports[i] = (uint16_t)i;
  if (a->pol.mode[SF_AN_PORT] == SF_PORT_PRESERVE) return;
  lo = a->pol.mode[SF_AN_PORT] == SF_PORT_WELL_KNOWN ? 1024 : 1;  /* 0 stays */
  for (i = 65535; i > lo; i--) {  /* Fisher-Yates */
    uint32_t j = lo + (uint32_t)(sf_anon_mix(s + i) % (i - lo + 1));
    uint16_t t = a->ports[i];
    a->ports[i] = a->ports[j];
    a->ports[j] = t;
  }
}

static int setup_permute(sf_anon *a) {
  uint8_t k[32];
  sf_anon_hmac(a, "ip", NULL, 0, k);
  a->perm = EVP_CIPHER_CTX_new();
  if (!a->perm || !EVP_EncryptInit_ex(a->perm, EVP_aes_128_ecb(), NULL, k, NULL))
    return 0;
  EVP_CIPHER_CTX_set_padding(a->perm, 0);
  return 1;
}

/* 2000-01-01 plus a keyed number of seconds below 20 years */
static int64_t random_epoch(const sf_anon *a) {
  uint64_t r = seed_of(a, "time") % (UINT64_C(20) * 365 * 86400);
  return (INT64_C(946684800) + (int64_t)r) * INT64_C(1000000000);
}

sf_anon *sf_anon_new(const sf_anon_policy *p) {
  sf_anon *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->pol = *p;
  setup_hmac(a);
  if (p->mode[SF_AN_IP] == SF_IP_CRYPTOPAN && !(a->cpan = sf_cpan_new(p->crypto_pan_key)))
    goto fail;
  if (p->mode[SF_AN_IP] == SF_IP_PERMUTE && !setup_permute(a)) goto fail;
  build_ports(a);
  a->jitter_seed = seed_of(a, "jitter");
  a->epoch = p->mode[SF_AN_TIME] == SF_TS_RANDOM_SHIFT ? random_epoch(a) : 0;  /* epoch_shift: 1970 */
  if (!sf_anon_fields_init(a)) goto fail;
  return a;
fail:
  sf_anon_free(a);
  return NULL;
}

void sf_anon_free(sf_anon *a) {
  if (!a) return;
  sf_cpan_free(a->cpan);
  EVP_MD_CTX_free(a->hm_in);
  EVP_MD_CTX_free(a->hm_out);
  EVP_MD_CTX_free(a->hm_tmp);
  EVP_MD_free(a->sha256);
  EVP_CIPHER_CTX_free(a->perm);
  free(a);
}

const sf_anon_policy *sf_anon_policy_of(const sf_anon *a) { return &a->pol; }

/* ---- addresses ------------------------------------------------------------------ */

static void aes1(EVP_CIPHER_CTX *c, const uint8_t in[16], uint8_t out[16]) {
  int n = 0;
  if (!EVP_EncryptUpdate(c, out, &n, in, 16)) memset(out, 0, 16);
}

/* A keyed permutation of the 2^32 IPv4 addresses: a 4-round Feistel
   network over 16-bit halves with AES as the round function. */
static uint32_t permute4(sf_anon *a, uint32_t v) {
  uint32_t l = v >> 16, r = v & 0xffff;
  int round;
  for (round = 0; round < 4; round++) {
    uint8_t in[16] = {0}, out[16];
    uint32_t t;
    in[0] = (uint8_t)round;
    in[1] = (uint8_t)(r >> 8);
    in[2] = (uint8_t)r;
    aes1(a->perm, in, out);
    t = r;
    r = l ^ (uint32_t)(out[0] << 8 | out[1]);
    l = t;
  }
  return l << 16 | r;
}

void sf_anon_ip4(sf_anon *a, const uint8_t in[4], uint8_t out[4]) {
  uint32_t v = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 |
               (uint32_t)in[2] << 8 | in[3];
  sf_anon_v4cache *e;
  switch (a->pol.mode[SF_AN_IP]) {
    case SF_IP_CRYPTOPAN: sf_cpan_anon4(a->cpan, in, out); return;
    case SF_IP_PERMUTE:
      e = &a->v4perm[(v * 0x9E3779B1u) >> (32 - SF_ANON_V4BITS)];
      if (!e->ok || e->in != v) {
        e->in = v;
        e->out = permute4(a, v);
        e->ok = 1;
      }
      v = e->out;
      out[0] = (uint8_t)(v >> 24);
      out[1] = (uint8_t)(v >> 16);
      out[2] = (uint8_t)(v >> 8);
      out[3] = (uint8_t)v;
      return;
    default: memmove(out, in, 4);
  }
}

void sf_anon_ip6(sf_anon *a, const uint8_t in[16], uint8_t out[16]) {
  switch (a->pol.mode[SF_AN_IP]) {
    case SF_IP_CRYPTOPAN: sf_cpan_anon6(a->cpan, in, out); return;
    case SF_IP_PERMUTE: {  /* AES is a permutation of 128-bit blocks */
      uint8_t t[16];
      aes1(a->perm, in, t);
      memcpy(out, t, 16);
      return;
    }
    default: memmove(out, in, 16);
  }
}

/* ---- MACs -------------------------------------------------------------------------- */

static int is_broadcast(const uint8_t m[6]) {
  return (m[0] & m[1] & m[2] & m[3] & m[4] & m[5]) == 0xff;
}

static int is_zero(const uint8_t m[6]) {
  return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}

/* Broadcast and all-zero (ARP's "unknown") name no device: kept.  A group
   address keeps its first three bytes, which name the protocol (01:00:5e
   IPv4 multicast, 33:33 IPv6, 01:80:c2 bridges), not a vendor.  Otherwise
   the group (I/G) and local (U/L) bits are kept and the rest hashed. */
static void hash_mac(sf_anon *a, const uint8_t in[6], uint8_t out[6]) {
  uint8_t h[32];
  int keep3 = (in[0] & 1) || a->pol.mode[SF_AN_MAC] == SF_MAC_HASH_OUI;
  sf_anon_hmac(a, "mac", in, 6, h);
  if (keep3) {
    memcpy(out, in, 3);
    memcpy(out + 3, h, 3);
  } else {
    out[0] = (uint8_t)((h[0] & 0xfc) | (in[0] & 0x03));
    memcpy(out + 1, h + 1, 5);
  }
}

void sf_anon_mac(sf_anon *a, const uint8_t in[6], uint8_t out[6]) {
  int mode = a->pol.mode[SF_AN_MAC];
  sf_anon_maccache *e;
  if (mode == SF_MAC_PRESERVE || is_broadcast(in) || is_zero(in)) {
    memmove(out, in, 6);
    return;
  }
  if (mode == SF_MAC_ZERO) {
    uint8_t g = in[0] & 1;
    memset(out, 0, 6);
    out[0] = g;
    return;
  }
  {
    uint64_t k = (uint64_t)in[0] << 40 | (uint64_t)in[1] << 32 | (uint64_t)in[2] << 24 |
                 (uint64_t)in[3] << 16 | (uint64_t)in[4] << 8 | in[5];
    e = &a->macs[(k * UINT64_C(0x9E3779B97F4A7C15)) >> 54];  /* 10 bits: SF_ANON_MACS */
  }
  if (!e->ok || memcmp(e->in, in, 6) != 0) {
    memcpy(e->in, in, 6);
    hash_mac(a, in, e->out);
    e->ok = 1;
  }
  memcpy(out, e->out, 6);
}

/* ---- ports, time, sequence numbers ------------------------------------------------- */

uint16_t sf_anon_port(const sf_anon *a, uint16_t port) { return a->ports[port]; }

/* a + b and a - b, held inside int64_t */
static int64_t add_sat(int64_t a, int64_t b) {
  if (b > 0 && a > INT64_MAX - b) return INT64_MAX;
  if (b < 0 && a < INT64_MIN - b) return INT64_MIN;
  return a + b;
}

static int64_t sub_sat(int64_t a, int64_t b) {
  if (b < 0 && a > INT64_MAX + b) return INT64_MAX;
  if (b > 0 && a < INT64_MIN + b) return INT64_MIN;
  return a - b;
}

/* The shifted time: every packet moves as the first one does. */
static int64_t shifted(sf_anon *a, int64_t t) {
  if (a->pol.mode[SF_AN_TIME] == SF_TS_PRESERVE) return t;
  return add_sat(sub_sat(t, a->first), a->epoch);
}

/* Jitter in [0, J] ms; then the step from the previous packet keeps its
   direction: clamped to the previous output when it would turn around. */
static int64_t jitter(sf_anon *a, int64_t t, int64_t out) {
  uint64_t span = (uint64_t)a->pol.timestamp_jitter_ms * 1000000u + 1;
  out = add_sat(out, (int64_t)(sf_anon_mix(a->jitter_seed + a->count) % span));
  if (a->count && t >= a->prev && out < a->last) out = a->last;
  if (a->count && t < a->prev && out > a->last) out = a->last;
  return out;
}

int64_t sf_anon_time(sf_anon *a, int64_t t) {
  int64_t out;
  if (a->keep_time ||
      (a->pol.mode[SF_AN_TIME] == SF_TS_PRESERVE && a->pol.timestamp_jitter_ms == 0))
    return t;
  if (!a->have_first) {
    a->first = t;
    a->have_first = 1;
  }
  out = shifted(a, t);
  if (out < 0) {  /* before 1970: no capture format stores it */
    out = 0;
    a->clamped++;
  }
  if (a->pol.timestamp_jitter_ms) out = jitter(a, t, out);
  a->count++;
  a->prev = t;
  a->last = out;
  return out;
}

uint64_t sf_anon_times_clamped(const sf_anon *a) { return a->clamped; }

uint32_t sf_anon_seq_offset(sf_anon *a, const uint8_t *src, const uint8_t *dst,
                            size_t alen, uint16_t sport, uint16_t dport) {
  uint8_t key[37], h[32];
  sf_anon_seqcache *e;
  uint32_t hv = 2166136261u;
  size_t i, n;
  if (a->pol.mode[SF_AN_SEQ] == SF_SEQ_PRESERVE || (alen != 4 && alen != 16))
    return 0;
  memcpy(key, src, alen);
  memcpy(key + alen, dst, alen);
  key[2 * alen] = (uint8_t)(sport >> 8);
  key[2 * alen + 1] = (uint8_t)sport;
  key[2 * alen + 2] = (uint8_t)(dport >> 8);
  key[2 * alen + 3] = (uint8_t)dport;
  n = 2 * alen + 4;
  for (i = 0; i < n; i++) hv = (hv ^ key[i]) * 16777619u;  /* FNV-1a */
  e = &a->seqs[hv % SF_ANON_SEQS];
  if (e->ok && e->n == n && memcmp(e->key, key, n) == 0) return e->off;
  sf_anon_hmac(a, "seq", key, n, h);
  memcpy(e->key, key, n);
  e->n = (uint8_t)n;
  e->off = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
  e->ok = 1;
  return e->off;
}
