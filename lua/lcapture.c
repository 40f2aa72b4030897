/*
 * lcapture.c -- live traffic for Lua: capture handles as sources on the
 * state's loop (lloop.c), senders, and the send-and-match loop behind
 * sr().  Values are converted here; options are checked and public names
 * made in stdlib/stackforge/live.lua; capture, sending, routes and
 * matching are the engine's (core/capture).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../core/capture/capture.h"
#include "lloop.h"

static const char answers_key = 'a';  /* proto id -> a CustomLayer's answers */

/* ---- packets from captured bytes ------------------------------------------------ */

static void push_captured(lua_State *L, const uint8_t *d, uint32_t caplen,
                          uint32_t wirelen, int64_t ns, int linktype) {
  sf_pkt *p = lsf_newpacket_store(L, caplen);
  sf_pkt_borrow(p, d, caplen);
  if (sf_pkt_writable(p) != SF_OK) luaL_error(L, "not enough memory");
  lsf_track(L, -1, p);
  p->linktype = linktype;
  p->time_ns = ns;
  p->wirelen = wirelen;
}

/* ---- capture handles ------------------------------------------------------------- */

typedef struct llive {
  sf_live *h;
  lsf_loop *lp;
  uv_poll_t *poll;       /* malloc'd; freed by its close callback */
  int linktype;
  int ready;             /* the descriptor polled readable */
  int halted;            /* halt(): a waiting next() returns */
  int async;             /* packets go to the callback at registry[self] */
  int mode;              /* where deliver() puts a packet: TO_* */
  int reading;           /* inside sf_live_read: closing waits */
  int close_pending;
  uint64_t delivered;
  lua_State *L;          /* while reading: where packets are made */
} llive;

static llive *checklive(lua_State *L, int idx) {
  llive *lv = (llive *)luaL_checkudata(L, idx, LSF_LIVE);
  if (!lv->h || lv->close_pending) luaL_error(L, "attempt to use a closed capture");
  return lv;
}

static void stop_poll(llive *lv) {
  if (lv->poll) {
    ((uv_handle_t *)lv->poll)->data = NULL;
    lsf_close_handle((uv_handle_t *)lv->poll);
    lv->poll = NULL;
  }
}

/* live_open{iface=, filter=, snaplen=, promisc=, monitor=, immediate=,
   buffer_size=, timeout_ms=, direction=} -> handle | nil, msg */
static int opt_int(lua_State *L, int idx, const char *k, int def) {
  int v = def;
  if (lua_getfield(L, idx, k) != LUA_TNIL) v = lua_toboolean(L, -1) && !lua_isnumber(L, -1) ? 1 : (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

static const char *opt_str(lua_State *L, int idx, const char *k) {
  const char *s;
  lua_getfield(L, idx, k);
  s = lua_tostring(L, -1);  /* the options table keeps it alive */
  lua_pop(L, 1);
  return s;
}

static int l_live_open(lua_State *L) {
  sf_live_opts o;
  char err[SF_CAP_ERRLEN];
  llive *lv;
  luaL_checktype(L, 1, LUA_TTABLE);
  memset(&o, 0, sizeof o);
  o.iface = opt_str(L, 1, "iface");
  o.filter = opt_str(L, 1, "filter");
  o.snaplen = opt_int(L, 1, "snaplen", 0);
  o.promisc = opt_int(L, 1, "promisc", 0);
  o.monitor = opt_int(L, 1, "monitor", 0);
  o.immediate = opt_int(L, 1, "immediate", 0);
  o.buffer_size = opt_int(L, 1, "buffer_size", 0);
  o.timeout_ms = opt_int(L, 1, "timeout_ms", 10);
  o.direction = opt_int(L, 1, "direction", SF_DIR_INOUT);
  lv = (llive *)lua_newuserdatauv(L, sizeof *lv, 0);
  memset(lv, 0, sizeof *lv);
  luaL_setmetatable(L, LSF_LIVE);
  lv->lp = lsf_getloop(L);
  lv->h = sf_live_open(&o, err, sizeof err);
  if (!lv->h) {
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
  }
  lv->linktype = sf_live_linktype(lv->h);
  return 1;
}

static void on_readable(uv_poll_t *pl, int status, int events);

static int start_poll(llive *lv) {
  if (lv->poll) return 0;
  lv->poll = malloc(sizeof *lv->poll);
  if (!lv->poll || uv_poll_init(lsf_uv(lv->lp), lv->poll, sf_live_fd(lv->h))) {
    free(lv->poll);
    lv->poll = NULL;
    return -1;
  }
  ((uv_handle_t *)lv->poll)->data = lv;
  return uv_poll_start(lv->poll, UV_READABLE, on_readable);
}

enum { TO_NONE, TO_STACK, TO_CALLBACK };

/* One packet onto lv->L's stack (next()), or to the async callback; none
   once the callback stopped the capture. */
static void deliver(void *ud, const uint8_t *d, uint32_t caplen, uint32_t wirelen,
                    int64_t ns) {
  llive *lv = (llive *)ud;
  lua_State *L = lv->L;
  if (lv->mode == TO_NONE || (lv->mode == TO_CALLBACK && !lv->async)) return;
  lv->delivered++;
  if (lv->mode == TO_STACK) {
    push_captured(L, d, caplen, wirelen, ns, lv->linktype);
    return;
  }
  luaL_checkstack(L, 8, "capture callback");  /* L may be mid-call */
  lua_rawgetp(L, LUA_REGISTRYINDEX, lv);  /* the callback */
  push_captured(L, d, caplen, wirelen, ns, lv->linktype);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    lv->async = 0;
    lsf_loop_fail(lv->lp, L);
  }
}

#define ASYNC_BATCH 64

static void close_now(llive *lv) {
  lv->async = 0;
  lv->close_pending = 0;
  stop_poll(lv);
  sf_live_close(lv->h);
  lv->h = NULL;
}

/* a read during which a callback may ask to close the handle */
static int guarded_read(llive *lv, int max, int mode) {
  int n;
  lv->mode = mode;
  lv->reading++;
  n = sf_live_read(lv->h, max, deliver, lv);
  lv->reading--;
  lv->mode = TO_NONE;
  return n;
}

static void on_readable(uv_poll_t *pl, int status, int events) {
  llive *lv = (llive *)((uv_handle_t *)pl)->data;
  (void)events;
  if (!lv) return;
  lv->ready = 1;
  if (!lv->async || status < 0) return;  /* next() or sr() reads */
  lv->L = lsf_loop_thread(lv->lp);
  if (guarded_read(lv, ASYNC_BATCH, TO_CALLBACK) < 0) {
    lua_pushstring(lv->L, sf_live_error(lv->h));
    lv->async = 0;
    lsf_loop_fail(lv->lp, lv->L);
  }
  if (!lv->async) stop_poll(lv);
  if (lv->close_pending) close_now(lv);
}

/* Read what waits; nil when nothing, raise on error. */
static int read_one(lua_State *L, llive *lv) {
  int n;
  lv->L = L;
  n = guarded_read(lv, 1, TO_STACK);
  if (n < 0) return luaL_error(L, "%s", sf_live_error(lv->h));
  return n > 0;
}

/* h:next([seconds]) -> packet | nil, "timeout" | "stopped" | "interrupted" */
static int live_next(lua_State *L) {
  llive *lv = checklive(L, 1);
  double secs = luaL_optnumber(L, 2, -1);
  int expired = 0, rc = LSF_RUN_MORE, got = 0;
  uv_timer_t *t = NULL;
  luaL_argcheck(L, !lv->async, 1, "the capture is running in the background");
  while (!lv->halted) {
    if ((got = read_one(L, lv))) break;
    if (!t && secs >= 0) t = lsf_deadline(lv->lp, secs, &expired);
    if (expired) break;
    lv->ready = 0;
    if (!lv->poll && start_poll(lv)) return luaL_error(L, "cannot poll %s", sf_live_iface(lv->h));
    if (!uv_is_active((uv_handle_t *)lv->poll)) uv_poll_start(lv->poll, UV_READABLE, on_readable);
    while (!lv->ready && !expired && !lv->halted &&
           (rc = lsf_loop_run(L, lv->lp, UV_RUN_ONCE)) >= LSF_RUN_IDLE) {}
    if (rc < LSF_RUN_IDLE) break;
  }
  lsf_deadline_cancel(t);
  if (lv->poll) uv_poll_stop(lv->poll);
  if (got) return 1;  /* the packet, on top */
  if (rc == LSF_RUN_INTERRUPTED && lsf_loop_take_interrupt(lv->lp)) {
    luaL_pushfail(L);
    lua_pushliteral(L, "interrupted");
    return 2;
  }
  lsf_loop_check(L, lv->lp, rc);
  luaL_pushfail(L);
  lua_pushstring(L, lv->halted ? "stopped" : "timeout");
  lv->halted = 0;
  return 2;
}

/* h:on_packet(fn): packets go to fn as they come, while the loop runs;
   h:on_packet(nil) stops that.  A running handle is kept from the GC. */
static int live_on_packet(lua_State *L) {
  llive *lv = checklive(L, 1);
  if (lua_isnoneornil(L, 2)) {
    lv->async = 0;
    stop_poll(lv);
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, lv);
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &lv->async);
    return 0;
  }
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushvalue(L, 2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, lv);
  lua_pushvalue(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &lv->async);  /* alive while running */
  lv->async = 1;
  if (!lv->poll && start_poll(lv)) return luaL_error(L, "cannot poll %s", sf_live_iface(lv->h));
  uv_poll_start(lv->poll, UV_READABLE, on_readable);
  return 0;
}

/* h:halt(): a next() waiting on the loop returns nil, "stopped" */
static int live_halt(lua_State *L) {
  llive *lv = checklive(L, 1);
  lv->halted = 1;
  return 0;
}

/* h:drain(): throw away what waits (a reused handle's old traffic) */
static void discard(void *ud, const uint8_t *d, uint32_t c, uint32_t w, int64_t ns) {
  (void)ud; (void)d; (void)c; (void)w; (void)ns;
}

static int live_drain(lua_State *L) {
  llive *lv = checklive(L, 1);
  int n, total = 0;
  lv->reading++;
  while ((n = sf_live_read(lv->h, 0, discard, NULL)) > 0) total += n;
  lv->reading--;
  lua_pushinteger(L, total);
  return 1;
}

static int live_stats(lua_State *L) {
  llive *lv = checklive(L, 1);
  sf_live_stats st;
  if (sf_live_stats_get(lv->h, &st)) return luaL_error(L, "%s", sf_live_error(lv->h));
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, (lua_Integer)st.received);
  lua_setfield(L, -2, "received");
  lua_pushinteger(L, (lua_Integer)st.dropped);
  lua_setfield(L, -2, "dropped");
  lua_pushinteger(L, (lua_Integer)st.if_dropped);
  lua_setfield(L, -2, "if_dropped");
  lua_pushinteger(L, (lua_Integer)lv->delivered);
  lua_setfield(L, -2, "delivered");
  return 1;
}

static int live_info(lua_State *L) {
  llive *lv = checklive(L, 1);
  lua_pushstring(L, sf_live_iface(lv->h));
  lua_pushinteger(L, lv->linktype);
  return 2;
}

static int live_setfilter(lua_State *L) {
  llive *lv = checklive(L, 1);
  if (sf_live_setfilter(lv->h, luaL_checkstring(L, 2))) {
    luaL_pushfail(L);
    lua_pushstring(L, sf_live_error(lv->h));
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* close, __close and __gc: closing twice is harmless */
static int live_close(lua_State *L) {
  llive *lv = (llive *)luaL_checkudata(L, 1, LSF_LIVE);
  if (lv->h) {
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, lv);
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &lv->async);
    if (lv->reading) lv->close_pending = 1;  /* from its own callback */
    else close_now(lv);
  }
  return 0;
}

static int live_closed(lua_State *L) {
  llive *lv = (llive *)luaL_checkudata(L, 1, LSF_LIVE);
  lua_pushboolean(L, lv->h == NULL || lv->close_pending);
  return 1;
}

/* ---- filters, interfaces, routes ------------------------------------------------------ */

/* check_filter(expr, linktype) -> true | nil, libpcap's message */
static int l_check_filter(lua_State *L) {
  char err[SF_CAP_ERRLEN];
  if (sf_filter_check(luaL_checkstring(L, 1), (int)luaL_optinteger(L, 2, 1), err, sizeof err)) {
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* bpf(expr, linktype) -> filter with :match(packet) | nil, msg */
static int l_bpf(lua_State *L) {
  char err[SF_CAP_ERRLEN];
  const char *expr = luaL_checkstring(L, 1);
  int linktype = (int)luaL_optinteger(L, 2, 1);
  sf_bpf **b = (sf_bpf **)lua_newuserdatauv(L, sizeof *b, 0);
  *b = NULL;
  luaL_setmetatable(L, LSF_BPF);
  *b = sf_bpf_new(expr, linktype, err, sizeof err);
  if (!*b) {
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
  }
  return 1;
}

static int bpf_match(lua_State *L) {
  sf_bpf **b = (sf_bpf **)luaL_checkudata(L, 1, LSF_BPF);
  sf_pkt *p = lsf_checkpacket(L, 2);
  if (p->flags & SF_P_DIRTY) sf_finalize(p);
  lua_pushboolean(L, sf_bpf_match(*b, p->data, (uint32_t)p->len,
                                  p->wirelen ? p->wirelen : (uint32_t)p->len));
  return 1;
}

static int bpf_gc(lua_State *L) {
  sf_bpf **b = (sf_bpf **)luaL_checkudata(L, 1, LSF_BPF);
  sf_bpf_free(*b);
  *b = NULL;
  return 0;
}

static void push_addr(lua_State *L, int family, const uint8_t *a) {
  char text[46];
  if (family == AF_INET) sf_format_ip4(a, text);
  else sf_format_ip6(a, text);
  lua_pushstring(L, text);
}

static void push_flags(lua_State *L, unsigned f) {
  static const struct { unsigned bit; const char *name; } names[] = {
    {0x1, "UP"}, {0x2, "BROADCAST"}, {0x8, "LOOPBACK"}, {0x10, "POINTOPOINT"},
    {0x40, "RUNNING"}, {0x100, "PROMISC"}, {0x1000, "MULTICAST"}, {0, NULL}
  };
  int i, n = 0;
  lua_newtable(L);
  for (i = 0; names[i].name; i++)
    if (f & names[i].bit) {
      lua_pushstring(L, names[i].name);
      lua_rawseti(L, -2, ++n);
    }
}

static void push_iface(lua_State *L, const sf_iface *f) {
  int i;
  char mac[18];
  lua_createtable(L, 0, 9);
  lua_pushstring(L, f->name);
  lua_setfield(L, -2, "name");
  if (f->description) {
    lua_pushstring(L, f->description);
    lua_setfield(L, -2, "description");
  }
  lua_pushinteger(L, f->index);
  lua_setfield(L, -2, "index");
  push_flags(L, f->flags);
  lua_setfield(L, -2, "flags");
  if (f->mtu > 0) {
    lua_pushinteger(L, f->mtu);
    lua_setfield(L, -2, "mtu");
  }
  if (f->linktype >= 0) {
    lua_pushinteger(L, f->linktype);
    lua_setfield(L, -2, "linktype");
  }
  if (f->has_mac) {
    sf_format_mac(f->mac, mac);
    lua_pushstring(L, mac);
    lua_setfield(L, -2, "mac");
  }
  lua_createtable(L, f->naddrs, 0);
  for (i = 0; i < f->naddrs; i++) {
    lua_createtable(L, 0, 3);
    lua_pushstring(L, f->addrs[i].family == AF_INET ? "ipv4" : "ipv6");
    lua_setfield(L, -2, "family");
    push_addr(L, f->addrs[i].family, f->addrs[i].addr);
    lua_setfield(L, -2, "addr");
    lua_pushinteger(L, f->addrs[i].prefixlen);
    lua_setfield(L, -2, "prefixlen");
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "addresses");
}

/* interfaces() -> {iface...} | nil, msg */
static int l_interfaces(lua_State *L) {
  sf_iface *v;
  char err[SF_CAP_ERRLEN];
  int n = sf_ifaces(&v, err, sizeof err), i;
  if (n < 0) {
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    push_iface(L, &v[i]);
    lua_rawseti(L, -2, i + 1);
  }
  sf_ifaces_free(v, n);
  return 1;
}

/* interface(name) -> iface (no addresses) | nil, msg */
static int l_interface(lua_State *L) {
  sf_iface f;
  char err[SF_CAP_ERRLEN];
  if (sf_iface_get(luaL_checkstring(L, 1), &f, err, sizeof err)) {
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
  }
  push_iface(L, &f);
  return 1;
}

/* iface_addr(name, 4|6) -> text | nil */
static int l_iface_addr(lua_State *L) {
  uint8_t a[16];
  int fam = luaL_optinteger(L, 2, 4) == 6 ? AF_INET6 : AF_INET;
  if (sf_iface_addr(luaL_checkstring(L, 1), fam, a)) return 0;
  push_addr(L, fam, a);
  return 1;
}

/* an address in text as bytes and family */
static int parse_addr(const char *s, uint8_t a[16]) {
  if (sf_parse_ip4(s, a) == SF_OK) return AF_INET;
  if (sf_parse_ip6(s, a) == SF_OK) return AF_INET6;
  return 0;
}

/* route(dst) -> {iface=, src=, gateway=} | nil, msg */
static int l_route(lua_State *L) {
  uint8_t a[16];
  sf_route r;
  char err[SF_CAP_ERRLEN];
  const char *dst = luaL_checkstring(L, 1);
  int fam = parse_addr(dst, a);
  if (!fam) return luaL_argerror(L, 1, lua_pushfstring(L, "not an IP address: %s", dst));
  if (sf_route_get(fam, a, &r, err, sizeof err)) {
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_createtable(L, 0, 3);
  lua_pushstring(L, r.iface);
  lua_setfield(L, -2, "iface");
  if (r.has_src) {
    push_addr(L, fam, r.src);
    lua_setfield(L, -2, "src");
  }
  if (r.has_gw) {
    push_addr(L, fam, r.gw);
    lua_setfield(L, -2, "gateway");
  }
  return 1;
}

/* route_table() -> {{dst=, prefixlen=, gateway=, iface=, metric=}...} */
static int l_route_table(lua_State *L) {
  sf_route_entry *v;
  char err[SF_CAP_ERRLEN];
  int n = sf_route_table(&v, err, sizeof err), i;
  if (n < 0) return luaL_error(L, "%s", err);
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    lua_createtable(L, 0, 5);
    push_addr(L, v[i].family, v[i].dst);
    lua_setfield(L, -2, "dst");
    lua_pushinteger(L, v[i].prefixlen);
    lua_setfield(L, -2, "prefixlen");
    if (v[i].has_gw) {
      push_addr(L, v[i].family, v[i].gw);
      lua_setfield(L, -2, "gateway");
    }
    lua_pushstring(L, v[i].iface);
    lua_setfield(L, -2, "iface");
    lua_pushinteger(L, v[i].metric);
    lua_setfield(L, -2, "metric");
    lua_rawseti(L, -2, i + 1);
  }
  free(v);
  return 1;
}

/* ---- preparing packets to send ---------------------------------------------------- */

/* prepare(p, l2, iface, need_route) -> packet (p, or a filled copy),
   route iface | nil, msg */
static int l_prepare(lua_State *L) {
  sf_pkt *p = lsf_parsed(L, 1), *q;
  int l2 = lua_toboolean(L, 2), need_route = lua_toboolean(L, 4);
  const char *iface = luaL_optstring(L, 3, NULL);
  sf_prep pr;
  char err[SF_CAP_ERRLEN];
  if (sf_prep_look(p, l2, iface, need_route, &pr, err, sizeof err)) {
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
  }
  if (!sf_prep_changes(&pr)) {
    lua_pushvalue(L, 1);
  } else {
    q = lsf_newpacket_store(L, p->len + 64);
    if (sf_pkt_copy(q, p) != SF_OK || sf_prep_apply(q, &pr) != SF_OK)
      return luaL_error(L, "cannot fill in the packet's addresses");
    lsf_track(L, -1, q);
  }
  if (pr.route.iface[0]) lua_pushstring(L, pr.route.iface);
  else lua_pushnil(L);
  return 2;
}

/* reversed(p) -> a copy of p turned around (sf_reverse): p:reversed() */
static int l_reversed(lua_State *L) {
  sf_pkt *p = lsf_parsed(L, 1), *q;
  q = lsf_newpacket_store(L, p->len);
  if (sf_pkt_copy(q, p) != SF_OK || sf_reverse(q) != SF_OK) return luaL_error(L, "not enough memory");
  lsf_track(L, -1, q);
  return 1;
}

/* ---- senders -------------------------------------------------------------------------- */

typedef struct lsender {
  int fd;
  int family;            /* 0: frames */
  unsigned scope;        /* the bound interface's index (IPv6 link-local) */
  char iface[64];
  lsf_loop *lp;
} lsender;

static lsender *checksender(lua_State *L, int idx) {
  lsender *s = (lsender *)luaL_checkudata(L, idx, LSF_SENDER);
  if (s->fd < 0) luaL_error(L, "attempt to use a closed sender");
  return s;
}

/* sender_open(kind, iface) -> sender | nil, msg: kind "l2", "ip4", "ip6" */
static int l_sender_open(lua_State *L) {
  static const char *const kinds[] = {"l2", "ip4", "ip6", NULL};
  int kind = luaL_checkoption(L, 1, NULL, kinds);
  const char *iface = luaL_optstring(L, 2, NULL);
  char err[SF_CAP_ERRLEN];
  lsender *s = (lsender *)lua_newuserdatauv(L, sizeof *s, 0);
  memset(s, 0, sizeof *s);
  s->fd = -1;
  luaL_setmetatable(L, LSF_SENDER);
  s->lp = lsf_getloop(L);
  s->family = kind == 0 ? 0 : kind == 1 ? AF_INET : AF_INET6;
  if (iface) {
    snprintf(s->iface, sizeof s->iface, "%s", iface);
    s->scope = if_nametoindex(iface);
  }
  if (kind == 0 && !iface) return luaL_argerror(L, 2, "an interface is needed");
  s->fd = kind == 0 ? sf_l2_open(iface, err, sizeof err)
                    : sf_l3_open(s->family, iface, err, sizeof err);
  if (s->fd < 0) {
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
  }
  return 1;
}

static int sender_close(lua_State *L) {
  lsender *s = (lsender *)luaL_checkudata(L, 1, LSF_SENDER);
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  return 0;
}

/* the bytes to send of list[i] (checksums and lengths done) */
static void buf_of(lua_State *L, lsender *s, int list, lua_Integer i, sf_sendbuf *b) {
  sf_pkt *p;
  lua_rawgeti(L, list, i);
  p = lsf_checkpacket(L, -1);
  if ((p->flags & SF_P_DIRTY) && sf_finalize(p) != SF_OK)
    luaL_error(L, "packet %d cannot be built", (int)i);
  lsf_track(L, -1, p);
  lua_pop(L, 1);  /* the list keeps it */
  b->d = p->data;
  b->n = p->len;
  b->family = s->family;
  b->scope = s->scope;
  if (s->family && p->len && (p->data[0] >> 4) == 6) b->family = AF_INET6;
  else if (s->family && p->len && (p->data[0] >> 4) == 4) b->family = AF_INET;
}

/* why b did not go (e: errno), naming the interface it would leave by */
static void send_failure(const lsender *s, const sf_sendbuf *b, int e, char *err) {
  const char *iface = s->iface[0] ? s->iface : NULL;
  sf_route r;
  char ignored[SF_CAP_ERRLEN];
  if (!iface && b->family && b->n >= 40 &&
      sf_route_get(b->family, b->d + (b->family == AF_INET ? 16 : 24), &r, ignored,
                   sizeof ignored) == 0)
    iface = r.iface;
  sf_send_error(e, b->n, iface, err, SF_CAP_ERRLEN);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Wait until the monotonic time at (ns): the loop runs (other sources go
   on, Ctrl-C is seen) until the last few milliseconds, which are slept
   exactly.  0, or -1 if Ctrl-C or a callback's error ended the wait (*rc
   says which). */
static int wait_until(lua_State *L, lsf_loop *lp, int64_t at, int *rc) {
  int64_t d = at - now_ns();
  struct timespec ts;
  if (d > 5000000) {
    int expired = 0;
    uv_timer_t *t = lsf_deadline(lp, (double)(d - 2000000) / 1e9, &expired);
    *rc = LSF_RUN_MORE;
    while (!expired && (*rc = lsf_loop_run(L, lp, UV_RUN_ONCE)) >= LSF_RUN_IDLE) {}
    lsf_deadline_cancel(t);
    if (*rc < LSF_RUN_IDLE) return -1;
  }
  ts.tv_sec = (time_t)(at / 1000000000);
  ts.tv_nsec = (long)(at % 1000000000);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
  return 0;
}

typedef struct pacing {
  double inter;          /* seconds between packets */
  double rate;           /* packets per second */
  int realtime;          /* as the packets' timestamps say */
  int64_t t0, first_ns;
  lua_Integer k;         /* packets sent so far */
} pacing;

static int64_t due(const pacing *pc, const sf_pkt *p) {
  if (pc->realtime) return pc->t0 + (p->time_ns - pc->first_ns);
  if (pc->rate > 0) return pc->t0 + (int64_t)((double)pc->k * 1e9 / pc->rate);
  return pc->t0 + (int64_t)((double)pc->k * pc->inter * 1e9);
}

#define SEND_BATCH 256

/* s:send(list, count, inter, rate_pps, realtime) -> sent | nil, msg, sent,
   whether the interface is gone (count 0: until Ctrl-C) */
static int sender_send(lua_State *L) {
  lsender *s = checksender(L, 1);
  lua_Integer n, count = luaL_optinteger(L, 3, 1), rep, i, sent = 0;
  pacing pc = {luaL_optnumber(L, 4, 0), luaL_optnumber(L, 5, 0), lua_toboolean(L, 6), 0, 0, 0};
  int paced = pc.inter > 0 || pc.rate > 0 || pc.realtime, rc = LSF_RUN_MORE;
  sf_sendbuf bufs[SEND_BATCH];
  char err[SF_CAP_ERRLEN];
  luaL_checktype(L, 2, LUA_TTABLE);
  n = luaL_len(L, 2);
  pc.t0 = now_ns();
  if (n > 0) {
    lua_rawgeti(L, 2, 1);
    pc.first_ns = lsf_checkpacket(L, -1)->time_ns;
    lua_pop(L, 1);
  }
  for (rep = 0; n > 0 && (count == 0 || rep < count); rep++) {
    for (i = 1; i <= n;) {
      int k = 0, got;
      if (paced) {
        lua_rawgeti(L, 2, i);
        if (wait_until(L, s->lp, due(&pc, lsf_checkpacket(L, -1)), &rc)) goto stopped;
        lua_pop(L, 1);
      }
      for (; i <= n && k < (paced ? 1 : SEND_BATCH); i++, k++) buf_of(L, s, 2, i, &bufs[k]);
      got = sf_send_batch(s->fd, bufs, k);
      sent += got;
      pc.k += got;
      if (got < k) {
        int e = errno;
        send_failure(s, &bufs[got], e, err);
        luaL_pushfail(L);
        lua_pushstring(L, err);
        lua_pushinteger(L, sent);
        lua_pushboolean(L, e == ENETDOWN || e == ENODEV || e == ENXIO);  /* gone */
        return 4;
      }
    }
    if (count == 0 && lsf_loop_take_interrupt(s->lp)) break;
  }
  lua_pushinteger(L, sent);
  return 1;
stopped:
  if (rc == LSF_RUN_INTERRUPTED && lsf_loop_take_interrupt(s->lp)) {
    lua_pushinteger(L, sent);
    return 1;
  }
  lsf_loop_check(L, s->lp, rc);
  return 0;
}

/* ---- send and match: sr() ------------------------------------------------------------ */

typedef struct srun {
  lua_State *L;
  llive *lv;
  sf_match *m;
  int list, answers, debug, reqmap;  /* stack indices */
  int multi;
  int resp;              /* the Lua copy of the packet being matched, or 0 */
  const uint8_t *d;      /* the packet being matched */
  uint32_t caplen, wirelen;
  int64_t ns;
  lua_Integer remaining;
  int failed;            /* a Lua callback's error waits in the registry */
} srun;

static void resp_copy(srun *r) {
  if (!r->resp) {
    push_captured(r->L, r->d, r->caplen, r->wirelen, r->ns, r->lv->linktype);
    r->resp = lua_gettop(r->L);
  }
}

/* A Lua callback failed inside the engine's matching: keep its error (on
   top, popped) and raise it once the engine is done. */
static void keep_error(srun *r) {
  if (!r->failed) {
    r->failed = 1;
    lua_rawsetp(r->L, LUA_REGISTRYINDEX, &r->failed);
  } else {
    lua_pop(r->L, 1);
  }
}

/* a CustomLayer's answers(resp_layer, req_layer), asked by the engine */
static int host_answers(void *ud, const sf_pkt *req, int rli, const sf_pkt *resp, int pli) {
  srun *r = (srun *)ud;
  lua_State *L = r->L;
  int v = -1;
  (void)resp;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &answers_key);
  if (lua_rawgeti(L, -1, req->layers[rli].proto) != LUA_TFUNCTION) {
    lua_pop(L, 2);
    return -1;
  }
  lua_pop(L, 2);
  resp_copy(r);  /* below the call's values */
  lua_rawgetp(L, LUA_REGISTRYINDEX, &answers_key);
  lua_rawgeti(L, -1, req->layers[rli].proto);
  lua_getfield(L, r->resp, "layer");
  lua_pushvalue(L, r->resp);
  lua_pushinteger(L, pli + 1);
  lua_call(L, 2, 1);
  lua_rawgetp(L, r->reqmap, req);
  lua_getfield(L, -1, "layer");
  lua_insert(L, -2);
  lua_pushinteger(L, rli + 1);
  lua_call(L, 2, 1);
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) {  /* answers(resp layer, req layer) */
    keep_error(r);
    lua_pop(L, 1);
    return 0;
  }
  v = lua_toboolean(L, -1);
  lua_pop(L, 2);
  return v;
}

/* debug_match: fn(candidate, request index, why or nil) */
static void explain(void *ud, uint32_t tag, const char *why) {
  srun *r = (srun *)ud;
  lua_pushvalue(r->L, r->debug);
  lua_pushvalue(r->L, r->resp);
  lua_pushinteger(r->L, tag);
  if (why) lua_pushstring(r->L, why);
  else lua_pushnil(r->L);
  if (lua_pcall(r->L, 3, 0, 0) != LUA_OK) keep_error(r);
}

static void record(srun *r, uint32_t tag) {
  lua_State *L = r->L;
  resp_copy(r);
  if (!r->multi) {
    lua_pushvalue(L, r->resp);
    lua_rawseti(L, r->answers, tag);
    sf_match_remove(r->m, tag);
    r->remaining--;
    return;
  }
  if (lua_rawgeti(L, r->answers, tag) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawseti(L, r->answers, tag);
    r->remaining--;  /* answered at least once */
  }
  lua_pushvalue(L, r->resp);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  lua_pop(L, 1);
}

#define MAX_TAGS 64

static void match_one(void *ud, const uint8_t *d, uint32_t caplen, uint32_t wirelen,
                      int64_t ns) {
  srun *r = (srun *)ud;
  sf_pkt p;
  uint32_t tags[MAX_TAGS];
  int n, i, top = lua_gettop(r->L);
  luaL_checkstack(r->L, 16, "sr");
  sf_pkt_init(&p);
  sf_pkt_borrow(&p, d, caplen);
  p.linktype = r->lv->linktype;
  r->d = d;
  r->caplen = caplen;
  r->wirelen = wirelen;
  r->ns = ns;
  r->resp = 0;
  sf_pkt_parse(&p);
  if (r->debug) {
    resp_copy(r);
    sf_match_explain(r->m, &p, explain, r);
  }
  n = sf_match_find(r->m, &p, tags, MAX_TAGS);
  for (i = 0; i < n; i++) record(r, tags[i]);
  sf_pkt_free(&p);
  lua_settop(r->L, top);
}

static void read_answers(srun *r) {
  r->lv->reading++;
  while (sf_live_read(r->lv->h, 64, match_one, r) > 0) {}
  r->lv->reading--;
}

/* Run the loop until the capture is readable or the deadline passes (the
   poll stays started for the whole sr: one epoll change, not two a wait). */
static int wait_readable(srun *r, const int *expired, int *rc) {
  llive *lv = r->lv;
  lv->ready = 0;
  if (!lv->poll && start_poll(lv)) return -1;
  if (!uv_is_active((uv_handle_t *)lv->poll)) uv_poll_start(lv->poll, UV_READABLE, on_readable);
  while (!lv->ready && !*expired && (*rc = lsf_loop_run(r->L, lv->lp, UV_RUN_ONCE)) >= LSF_RUN_IDLE) {}
  return *rc < LSF_RUN_IDLE ? -1 : 0;
}

/* the time it went, for round trips (a prepared packet is sr's own) */
static void stamp(lua_State *L, int list, lua_Integer i) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  lua_rawgeti(L, list, i);
  lsf_checkpacket(L, -1)->time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
  lua_pop(L, 1);
}

static int send_one(lua_State *L, srun *r, lsender *s, lua_Integer i, char *err) {
  sf_sendbuf b;
  buf_of(L, s, r->list, i, &b);
  stamp(L, r->list, i);
  if (sf_send_batch(s->fd, &b, 1) == 1) return 0;
  send_failure(s, &b, errno, err);
  return -1;
}

/* sr(capture, sender, list, answers, timeout, inter, multi, debug) ->
   answered count, interrupted.  answers[i] is list[i]'s answer (a list of
   them if multi).  The packets in list are prepared and parsed. */
static int l_sr(lua_State *L) {
  srun r;
  lsender *s;
  lua_Integer n, i;
  double timeout = luaL_optnumber(L, 5, -1), inter = luaL_optnumber(L, 6, 0);
  int expired = 0, rc = LSF_RUN_MORE, stopped = 0;
  uv_timer_t *t = NULL;
  int64_t t0;
  char err[SF_CAP_ERRLEN];
  memset(&r, 0, sizeof r);
  r.L = L;
  r.lv = checklive(L, 1);
  s = checksender(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  luaL_checktype(L, 4, LUA_TTABLE);
  r.list = 3;
  r.answers = 4;
  r.multi = lua_toboolean(L, 7);
  r.debug = lua_isfunction(L, 8) ? 8 : 0;
  lua_settop(L, 8);
  lua_newtable(L);  /* request pointer -> packet, for the answers hook */
  r.reqmap = lua_gettop(L);
  r.m = sf_match_new();
  if (!r.m) return luaL_error(L, "not enough memory");
  sf_match_hook(r.m, host_answers, &r);
  n = luaL_len(L, 3);
  for (i = 1; i <= n; i++) {
    sf_pkt *p;
    lua_rawgeti(L, 3, i);
    p = lsf_parsed(L, -1);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, r.reqmap, p);
    lua_pop(L, 1);
    if (sf_match_add(r.m, p, (uint32_t)i) != SF_OK) {
      sf_match_free(r.m);
      return luaL_error(L, "not enough memory");
    }
  }
  r.remaining = n;
  t0 = now_ns();
  for (i = 1; i <= n && !stopped; i++) {
    if (inter > 0 && i > 1 && wait_until(L, s->lp, t0 + (int64_t)((double)(i - 1) * inter * 1e9), &rc))
      stopped = 1;
    else if (send_one(L, &r, s, i, err)) {
      sf_match_free(r.m);
      return luaL_error(L, "%s", err);
    } else {
      read_answers(&r);
    }
  }
  if (!stopped && timeout >= 0) t = lsf_deadline(r.lv->lp, timeout, &expired);
  while (!stopped && !r.failed && (r.multi || r.remaining > 0) && !expired) {
    read_answers(&r);
    if ((!r.multi && r.remaining == 0) || expired) break;
    if (wait_readable(&r, &expired, &rc)) stopped = 1;
  }
  read_answers(&r);
  lsf_deadline_cancel(t);
  if (r.lv->poll) uv_poll_stop(r.lv->poll);
  sf_match_free(r.m);
  if (r.failed) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &r.failed);
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &r.failed);
    return lua_error(L);
  }
  if (stopped && !(rc == LSF_RUN_INTERRUPTED && lsf_loop_take_interrupt(r.lv->lp)))
    lsf_loop_check(L, r.lv->lp, rc);
  lua_pushinteger(L, n - r.remaining);
  lua_pushboolean(L, stopped);
  return 2;
}

/* answers(resp, req) -> true | false, why: does resp answer req, as sr()
   decides; same_hash tells whether sr() would look (hashret agrees) */
static int l_answers(lua_State *L) {
  srun r;
  sf_pkt *resp = lsf_parsed(L, 1), *req = lsf_parsed(L, 2);
  char why[256];
  int yes;
  memset(&r, 0, sizeof r);
  r.L = L;
  r.resp = 1;
  lua_settop(L, 2);
  lua_newtable(L);
  r.reqmap = 3;
  lua_pushvalue(L, 2);
  lua_rawsetp(L, r.reqmap, req);
  yes = sf_answers(resp, req, host_answers, &r, why, sizeof why);
  if (r.failed) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &r.failed);
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &r.failed);
    return lua_error(L);
  }
  lua_pushboolean(L, yes);
  lua_pushstring(L, yes ? "" : why);
  lua_pushboolean(L, sf_hashret(resp) == sf_hashret(req));
  return 3;
}

/* set_answers(proto id, fn|nil): a CustomLayer's answers hook */
static int l_set_answers(lua_State *L) {
  lua_Integer id = luaL_checkinteger(L, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &answers_key);
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, id);
  return 0;
}

/* ---- the module -------------------------------------------------------------------- */

void lsf_open_capture(lua_State *L) {
  static const luaL_Reg live_methods[] = {
    {"next", live_next}, {"on_packet", live_on_packet}, {"halt", live_halt},
    {"drain", live_drain}, {"stats", live_stats}, {"info", live_info},
    {"setfilter", live_setfilter}, {"close", live_close}, {"closed", live_closed},
    {NULL, NULL}
  };
  static const luaL_Reg sender_methods[] = {
    {"send", sender_send}, {"close", sender_close}, {NULL, NULL}
  };
  static const luaL_Reg bpf_methods[] = {{"match", bpf_match}, {NULL, NULL}};
  static const luaL_Reg live_meta[] = {{"__gc", live_close}, {"__close", live_close}, {NULL, NULL}};
  static const luaL_Reg sender_meta[] = {{"__gc", sender_close}, {"__close", sender_close}, {NULL, NULL}};
  static const luaL_Reg bpf_meta[] = {{"__gc", bpf_gc}, {"__close", bpf_gc}, {NULL, NULL}};
  static const luaL_Reg fns[] = {
    {"live_open", l_live_open}, {"check_filter", l_check_filter}, {"bpf", l_bpf},
    {"interfaces", l_interfaces}, {"interface", l_interface},
    {"iface_addr", l_iface_addr}, {"route", l_route}, {"route_table", l_route_table},
    {"prepare", l_prepare}, {"reversed", l_reversed}, {"sender_open", l_sender_open}, {"sr", l_sr},
    {"set_answers", l_set_answers}, {"answers", l_answers}, {NULL, NULL}
  };
  lsf_class(L, LSF_LIVE, live_meta, live_methods);
  lsf_class(L, LSF_SENDER, sender_meta, sender_methods);
  lsf_class(L, LSF_BPF, bpf_meta, bpf_methods);
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &answers_key);
  lsf_open_loop(L);
  luaL_setfuncs(L, fns, 0);
}
