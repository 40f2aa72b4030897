/*
 * map.c -- file mappings that packets borrow bytes from, and what keeps a
 * file that shrinks under its mapping from killing the process.
 *
 * When another program truncates a file we have mapped, touching a page
 * past its new end raises SIGBUS.  Every mapping is listed in a fixed
 * table of slots, and a SIGBUS handler (installed with the first mapping)
 * looks the faulting address up there.  When the address is ours, it maps
 * zero pages over the rest of the mapping and records where the file was
 * cut; the access is then repeated, reads zeros, and the program goes on.
 * Readers, writers and sf_map_copy look at that record after they touched
 * the bytes and turn it into an error naming the file.  Any other SIGBUS
 * goes to the handler that was there before us (or ends the process, as
 * it would have without us).
 *
 * A fault only shows pages wholly past the new end; the page that holds
 * the new end reads zeros past it without one.  So the mapping keeps its
 * file open: the handler asks fstat(2) for the exact new size, and a
 * reader that reaches the end of the mapping asks too (sf_map_recheck),
 * so a file cut in its last page is reported as well.
 *
 * Why this is safe in a signal handler and across threads: the handler
 * reads the slots through lock-free atomics and calls only mmap(2),
 * sigaction(2) and raise(3) (mmap is not on POSIX's list of
 * async-signal-safe functions, but on Linux it is a plain system call that
 * takes no user-space lock; fstat is on the list).  A slot is published base first and end last,
 * and retired end first; the handler re-reads end after base, so it never
 * acts on a half-made slot.  A fault can only come from a mapping whose
 * bytes are being read, which holds a reference, so its slot cannot be
 * retired while the handler works on it.  Threads that fault on the same
 * mapping at once each map zeros over it: the second does no harm.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iopriv.h"

#define SLOTS 1024  /* files mapped at once; more are read through a buffer */

typedef struct slot {
  atomic_int taken;
  atomic_uintptr_t base, end;     /* end != 0: live */
  atomic_uint_fast64_t cut;       /* 1 + offset of the first page gone; 0 intact */
  atomic_uint_fast64_t dev, ino;  /* the file, for sf_map_file_mapped */
  atomic_int fd;                  /* the file, open: its size now */
  _Atomic(sf_map *) owner;        /* for messages (read outside the handler) */
} slot;

static slot slots[SLOTS];
static atomic_uint nslots;        /* slots ever used: the handler scans these */
atomic_uint sf_map_ncuts_;        /* mappings found cut, ever: one cheap test */
static atomic_int guard;          /* 0 not yet, 1 installing, 2 on, -1 failed */
static struct sigaction previous;
static uintptr_t pagesize;

/* ---- the SIGBUS handler ---------------------------------------------------- */

static slot *slot_at(uintptr_t a) {
  unsigned i, n = atomic_load(&nslots);
  for (i = 0; i < n; i++) {
    uintptr_t end = atomic_load(&slots[i].end), base = atomic_load(&slots[i].base);
    if (end && a >= base && a < end && atomic_load(&slots[i].end) == end)
      return &slots[i];
  }
  return NULL;
}

/* Record that the file is gone from offset off on (the lowest wins). */
static void note_cut(slot *s, uint64_t off) {
  uint_fast64_t cur = atomic_load(&s->cut);
  while ((cur == 0 || off + 1 < cur) &&
         !atomic_compare_exchange_weak(&s->cut, &cur, off + 1))
    ;
  atomic_fetch_add(&sf_map_ncuts_, 1);
}

/* Zero pages from the faulting one to the end of the mapping: the file
   is gone there, and maybe before (fstat says where). */
static int zero_rest(slot *s, uintptr_t a) {
  uintptr_t base = atomic_load(&s->base), page = a & ~(pagesize - 1);
  uintptr_t stop = (atomic_load(&s->end) + pagesize - 1) & ~(pagesize - 1);
  uint64_t off = page - base;
  struct stat st;
  if (mmap((void *)page, stop - page, PROT_READ,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
    return 0;
  if (fstat(atomic_load(&s->fd), &st) == 0 && st.st_size >= 0 &&
      (uint64_t)st.st_size < off)
    off = (uint64_t)st.st_size;
  note_cut(s, off);
  return 1;
}

/* Not ours: what would have happened without us. */
static void pass_on(int sig, siginfo_t *si, void *ctx) {
  struct sigaction dfl;
  if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction) {
    previous.sa_sigaction(sig, si, ctx);
    return;
  }
  if (!(previous.sa_flags & SA_SIGINFO) && previous.sa_handler != SIG_DFL &&
      previous.sa_handler != SIG_IGN) {
    previous.sa_handler(sig);
    return;
  }
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, NULL);
  if (si->si_code <= 0) raise(sig);  /* sent, not a fault: send it again */
  /* a fault repeats on return and ends the process */
}

static void on_sigbus(int sig, siginfo_t *si, void *ctx) {
  int saved = errno;
  slot *s = si->si_code == BUS_ADRERR ? slot_at((uintptr_t)si->si_addr) : NULL;
  if (!s || !zero_rest(s, (uintptr_t)si->si_addr)) pass_on(sig, si, ctx);
  errno = saved;
}

/* Install the handler once, whichever thread maps first; 1 when it is on. */
static int guard_on(void) {
  int st = 0;
  if (atomic_compare_exchange_strong(&guard, &st, 1)) {
    struct sigaction sa;
    pagesize = (uintptr_t)sysconf(_SC_PAGESIZE);
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    st = sigaction(SIGBUS, NULL, &previous) == 0 && sigaction(SIGBUS, &sa, NULL) == 0;
    atomic_store(&guard, st ? 2 : -1);
  }
  while ((st = atomic_load(&guard)) == 1)
    ;  /* another thread is installing it: a few system calls */
  return st == 2;
}

/* ---- slots ------------------------------------------------------------------ */

static int slot_claim(uintptr_t base, size_t size, int fd, uint64_t dev,
                      uint64_t ino, sf_map *owner) {
  unsigned i, n;
  for (i = 0; i < SLOTS; i++) {
    int free_ = 0;
    if (!atomic_compare_exchange_strong(&slots[i].taken, &free_, 1)) continue;
    atomic_store(&slots[i].cut, 0);
    atomic_store(&slots[i].dev, dev);
    atomic_store(&slots[i].ino, ino);
    atomic_store(&slots[i].fd, fd);
    atomic_store(&slots[i].owner, owner);
    atomic_store(&slots[i].base, base);
    atomic_store(&slots[i].end, base + size);  /* live from here */
    n = atomic_load(&nslots);
    while (n < i + 1 && !atomic_compare_exchange_weak(&nslots, &n, i + 1))
      ;
    return (int)i;
  }
  return -1;
}

static void slot_retire(int i) {
  atomic_store(&slots[i].end, 0);
  atomic_store(&slots[i].base, 0);
  atomic_store(&slots[i].owner, NULL);
  atomic_store(&slots[i].taken, 0);
}

/* ---- mappings ------------------------------------------------------------------ */

sf_map *sf_map_new(const uint8_t *base, size_t size) {
  sf_map *m = malloc(sizeof *m);
  if (!m) return NULL;
  atomic_init(&m->refs, 1);
  m->mapped = 0;
  m->slot = -1;
  m->base = base;
  m->size = size;
  m->name = NULL;
  m->fd = -1;
  return m;
}

/* Map size bytes of fd read-only, guarded; the mapping owns fd from then
   on.  NULL when the file cannot be mapped or guarded (fd is left to the
   caller, who reads it through a buffer instead). */
sf_map *sf_map_file(int fd, size_t size, uint64_t dev, uint64_t ino,
                    const char *name) {
  sf_map *m;
  void *base;
  if (!guard_on()) return NULL;
  base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (base == MAP_FAILED) return NULL;
  if (!(m = sf_map_new(base, size)) || !(m->name = strdup(name)) ||
      (m->slot = slot_claim((uintptr_t)base, size, fd, dev, ino, m)) < 0) {
    if (m) free(m->name);
    free(m);
    munmap(base, size);
    return NULL;
  }
  m->mapped = 1;
  m->fd = fd;
  return m;
}

sf_map *sf_map_retain(sf_map *m) {
  if (m) atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
  return m;
}

void sf_map_release(sf_map *m) {
  if (!m || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) > 1) return;
  if (m->slot >= 0) slot_retire(m->slot);  /* before the pages go */
  if (m->mapped) munmap((void *)(uintptr_t)m->base, m->size);
  if (m->fd >= 0) close(m->fd);
  free(m->name);
  free(m);
}

uint64_t sf_map_cut(const sf_map *m) {
  uint64_t c;
  if (!atomic_load_explicit(&sf_map_ncuts_, memory_order_relaxed) || !m || m->slot < 0)
    return SF_MAP_INTACT;
  c = atomic_load(&slots[m->slot].cut);
  return c ? c - 1 : SF_MAP_INTACT;
}

uint64_t sf_map_recheck(const sf_map *m) {
  struct stat st;
  if (m && m->slot >= 0 && fstat(m->fd, &st) == 0 && st.st_size >= 0 &&
      (uint64_t)st.st_size < m->size)
    note_cut(&slots[m->slot], (uint64_t)st.st_size);
  return sf_map_cut(m);
}

/* The message for a cut mapping. */
static void cut_message(const char *name, uint64_t cut, char *err, size_t errlen) {
  snprintf(err, errlen, "%s: the file was cut short while it was being read "
           "(its bytes from offset %llu on are gone)",
           name ? name : "a mapped file", (unsigned long long)cut);
}

void sf_map_describe_cut(const sf_map *m, char *err, size_t errlen) {
  cut_message(m ? m->name : NULL, sf_map_cut(m), err, errlen);
}

int sf_map_check(const void *p, size_t n, char *err, size_t errlen) {
  slot *s;
  sf_map *m;
  uint64_t cut;
  if (!atomic_load_explicit(&sf_map_ncuts_, memory_order_relaxed) || n == 0) return SF_OK;
  if (!(s = slot_at((uintptr_t)p)) || !(cut = atomic_load(&s->cut))) return SF_OK;
  if ((uintptr_t)p - atomic_load(&s->base) + n <= cut - 1)
    return SF_OK;  /* wholly before the cut */
  m = atomic_load(&s->owner);  /* alive: the caller holds its bytes */
  cut_message(m ? m->name : NULL, cut - 1, err, errlen);
  return SF_IO_ERR;
}

int sf_map_copy(void *dst, const void *src, size_t n, char *err, size_t errlen) {
  memcpy(dst, src, n);
  return sf_map_check(src, n, err, errlen);
}

int sf_map_file_mapped(uint64_t dev, uint64_t ino) {
  unsigned i, n = atomic_load(&nslots);
  for (i = 0; i < n; i++)
    if (atomic_load(&slots[i].end) && atomic_load(&slots[i].dev) == dev &&
        atomic_load(&slots[i].ino) == ino)
      return 1;
  return 0;
}
