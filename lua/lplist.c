/*
 * lplist.c -- the packet store behind a PacketList read from a capture
 * (stdlib/stackforge/packetlist.lua): the file mapped once and an index
 * of its records, so that a list of 350,000 packets costs the file's
 * bytes and 40 bytes a packet.  A Packet is made for a record when the
 * list is indexed (it borrows the mapping, as PcapReader's packets do);
 * what works on every packet of the list (summaries, display filters,
 * counts by protocol) reads the records in C through one scratch packet.
 *
 * Files that cannot be mapped (pipes, gzip) have no store: their lists
 * hold their packets (core.rdpcap).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/filter/filter.h"
#include "../core/io/io.h"
#include "../core/summary.h"
#include "lsf.h"

#define LSF_STORE "stackforge.PacketStore"

typedef struct srec {
  const uint8_t *data;   /* in the mapping (user value 1) */
  uint32_t caplen, wirelen;
  int64_t time_ns;
  int32_t linktype;
  uint32_t interface_id;
  uint32_t frame;        /* 1-based number in the file */
} srec;

typedef struct store {
  srec *r;
  size_t n, cap;
} store;

static store *checkstore(lua_State *L, int idx) {
  return (store *)luaL_checkudata(L, idx, LSF_STORE);
}

static int store_gc(lua_State *L) {
  store *s = checkstore(L, 1);
  free(s->r);
  s->r = NULL;
  s->n = s->cap = 0;
  return 0;
}

static int store_add(store *s, const sf_rec *rec, uint64_t frame) {
  srec *r;
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 1024;
    srec *nr = (srec *)realloc(s->r, cap * sizeof *nr);
    if (!nr) return 0;
    s->r = nr;
    s->cap = cap;
  }
  r = &s->r[s->n++];
  r->data = rec->data;
  r->caplen = rec->caplen;
  r->wirelen = rec->wirelen;
  r->time_ns = rec->time_ns;
  r->linktype = rec->linktype;
  r->interface_id = rec->interface_id;
  r->frame = (uint32_t)frame;
  return 1;
}

/* the scratch packet p over record r */
static void scratch(sf_pkt *p, const srec *r) {
  sf_pkt_borrow(p, r->data, r->caplen);
  p->linktype = r->linktype;
  p->time_ns = r->time_ns;
  p->wirelen = r->wirelen;
  p->interface_id = r->interface_id;
  p->frame = r->frame;
}

/* Does record r pass the filter?  (Parsed in p.) */
static int passes(lua_State *L, sf_filter *f, sf_pkt *p, const srec *r) {
  lsf_host h;
  int pass;
  scratch(p, r);
  lsf_enter(L, &h);
  sf_pkt_parse(p);
  pass = sf_filter_run(f, p);
  lsf_leave(&h);
  lsf_raise_kept(&h);
  return pass;
}

/* Read every record of the mapped reader r into the store at sidx (up to
   max, those the filter f passes): nil, or the damage message pushed. */
static int index_records(lua_State *L, sf_reader *r, store *s, lua_Integer max,
                         sf_filter *f) {
  sf_pkt scr;
  sf_rec rec;
  uint64_t frames = 0;
  int rc = SF_IO_EOF, ok = 1;
  sf_pkt_init(&scr);
  while ((max < 0 || (lua_Integer)s->n < max) &&
         (rc = sf_reader_next(r, &rec)) == SF_IO_REC) {
    frames++;
    if (f && !passes(L, f, &scr, &(srec){rec.data, rec.caplen, rec.wirelen,
                     rec.time_ns, rec.linktype, rec.interface_id, (uint32_t)frames}))
      continue;
    if (!(ok = store_add(s, &rec, frames))) break;
    if (rec.comment) {  /* rare: a table of them, by index */
      lua_getiuservalue(L, -1, 2);
      lua_pushlstring(L, rec.comment, rec.comment_len);
      lua_rawseti(L, -2, (lua_Integer)s->n);
      lua_pop(L, 1);
    }
  }
  sf_pkt_free(&scr);
  if (!ok) return luaL_error(L, "not enough memory");
  if (rc == SF_IO_ERR) lua_pushstring(L, sf_reader_error(r));
  else lua_pushnil(L);
  return 1;
}

/* core.PacketStore(path [, {count=, strict=, filter=}]) -> store [, damage],
   false when the file is not mapped (a pipe, gzip: read it as a list), or
   nil, message when it cannot be opened. */
static int store_open(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char err[600];
  lua_Integer max = -1;
  sf_filter *f = NULL;
  sf_reader *r;
  sf_ropts o;
  sf_map **m;
  store *s;
  if (lua_istable(L, 2)) {
    if (lua_getfield(L, 2, "count") != LUA_TNIL) max = lua_tointeger(L, -1);
    if (lua_getfield(L, 2, "filter") != LUA_TNIL) f = lsf_checkfilter(L, -1);
    lua_pop(L, 1);  /* the filter stays on the stack while used */
  }
  if (!(r = sf_reader_open(path, err, sizeof err))) {
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
  }
  lsf_reader_options(L, 2, &o);
  sf_reader_apply(r, &o);
  if (!sf_reader_map(r)) {
    sf_reader_close(r);
    lua_pushboolean(L, 0);
    return 1;
  }
  s = (store *)lua_newuserdatauv(L, sizeof *s, 2);
  memset(s, 0, sizeof *s);
  luaL_setmetatable(L, LSF_STORE);
  m = (sf_map **)lua_newuserdatauv(L, sizeof *m, 0);
  *m = sf_map_retain(sf_reader_map(r));
  luaL_setmetatable(L, LSF_MAPPING);
  lua_setiuservalue(L, -2, 1);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 2);
  index_records(L, r, s, max, f);
  sf_reader_close(r);
  return 2;  /* store, damage or nil */
}

static int store_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)checkstore(L, 1)->n);
  return 1;
}

static const srec *rec_arg(lua_State *L, store *s, int idx) {
  lua_Integer i = luaL_checkinteger(L, idx);
  luaL_argcheck(L, i >= 1 && (size_t)i <= s->n, idx, "index out of range");
  return &s->r[i - 1];
}

/* store:get(i) -> a Packet borrowing the mapping */
static int store_get(lua_State *L) {
  store *s = checkstore(L, 1);
  const srec *r = rec_arg(L, s, 2);
  sf_pkt *p = lsf_newpacket(L);
  lua_getiuservalue(L, 1, 1);
  lua_setiuservalue(L, -2, 1);  /* the packet keeps the mapping */
  scratch(p, r);
  lua_getiuservalue(L, 1, 2);
  if (lua_rawgeti(L, -1, lua_tointeger(L, 2)) == LUA_TSTRING)
    lsf_set_comment(L, -3, -1);
  lua_pop(L, 2);
  return 1;
}

/* The packet to work on for index i: the list's own (at cache, given by
   the PacketList: it may have been changed) or the record in scratch,
   parsed.  NULL when the list's entry is not a packet. */
static const sf_pkt *entry(lua_State *L, store *s, int cache, lua_Integer i,
                           sf_pkt *scr) {
  if (cache && lua_rawgeti(L, cache, i) != LUA_TNIL) {
    sf_pkt *p = lsf_testpacket(L, -1);
    if (p) {
      p = lsf_parsed(L, -1);
      if (p->flags & SF_P_DIRTY) lsf_finalize(L, -1, p);
    }
    lua_pop(L, 1);  /* the list holds it */
    return p;
  }
  if (cache) lua_pop(L, 1);
  {
    lsf_host h;
    scratch(scr, &s->r[i - 1]);
    lsf_enter(L, &h);
    sf_pkt_parse(scr);
    lsf_leave(&h);
    lsf_raise_kept(&h);
  }
  return scr;
}

/* A walk over the records asks the memory for the headers of the one
   AHEAD of it (its first two cache lines), so that they are there when
   it is dissected: the capture is far larger than the caches, and the
   first touch of each packet's bytes was a tenth of a summary's time. */
#define AHEAD 4

static void prefetch_record(const store *s, lua_Integer i) {
  const uint8_t *d = s->r[i - 1].data;
  __builtin_prefetch(d);
  __builtin_prefetch(d + 64);
}

static void add_summary(luaL_Buffer *b, const sf_pkt *p, int scapy) {
  size_t n;
  int i;
  if (!scapy) {
    for (i = 0; i < p->nlayers; i++) {
      if (i) luaL_addstring(b, " / ");
      luaL_addstring(b, sf_proto_get(p->layers[i].proto)->display);
    }
    return;
  }
  /* written in place: most lines fit the room asked for first */
  n = sf_scapy_summary(p, luaL_prepbuffsize(b, 512), 512);
  if (n >= 512) sf_scapy_summary(p, luaL_prepbuffsize(b, n + 1), n + 1);
  luaL_addsize(b, n);
}

/* store:summaries(from, to, list, scapy, numbered) -> one line a packet,
   "\n" between (numbered: Scapy's nsummary "0000 " before each) */
static int store_summaries(lua_State *L) {
  store *s = checkstore(L, 1);
  lua_Integer from = luaL_checkinteger(L, 2), to = luaL_checkinteger(L, 3), i;
  int cache = lua_istable(L, 4) ? 4 : 0, scapy = lua_toboolean(L, 5);
  int numbered = lua_toboolean(L, 6);
  luaL_Buffer b;
  sf_pkt scr;
  luaL_argcheck(L, from >= 1 && to <= (lua_Integer)s->n, 2, "range out of the list");
  sf_pkt_init(&scr);
  luaL_buffinitsize(L, &b, (size_t)(to - from + 1) * (scapy ? 96 : 32));  /* rarely grown */
  for (i = from; i <= to; i++) {
    const sf_pkt *p;
    if (i + AHEAD <= to) prefetch_record(s, i + AHEAD);
    p = entry(L, s, cache, i, &scr);
    if (i > from) luaL_addchar(&b, '\n');
    if (numbered) {
      char num[24];
      snprintf(num, sizeof num, "%04lld ", (long long)i);  /* Lua indices */
      luaL_addstring(&b, num);
    }
    if (p) add_summary(&b, p, scapy);
  }
  sf_pkt_free(&scr);
  luaL_pushresult(&b);
  return 1;
}

/* store:filter(program, list) -> {indices of the packets it passes} */
static int store_filter(lua_State *L) {
  store *s = checkstore(L, 1);
  sf_filter *f = lsf_checkfilter(L, 2);
  int cache = lua_istable(L, 3) ? 3 : 0, k = 0;
  lua_Integer i;
  sf_pkt scr;
  sf_pkt_init(&scr);
  lua_newtable(L);
  for (i = 1; i <= (lua_Integer)s->n; i++) {
    const sf_pkt *p = entry(L, s, cache, i, &scr);
    int pass;
    lsf_host h;
    if (!p) continue;
    lsf_enter(L, &h);
    pass = sf_filter_run(f, p);
    lsf_leave(&h);
    lsf_raise_kept(&h);
    if (pass) {
      lua_pushinteger(L, i);
      lua_rawseti(L, -2, ++k);
    }
  }
  sf_pkt_free(&scr);
  return 1;
}

/* store:count_layers(list, id...) -> for each protocol id, the packets
   whose first matching layer (in the order given) is of it, then the
   others: Scapy's PacketList repr counts.  Quoted layers (TCPerror) are
   not the protocol, as in Scapy. */
static int store_count(lua_State *L) {
  store *s = checkstore(L, 1);
  int cache = lua_istable(L, 2) ? 2 : 0, nid = lua_gettop(L) - 2, k, li;
  lua_Integer i, counts[16] = {0}, other = 0;
  int ids[16];
  sf_pkt scr;
  luaL_argcheck(L, nid <= 16, 19, "at most 16 protocols");
  for (k = 0; k < nid; k++) ids[k] = (int)luaL_checkinteger(L, 3 + k);
  sf_pkt_init(&scr);
  for (i = 1; i <= (lua_Integer)s->n; i++) {
    const sf_pkt *p = entry(L, s, cache, i, &scr);
    int found = 0;
    for (k = 0; p && k < nid && !found; k++)
      for (li = 0; li < p->nlayers && !found; li++)
        if (p->layers[li].proto == ids[k] && !(p->layers[li].flags & SF_L_QUOTED))
          counts[k]++, found = 1;
    if (!found) other++;
  }
  sf_pkt_free(&scr);
  for (k = 0; k < nid; k++) lua_pushinteger(L, counts[k]);
  lua_pushinteger(L, other);
  return nid + 1;
}

static const luaL_Reg store_meta[] = {
  {"__gc", store_gc}, {"__len", store_len}, {NULL, NULL}
};

static const luaL_Reg store_methods[] = {
  {"get", store_get}, {"summaries", store_summaries}, {"filter", store_filter},
  {"count_layers", store_count}, {NULL, NULL}
};

void lsf_open_plist(lua_State *L) {
  lsf_class(L, LSF_STORE, store_meta, store_methods);
  lua_pushcfunction(L, store_open);
  lua_setfield(L, -2, "PacketStore");
}
