/*
 * flowpriv.h -- the flow table's insides, shared by the files of core/flow only.
 */
#ifndef SF_FLOWPRIV_H
#define SF_FLOWPRIV_H

#include "flow.h"

/* Timeout classes: each has one LRU list, oldest first, so expiry looks
   at list heads only (O(1) per packet). */
enum { SF_LRU_UDP, SF_LRU_EST, SF_LRU_HALF, SF_LRU_WAIT, SF_NLRU };

struct sf_seg {
  sf_seg *next;
  uint64_t off;          /* stream offset of data[0] */
  size_t len;
  uint8_t data[];
};

struct sf_flows {
  sf_flow_config c;
  sf_flow **slots;       /* open addressing, linear probing */
  size_t cap, n;         /* cap is a power of two */
  sf_flow *lru_head[SF_NLRU], *lru_tail[SF_NLRU];
  sf_flow *done_head, *done_tail;
  uint64_t index;        /* packets offered so far */
  uint64_t seq;          /* flows created so far */
  uint64_t bytes;
  /* the budget: heap bytes of streams (spillable), and of the rest it
     covers: held segments, live conversations' records and packet
     indices, the hash slots (never spilled: past the budget, the
     conversations idle the longest are ended early) */
  uint64_t mem, mem_fixed;
  uint64_t limit;        /* what they may reach: 15/16 of memory_budget (the
                            rest is for the allocator's slack and buffers
                            outside the table); 0 = no budget */
  uint64_t evicted;      /* conversations ended early by the budget */
  uint64_t spilled;      /* bytes in spill files */
  uint64_t spills, dropped;
  int spill_fd;          /* the spill file (unlinked), -1 until needed */
  uint32_t spill_blocks; /* blocks in the file */
  uint32_t *free_blocks; /* blocks given back, reused first */
  uint32_t nfree, capfree;
  sf_pkt pkt;            /* scratch for dissection */
};

/* what a packet says about its conversation (key.c) */
typedef struct sf_pktinfo {
  sf_flow_key key;       /* side 0 = this packet's sender */
  const uint8_t *l4;     /* transport header, or NULL */
  size_t l4len;          /* bytes of it (header + payload) */
  size_t l4hlen;
  int l4cut;             /* the payload was cut by the snaplen */
  int icmp_echo;         /* 1 request, 2 reply, 0 not echo */
  uint16_t icmp_seq;
} sf_pktinfo;

int sf_flow_classify(const sf_pkt *p, sf_pktinfo *pi);
uint64_t sf_flow_hash(const sf_flow_key *k);
int sf_flow_key_dir(const sf_flow_key *have, const sf_flow_key *q);
void sf_flow_key_swap(sf_flow_key *k);

/* budget (stream.c): make room for n more heap bytes by spilling streams */
void sf_budget_reserve(sf_flows *t, size_t n);
void sf_budget_fixed(sf_flows *t, int64_t delta);  /* not spillable */

/* What an allocation of n bytes costs on the heap: glibc's chunk (n and a
   size word, rounded up to 16 bytes, 32 at least). */
static inline size_t sf_heap_cost(size_t n) {
  n = (n + 8 + 15) & ~(size_t)15;
  return n < 32 ? 32 : n;
}
void sf_spill_close(sf_flows *t);

#define SF_SPILL_BLOCK ((size_t)256 << 10)

#endif
