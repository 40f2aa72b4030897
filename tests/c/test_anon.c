/*
 * test_anon.c -- core/anon from C: Crypto-PAn against the published
 * vectors (data/cryptopan.txt) and the original sample, its inverse,
 * prefix preservation on random pairs, policy names, and anonymized
 * captures: deterministic, checksums right, seq/ack consistent.
 * Runs in tests/ (ctest's working directory).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anon/anon.h"
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
  CHECK(sf_anon_policy_preset(&p, "maximum_privacy") == SF_OK);
  CHECK(p.mode[SF_AN_PAYLOAD] == SF_PL_DROP);
  CHECK(sf_anon_policy_preset(&p, "nope") == SF_E_VALUE);
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
  sf_anon_stats st = {0, 0, 0};
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
  test_mac();
  test_capture("data/http.pcap");
  test_capture("data/dns_icmp.pcap");
  test_capture("data/icmpv6.pcap");
  test_capture("data/dns_tcp.pcap");
  test_capture("data/tcp-handshake-nano.pcap");
  test_bad_input();
  return check_report("test_anon");
}
