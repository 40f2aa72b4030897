/*
 * pcap_bench.c -- capture-file benchmarks in C: sfcore's reader and writer
 * (core/io/io.h) and libpcap's, over the same capture.
 *
 * Usage: pcap_bench MODE CAPTURE [SECONDS] [TMPFILE]
 *   read      libpcap: pcap_open_offline + pcap_next_ex, counting packets
 *             (the ceiling for any reader)            -> c_read_libpcap
 *             sfcore: sf_reader_open + sf_reader_next -> c_read_sfcore
 *             sfcore + sf_dissect + TCP dport, the Lua loop's work in C
 *                                                     -> c_read_dissect_sfcore
 *   write     the capture's packets, read into memory once, written to
 *             TMPFILE (default /tmp/sflua_bench_write.pcap) by
 *             sf_writer_open/sf_writer_write/sf_writer_close (pcap, us)
 *                                                     -> c_write_sfcore_mix
 *             and by pcap_open_dead + pcap_dump_open + pcap_dump + pcap_dump_close
 *                                                     -> c_write_libpcap_mix
 *             then the same for the capture's packets of at most 128 bytes
 *             (ACKs, DNS, ICMP, ARP, ND) cycled to 1,000,000 records
 *                                                     -> c_write_*_small
 * Every measurement warms up with one pass, then repeats passes (open, all
 * packets, close) until SECONDS (default 1.5) of CLOCK_MONOTONIC time have
 * passed; prints "RESULT <name> <packets/s>" and "CHECK <name> <value>".
 * The written file is removed after each pass.
 */
#define _POSIX_C_SOURCE 200809L
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io/io.h"
#include "sf.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *msg) {
  fprintf(stderr, "pcap_bench: %s: %s\n", what, msg);
  exit(1);
}

/* ---- read ------------------------------------------------------------------ */

static uint64_t read_libpcap(const char *path, uint64_t *check) {
  char err[PCAP_ERRBUF_SIZE];
  struct pcap_pkthdr *h;
  const u_char *d;
  uint64_t n = 0, bytes = 0;
  int rc;
  pcap_t *p = pcap_open_offline(path, err);
  if (!p) die(path, err);
  while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
    n++;
    bytes += h->caplen;
  }
  if (rc == PCAP_ERROR) die(path, pcap_geterr(p));
  pcap_close(p);
  *check = bytes;
  return n;
}

static uint64_t read_sfcore(const char *path, uint64_t *check) {
  char err[512];
  sf_rec rec;
  uint64_t n = 0, bytes = 0;
  int rc;
  sf_reader *r = sf_reader_open(path, err, sizeof err);
  if (!r) die(path, err);
  while ((rc = sf_reader_next(r, &rec)) == SF_IO_REC) {
    n++;
    bytes += rec.caplen;
  }
  if (rc == SF_IO_ERR) die(path, sf_reader_error(r));
  sf_reader_close(r);
  *check = bytes;
  return n;
}

/* the Lua loop's work without Lua: dissect, find TCP, read dport */
static uint64_t read_dissect_sfcore(const char *path, uint64_t *check) {
  char err[512];
  sf_rec rec;
  sf_pkt p;
  uint64_t n = 0, sum = 0;
  int rc, li, ether, tcp;
  sf_reader *r = sf_reader_open(path, err, sizeof err);
  if (!r) die(path, err);
  ether = sf_linktype_proto(1, NULL, 0);
  tcp = sf_proto_find("TCP");
  sf_pkt_init(&p);
  while ((rc = sf_reader_next(r, &rec)) == SF_IO_REC) {
    n++;
    sf_pkt_borrow(&p, rec.data, rec.caplen);
    sf_dissect(&p, ether);
    for (li = 0; li < p.nlayers; li++) {
      const sf_layer *l = &p.layers[li];
      if (l->proto == tcp) {
        const uint8_t *t = rec.data + l->off;
        if (l->hlen >= 4) sum += (uint64_t)(t[2] << 8 | t[3]);
        break;
      }
    }
  }
  if (rc == SF_IO_ERR) die(path, sf_reader_error(r));
  sf_reader_close(r);
  sf_pkt_free(&p);
  *check = sum;
  return n;
}

typedef uint64_t (*reader_fn)(const char *, uint64_t *);

static void measure_read(const char *name, reader_fn f, const char *path, double secs) {
  uint64_t check = 0, done = 0;
  double t0, el;
  f(path, &check);  /* warm-up: the file in the page cache */
  t0 = now();
  do {
    done += f(path, &check);
    el = now() - t0;
  } while (el < secs);
  printf("RESULT %s %.0f\nCHECK %s %llu\n", name, (double)done / el, name,
         (unsigned long long)check);
  fflush(stdout);
}

/* ---- write ----------------------------------------------------------------- */

typedef struct pkts {
  size_t n;
  sf_rec *rec;               /* for sf_writer */
  struct pcap_pkthdr *hdr;   /* the same packets for pcap_dump */
  const u_char **data;
} pkts;

static uint8_t *arena;       /* every packet's bytes, back to back */

static void load(const char *path, pkts *all, pkts *small, size_t nsmall) {
  char err[PCAP_ERRBUF_SIZE];
  struct pcap_pkthdr *h;
  const u_char *d;
  size_t cap = 1024, used = 0, acap = (size_t)1 << 26, i, k, ns = 0;
  size_t *off;
  int rc;
  pcap_t *p = pcap_open_offline(path, err);
  if (!p) die(path, err);
  all->n = 0;
  all->hdr = malloc(cap * sizeof *all->hdr);
  off = malloc(cap * sizeof *off);
  arena = malloc(acap);
  if (!all->hdr || !off || !arena) die("load", "out of memory");
  while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
    if (all->n == cap) {
      cap *= 2;
      all->hdr = realloc(all->hdr, cap * sizeof *all->hdr);
      off = realloc(off, cap * sizeof *off);
      if (!all->hdr || !off) die("load", "out of memory");
    }
    if (used + h->caplen > acap) {
      while (used + h->caplen > acap) acap *= 2;
      if (!(arena = realloc(arena, acap))) die("load", "out of memory");
    }
    memcpy(arena + used, d, h->caplen);
    all->hdr[all->n] = *h;
    off[all->n++] = used;
    used += h->caplen;
  }
  if (rc == PCAP_ERROR) die(path, pcap_geterr(p));
  pcap_close(p);
  all->rec = calloc(all->n, sizeof *all->rec);
  all->data = malloc(all->n * sizeof *all->data);
  if (!all->rec || !all->data) die("load", "out of memory");
  for (i = 0; i < all->n; i++) {
    sf_rec *r = &all->rec[i];
    all->data[i] = arena + off[i];
    r->data = arena + off[i];
    r->caplen = all->hdr[i].caplen;
    r->wirelen = all->hdr[i].len;
    r->time_ns = (int64_t)all->hdr[i].ts.tv_sec * 1000000000 + (int64_t)all->hdr[i].ts.tv_usec * 1000;
    r->linktype = 1;
    if (r->caplen <= 128) ns++;
  }
  free(off);
  /* the small packets, in capture order, cycled to nsmall records, with
     timestamps that keep increasing */
  if (ns == 0) die(path, "no packet of 128 bytes or less");
  small->n = nsmall;
  small->rec = calloc(nsmall, sizeof *small->rec);
  small->hdr = calloc(nsmall, sizeof *small->hdr);
  small->data = malloc(nsmall * sizeof *small->data);
  if (!small->rec || !small->hdr || !small->data) die("load", "out of memory");
  for (k = 0, i = 0; k < nsmall; i = (i + 1) % all->n) {
    if (all->rec[i].caplen > 128) continue;
    small->rec[k] = all->rec[i];
    small->rec[k].time_ns = all->rec[0].time_ns + (int64_t)k * 10000;  /* 10 us apart */
    small->hdr[k] = all->hdr[i];
    small->hdr[k].ts.tv_sec = (time_t)(small->rec[k].time_ns / 1000000000);
    small->hdr[k].ts.tv_usec = (suseconds_t)(small->rec[k].time_ns % 1000000000 / 1000);
    small->data[k] = all->data[i];
    k++;
  }
}

static uint64_t write_sfcore(const pkts *P, const char *out) {
  char err[512];
  sf_wopts o = {SF_FMT_PCAP, 1, 0, 0, 0};
  size_t i;
  sf_writer *w = sf_writer_open(out, &o, err, sizeof err);
  if (!w) die(out, err);
  for (i = 0; i < P->n; i++)
    if (sf_writer_write(w, &P->rec[i]) != SF_OK) die(out, sf_writer_error(w));
  if (sf_writer_close(w, err, sizeof err) != SF_OK) die(out, err);
  return P->n;
}

static uint64_t write_libpcap(const pkts *P, const char *out) {
  pcap_t *p = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144, PCAP_TSTAMP_PRECISION_MICRO);
  pcap_dumper_t *d;
  size_t i;
  if (!p) die("pcap_open_dead", "failed");
  if (!(d = pcap_dump_open(p, out))) die(out, pcap_geterr(p));
  for (i = 0; i < P->n; i++) pcap_dump((u_char *)d, &P->hdr[i], P->data[i]);
  if (pcap_dump_flush(d) != 0) die(out, "pcap_dump_flush failed");
  pcap_dump_close(d);
  pcap_close(p);
  return P->n;
}

typedef uint64_t (*writer_fn)(const pkts *, const char *);

static uint64_t file_size(const char *path) {
  FILE *f = fopen(path, "rb");
  long n;
  if (!f) return 0;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fclose(f);
  return (uint64_t)n;
}

static void measure_write(const char *name, writer_fn f, const pkts *P, const char *out,
                          double secs) {
  uint64_t done = 0, size;
  double t0, el;
  f(P, out);  /* warm-up */
  size = file_size(out);
  unlink(out);
  t0 = now();
  do {
    done += f(P, out);
    unlink(out);  /* so the page cache does not fill with files to write back */
    el = now() - t0;
  } while (el < secs);
  printf("RESULT %s %.0f\nCHECK %s %llu bytes\n", name, (double)done / el, name,
         (unsigned long long)size);
  fflush(stdout);
}

int main(int argc, char **argv) {
  const char *mode, *path, *out;
  double secs;
  if (argc < 3) {
    fprintf(stderr, "usage: %s read|write CAPTURE [SECONDS] [TMPFILE]\n", argv[0]);
    return 2;
  }
  mode = argv[1];
  path = argv[2];
  secs = argc > 3 ? atof(argv[3]) : 1.5;
  out = argc > 4 ? argv[4] : "/tmp/sflua_bench_write.pcap";
  sf_init();
  if (strcmp(mode, "read") == 0) {
    measure_read("c_read_libpcap", read_libpcap, path, secs);
    measure_read("c_read_sfcore", read_sfcore, path, secs);
    measure_read("c_read_dissect_sfcore", read_dissect_sfcore, path, secs);
  } else if (strcmp(mode, "write") == 0) {
    pkts all, small;
    load(path, &all, &small, 1000000);
    measure_write("c_write_sfcore_mix", write_sfcore, &all, out, secs);
    measure_write("c_write_libpcap_mix", write_libpcap, &all, out, secs);
    measure_write("c_write_sfcore_small", write_sfcore, &small, out, secs);
    measure_write("c_write_libpcap_small", write_libpcap, &small, out, secs);
  } else {
    fprintf(stderr, "pcap_bench: unknown mode '%s'\n", mode);
    return 2;
  }
  return 0;
}
