/*
 * test_flow.c -- core/flow from C: keys in both directions, the hash
 * table under churn (backward-shift deletion), TCP reassembly with
 * out-of-order segments and wrap-around, caps, spilling to files under a
 * budget, and http.pcap's conversations.  Runs in tests/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anon/anon.h"
#include "flow/flow.h"
#include "io/io.h"

#include "check.h"

#define LT_IPV4 228

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

/* An IPv4 + TCP frame (raw IPv4 link type) from a to b; returns its length. */
static size_t tcp_frame(uint8_t *f, uint32_t a, uint32_t b, unsigned sp,
                        unsigned dp, uint32_t seq, uint32_t ack,
                        uint8_t flags, const char *data, size_t n) {
  memset(f, 0, 40);
  f[0] = 0x45;
  put16(f + 2, (unsigned)(40 + n));
  f[8] = 64;
  f[9] = 6;
  put32(f + 12, a);
  put32(f + 16, b);
  put16(f + 20, sp);
  put16(f + 22, dp);
  put32(f + 24, seq);
  put32(f + 28, ack);
  f[32] = 5 << 4;
  f[33] = flags;
  put16(f + 34, 65535);
  memcpy(f + 40, data, n);
  return 40 + n;
}

static sf_flow *feed(sf_flows *t, uint32_t a, uint32_t b, unsigned sp,
                     unsigned dp, uint32_t seq, uint8_t flags, const char *d,
                     int64_t when, int *dir) {
  uint8_t f[2000];
  size_t n = tcp_frame(f, a, b, sp, dp, seq, 0, flags, d, strlen(d));
  return sf_flows_add(t, f, (uint32_t)n, (uint32_t)n, LT_IPV4, when, dir);
}

static sf_flows *table(void) {
  sf_flow_config c;
  sf_flow_config_default(&c);
  return sf_flows_new(&c);
}

static void test_directions(void) {
  sf_flows *t = table();
  int d = -1;
  sf_flow *f1 = feed(t, 0x0a000001, 0x0a000002, 1000, 80, 100, 0x02, "", 1, &d);
  CHECK(f1 && d == SF_FLOW_FWD);
  CHECK(feed(t, 0x0a000002, 0x0a000001, 80, 1000, 500, 0x12, "", 2, &d) == f1);
  CHECK(d == SF_FLOW_REV);
  CHECK(feed(t, 0x0a000001, 0x0a000002, 1000, 80, 101, 0x10, "", 3, &d) == f1);
  CHECK(d == SF_FLOW_FWD && f1->packets[0] == 2 && f1->packets[1] == 1);
  CHECK(sf_tcp_state(f1, 0) == SF_TCP_ESTABLISHED);
  sf_flows_free(t);
}

/* Many flows created and ended (by a short timeout) keep lookups right. */
static void test_churn(void) {
  sf_flow_config c;
  sf_flows *t;
  sf_flow *f;
  int i, d, n = 0, bad = 0;
  sf_flow_config_default(&c);
  c.tcp_half_open_timeout_ns = 10;
  t = sf_flows_new(&c);
  for (i = 0; i < 20000; i++) {
    f = feed(t, 0x0a000000u + (uint32_t)(i % 3000), 0x0b000001, 1024 + (unsigned)(i % 7),
             80, 1, 0x02, "", (int64_t)i * 3, &d);
    if (!f || f->packets[0] != 1) bad++;
    while ((f = sf_flows_pop(t)) != NULL) {
      n++;
      CHECK(f->status == SF_FS_TIMEDOUT);
      sf_flow_free(t, f);
    }
  }
  CHECK(bad == 0);
  CHECK(n >= 19990);  /* the last few are still within their timeout */
  sf_flows_finish(t);
  while ((f = sf_flows_pop(t)) != NULL) {
    n++;
    sf_flow_free(t, f);
  }
  CHECK(n == 20000);
  sf_flows_free(t);
}

static void test_reassembly(void) {
  sf_flows *t = table();
  uint32_t isn = 0xfffffff0u;  /* the stream crosses 2^32 */
  int d;
  size_t n;
  uint8_t buf[64];
  sf_flow *f = feed(t, 1, 2, 5, 6, isn, 0x02, "", 1, &d);
  feed(t, 1, 2, 5, 6, isn + 1 + 10, 0x18, "0123456789", 2, &d);  /* 2nd */
  feed(t, 1, 2, 5, 6, isn + 1 + 20, 0x18, "abcdefghij", 3, &d);  /* 3rd */
  feed(t, 1, 2, 5, 6, isn + 1, 0x18, "ABCDEFGHIJ", 4, &d);       /* 1st */
  feed(t, 1, 2, 5, 6, isn + 1 + 5, 0x18, "FGHIJ01234", 5, &d);   /* overlap */
  n = sf_flow_stream_len(f, 0);
  CHECK(n == 30 && sf_flow_stream_copy(t, f, 0, buf) == SF_OK &&
        memcmp(buf, "ABCDEFGHIJ0123456789abcdefghij", 30) == 0);
  CHECK(f->dir[0].dropped == 0 && sf_flow_gaps(f, 0, &n) == NULL && n == 0);
  sf_flows_free(t);
}

/* Past max_ooo_fragments held segments the hole is skipped as a gap and
   everything after it kept; what arrives for the hole later is counted. */
static void test_caps(void) {
  sf_flow_config c;
  sf_flows *t;
  sf_flow *f;
  sf_flow_stats st;
  const sf_gap *g;
  size_t n;
  int d, i;
  sf_flow_config_default(&c);
  c.max_ooo_fragments = 4;
  c.max_reassembly_buffer = 1000;
  t = sf_flows_new(&c);
  f = feed(t, 1, 2, 5, 6, 0, 0x02, "", 1, &d);  /* data starts at seq 1 */
  for (i = 0; i < 10; i++) feed(t, 1, 2, 5, 6, 100 + (uint32_t)i * 10, 0x18, "xxxxxxxxxx", 2, &d);
  g = sf_flow_gaps(f, 0, &n);
  CHECK(n == 1 && g && g[0].off == 0 && g[0].len == 99);
  CHECK(sf_flow_stream_len(f, 0) == 100 && f->dir[0].dropped == 0);
  feed(t, 1, 2, 5, 6, 1, 0x18, "late", 3, &d);  /* the hole's data, too late */
  sf_flows_stats(t, &st);
  CHECK(f->dir[0].dropped == 1 && st.dropped_late == 1 && st.gaps_forced == 1);
  sf_flows_free(t);
}

/* Capture order is not sending order: the server's reply and the client's
   second segment are captured before the handshake.  Nothing is lost, and
   the SYN's sender is still the initiator. */
static void test_data_before_syn(void) {
  sf_flows *t = table();
  uint8_t buf[64];
  int d;
  sf_flow *f = feed(t, 0x0a000002, 0x0a000001, 80, 1000, 5001, 0x18, "HTTP/1.1 200", 1, &d);
  feed(t, 0x0a000001, 0x0a000002, 1000, 80, 106, 0x18, "second", 2, &d);
  CHECK(f && sf_flow_stream_len(f, 0) == 0 && sf_flow_stream_len(f, 1) == 0);  /* waiting */
  CHECK(feed(t, 0x0a000001, 0x0a000002, 1000, 80, 100, 0x02, "", 3, &d) == f);  /* SYN */
  CHECK(d == SF_FLOW_FWD && memcmp(f->key.addr[0], "\x0a\0\0\x01", 4) == 0);  /* swapped */
  CHECK(f->packets[0] == 2 && f->packets[1] == 1);
  feed(t, 0x0a000002, 0x0a000001, 80, 1000, 5000, 0x12, "", 4, &d);             /* SYN+ACK */
  CHECK(d == SF_FLOW_REV && sf_flow_stream_len(f, 1) == 12);
  feed(t, 0x0a000001, 0x0a000002, 1000, 80, 101, 0x18, "first", 5, &d);
  CHECK(sf_flow_stream_len(f, 0) == 11 && sf_flow_stream_copy(t, f, 0, buf) == SF_OK &&
        memcmp(buf, "firstsecond", 11) == 0);
  CHECK(sf_flow_stream_copy(t, f, 1, buf) == SF_OK && memcmp(buf, "HTTP/1.1 200", 12) == 0);
  sf_flows_free(t);
}

/* Without a SYN ever (the capture joined mid-stream), a direction waits
   for it no longer than reorder_window, then starts at its lowest byte. */
static void test_midstream_window(void) {
  sf_flows *t = table();
  int d;
  sf_flow *f = feed(t, 1, 2, 5, 6, 1010, 0x18, "klmnopqrst", 0, &d);
  feed(t, 1, 2, 5, 6, 1000, 0x18, "abcdefghij", SF_NS / 2, &d);
  CHECK(sf_flow_stream_len(f, 0) == 0);
  feed(t, 2, 1, 6, 5, 1, 0x10, "", 2 * SF_NS, &d);  /* time moves past the window */
  CHECK(sf_flow_stream_len(f, 0) == 20);
  sf_flows_free(t);
}

/* Capture times at the ends of int64: timeouts compare without overflow
   (UBSan would stop here otherwise), and never-ending timeouts hold. */
static void test_extreme_times(void) {
  sf_flow_config c;
  sf_flows *t;
  sf_flow *f;
  int d, n = 0;
  sf_flow_config_default(&c);
  t = sf_flows_new(&c);
  feed(t, 1, 2, 5, 6, 0, 0x02, "", INT64_MIN + 1, &d);
  feed(t, 3, 4, 5, 6, 0, 0x02, "", INT64_MAX, &d);  /* the first one times out */
  while ((f = sf_flows_pop(t)) != NULL) {
    n++;
    sf_flow_free(t, f);
  }
  CHECK(n == 1);
  sf_flows_free(t);
  c.tcp_half_open_timeout_ns = INT64_MAX;  /* never */
  t = sf_flows_new(&c);
  feed(t, 1, 2, 5, 6, 0, 0x02, "", INT64_MIN + 1, &d);
  feed(t, 3, 4, 5, 6, 0, 0x02, "", INT64_MAX, &d);
  CHECK(sf_flows_pop(t) == NULL);
  sf_flows_free(t);
}

/* Holding out-of-order segments costs O(log n) each: 200,000 segments
   past a hole, in ascending order (the old sorted list's worst case, n^2/2
   = 2e10 steps) and then in descending order, are held and delivered in
   a bounded number of heap steps (reasm_steps counts every sift step). */
static void test_many_held(void) {
  enum { N = 200000 };
  sf_flow_config c;
  sf_flows *t;
  sf_flow *f;
  sf_flow_stats st;
  uint64_t bound = 4ull * N * 18;  /* 4 n log2 n */
  int d, i, pass;
  for (pass = 0; pass < 2; pass++) {
    sf_flow_config_default(&c);
    c.max_ooo_fragments = 1u << 20;
    c.max_reassembly_buffer = (size_t)64 << 20;
    t = sf_flows_new(&c);
    f = feed(t, 1, 2, 5, 6, 0, 0x02, "", 1, &d);
    for (i = 1; i <= N; i++) {
      uint32_t k = pass ? (uint32_t)(N + 1 - i) : (uint32_t)i;
      feed(t, 1, 2, 5, 6, 1 + k * 10, 0x18, "0123456789", 2, &d);
    }
    CHECK(sf_flow_stream_len(f, 0) == 0);             /* all held */
    feed(t, 1, 2, 5, 6, 1, 0x18, "abcdefghij", 3, &d);  /* the hole fills */
    sf_flows_stats(t, &st);
    CHECK(sf_flow_stream_len(f, 0) == (N + 1) * 10u && f->dir[0].dropped == 0);
    CHECK(st.reasm_steps <= bound);
    if (st.reasm_steps > bound)
      fprintf(stderr, "%llu heap steps for %d segments\n",
              (unsigned long long)st.reasm_steps, N);
    sf_flows_free(t);
  }
}

/* Under a tiny budget streams go to files; the bytes read back equal. */
static void test_spill(void) {
  sf_flow_config c;
  sf_flows *t;
  sf_flow *f;
  sf_flow_stats st;
  char chunk[1001];
  int d, i;
  size_t n;
  static uint8_t s[50000];
  sf_flow_config_default(&c);
  c.memory_budget = 4096;
  t = sf_flows_new(&c);
  memset(chunk, 'a', 1000);
  chunk[1000] = 0;
  f = feed(t, 1, 2, 5, 6, 0, 0x02, "", 1, &d);
  for (i = 0; i < 50; i++) {
    chunk[0] = (char)('A' + i % 26);
    feed(t, 1, 2, 5, 6, 1 + (uint32_t)i * 1000, 0x18, chunk, 2, &d);
  }
  sf_flows_stats(t, &st);
  CHECK(st.spills >= 1 && st.buffered - st.spilled_bytes <= 4096);  /* streams in memory */
  n = sf_flow_stream_len(f, 0);
  CHECK(n == 50000 && sf_flow_stream_copy(t, f, 0, s) == SF_OK);
  CHECK(s[0] == 'A' && s[1000] == 'B' && s[49000] == 'A' + 49 % 26 && s[49999] == 'a');
  sf_flows_free(t);
}

/* Past the budget the idlest conversations end early (Evicted), the busy
   one stays whole, and the budget holds; under a budget that fits them,
   none does. */
static void test_evict(void) {
  sf_flow_config c;
  sf_flows *t;
  sf_flow *f, *busy;
  sf_flow_stats st;
  int d, i, evicted = 0, others = 0;
  sf_flow_config_default(&c);
  c.memory_budget = 256 << 10;
  t = sf_flows_new(&c);
  busy = feed(t, 0x0a000001, 0x0a000002, 1, 80, 0, 0x02, "", 0, &d);
  for (i = 0; i < 5000; i++) {
    feed(t, 0x0b000000u + (uint32_t)i, 0x0a000002, 2, 80, 0, 0x02, "", 10 + i, &d);
    if (i % 100 == 0) CHECK(feed(t, 0x0a000001, 0x0a000002, 1, 80, 1, 0x10, "", 10 + i, &d) == busy);
    sf_flows_stats(t, &st);
    if (st.in_memory > c.memory_budget) others++;
    while ((f = sf_flows_pop(t)) != NULL) {
      CHECK(f != busy && f->status == SF_FS_EVICTED && f->packets[0] == 1);
      evicted++;
      sf_flow_free(t, f);
    }
  }
  CHECK(others == 0 && evicted > 4000 && busy->packets[0] == 51);
  sf_flows_stats(t, &st);
  CHECK(st.evicted == (uint64_t)evicted && st.active + st.evicted == 5001);
  sf_flows_free(t);
  /* the same 5000 under a budget that holds them: nothing ends early */
  c.memory_budget = 8 << 20;
  t = sf_flows_new(&c);
  for (i = 0; i < 5000; i++)
    feed(t, 0x0b000000u + (uint32_t)i, 0x0a000002, 2, 80, 0, 0x02, "", 10 + i, &d);
  sf_flows_stats(t, &st);
  CHECK(st.evicted == 0 && st.active == 5000 && sf_flows_pop(t) == NULL);
  sf_flows_free(t);
}

/* The driver's callbacks: conversations collected in order, packets counted. */
typedef struct got {
  sf_flow_run *run;
  sf_flow *f[16];
  int n, packets, fwd;
} got;

static void keep_flow(void *ud, sf_flow *f) {
  got *g = (got *)ud;
  if (g->n < 16) g->f[g->n++] = f;
  else sf_flow_free(sf_flow_run_table(g->run), f);
}

static void saw_packet(void *ud, const sf_pkt *p, sf_flow *f, int dir) {
  got *g = (got *)ud;
  (void)f;
  g->packets += p->len > 0;
  g->fwd += dir == SF_FLOW_FWD;
}

static void free_got(got *g) {
  int i;
  for (i = 0; i < g->n; i++) sf_flow_free(sf_flow_run_table(g->run), g->f[i]);
  sf_flow_run_free(g->run);
}

static sf_flow_run *driver(got *g, int hold, FILE *log, int verbose) {
  sf_flow_config c;
  sf_flow_hooks h;
  memset(g, 0, sizeof *g);
  memset(&h, 0, sizeof h);
  sf_flow_config_default(&c);
  c.verbose = verbose;
  c.progress_interval = 10;
  h.ud = g;
  h.on_flow = keep_flow;
  h.hold = hold;
  h.on_packet = saw_packet;
  h.log = log;
  return g->run = sf_flow_run_new(&c, &h);
}

/* http.pcap through the driver: tshark's conversations, sorted. */
static void test_http_pcap(void) {
  got g;
  FILE *log = tmpfile();
  char line[512];
  int lines = 0, done = 0;
  CHECK(driver(&g, 1, log, 1) != NULL);
  CHECK(sf_flow_run_file(g.run, "data/http.pcap", NULL) == SF_OK);
  CHECK(g.n == 3 && g.packets == 43);
  if (g.n == 3) {
    sf_flow *f = g.f[0];
    CHECK(f->packets[0] == 16 && f->bytes[0] == 1351 && f->packets[1] == 18);
    CHECK(sf_flow_stream_len(f, 1) == 18364);
    CHECK(f->status == SF_FS_CLOSED && f->nidx == 34);
    CHECK(g.f[0]->start_ns <= g.f[1]->start_ns && g.f[1]->start_ns <= g.f[2]->start_ns);
  }
  free_got(&g);
  /* progress comes from the driver: a line every 10 packets, then "done" */
  rewind(log);
  while (fgets(line, sizeof line, log)) {
    lines++;
    done += strstr(line, "[flows] done: 43 packets, 3 flows") != NULL;
  }
  CHECK(lines == 5 && done == 1);
  fclose(log);
}

static void test_bad_file(void) {
  got g;
  CHECK(driver(&g, 0, NULL, 0) != NULL);
  CHECK(sf_flow_run_file(g.run, "data/no-such.pcap", NULL) != SF_OK);
  CHECK(strstr(sf_flow_run_error(g.run), "no-such.pcap") != NULL);
  free_got(&g);
}

/* The host's packets: raw IPv4 (first protocol set, no link type) through
   the anonymizer, as extract_flows_from_packets({Packet(ip, {proto="IP"})},
   {anonymization=...}) does. */
typedef struct hostsrc {
  uint8_t frame[2][100];
  size_t len[2];
  int i;
  sf_pkt p;
} hostsrc;

static int host_next(void *ud, sf_pkt **pp) {
  hostsrc *s = (hostsrc *)ud;
  if (s->i == 4) return 0;
  sf_pkt_borrow(&s->p, s->frame[s->i % 2], s->len[s->i % 2]);
  s->p.linktype = 1;  /* wrong on purpose: the first protocol decides */
  s->p.first = sf_proto_find("IP") + 1;
  s->p.time_ns = s->i++;
  *pp = &s->p;
  return 1;
}

static void test_source_anonymized(void) {
  got g;
  hostsrc s;
  sf_anon_policy pol;
  sf_anon *a;
  memset(&s, 0, sizeof s);
  sf_pkt_init(&s.p);
  s.len[0] = tcp_frame(s.frame[0], 0x0a000001, 0x0a000002, 1000, 80, 1, 0, 0x02, "", 0);
  s.len[1] = tcp_frame(s.frame[1], 0x0a000002, 0x0a000001, 80, 1000, 9, 2, 0x12, "", 0);
  CHECK(sf_anon_policy_init(&pol) == SF_OK);
  CHECK((a = sf_anon_new(&pol)) != NULL);
  CHECK(driver(&g, 0, NULL, 0) != NULL);
  sf_flow_run_anonymize(g.run, a);
  CHECK(sf_flow_run_source(g.run, host_next, &s, 1) == SF_OK);
  CHECK(g.n == 1 && g.packets == 4 && g.fwd == 2);
  if (g.n == 1) {
    CHECK(g.f[0]->packets[0] == 2 && g.f[0]->packets[1] == 2);
    CHECK(memcmp(g.f[0]->key.addr[0], "\x0a\0\0\x01", 4) != 0);  /* rewritten */
  }
  free_got(&g);
  sf_anon_free(a);
  sf_pkt_free(&s.p);
}

int main(void) {
  sf_init();
  test_directions();
  test_churn();
  test_reassembly();
  test_caps();
  test_many_held();
  test_data_before_syn();
  test_midstream_window();
  test_extreme_times();
  test_spill();
  test_evict();
  test_http_pcap();
  test_bad_file();
  test_source_anonymized();
  return check_report("test_flow");
}
