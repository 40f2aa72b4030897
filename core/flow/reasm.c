/*
 * reasm.c -- TCP reassembly of one direction.
 *
 * Sequence numbers become 64-bit stream offsets relative to the ISN (the
 * SYN's, or the first data segment's when the capture joined mid-stream),
 * unwrapped around the next expected offset, so wrap-around is invisible.
 * Bytes already delivered are trimmed (retransmissions, overlaps: the
 * first copy wins, as a receiving stack would have it); segments past a
 * gap wait in a sorted list until the gap fills.  Both are capped per
 * direction, and what the caps refuse is counted in `dropped`.
 */
#include <stdlib.h>
#include <string.h>

#include "flowpriv.h"

/* The 64-bit offset congruent to rel (mod 2^32) nearest to ref. */
static int64_t unwrap(uint64_t ref, uint32_t rel) {
  return (int64_t)ref + (int32_t)(rel - (uint32_t)ref);
}

static void drop(sf_flows *t, sf_tcp_dir *r) {
  r->dropped++;
  t->dropped++;
}

/* In-order bytes: kept while the buffer cap allows; the stream position
   moves on either way, so one refusal does not stall everything after. */
static void deliver(sf_flows *t, sf_tcp_dir *r, const uint8_t *d, size_t n,
                    int stable) {
  if (r->data.len + r->ooo_bytes + n > t->c.max_reassembly_buffer ||
      sf_stream_append(t, &r->data, d, n, stable) != SF_OK)
    drop(t, r);
  r->next += n;
}

static void seg_free(sf_flows *t, sf_tcp_dir *r, sf_seg *s) {
  r->nooo--;
  r->ooo_bytes -= s->len;
  sf_budget_fixed(t, -(int64_t)sf_heap_cost(sizeof *s + s->len));
  free(s);
}

/* Deliver the held segments the stream has reached. */
static void drain(sf_flows *t, sf_tcp_dir *r) {
  sf_seg *s;
  while ((s = r->ooo) != NULL && s->off <= r->next) {
    uint64_t end = s->off + s->len;
    r->ooo = s->next;
    if (end > r->next)
      deliver(t, r, s->data + (r->next - s->off), (size_t)(end - r->next), 0);
    seg_free(t, r, s);
  }
}

/* Hold a segment past a gap, sorted by offset; duplicates are not kept. */
static void hold(sf_flows *t, sf_tcp_dir *r, uint64_t off, const uint8_t *d,
                 size_t n) {
  sf_seg **pp = &r->ooo, *s;
  while (*pp && (*pp)->off < off) pp = &(*pp)->next;
  if (*pp && (*pp)->off == off && (*pp)->len >= n) return;  /* retransmitted */
  if (r->nooo >= t->c.max_ooo_fragments ||
      r->data.len + r->ooo_bytes + n > t->c.max_reassembly_buffer) {
    drop(t, r);
    return;
  }
  sf_budget_reserve(t, sizeof *s + n);
  if (!(s = malloc(sizeof *s + n))) {
    drop(t, r);
    return;
  }
  s->off = off;
  s->len = n;
  memcpy(s->data, d, n);
  s->next = *pp;
  *pp = s;
  r->nooo++;
  r->ooo_bytes += n;
  sf_budget_fixed(t, (int64_t)sf_heap_cost(sizeof *s + n));
}

void sf_reasm_segment(sf_flows *t, sf_flow *f, int d, uint32_t seq,
                      const uint8_t *pay, size_t plen) {
  sf_tcp_dir *r = &f->dir[d];
  int64_t off, end;
  if (!r->base_set) {  /* mid-stream: the first data we see is offset 0 */
    r->isn = seq;
    r->base_set = 1;
  }
  off = unwrap(r->next, seq - r->isn);
  end = off + (int64_t)plen;
  if (end <= (int64_t)r->next) return;  /* all delivered already */
  if (off < (int64_t)r->next) {         /* overlap: keep the first copy */
    pay += (uint64_t)r->next - (uint64_t)off;
    plen = (size_t)(end - (int64_t)r->next);
    off = (int64_t)r->next;
  }
  if ((uint64_t)off == r->next) {
    deliver(t, r, pay, plen, t->c.stable_input);
    drain(t, r);
  } else {
    hold(t, r, (uint64_t)off, pay, plen);
  }
}

void sf_reasm_free(sf_flows *t, sf_tcp_dir *r) {
  while (r->ooo) {
    sf_seg *s = r->ooo;
    r->ooo = s->next;
    seg_free(t, r, s);
  }
  sf_stream_free(t, &r->data);
}
