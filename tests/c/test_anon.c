/*
 * test_anon.c -- core/anon from C: Crypto-PAn against the published
 * vectors (data/cryptopan.txt) and the original sample, its inverse,
 * prefix preservation on random pairs, policy names, and anonymized
 * captures: deterministic, checksums right, seq/ack consistent; the
 * seed toolkit's names; clocks that step back; payloads cut as a snap
 * length cuts them; the fast path writing what the general path writes.
 * Runs in tests/ (ctest's working directory).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anon/anon.h"
#include "anon/anonpriv.h"
#include "anon/cryptopan.h"
#include "io/io.h"

#include "check.h"

static const uint8_t sample_key[32] = {
  21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16,
  216, 152, 143, 131, 121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2};

static int anon_text(sf_cpan *c, const char *in, char *out) {
  uint8_t a[16], b[16];
  if (inet_pton(AF_INET, in, a) == 1) {
    sf_cpan_anon4(c, a, b);
    inet_ntop(AF_INET, b, out, 46);
    return 4;
  }
  if (inet_pton(AF_INET6, in, a) != 1) return 0;
  sf_cpan_anon6(c, a, b);
  inet_ntop(AF_INET6, b, out, 46);
  return 16;
}

static void test_sample(void) {
  sf_cpan *c = sf_cpan_new(sample_key);
  char out[46];
  CHECK(c != NULL);
  anon_text(c, "128.11.68.132", out);
  CHECK(strcmp(out, "135.242.180.132") == 0);
  anon_text(c, "24.5.0.80", out);
  CHECK(strcmp(out, "100.9.15.210") == 0);
  anon_text(c, "129.118.74.4", out);
  CHECK(strcmp(out, "134.136.186.123") == 0);
  sf_cpan_free(c);
}

/* Every vector, both ways; the text forms compared after a round trip
   through inet_pton so that spelling does not matter. */
static void check_vector(sf_cpan *c, const char *in, const char *want) {
  uint8_t a[16], w[16], got[16], back[16];
  char out[46];
  int n = anon_text(c, in, out);
  CHECK(n == 4 || n == 16);
  if (n == 4) {
    inet_pton(AF_INET, want, w);
    inet_pton(AF_INET, out, got);
    inet_pton(AF_INET, in, a);
    sf_cpan_deanon4(c, got, back);
  } else {
    inet_pton(AF_INET6, want, w);
    inet_pton(AF_INET6, out, got);
    inet_pton(AF_INET6, in, a);
    sf_cpan_deanon6(c, got, back);
  }
  if (memcmp(got, w, (size_t)n) != 0) fprintf(stderr, "vector %s -> %s, want %s\n", in, out, want);
  CHECK(memcmp(got, w, (size_t)n) == 0);
  CHECK(memcmp(back, a, (size_t)n) == 0);
}

static void test_vectors(void) {
  FILE *f = fopen("data/cryptopan.txt", "r");
  char line[512], in[100], want[100];
  uint8_t key[32];
  sf_cpan *c = NULL;
  int n = 0, i;
  CHECK(f != NULL);
  if (!f) return;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#') continue;
    if (strncmp(line, "key ", 4) == 0) {
      for (i = 0; i < 32; i++) sscanf(line + 4 + 2 * i, "%2hhx", &key[i]);
      sf_cpan_free(c);
      c = sf_cpan_new(key);
      continue;
    }
    if (c && sscanf(line, "%99s %99s", in, want) == 2) {
      check_vector(c, in, want);
      n++;
    }
  }
  fclose(f);
  sf_cpan_free(c);
  CHECK(n == 141);
}

static int common_prefix(const uint8_t *a, const uint8_t *b, int bits) {
  int i;
  for (i = 0; i < bits; i++)
    if (((a[i / 8] >> (7 - i % 8)) & 1) != ((b[i / 8] >> (7 - i % 8)) & 1)) break;
  return i;
}

/* Pairs sharing a random-length prefix keep exactly that prefix length. */
static void test_prefix(int bytes) {
  sf_cpan *c = sf_cpan_new(sample_key);
  int t, bits = bytes * 8, bad = 0;
  srand(7);
  for (t = 0; t < 2000; t++) {
    uint8_t a[16], b[16], x[16], y[16];
    int i, k = rand() % bits;
    for (i = 0; i < bytes; i++) a[i] = b[i] = (uint8_t)rand();
    b[k / 8] ^= (uint8_t)(0x80 >> (k % 8));  /* differ first at bit k */
    for (i = k + 1; i < bits; i++)
      if (rand() & 1) b[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
    if (bytes == 4) { sf_cpan_anon4(c, a, x); sf_cpan_anon4(c, b, y); }
    else { sf_cpan_anon6(c, a, x); sf_cpan_anon6(c, b, y); }
    if (common_prefix(x, y, bits) != k) bad++;
  }
  CHECK(bad == 0);
  sf_cpan_free(c);
}

static void test_names(void) {
  sf_anon_policy p;
  CHECK(sf_anon_policy_init(&p) == SF_OK);
  CHECK(sf_anon_mode_find(SF_AN_IP, "crypto_pan") == SF_IP_CRYPTOPAN);
  CHECK(sf_anon_mode_find(SF_AN_IP, "cryptopan") == -1);
  CHECK(strcmp(sf_anon_mode_name(SF_AN_PAYLOAD, SF_PL_TRUNCATE), "truncate_to") == 0);
  CHECK(strstr(sf_anon_mode_list(SF_AN_MAC), "salted_hash_keep_oui") != NULL);
  CHECK(strcmp(sf_anon_setting_name(SF_AN_SEQ), "tcp_seq_mode") == 0);
  CHECK(sf_anon_policy_preset(&p, "nope") == SF_E_VALUE);
}

/* The seed toolkit's names (its README) work; sflua's stay as aliases
   and read back as the seed's. */
static void test_seed_names(void) {
  sf_anon_policy p;
  char err[200];
  CHECK(sf_anon_mode_find(SF_AN_MAC, "salted_hash_preserve_oui") == SF_MAC_HASH_OUI);
  CHECK(sf_anon_mode_find(SF_AN_MAC, "salted_hash_keep_oui") == SF_MAC_HASH_OUI);
  CHECK(strcmp(sf_anon_mode_name(SF_AN_MAC, SF_MAC_HASH_OUI), "salted_hash_preserve_oui") == 0);
  CHECK(sf_anon_mode_find(SF_AN_PORT, "categorize") == SF_PORT_CATEGORIZE);
  CHECK(sf_anon_mode_find(SF_AN_PORT, "preserve_well_known") == SF_PORT_WELL_KNOWN);
  CHECK(sf_anon_mode_find(SF_AN_TIME, "epoch_shift_jitter") == SF_TS_EPOCH_JITTER);
  CHECK(sf_anon_mode_find(SF_AN_PAYLOAD, "truncate_all") == SF_PL_DROP);
  CHECK(sf_anon_mode_find(SF_AN_PAYLOAD, "drop") == SF_PL_DROP);
  CHECK(strcmp(sf_anon_mode_name(SF_AN_PAYLOAD, SF_PL_DROP), "truncate_all") == 0);
  CHECK(sf_anon_mode_find(SF_AN_IP, "none") == SF_IP_PRESERVE);
  CHECK(strcmp(sf_anon_mode_name(SF_AN_IP, SF_IP_PRESERVE), "preserve") == 0);
  CHECK(sf_anon_policy_init(&p) == SF_OK);
  /* ml_optimized: Crypto-PAn, well-known ports, epoch shift, seq offset, 256 bytes */
  CHECK(sf_anon_policy_preset(&p, "ml_optimized") == SF_OK);
  CHECK(p.mode[SF_AN_IP] == SF_IP_CRYPTOPAN && p.mode[SF_AN_PORT] == SF_PORT_WELL_KNOWN &&
        p.mode[SF_AN_TIME] == SF_TS_EPOCH_SHIFT && p.mode[SF_AN_SEQ] == SF_SEQ_RANDOM_OFFSET &&
        p.mode[SF_AN_PAYLOAD] == SF_PL_TRUNCATE && p.payload_truncate_bytes == 256);
  /* maximum_privacy: Crypto-PAn, categorized ports, shift + jitter, seq
     offset, no payload */
  CHECK(sf_anon_policy_preset(&p, "maximum_privacy") == SF_OK);
  CHECK(p.mode[SF_AN_IP] == SF_IP_CRYPTOPAN && p.mode[SF_AN_PORT] == SF_PORT_CATEGORIZE &&
        p.mode[SF_AN_TIME] == SF_TS_EPOCH_JITTER && p.timestamp_jitter_ms > 0 &&
        p.mode[SF_AN_SEQ] == SF_SEQ_RANDOM_OFFSET && p.mode[SF_AN_PAYLOAD] == SF_PL_DROP);
  CHECK(sf_anon_policy_check(&p, err, sizeof err) == SF_OK);
  sf_anon_policy_set_mode(&p, SF_AN_TIME, SF_TS_EPOCH_SHIFT);
  CHECK(p.timestamp_jitter_ms == 0);  /* the preset's jitter went with its mode */
  sf_anon_policy_set_mode(&p, SF_AN_TIME, SF_TS_EPOCH_JITTER);
  CHECK(p.timestamp_jitter_ms == SF_ANON_JITTER_MS);
  p.timestamp_jitter_ms = 0;
  CHECK(sf_anon_policy_check(&p, err, sizeof err) == SF_E_VALUE && strstr(err, "timestamp_jitter_ms"));
  p.timestamp_jitter_ms = SF_ANON_MAX_JITTER_MS + 1;
  CHECK(sf_anon_policy_check(&p, err, sizeof err) == SF_E_VALUE);
}

/* categorize: the seed's IANA ranges, each to its first port */
static void test_categorize(void) {
  static const uint16_t in[] = {0, 53, 1023, 1024, 8080, 49151, 49152, 65535};
  static const uint16_t want[] = {0, 0, 0, 1024, 1024, 1024, 49152, 49152};
  sf_anon_policy p;
  sf_anon *a;
  size_t i;
  sf_anon_policy_init(&p);
  p.mode[SF_AN_PORT] = SF_PORT_CATEGORIZE;
  a = sf_anon_new(&p);
  for (i = 0; i < sizeof in / sizeof in[0]; i++) CHECK(sf_anon_port(a, in[i]) == want[i]);
  sf_anon_free(a);
}

#define S INT64_C(1000000000)

/* A clock that steps back: every time moves as the first one does; what
   would fall before 1970 is clamped and counted; jitter keeps the
   direction of every step. */
static void test_time_backwards(void) {
  static const int64_t in[] = {100 * S, 102 * S, 101 * S, 50 * S, 103 * S, 103 * S};
  sf_anon_policy p;
  sf_anon *a;
  int64_t out[6];
  int i;
  sf_anon_policy_init(&p);
  a = sf_anon_new(&p);  /* epoch_shift */
  for (i = 0; i < 6; i++) out[i] = sf_anon_time(a, in[i]);
  CHECK(out[0] == 0 && out[1] == 2 * S && out[2] == 1 * S && out[3] == 0 && out[4] == 3 * S);
  CHECK(sf_anon_times_clamped(a) == 1);
  sf_anon_free(a);
  p.mode[SF_AN_TIME] = SF_TS_RANDOM_SHIFT;
  a = sf_anon_new(&p);
  for (i = 0; i < 6; i++) out[i] = sf_anon_time(a, in[i]);
  CHECK(out[0] >= INT64_C(946684800) * S && out[3] == out[0] - 50 * S && out[2] == out[0] + S);
  CHECK(sf_anon_times_clamped(a) == 0);
  sf_anon_free(a);
  sf_anon_policy_set_mode(&p, SF_AN_TIME, SF_TS_EPOCH_JITTER);
  p.timestamp_jitter_ms = 2000;  /* more than the steps: clamps must act */
  a = sf_anon_new(&p);
  for (i = 0; i < 6; i++) out[i] = sf_anon_time(a, in[i]);
  for (i = 1; i < 6; i++) {
    if (in[i] >= in[i - 1]) CHECK(out[i] >= out[i - 1]);
    else CHECK(out[i] <= out[i - 1]);
  }
  for (i = 0; i < 6; i++) CHECK(out[i] >= 0);
  sf_anon_free(a);
  /* the extremes saturate instead of overflowing (UBSan watches) */
  p.mode[SF_AN_TIME] = SF_TS_RANDOM_SHIFT;
  p.timestamp_jitter_ms = 0;
  a = sf_anon_new(&p);
  sf_anon_time(a, INT64_MIN);
  CHECK(sf_anon_time(a, INT64_MAX) == INT64_MAX);
  sf_anon_free(a);
}

static void test_mac(void) {
  sf_anon_policy p;
  sf_anon *a;
  uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, m[6] = {0x00, 0x1b, 0x21, 1, 2, 3};
  uint8_t mc[6] = {0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa}, out[6];
  sf_anon_policy_init(&p);
  a = sf_anon_new(&p);
  sf_anon_mac(a, bc, out);
  CHECK(memcmp(out, bc, 6) == 0);
  sf_anon_mac(a, mc, out);
  CHECK(memcmp(out, mc, 3) == 0 && memcmp(out, mc, 6) != 0);
  sf_anon_mac(a, m, out);
  CHECK(memcmp(out, m, 6) != 0 && (out[0] & 3) == (m[0] & 3));
  sf_anon_free(a);
  p.mode[SF_AN_MAC] = SF_MAC_HASH_OUI;
  a = sf_anon_new(&p);
  sf_anon_mac(a, m, out);
  CHECK(memcmp(out, m, 3) == 0 && memcmp(out, m, 6) != 0);
  sf_anon_free(a);
}

static long file_bytes(const char *path, uint8_t **out) {
  FILE *f = fopen(path, "rb");
  long n;
  if (!f) return -1;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  *out = malloc((size_t)n + 1);
  if (fread(*out, 1, (size_t)n, f) != (size_t)n) n = -1;
  fclose(f);
  return n;
}

/* Every TCP/UDP/IPv4 checksum of every packet of path verifies. */
static int bad_checksums(const char *path) {
  char err[600];
  sf_reader *r = sf_reader_open(path, err, sizeof err);
  sf_rec rec;
  int bad = 0;
  if (!r) return -1;
  while (sf_reader_next(r, &rec) == SF_IO_REC) {
    sf_pkt p;
    int li, ok;
    sf_pkt_init(&p);
    sf_pkt_borrow(&p, rec.data, rec.caplen);
    p.linktype = rec.linktype;
    sf_pkt_parse(&p);
    for (li = 0; li < p.nlayers; li++) {
      const sf_layer *l = &p.layers[li];
      if (l->flags & (SF_L_QUOTED | SF_L_TRUNC)) continue;
      if (l->proto == ID("IP") && sf_fold(sf_sum16(p.data + l->off, l->hlen, 0)) != 0) bad++;
      if (l->proto == ID("TCP") && sf_l4_checksum(&p, li, 6, &ok) != 0) bad++;
      if (l->proto == ID("UDP") && p.data[l->off + 6] | p.data[l->off + 7] &&
          sf_l4_checksum(&p, li, 17, &ok) != 0) bad++;
    }
    sf_pkt_free(&p);
  }
  sf_reader_close(r);
  return bad;
}

static void test_capture(const char *in) {
  char err[600], o1[64], o2[64];
  sf_anon_policy p;
  sf_anon_stats st = {0};
  uint8_t *b1 = NULL, *b2 = NULL;
  long n1, n2;
  snprintf(o1, sizeof o1, "/tmp/test_anon_%d_a.pcap", (int)getpid());
  snprintf(o2, sizeof o2, "/tmp/test_anon_%d_b.pcap", (int)getpid());
  sf_anon_policy_init(&p);
  p.timestamp_jitter_ms = 5;
  CHECK(sf_anon_pcap(in, o1, &p, NULL, &st, err, sizeof err) == SF_OK);
  CHECK(st.packets > 0);
  CHECK(sf_anon_pcap(in, o2, &p, NULL, NULL, err, sizeof err) == SF_OK);
  n1 = file_bytes(o1, &b1);
  n2 = file_bytes(o2, &b2);
  CHECK(n1 > 0 && n1 == n2 && memcmp(b1, b2, (size_t)n1) == 0);  /* deterministic */
  CHECK(bad_checksums(o1) == 0);
  free(b1);
  free(b2);
  unlink(o1);
  unlink(o2);
}

/* Record i of a capture, for comparing an input with its output. */
typedef struct rec { uint8_t data[2048]; uint32_t caplen, wirelen; } rec;

static int read_recs(const char *path, rec *out, int max) {
  char err[600];
  sf_reader *r = sf_reader_open(path, err, sizeof err);
  sf_rec x;
  int n = 0;
  if (!r) return -1;
  while (n < max && sf_reader_next(r, &x) == SF_IO_REC) {
    out[n].caplen = x.caplen;
    out[n].wirelen = x.wirelen;
    memcpy(out[n].data, x.data, x.caplen < 2048 ? x.caplen : 2048);
    n++;
  }
  sf_reader_close(r);
  return n;
}

/* Payloads cut as a snap length cuts them (tcpdump -s): the record keeps
   its original length, the IP header its total length; only the kept
   bytes remain.  With payload_rewrite_lengths, the lengths follow. */
static void test_snap_cut(const char *in, int rewrite) {
  static rec a[64], b[64];
  char err[600], o[64];
  sf_anon_policy p;
  int n, m, i, cut = 0;
  snprintf(o, sizeof o, "/tmp/test_anon_%d_snap.pcap", (int)getpid());
  sf_anon_policy_init(&p);
  p.payload_rewrite_lengths = rewrite;
  CHECK(sf_anon_pcap(in, o, &p, NULL, NULL, err, sizeof err) == SF_OK);
  n = read_recs(in, a, 64);
  m = read_recs(o, b, 64);
  CHECK(n > 0 && n == m);
  for (i = 0; i < n && i < m; i++) {
    const uint8_t *ia = a[i].data + 14, *ib = b[i].data + 14;  /* Ethernet, IPv4 */
    if (b[i].caplen == a[i].caplen) continue;
    cut++;
    CHECK(b[i].caplen < a[i].caplen && b[i].caplen <= 14 + 4 + 60 + 60 + 256);
    CHECK(b[i].wirelen == (rewrite ? b[i].caplen : a[i].wirelen));
    if (a[i].data[12] != 0x08 || a[i].data[13] != 0) continue;  /* IPv4 alone below */
    if (rewrite) {
      CHECK((ib[2] << 8 | ib[3]) == (int)b[i].caplen - 14);
    } else {
      CHECK((ib[2] << 8 | ib[3]) == (ia[2] << 8 | ia[3]));
      CHECK(sf_fold(sf_sum16(ib, (size_t)(ib[0] & 15) * 4, 0)) == 0);  /* IP header checksum right */
    }
  }
  CHECK(cut > 0);  /* the capture has payloads over 256 bytes */
  unlink(o);
}

/* sf_anon_fast writes what sf_anon_packet writes: every packet of a
   capture through both, two anonymizers of one policy kept in step. */
static int fast_vs_general(const char *path, const sf_anon_policy *pol) {
  static uint8_t out[65536 + 64];
  char err[600];
  sf_reader *r = sf_reader_open(path, err, sizeof err);
  sf_anon *fa = sf_anon_new(pol), *ga = sf_anon_new(pol);
  sf_rec x;
  int fast = 0;
  if (!r || !fa || !ga) return -1;
  sf_anon_fast_init(fa);
  while (sf_reader_next(r, &x) == SF_IO_REC) {
    sf_pkt p, q;
    size_t olen;
    uint32_t wl;
    int64_t t;
    sf_pkt_init(&p);
    sf_pkt_init(&q);
    sf_pkt_borrow(&p, x.data, x.caplen);
    p.linktype = x.linktype;
    p.wirelen = x.wirelen;
    p.time_ns = x.time_ns;
    sf_pkt_parse(&p);
    sf_pkt_copy(&q, &p);
    if (p.linktype == 1 && sf_anon_fast(fa, &p, out, sizeof out, &olen, &wl, &t)) {
      fast++;
      CHECK(sf_anon_packet(ga, &q) == SF_OK);
      if (olen > wl) wl = (uint32_t)olen;  /* as anon_pcap writes records */
      CHECK(olen == q.len && memcmp(out, q.data, olen) == 0);
      CHECK(wl == (q.wirelen > q.len ? q.wirelen : (uint32_t)q.len));
      CHECK(t == q.time_ns);
    } else {
      sf_anon_packet(ga, &q);
      sf_anon_packet(fa, &p);  /* the same state on both sides */
    }
    sf_pkt_free(&p);
    sf_pkt_free(&q);
  }
  sf_reader_close(r);
  sf_anon_free(fa);
  sf_anon_free(ga);
  return fast;
}

static void test_fast_path(void) {
  static const char *const caps[] = {"data/anon_mix.pcap", "data/http.pcap", "data/dnssec.pcap",
                                     "data/charrua-dhcp.pcap", "data/dns_tcp.pcap"};
  sf_anon_policy p;
  int c, v, fast;
  for (v = 0; v < 6; v++) {
    sf_anon_policy_init(&p);
    if (v == 1) p.payload_rewrite_lengths = 1;
    if (v == 2) sf_anon_policy_preset(&p, "maximum_privacy");
    if (v == 3) p.mode[SF_AN_PAYLOAD] = SF_PL_ZERO;
    if (v == 4) { p.mode[SF_AN_PAYLOAD] = SF_PL_DROP; p.mode[SF_AN_PORT] = SF_PORT_PERMUTE; }
    if (v == 5) { p.payload_truncate_bytes = 1; p.mode[SF_AN_SEQ] = SF_SEQ_PRESERVE; }
    for (c = 0, fast = 0; c < 5; c++) {
      int n = fast_vs_general(caps[c], &p);
      CHECK(n >= 0);
      fast += n;
    }
    CHECK(fast > 1000);  /* the comparison compared */
  }
}

static void test_bad_input(void) {
  char err[600] = "";
  sf_anon_policy p;
  sf_anon_policy_init(&p);
  CHECK(sf_anon_pcap("data/no-such-file.pcap", "/tmp/x.pcap", &p, NULL, NULL, err, sizeof err) != SF_OK);
  CHECK(strstr(err, "no-such-file") != NULL || strlen(err) > 0);
}

int main(void) {
  test_sample();
  test_vectors();
  test_prefix(4);
  test_prefix(16);
  test_names();
  test_seed_names();
  test_categorize();
  test_time_backwards();
  test_mac();
  test_capture("data/http.pcap");
  test_capture("data/dns_icmp.pcap");
  test_capture("data/icmpv6.pcap");
  test_capture("data/dns_tcp.pcap");
  test_capture("data/tcp-handshake-nano.pcap");
  test_snap_cut("data/dnssec.pcap", 0);
  test_snap_cut("data/dnssec.pcap", 1);
  test_snap_cut("data/anon_mix.pcap", 0);
  test_fast_path();
  test_bad_input();
  return check_report("test_anon");
}
