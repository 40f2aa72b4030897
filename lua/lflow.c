/*
 * lflow.c -- flow extraction in Lua: core.flows_file(path, cfg, cb) and
 * core.flows_packets(pkts, cfg, cb), wrapped by stdlib/stackforge/flows.lua
 * as extract_flows and extract_flows_from_packets.  The table, timeouts,
 * TCP and reassembly live in core/flow; this file converts.
 *
 * The table and the reader live in a "run" userdata whose __gc frees them,
 * so an error raised by a callback (or Ctrl-C) leaks nothing and the spill
 * files close.  Lua is touched per packet only when on_packet is given.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../core/anon/anon.h"
#include "../core/flow/flow.h"
#include "../core/io/io.h"
#include "lsf.h"


static const char lazy_key = 'l';   /* registry: weak-keyed {conv -> flowref} */
static const char convmt_key = 'm'; /* registry: metatable of lazy convs */

typedef struct flowrun {
  sf_flows *t;
  sf_reader *r;
  /* progress */
  int verbose;
  uint64_t interval, next_report, file_size;
  double t0, tlast;      /* start, last report */
  uint64_t plast;        /* packets at the last report */
  sf_flow_config c;      /* what to put in conversations */
  uintptr_t base, mark;  /* capture mapping: first page, read up to */
  uint64_t reread;       /* stream bytes read back since the last release */
  uint64_t seen;         /* packets read from the file */
  int refs;              /* conversations whose streams are still lazy */
  int dead;              /* collected: free once refs is 0 */
  sf_anon *anon;         /* anonymization (owned by its userdata), or NULL */
  sf_pkt scratch;        /* the anonymized copy of the current packet */
} flowrun;

/* A conversation whose streams are read when first asked for: the table,
   its spill file and the capture mapping stay while any such lives. */
typedef struct flowref {
  sf_flow *f;
  flowrun *fr;
} flowref;

/* stack slots of a run's Lua values */
typedef struct runargs {
  int cfg, on_flow, on_packet, out;   /* 0 = absent */
  int anon;                           /* an Anonymizer, or 0 */
  int run;                            /* the run userdata */
  lua_Integer nout;
} runargs;

static void free_run(flowrun *fr) {
  if (fr->r) sf_reader_close(fr->r);
  if (fr->t) sf_flows_free(fr->t);
  sf_pkt_free(&fr->scratch);
  fr->r = NULL;
  fr->t = NULL;
}

/* __gc and __close: the table lives on while lazy conversations do. */
static int run_gc(lua_State *L) {
  flowrun *fr = (flowrun *)luaL_checkudata(L, 1, LSF_FLOWRUN);
  fr->dead = 1;
  if (!fr->refs) free_run(fr);
  return 0;
}

static int flowref_gc(lua_State *L) {
  flowref *ref = (flowref *)luaL_checkudata(L, 1, LSF_FLOWREF);
  flowrun *fr = ref->fr;
  if (!fr) return 0;
  if (ref->f) sf_flow_free(fr->t, ref->f);
  ref->f = NULL;
  ref->fr = NULL;
  if (--fr->refs == 0 && fr->dead) free_run(fr);
  return 0;
}

/* ---- configuration --------------------------------------------------------- */

static double num_field(lua_State *L, int idx, const char *k, double def) {
  double v = def;
  if (lua_getfield(L, idx, k) != LUA_TNIL) v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return v;
}

static int bool_field(lua_State *L, int idx, const char *k, int def) {
  int v = def;
  if (lua_getfield(L, idx, k) != LUA_TNIL) v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

static int64_t secs_ns(double s) { return s < 0 ? 0 : (int64_t)(s * 1e9); }

/* The config table at idx (checked by FlowConfig in flows.lua).  The
   spill_dir string stays on the stack for as long as the run. */
static void read_config(lua_State *L, int idx, sf_flow_config *c, flowrun *fr) {
  double budget;
  sf_flow_config_default(c);
  c->tcp_established_timeout_ns = secs_ns(num_field(L, idx, "tcp_established_timeout", 86400));
  c->tcp_half_open_timeout_ns = secs_ns(num_field(L, idx, "tcp_half_open_timeout", 5));
  c->tcp_time_wait_timeout_ns = secs_ns(num_field(L, idx, "tcp_time_wait_timeout", 120));
  c->udp_timeout_ns = secs_ns(num_field(L, idx, "udp_timeout", 120));
  c->max_reassembly_buffer = (size_t)num_field(L, idx, "max_reassembly_buffer", 16 << 20);
  c->max_ooo_fragments = (uint32_t)num_field(L, idx, "max_ooo_fragments", 1024);
  budget = num_field(L, idx, "memory_budget", 0);
  c->memory_budget = budget > 0 ? (uint64_t)budget : 0;
  c->store_packet_indices = bool_field(L, idx, "store_packet_indices", 1);
  c->track_max_packet_len = bool_field(L, idx, "track_max_packet_len", 0);
  c->track_max_flow_len = bool_field(L, idx, "track_max_flow_len", 0);
  c->reassemble = bool_field(L, idx, "reassemble", 1);
  fr->verbose = bool_field(L, idx, "verbose", 0);
  fr->interval = (uint64_t)num_field(L, idx, "progress_interval", 100000);
  if (!fr->interval) fr->interval = 100000;
  fr->next_report = fr->interval;
  lua_getfield(L, idx, "spill_dir");
  c->spill_dir = lua_tostring(L, -1);  /* NULL when nil; kept on the stack */
}

/* ---- conversations as Lua tables ---------------------------------------------- */

static void set_int(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

static void set_num(lua_State *L, const char *k, double v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const char *k, const char *v) {
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

static int is_icmp(const sf_flow *f) {
  return f->key.kind == SF_KIND_ECHO || f->key.kind == SF_KIND_ICMP;
}

static void set_addr(lua_State *L, const char *k, const sf_flow *f, int s) {
  char out[46];
  if (f->key.ipver == 4) sf_format_ip4(f->key.addr[s], out);
  else sf_format_ip6(f->key.addr[s], out);
  set_str(L, k, out);
}

static void push_endpoints(lua_State *L, const sf_flow *f) {
  int ports = (f->key.l4role == SF_ROLE_STREAM || f->key.l4role == SF_ROLE_TRANSPORT) &&
              !f->key.kind;
  set_addr(L, "src_addr", f, 0);
  set_addr(L, "dst_addr", f, 1);
  if (ports) {
    set_int(L, "src_port", f->key.port[0]);
    set_int(L, "dst_port", f->key.port[1]);
  }
  set_str(L, "protocol", sf_flow_protocol(f));
  set_int(L, "ip_proto", f->key.proto);
  set_int(L, "ip_version", f->key.ipver);
  if (f->key.nvlan) {
    int i;
    lua_createtable(L, f->key.nvlan, 0);
    for (i = 0; i < f->key.nvlan; i++) {
      lua_pushinteger(L, f->key.vlan[i]);
      lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "vlan");
  }
}

static void push_counters(lua_State *L, const sf_flow *f) {
  set_int(L, "total_packets", (lua_Integer)(f->packets[0] + f->packets[1]));
  set_int(L, "total_bytes", (lua_Integer)(f->bytes[0] + f->bytes[1]));
  set_int(L, "forward_packets", (lua_Integer)f->packets[0]);
  set_int(L, "forward_bytes", (lua_Integer)f->bytes[0]);
  set_int(L, "reverse_packets", (lua_Integer)f->packets[1]);
  set_int(L, "reverse_bytes", (lua_Integer)f->bytes[1]);
  set_num(L, "start_time", (double)f->start_ns / 1e9);
  set_num(L, "end_time", (double)f->end_ns / 1e9);
  set_num(L, "duration", (double)(f->end_ns - f->start_ns) / 1e9);
  set_int(L, "first_index", (lua_Integer)f->first_index);
}


static void push_icmp(lua_State *L, const sf_flow *f) {
  set_int(L, "icmp_type", f->icmp_type);
  set_int(L, "icmp_code", f->icmp_code);
  if (f->key.kind != SF_KIND_ECHO) return;
  set_int(L, "icmp_identifier", f->icmp_id);
  set_int(L, "icmp_request_count", f->icmp_req);
  set_int(L, "icmp_reply_count", f->icmp_rep);
  if (f->icmp_last_seq >= 0) set_int(L, "icmp_last_seq", f->icmp_last_seq);
}

static void push_stream(lua_State *L, sf_flows *t, const sf_flow *f, int d) {
  size_t n = sf_flow_stream_len(f, d);
  luaL_Buffer b;
  char *dst = luaL_buffinitsize(L, &b, n);
  if (sf_flow_stream_copy(t, f, d, (uint8_t *)dst) != SF_OK)
    luaL_error(L, "cannot read a spilled stream back");
  luaL_pushresultsize(&b, n);
}

static void push_tcp(lua_State *L, sf_flows *t, sf_flow *f, int full) {
  int d;
  set_str(L, "tcp_state", sf_tcp_state_name(sf_tcp_state(f, 0)));
  set_str(L, "tcp_state_reverse", sf_tcp_state_name(sf_tcp_state(f, 1)));
  set_int(L, "dropped_segments", (lua_Integer)(f->dir[0].dropped + f->dir[1].dropped));
  set_int(L, "dropped_segments_fwd", (lua_Integer)f->dir[0].dropped);
  set_int(L, "dropped_segments_rev", (lua_Integer)f->dir[1].dropped);
  for (d = 0; full == 1 && d < 2; d++) {  /* 2: lazy, by the metatable */
    push_stream(L, t, f, d);
    lua_setfield(L, -2, d ? "reassembled_reverse" : "reassembled_forward");
  }
}

/* __index of lazy conversations: a stream is read on first use, then kept. */
static int lazy_index(lua_State *L) {
  const char *k = lua_tostring(L, 2);
  flowref *ref;
  int d;
  if (!k) return 0;
  if (strcmp(k, "reassembled_forward") == 0) d = 0;
  else if (strcmp(k, "reassembled_reverse") == 0) d = 1;
  else return 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &lazy_key);
  lua_pushvalue(L, 1);
  lua_rawget(L, -2);
  ref = (flowref *)luaL_testudata(L, -1, LSF_FLOWREF);
  if (!ref || !ref->f) return 0;
  push_stream(L, ref->fr->t, ref->f, d);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);  /* cached: read once */
  return 1;
}

/* Make the conversation table on top lazy over f, owned from now on. */
static void make_lazy(lua_State *L, flowrun *fr, int runidx, sf_flow *f) {
  flowref *ref;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &lazy_key);
  lua_pushvalue(L, -2);
  ref = (flowref *)lua_newuserdatauv(L, sizeof *ref, 1);
  ref->f = f;
  ref->fr = fr;
  fr->refs++;
  luaL_setmetatable(L, LSF_FLOWREF);
  lua_pushvalue(L, runidx);
  lua_setiuservalue(L, -2, 1);  /* the run lives while the ref does */
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &convmt_key);
  lua_setmetatable(L, -2);
}

static void push_indices(lua_State *L, const sf_flow *f) {
  size_t i;
  lua_createtable(L, (int)f->nidx, 0);
  for (i = 0; i < f->nidx; i++) {
    lua_pushinteger(L, (lua_Integer)f->idx[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "packet_indices");
}

static void push_tracked(lua_State *L, const flowrun *fr, const sf_flow *f) {
  if (fr->c.track_max_packet_len) {
    set_int(L, "forward_max_packet_len", f->max_pkt_len[0]);
    set_int(L, "reverse_max_packet_len", f->max_pkt_len[1]);
  }
  if (fr->c.track_max_flow_len) set_int(L, "max_flow_len", (lua_Integer)f->max_flow_len);
}

/* A conversation table; full adds streams (1, or 2: lazily) and indices
   (not for on_packet, whose flow is still growing). */
static void push_conv(lua_State *L, flowrun *fr, sf_flow *f, int full) {
  lua_createtable(L, 0, 32);
  push_endpoints(L, f);
  push_counters(L, f);
  set_str(L, "status", sf_flow_status_name(f->status));
  if (f->key.l4role == SF_ROLE_STREAM && !f->key.kind) push_tcp(L, fr->t, f, full);
  if (is_icmp(f)) push_icmp(L, f);
  if (full && fr->c.store_packet_indices) push_indices(L, f);
  push_tracked(L, fr, f);
}

/* ---- progress ------------------------------------------------------------------ */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double rss_mb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;  /* Linux: kilobytes */
}

static void report(flowrun *fr, uint64_t offset, int final) {
  sf_flow_stats s;
  double t = now_s(), el = t - fr->t0, dt = t - fr->tlast;
  sf_flows_stats(fr->t, &s);
  if (el <= 0) el = 1e-9;
  if (dt <= 0) dt = 1e-9;
  fprintf(stderr, "[flows] %s%llu packets, %llu flows (%llu active), %.0f pkt/s "
          "(average %.0f), buffers %.1f MB (%llu spills), peak RSS %.1f MB",
          final ? "done: " : "", (unsigned long long)s.packets,
          (unsigned long long)s.total, (unsigned long long)s.active,
          (s.packets - fr->plast) / dt, s.packets / el, s.buffered / 1048576.0,
          (unsigned long long)s.spills, rss_mb());
  fr->tlast = t;
  fr->plast = s.packets;
  if (!final && fr->file_size && offset)
    fprintf(stderr, ", %.0f%%, ETA %.1fs", 100.0 * offset / fr->file_size,
            el * ((double)fr->file_size / offset - 1));
  if (final) fprintf(stderr, " in %.2fs", el);
  fputc('\n', stderr);
  if (final && s.dropped_segments)
    fprintf(stderr, "[flows] warning: %llu TCP segments dropped by the reassembly "
            "caps; tip: raise max_reassembly_buffer / max_ooo_fragments, or set "
            "memory_budget to spill to disk\n", (unsigned long long)s.dropped_segments);
}

static void progress(flowrun *fr, uint64_t offset) {
  sf_flow_stats s;
  if (!fr->verbose) return;
  sf_flows_stats(fr->t, &s);
  if (s.packets < fr->next_report) return;
  fr->next_report = s.packets + fr->interval;
  report(fr, offset, 0);
}

/* ---- the capture mapping under a budget ------------------------------------------ */

#define RELEASE_STEP ((uintptr_t)16 << 20)

/* Under a budget, give back the pages of the capture mapping read so far:
   they are file-backed, and streams that refer to them fault them back in
   when read, but resident they count in RSS (and the budget is about RSS).
   Reading streams back (spills, on_flow) touches old pages again, so the
   whole range read is released each time. */
static void release_all(flowrun *fr) {
  if (fr->mark > fr->base) madvise((void *)fr->base, fr->mark - fr->base, MADV_DONTNEED);
  fr->reread = 0;
}

static void spilled(void *ud) { release_all((flowrun *)ud); }

static void release_read(flowrun *fr, const sf_rec *rec) {
  uintptr_t cur = (uintptr_t)rec->data, pg = (uintptr_t)sysconf(_SC_PAGESIZE);
  if (!fr->c.memory_budget || !fr->c.stable_input) return;
  if (!fr->base) fr->base = fr->mark = (cur + pg - 1) & ~(pg - 1);
  if (cur < fr->mark + RELEASE_STEP) return;
  fr->mark = cur & ~(pg - 1);
  release_all(fr);
}

/* ---- delivering conversations ------------------------------------------------------ */

/* Hand one ended conversation to on_flow (then free it) or the result list. */
static void deliver(lua_State *L, flowrun *fr, const runargs *a, sf_flow *f) {
  if (a->on_flow) {
    lua_pushvalue(L, a->on_flow);
    push_conv(L, fr, f, 1);
    fr->reread += sf_flow_stream_len(f, 0) + sf_flow_stream_len(f, 1);
    if (fr->c.memory_budget && fr->reread > RELEASE_STEP) release_all(fr);
    sf_flow_free(fr->t, f);  /* before the call: an error must not leak it */
    lua_call(L, 1, 0);
  } else if (f->key.l4role == SF_ROLE_STREAM && !f->key.kind) {  /* streams read lazily */
    push_conv(L, fr, f, 2);
    make_lazy(L, fr, a->run, f);
    lua_rawseti(L, a->out, ++((runargs *)a)->nout);
  } else {
    push_conv(L, fr, f, 1);
    sf_flow_free(fr->t, f);
    lua_rawseti(L, a->out, ++((runargs *)a)->nout);
  }
}

/* Conversations that ended mid-capture go to on_flow at once; without it
   they wait in the engine (where the budget can spill them) until the end. */
static void flush_ended(lua_State *L, flowrun *fr, const runargs *a) {
  sf_flow *f;
  if (!a->on_flow) return;
  while ((f = sf_flows_pop(fr->t)) != NULL) deliver(L, fr, a, f);
}

/* End of input: the rest, sorted by start time then first packet.  They
   stay in the engine until delivered, so a raising callback leaks none. */
static void finish(lua_State *L, flowrun *fr, runargs *a) {
  sf_flow *f;
  sf_flows_finish(fr->t);
  if (sf_flows_sort_done(fr->t) != SF_OK) luaL_error(L, "not enough memory");
  while ((f = sf_flows_pop(fr->t)) != NULL) deliver(L, fr, a, f);
  if (fr->verbose) report(fr, 0, 1);
}

static void call_on_packet(lua_State *L, flowrun *fr, const runargs *a,
                           int pidx, sf_flow *f, int dir) {
  lua_pushvalue(L, a->on_packet);
  lua_pushvalue(L, pidx);
  push_conv(L, fr, f, 0);
  lua_pushstring(L, dir == SF_FLOW_FWD ? "forward" : "reverse");
  lua_call(L, 3, 0);
}

/* ---- the runs ----------------------------------------------------------------- */

/* Push a run for the config at a->cfg (and its spill_dir). */
static flowrun *new_run(lua_State *L, runargs *a) {
  flowrun *fr = (flowrun *)lua_newuserdatauv(L, sizeof *fr, 0);
  memset(fr, 0, sizeof *fr);
  luaL_setmetatable(L, LSF_FLOWRUN);
  a->run = lua_gettop(L);
  sf_pkt_init(&fr->scratch);
  if (a->anon) fr->anon = *(sf_anon **)lua_touserdata(L, a->anon);
  read_config(L, a->cfg, &fr->c, fr);  /* pushes spill_dir */
  return fr;
}

/* The table; stable: packet bytes live as long as the run (a mapping). */
static void start_run(lua_State *L, flowrun *fr, int stable) {
  fr->c.stable_input = stable;
  if (stable && fr->c.memory_budget) {  /* spills re-read mapped pages */
    fr->c.on_spill = spilled;
    fr->c.ud = fr;
  }
  if (!(fr->t = sf_flows_new(&fr->c))) luaL_error(L, "not enough memory");
  fr->t0 = fr->tlast = now_s();
}

static void get_args(lua_State *L, runargs *a) {
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TFUNCTION);
  if (!lua_isnoneornil(L, 4)) luaL_checktype(L, 4, LUA_TFUNCTION);
  a->cfg = 2;
  a->on_flow = lua_isnoneornil(L, 3) ? 0 : 3;
  a->on_packet = lua_isnoneornil(L, 4) ? 0 : 4;
  a->anon = lua_isnoneornil(L, 5) ? 0 : 5;
  if (a->anon) {
    sf_anon **an = (sf_anon **)luaL_checkudata(L, 5, LSF_ANON);
    luaL_argcheck(L, *an != NULL, 5, "closed Anonymizer");
  }
  a->out = 0;
  a->nout = 0;
  lua_settop(L, 5);
}

/* The result list, unless conversations go to on_flow. */
static int results(lua_State *L, runargs *a) {
  if (a->on_flow) return 0;
  lua_newtable(L);
  a->out = lua_gettop(L);
  return 1;
}

/* A packet for on_packet: a copy of the record (the callback may keep it). */
static void push_record(lua_State *L, const sf_rec *rec) {
  sf_pkt *p = lsf_newpacket_store(L, rec->caplen);
  sf_pkt_borrow(p, rec->data, rec->caplen);
  if (sf_pkt_writable(p) != SF_OK) luaL_error(L, "not enough memory");
  lsf_track(L, -1, p);
  p->linktype = rec->linktype;
  p->time_ns = rec->time_ns;
  p->wirelen = rec->wirelen;
  p->interface_id = rec->interface_id;
}

static void file_size(flowrun *fr, const char *path) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return;
  if (fseek(fp, 0, SEEK_END) == 0) {
    long n = ftell(fp);
    fr->file_size = n > 0 ? (uint64_t)n : 0;
  }
  fclose(fp);
}

/* The anonymized copy of p in fr->scratch (addresses, ports, seq/ack,
   payload, timestamp rewritten as the policy says; lengths and checksums
   fixed), dissected; the flows see only that. */
static sf_pkt *anonymized(lua_State *L, flowrun *fr, const sf_pkt *p) {
  sf_pkt *q = &fr->scratch;
  lsf_host h;
  int rc;
  lsf_enter(L, &h);  /* custom protocols' callbacks run on L */
  rc = sf_pkt_copy(q, p);
  if (rc == SF_OK) rc = sf_pkt_writable(q);
  if (rc == SF_OK && !(q->flags & SF_P_PARSED)) rc = sf_pkt_parse(q);
  if (rc == SF_OK) rc = sf_anon_packet(fr->anon, q);
  if (rc == SF_OK && (q->flags & SF_P_DIRTY)) rc = sf_finalize(q);
  if (rc == SF_OK) rc = sf_pkt_parse(q);
  lsf_leave(&h);
  lsf_raise_kept(&h);
  if (rc != SF_OK) lsf_raise(L, rc, NULL, 0, -1, 0);
  return q;
}

static sf_flow *add_record(lua_State *L, flowrun *fr, const sf_rec *rec, int *dir) {
  sf_pkt p;
  if (!fr->anon) {
    lsf_host h;
    sf_flow *f;
    lsf_enter(L, &h);  /* parsing: custom protocols' callbacks run on L */
    f = sf_flows_add(fr->t, rec->data, rec->caplen, rec->wirelen,
                     rec->linktype, rec->time_ns, dir);
    lsf_leave(&h);
    lsf_raise_kept(&h);
    return f;
  }
  sf_pkt_init(&p);
  sf_pkt_borrow(&p, rec->data, rec->caplen);
  p.linktype = rec->linktype;
  p.time_ns = rec->time_ns;
  p.wirelen = rec->wirelen;
  return sf_flows_add_pkt(fr->t, anonymized(L, fr, &p), rec->wirelen, dir);
}

/* A packet for on_packet: the anonymized copy when there is one. */
static void push_seen(lua_State *L, flowrun *fr, const sf_rec *rec) {
  sf_rec r = *rec;
  if (fr->anon) {
    r.data = fr->scratch.data;
    r.caplen = (uint32_t)fr->scratch.len;
    r.time_ns = fr->scratch.time_ns;
  }
  push_record(L, &r);
}

static int noop(lua_State *L) { (void)L; return 0; }

/* Let a pending Ctrl-C through now and then: sflua's SIGINT handler sets a
   hook that fires on the next call, and without callbacks the loop would
   not make one until the end of the capture. */
static void safe_point(lua_State *L, flowrun *fr) {
  if (++fr->seen & 0xffff) return;
  lua_pushcfunction(L, noop);
  lua_call(L, 0, 0);
}

static void file_packet(lua_State *L, flowrun *fr, const runargs *a,
                        const sf_rec *rec) {
  int dir;
  sf_flow *f = add_record(L, fr, rec, &dir);
  safe_point(L, fr);
  release_read(fr, rec);
  flush_ended(L, fr, a);  /* what this packet's time ended comes first */
  if (f && a->on_packet) {
    push_seen(L, fr, rec);
    call_on_packet(L, fr, a, lua_gettop(L), f, dir);
    lua_pop(L, 1);
  }
  progress(fr, rec->offset);
}

/* core.flows_file(path, cfg [, on_flow [, on_packet [, anonymizer]]])
   -> {conv...} or nothing; nil, message if the capture cannot be read
   (flows.lua raises it at its caller's line) */
static int lflow_file(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char err[600];
  runargs a;
  flowrun *fr;
  sf_rec rec;
  int rc, nret;
  get_args(L, &a);
  fr = new_run(L, &a);
  if (!(fr->r = sf_reader_open(path, err, sizeof err))) {
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
  }
  /* mapped: no copies, unless each packet is rewritten first */
  start_run(L, fr, sf_reader_map(fr->r) != NULL && !fr->anon);
  file_size(fr, path);
  nret = results(L, &a);
  while ((rc = sf_reader_next(fr->r, &rec)) == SF_IO_REC) file_packet(L, fr, &a, &rec);
  if (rc == SF_IO_ERR) {
    luaL_pushfail(L);
    lua_pushstring(L, sf_reader_error(fr->r));
    return 2;
  }
  finish(L, fr, &a);
  return nret;
}

/* One Packet at idx: finalized if built, dissected if not yet. */
static void packet_in(lua_State *L, flowrun *fr, const runargs *a, int idx) {
  sf_pkt *p = lsf_checkpacket(L, idx);
  sf_flow *f;
  int dir;
  if (p->flags & SF_P_DIRTY)  /* built: lengths and checksums first */
    lsf_finalize(L, idx, p);
  p = lsf_parsed(L, idx);
  if (fr->anon) p = anonymized(L, fr, p);  /* the user's packet stays */
  f = sf_flows_add_pkt(fr->t, p, p->wirelen, &dir);
  flush_ended(L, fr, a);  /* what this packet's time ended comes first */
  if (f && a->on_packet && fr->anon) {
    sf_pkt *q = lsf_newpacket_store(L, p->len);
    sf_pkt_borrow(q, p->data, p->len);
    if (sf_pkt_writable(q) != SF_OK) luaL_error(L, "not enough memory");
    lsf_track(L, -1, q);
    q->linktype = p->linktype;
    q->time_ns = p->time_ns;
    q->wirelen = p->wirelen;
    call_on_packet(L, fr, a, lua_gettop(L), f, dir);
    lua_pop(L, 1);
  } else if (f && a->on_packet) {
    call_on_packet(L, fr, a, idx, f, dir);
  }
  progress(fr, 0);
}

/* core.flows_packets(pkts, cfg [, on_flow [, on_packet]]): pkts is a list
   of Packets or an iterator (function, PcapReader) giving them until nil. */
static int lflow_packets(lua_State *L) {
  runargs a;
  flowrun *fr;
  int nret;
  luaL_checkany(L, 1);
  get_args(L, &a);
  fr = new_run(L, &a);
  start_run(L, fr, 0);  /* Lua packets may be collected: copy */
  nret = results(L, &a);
  if (lua_type(L, 1) == LUA_TTABLE) {
    lua_Integer i, n = (lua_Integer)lua_rawlen(L, 1);
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, 1, i);
      packet_in(L, fr, &a, lua_gettop(L));
      lua_pop(L, 1);
    }
  } else {
    for (;;) {
      lua_pushvalue(L, 1);
      lua_call(L, 0, 1);
      if (lua_isnil(L, -1)) break;
      packet_in(L, fr, &a, lua_gettop(L));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  finish(L, fr, &a);
  return nret;
}

static const luaL_Reg flow_funcs[] = {
  {"flows_file", lflow_file}, {"flows_packets", lflow_packets}, {NULL, NULL}
};

void lsf_open_flow(lua_State *L) {
  static const luaL_Reg run_meta[] = {{"__gc", run_gc}, {"__close", run_gc}, {NULL, NULL}};
  static const luaL_Reg ref_meta[] = {{"__gc", flowref_gc}, {NULL, NULL}};
  lsf_class(L, LSF_FLOWRUN, run_meta, NULL);
  lsf_class(L, LSF_FLOWREF, ref_meta, NULL);
  lua_createtable(L, 0, 1);  /* lazy conversations' metatable */
  lua_pushcfunction(L, lazy_index);
  lua_setfield(L, -2, "__index");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &convmt_key);
  lua_newtable(L);  /* {conv -> flowref}, weak keys: an ephemeron table */
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &lazy_key);
  luaL_setfuncs(L, flow_funcs, 0);
}
