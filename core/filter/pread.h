/*
 * pread.h -- a capture's packets that pass a display filter, found by
 * several threads and handed out in capture order (pread.c): what a
 * reader of the whole file, filtering each record, would hand out.
 */
#ifndef SF_PREAD_H
#define SF_PREAD_H

#include <stddef.h>
#include <stdint.h>

#include "../io/io.h"
#include "filter.h"

typedef struct sf_pread_hooks {
  /* called on the threads around the engine's work on each record: at
     the end, nonzero when the work wanted the host (a protocol defined
     by it); then that chunk and the rest are filtered on the caller's
     thread, inside sf_pread_next.  Optional. */
  int (*thread_work)(void *ud, int begin);
  /* called on the caller's thread while it waits, ten times a second:
     nonzero stops the reading (sf_pread_next: SF_IO_ERR "interrupted").
     Optional. */
  int (*tick)(void *ud);
  void *ud;
} sf_pread_hooks;

typedef struct sf_pread sf_pread;

/* Start threads (>= 2) reading path with filters[i] on thread i (a
   program runs on one thread at a time; filters and h outlive the
   reader).  NULL with an empty err when one thread is as good (a stream,
   a capture of one chunk, no threads to be had); NULL with the reason in
   err when the file cannot be read. */
sf_pread *sf_pread_open(const char *path, const sf_ropts *ro, sf_filter **filters,
                        int threads, const sf_pread_hooks *h, char *err, size_t errlen);
/* The next record that passes and its 1-based frame number in the
   capture: SF_IO_REC, SF_IO_EOF or SF_IO_ERR (sf_pread_error).  The
   record's bytes lie in the mapping (sf_pread_map), its comment is valid
   until the next call. */
int sf_pread_next(sf_pread *x, sf_rec *rec, uint64_t *frame);
const char *sf_pread_error(const sf_pread *x);
/* The chunks' warnings so far, as sf_reader_warnings. */
uint64_t sf_pread_warnings(const sf_pread *x, const char **first);
struct sf_map *sf_pread_map(const sf_pread *x);
const sf_reader *sf_pread_base(const sf_pread *x);  /* format, link type, ... */
void sf_pread_close(sf_pread *x);  /* stops the threads; NULL-safe */

#endif
