/*
 * quic_bench.c -- QUIC client Initials decrypted to their SNI in C: every
 * frame of a capture (bench/gen_quic.lua writes one) held in memory, then
 * per frame sf_pkt_borrow + sf_dissect from Ethernet, a writable copy,
 * the QUIC_Initial's method `decrypt` (keys from its Destination
 * Connection ID: HKDF, header protection, AES-128-GCM through OpenSSL;
 * the frames and the ClientHello dissected) and the server name read
 * from the TLS_Ext_ServerName layer (sf_field_get).
 * Usage: quic_bench CAPTURE [SECONDS]
 * Prints "RESULT c_quic_sni <initials/s>" (wall clock) and "CPU
 * c_quic_sni" (per second of this thread's CPU time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capframes.h"
#include "sf.h"

typedef struct ids {
  int ether, initial, sni, name;
  const sf_method *decrypt;
} ids;

static int find(const sf_pkt *p, int proto) {
  int li;
  for (li = 0; li < p->nlayers; li++)
    if (p->layers[li].proto == proto) return li;
  return -1;
}

/* The length of the server name in frame d, decrypted; 0 if none. */
static size_t sni_of(sf_pkt *p, sf_pkt *q, const uint8_t *d, size_t n, const ids *id) {
  sf_val v;
  int li;
  sf_pkt_borrow(p, d, n);
  sf_dissect(p, id->ether);
  if ((li = find(p, id->initial)) < 0 || sf_pkt_copy(q, p) != SF_OK ||
      sf_pkt_writable(q) != SF_OK || id->decrypt->fn(q, li) != SF_OK)
    return 0;
  li = find(q, id->sni);
  return li >= 0 && sf_field_get(q, li, id->name, &v) == SF_OK ? v.n : 0;
}

static uint64_t pass(sf_pkt *p, sf_pkt *q, const frames *f, const ids *id) {
  uint64_t sum = 0;
  size_t i;
  for (i = 0; i < f->n; i++) sum += sni_of(p, q, f->data + f->off[i], f->len[i], id);
  return sum;
}

int main(int argc, char **argv) {
  frames f;
  ids id;
  sf_pkt p, q;
  const sf_method *m;
  double secs = argc > 2 ? atof(argv[2]) : 1.5, t0, c0, el, cpu;
  uint64_t sum, n = 0, named;
  if (argc < 2) {
    fprintf(stderr, "usage: %s CAPTURE [SECONDS]\n", argv[0]);
    return 2;
  }
  sf_init();
  if (frames_load(&f, argv[1])) return 1;
  id.ether = sf_linktype_proto(1, NULL, 0);
  id.initial = sf_proto_find("QUIC_Initial");
  id.sni = sf_proto_find("TLS_Ext_ServerName");
  id.name = id.sni >= 0 ? sf_field_find(sf_proto_get(id.sni), "servername") : -1;
  id.decrypt = NULL;
  if (id.initial >= 0)
    for (m = sf_proto_get(id.initial)->methods; m && m->name; m++)
      if (strcmp(m->name, "decrypt") == 0) id.decrypt = m;
  if (!id.decrypt || id.name < 0) return fprintf(stderr, "no QUIC in this build\n"), 1;
  sf_pkt_init(&p);
  sf_pkt_init(&q);
  named = 0;
  {
    size_t i;  /* warm-up, and every Initial must open */
    for (i = 0; i < f.n; i++) named += sni_of(&p, &q, f.data + f.off[i], f.len[i], &id) > 0;
  }
  if (named != f.n) return fprintf(stderr, "%llu of %zu Initials opened\n", (unsigned long long)named, f.n), 1;
  sum = 0;
  t0 = mono_now();
  c0 = cpu_now();
  do {
    sum += pass(&p, &q, &f, &id);
    n += f.n;
    el = mono_now() - t0;
  } while (el < secs);
  cpu = cpu_now() - c0;
  sf_pkt_free(&q);
  sf_pkt_free(&p);
  fprintf(stderr, "%zu initials x %llu passes, %.3f s, checksum %llu\n", f.n,
          (unsigned long long)(n / f.n), el, (unsigned long long)sum);
  printf("RESULT c_quic_sni %.0f\n", (double)n / el);
  printf("CPU c_quic_sni %.0f\n", (double)n / cpu);
  return 0;
}
