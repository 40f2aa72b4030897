/*
 * dns_bench.c -- DNS responses dissected in C, and their fields read.
 * Usage: dns_bench CAPTURE [SECONDS]
 *
 * The capture (bench/gen_dns.lua) is loaded into memory; one sf_pkt is
 * reused.  c_dns_dissect: every layer of every message (sf_dissect).
 * c_dns_fields: that, then the fields tshark prints in the anchor run
 * (bench/dns_bench.sh): the id, the question's name as text (the dns_name
 * codec, pointers followed), and every answer's type and rdata (an A or
 * AAAA address, a CNAME or an MX exchange as text).  Prints "RESULT name
 * messages/s" for each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/io.h"
#include "sf.h"

static double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct cap {
  uint8_t **data;
  uint32_t *len;
  size_t n;
} cap;

static int load(cap *c, const char *path) {
  char err[256];
  sf_reader *r = sf_reader_open(path, err, sizeof err);
  sf_rec rec;
  size_t capn = 0;
  if (!r) { fprintf(stderr, "%s\n", err); return -1; }
  memset(c, 0, sizeof *c);
  while (sf_reader_next(r, &rec) == 1) {
    if (c->n == capn) {
      capn = capn ? capn * 2 : 1024;
      c->data = realloc(c->data, capn * sizeof *c->data);
      c->len = realloc(c->len, capn * sizeof *c->len);
    }
    c->data[c->n] = malloc(rec.caplen);
    memcpy(c->data[c->n], rec.data, rec.caplen);
    c->len[c->n++] = rec.caplen;
  }
  sf_reader_close(r);
  return c->n ? 0 : -1;
}

typedef struct names {
  int dns, qr, rr, mx;                 /* protocols */
  int id, qname, type, rdata, exchange;  /* field indices */
  const sf_codec *name;
} names;

static uint64_t text_of(const sf_pkt *p, int li, int fi, const names *n) {
  char text[1100];
  sf_val v;
  if (sf_field_get(p, li, fi, &v) != SF_OK) return 0;
  return (uint64_t)n->name->to_text(p, li, fi, v.p, v.n, text, sizeof text);
}

/* The fields of one message; its checksum. */
static uint64_t fields(const sf_pkt *p, const names *n) {
  uint64_t sum = 0;
  int li, k;
  for (li = 0; li < p->nlayers && p->layers[li].proto != n->dns; li++) {}
  if (li == p->nlayers) return 0;
  sum += sf_lget(p, li, n->id);
  for (k = li + 1; k < p->nlayers; k++) {
    const sf_proto *pr = sf_proto_get(p->layers[k].proto);
    sf_val v;
    int fi;
    if (!pr->record) break;
    if (p->layers[k].proto == n->qr) {
      sum += text_of(p, k, n->qname, n);
      continue;
    }
    if (pr->id == n->mx) {
      sum += sf_lget(p, k, n->type) + text_of(p, k, n->exchange, n);
      continue;
    }
    if (pr->id != n->rr) continue;  /* the OPT record */
    sum += sf_lget(p, k, n->type);
    if ((fi = sf_field_resolve(p, k, n->rdata)) < 0) continue;
    if (pr->fields[fi].codec) sum += text_of(p, k, fi, n);
    else if (sf_field_get(p, k, fi, &v) == SF_OK && v.n) sum += v.p[v.n - 1];
  }
  return sum;
}

static uint64_t pass(sf_pkt *p, const cap *c, const names *n, int read) {
  int ether = sf_linktype_proto(1, NULL, 0);
  uint64_t sum = 0;
  size_t i;
  for (i = 0; i < c->n; i++) {
    sf_pkt_borrow(p, c->data[i], c->len[i]);
    sf_dissect(p, ether);
    sum += p->nlayers;
    if (read) sum += fields(p, n);
  }
  return sum;
}

static void measure(const char *what, sf_pkt *p, const cap *c, const names *n,
                    int read, double secs) {
  uint64_t sum = pass(p, c, n, read), done = 0;  /* warm-up */
  double t0 = mono_now(), el;
  do {
    sum += pass(p, c, n, read);
    done += c->n;
    el = mono_now() - t0;
  } while (el < secs);
  fprintf(stderr, "%s: %zu messages x %llu passes, %.3f s, checksum %llu\n", what, c->n,
          (unsigned long long)(done / c->n), el, (unsigned long long)sum);
  printf("RESULT %s %.0f\n", what, (double)done / el);
}

int main(int argc, char **argv) {
  double secs = argc > 2 ? atof(argv[2]) : 1.5;
  names n;
  cap c;
  sf_pkt p;
  if (argc < 2) {
    fprintf(stderr, "usage: %s CAPTURE [SECONDS]\n", argv[0]);
    return 2;
  }
  sf_init();
  if (load(&c, argv[1]) != 0) return 1;
  n.dns = sf_proto_find("DNS");
  n.qr = sf_proto_find("DNSQR");
  n.id = sf_field_find(sf_proto_get(n.dns), "id");
  n.qname = sf_field_find(sf_proto_get(n.qr), "qname");
  n.rr = sf_proto_find("DNSRR");
  n.mx = sf_proto_find("DNSRRMX");
  n.type = sf_field_find(sf_proto_get(n.rr), "type");
  n.rdata = sf_field_find(sf_proto_get(n.rr), "rdata");
  n.exchange = sf_field_find(sf_proto_get(n.mx), "exchange");
  n.name = sf_codec_find("dns_name");
  sf_pkt_init(&p);
  measure("c_dns_dissect", &p, &c, &n, 0, secs);
  measure("c_dns_fields", &p, &c, &n, 1, secs);
  sf_pkt_free(&p);
  return 0;
}
