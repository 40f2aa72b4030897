/*
 * lpool.c -- WorkerPool and parse_batch: threads, each with a Lua state
 * of its own (stdlib/stackforge/pool.lua is the Lua half; worker.lua is
 * what runs in every state).
 *
 * Threads never share a Lua state.  A pool's states are made and set up
 * on the caller's thread; pool:map loads the user's function into each,
 * again on the caller's thread (the protocol registry is only ever
 * written there, and only before the threads start), then lends each
 * state to one thread.  The capture is cut into chunks of whole records
 * (core/io/split.c); the threads take chunks in turn, run the function
 * over each record's packet (its bytes borrowed from the one mapping of
 * the file) and keep what it returns per chunk.  When every thread is
 * done, the caller's thread copies the results out of the workers'
 * states, chunk by chunk: capture order, whichever thread read what.
 *
 * Errors: a chunk that fails (the function raised, with its traceback,
 * or the capture is damaged there) makes the threads leave the chunks
 * after it and finish those before it, so the error reported is the one
 * a single thread would have met first.  While the threads run, the
 * caller's thread looks for Ctrl-C (sflua's hook) ten times a second; it
 * stops them, and is raised once they have stopped.
 *
 * parse_batch dissects the caller's own packets on threads of C alone
 * (no Lua): a packet whose custom layer wanted Lua there (a length_from,
 * a condition) is dissected again on the caller's thread.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lualib.h>

#include "../core/filter/filter.h"
#include "../core/io/io.h"
#include "../core/par/par.h"
#include "lsf.h"

#define TICK_MS 100      /* the caller looks for Ctrl-C this often */
#define STOP_EVERY 255   /* records between looks at the stop mark */
#define MAX_DEPTH 200    /* nesting of a result copied between states */
#define BATCH_MIN 2048   /* parse_batch: fewer packets are not worth threads */

static const char job_key = 'j';  /* a worker's registry: the current job */

typedef struct lpool {
  int n;
  lua_State **w;         /* the states; NULL once closed */
  double *cpu;           /* the last map: each thread's CPU seconds */
  size_t chunks;         /* the chunks of its capture */
  double scan, scan_max; /* the scan that found them: CPU seconds, all
                            threads and the longest one */
} lpool;

static lpool *checkpool(lua_State *L, int idx) {
  lpool *p = (lpool *)luaL_checkudata(L, idx, LSF_POOL);
  if (!p->w) luaL_error(L, "attempt to use a closed WorkerPool");
  return p;
}

/* ---- the states ------------------------------------------------------------- */

static int traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* package.path, package.cpath and the C loaders of package.preload (sflua
   preloads the engine) of `from`, for a new state. */
static void copy_package(lua_State *from, lua_State *to) {
  static const char *const paths[] = {"path", "cpath"};
  int i;
  lua_getglobal(from, "package");
  lua_getglobal(to, "package");
  for (i = 0; i < 2; i++) {
    lua_getfield(from, -1, paths[i]);
    if (lua_isstring(from, -1)) {
      lua_pushstring(to, lua_tostring(from, -1));
      lua_setfield(to, -2, paths[i]);
    }
    lua_pop(from, 1);
  }
  lua_getfield(from, -1, "preload");
  lua_getfield(to, -1, "preload");
  if (lua_istable(from, -1)) {
    lua_pushnil(from);
    while (lua_next(from, -2)) {
      lua_CFunction f = lua_tocfunction(from, -1);
      if (f && lua_type(from, -2) == LUA_TSTRING && !lua_getupvalue(from, -1, 1)) {
        lua_pushcfunction(to, f);
        lua_setfield(to, -2, lua_tostring(from, -2));
      }
      lua_pop(from, 1);
    }
  }
  lua_pop(from, 2);
  lua_pop(to, 2);
}

/* In a new state: require("stackforge.worker").boot(plugins). */
static int boot(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "stackforge.worker");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "boot");
  lua_pushvalue(L, 1);
  lua_call(L, 1, 0);
  return 0;
}

/* A worker's state, set up; NULL with the reason on L's stack. */
static lua_State *new_state(lua_State *L, int plugins) {
  lua_State *w = luaL_newstate();
  lua_Integer i, n = (lua_Integer)luaL_len(L, plugins);
  if (!w) {
    lua_pushliteral(L, "not enough memory");
    return NULL;
  }
  luaL_openlibs(w);
  copy_package(L, w);
  lua_pushboolean(w, 1);
  lua_setfield(w, LUA_REGISTRYINDEX, LSF_WORKER);  /* lcustom.c: adopt */
  lsf_share_heuristics(L, w);
  lua_pushcfunction(w, traceback);
  lua_pushcfunction(w, boot);
  lua_createtable(w, (int)n, 0);
  for (i = 1; i <= n; i++) {
    lua_geti(L, plugins, i);
    lua_pushstring(w, lua_tostring(L, -1));
    lua_rawseti(w, -2, i);
    lua_pop(L, 1);
  }
  if (lua_pcall(w, 1, 0, 1) != LUA_OK) {
    lua_pushstring(L, lua_tostring(w, -1));
    lua_close(w);
    return NULL;
  }
  lua_settop(w, 0);
  return w;
}

static void close_states(lpool *p) {
  int i;
  if (!p->w) return;
  for (i = 0; i < p->n; i++)
    if (p->w[i]) lua_close(p->w[i]);
  free(p->w);
  free(p->cpu);
  p->w = NULL;
  p->cpu = NULL;
}

/* core.pool_new(threads, plugins) -> WorkerPool */
static int pool_new(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  lpool *p;
  int i;
  luaL_argcheck(L, n >= 1 && n <= 1024, 1, "threads must be 1 .. 1024");
  luaL_checktype(L, 2, LUA_TTABLE);
  p = (lpool *)lua_newuserdatauv(L, sizeof *p, 0);
  memset(p, 0, sizeof *p);
  luaL_setmetatable(L, LSF_POOL);
  if (!(p->w = calloc((size_t)n, sizeof *p->w)) || !(p->cpu = calloc((size_t)n, sizeof *p->cpu)))
    return luaL_error(L, "not enough memory");
  p->n = (int)n;
  for (i = 0; i < p->n; i++)
    if (!(p->w[i] = new_state(L, 2))) {
      close_states(p);
      return lua_error(L);  /* the reason, pushed by new_state */
    }
  return 1;
}

/* close(), __gc and __close: the states go; closing twice is harmless */
static int pool_close(lua_State *L) {
  close_states((lpool *)luaL_checkudata(L, 1, LSF_POOL));
  return 0;
}

/* pool.stats: the last map's {cpu = {seconds of each thread}, chunks = n,
   scan_cpu =, scan_longest =}, for seeing how the work was shared
   (bench/parallel_bench.lua) */
static void push_stats(lua_State *L, const lpool *p) {
  int i;
  lua_createtable(L, 0, 2);
  lua_createtable(L, p->n, 0);
  for (i = 0; i < p->n; i++) {
    lua_pushnumber(L, p->cpu[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "cpu");
  lua_pushinteger(L, (lua_Integer)p->chunks);
  lua_setfield(L, -2, "chunks");
  lua_pushnumber(L, p->scan);
  lua_setfield(L, -2, "scan_cpu");
  lua_pushnumber(L, p->scan_max);
  lua_setfield(L, -2, "scan_longest");
}

static int pool_index(lua_State *L) {
  lpool *p = (lpool *)luaL_checkudata(L, 1, LSF_POOL);
  const char *k = luaL_checkstring(L, 2);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;  /* a method */
  if (strcmp(k, "closed") == 0) lua_pushboolean(L, p->w == NULL);
  else if (strcmp(k, "threads") == 0) lua_pushinteger(L, checkpool(L, 1)->n);
  else if (strcmp(k, "stats") == 0) push_stats(L, checkpool(L, 1));
  else return luaL_error(L, "WorkerPool has no field '%s' (fields: threads, closed, "
                         "stats; methods: map, parse_batch, close)", k);
  return 1;
}

static int pool_tostring(lua_State *L) {
  lpool *p = (lpool *)luaL_checkudata(L, 1, LSF_POOL);
  if (!p->w) lua_pushliteral(L, "WorkerPool (closed)");
  else lua_pushfstring(L, "WorkerPool (%d threads)", p->n);
  return 1;
}

/* ---- a map job ---------------------------------------------------------------- */

/* What the threads share; a userdata of the caller's, so an error raised
   while the results are copied leaks nothing. */
typedef struct mapjob {
  lpool *pool;
  sf_split *split;
  size_t nchunks;
  atomic_size_t next;    /* the next chunk to take */
  atomic_size_t stop;    /* chunks after this one are not wanted (an error) */
  atomic_int cancel;     /* Ctrl-C: every thread leaves at its next look */
  int *owner;            /* which worker read each chunk */
  char **err;            /* each chunk's error, or NULL */
  int reduce;            /* results are folded */
  sf_filter **filter;    /* each worker's program, or NULL */
} mapjob;

static void job_free(mapjob *j) {
  size_t i;
  for (i = 0; j->err && i < j->nchunks; i++) free(j->err[i]);
  free(j->err);
  free(j->owner);
  free(j->filter);
  sf_split_close(j->split);
  memset(j, 0, sizeof *j);
}

static int job_gc(lua_State *L) {
  job_free((mapjob *)lua_touserdata(L, 1));
  return 0;
}

/* Chunk c failed with msg: keep it, and stop the chunks after c. */
static void chunk_failed(mapjob *j, size_t c, const char *msg) {
  size_t stop = atomic_load(&j->stop);
  j->err[c] = strdup(msg ? msg : "(no message)");
  while (c < stop && !atomic_compare_exchange_weak(&j->stop, &stop, c))
    ;
}

/* One chunk's run: its reader and where it is. */
typedef struct chunkrun {
  mapjob *j;
  size_t c;
  sf_reader *r;
  sf_filter *filter;
  sf_pkt scratch;        /* a record parsed for the filter */
  uint64_t frame;        /* the record being worked on, 1-based */
  int rc;                /* the reader's last answer */
  lua_Integer n;         /* results kept */
  int have;              /* reduce: the fold has a value */
} chunkrun;

/* Does the record pass the filter?  Custom layers' callbacks run on L. */
static int passes(lua_State *L, chunkrun *cr, const sf_rec *rec) {
  sf_pkt *p = &cr->scratch;
  lsf_host h;
  int pass;
  if (sf_pkt_of_rec(p, rec) != SF_OK) return 0;
  p->frame = cr->frame;
  lsf_enter(L, &h);
  sf_pkt_parse(p);
  pass = sf_filter_run(cr->filter, p);
  lsf_leave(&h);
  lsf_raise_kept(&h);
  return pass;
}

/* The result on top: kept (slot 6 the list, or slot 7 the fold). */
static void keep(lua_State *L, chunkrun *cr) {
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
  } else if (!cr->j->reduce) {
    lua_rawseti(L, 6, ++cr->n);
  } else if (!cr->have) {
    lua_replace(L, 7);
    cr->have = 1;
  } else {
    lua_pushvalue(L, 4);  /* reduce(fold, v) */
    lua_pushvalue(L, 7);
    lua_rotate(L, -3, -1);
    lua_call(L, 2, 1);
    lua_replace(L, 7);
  }
}

/* Protected: the records of one chunk through the function.  Slots: 1 the
   run, 2 the job, 3 map, 4 reduce, 5 the mapping, 6 the list, 7 the fold. */
static int chunk_body(lua_State *L) {
  chunkrun *cr = (chunkrun *)lua_touserdata(L, 1);
  const sf_chunk *ch = sf_split_chunk(cr->j->split, cr->c);
  uint64_t k = 0;
  sf_rec rec;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &job_key);
  lua_getfield(L, 2, "map");
  lua_getfield(L, 2, "reduce");
  if (sf_reader_map(cr->r)) lsf_push_mapping(L, sf_reader_map(cr->r));
  else lua_pushnil(L);  /* a stream: records are copied */
  lua_newtable(L);
  lua_pushnil(L);
  while ((cr->rc = sf_reader_next(cr->r, &rec)) == SF_IO_REC) {
    sf_pkt *p;
    cr->frame = ch->first + ++k;
    if ((k & STOP_EVERY) == 0 &&
        (atomic_load(&cr->j->stop) < cr->c || atomic_load(&cr->j->cancel)))
      break;
    if (cr->filter && !passes(L, cr, &rec)) continue;
    lua_pushvalue(L, 3);
    p = lsf_push_record(L, lua_isnil(L, 5) ? 0 : 5, &rec);
    p->frame = cr->frame;
    lua_call(L, 1, 1);
    keep(L, cr);
  }
  lua_getfield(L, 2, "results");
  if (!cr->j->reduce) lua_pushvalue(L, 6);
  else if (cr->have) lua_pushvalue(L, 7);
  else lua_pushnil(L);
  lua_rawseti(L, -2, (lua_Integer)cr->c + 1);
  return 0;
}

/* Chunk c on worker i's state. */
static void run_chunk(mapjob *j, int i, size_t c) {
  lua_State *L = j->pool->w[i];
  char err[640];
  chunkrun cr;
  memset(&cr, 0, sizeof cr);
  cr.j = j;
  cr.c = c;
  cr.filter = j->filter ? j->filter[i] : NULL;
  sf_pkt_init(&cr.scratch);
  j->owner[c] = i;
  if (!(cr.r = sf_split_reader(j->split, c, err, sizeof err))) {
    chunk_failed(j, c, err);
    return;
  }
  lua_settop(L, 0);
  lua_pushcfunction(L, traceback);
  lua_pushcfunction(L, chunk_body);
  lua_pushlightuserdata(L, &cr);
  if (lua_pcall(L, 1, 0, 1) != LUA_OK) {
    snprintf(err, sizeof err, "frame %llu: ", (unsigned long long)cr.frame);
    lua_pushstring(L, err);
    lua_insert(L, -2);
    lua_concat(L, 2);
    chunk_failed(j, c, lua_tostring(L, -1));
  } else if (cr.rc == SF_IO_ERR) {
    chunk_failed(j, c, sf_reader_error(cr.r));
  }
  lua_settop(L, 0);
  sf_pkt_free(&cr.scratch);
  sf_reader_close(cr.r);
}

static double thread_cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A thread: chunks in turn until none is left or wanted. */
static void work(void *ud, int i) {
  mapjob *j = (mapjob *)ud;
  double t0 = thread_cpu();
  size_t c;
  while ((c = atomic_fetch_add(&j->next, 1)) < j->nchunks &&
         c <= atomic_load(&j->stop) && !atomic_load(&j->cancel))
    run_chunk(j, i, c);
  j->pool->cpu[i] += thread_cpu() - t0;
}

/* In a worker: job = {map=, reduce=, results={}} from worker.load(spec). */
static int load_job(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "stackforge.worker");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "load");
  lua_pushvalue(L, 1);
  lua_call(L, 1, 3);
  lua_createtable(L, 0, 4);
  lua_pushvalue(L, -4);
  lua_setfield(L, -2, "map");
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "reduce");
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "filter");  /* the program stays alive with the job */
  lua_newtable(L);
  lua_setfield(L, -2, "results");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &job_key);
  lua_pushboolean(L, !lua_isnil(L, -2));  /* reduce given (the script's, perhaps) */
  return 1;
}

/* A table of strings and booleans, copied into a worker's state. */
static void copy_spec(lua_State *from, int idx, lua_State *to) {
  lua_newtable(to);
  lua_pushnil(from);
  while (lua_next(from, idx)) {
    if (lua_type(from, -2) == LUA_TSTRING && lua_type(from, -1) == LUA_TSTRING) {
      size_t n;
      const char *s = lua_tolstring(from, -1, &n);
      lua_pushlstring(to, s, n);
      lua_setfield(to, -2, lua_tostring(from, -2));
    }
    lua_pop(from, 1);
  }
}

/* Load the job into every worker (on this thread); the reason on L's
   stack and 0 when one fails. */
static int load_everywhere(lua_State *L, lpool *p, mapjob *j, int spec) {
  int i;
  for (i = 0; i < p->n; i++) {
    lua_State *w = p->w[i];
    lua_settop(w, 0);
    lua_pushcfunction(w, traceback);
    lua_pushcfunction(w, load_job);
    copy_spec(L, spec, w);
    if (lua_pcall(w, 1, 1, 1) != LUA_OK) {
      lua_pushstring(L, lua_tostring(w, -1));
      lua_settop(w, 0);
      return 0;
    }
    j->reduce = lua_toboolean(w, -1);
    if (j->filter) {  /* the worker's own program: one thread each */
      lua_rawgetp(w, LUA_REGISTRYINDEX, &job_key);
      lua_getfield(w, -1, "filter");
      j->filter[i] = lua_isnil(w, -1) ? NULL : lsf_checkfilter(w, -1);
    }
    lua_settop(w, 0);
  }
  return 1;
}

static int noop(lua_State *L) {
  (void)L;
  return 0;
}

/* Run the threads; the caller's thread waits, and lets Ctrl-C through
   (sflua's hook fires on a call): 1, or 0 with the error object on top
   once every thread has stopped. */
static int run_threads(lua_State *L, mapjob *j) {
  sf_gang *g = sf_gang_start(j->pool->n, work, j);
  int ok = 1;
  if (!g) {  /* no threads to be had: the first worker alone, here */
    work(j, 0);
    return 1;
  }
  while (!sf_gang_wait(g, TICK_MS)) {
    if (!ok) continue;
    lua_pushcfunction(L, noop);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
      ok = 0;
      atomic_store(&j->cancel, 1);  /* the threads leave at their next look */
    }
  }
  sf_gang_join(g);
  return ok;
}

/* ---- results, copied between states ---------------------------------------- */

static void copy_value(lua_State *from, int idx, lua_State *to, int seen, int depth);

static void copy_table(lua_State *from, int idx, lua_State *to, int seen, int depth) {
  const void *key = lua_topointer(from, idx);
  if (lua_rawgetp(to, seen, key) == LUA_TTABLE) return;  /* shared, or a cycle */
  lua_pop(to, 1);
  lua_newtable(to);
  lua_pushvalue(to, -1);
  lua_rawsetp(to, seen, key);
  lua_pushnil(from);
  while (lua_next(from, idx)) {
    copy_value(from, lua_gettop(from) - 1, to, seen, depth + 1);
    copy_value(from, lua_gettop(from), to, seen, depth + 1);
    lua_rawset(to, -3);
    lua_pop(from, 1);
  }
}

/* A Packet of the worker's, as a Packet of the caller's: its bytes copied
   (finalized first when it was changed). */
static void copy_packet(lua_State *from, sf_pkt *p, lua_State *to) {
  sf_pkt *q;
  if (p->flags & SF_P_DIRTY) {
    lsf_host h;
    int rc;
    lsf_enter(from, &h);
    rc = sf_finalize(p);
    lsf_leave(&h);
    if (rc != SF_OK || h.err[0])
      luaL_error(to, "pool:map: a changed Packet in the results cannot be built: %s",
                 h.err[0] ? h.err : "engine error");
  }
  q = lsf_newpacket_store(to, p->len);
  sf_pkt_borrow(q, p->data, p->len);
  if (sf_pkt_writable(q) != SF_OK) luaL_error(to, "not enough memory");
  lsf_track(to, -1, q);
  q->linktype = p->linktype;
  q->time_ns = p->time_ns;
  q->wirelen = p->wirelen;
  q->interface_id = p->interface_id;
  q->frame = p->frame;
}

/* The value at idx of `from`, pushed onto `to` (seen: a table of `to`
   of the tables copied so far, by address). */
static void copy_value(lua_State *from, int idx, lua_State *to, int seen, int depth) {
  sf_pkt *p;
  size_t n;
  const char *s;
  if (depth > MAX_DEPTH || !lua_checkstack(to, 8) || !lua_checkstack(from, 8))
    luaL_error(to, "pool:map: a result nests deeper than %d tables", MAX_DEPTH);
  switch (lua_type(from, idx)) {
    case LUA_TNIL: lua_pushnil(to); return;
    case LUA_TBOOLEAN: lua_pushboolean(to, lua_toboolean(from, idx)); return;
    case LUA_TNUMBER:
      if (lua_isinteger(from, idx)) lua_pushinteger(to, lua_tointeger(from, idx));
      else lua_pushnumber(to, lua_tonumber(from, idx));
      return;
    case LUA_TSTRING:
      s = lua_tolstring(from, idx, &n);
      lua_pushlstring(to, s, n);
      return;
    case LUA_TTABLE: copy_table(from, idx, to, seen, depth); return;
    default:
      if ((p = lsf_testpacket(from, idx)) != NULL) {
        copy_packet(from, p, to);
        return;
      }
      luaL_error(to, "pool:map: a result holds a %s (results are copied from the "
                 "worker's Lua state: nil, booleans, numbers, strings, Packets and "
                 "tables of them)", luaL_typename(from, idx));
  }
}

/* The list: every chunk's results in order, appended at out. */
static void collect_list(lua_State *L, mapjob *j, int out, int seen) {
  lua_Integer n = 0, i, m;
  size_t c;
  for (c = 0; c < j->nchunks; c++) {
    lua_State *w = j->pool->w[j->owner[c]];
    lua_rawgetp(w, LUA_REGISTRYINDEX, &job_key);
    lua_getfield(w, -1, "results");
    if (lua_rawgeti(w, -1, (lua_Integer)c + 1) == LUA_TTABLE) {
      m = (lua_Integer)lua_rawlen(w, -1);
      for (i = 1; i <= m; i++) {
        lua_rawgeti(w, -1, i);
        copy_value(w, lua_gettop(w), L, seen, 0);
        lua_rawseti(L, out, ++n);
        lua_pop(w, 1);
      }
    }
    lua_pushnil(w);
    lua_rawseti(w, -3, (lua_Integer)c + 1);  /* let it go */
    lua_settop(w, 0);
  }
}

/* Protected in worker 0: fold the chunks' results there, in order
   (slot 1: the results table, all chunks' values moved into it). */
static int fold(lua_State *L) {
  lua_Integer c, n = (lua_Integer)lua_tointeger(L, 2);
  int have = 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &job_key);
  lua_getfield(L, -1, "reduce");  /* slot 4 */
  lua_pushnil(L);                 /* slot 5: the fold */
  for (c = 1; c <= n; c++) {
    if (lua_rawgeti(L, 1, c) == LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    if (!have) {
      lua_replace(L, 5);
      have = 1;
      continue;
    }
    lua_pushvalue(L, 4);
    lua_pushvalue(L, 5);
    lua_rotate(L, -3, -1);
    lua_call(L, 2, 1);
    lua_replace(L, 5);
  }
  lua_pushvalue(L, 5);
  return 1;
}

/* The fold: the chunks' folds gathered into worker 0 and folded there
   (the reduce function lives in the workers), then copied out. */
static void collect_fold(lua_State *L, mapjob *j, int seen) {
  lua_State *w0 = j->pool->w[0];
  size_t c;
  lua_settop(w0, 0);
  lua_pushcfunction(w0, traceback);
  lua_pushcfunction(w0, fold);
  lua_createtable(w0, (int)j->nchunks, 0);
  for (c = 0; c < j->nchunks; c++) {
    lua_State *w = j->pool->w[j->owner[c]];
    lua_rawgetp(w, LUA_REGISTRYINDEX, &job_key);
    lua_getfield(w, -1, "results");
    if (lua_rawgeti(w, -1, (lua_Integer)c + 1) != LUA_TNIL) {
      int wseen;
      if (w == w0) {
        lua_xmove(w, w0, 1);
      } else {
        lua_newtable(w0);
        wseen = lua_gettop(w0);
        copy_value(w, lua_gettop(w), w0, wseen, 0);
        lua_remove(w0, wseen);
        lua_pop(w, 1);
      }
      lua_rawseti(w0, 3, (lua_Integer)c + 1);
    } else {
      lua_pop(w, 1);
    }
    if (w != w0) lua_settop(w, 0);
    else lua_pop(w0, 2);  /* the job and its results (under the copied value) */
  }
  lua_pushinteger(w0, (lua_Integer)j->nchunks);
  if (lua_pcall(w0, 2, 1, 1) != LUA_OK) {
    lua_pushfstring(L, "pool:map: reduce: %s", lua_tostring(w0, -1));
    lua_settop(w0, 0);
    lua_error(L);
  }
  copy_value(w0, lua_gettop(w0), L, seen, 0);
  lua_settop(w0, 0);
}

/* The first failed chunk's error, or NULL. */
static const char *first_error(const mapjob *j) {
  size_t c;
  for (c = 0; c < j->nchunks; c++)
    if (j->err[c]) return j->err[c];
  return NULL;
}

static mapjob *new_job(lua_State *L, lpool *p) {
  mapjob *j = (mapjob *)lua_newuserdatauv(L, sizeof *j, 0);
  memset(j, 0, sizeof *j);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, job_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  j->pool = p;
  return j;
}

static int split_capture(lua_State *L, mapjob *j, const char *path, int optidx) {
  char err[600];
  sf_ropts ro;
  lsf_reader_options(L, optidx, &ro);
  if (!(j->split = sf_split_open(path, &ro, j->pool->n, 0, err, sizeof err))) {
    lua_pushstring(L, err);
    return 0;
  }
  j->nchunks = sf_split_count(j->split);
  atomic_init(&j->next, 0);
  atomic_init(&j->stop, SIZE_MAX);
  atomic_init(&j->cancel, 0);
  j->owner = calloc(j->nchunks, sizeof *j->owner);
  j->err = calloc(j->nchunks, sizeof *j->err);
  if (!j->owner || !j->err) luaL_error(L, "not enough memory");
  return 1;
}

/* pool:_map(path, spec, opts) -> list or value; nil, message when the
   capture cannot be read, the function cannot be loaded or raised
   (pool.lua raises it at its caller's line). */
static int pool_map(lua_State *L) {
  lpool *p = checkpool(L, 1);
  const char *path = luaL_checkstring(L, 2);
  mapjob *j;
  int seen;
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 4);
  j = new_job(L, p);  /* slot 5 */
  lua_getfield(L, 3, "filter");
  if (!lua_isnil(L, -1) && !(j->filter = calloc((size_t)p->n, sizeof *j->filter)))
    return luaL_error(L, "not enough memory");
  lua_pop(L, 1);
  if (!load_everywhere(L, p, j, 3) || !split_capture(L, j, path, 4)) {
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;
  }
  memset(p->cpu, 0, (size_t)p->n * sizeof *p->cpu);
  p->chunks = j->nchunks;
  p->scan = sf_split_scan_cpu(j->split, &p->scan_max);
  if (!run_threads(L, j)) return lua_error(L);  /* Ctrl-C, once all stopped */
  if (first_error(j)) {
    luaL_pushfail(L);
    lua_pushfstring(L, "%s: %s", path, first_error(j));
    return 2;
  }
  lua_newtable(L);
  seen = lua_gettop(L);
  if (j->reduce) {
    collect_fold(L, j, seen);
  } else {
    lua_newtable(L);
    collect_list(L, j, lua_gettop(L), seen);
  }
  job_free(j);
  return 1;
}

/* ---- parse_batch ------------------------------------------------------------------ */

typedef struct batch {
  sf_pkt **v;
  uint8_t *again;        /* wanted Lua: dissect again on the caller's thread */
  size_t n;
  int threads;
} batch;

static void parse_share(void *ud, int i) {
  batch *b = (batch *)ud;
  size_t k, lo = b->n * (size_t)i / (size_t)b->threads,
         hi = b->n * (size_t)(i + 1) / (size_t)b->threads;
  for (k = lo; k < hi; k++) {
    unsigned long before = lsf_hostless();
    sf_pkt_parse(b->v[k]);
    if (lsf_hostless() != before) b->again[k] = 1;
  }
}

/* The list's item i as a Packet on top: itself, or a raw frame made one. */
static sf_pkt *batch_item(lua_State *L, lua_Integer i) {
  sf_pkt *p;
  int t = lua_rawgeti(L, 1, i);
  if (t == LUA_TSTRING) {
    lua_pushcfunction(L, lsf_packet_new);
    lua_insert(L, -2);
    lua_call(L, 1, 1);
  }
  if (!(p = lsf_testpacket(L, -1)))
    luaL_error(L, "parse_batch: item %d is a %s, not a Packet or a string of bytes",
               (int)i, luaL_typename(L, -1));
  return p;
}

/* core.parse_batch(list, threads) -> a list of the same Packets, dissected
   (raw strings made Packets first) */
static int parse_batch(lua_State *L) {
  lua_Integer n, i, threads = luaL_checkinteger(L, 2);
  batch b;
  sf_gang *g = NULL;
  luaL_checktype(L, 1, LUA_TTABLE);
  n = (lua_Integer)lua_rawlen(L, 1);
  lua_settop(L, 2);
  lua_createtable(L, (int)n, 0);   /* 3: the result */
  lua_newtable(L);                 /* 4: packets seen (one dissection each) */
  memset(&b, 0, sizeof b);
  b.v = lua_newuserdatauv(L, (size_t)n * sizeof *b.v + (size_t)n + 1, 0);  /* 5 */
  b.again = (uint8_t *)(b.v + n);
  for (i = 1; i <= n; i++) {
    sf_pkt *p = batch_item(L, i);
    lua_pushvalue(L, -1);
    lua_rawseti(L, 3, i);
    if (!(p->flags & (SF_P_PARSED | SF_P_DIRTY)) &&
        lua_rawgetp(L, 4, p) == LUA_TNIL) {
      lua_pushboolean(L, 1);
      lua_rawsetp(L, 4, p);
      b.again[b.n] = 0;
      b.v[b.n++] = p;
    }
    lua_settop(L, 5);
  }
  b.threads = (int)(threads < 1 ? 1 : threads);
  if (b.threads > 1 && b.n >= BATCH_MIN && (g = sf_gang_start(b.threads, parse_share, &b))) {
    size_t k;
    sf_gang_join(g);
    for (k = 0; k < b.n; k++)
      if (b.again[k]) b.v[k]->flags &= (uint16_t)~SF_P_PARSED;
  }
  for (i = 1; i <= n; i++) {  /* the rest here, where Lua is; the index on the heap */
    sf_pkt *p;
    lua_rawgeti(L, 3, i);
    p = lsf_testpacket(L, -1);
    lsf_parsed(L, -1);
    lsf_track(L, -1, p);
    lua_pop(L, 1);
  }
  lua_settop(L, 3);
  return 1;
}

/* ---- the module ---------------------------------------------------------------------- */

static int pool_cpus(lua_State *L) {
  lua_pushinteger(L, sf_par_cpus());
  return 1;
}

void lsf_open_pool(lua_State *L) {
  static const luaL_Reg meta[] = {
    {"__gc", pool_close}, {"__close", pool_close}, {"__tostring", pool_tostring},
    {"__index", pool_index}, {NULL, NULL}};
  static const luaL_Reg methods[] = {{"_map", pool_map}, {"close", pool_close}, {NULL, NULL}};
  static const luaL_Reg funcs[] = {
    {"pool_new", pool_new}, {"parse_batch", parse_batch}, {"cpus", pool_cpus},
    {NULL, NULL}};
  lsf_class(L, LSF_POOL, meta, methods);
  luaL_getmetatable(L, LSF_POOL);
  lua_getfield(L, -1, "__index");
  lua_getupvalue(L, -1, 1);  /* the methods: pool.lua adds map, parse_batch */
  lua_setfield(L, -4, "pool_methods");
  lua_pop(L, 2);
  luaL_setfuncs(L, funcs, 0);
}
