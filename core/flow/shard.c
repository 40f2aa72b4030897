/*
 * shard.c -- flow tracking on several threads (sf_flow_run_threads).
 *
 * Conversations are shared out by a hash of what every packet of one
 * carries -- its addresses either way round, IP version and protocol,
 * VLAN ids; not ports, which IP fragments lack (sf_flow_shard) -- so each
 * thread's table owns whole conversations, fragments and all.
 *
 * Reading and dissecting are most of the work, and are shared out by
 * bytes: the capture is cut into regions, and a thread that takes one
 * reads its records, dissects them, anonymizes them if asked, and notes
 * for each packet what the tables need (its time and length, whose it
 * is, its conversation's facts).  A region's start is guessed (no scan
 * of the whole file first: sf_reader_guess) and checked once the region
 * before is read -- it must have ended there, in the same reader state;
 * a wrong guess costs that region a second reading from the right
 * place.  Every thread then goes through every region's notes in order:
 * a packet of another thread's only moves time on (timeouts end
 * conversations at the packet they would end at on one thread) and
 * counts in the packet indices; its own go into its table.  The time an
 * anonymizer gives a packet depends on every packet before it, so each
 * thread runs the anonymizer's clock over every packet; the bytes are
 * anonymized where they are read.  Regions are read at most a few ahead
 * of the slowest thread: memory stays bounded whatever the capture.
 *
 * What the tables deliver is merged into the order one thread would
 * have delivered it in.  The list: by start time, then first packet.
 * on_flow: by the packet whose handling ended each conversation, then
 * what ended it (timeouts, a restarted tuple, the budget), its timeout
 * class and when it was last seen -- the order of a table's lists --
 * and the rest, ended by the end of the input, by start.  on_flow runs
 * on the caller's thread, once the capture is read.
 *
 * The threads never call the host: when its protocols wanted it (its
 * thread_work says so), the capture is read again on the caller's
 * thread.  So it is when the capture's clock steps back: one table ends
 * the idle conversations at the head of its lists, stopping at the first
 * that is not idle long enough, and with times out of order a
 * conversation of another thread's can stand in front of one that has
 * timed out -- which a table of its own would end.  A host callback that leaves by longjmp (tick: Ctrl-C) leaves
 * the threads running: sf_flow_run_free stops and joins them.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../anon/anon.h"
#include "flowpriv.h"
#include "runpriv.h"

#define TICK_MS 100                    /* the caller looks at its host this often */
#define REGION_MAX ((uint64_t)1 << 20)  /* bytes of capture a thread reads at once */
#define REGION_MIN ((uint64_t)64 << 10)
#define AHEAD 2                        /* regions read ahead, per thread */
#define ARENA_BLOCK ((size_t)1 << 20)  /* anonymized bytes, in blocks never moved */
#define PREFETCH 24                    /* notes ahead whose packets' facts are fetched */

/* ---- what a region's reading notes ------------------------------------------- */

enum { K_PASS, K_INFO, K_PACKET, K_ANON_FAILED };

/* Every packet: what every thread needs of it.  Small, as every thread
   goes through every one. */
typedef struct note {
  int64_t time_ns;       /* as captured (each thread's clock anonymizes it) */
  uint32_t wirelen;      /* at least the captured length */
  uint8_t kind;          /* K_*: no conversation; its facts; dissect again */
  uint8_t shard;         /* the thread whose packet it is */
  int16_t rc;            /* K_ANON_FAILED: the engine's code */
  uint32_t fact;         /* K_INFO, K_PACKET: its facts, by index */
} note;

/* A packet of a conversation: what its thread's table needs. */
/* What the table reads of a transport header: TCP's flags, sequence and
   acknowledgement numbers, ICMP's type and code -- its first 14 bytes
   (table.c, tcp.c; the tests of threads against one thread see to it). */
#define HDR 16

typedef struct fact {
  const uint8_t *data;   /* K_PACKET: the bytes (mapped, or anonymized) */
  uint32_t caplen;
  int32_t linktype;
  uint32_t iface;
  uint32_t hdr_len;      /* bytes of the transport header copied to hdr */
  sf_pktinfo pi;         /* K_INFO */
  uint8_t hdr[HDR];      /* the transport header, read by the table: here
                            it is in the caches of the thread that wants
                            it, where the packet read long ago is not */
} fact;

typedef struct block {
  struct block *next;
  size_t used, cap;
  uint8_t d[];
} block;

enum { R_NEW, R_READING, R_READ, R_READY };

typedef struct region {
  uint64_t from, to;     /* nominal: records starting in [from, to) */
  uint64_t span;         /* its bytes (the last: to the end of the file) */
  int exact;             /* its start is where the region before ended */
  int state;             /* R_*; R_READY: checked, the threads may go through it */
  uint64_t start;        /* where its reading began; UINT64_MAX: no guess */
  sf_reader *rd;         /* kept until the region after is checked */
  note *v;
  size_t n, cap;
  fact *f;
  size_t nf, capf;
  block *arena;          /* anonymized bytes */
  int failed;            /* the reader failed after the n notes: msg */
  int64_t most;          /* the latest time of its notes; once checked,
                            of every region up to it */
  int have_most;
  char msg[640];
  int done;              /* threads through it */
} region;

/* A list's memory, kept for the next region: fresh memory costs a page
   fault and a zeroed page per 4 KiB, again for every region. */
typedef struct spare {
  void *v;
  size_t cap;
} spare;

#define SPARES 16

struct shardwork {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  region *g;
  size_t ng, last;       /* regions; none after last is read (an error) */
  size_t *pos;           /* each thread's next region to go through */
  int n;
  int cancel;
  atomic_int tainted;    /* one thread must do it: the host is wanted, or
                            the clock steps back (written by any thread) */
  sf_reader *tmpl;       /* primed: the state a guessed region assumes */
  sf_anon **anon;        /* each thread's, for the bytes it reads */
  sf_pkt *scratch;       /* each thread's: 2 packets */
  int oom;
  spare notes[SPARES], facts[SPARES];
  int nnotes, nfacts;
};

/* ---- regions --------------------------------------------------------------------- */

static void *arena_take(region *g, size_t n) {
  block *b = g->arena;
  if (!b || b->cap - b->used < n) {
    size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
    if (!(b = malloc(sizeof *b + cap))) return NULL;
    b->next = g->arena;
    b->used = 0;
    b->cap = cap;
    g->arena = b;
  }
  b->used += n;
  return b->d + b->used - n;
}

/* Keep a list's memory for later (locked), or free it. */
static void put_spare(spare *s, int *n, void *v, size_t cap) {
  if (v && *n < SPARES) {
    s[*n].v = v;
    s[(*n)++].cap = cap;
  } else {
    free(v);
  }
}

static void take_spare(spare *s, int *n, void **v, size_t *cap) {
  if (!*n) return;
  *v = s[--*n].v;
  *cap = s[*n].cap;
}

/* Region g's lists from the spares (locked), before it is read. */
static void region_lists(struct shardwork *w, region *g) {
  take_spare(w->notes, &w->nnotes, (void **)&g->v, &g->cap);
  take_spare(w->facts, &w->nfacts, (void **)&g->f, &g->capf);
}

/* Region g's memory let go (locked; w NULL: freed). */
static void region_clear(struct shardwork *w, region *g) {
  block *b, *next;
  for (b = g->arena; b; b = next) {
    next = b->next;
    free(b);
  }
  if (w) {
    put_spare(w->notes, &w->nnotes, g->v, g->cap);
    put_spare(w->facts, &w->nfacts, g->f, g->capf);
  } else {
    free(g->v);
    free(g->f);
  }
  sf_reader_close(g->rd);
  g->arena = NULL;
  g->v = NULL;
  g->f = NULL;
  g->rd = NULL;
  g->n = g->cap = g->nf = g->capf = 0;
  g->failed = 0;
  g->have_most = 0;
}

/* Room for one more in a list (first: for its bytes in packets of 512). */
static int room(void **v, size_t *cap, size_t n, size_t size, uint64_t span) {
  size_t c;
  void *nv;
  if (n < *cap) return 0;
  c = *cap ? *cap * 2 : (size_t)(span / 512 + 64);
  if (!(nv = realloc(*v, c * size))) return -1;
  *v = nv;
  *cap = c;
  return 0;
}

/* The packet q (anonymized) into the region's arena, its facts pointing
   there. */
static int keep_bytes(region *g, fact *x, const sf_pkt *q) {
  uint8_t *d = arena_take(g, q->len ? q->len : 1);
  if (!d) return -1;
  memcpy(d, q->data, q->len);
  if (x->pi.l4) {
    x->pi.l4 = d + (x->pi.l4 - q->data);
    x->pi.pay = d + (x->pi.pay - q->data);
  }
  x->data = d;
  x->caplen = (uint32_t)q->len;
  return 0;
}

/* ---- reading a region --------------------------------------------------------------- */

/* The host's thread_work around the engine's work on a packet. */
static void host_work(sf_flow_run *r, int begin) {
  if (r->h.thread_work && r->h.thread_work(r->h.ud, begin) && !begin)
    atomic_store(&r->work->tainted, 1);
}

/* The facts of a packet q of a conversation (mapped, or anonymized:
   its bytes kept). */
static int note_fact(region *g, note *k, const sf_pkt *q, const sf_rec *rec,
                     int anonymized, int n) {
  fact *x;
  if (room((void **)&g->f, &g->capf, g->nf, sizeof *g->f, g->span) != 0) return -1;
  x = &g->f[g->nf];
  if (!sf_flow_classify(q, &x->pi)) return 0;
  k->kind = x->pi.frag ? K_PACKET : K_INFO;
  k->shard = (uint8_t)sf_flow_shard_of(&x->pi.key, n);
  k->fact = (uint32_t)g->nf++;
  x->data = rec->data;
  x->caplen = rec->caplen;
  x->linktype = rec->linktype;
  x->iface = rec->interface_id;
  x->hdr_len = 0;
  if (x->pi.l4) {
    x->hdr_len = (uint32_t)(x->pi.l4len < HDR ? x->pi.l4len : HDR);
    memcpy(x->hdr, x->pi.l4, x->hdr_len);
  }
  return anonymized ? keep_bytes(g, x, q) : 0;
}

/* One record's note: dissected (and anonymized) here. */
static int note_record(sf_flow_run *r, int i, region *g, const sf_rec *rec) {
  struct shardwork *w = r->work;
  sf_pkt *p = &w->scratch[2 * i], *q = p;
  note *k;
  int rc = SF_OK;
  if (room((void **)&g->v, &g->cap, g->n, sizeof *g->v, g->span) != 0) return -1;
  k = &g->v[g->n++];
  k->time_ns = rec->time_ns;
  if (g->n > 1 && rec->time_ns < g->most) atomic_store(&w->tainted, 1);  /* a step back */
  if (g->n == 1 || rec->time_ns > g->most) g->most = rec->time_ns;
  g->have_most = 1;
  k->wirelen = rec->wirelen > rec->caplen ? rec->wirelen : rec->caplen;
  k->kind = K_PASS;
  k->shard = 0;
  k->rc = 0;
  sf_pkt_of_rec(p, rec);
  host_work(r, 1);
  sf_pkt_parse(p);
  if (w->anon && (rc = sf_flow_anonymize(w->anon[i], q = &w->scratch[2 * i + 1], p)) != SF_OK) {
    k->kind = K_ANON_FAILED;
    k->rc = (int16_t)rc;
  } else if (note_fact(g, k, q, rec, w->anon != NULL, w->n) != 0) {
    return -1;
  }
  host_work(r, 0);
  return 0;
}

/* The reader for region k: from the template's state at a guessed
   start, or from where region k-1's reader stopped. */
static sf_reader *region_reader(struct shardwork *w, size_t k) {
  region *g = &w->g[k];
  if (k == 0) {
    g->start = sf_reader_offset(w->tmpl);
    return sf_reader_fork(w->tmpl, g->start, g->to);
  }
  if (g->exact) {
    g->start = sf_reader_offset(w->g[k - 1].rd);
    return sf_reader_fork(w->g[k - 1].rd, g->start, g->to);
  }
  if ((g->start = sf_reader_guess(w->tmpl, g->from, g->to)) == UINT64_MAX) return NULL;
  return sf_reader_fork(w->tmpl, g->start, g->to);
}

/* Thread i reads region k (taken, so nobody else touches it). */
static void read_region(sf_flow_run *r, int i, size_t k, sf_reader *rd) {
  region *g = &r->work->g[k];
  sf_rec rec;
  int rc;
  if (!rd) return;  /* no start found: the check reads it again */
  g->rd = rd;
  while ((rc = sf_reader_next(rd, &rec)) == SF_IO_REC)
    if (note_record(r, i, g, &rec) != 0) {
      r->work->oom = 1;
      return;
    }
  if (rc == SF_IO_ERR) {
    g->failed = 1;
    snprintf(g->msg, sizeof g->msg, "%s", sf_reader_error(rd));
  }
}

/* ---- going through a region -------------------------------------------------------------- */

/* Packets of other threads' in a row, for a table whose conversations
   are all delivered at the end, sorted: the timeouts their times pass
   end the same conversations at once, before the next packet of the
   table's own, as one at a time (expiry is all the time passing does;
   which packet did it matters only to on_flow's order). */
typedef struct passing {
  uint64_t n, bytes;
  int64_t most;          /* the latest time among them */
} passing;

static void pass_later(passing *l, int64_t now, uint32_t wirelen) {
  if (!l->n || now > l->most) l->most = now;
  l->n++;
  l->bytes += wirelen;
}

static void pass_now(sf_flows *t, passing *l) {
  if (!l->n) return;
  sf_flows_pass_many(t, l->most, l->n, l->bytes);
  l->n = l->bytes = 0;
}

/* Fetch early the facts thread i's own packet PREFETCH notes on will
   want (written by another thread: not in this one's caches). */
static void prefetch(const region *g, size_t j, int i) {
  const note *k;
  if (j + PREFETCH < g->n && (k = &g->v[j + PREFETCH])->kind != K_PASS && k->shard == i) {
    const char *x = (const char *)&g->f[k->fact];
    __builtin_prefetch(x);
    __builtin_prefetch(x + 64);
    __builtin_prefetch(x + sizeof(fact) - 1);
  }
}

/* A packet of thread i's: into its table. */
static void track(sf_flow_run *sub, int i, const region *g, const note *k, int64_t now) {
  const fact *x = &g->f[k->fact];
  sf_pkt *p = &sub->parent->work->scratch[2 * i];
  int dir;
  if (k->kind == K_INFO) {
    sf_pktinfo pi = x->pi;
    if (x->hdr_len) pi.l4 = x->hdr;  /* the payload stays where it is */
    sf_flows_add_info(sub->t, NULL, &pi, now, k->wirelen, &dir);
    return;
  }
  sf_pkt_borrow(p, x->data, x->caplen);  /* a fragment: the defragmenter wants it */
  p->linktype = x->linktype;
  p->time_ns = now;
  p->wirelen = k->wirelen;
  p->interface_id = x->iface;
  p->frame = 0;  /* its index is the table's count */
  host_work(sub->parent, 1);
  sf_pkt_parse(p);
  host_work(sub->parent, 0);
  sf_flows_add_pkt(sub->t, p, k->wirelen, &dir);
}

/* Thread i's table takes region k's notes: its own packets tracked, the
   others' passing time on.  0, or -1 when the run fails here. */
static int take_region(sf_flow_run *sub, int i, const region *g) {
  passing later = {0, 0, 0};
  size_t j;
  for (j = 0; j < g->n; j++) {
    const note *k = &g->v[j];
    int64_t now = sub->anon ? sf_anon_time(sub->anon, k->time_ns) : k->time_ns;
    prefetch(g, j, i);
    if (k->kind == K_ANON_FAILED) {
      pass_now(sub->t, &later);
      sub->fail_at = sub->t->index;
      sf_flow_anon_failed(sub->err, sizeof sub->err, sub->fail_at + 1, k->rc);
      return -1;
    }
    if (k->kind == K_PASS || k->shard != i) {
      if (!sub->h.hold) {
        sf_flows_pass(sub->t, now, k->wirelen);
        sf_flow_run_flush(sub);
      } else {
        pass_later(&later, now, k->wirelen);
      }
      continue;
    }
    pass_now(sub->t, &later);
    track(sub, i, g, k, now);
    sf_flow_run_flush(sub);
  }
  pass_now(sub->t, &later);
  if (!g->failed) return 0;
  sub->fail_at = sub->t->index;
  snprintf(sub->err, sizeof sub->err, "%s", g->msg);
  return -1;
}

/* ---- the threads' rounds ----------------------------------------------------------------- */

/* Region k read and k-1 ready: is k's start right?  Ready, or to be
   read again from where k-1 ended.  (Locked.) */
/* Region g follows prev, checked: a step back between them makes the run
   one thread's (see the top); g's latest time covers prev's. */
static void carry_most(struct shardwork *w, region *g, const region *prev) {
  if (!prev->have_most) return;
  if (g->n && g->v[0].time_ns < prev->most) atomic_store(&w->tainted, 1);
  if (!g->have_most || prev->most > g->most) g->most = prev->most;
  g->have_most = 1;
}

static void check(struct shardwork *w, size_t k) {
  region *g = &w->g[k], *prev = &w->g[k - 1];
  if (prev->failed) {  /* nothing after an error is read */
    w->last = k - 1;
    return;
  }
  if (g->exact || (g->rd && g->start == sf_reader_offset(prev->rd) &&
                   sf_reader_same_state(prev->rd, w->tmpl))) {
    carry_most(w, g, prev);
    g->state = R_READY;
    sf_reader_close(prev->rd);  /* k's own reader does for k+1 */
    prev->rd = NULL;
    return;
  }
  region_clear(w, g);
  g->exact = 1;
  g->state = R_NEW;
}

/* The slowest thread's position: regions before it are done with. */
static size_t slowest(const struct shardwork *w) {
  size_t m = w->pos[0];
  int i;
  for (i = 1; i < w->n; i++)
    if (w->pos[i] < m) m = w->pos[i];
  return m;
}

/* A region to read for thread i, within reach (locked); SIZE_MAX none. */
static size_t to_read(struct shardwork *w) {
  size_t k, lo = slowest(w), hi = lo + AHEAD * (size_t)w->n;
  for (k = lo; k < w->ng && k < hi && k <= w->last; k++)
    if (w->g[k].state == R_NEW && (!w->g[k].exact || w->g[k - 1].state >= R_READ))
      return k;
  return SIZE_MAX;
}

/* Thread i is through region k (locked): the last one frees it. */
static void through(struct shardwork *w, int i, size_t k) {
  w->pos[i] = k + 1;
  if (++w->g[k].done == w->n) {
    sf_reader *keep = w->g[k].rd;  /* region k+1's check may want it */
    w->g[k].rd = NULL;
    region_clear(w, &w->g[k]);
    w->g[k].rd = keep;
  }
}

/* One step of thread i: go through its next region, check one, read
   one, or wait.  0 when it has nothing more to do. */
static int step(sf_flow_run *r, int i) {
  struct shardwork *w = r->work;
  sf_flow_run *sub = r->sub[i];
  size_t k = w->pos[i], rk;
  if (w->cancel || atomic_load(&w->tainted) || w->oom || k > w->last || k >= w->ng || sub->rc != SF_OK)
    return 0;
  if (w->g[k].state == R_READY) {
    pthread_mutex_unlock(&w->mu);
    if (take_region(sub, i, &w->g[k]) != 0) sub->rc = -1;
    pthread_mutex_lock(&w->mu);
    through(w, i, k);
    pthread_cond_broadcast(&w->cv);
    return 1;
  }
  if (w->g[k].state == R_READ && (k == 0 || w->g[k - 1].state == R_READY)) {
    if (k == 0) w->g[k].state = R_READY;
    else check(w, k);
    pthread_cond_broadcast(&w->cv);
    return 1;
  }
  if ((rk = to_read(w)) != SIZE_MAX) {
    sf_reader *rd;
    w->g[rk].state = R_READING;
    region_lists(w, &w->g[rk]);
    rd = region_reader(w, rk);  /* k-1's reader is not touched meanwhile */
    pthread_mutex_unlock(&w->mu);
    read_region(r, i, rk, rd);
    pthread_mutex_lock(&w->mu);
    w->g[rk].state = R_READ;
    pthread_cond_broadcast(&w->cv);
    return 1;
  }
  pthread_cond_wait(&w->cv, &w->mu);
  return 1;
}

static double thread_cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void shard_main(void *ud, int i) {
  sf_flow_run *r = (sf_flow_run *)ud, *sub = r->sub[i];
  struct shardwork *w = r->work;
  double t0 = thread_cpu();
  pthread_mutex_lock(&w->mu);
  while (step(r, i))
    ;
  w->pos[i] = SIZE_MAX;  /* not holding anyone back */
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  if (sub->rc == SF_OK && !w->cancel && !atomic_load(&w->tainted) && !w->oom)
    sub->rc = sf_flow_run_end(sub);
  sub->cpu = thread_cpu() - t0;
}

double sf_flow_run_thread_cpu(const sf_flow_run *r, double *longest) {
  double sum = 0, most = 0;
  int i;
  for (i = 0; i < r->nsub; i++) {
    sum += r->sub[i]->cpu;
    if (r->sub[i]->cpu > most) most = r->sub[i]->cpu;
  }
  if (longest) *longest = most;
  return sum;
}

/* ---- setting up and tearing down -------------------------------------------------------- */

/* on_flow of a thread's run: kept, in the order it came. */
static void collect(void *ud, sf_flow *f) {
  sf_flow_run *sub = (sf_flow_run *)ud;
  if (sub->ngot == sub->capgot) {
    size_t cap = sub->capgot ? sub->capgot * 2 : 256;
    sf_flow **v = realloc(sub->got, cap * sizeof *v);
    if (!v) {  /* lost: the run fails */
      sf_flow_free(sub->t, f);
      sub->parent->work->oom = 1;
      return;
    }
    sub->got = v;
    sub->capgot = cap;
  }
  f->shard = (uint8_t)sub->shard;
  sub->got[sub->ngot++] = f;
}

static sf_flow_run *new_sub(sf_flow_run *r, int i, int n) {
  sf_flow_config c = r->c;
  sf_flow_hooks h;
  sf_flow_run *sub;
  c.verbose = 0;  /* the caller's run reports for them all */
  if (c.memory_budget) c.memory_budget = c.memory_budget / (uint64_t)n + 1;
  memset(&h, 0, sizeof h);
  h.on_flow = collect;
  h.hold = r->h.hold;
  h.log = r->h.log;
  if (!(sub = sf_flow_run_new(&c, &h))) return NULL;
  sub->h.ud = sub;
  sub->shard = i;
  sub->parent = r;
  if ((r->anon && !(sub->anon = sf_anon_new(sf_anon_policy_of(r->anon)))) ||
      sf_flow_run_begin(sub, !r->anon) != SF_OK) {
    if (sub->anon) sf_anon_free(sub->anon);
    sf_flow_run_free(sub);
    return NULL;
  }
  return sub;
}

static void free_sub(sf_flow_run *sub) {
  size_t i;
  for (i = sub->pos; i < sub->ngot; i++) sf_flow_free(sub->t, sub->got[i]);
  free(sub->got);
  if (sub->anon) sf_anon_free(sub->anon);
  sub->anon = NULL;
  sf_flow_run_free(sub);
}

static void free_work(struct shardwork *w) {
  size_t k;
  int i;
  for (k = 0; k < w->ng; k++) region_clear(NULL, &w->g[k]);
  for (i = 0; i < w->nnotes; i++) free(w->notes[i].v);
  for (i = 0; i < w->nfacts; i++) free(w->facts[i].v);
  for (i = 0; w->scratch && i < 2 * w->n; i++) sf_pkt_free(&w->scratch[i]);
  for (i = 0; w->anon && i < w->n; i++) sf_anon_free(w->anon[i]);
  sf_reader_close(w->tmpl);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  free(w->g);
  free(w->pos);
  free(w->scratch);
  free(w->anon);
  free(w);
}

void sf_flow_run_free_shards(sf_flow_run *r) {
  int i;
  if (r->gang) {  /* left by a longjmp while they ran */
    pthread_mutex_lock(&r->work->mu);
    r->work->cancel = 1;
    pthread_cond_broadcast(&r->work->cv);
    pthread_mutex_unlock(&r->work->mu);
    sf_gang_join(r->gang);
    r->gang = NULL;
  }
  for (i = 0; i < r->nsub; i++) free_sub(r->sub[i]);
  free(r->sub);
  r->sub = NULL;
  r->nsub = 0;
  if (r->work) free_work(r->work);
  r->work = NULL;
}

/* The template reader (primed), the regions, each thread's scratch and
   anonymizer; NULL when the capture is no mapped file. */
static struct shardwork *new_work(sf_flow_run *r, const char *path, const sf_ropts *ro, int n) {
  struct shardwork *w = calloc(1, sizeof *w);
  uint64_t size, k, region;
  struct stat st;
  char err[256];
  int i;
  if (!w) return NULL;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  w->n = n;
  if (stat(path, &st) != 0 || !(w->tmpl = sf_reader_open(path, err, sizeof err)) ||
      !sf_reader_map(w->tmpl)) {
    free_work(w);
    return NULL;
  }
  sf_reader_apply(w->tmpl, ro);
  sf_reader_prime(w->tmpl);  /* a failure here is region 0's to report */
  size = (uint64_t)st.st_size;
  region = size / (16 * (uint64_t)n);  /* enough of them to share out evenly */
  if (region < REGION_MIN) region = REGION_MIN;
  if (region > REGION_MAX) region = REGION_MAX;
  w->ng = (size_t)(size / region + 1);
  w->last = w->ng - 1;
  w->g = calloc(w->ng, sizeof *w->g);
  w->pos = calloc((size_t)n, sizeof *w->pos);
  w->scratch = calloc(2 * (size_t)n, sizeof *w->scratch);
  if (r->anon) w->anon = calloc((size_t)n, sizeof *w->anon);
  if (!w->g || !w->pos || !w->scratch || (r->anon && !w->anon)) {
    free_work(w);
    return NULL;
  }
  for (k = 0; k < w->ng; k++) {
    w->g[k].from = k * region;
    w->g[k].to = k + 1 < w->ng ? (k + 1) * region : UINT64_MAX;
    w->g[k].span = k + 1 < w->ng ? region : size - k * region;
  }
  for (i = 0; i < 2 * n; i++) sf_pkt_init(&w->scratch[i]);
  for (i = 0; r->anon && i < n; i++)
    if (!(w->anon[i] = sf_anon_new(sf_anon_policy_of(r->anon)))) {
      free_work(w);
      return NULL;
    }
  return w;
}

/* ---- the merge ------------------------------------------------------------------------------ */

static int by_start(const sf_flow *a, const sf_flow *b) {
  if (a->start_ns != b->start_ns) return a->start_ns < b->start_ns ? -1 : 1;
  return a->first_index < b->first_index ? -1 : a->first_index > b->first_index;
}

/* Would one thread have delivered a before b? */
static int before(const sf_flow *a, const sf_flow *b, int hold) {
  int fa = a->end_phase == SF_END_FINISH, fb = b->end_phase == SF_END_FINISH;
  if (hold) return by_start(a, b) < 0;
  if (fa != fb) return fa < fb;
  if (fa) return by_start(a, b) < 0;
  if (a->end_index != b->end_index) return a->end_index < b->end_index;
  if (a->end_phase != b->end_phase) return a->end_phase < b->end_phase;
  if (a->end_class != b->end_class) return a->end_class < b->end_class;
  return a->touched < b->touched;
}

/* The thread whose next conversation comes first, or -1. */
static int next_sub(const sf_flow_run *r) {
  int i, best = -1;
  for (i = 0; i < r->nsub; i++) {
    const sf_flow_run *s = r->sub[i];
    if (s->pos < s->ngot &&
        (best < 0 || before(s->got[s->pos], r->sub[best]->got[r->sub[best]->pos], r->h.hold)))
      best = i;
  }
  return best;
}

/* Hand the conversations to the host in one thread's order; when the
   run failed at packet index fail, only those one thread would have
   delivered before it. */
static void merge(sf_flow_run *r, uint64_t fail) {
  int i;
  while ((i = next_sub(r)) >= 0) {
    sf_flow_run *s = r->sub[i];
    sf_flow *f = s->got[s->pos];
    if (fail != UINT64_MAX && (r->h.hold || f->end_phase == SF_END_FINISH ||
                               f->end_index >= fail))
      break;  /* the rest stay for free_sub */
    s->pos++;
    sf_flow_run_deliver(r, f);
  }
}

/* ---- the run ----------------------------------------------------------------------------------- */

/* Wait for the threads, giving the host its ticks (it may longjmp). */
static void wait_threads(sf_flow_run *r) {
  while (!sf_gang_wait(r->gang, TICK_MS))
    if (r->h.tick) r->h.tick(r->h.ud);
  sf_gang_join(r->gang);
  r->gang = NULL;
}

/* The thread that failed first (at the lowest packet index), or -1. */
static int first_failure(const sf_flow_run *r) {
  int i, worst = -1;
  for (i = 0; i < r->nsub; i++)
    if (r->sub[i]->rc != SF_OK && (worst < 0 || r->sub[i]->fail_at < r->sub[worst]->fail_at))
      worst = i;
  return worst;
}

static int start(sf_flow_run *r, const char *path, const sf_ropts *ro, int n) {
  int i;
  if (strcmp(path, "-") == 0 || !(r->work = new_work(r, path, ro, n))) return -1;
  if (!(r->sub = calloc((size_t)n, sizeof *r->sub))) return -1;
  for (i = 0; i < n; i++) {
    if (!(r->sub[i] = new_sub(r, i, n))) return -1;
    r->nsub = i + 1;
  }
  return (r->gang = sf_gang_start(n, shard_main, r)) ? 0 : -1;
}

int sf_flow_run_shards(sf_flow_run *r, const char *path, const sf_ropts *ro) {
  int n = r->threads > 0 ? r->threads : sf_par_cpus(), bad;
  if (n > 255) n = 255;  /* sf_flow.shard */
  if (n <= 1 || start(r, path, ro, n) != 0) {
    sf_flow_run_free_shards(r);
    return SF_FLOW_ONE_THREAD;
  }
  r->t0 = r->tlast = sf_flow_now();
  wait_threads(r);
  if (atomic_load(&r->work->tainted)) {  /* the host is wanted: its thread, alone */
    sf_flow_run_free_shards(r);
    return SF_FLOW_ONE_THREAD;
  }
  if (r->work->oom) {
    snprintf(r->err, sizeof r->err, "not enough memory");
    return -1;
  }
  if ((bad = first_failure(r)) >= 0) {
    snprintf(r->err, sizeof r->err, "%s", r->sub[bad]->err);
    merge(r, r->sub[bad]->fail_at);
    return -1;
  }
  merge(r, UINT64_MAX);
  sf_flow_run_report(r);
  return SF_OK;
}
