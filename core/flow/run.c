/*
 * run.c -- the flow pipeline, the one loop every host uses (the Lua
 * binding, bench/flow_bench.c, tests/fuzz/fuzz_flow.c): packets from a
 * capture or from the host, anonymized when asked, into the flow table;
 * ended conversations and per-packet events out to the host's callbacks;
 * progress lines, and warnings when the caps dropped data.
 *
 * Everything a run needs lives in the sf_flow_run, never in locals that
 * must be cleaned up, so a callback may longjmp out (a Lua error, Ctrl-C)
 * and sf_flow_run_free still frees it all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../anon/anon.h"
#include "../io/io.h"
#include "runpriv.h"

#define TICK_MASK 0xffff
#define RELEASE_STEP ((uintptr_t)16 << 20)

static FILE *logf_(const sf_flow_run *r) { return r->h.log ? r->h.log : stderr; }

static int fail(sf_flow_run *r, const char *msg) {
  snprintf(r->err, sizeof r->err, "%s", msg);
  return -1;
}

const char *sf_flow_run_error(const sf_flow_run *r) { return r->err; }
void sf_flow_run_anonymize(sf_flow_run *r, sf_anon *a) { r->anon = a; }
void sf_flow_run_threads(sf_flow_run *r, int n) { r->threads = n; }

sf_flows *sf_flow_run_table(sf_flow_run *r) {
  return r->nsub ? r->sub[0]->t : r->t;
}

sf_flows *sf_flow_run_table_of(sf_flow_run *r, const sf_flow *f) {
  return r->nsub && f->shard < r->nsub ? r->sub[f->shard]->t : r->t;
}

sf_flow_run *sf_flow_run_new(const sf_flow_config *c, const sf_flow_hooks *h) {
  sf_flow_run *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->c = *c;
  r->h = *h;
  r->threads = 1;
  sf_pkt_init(&r->pkt);
  sf_pkt_init(&r->scratch);
  return r;
}

void sf_flow_run_free(sf_flow_run *r) {
  if (!r) return;
  sf_flow_run_free_shards(r);
  if (r->own) sf_reader_close(r->own);
  sf_flows_free(r->t);
  sf_pkt_free(&r->pkt);
  sf_pkt_free(&r->scratch);
  free(r);
}

/* ---- progress ----------------------------------------------------------- */

double sf_flow_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double peak_rss_mb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;  /* Linux: kilobytes */
}

/* The table's statistics, or the threads' tables' together (each counted
   every packet: those once). */
static void run_stats(const sf_flow_run *r, sf_flow_stats *s) {
  sf_flow_stats one;
  int i;
  if (!r->nsub) {
    sf_flows_stats(r->t, s);
    return;
  }
  sf_flows_stats(r->sub[0]->t, s);
  for (i = 1; i < r->nsub; i++) {
    uint64_t *a = (uint64_t *)s, *b = (uint64_t *)&one;
    size_t k;
    sf_flows_stats(r->sub[i]->t, &one);
    one.packets = one.bytes = 0;
    for (k = 0; k < sizeof one / sizeof(uint64_t); k++) a[k] += b[k];
  }
}

static void report(sf_flow_run *r, uint64_t offset, int final) {
  sf_flow_stats s;
  FILE *out = logf_(r);
  double t = sf_flow_now(), el = t - r->t0, dt = t - r->tlast;
  run_stats(r, &s);
  if (el <= 0) el = 1e-9;
  if (dt <= 0) dt = 1e-9;
  fprintf(out, "[flows] %s%llu packets, %llu flows (%llu active), %.0f pkt/s "
          "(average %.0f), buffers %.1f MB (%llu spills), peak RSS %.1f MB",
          final ? "done: " : "", (unsigned long long)s.packets,
          (unsigned long long)s.total, (unsigned long long)s.active,
          (s.packets - r->plast) / dt, s.packets / el, s.buffered / 1048576.0,
          (unsigned long long)s.spills, peak_rss_mb());
  r->tlast = t;
  r->plast = s.packets;
  if (!final && r->file_size && offset)
    fprintf(out, ", %.0f%%, ETA %.1fs", 100.0 * offset / r->file_size,
            el * ((double)r->file_size / offset - 1));
  if (final) fprintf(out, " in %.2fs", el);
  fputc('\n', out);
}

static void progress(sf_flow_run *r, uint64_t offset) {
  if (!r->c.verbose || r->seen < r->next_report) return;
  r->next_report = r->seen + (r->c.progress_interval < UINT64_MAX - r->seen
                               ? r->c.progress_interval : UINT64_MAX - r->seen);
  report(r, offset, 0);
}

/* Data the caps refused, holes skipped, conversations the budget cut
   short: never silently, verbose or not, each with what would help. */
void sf_flow_run_warn(sf_flow_run *r) {
  FILE *out = logf_(r);
  sf_flow_stats s;
  run_stats(r, &s);
  if (s.dropped_cap)
    fprintf(out, "[flows] warning: %llu TCP segments dropped: their streams passed "
            "max_reassembly_buffer (%llu bytes); tip: set memory_budget so long "
            "streams spill to disk instead, or raise max_reassembly_buffer\n",
            (unsigned long long)s.dropped_cap, (unsigned long long)r->c.max_reassembly_buffer);
  if (s.dropped_late)
    fprintf(out, "[flows] warning: %llu TCP segments dropped: they came after "
            "their hole had been skipped as a gap; tip: raise max_ooo_fragments "
            "(%u) or max_reassembly_buffer\n", (unsigned long long)s.dropped_late,
            (unsigned)r->c.max_ooo_fragments);
  if (s.dropped_snaplen)
    fprintf(out, "[flows] warning: %llu TCP segments were cut by the capture's "
            "snap length; their bytes are not in the streams\n",
            (unsigned long long)s.dropped_snaplen);
  if (s.gaps)
    fprintf(out, "[flows] warning: %llu holes in TCP streams (%llu bytes never "
            "seen) skipped as gaps (gaps_forward, gaps_reverse)%s\n",
            (unsigned long long)s.gaps, (unsigned long long)s.gap_bytes,
            s.gaps_forced ? "; some before the conversation ended: raise "
            "max_ooo_fragments to wait longer" : "");
  if (s.frag_discarded)
    fprintf(out, "[flows] warning: %llu fragmented IP datagrams not made whole "
            "(%llu overlapping, %llu incomplete within fragment_timeout or at the "
            "end, %llu past the caps, %llu malformed or cut); their frames count "
            "in \"Other\" conversations\n", (unsigned long long)s.frag_discarded,
            (unsigned long long)s.frag_overlaps, (unsigned long long)s.frag_timeouts,
            (unsigned long long)s.frag_capped, (unsigned long long)s.frag_bad);
  if (s.evicted)
    fprintf(out, "[flows] warning: %llu conversations ended early (status "
            "\"Evicted\") to stay inside memory_budget (%.1f MiB); tip: raise "
            "memory_budget\n", (unsigned long long)s.evicted,
            r->c.memory_budget / 1048576.0);
}

/* ---- the capture mapping under a budget ---------------------------------- */

/* Under a budget, give back the pages of the capture mapping read so far:
   they are file-backed, and streams that refer to them fault them back in
   when read, but resident they count in RSS (and the budget is about RSS).
   Reading streams back (spills, on_flow) touches old pages again, so the
   whole range read is released each time. */
static void release_all(sf_flow_run *r) {
  if (r->mark > r->base) madvise((void *)r->base, r->mark - r->base, MADV_DONTNEED);
  r->reread = 0;
}

static void spilled(void *ud) { release_all((sf_flow_run *)ud); }

static void release_read(sf_flow_run *r, const uint8_t *cur_p) {
  uintptr_t cur = (uintptr_t)cur_p, pg;
  if (!r->c.memory_budget || !r->c.stable_input) return;
  pg = (uintptr_t)sysconf(_SC_PAGESIZE);
  if (!r->base) r->base = r->mark = (cur + pg - 1) & ~(pg - 1);
  if (cur < r->mark + RELEASE_STEP) return;
  r->mark = cur & ~(pg - 1);
  release_all(r);
}

/* ---- delivering conversations --------------------------------------------- */

void sf_flow_run_deliver(sf_flow_run *r, sf_flow *f) {
  uint64_t n = sf_flow_stream_len(f, 0) + sf_flow_stream_len(f, 1);
  if (!r->h.on_flow) {
    sf_flow_free(sf_flow_run_table_of(r, f), f);
    return;
  }
  r->reread += n;  /* the host may read the streams: mapped pages again */
  if (r->c.memory_budget && r->c.stable_input && r->reread > RELEASE_STEP)
    release_all(r);
  r->h.on_flow(r->h.ud, f);
}

/* What this packet's time ended comes before the packet itself. */
void sf_flow_run_flush(sf_flow_run *r) {
  sf_flow *f;
  if (r->h.hold) return;
  while ((f = sf_flows_pop(r->t)) != NULL) sf_flow_run_deliver(r, f);
}

/* End of input: the rest, sorted by start time then first packet.  They
   stay in the engine until delivered, so a callback that leaves early
   leaks none. */
int sf_flow_run_end(sf_flow_run *r) {
  sf_flow *f;
  sf_flows_finish(r->t);
  if (sf_flows_sort_done(r->t) != SF_OK) return fail(r, "not enough memory");
  while ((f = sf_flows_pop(r->t)) != NULL) sf_flow_run_deliver(r, f);
  if (r->parent) return SF_OK;  /* a thread's: the run it serves reports */
  sf_flow_run_report(r);
  return SF_OK;
}

void sf_flow_run_report(sf_flow_run *r) {
  if (r->c.verbose) report(r, 0, 1);
  sf_flow_run_warn(r);
}

/* ---- one packet ------------------------------------------------------------- */

/* The table for this run; stable: packet bytes outlive it. */
int sf_flow_run_begin(sf_flow_run *r, int stable) {
  r->c.stable_input = stable;
  if (stable && r->c.memory_budget) {  /* spills re-read mapped pages */
    r->c.on_spill = spilled;
    r->c.ud = r;
  }
  if (!r->c.progress_interval) r->c.progress_interval = 1;
  r->next_report = r->c.progress_interval;
  if (!(r->t = sf_flows_new(&r->c))) return fail(r, "not enough memory");
  r->t0 = r->tlast = sf_flow_now();
  return SF_OK;
}

/* The anonymized copy of p (addresses, ports, seq/ack, payload, timestamp
   rewritten as the policy says; lengths and checksums fixed), dissected:
   the flows see only that.  NULL on an engine error (message set). */
int sf_flow_anonymize(sf_anon *a, sf_pkt *q, const sf_pkt *p) {
  int rc = sf_pkt_copy(q, p);
  if (rc == SF_OK) rc = sf_pkt_writable(q);
  if (rc == SF_OK && !(q->flags & SF_P_PARSED)) rc = sf_pkt_parse(q);
  if (rc == SF_OK) rc = sf_anon_packet(a, q);
  if (rc == SF_OK && (q->flags & SF_P_DIRTY)) rc = sf_finalize(q);
  if (rc == SF_OK) rc = sf_pkt_parse(q);
  return rc;
}

void sf_flow_anon_failed(char *err, size_t errlen, uint64_t n, int rc) {
  snprintf(err, errlen, "packet %llu: cannot anonymize (%s)", (unsigned long long)n,
           rc == SF_E_NOMEM ? "not enough memory" : "packet too large");
}

static const sf_pkt *anonymized(sf_flow_run *r, const sf_pkt *p) {
  int rc = sf_flow_anonymize(r->anon, &r->scratch, p);
  if (rc == SF_OK) return &r->scratch;
  sf_flow_anon_failed(r->err, sizeof r->err, r->seen, rc);
  return NULL;
}

/* Feed p (dissected here if it is not yet) and hand out what follows. */
static int packet(sf_flow_run *r, sf_pkt *p, uint64_t offset) {
  const sf_pkt *q = p;
  sf_flow *f = NULL;
  int dir = SF_FLOW_FWD;
  /* byte counts are the original frame's, anonymized or not */
  uint32_t wirelen = p->wirelen > p->len ? p->wirelen : (uint32_t)p->len;
  r->seen++;
  if (r->h.work) r->h.work(r->h.ud, 1);
  if (!(p->flags & SF_P_PARSED)) sf_pkt_parse(p);
  if (r->anon) q = anonymized(r, p);
  if (q) f = sf_flows_add_pkt(r->t, q, wirelen, &dir);
  if (r->h.work) r->h.work(r->h.ud, 0);
  if (!q) return -1;
  if (!(r->seen & TICK_MASK) && r->h.tick) r->h.tick(r->h.ud);
  sf_flow_run_flush(r);
  if (f && r->h.on_packet) r->h.on_packet(r->h.ud, q, f, dir);
  progress(r, offset);
  return SF_OK;
}

/* A record as a packet borrowing its bytes. */
static sf_pkt *record(sf_flow_run *r, const sf_rec *rec) {
  sf_pkt *p = &r->pkt;
  sf_pkt_of_rec(p, rec);
  return p;
}

int sf_flow_run_reader(sf_flow_run *r, sf_reader *rd) {
  sf_rec rec;
  int rc;
  /* mapped: streams refer to the file, unless each packet is rewritten */
  if (sf_flow_run_begin(r, sf_reader_map(rd) != NULL && !r->anon) != SF_OK) return -1;
  while ((rc = sf_reader_next(rd, &rec)) == SF_IO_REC) {
    if (packet(r, record(r, &rec), rec.offset) != SF_OK) return -1;
    release_read(r, rec.data);
  }
  if (rc == SF_IO_ERR) return fail(r, sf_reader_error(rd));
  return sf_flow_run_end(r);
}

int sf_flow_run_file(sf_flow_run *r, const char *path, const sf_ropts *ro) {
  struct stat st;
  if (r->threads != 1 && !r->parent) {
    int rc = sf_flow_run_shards(r, path, ro);  /* shard.c */
    if (rc != SF_FLOW_ONE_THREAD) return rc;
  }
  if (!(r->own = sf_reader_open(path, r->err, sizeof r->err))) return -1;
  sf_reader_apply(r->own, ro);
  if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) r->file_size = (uint64_t)st.st_size;
  return sf_flow_run_reader(r, r->own);
}

int sf_flow_run_source(sf_flow_run *r, sf_flow_source next, void *ud,
                       int stable) {
  sf_pkt *p;
  if (sf_flow_run_begin(r, stable && !r->anon) != SF_OK) return -1;
  while (next(ud, &p) > 0)
    if (packet(r, p, 0) != SF_OK) return -1;
  return sf_flow_run_end(r);
}
