/*
 * anon_pcap.c -- anonymize a whole capture, one record at a time, on the
 * caller's thread or on several.
 *
 * One packet object is reused for every record, with a store big enough
 * for ordinary packets, so memory stays bounded whatever the file's size:
 * a record's bytes are borrowed from the reader, copied into the store on
 * the first change, rewritten, and handed to the writer.
 *
 * On several threads, the capture is cut into chunks of whole records
 * (core/io/split.c) that the threads take in turn; each anonymizes a
 * chunk's packets into a buffer with its own anonymizer, then waits for
 * the chunk's turn (core/par: turns) and writes it, so the file comes out
 * in capture order.  A packet's new time depends on every packet written
 * before it (the shift from the first, jitter that never turns a step
 * around), so times are given at the turn, in order, by one clock: the
 * output is the same bytes as one thread's.  Memory: a chunk per thread.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../filter/filter.h"
#include "../io/io.h"
#include "../par/par.h"
#include "anonpriv.h"

#define STORE (256 * 1024)  /* larger packets go to the heap, one at a time */
#define TICK_MS 100         /* the caller's thread looks at its host this often */

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

/* The record as a packet in p, dissected, its frame number set. */
static void load(sf_pkt *p, const sf_rec *in, uint64_t frame) {
  sf_pkt_of_rec(p, in);
  p->frame = frame;
  sf_pkt_parse(p);
}

/* Anonymize the dissected packet p (record in) into *out (its time still
   the record's): SF_OK or an engine error. */
static int rewrite(sf_anon *a, sf_pkt *p, const sf_rec *in, sf_rec *out) {
  size_t n;
  int rc;
  *out = *in;
  if (p->linktype == 1 && p->store &&
      sf_anon_fast(a, p, p->store, p->store_cap, &n, &out->wirelen, &out->time_ns)) {
    out->data = p->store;  /* the common shapes, written straight there */
    out->caplen = (uint32_t)n;
    if (out->wirelen < n) out->wirelen = (uint32_t)n;
  } else {
    if ((rc = sf_anon_packet(a, p)) != SF_OK) return rc;
    out->data = p->data;
    out->caplen = (uint32_t)p->len;
    out->wirelen = p->wirelen > p->len ? p->wirelen : (uint32_t)p->len;
  }
  out->time_ns = in->time_ns;
  out->comment = NULL;  /* free text may name anything: dropped */
  out->comment_len = 0;
  return SF_OK;
}

/* The engine's message for a packet it could not rewrite. */
static void cannot(char *err, size_t errlen, uint64_t n, int rc) {
  snprintf(err, errlen, "packet %llu: cannot rewrite (engine error %d)",
           (unsigned long long)n, rc);
}

/* Write out (its time from the clock a, in order): SF_OK or -1. */
static int put(sf_anon *a, sf_writer *w, sf_rec *out, sf_anon_stats *st,
               uint32_t caplen_in, char *err, size_t errlen) {
  out->time_ns = sf_anon_time(a, out->time_ns);
  if (sf_writer_write(w, out) != SF_OK) return fail(err, errlen, sf_writer_error(w));
  st->packets++;
  st->bytes_in += caplen_in;
  st->bytes_out += out->caplen;
  return SF_OK;
}

/* ---- one thread -------------------------------------------------------------- */

static int passes(sf_filter *f, const sf_pkt *p) { return !f || sf_filter_run(f, p); }

static int run(sf_anon *a, sf_anon *clock, sf_reader *r, sf_writer *w, sf_filter *f,
               sf_anon_stats *st, char *err, size_t errlen) {
  uint8_t *store = malloc(STORE);
  uint64_t frame = 0;
  sf_pkt p;
  sf_rec rec, out;
  int rc = SF_OK, next;
  if (!store) return fail(err, errlen, "not enough memory");
  sf_pkt_init(&p);
  sf_pkt_set_store(&p, store, STORE);
  sf_anon_fast_init(a);
  while ((next = sf_reader_next(r, &rec)) == SF_IO_REC) {
    load(&p, &rec, ++frame);
    if (!passes(f, &p)) continue;
    if ((rc = rewrite(a, &p, &rec, &out)) != SF_OK) {
      cannot(err, errlen, st->packets + 1, rc);
      break;
    }
    if ((rc = put(clock, w, &out, st, rec.caplen, err, errlen)) != SF_OK) break;
  }
  if (rc == SF_OK && next == SF_IO_ERR) rc = fail(err, errlen, sf_reader_error(r));
  sf_pkt_free(&p);
  free(store);
  return rc == SF_OK ? SF_OK : -1;
}

/* ---- several threads ---------------------------------------------------------- */

/* A record anonymized, waiting in a chunk's buffer for its turn. */
typedef struct held {
  sf_rec out;            /* data: in the buffer, at .off */
  size_t off;
  uint32_t caplen_in;
  int rc;                /* an engine error here instead: the run stops */
} held;

typedef struct chunkbuf {
  held *v;
  size_t n, cap;
  uint8_t *bytes;
  size_t len, bcap;
} chunkbuf;

typedef struct par {
  const sf_anon_policy *pol;
  const sf_anon_run *o;
  sf_split *split;
  size_t nchunks;
  atomic_size_t next;
  sf_turns turns;
  sf_writer *w;
  sf_anon *clock;        /* times, in order, at the turns */
  sf_anon_stats *st;
  atomic_int stop;       /* an error or the host: the threads leave */
  atomic_int tainted;    /* the host was wanted: one thread does it again
                            (written by any thread) */
  char err[700];         /* the first error (under the turns) */
} par;

static int keep(chunkbuf *b, const sf_rec *out, uint32_t caplen_in, int rc) {
  held *h;
  if (b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 1024;
    held *v = realloc(b->v, cap * sizeof *v);
    if (!v) return -1;
    b->v = v;
    b->cap = cap;
  }
  if (!rc && b->bcap - b->len < out->caplen) {
    size_t cap = b->bcap ? b->bcap * 2 : (size_t)1 << 20;
    uint8_t *nb;
    while (cap - b->len < out->caplen) cap *= 2;
    if (!(nb = realloc(b->bytes, cap))) return -1;
    b->bytes = nb;
    b->bcap = cap;
  }
  h = &b->v[b->n++];
  h->rc = rc;
  h->caplen_in = caplen_in;
  if (rc) return 0;
  h->out = *out;
  h->off = b->len;
  memcpy(b->bytes + b->len, out->data, out->caplen);
  b->len += out->caplen;
  return 0;
}

/* The host's thread_work around the engine's work on a packet.  Once
   the host was wanted, the whole capture is done again on its thread:
   the threads leave now rather than finish work that is thrown away. */
static void host_work(par *x, int begin) {
  if (x->o->thread_work && x->o->thread_work(x->o->ud, begin) && !begin) {
    atomic_store(&x->tainted, 1);
    atomic_store(&x->stop, 1);
    sf_turns_cancel(&x->turns);
  }
}

/* Chunk c's records, anonymized into b; the reader's error in msg. */
static int fill(par *x, int i, size_t c, sf_anon *a, sf_pkt *p, chunkbuf *b,
                char *msg, size_t msglen) {
  const sf_chunk *ch = sf_split_chunk(x->split, c);
  sf_filter *f = x->o->filters ? x->o->filters[i] : NULL;
  sf_reader *r = sf_split_reader(x->split, c, msg, msglen);
  uint64_t frame = ch->first;
  sf_rec rec, out;
  int next, rc = 0;
  if (!r) return -1;
  while ((next = sf_reader_next(r, &rec)) == SF_IO_REC && !atomic_load(&x->stop)) {
    int pass;
    host_work(x, 1);
    load(p, &rec, ++frame);
    pass = passes(f, p);
    rc = pass ? rewrite(a, p, &rec, &out) : SF_OK;
    host_work(x, 0);
    if (pass && keep(b, &out, rec.caplen, rc) != 0) {
      snprintf(msg, msglen, "not enough memory");
      sf_reader_close(r);
      return -1;
    }
    if (rc) break;
  }
  if (next == SF_IO_ERR) snprintf(msg, msglen, "%s", sf_reader_error(r));
  sf_reader_close(r);
  return next == SF_IO_ERR ? -1 : 0;
}

/* Chunk c's turn: its records written, times from the clock. */
static int drain(par *x, chunkbuf *b, int failed, const char *msg) {
  size_t j;
  for (j = 0; j < b->n; j++) {
    held *h = &b->v[j];
    if (h->rc) {
      cannot(x->err, sizeof x->err, x->st->packets + 1, h->rc);
      return -1;
    }
    h->out.data = b->bytes + h->off;
    if (put(x->clock, x->w, &h->out, x->st, h->caplen_in, x->err, sizeof x->err) != SF_OK)
      return -1;
  }
  return failed ? fail(x->err, sizeof x->err, msg) : SF_OK;
}

static void worker(void *ud, int i) {
  par *x = (par *)ud;
  sf_anon *a = sf_anon_new(x->pol);
  uint8_t *store = malloc(STORE);
  chunkbuf b = {0, 0, 0, NULL, 0, 0};
  sf_pkt p;
  size_t c;
  char msg[600];
  sf_pkt_init(&p);
  if (!a || !store) atomic_store(&x->stop, 1);
  else {
    a->keep_time = 1;  /* the clock gives times, at the turns */
    sf_pkt_set_store(&p, store, STORE);
    sf_anon_fast_init(a);
  }
  while (!atomic_load(&x->stop) && (c = atomic_fetch_add(&x->next, 1)) < x->nchunks) {
    int failed;
    b.n = b.len = 0;
    msg[0] = '\0';
    failed = fill(x, i, c, a, &p, &b, msg, sizeof msg) != 0;
    if (sf_turns_wait(&x->turns, c) != 0) break;  /* cancelled */
    if (!atomic_load(&x->stop) && drain(x, &b, failed, msg) != SF_OK) {
      atomic_store(&x->stop, 1);
      sf_turns_cancel(&x->turns);
      break;
    }
    sf_turns_pass(&x->turns, c);
  }
  if (!a || !store) snprintf(x->err, sizeof x->err, "not enough memory");
  sf_pkt_free(&p);
  free(store);
  free(b.v);
  free(b.bytes);
  sf_anon_free(a);
}

/* Wait for the threads, letting the host interrupt them. */
static void wait_for(par *x, sf_gang *g) {
  while (!sf_gang_wait(g, TICK_MS))
    if (x->o->tick && !atomic_load(&x->stop) && x->o->tick(x->o->ud)) {
      snprintf(x->err, sizeof x->err, "interrupted");
      atomic_store(&x->stop, 1);
      sf_turns_cancel(&x->turns);
    }
  sf_gang_join(g);
}

/* The capture on threads: SF_OK, -1 (err), or 1 when it must be done on
   this thread (a stream, no threads to be had, the host wanted). */
static int on_threads(par *x, int threads, char *err, size_t errlen) {
  sf_gang *g;
  int rc;
  if (!sf_split_mapped(x->split) || sf_turns_init(&x->turns) != 0) return 1;
  atomic_init(&x->next, 0);
  atomic_init(&x->stop, 0);
  atomic_init(&x->tainted, 0);
  if (!(g = sf_gang_start(threads, worker, x))) {
    sf_turns_destroy(&x->turns);
    return 1;
  }
  wait_for(x, g);
  sf_turns_destroy(&x->turns);
  if (atomic_load(&x->tainted)) return 1;
  rc = atomic_load(&x->stop) ? -1 : SF_OK;
  if (rc != SF_OK) fail(err, errlen, x->err[0] ? x->err : "interrupted");
  return rc;
}

/* ---- the driver ------------------------------------------------------------------ */

/* The writer for out, as the caller's options or the input's say. */
static sf_writer *open_out(const char *out, const sf_anon_run *o, const sf_reader *r,
                           char *err, size_t errlen) {
  sf_wopts wo;
  if (o->wo) wo = *o->wo;
  else out_options(r, &wo);
  return sf_writer_open(out, &wo, err, errlen);
}

/* One thread: the reader that opened the capture, start to end. */
/* An anonymizer that leaves times alone (its rewrites), and the clock
   that gives them, in order (put). */
static int anonymizers(const sf_anon_policy *pol, sf_anon **a, sf_anon **clock) {
  *a = sf_anon_new(pol);
  *clock = *a ? sf_anon_new(pol) : NULL;
  if (*clock) {
    (*a)->keep_time = 1;
    return SF_OK;
  }
  sf_anon_free(*a);
  *a = NULL;
  return -1;
}

static int alone(const char *in, const char *out, const sf_anon_policy *pol,
                 const sf_anon_run *o, sf_anon_stats *st, char *err, size_t errlen) {
  sf_reader *r;
  sf_writer *w;
  sf_anon *a, *clock;
  int rc;
  if (anonymizers(pol, &a, &clock) != SF_OK)
    return fail(err, errlen, "cannot set up the anonymizer (OpenSSL)");
  if (!(r = sf_reader_open(in, err, errlen))) {
    sf_anon_free(a);
    sf_anon_free(clock);
    return -1;
  }
  sf_reader_apply(r, o->ro);
  if (!(w = open_out(out, o, r, err, errlen))) {
    sf_reader_close(r);
    sf_anon_free(a);
    sf_anon_free(clock);
    return -1;
  }
  rc = run(a, clock, r, w, o->filters ? o->filters[0] : NULL, st, err, errlen);
  st->times_clamped = sf_anon_times_clamped(clock);
  if (rc != SF_OK) sf_writer_abort(w);  /* the output stays as it was */
  else if (sf_writer_close(w, err, errlen) != SF_OK) rc = -1;
  sf_reader_close(r);
  sf_anon_free(a);
  sf_anon_free(clock);
  return rc;
}

/* Several threads, or 1 when one must do it after all. */
static int threaded(const char *in, const char *out, const sf_anon_policy *pol,
                    const sf_anon_run *o, int threads, sf_anon_stats *st, char *err,
                    size_t errlen) {
  par x;
  int rc;
  memset(&x, 0, sizeof x);
  x.pol = pol;
  x.o = o;
  x.st = st;
  if (!(x.split = sf_split_open(in, o->ro, threads, 0, err, errlen))) return -1;
  if (!sf_split_mapped(x.split)) {
    sf_split_close(x.split);
    return 1;
  }
  x.nchunks = sf_split_count(x.split);
  if (!(x.clock = sf_anon_new(pol)) ||
      !(x.w = open_out(out, o, sf_split_base(x.split), err, errlen))) {
    if (!x.clock) fail(err, errlen, "cannot set up the anonymizer (OpenSSL)");
    sf_anon_free(x.clock);
    sf_split_close(x.split);
    return -1;
  }
  rc = on_threads(&x, threads, err, errlen);
  st->times_clamped = sf_anon_times_clamped(x.clock);
  if (rc != SF_OK) sf_writer_abort(x.w);  /* the output stays as it was */
  else if (sf_writer_close(x.w, err, errlen) != SF_OK) rc = -1;
  sf_anon_free(x.clock);
  sf_split_close(x.split);
  return rc;
}

int sf_anon_pcap_run(const char *in_path, const char *out_path,
                     const sf_anon_policy *pol, const sf_anon_run *o,
                     sf_anon_stats *st, char *err, size_t errlen) {
  static const sf_anon_run defaults = {NULL, 1, NULL, NULL, NULL, NULL, NULL};
  sf_anon_stats dummy = {0};
  int threads, rc = 1;
  if (!st) st = &dummy;
  if (!o) o = &defaults;
  threads = o->threads > 0 ? o->threads : sf_par_cpus();
  if (sf_anon_policy_check(pol, err, errlen) != SF_OK) return -1;
  if (threads > 1) rc = threaded(in_path, out_path, pol, o, threads, st, err, errlen);
  if (rc != 1) return rc;
  memset(st, 0, sizeof *st);
  return alone(in_path, out_path, pol, o, st, err, errlen);
}

int sf_anon_pcap(const char *in_path, const char *out_path,
                 const sf_anon_policy *pol, const sf_ropts *ro,
                 sf_anon_stats *st, char *err, size_t errlen) {
  sf_anon_run o = {ro, 1, NULL, NULL, NULL, NULL, NULL};
  return sf_anon_pcap_run(in_path, out_path, pol, &o, st, err, errlen);
}
