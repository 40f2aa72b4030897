/*
 * reasm.c -- TCP reassembly of one direction (see struct sf_reasm in
 * flowpriv.h for the model and the overlap rule).
 *
 * Nothing is lost silently.  A hole the capture never fills is skipped as
 * a gap, recorded with its offset and length, and the data after it kept:
 * when the held segments reach max_ooo_fragments or max_reassembly_buffer
 * bytes, and when the conversation ends.  A stream past
 * max_reassembly_buffer spills to disk when a memory budget allows, and is
 * cut (counted) without one.  Data that arrives after its hole was skipped
 * is counted too.
 */
#include <stdlib.h>
#include <string.h>

#include "flowpriv.h"

/* The 64-bit offset congruent to rel (mod 2^32) nearest to ref. */
static int64_t unwrap(int64_t ref, uint32_t rel) {
  return ref + (int32_t)(rel - (uint32_t)ref);
}

/* ---- the heaps ------------------------------------------------------------ */

/* wait: by offset, then arrival; ready: by arrival. */
static int before(const sf_seg *a, const sf_seg *b, int by_arrival) {
  if (!by_arrival && a->off != b->off) return a->off < b->off;
  return a->arrival < b->arrival;
}

static int heap_push(sf_flows *t, sf_segheap *h, sf_seg *s, int by_arrival) {
  uint32_t i;
  if (h->n == h->cap) {
    uint32_t cap = h->cap ? h->cap * 2 : 16;
    sf_seg **v = realloc(h->v, cap * sizeof *v);
    if (!v) return SF_E_NOMEM;
    sf_budget_fixed(t, (int64_t)(sf_heap_cost(cap * sizeof *v) -
                                 (h->cap ? sf_heap_cost(h->cap * sizeof *v) : 0)));
    h->v = v;
    h->cap = cap;
  }
  for (i = h->n++; i > 0; i = (i - 1) / 2) {  /* sift up */
    t->reasm_steps++;
    if (!before(s, h->v[(i - 1) / 2], by_arrival)) break;
    h->v[i] = h->v[(i - 1) / 2];
  }
  h->v[i] = s;
  return SF_OK;
}

static sf_seg *heap_pop(sf_flows *t, sf_segheap *h, int by_arrival) {
  sf_seg *top = h->v[0], *last = h->v[--h->n];
  uint32_t i = 0, c;
  while ((c = 2 * i + 1) < h->n) {  /* sift down */
    t->reasm_steps++;
    if (c + 1 < h->n && before(h->v[c + 1], h->v[c], by_arrival)) c++;
    if (!before(h->v[c], last, by_arrival)) break;
    h->v[i] = h->v[c];
    i = c;
  }
  if (h->n) h->v[i] = last;
  return top;
}

static void heap_free(sf_flows *t, sf_segheap *h) {
  if (h->cap) sf_budget_fixed(t, -(int64_t)sf_heap_cost(h->cap * sizeof *h->v));
  free(h->v);
  memset(h, 0, sizeof *h);
}

/* ---- segments, gaps, counts ------------------------------------------------- */

static size_t seg_cost(const sf_seg *s) {
  return sf_heap_cost(sizeof *s + (s->owned ? s->len : 0));
}

static void seg_free(sf_flows *t, sf_reasm *r, sf_seg *s) {
  r->held -= s->len;
  sf_budget_fixed(t, -(int64_t)seg_cost(s));
  free(s);
}

static void drop(sf_flows *t, sf_tcp_dir *dir, uint64_t *why) {
  dir->dropped++;
  t->dropped++;
  (*why)++;
}

/* r's own memory counts in the budget while its conversation lives */
static void charge(sf_flows *t, sf_reasm *r, int64_t delta) {
  r->charge += delta;
  sf_budget_fixed(t, delta);
}

static void add_gap(sf_flows *t, sf_reasm *r, uint64_t len, int forced) {
  if (r->ngaps == r->capgaps) {
    uint32_t cap = r->capgaps ? r->capgaps * 2 : 2;
    sf_gap *g = realloc(r->gaps, cap * sizeof *g);
    if (!g) return;  /* the bytes still skip; only the record is lost */
    charge(t, r, (int64_t)(sf_heap_cost(cap * sizeof *g) -
                           (r->capgaps ? sf_heap_cost(r->capgaps * sizeof *g) : 0)));
    r->gaps = g;
    r->capgaps = cap;
  }
  r->gaps[r->ngaps].off = (uint64_t)(r->next - r->origin);
  r->gaps[r->ngaps++].len = len;
  t->gaps++;
  t->gap_bytes += len;
  t->gaps_forced += forced != 0;
}

/* Does [off, end) reach into a gap?  (Data that came after its hole was
   given up on.)  Gaps are sorted: binary search. */
static int in_gap(const sf_reasm *r, int64_t off, int64_t end) {
  uint32_t lo = 0, hi = r->ngaps;
  uint64_t a = (uint64_t)(off - r->origin), b = (uint64_t)(end - r->origin);
  if (off < r->origin) return 0;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (r->gaps[mid].off + r->gaps[mid].len <= a) lo = mid + 1;
    else hi = mid;
  }
  return lo < r->ngaps && r->gaps[lo].off < b;
}

/* ---- delivering ---------------------------------------------------------------- */

/* In-order bytes.  Past max_reassembly_buffer in memory a heap stream
   spills when there is a budget (the budget bounds memory, the disk takes
   the rest), and is cut without one.  The stream position moves on either
   way, so one refusal does not stall everything after. */
static void deliver(sf_flows *t, sf_tcp_dir *dir, const uint8_t *d, size_t n,
                    int stable) {
  sf_reasm *r = dir->r;
  sf_stream *s = &r->data;
  int over = s->len + n > t->c.max_reassembly_buffer;
  r->next += (int64_t)n;
  if (over && !t->c.memory_budget) {
    drop(t, dir, &t->dropped_cap);
    return;
  }
  if (over && !s->spilled && !s->refs) sf_stream_spill(t, s);  /* refs: 16 B a piece */
  if (sf_stream_append(t, s, d, n, stable) != SF_OK) drop(t, dir, &t->dropped_cap);
}

/* Deliver the held segments the stream has reached, by the overlap rule. */
static void drain(sf_flows *t, sf_tcp_dir *dir) {
  sf_reasm *r = dir->r;
  for (;;) {
    sf_seg *s;
    int64_t end;
    /* the common case, one segment reaching the next byte and no other:
       it is the earliest to arrive of those, straight out */
    if (!r->ready.n && r->wait.n && r->wait.v[0]->off <= r->next &&
        (r->wait.n == 1 || (r->wait.n >= 2 && r->wait.v[1]->off > r->next &&
                            (r->wait.n == 2 || r->wait.v[2]->off > r->next)))) {
      s = heap_pop(t, &r->wait, 0);
      end = s->off + s->len;
      if (end > r->next)
        deliver(t, dir, s->p + (r->next - s->off), (size_t)(end - r->next), !s->owned);
      seg_free(t, r, s);
      continue;
    }
    while (r->wait.n && r->wait.v[0]->off <= r->next) {
      s = heap_pop(t, &r->wait, 0);
      if (heap_push(t, &r->ready, s, 1) != SF_OK) {
        seg_free(t, r, s);
        drop(t, dir, &t->dropped_cap);
      }
    }
    if (!r->ready.n) return;
    s = heap_pop(t, &r->ready, 1);
    end = s->off + s->len;
    if (end > r->next)
      deliver(t, dir, s->p + (r->next - s->off), (size_t)(end - r->next),
              !s->owned);
    seg_free(t, r, s);
  }
}

/* The stream starts at origin: what waited before it is trimmed. */
static void start(sf_flows *t, sf_tcp_dir *dir, int64_t origin) {
  sf_reasm *r = dir->r;
  r->pending = 0;
  r->origin = r->next = origin;
  drain(t, dir);
}

/* Give up on the hole before the first held segment: a gap, then on. */
static void skip_hole(sf_flows *t, sf_tcp_dir *dir, int forced) {
  sf_reasm *r = dir->r;
  int64_t to;
  if (!r->wait.n) return;
  to = r->wait.v[0]->off;
  if (r->pending) {
    start(t, dir, to);
    return;
  }
  add_gap(t, r, (uint64_t)(to - r->next), forced);
  r->next = to;
  drain(t, dir);
}

/* Hold a segment past the next byte (or before the start is known). */
static void hold(sf_flows *t, sf_tcp_dir *dir, int64_t off, const uint8_t *d,
                 size_t n) {
  sf_reasm *r = dir->r;
  int copy = !t->pkt_stable;
  size_t cost = sf_heap_cost(sizeof(sf_seg) + (copy ? n : 0));
  sf_seg *s;
  if (off == r->last_off && n <= r->last_len && (r->wait.n || r->ready.n))
    return;  /* a retransmission of the last one held: it would lose */
  sf_budget_reserve(t, cost);
  if (!(s = malloc(sizeof *s + (copy ? n : 0)))) {
    drop(t, dir, &t->dropped_cap);
    return;
  }
  s->off = off;
  s->arrival = r->arrivals++;
  s->len = (uint32_t)n;
  s->owned = (uint8_t)copy;
  s->p = copy ? memcpy(s->data, d, n) : d;
  if (heap_push(t, &r->wait, s, 0) != SF_OK) {
    free(s);
    drop(t, dir, &t->dropped_cap);
    return;
  }
  sf_budget_fixed(t, (int64_t)cost);
  r->held += n;
  r->last_off = off;
  r->last_len = (uint32_t)n;
  if (r->wait.n + r->ready.n > t->c.max_ooo_fragments ||
      r->held > t->c.max_reassembly_buffer)
    skip_hole(t, dir, 1);  /* the caps: what is held moves on */
}

/* ---- the direction's state ---------------------------------------------------- */

static sf_reasm *reasm_new(sf_flows *t, sf_tcp_dir *dir, int64_t now) {
  sf_reasm *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  charge(t, r, (int64_t)sf_heap_cost(sizeof *r));
  r->pending = !dir->syn_origin;  /* no SYN yet: the start may be earlier */
  r->pending_since = now;
  r->last_off = -1;
  dir->r = r;
  return r;
}

void sf_reasm_segment(sf_flows *t, sf_flow *f, int d, uint32_t seq,
                      const uint8_t *pay, size_t plen, int64_t now) {
  sf_tcp_dir *dir = &f->dir[d];
  sf_reasm *r = dir->r;
  int64_t off, end;
  if (!dir->base_set) {  /* offsets count from the first data seen */
    dir->isn = seq;
    dir->base_set = 1;
  }
  if (!r && !(r = reasm_new(t, dir, now))) {
    drop(t, dir, &t->dropped_cap);
    return;
  }
  if (plen > UINT32_MAX) plen = UINT32_MAX;  /* no segment is this long */
  if (r->pending) {
    off = unwrap(r->wait.n ? r->wait.v[0]->off : 0, seq - dir->isn);
    hold(t, dir, off, pay, plen);
    return;
  }
  off = unwrap(r->next, seq - dir->isn);
  end = off + (int64_t)plen;
  if (off < r->next) {  /* dated: only what is past the next byte counts */
    if (r->ngaps && in_gap(r, off, end < r->next ? end : r->next))
      drop(t, dir, &t->dropped_late);
    if (end <= r->next) return;  /* a retransmission */
    pay += r->next - off;
    plen = (size_t)(end - r->next);
    off = r->next;
  }
  if (off == r->next) {
    deliver(t, dir, pay, plen, t->pkt_stable);
    drain(t, dir);
  } else {
    hold(t, dir, off, pay, plen);
  }
}

void sf_reasm_syn(sf_flows *t, sf_flow *f, int d, uint32_t seq) {
  sf_tcp_dir *dir = &f->dir[d];
  sf_reasm *r = dir->r;
  uint32_t isn = seq + 1;  /* data starts after the SYN's own number */
  if (!dir->base_set) {
    dir->isn = isn;
    dir->base_set = dir->syn_origin = 1;
  } else if (r && r->pending) {  /* data came first: now its start is known */
    dir->syn_origin = 1;
    start(t, dir, unwrap(r->wait.n ? r->wait.v[0]->off : 0, isn - dir->isn));
  }  /* else a retransmitted SYN, or one too late to matter */
}

static void tick_dir(sf_flows *t, sf_tcp_dir *dir, int64_t now) {
  sf_reasm *r = dir->r;
  if (r && r->pending && sf_elapsed(now, r->pending_since) > t->c.reorder_window_ns)
    skip_hole(t, dir, 0);
}

void sf_reasm_tick(sf_flows *t, sf_flow *f, int64_t now) {
  tick_dir(t, &f->dir[0], now);
  tick_dir(t, &f->dir[1], now);
}

/* At the end, what is held is delivered past its holes; the heaps go,
   and what is left (the record of gaps, the stream) is the host's, out of
   the budget but for the stream, which may still spill. */
void sf_reasm_finish(sf_flows *t, sf_flow *f) {
  int d;
  for (d = 0; d < 2; d++) {
    sf_reasm *r = f->dir[d].r;
    if (!r) continue;
    while (r->wait.n) skip_hole(t, &f->dir[d], 0);
    heap_free(t, &r->wait);
    heap_free(t, &r->ready);
    charge(t, r, -r->charge);
  }
}

void sf_reasm_free(sf_flows *t, sf_tcp_dir *dir) {
  sf_reasm *r = dir->r;
  if (!r) return;
  while (r->wait.n) seg_free(t, r, heap_pop(t, &r->wait, 0));
  while (r->ready.n) seg_free(t, r, heap_pop(t, &r->ready, 1));
  heap_free(t, &r->wait);
  heap_free(t, &r->ready);
  charge(t, r, -r->charge);
  free(r->gaps);
  sf_stream_free(t, &r->data);
  free(r);
  dir->r = NULL;
}

const sf_gap *sf_flow_gaps(const sf_flow *f, int d, size_t *n) {
  const sf_reasm *r = f->dir[d].r;
  *n = r ? r->ngaps : 0;
  return r ? r->gaps : NULL;
}
