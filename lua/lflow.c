/*
 * lflow.c -- flow extraction in Lua: core.flows_file(path, cfg, ...) and
 * core.flows_packets(pkts, cfg, ...), wrapped by stdlib/stackforge/flows.lua
 * as extract_flows and extract_flows_from_packets.  The pipeline (reader,
 * anonymization, table, progress, warnings) is the engine's driver,
 * core/flow/run.c; this file converts configs and conversations and
 * supplies the callbacks.
 *
 * The driver lives in a "run" userdata whose __gc frees it, so an error
 * raised by a callback (or Ctrl-C) leaks nothing and the spill files
 * close.  Lua is touched per packet only when on_packet is given.
 */
#include <string.h>

#include "../core/anon/anon.h"
#include "../core/crypto/tlsdec.h"
#include "../core/flow/flow.h"
#include "../core/io/io.h"
#include "lsf.h"


static const char lazy_key = 'l';   /* registry: weak-keyed {conv -> flowref} */
static const char convmt_key = 'm'; /* registry: metatable of lazy convs */

typedef struct flowrun {
  sf_flow_run *run;
  sf_flow_config c;      /* what to put in conversations */
  lua_State *L;          /* the thread running it, for the callbacks */
  int on_flow, on_packet, out, self;  /* stack slots; 0 = absent */
  lua_Integer nout;
  int src, base;         /* flows_packets: the source, stack top under a packet */
  lua_Integer i, n;      /* flows_packets over a list */
  const sf_pkt *cur;     /* the Lua packet on top of the stack */
  lsf_host host;         /* installed while the engine works on a packet */
  int refs;              /* conversations whose streams are still lazy */
  int dead;              /* collected: free once refs is 0 */
  const sf_keylog *kl;   /* tls_keylog (its userdata is the run's user value) */
  int gc_kb;             /* Lua's heap after the collector's last step, KiB */
} flowrun;

/* A conversation whose streams are read when first asked for: the table,
   its spill file and the capture mapping stay while any such lives. */
typedef struct flowref {
  sf_flow *f;
  flowrun *fr;
  int lent;              /* on_flow's: the streams went when it returned */
  int not_tls;           /* a key log found no TLS in it: tls, decrypted_* nil */
} flowref;

static void free_run(flowrun *fr) {
  sf_flow_run_free(fr->run);
  fr->run = NULL;
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
  if (ref->f) sf_flow_free(sf_flow_run_table_of(fr->run, ref->f), ref->f);
  ref->f = NULL;
  ref->fr = NULL;
  if (--fr->refs == 0 && fr->dead) free_run(fr);
  return 0;
}

/* ---- configuration: FlowConfig <-> sf_flow_config --------------------------- */

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

/* Seconds as nanoseconds; math.huge, or past what 64 bits of them hold
   (292 years), is never.  Negative and NaN were refused by FlowConfig. */
static int64_t secs_ns(double s) {
  if (!(s > 0)) return 0;
  return s >= 9.2e9 ? INT64_MAX : (int64_t)(s * 1e9);
}

/* A limit: an integer, or math.huge; max (no limit) from max on. */
static uint64_t limit_field(lua_State *L, int idx, const char *k, uint64_t def,
                            uint64_t max) {
  uint64_t v = def;
  int isint;
  lua_Integer i;
  if (lua_getfield(L, idx, k) != LUA_TNIL) {
    i = lua_tointegerx(L, -1, &isint);
    if (isint) {
      v = i < 0 ? 0 : (uint64_t)i;
    } else {
      double d = lua_tonumber(L, -1);
      v = !(d > 0) ? 0 : d >= 1.8e19 ? UINT64_MAX : (uint64_t)d;
    }
  }
  lua_pop(L, 1);
  return v > max ? max : v;
}

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

static void set_bool(lua_State *L, const char *k, int v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, k);
}

/* The config table at idx (checked by FlowConfig in flows.lua), over the
   engine's defaults.  The spill_dir string stays on the stack for as long
   as the run. */
static void read_config(lua_State *L, int idx, sf_flow_config *c) {
  sf_flow_config_default(c);
  c->tcp_established_timeout_ns = secs_ns(num_field(L, idx, "tcp_established_timeout",
                                                    c->tcp_established_timeout_ns / 1e9));
  c->tcp_half_open_timeout_ns = secs_ns(num_field(L, idx, "tcp_half_open_timeout",
                                                  c->tcp_half_open_timeout_ns / 1e9));
  c->tcp_time_wait_timeout_ns = secs_ns(num_field(L, idx, "tcp_time_wait_timeout",
                                                  c->tcp_time_wait_timeout_ns / 1e9));
  c->udp_timeout_ns = secs_ns(num_field(L, idx, "udp_timeout", c->udp_timeout_ns / 1e9));
  c->reorder_window_ns = secs_ns(num_field(L, idx, "reorder_window", c->reorder_window_ns / 1e9));
  c->fragment_timeout_ns = secs_ns(num_field(L, idx, "fragment_timeout",
                                             c->fragment_timeout_ns / 1e9));
  c->max_reassembly_buffer = (size_t)limit_field(L, idx, "max_reassembly_buffer",
                                                 c->max_reassembly_buffer, SIZE_MAX);
  c->max_ooo_fragments = (uint32_t)limit_field(L, idx, "max_ooo_fragments",
                                               c->max_ooo_fragments, UINT32_MAX);
  c->memory_budget = limit_field(L, idx, "memory_budget", 0, UINT64_MAX);
  if (c->memory_budget == UINT64_MAX) c->memory_budget = 0;  /* no limit: none */
  c->store_packet_indices = bool_field(L, idx, "store_packet_indices", c->store_packet_indices);
  c->track_max_packet_len = bool_field(L, idx, "track_max_packet_len", c->track_max_packet_len);
  c->track_max_flow_len = bool_field(L, idx, "track_max_flow_len", c->track_max_flow_len);
  c->reassemble = bool_field(L, idx, "reassemble", c->reassemble);
  c->verbose = bool_field(L, idx, "verbose", c->verbose);
  c->progress_interval = limit_field(L, idx, "progress_interval",
                                     c->progress_interval, UINT64_MAX);
  lua_getfield(L, idx, "spill_dir");
  c->spill_dir = lua_tostring(L, -1);  /* NULL when nil; kept on the stack */
}

/* Seconds as a Lua integer when whole (86400, not 86400.0). */
static void set_secs(lua_State *L, const char *k, int64_t ns) {
  if (ns % SF_NS == 0) set_int(L, k, ns / SF_NS);
  else set_num(L, k, (double)ns / 1e9);
}

/* core.flow_defaults() -> the engine's defaults, in FlowConfig's units
   (FlowConfig fills in from these; nil ones are absent). */
static int lflow_defaults(lua_State *L) {
  sf_flow_config c;
  sf_flow_config_default(&c);
  lua_createtable(L, 0, 16);
  set_secs(L, "tcp_established_timeout", c.tcp_established_timeout_ns);
  set_secs(L, "tcp_half_open_timeout", c.tcp_half_open_timeout_ns);
  set_secs(L, "tcp_time_wait_timeout", c.tcp_time_wait_timeout_ns);
  set_secs(L, "udp_timeout", c.udp_timeout_ns);
  set_secs(L, "reorder_window", c.reorder_window_ns);
  set_secs(L, "fragment_timeout", c.fragment_timeout_ns);
  set_int(L, "max_reassembly_buffer", (lua_Integer)c.max_reassembly_buffer);
  set_int(L, "max_ooo_fragments", (lua_Integer)c.max_ooo_fragments);
  if (c.memory_budget) set_int(L, "memory_budget", (lua_Integer)c.memory_budget);
  set_bool(L, "store_packet_indices", c.store_packet_indices);
  set_int(L, "progress_interval", (lua_Integer)c.progress_interval);
  set_bool(L, "track_max_packet_len", c.track_max_packet_len);
  set_bool(L, "track_max_flow_len", c.track_max_flow_len);
  set_bool(L, "verbose", c.verbose);
  return 1;
}

/* ---- conversations as Lua tables ---------------------------------------------- */

static void set_addr(lua_State *L, const char *k, const sf_flow *f, int s) {
  char out[46];
  sf_flow_addr(f, s, out);
  set_str(L, k, out);
}

static void push_endpoints(lua_State *L, const sf_flow *f) {
  set_addr(L, "src_addr", f, 0);
  set_addr(L, "dst_addr", f, 1);
  if (sf_flow_has_ports(f)) {
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
  set_num(L, "duration", ((double)f->end_ns - (double)f->start_ns) / 1e9);
  set_int(L, "first_index", (lua_Integer)f->first_index);
}

static void push_icmp(lua_State *L, const sf_flow *f) {
  set_int(L, "icmp_type", f->icmp_type);
  set_int(L, "icmp_code", f->icmp_code);
  if (!sf_flow_is_echo(f)) return;
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
    luaL_error(L, "%s", sf_flows_error(t));
  luaL_pushresultsize(&b, n);
}

/* gaps_forward / gaps_reverse: {{offset=, length=}, ...}, when any */
static void push_gaps(lua_State *L, const sf_flow *f, int d) {
  size_t n, i;
  const sf_gap *g = sf_flow_gaps(f, d, &n);
  if (!n) return;
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_createtable(L, 0, 2);
    set_int(L, "offset", (lua_Integer)g[i].off);
    set_int(L, "length", (lua_Integer)g[i].len);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, d ? "gaps_reverse" : "gaps_forward");
}

static void push_tcp(lua_State *L, sf_flow *f, int full) {
  set_str(L, "tcp_state", sf_tcp_state_name(sf_tcp_state(f, 0)));
  set_str(L, "tcp_state_reverse", sf_tcp_state_name(sf_tcp_state(f, 1)));
  set_int(L, "dropped_segments", (lua_Integer)(f->dir[0].dropped + f->dir[1].dropped));
  set_int(L, "dropped_segments_fwd", (lua_Integer)f->dir[0].dropped);
  set_int(L, "dropped_segments_rev", (lua_Integer)f->dir[1].dropped);
  if (full) {  /* the streams themselves are read lazily, by the metatable */
    push_gaps(L, f, 0);
    push_gaps(L, f, 1);
  }
}

/* The flowref of the lazy conversation at idx; an error when its streams
   were lent to on_flow, which has returned. */
static flowref *check_ref(lua_State *L, int idx) {
  flowref *ref;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &lazy_key);
  lua_pushvalue(L, idx);
  lua_rawget(L, -2);
  ref = (flowref *)luaL_testudata(L, -1, LSF_FLOWREF);
  lua_pop(L, 2);
  if (ref && !ref->f && ref->lent)
    luaL_error(L, "conversation streams are lent to on_flow: read them (or "
               "conv:chunks()) inside the callback, not after it returned");
  return ref && ref->f ? ref : NULL;
}

/* 0 forward, 1 reverse; 2 and 3 their decrypted TLS plaintext */
static int direction(lua_State *L, int idx) {
  static const char *const dirs[] = {"forward", "reverse", "decrypted_forward",
                                     "decrypted_reverse", NULL};
  return luaL_checkoption(L, idx, NULL, dirs);
}

/* the iterator of conv:chunks(): the next piece, nil at the end */
static int next_chunk(lua_State *L) {
  flowref *ref = check_ref(L, lua_upvalueindex(1));
  int d = (int)lua_tointeger(L, lua_upvalueindex(2));
  size_t size = (size_t)lua_tointeger(L, lua_upvalueindex(3));
  uint64_t off = (uint64_t)lua_tointeger(L, lua_upvalueindex(4));
  luaL_Buffer b;
  long long n;
  sf_flows *t;
  char *dst;
  if (!ref || off >= sf_flow_stream_len(ref->f, d)) return 0;
  t = sf_flow_run_table_of(ref->fr->run, ref->f);
  dst = luaL_buffinitsize(L, &b, size);
  n = sf_flow_stream_read(t, ref->f, d, off, (uint8_t *)dst, size);
  if (n < 0) return luaL_error(L, "%s", sf_flows_error(t));
  luaL_pushresultsize(&b, (size_t)n);
  lua_pushinteger(L, (lua_Integer)(off + (uint64_t)n));
  lua_replace(L, lua_upvalueindex(4));
  return 1;
}

/* ---- TLS decrypted with tls_keylog -------------------------------------------- */

/* core.tls_keylog(path) -> a loaded key log, or nil, message */
static int lflow_keylog(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char err[256];
  sf_keylog **ud = (sf_keylog **)lua_newuserdatauv(L, sizeof *ud, 0);
  *ud = NULL;
  luaL_setmetatable(L, LSF_KEYLOG);
  if (!(*ud = sf_keylog_load(path, err, sizeof err))) {
    luaL_pushfail(L);
    if (err[0]) lua_pushstring(L, err);
    else lua_pushliteral(L, "not enough memory");
    return 2;
  }
  return 1;
}

static int keylog_gc(lua_State *L) {
  sf_keylog **ud = (sf_keylog **)luaL_checkudata(L, 1, LSF_KEYLOG);
  sf_keylog_free(*ud);
  *ud = NULL;
  return 0;
}

static int keylog_len(lua_State *L) {
  sf_keylog **ud = (sf_keylog **)luaL_checkudata(L, 1, LSF_KEYLOG);
  lua_pushinteger(L, (lua_Integer)sf_keylog_count(*ud));
  return 1;
}

/* A decrypting reader over one conversation (its own walker, so chunks
   and whole strings do not disturb each other). */
typedef struct tlsread {
  sf_flow_tls *x;
} tlsread;

static void free_tlsread(tlsread *r) {
  sf_flow_tls_free(r->x);
  r->x = NULL;
}

static int tlsread_gc(lua_State *L) {
  free_tlsread((tlsread *)luaL_checkudata(L, 1, LSF_TLSREAD));
  return 0;
}

/* Pushes a reader for ref's conversation (NULL inside when there is no
   key log, or it is no TLS). */
static tlsread *new_tlsread(lua_State *L, flowref *ref) {
  tlsread *r = (tlsread *)lua_newuserdatauv(L, sizeof *r, 0);
  r->x = NULL;
  luaL_setmetatable(L, LSF_TLSREAD);
  if (ref && ref->fr->kl)
    r->x = sf_flow_tls_open(sf_flow_run_table_of(ref->fr->run, ref->f), ref->f, ref->fr->kl);
  return r;
}

/* a failed read: the spill file's reason, else memory */
static int read_error(lua_State *L, sf_flows *t) {
  return luaL_error(L, "%s", sf_flows_error(t)[0] ? sf_flows_error(t) : "not enough memory");
}

/* Direction d's plaintext as one string (dst NULL: walked, not kept). */
static void push_plaintext(lua_State *L, flowref *ref, sf_flow_tls *x, int d) {
  sf_flows *t = sf_flow_run_table_of(ref->fr->run, ref->f);
  luaL_Buffer b;
  long long n;
  luaL_buffinit(L, &b);
  do {
    char *dst = luaL_prepbuffsize(&b, 65536);
    if ((n = sf_flow_tls_read(t, ref->f, x, d, (uint8_t *)dst, 65536)) < 0) read_error(L, t);
    luaL_addsize(&b, (size_t)n);
  } while (n > 0);
  luaL_pushresult(&b);
}

/* Walk direction d to its end, keeping nothing but what conv.tls says. */
static void walk_plaintext(lua_State *L, flowref *ref, sf_flow_tls *x, int d) {
  sf_flows *t = sf_flow_run_table_of(ref->fr->run, ref->f);
  while (1) {
    long long n = sf_flow_tls_read(t, ref->f, x, d, NULL, SIZE_MAX);
    if (n < 0) read_error(L, t);
    if (n == 0) break;
  }
}

static void set_hex(lua_State *L, const char *k, const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  char buf[130];
  size_t i;
  for (i = 0; i < n && i < 64; i++) {
    buf[2 * i] = digits[p[i] >> 4];
    buf[2 * i + 1] = digits[p[i] & 15];
  }
  lua_pushlstring(L, buf, 2 * i);
  lua_setfield(L, -2, k);
}

static void set_handshake(lua_State *L, const char *k, const sf_flow_tls *x, int d) {
  size_t n;
  const uint8_t *p = sf_flow_tls_handshake(x, d, &n);
  lua_pushlstring(L, p ? (const char *)p : "", n);
  lua_setfield(L, -2, k);
}

static void add_certificate(void *ud, const uint8_t *der, size_t n) {
  lua_State *L = (lua_State *)ud;
  lua_pushlstring(L, (const char *)der, n);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
}

/* certificates: the server's chain, DER, as its Certificate message has it */
static void set_certificates(lua_State *L, const sf_flow_tls *x) {
  size_t n;
  const uint8_t *hs = sf_flow_tls_handshake(x, !sf_flow_tls_client(x), &n);
  lua_newtable(L);
  if (hs) sf_tls_certificates(hs, n, sf_flow_tls_session(x)->version == 0x0304, add_certificate, L);
  lua_setfield(L, -2, "certificates");
}

/* conv.tls: what the hellos say and how each direction went. */
static void push_tls_info(lua_State *L, const sf_flow_tls *x) {
  const sf_tls_session *s = sf_flow_tls_session(x);
  uint64_t dec, rec;
  int d, whole = 1;
  lua_createtable(L, 0, 16);
  set_str(L, "client", sf_flow_tls_client(x) == SF_FLOW_FWD ? "forward" : "reverse");
  if (s->version) set_int(L, "version", s->version);
  if (s->have_server) set_int(L, "cipher_suite", s->suite_id);
  if (s->suite) set_str(L, "cipher", s->suite->name);
  if (s->have_client) set_hex(L, "client_random", s->client_random, 32);
  for (d = 0; d < 2; d++) {
    const char *e = sf_flow_tls_error(x, d);
    rec = sf_flow_tls_records(x, d, &dec);
    set_int(L, d ? "records_reverse" : "records_forward", (lua_Integer)rec);
    set_int(L, d ? "decrypted_records_reverse" : "decrypted_records_forward", (lua_Integer)dec);
    if (e) set_str(L, d ? "error_reverse" : "error_forward", e);
    whole = whole && !e;
  }
  set_bool(L, "decrypted", whole && !s->error);
  set_handshake(L, "handshake_forward", x, 0);
  set_handshake(L, "handshake_reverse", x, 1);
  set_certificates(L, x);
}

/* conv.tls (key "tls") or one direction's plaintext (decrypted_forward,
   decrypted_reverse) on first use, set in the conversation table at 1:
   conv.tls walks both directions (bounded memory, the plaintext not
   kept), a plaintext string walks its own.  Nothing for no TLS. */
static void push_decrypted(lua_State *L, flowref *ref, const char *k) {
  tlsread *r = new_tlsread(L, ref);
  int d;
  if (!r->x) {
    ref->not_tls = 1;
    lua_pop(L, 1);
    return;
  }
  if (strcmp(k, "tls") == 0) {
    for (d = 0; d < 2; d++) walk_plaintext(L, ref, r->x, d);
    push_tls_info(L, r->x);
  } else {
    push_plaintext(L, ref, r->x, strcmp(k, "decrypted_reverse") == 0);
  }
  lua_setfield(L, 1, k);
  free_tlsread(r);  /* done with it: now, not at the next collection */
  lua_pop(L, 1);
}

/* the iterator of conv:chunks("decrypted_*"): the next piece, nil at the
   end (the reason it stopped is conv.tls's error_*) */
static int next_plain_chunk(lua_State *L) {
  flowref *ref = check_ref(L, lua_upvalueindex(1));
  tlsread *r = (tlsread *)luaL_checkudata(L, lua_upvalueindex(2), LSF_TLSREAD);
  int d = (int)lua_tointeger(L, lua_upvalueindex(3));
  size_t size = (size_t)lua_tointeger(L, lua_upvalueindex(4));
  sf_flows *t;
  luaL_Buffer b;
  long long n;
  if (!ref || !r->x) return 0;
  t = sf_flow_run_table_of(ref->fr->run, ref->f);
  n = sf_flow_tls_read(t, ref->f, r->x, d, (uint8_t *)luaL_buffinitsize(L, &b, size), size);
  if (n < 0) return read_error(L, t);
  if (n == 0) return 0;
  luaL_pushresultsize(&b, (size_t)n);
  return 1;
}

static int decrypted_chunks(lua_State *L, int d, size_t size) {
  flowref *ref = check_ref(L, 1);
  lua_pushvalue(L, 1);
  new_tlsread(L, ref);
  lua_pushinteger(L, d);
  lua_pushinteger(L, (lua_Integer)size);
  lua_pushcclosure(L, next_plain_chunk, 4);
  return 1;
}

/* conv:chunks("forward"|"reverse"|"decrypted_forward"|"decrypted_reverse"
   [, size]): an iterator over a stream in pieces of size bytes (default
   1 MiB), so it never has to be one string. */
static int conv_chunks(lua_State *L) {
  int d = direction(L, 2);
  lua_Integer size = luaL_optinteger(L, 3, 1 << 20);
  luaL_argcheck(L, size > 0 && size <= (1 << 30), 3, "chunk size must be 1 .. 2^30");
  luaL_checktype(L, 1, LUA_TTABLE);
  if (d >= 2) return decrypted_chunks(L, d - 2, (size_t)size);
  lua_pushvalue(L, 1);
  lua_pushinteger(L, d);
  lua_pushinteger(L, size);
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, next_chunk, 4);
  return 1;
}

/* __index of lazy conversations: a stream is read on first use, then kept;
   chunks is the method. */
static int lazy_index(lua_State *L) {
  const char *k = lua_tostring(L, 2);
  flowref *ref;
  int d;
  if (!k) return 0;
  if (strcmp(k, "chunks") == 0) {
    lua_pushcfunction(L, conv_chunks);
    return 1;
  }
  if (strcmp(k, "tls") == 0 || strcmp(k, "decrypted_forward") == 0 ||
      strcmp(k, "decrypted_reverse") == 0) {
    if (!(ref = check_ref(L, 1)) || ref->not_tls || !ref->fr->kl) return 0;
    push_decrypted(L, ref, k);
    lua_pushvalue(L, 2);
    lua_rawget(L, 1);
    return 1;
  }
  if (strcmp(k, "reassembled_forward_len") == 0 || strcmp(k, "reassembled_reverse_len") == 0) {
    if (!(ref = check_ref(L, 1))) return 0;  /* a length without reading the stream */
    lua_pushinteger(L, (lua_Integer)sf_flow_stream_len(ref->f, k[12] == 'r'));
    return 1;
  }
  if (strcmp(k, "reassembled_forward") == 0) d = 0;
  else if (strcmp(k, "reassembled_reverse") == 0) d = 1;
  else return 0;
  if (!(ref = check_ref(L, 1))) return 0;
  push_stream(L, sf_flow_run_table_of(ref->fr->run, ref->f), ref->f, d);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);  /* cached: read once */
  return 1;
}

/* Make the conversation table on top lazy over f, owned from now on. */
static flowref *make_lazy(lua_State *L, flowrun *fr, int runidx, sf_flow *f) {
  flowref *ref;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &lazy_key);
  lua_pushvalue(L, -2);
  ref = (flowref *)lua_newuserdatauv(L, sizeof *ref, 1);
  ref->f = f;
  ref->fr = fr;
  ref->lent = 0;
  ref->not_tls = 0;
  fr->refs++;
  luaL_setmetatable(L, LSF_FLOWREF);
  lua_pushvalue(L, runidx);
  lua_setiuservalue(L, -2, 1);  /* the run lives while the ref does */
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &convmt_key);
  lua_setmetatable(L, -2);
  return ref;
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
  if (sf_flow_is_tcp(f)) push_tcp(L, f, full);
  if (sf_flow_is_icmp(f)) push_icmp(L, f);
  if (full && fr->c.store_packet_indices) push_indices(L, f);
  push_tracked(L, fr, f);
}

/* ---- the driver's callbacks ---------------------------------------------------- */

/* A conversation on_flow returned from is garbage.  Lua's own pace lets
   the heap grow well past what is live (under a SYN flood, past the
   flows' memory budget), so the run steps the collector itself, once the
   heap has grown by 1/32 (256 KiB at least) since its last step: a
   generational step traverses every weak table whole (the lazy
   conversations' {conv -> ref} among them), so a step per conversation
   cost what the program held, not what the conversation made (on_flow
   over 60,000 conversations with a list of as many alive: minutes). */
static void collect_delivered(flowrun *fr) {
  int kb = lua_gc(fr->L, LUA_GCCOUNT), grown = fr->gc_kb / 32;
  if (kb - fr->gc_kb < (grown > 256 ? grown : 256)) return;
  lua_gc(fr->L, LUA_GCSTEP, 0);
  fr->gc_kb = lua_gc(fr->L, LUA_GCCOUNT);
}

/* An ended conversation: to on_flow, TCP ones with their streams lent
   for the call (read lazily, or in chunks; freed when it returns, and by
   the collector if it raised), or to the result list, TCP ones with lazy
   streams. */
static void on_flow(void *ud, sf_flow *f) {
  flowrun *fr = (flowrun *)ud;
  lua_State *L = fr->L;
  if (fr->on_flow && sf_flow_is_tcp(f)) {
    flowref *ref;
    lua_pushvalue(L, fr->on_flow);
    push_conv(L, fr, f, 2);
    ref = make_lazy(L, fr, fr->self, f);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &lazy_key);
    lua_pushvalue(L, -2);
    lua_rawget(L, -2);
    lua_replace(L, -2);
    lua_insert(L, -3);  /* the ref under the call: alive whatever it does */
    lua_call(L, 1, 0);
    sf_flow_free(sf_flow_run_table_of(fr->run, ref->f), ref->f);
    ref->f = NULL;
    ref->lent = 1;
    lua_pop(L, 1);
    collect_delivered(fr);
  } else if (fr->on_flow) {
    lua_pushvalue(L, fr->on_flow);
    push_conv(L, fr, f, 1);
    sf_flow_free(sf_flow_run_table_of(fr->run, f), f);
    lua_call(L, 1, 0);
    collect_delivered(fr);
  } else if (sf_flow_is_tcp(f)) {
    push_conv(L, fr, f, 2);
    make_lazy(L, fr, fr->self, f);
    lua_rawseti(L, fr->out, ++fr->nout);
  } else {
    push_conv(L, fr, f, 1);
    sf_flow_free(sf_flow_run_table_of(fr->run, f), f);
    lua_rawseti(L, fr->out, ++fr->nout);
  }
}

/* A Packet holding a copy of p (the callback may keep it). */
static void push_copy(lua_State *L, const sf_pkt *p) {
  sf_pkt *q = lsf_newpacket_store(L, p->len);
  sf_pkt_borrow(q, p->data, p->len);
  if (sf_pkt_writable(q) != SF_OK) luaL_error(L, "not enough memory");
  lsf_track(L, -1, q);
  q->linktype = p->linktype;
  q->time_ns = p->time_ns;
  q->wirelen = p->wirelen;
  q->interface_id = p->interface_id;
}

static void on_packet(void *ud, const sf_pkt *p, sf_flow *f, int dir) {
  flowrun *fr = (flowrun *)ud;
  lua_State *L = fr->L;
  lua_pushvalue(L, fr->on_packet);
  if (p == fr->cur) lua_pushvalue(L, fr->base + 1);  /* the user's own Packet */
  else push_copy(L, p);
  push_conv(L, fr, f, 0);
  lua_pushstring(L, dir == SF_FLOW_FWD ? "forward" : "reverse");
  lua_call(L, 3, 0);
}

/* Around the engine's own work on a packet (dissecting, anonymizing, the
   table), never around a callback: custom protocols' callbacks run on
   this thread then, and the first error they raised is raised after. */
static void work(void *ud, int begin) {
  flowrun *fr = (flowrun *)ud;
  if (begin) {
    lsf_enter(fr->L, &fr->host);
    return;
  }
  lsf_leave(&fr->host);
  lsf_raise_kept(&fr->host);
}

static int noop(lua_State *L) { (void)L; return 0; }

/* Let a pending Ctrl-C through now and then: sflua's SIGINT handler sets a
   hook that fires on the next call, and without callbacks the loop would
   not make one until the end of the capture. */
static void tick(void *ud) {
  lua_State *L = ((flowrun *)ud)->L;
  lua_pushcfunction(L, noop);
  lua_call(L, 0, 0);
}

/* ---- the runs ------------------------------------------------------------------- */

/* Arguments (source, cfg [, on_flow [, on_packet [, anonymizer]]]); pushes
   the run userdata, the spill_dir string, and the result list unless
   conversations go to on_flow. */
static flowrun *new_run(lua_State *L) {
  sf_flow_hooks h;
  sf_anon **an = NULL;
  flowrun *fr;
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TFUNCTION);
  if (!lua_isnoneornil(L, 4)) luaL_checktype(L, 4, LUA_TFUNCTION);
  if (!lua_isnoneornil(L, 5)) {
    an = (sf_anon **)luaL_checkudata(L, 5, LSF_ANON);
    luaL_argcheck(L, *an != NULL, 5, "closed Anonymizer");
  }
  lua_settop(L, 5);
  fr = (flowrun *)lua_newuserdatauv(L, sizeof *fr, 1);
  memset(fr, 0, sizeof *fr);
  luaL_setmetatable(L, LSF_FLOWRUN);
  fr->self = lua_gettop(L);
  if (lua_getfield(L, 2, "tls_keylog") != LUA_TNIL) {  /* loaded by flows.lua */
    fr->kl = *(sf_keylog **)luaL_checkudata(L, -1, LSF_KEYLOG);
    lua_setiuservalue(L, fr->self, 1);  /* alive while the run is */
  } else {
    lua_pop(L, 1);
  }
  fr->L = L;
  fr->on_flow = lua_isnil(L, 3) ? 0 : 3;
  fr->on_packet = lua_isnil(L, 4) ? 0 : 4;
  read_config(L, 2, &fr->c);  /* pushes spill_dir */
  memset(&h, 0, sizeof h);
  h.ud = fr;
  h.on_flow = on_flow;
  h.hold = !fr->on_flow;  /* the list is sorted at the end */
  h.on_packet = fr->on_packet ? on_packet : NULL;
  h.tick = tick;
  h.work = work;
  h.thread_work = lsf_thread_work;
  if (!(fr->run = sf_flow_run_new(&fr->c, &h))) luaL_error(L, "not enough memory");
  if (an) sf_flow_run_anonymize(fr->run, *an);
  if (!fr->on_flow) {
    lua_newtable(L);
    fr->out = lua_gettop(L);
  }
  fr->base = lua_gettop(L);
  return fr;
}

/* The results; nil, message when the run failed (a capture that cannot
   be read, a packet that cannot be anonymized): flows.lua raises it at
   its caller's line. */
static int run_done(lua_State *L, flowrun *fr, int rc) {
  if (rc != SF_OK) {
    luaL_pushfail(L);
    lua_pushstring(L, sf_flow_run_error(fr->run));
    return 2;
  }
  if (!fr->out) return 0;
  lua_pushvalue(L, fr->out);
  return 1;
}

/* core.flows_file(path, cfg [, on_flow [, on_packet [, anonymizer [, ropts]]]])
   -> {conv...} or nothing; nil, message if the capture cannot be read
   (flows.lua raises it at its caller's line) */
static int lflow_file(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  sf_ropts ro;
  flowrun *fr;
  int threads = 1;
  lsf_reader_options(L, 6, &ro);
  if (lua_istable(L, 6)) {
    if (lua_getfield(L, 6, "threads") != LUA_TNIL)
      threads = (int)lsf_check_range(L, -1, "extract_flows: threads", 0, 255);
    lua_pop(L, 1);
  }
  fr = new_run(L);
  sf_flow_run_threads(fr->run, threads);
  return run_done(L, fr, sf_flow_run_file(fr->run, path, &ro));
}

/* The next Packet of the list or iterator at fr->src, on top of the stack
   (the previous one popped): finalized if built, dissected if not yet. */
static int next_packet(void *ud, sf_pkt **pp) {
  flowrun *fr = (flowrun *)ud;
  lua_State *L = fr->L;
  sf_pkt *p;
  int idx;
  lua_settop(L, fr->base);
  if (lua_type(L, fr->src) == LUA_TTABLE) {
    if (fr->i >= fr->n) return 0;
    lua_rawgeti(L, fr->src, ++fr->i);
  } else {
    lua_pushvalue(L, fr->src);
    lua_call(L, 0, 1);
    if (lua_isnil(L, -1)) return 0;
  }
  idx = lua_gettop(L);
  p = lsf_checkpacket(L, idx);
  if (p->flags & SF_P_DIRTY)  /* built: lengths and checksums first */
    lsf_finalize(L, idx, p);
  *pp = lsf_parsed(L, idx);
  fr->cur = *pp;
  return 1;
}

/* core.flows_packets(pkts, cfg [, on_flow [, on_packet [, anonymizer]]]):
   pkts is a list of Packets or an iterator (function, PcapReader) giving
   them until nil.  -> as flows_file */
static int lflow_packets(lua_State *L) {
  flowrun *fr;
  int rc;
  luaL_checkany(L, 1);
  fr = new_run(L);
  fr->src = 1;
  if (lua_type(L, 1) == LUA_TTABLE) fr->n = (lua_Integer)lua_rawlen(L, 1);
  /* Lua packets may be collected: streams copy their bytes */
  rc = sf_flow_run_source(fr->run, next_packet, fr, 0);
  lua_settop(L, fr->base);
  return run_done(L, fr, rc);
}

static const luaL_Reg flow_funcs[] = {
  {"flows_file", lflow_file}, {"flows_packets", lflow_packets},
  {"flow_defaults", lflow_defaults}, {"tls_keylog", lflow_keylog}, {NULL, NULL}
};

void lsf_open_flow(lua_State *L) {
  static const luaL_Reg run_meta[] = {{"__gc", run_gc}, {"__close", run_gc}, {NULL, NULL}};
  static const luaL_Reg ref_meta[] = {{"__gc", flowref_gc}, {NULL, NULL}};
  lsf_class(L, LSF_FLOWRUN, run_meta, NULL);
  static const luaL_Reg keylog_meta[] = {{"__gc", keylog_gc}, {"__len", keylog_len}, {NULL, NULL}};
  static const luaL_Reg tlsread_meta[] = {{"__gc", tlsread_gc}, {NULL, NULL}};
  lsf_class(L, LSF_FLOWREF, ref_meta, NULL);
  lsf_class(L, LSF_KEYLOG, keylog_meta, NULL);
  lsf_class(L, LSF_TLSREAD, tlsread_meta, NULL);
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
