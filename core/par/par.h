/*
 * par.h -- threads for the engine's parallel drivers (splitting a capture,
 * sharded flows, anonymization): a gang of threads running one function,
 * and turns, which let the threads' output come out in input order.
 * POSIX threads from the C library; nothing else.
 *
 * The engine's shared state is read-only while a gang runs: the protocol
 * registry (nobody registers or binds then), file mappings (their
 * reference counts are atomic).  Everything a thread writes is its own.
 */
#ifndef SF_PAR_H
#define SF_PAR_H

#include <pthread.h>
#include <stdint.h>

/* Threads to use when the caller says 0: the CPUs this process may run on. */
int sf_par_cpus(void);

typedef struct sf_gang sf_gang;

/* Start n threads running fn(ud, i), i = 0 .. n-1.  All start or none
   does: NULL (errno set) when one could not be made, and then fn never
   ran.  fn must not leave by longjmp. */
sf_gang *sf_gang_start(int n, void (*fn)(void *ud, int i), void *ud);
/* Wait at most ms milliseconds for every thread to return: 1 when they
   all have, 0 when some still run (a host polls so it can notice an
   interruption and tell its threads to stop). */
int sf_gang_wait(sf_gang *g, int ms);
/* Wait for all, then free.  NULL-safe. */
void sf_gang_join(sf_gang *g);

/* Turns: the thread holding piece i of the work waits for the turn of
   piece i before it writes, and passes it on to piece i + 1 after, so
   output comes out in input order whatever order the pieces finish in. */
typedef struct sf_turns {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  uint64_t next;       /* the piece whose turn it is */
  int cancelled;       /* every wait returns -1 from now on */
} sf_turns;

int sf_turns_init(sf_turns *t);            /* 0, or an errno */
int sf_turns_wait(sf_turns *t, uint64_t i);  /* 0: i's turn; -1: cancelled */
void sf_turns_pass(sf_turns *t, uint64_t i);  /* i is done: i + 1's turn */
void sf_turns_cancel(sf_turns *t);         /* an error: nobody waits on */
void sf_turns_destroy(sf_turns *t);

#endif
