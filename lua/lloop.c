/*
 * lloop.c -- the Lua state's event loop: libuv's, shared with luv.
 *
 * luv keeps its loop in a context in the Lua registry and creates one of
 * its own only if none is set when it opens (luv_set_loop: "before
 * luaopen_luv").  So: if luv was loaded first we take its loop; otherwise
 * we set ours (uv_default_loop() for the first state of the process, a
 * private one for any other) and a later require("luv") finds it.  Either
 * way, luv's timers, servers and child processes and our captures are
 * handles on one loop.
 *
 * Blocking calls (sniff, sr1, sleep) run the loop until their own
 * condition holds; callbacks run on the running thread and their errors
 * stop the loop and are raised by the call that ran it.  Ctrl-C while the
 * loop waits stops it (libuv's signal handle, the previous handler put
 * back afterwards).  loop_run() is what sflua calls after a script: it
 * runs while any handle (a luv timer, an AsyncSniffer) is active.
 */
#include <luv/luv.h>
#include <signal.h>
#include <string.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "lloop.h"

static const char loop_key = 'L';

static atomic_flag default_taken = ATOMIC_FLAG_INIT;

struct lsf_loop {
  uv_loop_t *uv;
  uv_loop_t *own;        /* the loop we made and must close, or NULL */
  lua_State *main;       /* the main thread: callbacks outside our runs */
  lua_State *cur;        /* the thread running the loop now, or NULL */
  uv_async_t *wake;      /* Ctrl-C wakes the loop (malloc'd: freed by its
                            close callback) */
  volatile int interrupted;
  int failed;            /* a callback's error waits in the registry */
  int depth;             /* nested runs */
};

static void free_handle(uv_handle_t *h) { free(h); }

void lsf_close_handle(uv_handle_t *h) {
  if (h && !uv_is_closing(h)) uv_close(h, free_handle);
}

static uv_loop_t *private_loop(void) {
  uv_loop_t *l = malloc(sizeof *l);
  if (l && uv_loop_init(l) != 0) {
    free(l);
    l = NULL;
  }
  return l;
}

/* The loop luv uses, or ours set where luv will find it. */
static int choose_loop(lua_State *L, lsf_loop *lp) {
  luv_ctx_t *ctx = luv_context(L);
  if (ctx->loop) {  /* luv came first */
    lp->uv = ctx->loop;
    return 0;
  }
  if (!atomic_flag_test_and_set(&default_taken)) {
    lp->uv = uv_default_loop();
  } else {
    lp->uv = lp->own = private_loop();
  }
  if (!lp->uv) return -1;
  luv_set_loop(L, lp->uv);
  ctx->mode = -1;  /* luv.loop_mode(): not running */
  return 0;
}

/* Ctrl-C while a run blocks: a plain handler (two sigactions per run,
   where libuv's signal handles cost a dozen system calls) that wakes the
   loop through an async handle, which uv_async_send allows from a signal
   handler. */
static lsf_loop *volatile sig_target;

static void on_sigint(int sig) {
  lsf_loop *lp = sig_target;
  (void)sig;
  if (!lp) return;
  lp->interrupted = 1;
  uv_async_send(lp->wake);
}

static void on_wake(uv_async_t *a) {
  lsf_loop *lp = (lsf_loop *)((uv_handle_t *)a)->data;
  if (lp && lp->interrupted) uv_stop(lp->uv);
}

/* The state closes: close what we own.  The shared loop is not run here
   (luv's callbacks would call into the closing state); handles still
   closing stay linked from it.  A private loop is run until it can close. */
static int loop_gc(lua_State *L) {
  lsf_loop *lp = (lsf_loop *)lua_touserdata(L, 1);
  if (!lp->uv) return 0;
  if (lp->wake) {
    ((uv_handle_t *)lp->wake)->data = NULL;
    lsf_close_handle((uv_handle_t *)lp->wake);
    lp->wake = NULL;
  }
  if (lp->own) {
    int tries = 100;
    while (uv_loop_close(lp->own) == UV_EBUSY && tries--) uv_run(lp->own, UV_RUN_NOWAIT);
    if (tries >= 0) free(lp->own);
  }
  lp->uv = NULL;
  return 0;
}

lsf_loop *lsf_getloop(lua_State *L) {
  lsf_loop *lp;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &loop_key) == LUA_TUSERDATA) {
    lp = (lsf_loop *)lua_touserdata(L, -1);
    lua_pop(L, 1);
    return lp;
  }
  lua_pop(L, 1);
  lp = (lsf_loop *)lua_newuserdatauv(L, sizeof *lp, 0);
  memset(lp, 0, sizeof *lp);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, loop_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &loop_key);
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  lp->main = lua_tothread(L, -1);
  lua_pop(L, 1);
  if (choose_loop(L, lp)) luaL_error(L, "cannot create an event loop");
  lp->wake = malloc(sizeof *lp->wake);
  if (!lp->wake || uv_async_init(lp->uv, lp->wake, on_wake)) luaL_error(L, "cannot watch Ctrl-C");
  ((uv_handle_t *)lp->wake)->data = lp;
  uv_unref((uv_handle_t *)lp->wake);  /* never keeps the loop alive */
  return lp;
}

uv_loop_t *lsf_uv(lsf_loop *lp) { return lp->uv; }

lua_State *lsf_loop_thread(lsf_loop *lp) { return lp->cur ? lp->cur : lp->main; }

/* A callback's error (on top of L's stack, popped): kept for the blocking
   call that runs the loop, which raises it; outside our runs, printed as
   luv prints its own. */
void lsf_loop_fail(lsf_loop *lp, lua_State *L) {
  if (lp->depth > 0 && !lp->failed) {
    lp->failed = 1;
    lua_rawsetp(L, LUA_REGISTRYINDEX, &lp->failed);
  } else {
    lua_writestringerror("sflua: error in a callback: %s\n",
                         lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    lua_pop(L, 1);
  }
  uv_stop(lp->uv);
}

/* Ctrl-C stops the loop while it waits, unless SIGINT is ignored (then
   nothing should stop it) or an outer run watches already. */
static int watch_sigint(lsf_loop *lp, struct sigaction *old) {
  struct sigaction sa;
  if (sig_target) return 0;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGINT, &sa, old)) return 0;
  if (old->sa_handler == SIG_IGN) {  /* put it back: ignored stays ignored */
    sigaction(SIGINT, old, NULL);
    return 0;
  }
  sig_target = lp;
  return 1;
}

static void unwatch_sigint(const struct sigaction *old) {
  sigaction(SIGINT, old, NULL);
  sig_target = NULL;
}

int lsf_loop_run(lua_State *L, lsf_loop *lp, int mode) {
  struct sigaction old;
  luv_ctx_t *ctx = luv_context(L);
  lua_State *prev = lp->cur;
  int watching, oldmode = ctx->mode, alive;
  if (lp->interrupted || lp->failed) return lp->failed ? LSF_RUN_FAILED : LSF_RUN_INTERRUPTED;
  watching = watch_sigint(lp, &old);
  lp->cur = L;
  lp->depth++;
  ctx->mode = mode;
  alive = uv_run(lp->uv, mode);
  ctx->mode = oldmode;
  lp->depth--;
  lp->cur = prev;
  if (watching) unwatch_sigint(&old);
  if (lp->failed) return LSF_RUN_FAILED;
  if (lp->interrupted) return LSF_RUN_INTERRUPTED;
  return alive ? LSF_RUN_MORE : LSF_RUN_IDLE;
}

/* The outcome of a run as the blocking call's error, if it is one: a
   callback's error as it was raised, or "interrupted!" as lua.c says. */
void lsf_loop_check(lua_State *L, lsf_loop *lp, int rc) {
  if (rc == LSF_RUN_FAILED) {
    lp->failed = 0;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &lp->failed);
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &lp->failed);
    lua_error(L);
  }
  if (rc == LSF_RUN_INTERRUPTED) {
    lp->interrupted = 0;
    luaL_error(L, "interrupted!");
  }
}

int lsf_loop_take_interrupt(lsf_loop *lp) {
  int was = lp->interrupted;
  lp->interrupted = 0;
  return was;
}

/* ---- timers as deadlines ---------------------------------------------------------- */

static void on_deadline(uv_timer_t *t) {
  int *expired = (int *)((uv_handle_t *)t)->data;
  if (expired) *expired = 1;
}

uv_timer_t *lsf_deadline(lsf_loop *lp, double seconds, int *expired) {
  uv_timer_t *t;
  *expired = 0;
  if (seconds < 0) return NULL;
  t = malloc(sizeof *t);
  if (!t || uv_timer_init(lp->uv, t)) {
    free(t);
    return NULL;
  }
  ((uv_handle_t *)t)->data = expired;
  uv_update_time(lp->uv);  /* from now, not from the loop's last wakeup */
  uv_timer_start(t, on_deadline, (uint64_t)(seconds * 1000.0 + 0.5), 0);
  return t;
}

void lsf_deadline_cancel(uv_timer_t *t) {
  if (!t) return;
  ((uv_handle_t *)t)->data = NULL;
  lsf_close_handle((uv_handle_t *)t);
}

/* Run once at a time until *done, the deadline, Ctrl-C or a callback's
   error; raises the last two. */
void lsf_loop_until(lua_State *L, lsf_loop *lp, const int *done, double seconds) {
  int expired = 0, rc = LSF_RUN_MORE;
  uv_timer_t *t = lsf_deadline(lp, seconds, &expired);
  while (!*done && !expired && (rc = lsf_loop_run(L, lp, UV_RUN_ONCE)) >= LSF_RUN_IDLE) {
    if (rc == LSF_RUN_IDLE && !*done) break;  /* nothing can end the wait */
  }
  lsf_deadline_cancel(t);
  lsf_loop_check(L, lp, rc);
}

/* ---- Lua functions ---------------------------------------------------------------- */

/* sleep(seconds): the loop runs meanwhile (luv timers, AsyncSniffers) */
static int l_sleep(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  lsf_loop *lp = lsf_getloop(L);
  int never = 0;
  luaL_argcheck(L, s >= 0 && s < 1e9, 1, "seconds must be >= 0");
  lsf_loop_until(L, lp, &never, s);
  return 0;
}

/* loop_run(): run while any handle is active (sflua calls it after the
   script); false if Ctrl-C ended it */
static int l_loop_run(lua_State *L) {
  lsf_loop *lp = lsf_getloop(L);
  int rc = lsf_loop_run(L, lp, UV_RUN_DEFAULT);
  if (rc == LSF_RUN_INTERRUPTED) {
    lp->interrupted = 0;
    lua_pushboolean(L, 0);
    return 1;
  }
  lsf_loop_check(L, lp, rc);
  lua_pushboolean(L, 1);
  return 1;
}

/* run_once(): wait for the next event and handle it (AsyncSniffer's
   join); raises "interrupted!" or a callback's error */
static int l_run_once(lua_State *L) {
  lsf_loop *lp = lsf_getloop(L);
  int rc = lsf_loop_run(L, lp, UV_RUN_ONCE);
  lsf_loop_check(L, lp, rc);
  lua_pushboolean(L, rc == LSF_RUN_MORE);
  return 1;
}

/* now(): seconds on a monotonic clock, for deadlines */
static int l_now(lua_State *L) {
  lua_pushnumber(L, (lua_Number)uv_hrtime() / 1e9);
  return 1;
}

/* loop_alive(): would loop_run() wait for something? */
static int l_loop_alive(lua_State *L) {
  lua_pushboolean(L, uv_loop_alive(lsf_getloop(L)->uv));
  return 1;
}

/* ---- a one-shot timer calling Lua (AsyncSniffer's timeout) -------------------------- */

typedef struct ltimer {
  uv_timer_t *t;
  lsf_loop *lp;
} ltimer;

static void timer_fire(uv_timer_t *t) {
  ltimer *lt = (ltimer *)((uv_handle_t *)t)->data;
  lua_State *L;
  if (!lt) return;
  L = lsf_loop_thread(lt->lp);
  luaL_checkstack(L, 4, "timer");  /* L may be mid-call */
  lua_rawgetp(L, LUA_REGISTRYINDEX, lt);  /* {callback, timer} while armed */
  lua_rawgeti(L, -1, 1);
  lua_remove(L, -2);
  lua_pushnil(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, lt);
  ((uv_handle_t *)t)->data = NULL;
  lsf_close_handle((uv_handle_t *)t);
  lt->t = NULL;
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) lsf_loop_fail(lt->lp, L);
}

static int timer_stop(lua_State *L) {
  ltimer *lt = (ltimer *)luaL_checkudata(L, 1, LSF_TIMER);
  if (lt->t) {
    ((uv_handle_t *)lt->t)->data = NULL;
    lsf_close_handle((uv_handle_t *)lt->t);
    lt->t = NULL;
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, lt);
  }
  return 0;
}

/* _after(seconds, fn) -> timer with :stop() */
static int l_after(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  lsf_loop *lp = lsf_getloop(L);
  ltimer *lt;
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lt = (ltimer *)lua_newuserdatauv(L, sizeof *lt, 0);
  lt->lp = lp;
  lt->t = malloc(sizeof *lt->t);
  luaL_setmetatable(L, LSF_TIMER);
  if (!lt->t || uv_timer_init(lp->uv, lt->t)) {
    free(lt->t);
    lt->t = NULL;
    return luaL_error(L, "cannot create a timer");
  }
  ((uv_handle_t *)lt->t)->data = lt;
  lua_createtable(L, 2, 0);  /* the timer lives while it is armed */
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, 1);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, 2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, lt);
  uv_timer_start(lt->t, timer_fire, (uint64_t)(s > 0 ? s * 1000.0 + 0.5 : 0), 0);
  return 1;
}

void lsf_open_loop(lua_State *L) {
  static const luaL_Reg fns[] = {
    {"sleep", l_sleep}, {"loop_run", l_loop_run}, {"loop_alive", l_loop_alive}, {"run_once", l_run_once}, {"now", l_now},
    {"_after", l_after}, {NULL, NULL}
  };
  static const luaL_Reg timer_methods[] = {{"stop", timer_stop}, {NULL, NULL}};
  static const luaL_Reg timer_meta[] = {{NULL, NULL}};
  lsf_getloop(L);  /* now, so that a later require("luv") shares it */
  lsf_class(L, LSF_TIMER, timer_meta, timer_methods);
  luaL_setfuncs(L, fns, 0);
}
