/*
 * par.c -- gangs of threads and turns (par.h).
 *
 * A gang's threads are made first and wait at a gate; only when every one
 * exists does the gate open and fn run, so a gang is all or nothing and
 * a driver never has to cope with half of its shards missing.
 */
#define _GNU_SOURCE  /* sched_getaffinity, CPU_COUNT */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "par.h"

int sf_par_cpus(void) {
  cpu_set_t set;
  long n;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return CPU_COUNT(&set);
  n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

/* ---- gangs ------------------------------------------------------------------ */

enum { GATE_SHUT, GATE_RUN, GATE_ABORT };

typedef struct member {
  struct sf_gang *g;
  int i;
} member;

struct sf_gang {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int gate;              /* GATE_* */
  int n, started, done;
  void (*fn)(void *ud, int i);
  void *ud;
  pthread_t *th;
  member *m;
};

static void *member_main(void *arg) {
  member *m = (member *)arg;
  sf_gang *g = m->g;
  int gate;
  pthread_mutex_lock(&g->mu);
  while (g->gate == GATE_SHUT) pthread_cond_wait(&g->cv, &g->mu);
  gate = g->gate;
  pthread_mutex_unlock(&g->mu);
  if (gate == GATE_RUN) g->fn(g->ud, m->i);
  pthread_mutex_lock(&g->mu);
  g->done++;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
  return NULL;
}

static void gang_free(sf_gang *g) {
  pthread_mutex_destroy(&g->mu);
  pthread_cond_destroy(&g->cv);
  free(g->th);
  free(g->m);
  free(g);
}

static void open_gate(sf_gang *g, int how) {
  pthread_mutex_lock(&g->mu);
  g->gate = how;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

static sf_gang *gang_new(int n, void (*fn)(void *ud, int i), void *ud) {
  sf_gang *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->th = calloc((size_t)n, sizeof *g->th);
  g->m = calloc((size_t)n, sizeof *g->m);
  if (!g->th || !g->m || pthread_mutex_init(&g->mu, NULL) != 0) {
    free(g->th);
    free(g->m);
    free(g);
    return NULL;
  }
  if (pthread_cond_init(&g->cv, NULL) != 0) {
    pthread_mutex_destroy(&g->mu);
    free(g->th);
    free(g->m);
    free(g);
    return NULL;
  }
  g->n = n;
  g->fn = fn;
  g->ud = ud;
  return g;
}

sf_gang *sf_gang_start(int n, void (*fn)(void *ud, int i), void *ud) {
  sf_gang *g;
  int i, rc = 0;
  if (n < 1) {
    errno = EINVAL;
    return NULL;
  }
  if (!(g = gang_new(n, fn, ud))) {
    errno = ENOMEM;
    return NULL;
  }
  for (i = 0; i < n && rc == 0; i++) {
    g->m[i].g = g;
    g->m[i].i = i;
    if ((rc = pthread_create(&g->th[i], NULL, member_main, &g->m[i])) == 0)
      g->started++;
  }
  open_gate(g, rc == 0 ? GATE_RUN : GATE_ABORT);
  if (rc == 0) return g;
  for (i = 0; i < g->started; i++) pthread_join(g->th[i], NULL);
  gang_free(g);
  errno = rc;
  return NULL;
}

int sf_gang_wait(sf_gang *g, int ms) {
  struct timespec until;
  int all;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&g->mu);
  while (g->done < g->n &&
         pthread_cond_timedwait(&g->cv, &g->mu, &until) != ETIMEDOUT)
    ;
  all = g->done == g->n;
  pthread_mutex_unlock(&g->mu);
  return all;
}

void sf_gang_join(sf_gang *g) {
  int i;
  if (!g) return;
  for (i = 0; i < g->n; i++) pthread_join(g->th[i], NULL);
  gang_free(g);
}

/* ---- turns ----------------------------------------------------------------- */

int sf_turns_init(sf_turns *t) {
  int rc;
  t->next = 0;
  t->cancelled = 0;
  if ((rc = pthread_mutex_init(&t->mu, NULL)) != 0) return rc;
  if ((rc = pthread_cond_init(&t->cv, NULL)) != 0) pthread_mutex_destroy(&t->mu);
  return rc;
}

int sf_turns_wait(sf_turns *t, uint64_t i) {
  int ok;
  pthread_mutex_lock(&t->mu);
  while (t->next != i && !t->cancelled) pthread_cond_wait(&t->cv, &t->mu);
  ok = !t->cancelled;
  pthread_mutex_unlock(&t->mu);
  return ok ? 0 : -1;
}

void sf_turns_pass(sf_turns *t, uint64_t i) {
  pthread_mutex_lock(&t->mu);
  t->next = i + 1;
  pthread_cond_broadcast(&t->cv);
  pthread_mutex_unlock(&t->mu);
}

void sf_turns_cancel(sf_turns *t) {
  pthread_mutex_lock(&t->mu);
  t->cancelled = 1;
  pthread_cond_broadcast(&t->cv);
  pthread_mutex_unlock(&t->mu);
}

void sf_turns_destroy(sf_turns *t) {
  pthread_mutex_destroy(&t->mu);
  pthread_cond_destroy(&t->cv);
}
