/*
 * tls_bench.c -- the SNI of ClientHellos in C: every frame of a capture
 * (bench/gen_tls.lua writes one) held in memory, then per frame
 * sf_pkt_borrow + sf_dissect from Ethernet + the server name read from the
 * TLS_Ext_ServerName layer (sf_field_get); and the same on the TLS records
 * alone (the messages a flow's stream hands over), parsed from "TLS".
 * Usage: tls_bench CAPTURE [SECONDS]
 * Prints "RESULT c_tls_sni_frames <msgs/s>" and "RESULT c_tls_sni_records"
 * (wall clock), and "CPU ..." lines: the same per second of this thread's
 * CPU time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/io.h"
#include "sf.h"

static double clock_now(clockid_t which) {
  struct timespec ts;
  clock_gettime(which, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double mono_now(void) { return clock_now(CLOCK_MONOTONIC); }
/* this thread's CPU time: the rate with the machine to itself, when
   others load it (the wall-clock figure is the one compared) */
static double cpu_now(void) { return clock_now(CLOCK_THREAD_CPUTIME_ID); }

typedef struct frames {
  uint8_t *data;
  size_t n, cap, bytes;
  size_t *off, *len, *rec;   /* rec: where the TLS record starts */
} frames;

static int add(frames *f, const uint8_t *d, size_t len) {
  if (f->n == f->cap) {
    f->cap = f->cap ? 2 * f->cap : 1024;
    f->off = realloc(f->off, f->cap * sizeof *f->off);
    f->len = realloc(f->len, f->cap * sizeof *f->len);
    f->rec = realloc(f->rec, f->cap * sizeof *f->rec);
    if (!f->off || !f->len || !f->rec) return -1;
  }
  f->data = realloc(f->data, f->bytes + len);
  if (!f->data) return -1;
  memcpy(f->data + f->bytes, d, len);
  f->off[f->n] = f->bytes;
  f->len[f->n] = len;
  f->rec[f->n] = 0;
  f->bytes += len;
  f->n++;
  return 0;
}

static int load(frames *f, const char *path) {
  char err[256];
  sf_reader *r = sf_reader_open(path, err, sizeof err);
  sf_rec rec;
  int rc;
  if (!r) return fprintf(stderr, "%s\n", err), -1;
  memset(f, 0, sizeof *f);
  while ((rc = sf_reader_next(r, &rec)) == SF_IO_REC)
    if (add(f, rec.data, rec.caplen)) return -1;
  if (rc == SF_IO_ERR) fprintf(stderr, "%s\n", sf_reader_error(r));
  sf_reader_close(r);
  return rc == SF_IO_ERR ? -1 : 0;
}

typedef struct ids {
  int ether, tls, sni, name;
} ids;

/* The server name's length of the packet's first SNI extension, or 0. */
static size_t sni_of(const sf_pkt *p, const ids *id) {
  sf_val v;
  int li;
  for (li = 0; li < p->nlayers; li++)
    if (p->layers[li].proto == id->sni)
      return sf_field_get(p, li, id->name, &v) == SF_OK ? v.n + v.p[0] : 0;
  return 0;
}

static uint64_t pass(sf_pkt *p, const frames *f, const ids *id, int records) {
  uint64_t sum = 0;
  size_t i;
  for (i = 0; i < f->n; i++) {
    const uint8_t *d = f->data + f->off[i] + (records ? f->rec[i] : 0);
    sf_pkt_borrow(p, d, f->len[i] - (records ? f->rec[i] : 0));
    sf_dissect(p, records ? id->tls : id->ether);
    sum += sni_of(p, id);
  }
  return sum;
}

/* Where each frame's first record starts, from one dissection. */
static void find_records(frames *f, const ids *id) {
  sf_pkt p;
  size_t i;
  int li;
  sf_pkt_init(&p);
  for (i = 0; i < f->n; i++) {
    sf_pkt_borrow(&p, f->data + f->off[i], f->len[i]);
    sf_dissect(&p, id->ether);
    for (li = 0; li < p.nlayers; li++)
      if (p.layers[li].proto == id->tls) {
        f->rec[i] = p.layers[li].off;
        break;
      }
  }
  sf_pkt_free(&p);
}

static void run(const frames *f, const ids *id, int records, double secs) {
  sf_pkt p;
  uint64_t sum, n = 0;
  double t0, c0, el, cpu;
  sf_pkt_init(&p);
  sum = pass(&p, f, id, records);  /* warm-up */
  t0 = mono_now();
  c0 = cpu_now();
  do {
    sum += pass(&p, f, id, records);
    n += f->n;
    el = mono_now() - t0;
  } while (el < secs);
  cpu = cpu_now() - c0;
  sf_pkt_free(&p);
  fprintf(stderr, "%s: %zu hellos x %llu passes, %.3f s, checksum %llu\n",
          records ? "records" : "frames", f->n, (unsigned long long)(n / f->n), el,
          (unsigned long long)sum);
  printf("RESULT c_tls_sni_%s %.0f\n", records ? "records" : "frames", (double)n / el);
  printf("CPU c_tls_sni_%s %.0f\n", records ? "records" : "frames", (double)n / cpu);
}

int main(int argc, char **argv) {
  frames f;
  ids id;
  double secs = argc > 2 ? atof(argv[2]) : 1.5;
  if (argc < 2) {
    fprintf(stderr, "usage: %s CAPTURE [SECONDS]\n", argv[0]);
    return 2;
  }
  sf_init();
  if (load(&f, argv[1]) || !f.n) return 1;
  id.ether = sf_linktype_proto(1, NULL, 0);
  id.tls = sf_proto_find("TLS");
  id.sni = sf_proto_find("TLS_Ext_ServerName");
  id.name = id.sni >= 0 ? sf_field_find(sf_proto_get(id.sni), "servername") : -1;
  if (id.tls < 0 || id.name < 0) return fprintf(stderr, "no TLS in this build\n"), 1;
  find_records(&f, &id);
  run(&f, &id, 0, secs);
  run(&f, &id, 1, secs);
  return 0;
}
