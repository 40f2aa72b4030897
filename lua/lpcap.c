/*
 * lpcap.c -- capture files in Lua: PcapReader, PcapWriter, rdpcap, wrpcap,
 * wrpcapng.  The formats live in core/io; this file converts.
 *
 * Packets read from a mapped file borrow their bytes from the mapping: a
 * small "mapping" userdata holds a reference to it, and each packet keeps
 * that userdata as its user value (as a packet made from a Lua string
 * keeps the string), so the file stays mapped while any packet lives,
 * even after the reader is closed.  Changing a packet copies its bytes
 * first (copy-on-write in the engine).  Streamed packets are copied.
 *
 * Readers and writers follow liolib: one function closes for close(),
 * __close and __gc, and a closed object is a clean error to use.  A
 * writer's file appears when it is closed (core/io writes a temporary
 * file beside it); an error that leaves a <close> block, or any failure
 * of wrpcap, discards it and leaves the old file as it was.
 *
 * The functions that open files return nil, message: their stdlib
 * wrappers (stackforge.capture) raise it at the caller's line, and check
 * options first, so the option reading here only converts.
 */
#include <stdio.h>
#include <string.h>

#include "../core/filter/filter.h"
#include "../core/filter/pread.h"
#include "../core/io/io.h"
#include "lsf.h"



/* Raise msg at the line of the Lua code that called the running C
   function (level 1): a capture error is the caller's. */
static int raise_here(lua_State *L, const char *msg) {
  luaL_where(L, 1);
  lua_pushstring(L, msg);
  lua_concat(L, 2);
  return lua_error(L);
}

/* nil, msg: the stdlib wrapper raises it at its caller's line */
static int fail_msg(lua_State *L, const char *msg) {
  luaL_pushfail(L);
  lua_pushstring(L, msg);
  return 2;
}

/* ---- mappings ------------------------------------------------------------ */

static int mapping_gc(lua_State *L) {
  sf_map **m = (sf_map **)luaL_checkudata(L, 1, LSF_MAPPING);
  sf_map_release(*m);
  *m = NULL;
  return 0;
}

void lsf_push_mapping(lua_State *L, sf_map *map) {
  sf_map **m = (sf_map **)lua_newuserdatauv(L, sizeof *m, 0);
  *m = sf_map_retain(map);
  luaL_setmetatable(L, LSF_MAPPING);
}

/* ---- reader options ------------------------------------------------------ */

/* The reader options in the table at idx (checked by stackforge.capture's
   READER_OPTIONS); none when idx is not a table. */
void lsf_reader_options(lua_State *L, int idx, sf_ropts *o) {
  o->strict = 0;
  if (!lua_istable(L, idx)) return;
  o->strict = lua_getfield(L, idx, "strict") != LUA_TNIL && lua_toboolean(L, -1);
  lua_pop(L, 1);
}

/* ---- readers ----------------------------------------------------------------- */

enum { R_OPEN, R_DONE, R_CLOSED };

typedef struct lreader {
  sf_reader *r;          /* NULL once done or closed */
  int state;
  int format, nano;      /* kept for the properties after the end */
  int32_t linktype;
  uint32_t snaplen;
  lua_Integer count;     /* packets delivered */
  lua_Integer warnings;  /* counted, once the file is let go */
  uint64_t frames;       /* records read: the next packet's frame number - 1 */
  sf_filter *filter;     /* the program at user value 3, or NULL */
  sf_pkt scratch;        /* a record parsed for the filter */
  sf_pread *pr;          /* threads= with a filter: they filter, r idles */
  sf_filter *filters[256];  /* theirs (the list at user value 3) */
} lreader;

static lreader *checkreader(lua_State *L, int idx) {
  lreader *lr = (lreader *)luaL_checkudata(L, idx, LSF_READER);
  if (lr->state == R_CLOSED) luaL_error(L, "attempt to use a closed PcapReader");
  return lr;
}

/* Let go of the file (the reader is at idx); its warnings stay readable:
   the count in the struct, the first message in user value 2. */
static void reader_release(lua_State *L, int idx, lreader *lr, int state) {
  const char *first;
  if (lr->r) {
    lr->warnings = (lua_Integer)sf_reader_warnings(lr->r, &first);
    if (first) {
      lua_pushstring(L, first);
      lua_setiuservalue(L, idx, 2);
    }
    if (lr->pr) lr->warnings = (lua_Integer)sf_pread_warnings(lr->pr, &first);
    if (lr->pr && first) {
      lua_pushstring(L, first);
      lua_setiuservalue(L, idx, 2);
    }
    sf_reader_close(lr->r);
  }
  sf_pread_close(lr->pr);
  lr->pr = NULL;
  lr->r = NULL;
  lr->state = state;
  lr->filter = NULL;  /* the program may go with the reader's user value 3 */
  sf_pkt_free(&lr->scratch);
}

/* filter=FilterProgram in the options table at idx (stackforge.dfilter
   compiles filter strings): kept as user value 3 of the reader on top */
static void filter_option(lua_State *L, int idx, lreader *lr) {
  if (!lua_istable(L, idx)) return;
  if (lua_getfield(L, idx, "filter") == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  lr->filter = lsf_checkfilter(L, -1);
  lua_setiuservalue(L, -2, 3);
}

static const sf_pread_hooks pread_hooks = {lsf_thread_work, NULL, NULL};

/* threads=N with filters={program...} (one per thread, stackforge.capture
   makes them): the records found by N threads (sf_pread); the list
   replaces the program as user value 3, the pread's mapping the reader's
   as user value 1.  One thread when N is 1 or the capture is one chunk. */
static int threads_option(lua_State *L, int idx, lreader *lr, const char *path) {
  char err[600];
  sf_ropts o;
  int i, n = 0, threads = 1;
  if (!lua_istable(L, idx)) return 1;
  if (lua_getfield(L, idx, "threads") != LUA_TNIL)
    threads = (int)lsf_check_range(L, -1, "threads", 1, 256);
  lua_pop(L, 1);
  if (threads < 2 || lua_getfield(L, idx, "filters") != LUA_TTABLE) {
    if (threads >= 2) lua_pop(L, 1);
    return 1;
  }
  for (i = 0; i < threads && i < 256; i++, n++) {
    if (lua_geti(L, -1, i + 1) == LUA_TNIL) break;
    lr->filters[i] = lsf_checkfilter(L, -1);
    lua_pop(L, 1);
  }
  lsf_reader_options(L, idx, &o);
  lr->pr = n >= 2 ? sf_pread_open(path, &o, lr->filters, n, &pread_hooks, err, sizeof err) : NULL;
  if (!lr->pr) {
    lua_pop(L, 1);
    if (n >= 2 && err[0]) return lua_pushstring(L, err), 0;
    return 1;
  }
  lua_setiuservalue(L, -2, 3);
  lsf_push_mapping(L, sf_pread_map(lr->pr));
  lua_setiuservalue(L, -2, 1);
  return 1;
}

/* Pushes a reader for path, or nothing with the OS or format error on
   the stack (returns NULL then). */
static lreader *open_reader(lua_State *L, const char *path, int optidx) {
  char err[600];
  sf_ropts o;
  lreader *lr = (lreader *)lua_newuserdatauv(L, sizeof *lr, 3);
  memset(lr, 0, sizeof *lr);
  sf_pkt_init(&lr->scratch);
  lr->state = R_CLOSED;  /* until open: __gc has nothing to do */
  luaL_setmetatable(L, LSF_READER);
  if (!(lr->r = sf_reader_open(path, err, sizeof err))) {
    lua_pop(L, 1);
    lua_pushstring(L, err);
    return NULL;
  }
  lsf_reader_options(L, optidx, &o);
  sf_reader_apply(lr->r, &o);
  lr->state = R_OPEN;
  lr->format = sf_reader_format(lr->r);
  lr->nano = sf_reader_nanosecond(lr->r);
  lr->linktype = sf_reader_linktype(lr->r);
  lr->snaplen = sf_reader_snaplen(lr->r);
  if (sf_reader_map(lr->r)) {
    lsf_push_mapping(L, sf_reader_map(lr->r));
    lua_setiuservalue(L, -2, 1);
  }
  return lr;
}

/* The packet of a record: its bytes borrowed from the mapping userdata
   at mapidx (which the packet keeps), or copied when mapidx is 0 (the
   record is transient: a stream). */
sf_pkt *lsf_push_record(lua_State *L, int mapidx, const sf_rec *rec) {
  sf_pkt *p;
  if (mapidx) {
    mapidx = lua_absindex(L, mapidx);
    p = lsf_newpacket(L);
    lua_pushvalue(L, mapidx);
    lua_setiuservalue(L, -2, 1);  /* the packet keeps the mapping */
    sf_pkt_borrow(p, rec->data, rec->caplen);
  } else {
    p = lsf_newpacket_store(L, rec->caplen);
    sf_pkt_borrow(p, rec->data, rec->caplen);
    if (sf_pkt_writable(p) != SF_OK) luaL_error(L, "not enough memory");
    lsf_track(L, -1, p);
  }
  p->linktype = rec->linktype;
  p->time_ns = rec->time_ns;
  p->wirelen = rec->wirelen;
  p->interface_id = rec->interface_id;
  if (rec->comment) {
    lua_pushlstring(L, rec->comment, rec->comment_len);
    lsf_set_comment(L, -2, -1);
    lua_pop(L, 1);
  }
  return p;
}

/* A record's packet, for the reader at ridx (its mapping: user value 1). */
static void push_record(lua_State *L, int ridx, lreader *lr, const sf_rec *rec) {
  if (!sf_reader_map(lr->r)) {
    lsf_push_record(L, 0, rec);
    return;
  }
  lua_getiuservalue(L, ridx, 1);
  lsf_push_record(L, -1, rec);
  lua_remove(L, -2);
}

/* Does the record pass the reader's filter?  Parsed in the scratch
   packet: only packets that pass become Lua values. */
static int record_passes(lua_State *L, lreader *lr, const sf_rec *rec) {
  sf_pkt *p = &lr->scratch;
  lsf_host h;
  int pass;
  if (!lr->filter) return 1;
  if (sf_pkt_of_rec(p, rec) != SF_OK) return 0;
  p->frame = lr->frames;
  lsf_enter(L, &h);  /* Lua protocols' layouts run on L */
  sf_pkt_parse(p);
  pass = sf_filter_run(lr->filter, p);
  lsf_leave(&h);
  lsf_raise_kept(&h);
  return pass;
}

/* The next record that passes the filter: SF_IO_REC, SF_IO_EOF or
   SF_IO_ERR; frames counts every record read. */
static int next_record(lua_State *L, lreader *lr, sf_rec *rec) {
  int rc;
  if (lr->pr) {  /* the threads filtered; a protocol defined in Lua: here */
    uint64_t frame;
    lsf_host h;
    lsf_enter(L, &h);
    rc = sf_pread_next(lr->pr, rec, &frame);
    lsf_leave(&h);
    lsf_raise_kept(&h);
    if (rc == SF_IO_REC) lr->frames = frame;
    return rc;
  }
  while ((rc = sf_reader_next(lr->r, rec)) == SF_IO_REC) {
    lr->frames++;
    if (record_passes(L, lr, rec)) break;
  }
  return rc;
}

static const char *reader_error(const lreader *lr) {
  return lr->pr ? sf_pread_error(lr->pr) : sf_reader_error(lr->r);
}

/* the packet of a record that passed, numbered */
static void deliver(lua_State *L, int ridx, lreader *lr, const sf_rec *rec) {
  push_record(L, ridx, lr, rec);
  ((sf_pkt *)lua_touserdata(L, -1))->frame = lr->frames;
  lr->count++;
}

/* Push the next packet and return 1; at the end push nil and return 0;
   on damage push the message and return -1. */
static int read_one(lua_State *L, int ridx, lreader *lr) {
  sf_rec rec;
  int rc;
  if (!lr->r) {
    lua_pushnil(L);
    return 0;
  }
  rc = next_record(L, lr, &rec);
  if (rc == SF_IO_REC) {
    deliver(L, ridx, lr, &rec);
    return 1;
  }
  if (rc == SF_IO_ERR) {
    lua_pushstring(L, reader_error(lr));
    return -1;
  }
  reader_release(L, ridx, lr, R_DONE);  /* the end: free the file now, not at GC */
  lua_pushnil(L);
  return 0;
}

/* core.PcapReader(path [, opts]) -> reader, or nil, message */
static int lpcap_reader(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lreader *lr = open_reader(L, path, 2);
  if (!lr) return fail_msg(L, lua_tostring(L, -1));
  filter_option(L, 2, lr);
  if (!threads_option(L, 2, lr, path)) return fail_msg(L, lua_tostring(L, -1));
  return 1;
}

/* r:read() -> Packet, or nil at the end; also r() for `for p in r do`.
   A closure over the reader metatable (upvalue 1): the type check of every
   packet read is a comparison, not luaL_checkudata's lookup by name. */
static int reader_read(lua_State *L) {
  lreader *lr = (lreader *)lua_touserdata(L, 1);
  if (lr && lua_getmetatable(L, 1) && lua_rawequal(L, -1, lua_upvalueindex(1))) {
    lua_pop(L, 1);
    if (lr->state == R_CLOSED) luaL_error(L, "attempt to use a closed PcapReader");
  } else {
    lr = checkreader(L, 1);  /* raises */
  }
  if (read_one(L, 1, lr) < 0) return raise_here(L, lua_tostring(L, -1));
  return 1;
}

/* r:close(); __close and __gc too: closing twice is harmless */
static int reader_close(lua_State *L) {
  lreader *lr = (lreader *)luaL_checkudata(L, 1, LSF_READER);
  reader_release(L, 1, lr, R_CLOSED);
  lua_pushnil(L);
  lua_setiuservalue(L, 1, 1);  /* the mapping lives on in its packets only */
  return 0;
}

static const char *format_name(int f) {
  return f == SF_FMT_PCAPNG ? "pcapng" : "pcap";
}

static void push_warnings(lua_State *L, const lreader *lr) {
  if (lr->pr) lua_pushinteger(L, (lua_Integer)sf_pread_warnings(lr->pr, NULL));
  else lua_pushinteger(L, lr->r ? (lua_Integer)sf_reader_warnings(lr->r, NULL) : lr->warnings);
}

/* The first warning's message: the reader's while it is open. */
static void push_warning(lua_State *L, const lreader *lr) {
  const char *first = NULL;
  if (lr->pr && sf_pread_warnings(lr->pr, &first)) lua_pushstring(L, first);
  else if (!lr->pr && lr->r && sf_reader_warnings(lr->r, &first)) lua_pushstring(L, first);
  else lua_getiuservalue(L, 1, 2);
}

static int reader_index(lua_State *L) {
  lreader *lr = (lreader *)luaL_checkudata(L, 1, LSF_READER);
  const char *k = luaL_checkstring(L, 2);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;  /* method */
  if (strcmp(k, "closed") == 0) lua_pushboolean(L, lr->state == R_CLOSED);
  else if (lr->state == R_CLOSED) return luaL_error(L, "attempt to use a closed PcapReader");
  else if (strcmp(k, "linktype") == 0) lua_pushinteger(L, lr->linktype);
  else if (strcmp(k, "format") == 0) lua_pushstring(L, format_name(lr->format));
  else if (strcmp(k, "snaplen") == 0) lua_pushinteger(L, lr->snaplen);
  else if (strcmp(k, "nanosecond") == 0) lua_pushboolean(L, lr->nano);
  else if (strcmp(k, "count") == 0) lua_pushinteger(L, lr->count);
  else if (strcmp(k, "warnings") == 0) push_warnings(L, lr);
  else if (strcmp(k, "warning") == 0) push_warning(L, lr);
  else return luaL_error(L, "PcapReader has no field '%s' (fields: closed, count, format, "
                         "linktype, nanosecond, snaplen, warning, warnings)", k);
  return 1;
}

static int reader_tostring(lua_State *L) {
  lreader *lr = (lreader *)luaL_checkudata(L, 1, LSF_READER);
  if (lr->state == R_CLOSED) lua_pushliteral(L, "PcapReader (closed)");
  else lua_pushfstring(L, "PcapReader (%s, link type %d, %d packets read)",
                       format_name(lr->format), (int)lr->linktype, (int)lr->count);
  return 1;
}

/* core.rdpcap(path [, {count=N, strict=, filter=}]) -> {Packet...}, or that and
   the damage message (the good packets first), or nil, message when the
   file cannot be opened.  stackforge.capture decides what to raise. */
static int lpcap_rdpcap(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer max = -1, n = 0;
  int ridx, tidx;
  lreader *lr;
  if (lua_istable(L, 2)) {
    if (lua_getfield(L, 2, "count") != LUA_TNIL) max = lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  if (!(lr = open_reader(L, path, 2))) return fail_msg(L, lua_tostring(L, -1));
  filter_option(L, 2, lr);
  if (!threads_option(L, 2, lr, path)) return fail_msg(L, lua_tostring(L, -1));
  ridx = lua_gettop(L);
  lua_newtable(L);
  tidx = lua_gettop(L);
  while (max < 0 || n < max) {
    sf_rec rec;
    int rc = next_record(L, lr, &rec);
    if (rc == SF_IO_EOF) break;
    if (rc == SF_IO_ERR) {
      lua_pushstring(L, reader_error(lr));
      reader_release(L, ridx, lr, R_CLOSED);
      return 2;  /* packets, message */
    }
    deliver(L, ridx, lr, &rec);
    lua_rawseti(L, tidx, ++n);
  }
  reader_release(L, ridx, lr, R_CLOSED);
  return 1;
}

/* ---- writers ------------------------------------------------------------------- */

typedef struct lwriter {
  sf_writer *w;          /* NULL once closed */
  int format;
} lwriter;

static lwriter *checkwriter(lua_State *L, int idx) {
  lwriter *lw = (lwriter *)luaL_checkudata(L, idx, LSF_WRITER);
  if (!lw->w) luaL_error(L, "attempt to use a closed PcapWriter");
  return lw;
}

/* Options (checked by stackforge.capture) at idx into o; format given by
   the function (wrpcapng) wins. */
static void writer_options(lua_State *L, int idx, int format, sf_wopts *o) {
  memset(o, 0, sizeof *o);
  o->format = format;
  o->linktype = -1;
  o->nanosecond = -1;
  if (!lua_istable(L, idx)) return;
  if (lua_getfield(L, idx, "format") == LUA_TSTRING && !format)
    o->format = strcmp(lua_tostring(L, -1), "pcapng") == 0 ? SF_FMT_PCAPNG : SF_FMT_PCAP;
  if (lua_getfield(L, idx, "linktype") != LUA_TNIL)
    o->linktype = (int32_t)lua_tointeger(L, -1);
  if (lua_getfield(L, idx, "nanosecond") != LUA_TNIL)
    o->nanosecond = lua_toboolean(L, -1);
  if (lua_getfield(L, idx, "snaplen") != LUA_TNIL)
    o->snaplen = (uint32_t)lua_tointeger(L, -1);
  o->append = lua_getfield(L, idx, "append") != LUA_TNIL && lua_toboolean(L, -1);
  lua_pop(L, 5);
}

/* Pushes a writer, or nothing with the error message (returns NULL). */
static lwriter *open_writer(lua_State *L, const char *path, int optidx,
                            int format) {
  char err[600];
  sf_wopts o;
  lwriter *lw;
  writer_options(L, optidx, format, &o);
  lw = (lwriter *)lua_newuserdatauv(L, sizeof *lw, 0);
  lw->w = NULL;
  luaL_setmetatable(L, LSF_WRITER);
  if (!(lw->w = sf_writer_open(path, &o, err, sizeof err))) {
    lua_pop(L, 1);
    lua_pushstring(L, err);
    return NULL;
  }
  lw->format = o.format ? o.format : SF_FMT_PCAP;
  return lw;
}

/* Where packets come from, for messages: "bad argument #2 to 'wrpcap'". */
typedef struct wsource {
  const char *fname;
  int arg;
} wsource;

static int not_a_packet(lua_State *L, const wsource *src, const char *where, int idx) {
  lua_pushfstring(L, "bad argument #%d to '%s' (%s is a %s, expected a Packet)",
                  src->arg, src->fname, where, luaL_typename(L, idx));
  return 1;
}

/* Write the packet at idx with its metadata: 0, or 1 with the message
   pushed. */
static int write_packet(lua_State *L, lwriter *lw, int idx) {
  sf_pkt *p = lsf_testpacket(L, idx);
  sf_rec rec;
  size_t clen = 0;
  if ((p->flags & SF_P_DIRTY) || lsf_volatile(p))  /* changed: lengths and checksums first */
    lsf_finalize(L, idx, p);
  rec.data = p->data;
  rec.caplen = (uint32_t)p->len;
  rec.wirelen = p->wirelen > p->len ? p->wirelen : (uint32_t)p->len;
  rec.time_ns = p->time_ns;
  rec.linktype = sf_linktype_of(p);
  rec.interface_id = p->interface_id;
  lsf_push_comment(L, idx);
  rec.comment = lua_tolstring(L, -1, &clen);  /* NULL when none */
  rec.comment_len = rec.comment ? clen : 0;
  rec.offset = 0;
  lua_pop(L, 1);
  if (sf_writer_write(lw->w, &rec) == SF_OK) return 0;
  lua_pushstring(L, sf_writer_error(lw->w));
  return 1;
}

/* A list: a table, or a PacketList (its # and [i] are metamethods). */
static int write_list(lua_State *L, lwriter *lw, int idx, const wsource *src) {
  lua_Integer i, n = luaL_len(L, idx);
  for (i = 1; i <= n; i++) {
    lua_geti(L, idx, i);
    if (!lsf_testpacket(L, -1)) {
      char where[40];
      snprintf(where, sizeof where, "item %lld", (long long)i);
      return not_a_packet(L, src, where, -1);
    }
    if (write_packet(L, lw, -1)) return 1;
    lua_pop(L, 1);
  }
  return 0;
}

/* A PcapReader: its damage is ours to report, at the caller's line. */
static int write_reader(lua_State *L, lwriter *lw, int idx) {
  lreader *lr = checkreader(L, idx);
  int rc;
  while ((rc = read_one(L, idx, lr)) > 0) {
    if (write_packet(L, lw, -1)) return 1;
    lua_pop(L, 1);
  }
  return rc < 0;  /* the message is on top */
}

/* A function: called until it gives nil; its own errors go through. */
static int write_iterator(lua_State *L, lwriter *lw, int idx, const wsource *src) {
  for (;;) {
    lua_pushvalue(L, idx);
    lua_call(L, 0, 1);
    if (lua_isnil(L, -1)) break;
    if (!lsf_testpacket(L, -1)) return not_a_packet(L, src, "a value of the iterator", -1);
    if (write_packet(L, lw, -1)) return 1;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return 0;
}

/* Write what is at idx: a Packet, a list of them, a PcapReader or an
   iterator function.  0, or 1 with the message (file errors, what is not
   a packet) pushed. */
static int write_any(lua_State *L, lwriter *lw, int idx, const wsource *src) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) == LUA_TTABLE) return write_list(L, lw, idx, src);
  if (luaL_testudata(L, idx, LSF_READER)) return write_reader(L, lw, idx);
  if (lua_isfunction(L, idx)) return write_iterator(L, lw, idx, src);
  if (!lsf_testpacket(L, idx)) {
    lua_pushfstring(L, "bad argument #%d to '%s' (Packet, list of packets, "
                    "PcapReader or iterator expected, got %s)", src->arg,
                    src->fname, luaL_typename(L, idx));
    return 1;
  }
  return write_packet(L, lw, idx);
}

/* core.PcapWriter(path [, opts]) -> writer, or nil, message */
static int lpcap_writer(lua_State *L) {
  if (!open_writer(L, luaL_checkstring(L, 1), 2, 0)) return fail_msg(L, lua_tostring(L, -1));
  return 1;
}

/* w:write(p or {p...} or reader or iterator) -> w */
static int writer_write(lua_State *L) {
  static const wsource src = {"write", 1};
  lwriter *lw = checkwriter(L, 1);
  luaL_checkany(L, 2);
  if (write_any(L, lw, 2, &src)) return raise_here(L, lua_tostring(L, -1));
  lua_settop(L, 1);
  return 1;
}

static int writer_flush(lua_State *L) {
  lwriter *lw = checkwriter(L, 1);
  if (sf_writer_flush(lw->w) != SF_OK) return raise_here(L, sf_writer_error(lw->w));
  lua_settop(L, 1);
  return 1;
}

/* Close: put the file in place, or (discard) leave the old one as it
   was.  0, or 1 with the message pushed.  Closing twice is harmless. */
static int writer_finish(lua_State *L, lwriter *lw, int discard) {
  char err[600];
  sf_writer *w = lw->w;
  lw->w = NULL;
  if (!w) return 0;
  if (discard) {
    sf_writer_abort(w);
    return 0;
  }
  if (sf_writer_close(w, err, sizeof err) != SF_OK) {
    lua_pushstring(L, err);
    return 1;
  }
  return 0;
}

/* w:close() raises a failed flush (a full disk) */
static int writer_close(lua_State *L) {
  lwriter *lw = (lwriter *)luaL_checkudata(L, 1, LSF_WRITER);
  if (writer_finish(L, lw, 0)) return raise_here(L, lua_tostring(L, -1));
  return 0;
}

/* __close(w, err): an error leaving the block discards what was written */
static int writer_tbc(lua_State *L) {
  lwriter *lw = (lwriter *)luaL_checkudata(L, 1, LSF_WRITER);
  if (writer_finish(L, lw, !lua_isnil(L, 2))) return raise_here(L, lua_tostring(L, -1));
  return 0;
}

/* __gc cannot raise: what was written is kept unless writing failed */
static int writer_gc(lua_State *L) {
  writer_finish(L, (lwriter *)luaL_checkudata(L, 1, LSF_WRITER), 0);
  return 0;
}

static int writer_index(lua_State *L) {
  lwriter *lw = (lwriter *)luaL_checkudata(L, 1, LSF_WRITER);
  const char *k = luaL_checkstring(L, 2);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;  /* method */
  if (strcmp(k, "closed") == 0) lua_pushboolean(L, lw->w == NULL);
  else if (strcmp(k, "format") == 0) lua_pushstring(L, format_name(lw->format));
  else if (strcmp(k, "count") == 0)
    lua_pushinteger(L, lw->w ? (lua_Integer)sf_writer_count(lw->w) : 0);
  else return luaL_error(L, "PcapWriter has no field '%s' (fields: closed, count, format)", k);
  return 1;
}

static int writer_tostring(lua_State *L) {
  lwriter *lw = (lwriter *)luaL_checkudata(L, 1, LSF_WRITER);
  if (!lw->w) lua_pushliteral(L, "PcapWriter (closed)");
  else lua_pushfstring(L, "PcapWriter (%s, %d packets written)",
                       format_name(lw->format), (int)sf_writer_count(lw->w));
  return 1;
}

/* The body of a whole-file write, run protected: (writer, pkts, name) ->
   nothing, or the message of what went wrong. */
static int write_body(lua_State *L) {
  wsource src;
  src.fname = lua_tostring(L, 3);
  src.arg = 2;
  return write_any(L, (lwriter *)lua_touserdata(L, 1), 2, &src);
}

/* Write a whole capture: pkts as for w:write.  Nothing, or nil, message;
   any failure (an iterator's error too, raised again) discards the file. */
static int write_file(lua_State *L, int format, const char *fname) {
  const char *path = luaL_checkstring(L, 1);
  lwriter *lw;
  int widx;
  luaL_checkany(L, 2);
  if (!(lw = open_writer(L, path, 3, format))) return fail_msg(L, lua_tostring(L, -1));
  widx = lua_gettop(L);
  lua_pushcfunction(L, write_body);
  lua_pushvalue(L, widx);
  lua_pushvalue(L, 2);
  lua_pushstring(L, fname);
  if (lua_pcall(L, 3, 1, 0) != LUA_OK) {
    writer_finish(L, lw, 1);
    return lua_error(L);
  }
  if (lua_isstring(L, -1)) {
    writer_finish(L, lw, 1);
    return fail_msg(L, lua_tostring(L, -1));
  }
  if (writer_finish(L, lw, 0)) return fail_msg(L, lua_tostring(L, -1));
  return 0;
}

/* core.wrpcap(path, pkts [, opts]): ".pcapng" -> pcapng */
static int lpcap_wrpcap(lua_State *L) { return write_file(L, 0, "wrpcap"); }
static int lpcap_wrpcapng(lua_State *L) { return write_file(L, SF_FMT_PCAPNG, "wrpcapng"); }

/* ---- registration ---------------------------------------------------------------- */

static const luaL_Reg reader_methods[] = {
  {"read", NULL}, {"close", reader_close}, {NULL, NULL}  /* read: below */
};

static const luaL_Reg writer_methods[] = {
  {"write", writer_write}, {"flush", writer_flush}, {"close", writer_close},
  {NULL, NULL}
};

static const luaL_Reg funcs[] = {
  {"PcapReader", lpcap_reader}, {"PcapWriter", lpcap_writer},
  {"rdpcap", lpcap_rdpcap}, {"wrpcap", lpcap_wrpcap},
  {"wrpcapng", lpcap_wrpcapng}, {NULL, NULL}
};

/* Readers: read and __call tell a reader by its metatable (an upvalue). */
static void reader_class(lua_State *L) {
  static const luaL_Reg meta[] = {
    {"__index", reader_index}, {"__close", reader_close}, {"__gc", reader_close},
    {"__tostring", reader_tostring}, {NULL, NULL}
  };
  lsf_class(L, LSF_READER, meta, reader_methods);
  luaL_getmetatable(L, LSF_READER);
  lua_getfield(L, -1, "__index");
  lua_getupvalue(L, -1, 1);  /* the methods */
  lua_pushvalue(L, -3);
  lua_pushcclosure(L, reader_read, 1);
  lua_setfield(L, -2, "read");
  lua_pop(L, 2);
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, reader_read, 1);
  lua_setfield(L, -2, "__call");  /* for p in reader do */
  lua_pop(L, 1);
}

void lsf_open_pcap(lua_State *L) {
  static const luaL_Reg writer_meta[] = {
    {"__index", writer_index}, {"__close", writer_tbc}, {"__gc", writer_gc},
    {"__tostring", writer_tostring}, {NULL, NULL}
  };
  static const luaL_Reg mapping_meta[] = {{"__gc", mapping_gc}, {NULL, NULL}};
  reader_class(L);
  lsf_class(L, LSF_WRITER, writer_meta, writer_methods);
  lsf_class(L, LSF_MAPPING, mapping_meta, NULL);
  luaL_setfuncs(L, funcs, 0);
}
