/*
 * fuzz_quic.c -- libFuzzer target for QUIC: headers, coalesced packets,
 * frames and Initial packet protection from hostile bytes.
 *
 * Input: one selector byte, then the bytes.
 *   0: a UDP datagram (its header first): every layer and field read, every
 *      Initial decrypted if it opens (random bytes seldom do: the tag), a
 *      copy changed and rebuilt and parsed again.
 *   1: a Destination Connection ID (a length byte, mod 21, then the ID)
 *      and an Initial's plaintext: the packet is built, encrypted with the
 *      method `encrypt`, decrypted again with `decrypt` -- so the frames of
 *      any plaintext are dissected -- and must give the same bytes back.
 * The seeds in corpus/quic-* are RFC 9001's packets and frames, and
 * packets of tests/data's QUIC captures; the dissector target reaches QUIC
 * through UDP as well.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sf.h"

static volatile uint8_t sink;
static int id_udp, id_initial;

static void read_layer(const sf_pkt *p, int li) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  int fi;
  if (p->layers[li].off + p->layers[li].hlen > p->len || p->layers[li].end > p->len)
    abort();  /* the index stays inside the bytes */
  for (fi = 0; fi < pr->nfields; fi++) {
    sf_val v;
    size_t i;
    if (sf_field_get(p, li, fi, &v) != SF_OK) continue;
    for (i = 0; i < v.n; i++) sink ^= v.p[i];
    sink ^= (uint8_t)v.u;
  }
}

static void read_all(const sf_pkt *p) {
  int li;
  for (li = 0; li < p->nlayers; li++) read_layer(p, li);
}

static const sf_method *method(const sf_pkt *p, int li, const char *name) {
  const sf_method *m;
  for (m = sf_proto_get(p->layers[li].proto)->methods; m && m->name; m++)
    if (strcmp(m->name, name) == 0) return m;
  return NULL;
}

/* Decrypt every Initial of p that opens, with its own Destination
   Connection ID, then with dcid (n bytes, as a server's Initial needs the
   client's); read what comes out. */
static void decrypt_all(sf_pkt *p, const uint8_t *dcid, size_t n) {
  int li;
  for (li = 0; li < p->nlayers; li++) {
    const sf_method *m;
    if (p->layers[li].proto != id_initial || !(m = method(p, li, "decrypt"))) continue;
    if (sf_pkt_writable(p) != SF_OK) return;
    if (m->fn(p, li) == SF_OK || m->fn_bytes(p, li, dcid, n) == SF_OK) read_all(p);
  }
}

/* The first byte field of a QUIC layer gets the input's last bytes; the
   first integer not automatic is flipped. */
static void change(sf_pkt *q, const uint8_t *data, size_t size) {
  int li, fi;
  for (li = 0; li < q->nlayers; li++) {
    const sf_proto *pr = sf_proto_get(q->layers[li].proto);
    if (strncmp(pr->name, "QUIC", 4) != 0) continue;
    for (fi = 0; fi < pr->nfields; fi++) {
      const sf_field *f = &pr->fields[fi];
      sf_val v;
      if (sf_field_get(q, li, fi, &v) != SF_OK) continue;
      if (f->type == SF_T_BYTES) {
        v.p = data + size / 2;
        v.n = size - size / 2;
      } else if (!(f->flags & SF_FF_AUTO)) {
        v.u ^= 1;
        if (v.u > sf_field_max(f)) v.u = 0;
      } else {
        continue;
      }
      sf_field_set(q, li, fi, &v);
      return;
    }
  }
}

static void wire(const uint8_t *data, size_t size) {
  sf_pkt p, q, r;
  sf_pkt_init(&p);
  if (sf_pkt_borrow(&p, data, size) != SF_OK) return;
  sf_dissect(&p, id_udp);
  read_all(&p);
  sf_pkt_init(&q);
  if (sf_pkt_copy(&q, &p) == SF_OK) {
    decrypt_all(&q, data, size < 20 ? size : 20);
    change(&q, data, size);
    q.flags |= SF_P_DIRTY;
    if (sf_finalize(&q) == SF_OK) {
      read_all(&q);
      sf_pkt_init(&r);  /* what the rebuild wrote parses again */
      if (sf_pkt_copy(&r, &q) == SF_OK) {
        sf_dissect(&r, id_udp);
        read_all(&r);
      }
      sf_pkt_free(&r);
    }
    if (q.data == data && q.len) abort();  /* the input is never written */
  }
  sf_pkt_free(&q);
  sf_pkt_free(&p);
}

/* A plain Initial of DCID and plaintext, encrypted, decrypted: the same. */
static void round_trip(const uint8_t *data, size_t size) {
  uint8_t *b;
  size_t dcil, n, pt, len, at = 0;
  sf_pkt p;
  const sf_method *enc, *dec;
  if (size < 1) return;
  dcil = data[0] % 21u;
  if (size < 1 + dcil) return;
  pt = size - 1 - dcil;
  if (pt < 20) pt = 20;  /* room for the header protection sample */
  if (pt > 16000) return;
  len = 1 + pt + 16;
  n = 8 + 8 + dcil + 2 + 1 + pt;
  if (!(b = calloc(1, n))) return;
  b[at++] = 0;  /* UDP: ports 443, its length; no checksum */
  b[at++] = 0;
  b[at++] = 1;
  b[at++] = 0xbb;
  b[at++] = (uint8_t)(n >> 8);
  b[at++] = (uint8_t)n;
  at += 2;
  b[at++] = 0xc0;  /* Initial, 1-byte packet number */
  b[at++] = 0;
  b[at++] = 0;
  b[at++] = 0;
  b[at++] = 1;
  b[at++] = (uint8_t)dcil;
  memcpy(b + at, data + 1, dcil);
  at += dcil;
  b[at++] = 0;  /* SCID */
  b[at++] = 0;  /* token */
  b[at++] = (uint8_t)(0x40 | len >> 8);
  b[at++] = (uint8_t)len;
  b[at++] = 7;  /* packet number */
  memcpy(b + at, data + 1 + dcil, size - 1 - dcil);
  sf_pkt_init(&p);
  if (sf_pkt_borrow(&p, b, n) == SF_OK && sf_pkt_writable(&p) == SF_OK) {
    sf_dissect(&p, id_udp);  /* UDP / QUIC_Initial / QUIC_Protected */
    if (p.nlayers >= 2 && p.layers[1].proto == id_initial &&
        sf_dissect_after(&p, 1, p.layers[1].off + p.layers[1].hlen, SF_RAW) == SF_OK &&
        (enc = method(&p, 1, "encrypt")) && (dec = method(&p, 1, "decrypt"))) {
      p.flags |= SF_P_DIRTY;
      if (enc->fn(&p, 1) != SF_OK) abort();  /* any plaintext encrypts */
      read_all(&p);
      if (dec->fn(&p, 1) != SF_OK) abort();  /* and opens again */
      read_all(&p);
      if (p.len != n || memcmp(p.data + 8, b + 8, n - 8) != 0) abort();
    }
  }
  sf_pkt_free(&p);
  free(b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  sf_init();
  id_udp = sf_proto_find("UDP");
  id_initial = sf_proto_find("QUIC_Initial");
  if (id_udp < 0 || id_initial < 0) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  if (data[0] & 1) round_trip(data + 1, size - 1);
  else wire(data + 1, size - 1);
  return 0;
}
