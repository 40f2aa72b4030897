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

#include "capframes.h"
#include "sf.h"

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

/* rec: where each frame's TLS record starts (records: parse from there) */
static uint64_t pass(sf_pkt *p, const frames *f, const size_t *rec, const ids *id,
                     int records) {
  uint64_t sum = 0;
  size_t i;
  for (i = 0; i < f->n; i++) {
    size_t skip = records ? rec[i] : 0;
    sf_pkt_borrow(p, f->data + f->off[i] + skip, f->len[i] - skip);
    sf_dissect(p, records ? id->tls : id->ether);
    sum += sni_of(p, id);
  }
  return sum;
}

/* Where each frame's first record starts, from one dissection. */
static void find_records(const frames *f, size_t *rec, const ids *id) {
  sf_pkt p;
  size_t i;
  int li;
  sf_pkt_init(&p);
  for (i = 0; i < f->n; i++) {
    sf_pkt_borrow(&p, f->data + f->off[i], f->len[i]);
    sf_dissect(&p, id->ether);
    for (li = 0; li < p.nlayers; li++)
      if (p.layers[li].proto == id->tls) {
        rec[i] = p.layers[li].off;
        break;
      }
  }
  sf_pkt_free(&p);
}

static void run(const frames *f, const size_t *rec, const ids *id, int records,
                double secs) {
  sf_pkt p;
  uint64_t sum, n = 0;
  double t0, c0, el, cpu;
  sf_pkt_init(&p);
  sum = pass(&p, f, rec, id, records);  /* warm-up */
  t0 = mono_now();
  c0 = cpu_now();
  do {
    sum += pass(&p, f, rec, id, records);
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
  size_t *rec;
  ids id;
  double secs = argc > 2 ? atof(argv[2]) : 1.5;
  if (argc < 2) {
    fprintf(stderr, "usage: %s CAPTURE [SECONDS]\n", argv[0]);
    return 2;
  }
  sf_init();
  if (frames_load(&f, argv[1])) return 1;
  id.ether = sf_linktype_proto(1, NULL, 0);
  id.tls = sf_proto_find("TLS");
  id.sni = sf_proto_find("TLS_Ext_ServerName");
  id.name = id.sni >= 0 ? sf_field_find(sf_proto_get(id.sni), "servername") : -1;
  if (id.tls < 0 || id.name < 0) return fprintf(stderr, "no TLS in this build\n"), 1;
  if (!(rec = calloc(f.n, sizeof *rec))) return fprintf(stderr, "out of memory\n"), 1;
  find_records(&f, rec, &id);
  run(&f, rec, &id, 0, secs);
  run(&f, rec, &id, 1, secs);
  return 0;
}
