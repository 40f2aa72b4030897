/*
 * lloop.h -- the Lua state's libuv loop (lloop.c), for the binding files
 * whose objects are sources on it (lcapture.c).
 */
#ifndef LLOOP_H
#define LLOOP_H

#include <uv.h>

#include "lsf.h"

typedef struct lsf_loop lsf_loop;

/* lsf_loop_run's outcomes */
enum { LSF_RUN_FAILED = -2, LSF_RUN_INTERRUPTED = -1, LSF_RUN_IDLE = 0,
       LSF_RUN_MORE = 1 };

lsf_loop *lsf_getloop(lua_State *L);     /* made on first use */
uv_loop_t *lsf_uv(lsf_loop *lp);
/* the thread callbacks run on: the one running the loop, else the main */
lua_State *lsf_loop_thread(lsf_loop *lp);
/* a callback failed: its error is on top of L (popped); the loop stops */
void lsf_loop_fail(lsf_loop *lp, lua_State *L);
int lsf_loop_run(lua_State *L, lsf_loop *lp, int mode);  /* UV_RUN_* */
/* raise a run's error (a callback's, or "interrupted!") */
void lsf_loop_check(lua_State *L, lsf_loop *lp, int rc);
/* was Ctrl-C pressed?  (clears it: the caller handles it) */
int lsf_loop_take_interrupt(lsf_loop *lp);
/* run until *done, seconds pass (< 0: no limit) or an error/Ctrl-C
   (raised) */
void lsf_loop_until(lua_State *L, lsf_loop *lp, const int *done, double seconds);
/* a timer setting *expired after seconds (< 0: none, NULL returned) */
uv_timer_t *lsf_deadline(lsf_loop *lp, double seconds, int *expired);
void lsf_deadline_cancel(uv_timer_t *t);
/* close a malloc'd handle; its memory is freed by the close callback */
void lsf_close_handle(uv_handle_t *h);
void lsf_open_loop(lua_State *L);  /* sleep, loop_run, loop_alive, _after */

#endif
