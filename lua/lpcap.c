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
 * __close and __gc, and a closed object is a clean error to use.
 */
#include <string.h>
#include <strings.h>

#include "../core/io/io.h"
#include "lsf.h"

#define LSF_READER "stackforge.PcapReader"
#define LSF_WRITER "stackforge.PcapWriter"
#define LSF_MAPPING "stackforge.mapping"

static const char comments_key = 'c';  /* registry: weak {packet -> comment} */

/* ---- packet comments ----------------------------------------------------- */

/* Comments are rare: a weak table keeps them without growing every packet. */
void lsf_push_comment(lua_State *L, int pidx) {
  pidx = lua_absindex(L, pidx);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &comments_key) != LUA_TTABLE) return;
  lua_pushvalue(L, pidx);
  lua_rawget(L, -2);
  lua_remove(L, -2);  /* the table */
}

void lsf_set_comment(lua_State *L, int pidx, int vidx) {
  pidx = lua_absindex(L, pidx);
  vidx = lua_absindex(L, vidx);
  if (!lua_isnil(L, vidx)) luaL_checktype(L, vidx, LUA_TSTRING);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &comments_key);
  lua_pushvalue(L, pidx);
  lua_pushvalue(L, vidx);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

/* Raise msg as it is: capture errors name their file, not a Lua line. */
static int raise_msg(lua_State *L, const char *msg) {
  lua_pushstring(L, msg);
  return lua_error(L);
}

/* ---- mappings ------------------------------------------------------------ */

static int mapping_gc(lua_State *L) {
  sf_map **m = (sf_map **)luaL_checkudata(L, 1, LSF_MAPPING);
  sf_map_release(*m);
  *m = NULL;
  return 0;
}

static void push_mapping(lua_State *L, sf_map *map) {
  sf_map **m = (sf_map **)lua_newuserdatauv(L, sizeof *m, 0);
  *m = sf_map_retain(map);
  luaL_setmetatable(L, LSF_MAPPING);
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
} lreader;

static lreader *checkreader(lua_State *L, int idx) {
  lreader *lr = (lreader *)luaL_checkudata(L, idx, LSF_READER);
  if (lr->state == R_CLOSED) luaL_error(L, "attempt to use a closed PcapReader");
  return lr;
}

static void reader_release(lreader *lr, int state) {
  if (lr->r) sf_reader_close(lr->r);
  lr->r = NULL;
  lr->state = state;
}

/* strict=false in the options table at idx (if any) */
static int strict_option(lua_State *L, int idx) {
  int strict = 1;
  if (lua_istable(L, idx)) {
    if (lua_getfield(L, idx, "strict") != LUA_TNIL) strict = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  return strict;
}

/* Pushes a reader for path; raises the OS or format error. */
static lreader *open_reader(lua_State *L, const char *path, int strict) {
  char err[600];
  lreader *lr = (lreader *)lua_newuserdatauv(L, sizeof *lr, 1);
  memset(lr, 0, sizeof *lr);
  lr->state = R_CLOSED;  /* until open: __gc has nothing to do */
  luaL_setmetatable(L, LSF_READER);
  if (!(lr->r = sf_reader_open(path, err, sizeof err)))
    raise_msg(L, err);
  lr->state = R_OPEN;
  sf_reader_set_strict(lr->r, strict);
  lr->format = sf_reader_format(lr->r);
  lr->nano = sf_reader_nanosecond(lr->r);
  lr->linktype = sf_reader_linktype(lr->r);
  lr->snaplen = sf_reader_snaplen(lr->r);
  if (sf_reader_map(lr->r)) {
    push_mapping(L, sf_reader_map(lr->r));
    lua_setiuservalue(L, -2, 1);
  }
  return lr;
}

/* The packet of a record: borrowed from the mapping at the reader's user
   value when there is one, else copied. */
static void push_record(lua_State *L, int ridx, lreader *lr, const sf_rec *rec) {
  sf_pkt *p;
  if (sf_reader_map(lr->r)) {  /* the mapping is the reader's user value */
    p = lsf_newpacket(L);
    lua_getiuservalue(L, ridx, 1);
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
}

/* Push the next packet, or nil at the end; raise on damage. */
static int read_one(lua_State *L, int ridx, lreader *lr) {
  sf_rec rec;
  int rc;
  if (!lr->r) {
    lua_pushnil(L);
    return 0;
  }
  rc = sf_reader_next(lr->r, &rec);
  if (rc == SF_IO_REC) {
    push_record(L, ridx, lr, &rec);
    lr->count++;
    return 1;
  }
  if (rc == SF_IO_ERR) return raise_msg(L, sf_reader_error(lr->r));
  reader_release(lr, R_DONE);  /* the end: free the file now, not at GC */
  lua_pushnil(L);
  return 0;
}

/* PcapReader(path [, {strict=false}]) */
static int lpcap_reader(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  open_reader(L, path, strict_option(L, 2));
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
  read_one(L, 1, lr);
  return 1;
}

/* r:close(); __close and __gc too: closing twice is harmless */
static int reader_close(lua_State *L) {
  lreader *lr = (lreader *)luaL_checkudata(L, 1, LSF_READER);
  reader_release(lr, R_CLOSED);
  lua_pushnil(L);
  lua_setiuservalue(L, 1, 1);  /* the mapping lives on in its packets only */
  return 0;
}

static const char *format_name(int f) {
  return f == SF_FMT_PCAPNG ? "pcapng" : "pcap";
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
  else return luaL_error(L, "PcapReader has no field '%s'", k);
  return 1;
}

static int reader_tostring(lua_State *L) {
  lreader *lr = (lreader *)luaL_checkudata(L, 1, LSF_READER);
  if (lr->state == R_CLOSED) lua_pushliteral(L, "PcapReader (closed)");
  else lua_pushfstring(L, "PcapReader (%s, link type %d, %d packets read)",
                       format_name(lr->format), (int)lr->linktype, (int)lr->count);
  return 1;
}

/* rdpcap(path [, {count=N, partial=true, strict=false}]) -> {Packet...}
   [, error].  partial: on damage, return the good packets and the message
   instead of raising. */
static int lpcap_rdpcap(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer max = -1, n = 0;
  int partial = 0, ridx, tidx;
  lreader *lr;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    if (lua_getfield(L, 2, "count") != LUA_TNIL) {
      max = luaL_checkinteger(L, -1);
      luaL_argcheck(L, max >= 0, 2, "count must be >= 0");
    }
    partial = lua_getfield(L, 2, "partial") != LUA_TNIL && lua_toboolean(L, -1);
    lua_pop(L, 2);
  }
  lr = open_reader(L, path, strict_option(L, 2));
  ridx = lua_gettop(L);
  lua_newtable(L);
  tidx = lua_gettop(L);
  while (max < 0 || n < max) {
    sf_rec rec;
    int rc = sf_reader_next(lr->r, &rec);
    if (rc == SF_IO_EOF) break;
    if (rc == SF_IO_ERR) {
      lua_pushstring(L, sf_reader_error(lr->r));
      reader_release(lr, R_CLOSED);
      if (!partial) return lua_error(L);
      return 2;  /* packets, message */
    }
    push_record(L, ridx, lr, &rec);
    lua_rawseti(L, tidx, ++n);
  }
  reader_release(lr, R_CLOSED);
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

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* Options at idx into o; the format from the name unless given. */
static void writer_options(lua_State *L, int idx, const char *path, int format,
                           sf_wopts *o) {
  o->format = format ? format : ends_with(path, ".pcapng") ? SF_FMT_PCAPNG
                                                           : SF_FMT_PCAP;
  o->linktype = -1;
  o->snaplen = 0;
  o->nanosecond = -1;
  if (!lua_isnoneornil(L, idx)) {
    luaL_checktype(L, idx, LUA_TTABLE);
    if (lua_getfield(L, idx, "format") != LUA_TNIL && !format) {
      const char *f = lua_tostring(L, -1);
      if (!f || (strcmp(f, "pcap") != 0 && strcmp(f, "pcapng") != 0))
        luaL_argerror(L, idx, "format must be \"pcap\" or \"pcapng\"");
      o->format = strcmp(f, "pcapng") == 0 ? SF_FMT_PCAPNG : SF_FMT_PCAP;
    }
    if (lua_getfield(L, idx, "linktype") != LUA_TNIL) {
      lua_Integer lt = luaL_checkinteger(L, -1);
      luaL_argcheck(L, lt >= 0 && lt <= 0x7fffffff, idx, "bad linktype");
      o->linktype = (int32_t)lt;
    }
    if (lua_getfield(L, idx, "nanosecond") != LUA_TNIL)
      o->nanosecond = lua_toboolean(L, -1);
    if (lua_getfield(L, idx, "snaplen") != LUA_TNIL) {
      lua_Integer sl = luaL_checkinteger(L, -1);
      luaL_argcheck(L, sl >= 0 && sl <= 0x7fffffff, idx, "bad snaplen");
      o->snaplen = (uint32_t)sl;
    }
    lua_pop(L, 4);
  }
  if (o->nanosecond < 0) o->nanosecond = o->format == SF_FMT_PCAPNG;  /* exact */
}

/* Pushes a writer; raises the OS error. */
static lwriter *open_writer(lua_State *L, const char *path, int optidx,
                            int format) {
  char err[600];
  sf_wopts o;
  lwriter *lw;
  writer_options(L, optidx, path, format, &o);
  lw = (lwriter *)lua_newuserdatauv(L, sizeof *lw, 0);
  lw->w = NULL;
  lw->format = o.format;
  luaL_setmetatable(L, LSF_WRITER);
  if (!(lw->w = sf_writer_open(path, &o, err, sizeof err))) raise_msg(L, err);
  return lw;
}

/* Write the packet at idx with its metadata. */
static void write_packet(lua_State *L, lwriter *lw, int idx) {
  sf_pkt *p = lsf_checkpacket(L, idx);
  sf_rec rec;
  size_t clen = 0;
  if (p->flags & SF_P_DIRTY) {  /* changed: lengths and checksums first */
    int rc = sf_finalize(p);
    lsf_track(L, idx, p);
    if (rc != SF_OK) lsf_raise(L, rc, NULL, 0, -1, 0);
  }
  rec.data = p->data;
  rec.caplen = (uint32_t)p->len;
  rec.wirelen = p->wirelen > p->len ? p->wirelen : (uint32_t)p->len;
  rec.time_ns = p->time_ns;
  rec.linktype = p->linktype;
  rec.interface_id = p->interface_id;
  lsf_push_comment(L, idx);
  rec.comment = lua_tolstring(L, -1, &clen);  /* NULL when none */
  rec.comment_len = rec.comment ? clen : 0;
  rec.offset = 0;
  if (sf_writer_write(lw->w, &rec) != SF_OK)
    raise_msg(L, sf_writer_error(lw->w));
  lua_pop(L, 1);
}

/* Write what is at idx: a Packet, a list of them, or an iterator (a
   function or a PcapReader) giving packets until nil. */
static void write_any(lua_State *L, lwriter *lw, int idx) {
  lua_Integer i, n;
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) == LUA_TTABLE) {
    n = (lua_Integer)lua_rawlen(L, idx);
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, idx, i);
      write_packet(L, lw, -1);
      lua_pop(L, 1);
    }
  } else if (lua_isfunction(L, idx) || luaL_testudata(L, idx, LSF_READER)) {
    for (;;) {
      lua_pushvalue(L, idx);
      lua_call(L, 0, 1);
      if (lua_isnil(L, -1)) break;
      write_packet(L, lw, -1);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  } else {
    write_packet(L, lw, idx);
  }
}

/* PcapWriter(path [, {format=, linktype=, nanosecond=, snaplen=}]) */
static int lpcap_writer(lua_State *L) {
  open_writer(L, luaL_checkstring(L, 1), 2, 0);
  return 1;
}

/* w:write(p or {p...}) -> w */
static int writer_write(lua_State *L) {
  lwriter *lw = checkwriter(L, 1);
  luaL_checkany(L, 2);
  write_any(L, lw, 2);
  lua_settop(L, 1);
  return 1;
}

static int writer_flush(lua_State *L) {
  lwriter *lw = checkwriter(L, 1);
  if (sf_writer_flush(lw->w) != SF_OK)
    return raise_msg(L, sf_writer_error(lw->w));
  lua_settop(L, 1);
  return 1;
}

/* Close; 0 or the message pushed.  Closing twice is harmless. */
static int writer_finish(lua_State *L, lwriter *lw) {
  char err[600];
  sf_writer *w = lw->w;
  lw->w = NULL;
  if (w && sf_writer_close(w, err, sizeof err) != SF_OK) {
    lua_pushstring(L, err);
    return 1;
  }
  return 0;
}

/* w:close() and __close raise a failed flush (a full disk); __gc cannot */
static int writer_close(lua_State *L) {
  lwriter *lw = (lwriter *)luaL_checkudata(L, 1, LSF_WRITER);
  if (writer_finish(L, lw)) return lua_error(L);
  return 0;
}

static int writer_gc(lua_State *L) {
  writer_finish(L, (lwriter *)luaL_checkudata(L, 1, LSF_WRITER));
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
  else return luaL_error(L, "PcapWriter has no field '%s'", k);
  return 1;
}

static int writer_tostring(lua_State *L) {
  lwriter *lw = (lwriter *)luaL_checkudata(L, 1, LSF_WRITER);
  if (!lw->w) lua_pushliteral(L, "PcapWriter (closed)");
  else lua_pushfstring(L, "PcapWriter (%s, %d packets written)",
                       format_name(lw->format), (int)sf_writer_count(lw->w));
  return 1;
}

/* write a whole capture: pkts as for w:write */
static int write_file(lua_State *L, int format) {
  const char *path = luaL_checkstring(L, 1);
  lwriter *lw;
  luaL_checkany(L, 2);
  lw = open_writer(L, path, 3, format);
  write_any(L, lw, 2);
  if (writer_finish(L, lw)) return lua_error(L);
  return 0;
}

/* wrpcap(path, pkts [, opts]): ".pcapng" -> pcapng */
static int lpcap_wrpcap(lua_State *L) { return write_file(L, 0); }
static int lpcap_wrpcapng(lua_State *L) { return write_file(L, SF_FMT_PCAPNG); }

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

/* A metatable whose __index looks in methods first (an upvalue). */
static void new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                      lua_CFunction index) {
  luaL_newmetatable(L, name);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_pushcclosure(L, index, 1);
  lua_setfield(L, -2, "__index");
}

void lsf_open_pcap(lua_State *L) {
  new_class(L, LSF_READER, reader_methods, reader_index);
  lua_getfield(L, -1, "__index");  /* the methods: its upvalue */
  lua_getupvalue(L, -1, 1);
  lua_pushvalue(L, -3);
  lua_pushcclosure(L, reader_read, 1);
  lua_setfield(L, -2, "read");
  lua_pop(L, 2);
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, reader_read, 1);
  lua_setfield(L, -2, "__call");  /* for p in reader do */
  lua_pushcfunction(L, reader_close);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, reader_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, reader_tostring);
  lua_setfield(L, -2, "__tostring");
  new_class(L, LSF_WRITER, writer_methods, writer_index);
  lua_pushcfunction(L, writer_close);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, writer_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, writer_tostring);
  lua_setfield(L, -2, "__tostring");
  luaL_newmetatable(L, LSF_MAPPING);
  lua_pushcfunction(L, mapping_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 3);
  lua_newtable(L);  /* comments: weak keys, so packets die freely */
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &comments_key);
  luaL_setfuncs(L, funcs, 0);
}
