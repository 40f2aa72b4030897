/*
 * pread.c -- the packets of a capture that pass a display filter, found
 * by several threads and handed out in capture order.
 *
 * The capture is cut into chunks of whole records (core/io/split.c).
 * The threads take chunks in turn, dissect and filter every record, and
 * leave the ones that pass in a slot -- the record (its bytes stay in
 * the file's mapping, which outlives the slot), its frame number, and
 * how the chunk ended.  The caller's thread empties the slots in chunk
 * order; a thread waits for its slot to be free, so at most SLOTS chunks
 * are held whatever the capture's size.
 *
 * A chunk whose dissection wanted the host (a protocol defined by it,
 * thread_work says so) stops the threads; that chunk and the rest are
 * then filtered on the caller's thread.  What the caller gets is what a
 * reader of the whole file with the filter would give: the same records,
 * numbers, warnings and errors.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../io/io.h"
#include "../par/par.h"
#include "pread.h"

#define SLOTS_PER_THREAD 2

typedef struct passed {
  sf_rec rec;            /* its comment: in the slot's bytes, at coff */
  uint64_t frame;
  size_t coff;
} passed;

typedef struct slot {
  size_t chunk;          /* the chunk it holds; SIZE_MAX: free */
  int ready;             /* filled: the caller may read it */
  passed *v;
  size_t n, cap;
  char *bytes;           /* the comments */
  size_t len, bcap;
  int end;               /* SF_IO_EOF, SF_IO_ERR (after the records), or
                            TAINTED: the caller's thread does it again */
  uint64_t warnings;
  char msg[600];         /* the error, or the chunk's first warning */
} slot;

#define TAINTED 100

struct sf_pread {
  sf_split *split;
  size_t nchunks;
  sf_filter **filters;
  const sf_pread_hooks *h;
  slot *slots;
  size_t nslots;
  atomic_size_t next;    /* the next chunk a thread takes */
  atomic_int stop;       /* the caller's: every thread leaves, now */
  atomic_int no_more;    /* a chunk was tainted: no thread takes another
                            (the ones taken are filled: the caller waits
                            for those before the tainted one) */
  size_t consumed;       /* chunks the caller is done with (under mu) */
  pthread_mutex_t mu;
  pthread_cond_t cv;     /* a slot was filled or emptied */
  sf_gang *gang;
  /* the caller's side */
  size_t cur, pos;       /* the chunk being handed out, its next record */
  sf_reader *alone;      /* after a tainted chunk: read here */
  sf_pkt scratch;        /* its packets, dissected for the filter */
  uint64_t frame;
  uint64_t warnings;
  char first_warning[600];
  char err[600];
  int done;
};

/* ---- the threads --------------------------------------------------------------- */

static int keep(slot *s, const sf_rec *rec, uint64_t frame) {
  passed *p;
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 256;
    passed *v = realloc(s->v, cap * sizeof *v);
    if (!v) return -1;
    s->v = v;
    s->cap = cap;
  }
  if (rec->comment_len > s->bcap - s->len) {
    size_t cap = s->bcap ? s->bcap * 2 : 4096;
    char *b;
    while (cap - s->len < rec->comment_len) cap *= 2;
    if (!(b = realloc(s->bytes, cap))) return -1;
    s->bytes = b;
    s->bcap = cap;
  }
  p = &s->v[s->n++];
  p->rec = *rec;
  p->frame = frame;
  p->coff = s->len;
  if (rec->comment_len) memcpy(s->bytes + s->len, rec->comment, rec->comment_len);
  s->len += rec->comment_len;
  return 0;
}

/* The dissected record in p: does it pass f? */
static void load(sf_pkt *p, const sf_rec *rec, uint64_t frame) {
  sf_pkt_of_rec(p, rec);
  p->frame = frame;
  sf_pkt_parse(p);
}

static int passes(sf_pread *x, sf_filter *f, sf_pkt *p, const sf_rec *rec,
                  uint64_t frame, int *tainted) {
  int pass;
  if (x->h && x->h->thread_work) x->h->thread_work(x->h->ud, 1);
  load(p, rec, frame);
  pass = sf_filter_run(f, p);
  if (x->h && x->h->thread_work && x->h->thread_work(x->h->ud, 0)) *tainted = 1;
  return pass;
}

/* Chunk c's passing records into s. */
static void fill(sf_pread *x, int i, size_t c, slot *s, sf_pkt *p) {
  const sf_chunk *ch = sf_split_chunk(x->split, c);
  sf_reader *r = sf_split_reader(x->split, c, s->msg, sizeof s->msg);
  uint64_t frame = ch->first;
  const char *first = NULL;
  int tainted = 0, next;
  sf_rec rec;
  s->n = s->len = 0;
  s->warnings = 0;
  if (!r) {
    s->end = SF_IO_ERR;
    return;
  }
  while (!tainted && (next = sf_reader_next(r, &rec)) == SF_IO_REC) {
    if (!passes(x, x->filters[i], p, &rec, ++frame, &tainted)) continue;
    if (keep(s, &rec, frame) != 0) {
      snprintf(s->msg, sizeof s->msg, "not enough memory");
      next = SF_IO_ERR;
      break;
    }
  }
  if (tainted) {  /* the caller's thread reads the chunk again, whole */
    s->end = TAINTED;
    s->n = s->len = 0;
  } else if ((s->end = next) == SF_IO_ERR && s->msg[0] == '\0')
    snprintf(s->msg, sizeof s->msg, "%s", sf_reader_error(r));
  if (s->end == SF_IO_EOF) {
    s->warnings = sf_reader_warnings(r, &first);
    if (first) snprintf(s->msg, sizeof s->msg, "%s", first);
  }
  sf_reader_close(r);
}

/* Wait until chunk c's slot is free (or the run stops): the slot, or
   NULL.  Free for c, not for a later chunk of the same slot that another
   thread took: the caller must be done with chunk c - nslots. */
static slot *claim(sf_pread *x, size_t c) {
  slot *s = &x->slots[c % x->nslots];
  pthread_mutex_lock(&x->mu);
  while (!atomic_load(&x->stop) && c >= x->consumed + x->nslots)
    pthread_cond_wait(&x->cv, &x->mu);
  if (atomic_load(&x->stop)) s = NULL;
  else s->chunk = c;
  pthread_mutex_unlock(&x->mu);
  return s;
}

static void worker(void *ud, int i) {
  sf_pread *x = (sf_pread *)ud;
  sf_pkt p;
  size_t c;
  sf_pkt_init(&p);
  while (!atomic_load(&x->stop) && !atomic_load(&x->no_more) &&
         (c = atomic_fetch_add(&x->next, 1)) < x->nchunks) {
    slot *s = claim(x, c);
    if (!s) break;
    s->msg[0] = '\0';
    fill(x, i, c, s, &p);
    pthread_mutex_lock(&x->mu);
    s->ready = 1;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
    if (s->end == TAINTED) atomic_store(&x->no_more, 1);  /* the rest: the caller's */
  }
  sf_pkt_free(&p);
}

/* ---- the caller's side ------------------------------------------------------------ */

static void stop_threads(sf_pread *x) {
  if (!x->gang) return;
  pthread_mutex_lock(&x->mu);
  atomic_store(&x->stop, 1);
  pthread_cond_broadcast(&x->cv);
  pthread_mutex_unlock(&x->mu);
  sf_gang_join(x->gang);
  x->gang = NULL;
}

/* Wait for the slot of chunk x->cur to be filled. */
static slot *filled(sf_pread *x) {
  slot *s = &x->slots[x->cur % x->nslots];
  pthread_mutex_lock(&x->mu);
  while (!(s->chunk == x->cur && s->ready)) {
    if (x->h && x->h->tick) {  /* let the host look at itself now and then */
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += 100 * 1000000L;
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&x->cv, &x->mu, &ts);
      if (!(s->chunk == x->cur && s->ready)) {
        int stop;
        pthread_mutex_unlock(&x->mu);
        stop = x->h->tick(x->h->ud);
        if (stop) return NULL;
        pthread_mutex_lock(&x->mu);
      }
    } else {
      pthread_cond_wait(&x->cv, &x->mu);
    }
  }
  pthread_mutex_unlock(&x->mu);
  return s;
}

static void release(sf_pread *x, slot *s) {
  pthread_mutex_lock(&x->mu);
  s->chunk = SIZE_MAX;
  s->ready = 0;
  x->consumed++;
  pthread_cond_broadcast(&x->cv);
  pthread_mutex_unlock(&x->mu);
}

static void note_warnings(sf_pread *x, uint64_t n, const char *first) {
  if (n && !x->warnings && first) snprintf(x->first_warning, sizeof x->first_warning, "%s", first);
  x->warnings += n;
}

/* From chunk x->cur on, on this thread, chunk after chunk. */
static int go_alone(sf_pread *x) {
  stop_threads(x);
  x->frame = sf_split_chunk(x->split, x->cur)->first;
  x->alone = sf_split_reader(x->split, x->cur, x->err, sizeof x->err);
  return x->alone ? SF_OK : SF_IO_ERR;
}

static int next_alone(sf_pread *x, sf_rec *rec, uint64_t *frame) {
  const char *first = NULL;
  int rc;
  for (;;) {
    while ((rc = sf_reader_next(x->alone, rec)) == SF_IO_REC) {
      load(&x->scratch, rec, ++x->frame);
      if (sf_filter_run(x->filters[0], &x->scratch)) {
        *frame = x->frame;
        return SF_IO_REC;
      }
    }
    if (rc == SF_IO_ERR) {
      snprintf(x->err, sizeof x->err, "%s", sf_reader_error(x->alone));
      return rc;
    }
    note_warnings(x, sf_reader_warnings(x->alone, &first), first);
    sf_reader_close(x->alone);
    x->alone = NULL;
    if (++x->cur >= x->nchunks) return SF_IO_EOF;
    if (!(x->alone = sf_split_reader(x->split, x->cur, x->err, sizeof x->err)))
      return SF_IO_ERR;
  }
}

int sf_pread_next(sf_pread *x, sf_rec *rec, uint64_t *frame) {
  while (!x->done) {
    slot *s;
    if (x->alone) {
      int rc = next_alone(x, rec, frame);
      if (rc != SF_IO_REC) x->done = rc == SF_IO_ERR ? 2 : 1;
      return rc;
    }
    if (x->cur >= x->nchunks) {
      x->done = 1;
      break;
    }
    if (!(s = filled(x))) {
      snprintf(x->err, sizeof x->err, "interrupted");
      x->done = 2;
      return SF_IO_ERR;
    }
    if (x->pos < s->n) {
      passed *p = &s->v[x->pos++];
      *rec = p->rec;
      rec->comment = p->rec.comment_len ? s->bytes + p->coff : NULL;
      *frame = p->frame;
      return SF_IO_REC;
    }
    if (s->end == TAINTED) {
      release(x, s);
      if (go_alone(x) != SF_OK) {
        x->done = 2;
        return SF_IO_ERR;
      }
      continue;
    }
    if (s->end == SF_IO_ERR) {
      snprintf(x->err, sizeof x->err, "%s", s->msg);
      x->done = 2;
      return SF_IO_ERR;
    }
    note_warnings(x, s->warnings, s->msg);
    release(x, s);
    x->cur++;
    x->pos = 0;
  }
  return x->done == 2 ? SF_IO_ERR : SF_IO_EOF;
}

/* ---- opening and closing -------------------------------------------------------- */

static int start(sf_pread *x, int threads) {
  size_t i;
  x->nslots = (size_t)threads * SLOTS_PER_THREAD;
  if (!(x->slots = calloc(x->nslots, sizeof *x->slots))) return -1;
  for (i = 0; i < x->nslots; i++) x->slots[i].chunk = SIZE_MAX;
  if (pthread_mutex_init(&x->mu, NULL) != 0) return -1;
  if (pthread_cond_init(&x->cv, NULL) != 0) {
    pthread_mutex_destroy(&x->mu);
    return -1;
  }
  atomic_init(&x->next, 0);
  atomic_init(&x->stop, 0);
  atomic_init(&x->no_more, 0);
  if (!(x->gang = sf_gang_start(threads, worker, x))) {
    pthread_cond_destroy(&x->cv);
    pthread_mutex_destroy(&x->mu);
    return -1;
  }
  return 0;
}

sf_pread *sf_pread_open(const char *path, const sf_ropts *ro, sf_filter **filters,
                        int threads, const sf_pread_hooks *h, char *err, size_t errlen) {
  sf_pread *x;
  if (threads < 2) return NULL;
  if (!(x = calloc(1, sizeof *x))) {
    snprintf(err, errlen, "not enough memory");
    return NULL;
  }
  x->filters = filters;
  x->h = h;
  sf_pkt_init(&x->scratch);
  if (!(x->split = sf_split_open(path, ro, threads, 0, err, errlen))) {
    free(x);
    return NULL;
  }
  x->nchunks = sf_split_count(x->split);
  if (!sf_split_mapped(x->split) || x->nchunks < 2 || start(x, threads) != 0) {
    err[0] = '\0';  /* nothing wrong: one thread will do */
    sf_split_close(x->split);
    free(x->slots);
    free(x);
    return NULL;
  }
  return x;
}

const char *sf_pread_error(const sf_pread *x) { return x->err; }

uint64_t sf_pread_warnings(const sf_pread *x, const char **first) {
  if (first) *first = x->warnings ? x->first_warning : NULL;
  return x->warnings;
}

struct sf_map *sf_pread_map(const sf_pread *x) {
  return sf_reader_map(sf_split_base(x->split));
}

const sf_reader *sf_pread_base(const sf_pread *x) { return sf_split_base(x->split); }

void sf_pread_close(sf_pread *x) {
  size_t i;
  if (!x) return;
  stop_threads(x);
  if (x->slots) {
    pthread_cond_destroy(&x->cv);
    pthread_mutex_destroy(&x->mu);
    for (i = 0; i < x->nslots; i++) {
      free(x->slots[i].v);
      free(x->slots[i].bytes);
    }
    free(x->slots);
  }
  sf_reader_close(x->alone);
  sf_pkt_free(&x->scratch);
  sf_split_close(x->split);
  free(x);
}
