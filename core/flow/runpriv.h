/*
 * runpriv.h -- the flow pipeline's run, shared by run.c (one thread) and
 * shard.c (several, each a run of its own over the whole capture).
 */
#ifndef SF_RUNPRIV_H
#define SF_RUNPRIV_H

#include <stdatomic.h>

#include "../io/io.h"
#include "../par/par.h"
#include "flow.h"

struct sf_flow_run {
  sf_flow_config c;
  sf_flow_hooks h;
  sf_flows *t;
  sf_reader *own;        /* opened by sf_flow_run_file */
  sf_anon *anon;         /* borrowed, or NULL (a thread's: its own) */
  sf_pkt pkt;            /* the current record (borrowed bytes) */
  sf_pkt scratch;        /* its anonymized copy */
  uint64_t seen;         /* packets taken from the source */
  /* progress */
  uint64_t next_report, file_size, plast;
  double t0, tlast;
  /* the capture mapping under a budget */
  uintptr_t base, mark;  /* first page, released up to */
  uint64_t reread;       /* stream bytes read back since the last release */
  /* threads (shard.c) */
  int threads;           /* asked for: 1 one, 0 one per CPU */
  int shard;             /* a thread's run: whose conversations it tracks */
  struct sf_flow_run **sub;  /* the threads' runs; nsub of them */
  int nsub;
  sf_gang *gang;         /* the threads, while they run */
  struct shardwork *work;  /* what they share (shard.c) */
  sf_flow **got;         /* a thread's run: what it delivered, in order */
  size_t ngot, capgot, pos;  /* pos: handed on so far */
  int rc;                /* a thread's run: how it ended */
  uint64_t fail_at;      /* the packet index it failed at */
  int tainted;           /* a thread's run: its work wanted the host */
  double cpu;            /* a thread's run: its thread's CPU seconds */
  sf_flow_run *parent;   /* a thread's run: the run it serves */
  char err[640];
};

/* shard.c: the capture on threads; SF_FLOW_ONE_THREAD when it must be
   read by one (a stream, or the host's protocols want the caller's
   thread), else what sf_flow_run_file returns. */
#define SF_FLOW_ONE_THREAD 1
int sf_flow_run_shards(sf_flow_run *r, const char *path, const sf_ropts *ro);
void sf_flow_run_free_shards(sf_flow_run *r);

/* run.c, for shard.c: the table made (stable: packets' bytes outlive
   it); after each packet, what ended to the host; at the end, the rest
   (a thread's run keeps them: they go to the host merged). */
int sf_flow_run_begin(sf_flow_run *r, int stable);
void sf_flow_run_flush(sf_flow_run *r);
int sf_flow_run_end(sf_flow_run *r);
/* q := p anonymized by a, dissected (SF_OK or an engine code), and the
   message when it fails (packet n, 1-based). */
int sf_flow_anonymize(struct sf_anon *a, sf_pkt *q, const sf_pkt *p);
void sf_flow_anon_failed(char *err, size_t errlen, uint64_t n, int rc);
/* a conversation to the host; the closing report and warnings (the
   threads' tables together); the monotonic clock. */
double sf_flow_now(void);
void sf_flow_run_deliver(sf_flow_run *r, sf_flow *f);
void sf_flow_run_report(sf_flow_run *r);
void sf_flow_run_warn(sf_flow_run *r);

#endif
