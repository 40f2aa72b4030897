/*
 * anon_pcap.c -- anonymize a whole capture, one record at a time.
 *
 * One packet object is reused for every record, with a store big enough
 * for ordinary packets, so memory stays bounded whatever the file's size:
 * a record's bytes are borrowed from the reader, copied into the store on
 * the first change, rewritten, and handed to the writer.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../io/io.h"
#include "anonpriv.h"

#define STORE (256 * 1024)  /* larger packets go to the heap, one at a time */

static int fail(char *err, size_t errlen, const char *msg) {
  snprintf(err, errlen, "%s", msg);
  return -1;
}

/* Output format and options follow the input's. */
static void out_options(const sf_reader *r, sf_wopts *o) {
  o->format = sf_reader_format(r);
  o->linktype = -1;  /* each record's own */
  o->nanosecond = o->format == SF_FMT_PCAPNG ? 1 : sf_reader_nanosecond(r);
  o->snaplen = o->format == SF_FMT_PCAP ? sf_reader_snaplen(r) : 0;
  o->append = 0;
}

/* Anonymize one record and write it: SF_OK, an engine error, or
   WRITE_ERR with the message in the writer. */
#define WRITE_ERR 1
static int one(sf_anon *a, sf_pkt *p, const sf_rec *in, sf_writer *w,
               uint64_t *outlen) {
  sf_rec out = *in;
  size_t n;
  int rc;
  sf_pkt_borrow(p, in->data, in->caplen);
  p->linktype = in->linktype;
  p->time_ns = in->time_ns;
  p->wirelen = in->wirelen;
  p->interface_id = in->interface_id;
  sf_pkt_parse(p);
  if (p->linktype == 1 && p->store &&
      sf_anon_fast(a, p, p->store, p->store_cap, &n, &out.wirelen, &out.time_ns)) {
    out.data = p->store;  /* the common shapes, written straight there */
    out.caplen = (uint32_t)n;
    if (out.wirelen < n) out.wirelen = (uint32_t)n;
  } else {
    if ((rc = sf_anon_packet(a, p)) != SF_OK) return rc;
    out.data = p->data;
    out.caplen = (uint32_t)p->len;
    out.wirelen = p->wirelen > p->len ? p->wirelen : (uint32_t)p->len;
    out.time_ns = p->time_ns;
  }
  *outlen = out.caplen;
  out.comment = NULL;  /* free text may name anything: dropped */
  out.comment_len = 0;
  return sf_writer_write(w, &out) == SF_OK ? SF_OK : WRITE_ERR;
}

static int run(sf_anon *a, sf_reader *r, sf_writer *w, sf_anon_stats *st,
               char *err, size_t errlen) {
  uint8_t *store = malloc(STORE);
  sf_pkt p;
  sf_rec rec;
  uint64_t outlen = 0;
  int rc = SF_OK, next;
  if (!store) return fail(err, errlen, "not enough memory");
  sf_pkt_init(&p);
  sf_pkt_set_store(&p, store, STORE);
  sf_anon_fast_init(a);
  while ((next = sf_reader_next(r, &rec)) == SF_IO_REC) {
    if ((rc = one(a, &p, &rec, w, &outlen)) != SF_OK) break;
    st->packets++;
    st->bytes_in += rec.caplen;
    st->bytes_out += outlen;
  }
  if (rc == WRITE_ERR)
    fail(err, errlen, sf_writer_error(w));
  else if (rc != SF_OK)
    snprintf(err, errlen, "packet %llu: cannot rewrite (engine error %d)",
             (unsigned long long)st->packets + 1, rc);
  else if (next == SF_IO_ERR)
    rc = fail(err, errlen, sf_reader_error(r));
  sf_pkt_free(&p);
  free(store);
  return rc == SF_OK ? SF_OK : -1;
}

int sf_anon_pcap(const char *in_path, const char *out_path,
                 const sf_anon_policy *pol, const sf_ropts *ro,
                 sf_anon_stats *st, char *err, size_t errlen) {
  sf_anon_stats dummy = {0};
  sf_reader *r;
  sf_writer *w;
  sf_anon *a;
  sf_wopts o;
  int rc;
  if (!st) st = &dummy;
  if (sf_anon_policy_check(pol, err, errlen) != SF_OK) return -1;
  if (!(a = sf_anon_new(pol))) return fail(err, errlen, "cannot set up the anonymizer (OpenSSL)");
  if (!(r = sf_reader_open(in_path, err, errlen))) {
    sf_anon_free(a);
    return -1;
  }
  sf_reader_apply(r, ro);
  out_options(r, &o);
  if (!(w = sf_writer_open(out_path, &o, err, errlen))) {
    sf_reader_close(r);
    sf_anon_free(a);
    return -1;
  }
  rc = run(a, r, w, st, err, errlen);
  st->times_clamped = sf_anon_times_clamped(a);
  if (rc != SF_OK) sf_writer_abort(w);  /* the output stays as it was */
  else if (sf_writer_close(w, err, errlen) != SF_OK) rc = -1;
  sf_reader_close(r);
  sf_anon_free(a);
  return rc;
}
