/*
 * test_split.c -- a capture split for threads (core/io/split.c) reads as
 * the whole file does: for every capture of tests/data (pcap and pcapng,
 * the pcapng conformance suite's odd sections and interfaces included),
 * every chunk size from one record per chunk up, and 1 to 4 threads, the
 * chunks' readers in order give the same records (bytes, times, link
 * types, interfaces, comments, offsets) as one reader of the whole file,
 * each chunk knows the index of its first record, and damage is the same
 * error after the same records.  Also: the chunks read on threads at
 * once; captures built so that a guessed start is wrong (a payload that
 * frames like records, at the very spot a thread starts looking); pcapng
 * sections of both byte orders one after the other; and a stream (gzip)
 * as one chunk.  Runs in tests/ (ctest's working directory).
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io.h"
#include "par/par.h"

#include "check.h"

/* ---- records as a whole-file reader gives them ------------------------------- */

typedef struct recs {
  sf_rec *v;
  uint8_t **data;
  char **comment;
  size_t n, cap;
  char err[600];         /* the error after them, "" at a clean end */
} recs;

static void recs_add(recs *a, const sf_rec *r) {
  if (a->n == a->cap) {
    a->cap = a->cap ? a->cap * 2 : 64;
    a->v = realloc(a->v, a->cap * sizeof *a->v);
    a->data = realloc(a->data, a->cap * sizeof *a->data);
    a->comment = realloc(a->comment, a->cap * sizeof *a->comment);
  }
  a->v[a->n] = *r;
  a->data[a->n] = malloc(r->caplen + 1);
  memcpy(a->data[a->n], r->data, r->caplen);
  a->comment[a->n] = r->comment ? strndup(r->comment, r->comment_len) : NULL;
  a->n++;
}

static void recs_free(recs *a) {
  size_t i;
  for (i = 0; i < a->n; i++) {
    free(a->data[i]);
    free(a->comment[i]);
  }
  free(a->v);
  free(a->data);
  free(a->comment);
  memset(a, 0, sizeof *a);
}

/* Read r to its end into a. */
static void drain(sf_reader *r, recs *a) {
  sf_rec rec;
  int rc;
  while ((rc = sf_reader_next(r, &rec)) == SF_IO_REC) recs_add(a, &rec);
  if (rc == SF_IO_ERR) snprintf(a->err, sizeof a->err, "%s", sf_reader_error(r));
}

static int whole(const char *path, int strict, recs *a) {
  char err[600];
  sf_ropts o = {strict};
  sf_reader *r = sf_reader_open(path, err, sizeof err);
  memset(a, 0, sizeof *a);
  if (!r) return 0;
  sf_reader_apply(r, &o);
  drain(r, a);
  sf_reader_close(r);
  return 1;
}

static int same_rec(const recs *a, size_t i, const recs *b, size_t j) {
  const sf_rec *x = &a->v[i], *y = &b->v[j];
  if (x->caplen != y->caplen || x->wirelen != y->wirelen || x->time_ns != y->time_ns ||
      x->linktype != y->linktype || x->interface_id != y->interface_id ||
      x->offset != y->offset || memcmp(a->data[i], b->data[j], x->caplen) != 0)
    return 0;
  if (!a->comment[i] || !b->comment[j]) return a->comment[i] == b->comment[j];
  return strcmp(a->comment[i], b->comment[j]) == 0;
}

/* ---- the chunks, read in order -------------------------------------------------- */

/* The chunks of a split read one after the other, stopping at the first
   error as the drivers do; 1 when every chunk's first index and count
   held. */
static int read_chunks(sf_split *s, recs *a) {
  size_t i;
  int ok = 1;
  memset(a, 0, sizeof *a);
  for (i = 0; i < sf_split_count(s) && !a->err[0]; i++) {
    const sf_chunk *c = sf_split_chunk(s, i);
    size_t before = a->n;
    char err[600];
    sf_reader *r = sf_split_reader(s, i, err, sizeof err);
    if (!r) {
      snprintf(a->err, sizeof a->err, "no reader: %.500s", err);
      return 0;
    }
    if (sf_split_mapped(s) && c->first != before) ok = 0;
    drain(r, a);
    if (sf_split_mapped(s) && !a->err[0] && c->count != a->n - before) ok = 0;
    sf_reader_close(r);
  }
  return ok;
}

static int same(const recs *a, const recs *b) {
  size_t i;
  if (a->n != b->n || strcmp(a->err, b->err) != 0) return 0;
  for (i = 0; i < a->n; i++)
    if (!same_rec(a, i, b, i)) return 0;
  return 1;
}

/* path split every way we can think of reads as the whole file. */
static void check_file(const char *path, int strict) {
  static const uint64_t sizes[] = {1, 200, 4096, 65536, 0};
  recs want, got;
  size_t k;
  int t;
  if (!whole(path, strict, &want)) return;  /* not a capture: nothing to split */
  for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
    for (t = 1; t <= 4; t++) {
      char err[600];
      sf_ropts o = {strict};
      sf_split *s = sf_split_open(path, &o, t, sizes[k], err, sizeof err);
      int counts;
      CHECK(s != NULL);
      if (!s) continue;
      counts = read_chunks(s, &got);
      if (!same(&want, &got) || !counts) {
        fprintf(stderr, "%s: chunk bytes %llu, %d threads: %zu records '%s', "
                "chunks gave %zu '%s'%s\n", path, (unsigned long long)sizes[k], t,
                want.n, want.err, got.n, got.err, counts ? "" : " (bad counts)");
        CHECK(0);
      } else {
        CHECK(1);
      }
      if (sizes[k] == 1 && sf_split_mapped(s) && want.n > 1 && !want.err[0])
        CHECK(sf_split_count(s) == want.n);  /* one record per chunk */
      recs_free(&got);
      sf_split_close(s);
    }
  recs_free(&want);
}

static int is_capture_name(const char *name) {
  size_t n = strlen(name);
  return (n > 5 && strcmp(name + n - 5, ".pcap") == 0) ||
         (n > 7 && strcmp(name + n - 7, ".pcapng") == 0) ||
         (n > 8 && strcmp(name + n - 8, ".pcap.gz") == 0) ||
         (n > 10 && strcmp(name + n - 10, ".pcapng.gz") == 0);
}

/* Every capture under dir (one level of subfolders too). */
static void check_dir(const char *dir, int depth) {
  DIR *d = opendir(dir);
  struct dirent *e;
  if (!d) return;
  while ((e = readdir(d)) != NULL) {
    char path[1024];
    struct stat st;
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (stat(path, &st) != 0) continue;
    if (S_ISDIR(st.st_mode) && depth < 3) check_dir(path, depth + 1);
    else if (S_ISREG(st.st_mode) && is_capture_name(e->d_name)) {
      check_file(path, 0);
      check_file(path, 1);
    }
  }
  closedir(d);
}

/* ---- captures made here ----------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

/* A pcap record header + len bytes of data at p; returns its size. */
static size_t pcap_record(uint8_t *p, uint32_t sec, uint32_t len, uint8_t fill) {
  put32(p, sec);
  put32(p + 4, 0);
  put32(p + 8, len);
  put32(p + 12, len);
  memset(p + 16, fill, len);
  return 16 + len;
}

static void write_bytes(const char *path, const uint8_t *d, size_t n) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (!f) return;
  CHECK(fwrite(d, 1, n, f) == n);
  fclose(f);
}

/* A capture whose packets carry a capture: a big packet whose payload is
   a chain of well-formed pcap records, placed so that the point where the
   second thread starts looking falls inside it.  The guess there is wrong
   (the records are payload); joining the scans must notice and read that
   stretch again. */
static void test_false_start(void) {
  char path[] = "/tmp/sflua_split_fakeXXXXXX";
  size_t cap = 4u << 20, n = 24, i, big;
  uint8_t *d = calloc(1, cap);
  int fd = mkstemp(path), t;
  recs want, got;
  close(fd);
  put32(d, 0xa1b2c3d4u);
  d[4] = 2;
  d[6] = 4;
  put32(d + 16, 262144);
  put32(d + 20, 1);
  for (i = 0; i < 100; i++) n += pcap_record(d + n, 1000 + (uint32_t)i, 60, (uint8_t)i);
  /* the packet holding a capture: its payload is 400 fake records */
  big = n;
  n += pcap_record(d + n, 2000, 0, 0);
  {
    size_t body = n, m = 0;
    for (i = 0; i < 400; i++) m += pcap_record(d + body + m, 7, 100, 0xee);
    put32(d + big + 8, (uint32_t)m);
    put32(d + big + 12, (uint32_t)m);
    n += m;
  }
  for (i = 0; i < 100; i++) n += pcap_record(d + n, 3000 + (uint32_t)i, 60, (uint8_t)i);
  write_bytes(path, d, n);
  CHECK(whole(path, 0, &want));
  CHECK_EQ(want.n, 201);
  for (t = 2; t <= 4; t++) {
    char err[600];
    sf_split *s = sf_split_open(path, NULL, t, 512, err, sizeof err);
    CHECK(s != NULL);
    if (!s) continue;
    CHECK(read_chunks(s, &got));
    CHECK(same(&want, &got));
    recs_free(&got);
    sf_split_close(s);
  }
  recs_free(&want);
  unlink(path);
  free(d);
}

/* Damage half way: the chunks give the records before it, then the
   whole-file reader's very message. */
static void test_damage(void) {
  char path[] = "/tmp/sflua_split_damageXXXXXX";
  uint8_t *d = calloc(1, 1 << 20);
  size_t n = 24, i;
  int fd = mkstemp(path), t;
  close(fd);
  put32(d, 0xa1b2c3d4u);
  d[4] = 2;
  d[6] = 4;
  put32(d + 16, 65535);
  put32(d + 20, 1);
  for (i = 0; i < 3000; i++) {
    n += pcap_record(d + n, 5000 + (uint32_t)i, 100, (uint8_t)i);
    if (i == 1700) put32(d + n - 116 + 8, 0x7fffffffu);  /* a record too long */
  }
  write_bytes(path, d, n);
  for (t = 1; t <= 4; t++) {
    recs want, got;
    char err[600];
    sf_split *s;
    CHECK(whole(path, 0, &want));
    CHECK(want.err[0] != 0);
    CHECK_EQ(want.n, 1700);
    s = sf_split_open(path, NULL, t, 1000, err, sizeof err);
    CHECK(s != NULL);
    if (!s) continue;
    read_chunks(s, &got);
    CHECK(same(&want, &got));
    recs_free(&want);
    recs_free(&got);
    sf_split_close(s);
  }
  unlink(path);
  free(d);
}

/* The conformance suite's files one after the other: sections of both
   byte orders in one file (pcapng allows that), interfaces declared in
   each; and the same again with a stretch of each. */
static void test_sections(void) {
  static const char *parts[] = {
    "data/pcapng-conformance/le/basic/test001.pcapng",
    "data/pcapng-conformance/be/advanced/test202.pcapng",
    "data/pcapng-conformance/le/advanced/test203.pcapng",
    "data/pcapng-conformance/be/basic/test006.pcapng",
    "data/pcapng-conformance/le/difficult/test200.pcapng",
    "data/dhcp-option-108.pcapng",
  };
  char path[] = "/tmp/sflua_split_sectionsXXXXXX";
  FILE *out;
  size_t i, total = 0;
  int fd = mkstemp(path), rep;
  close(fd);
  out = fopen(path, "wb");
  for (rep = 0; rep < 20; rep++)
    for (i = 0; i < sizeof parts / sizeof parts[0]; i++) {
      FILE *in = fopen(parts[i], "rb");
      char buf[65536];
      size_t got;
      if (!in) continue;
      while ((got = fread(buf, 1, sizeof buf, in)) > 0) total += fwrite(buf, 1, got, out);
      fclose(in);
    }
  fclose(out);
  CHECK(total > 0);
  check_file(path, 0);
  unlink(path);
}

/* Chunks read on threads at once, each reader its own. */
typedef struct par_read {
  sf_split *s;
  recs *per;             /* one list per chunk */
} par_read;

static void read_one_chunk(void *ud, int i) {
  par_read *p = (par_read *)ud;
  char err[600];
  sf_reader *r = sf_split_reader(p->s, (size_t)i, err, sizeof err);
  if (!r) return;
  drain(r, &p->per[i]);
  sf_reader_close(r);
}

static void test_threads(void) {
  const char *path = "data/anon_mix.pcap";
  recs want, got;
  par_read p;
  size_t i, j, n;
  char err[600];
  sf_gang *g;
  CHECK(whole(path, 0, &want));
  p.s = sf_split_open(path, NULL, 2, 16384, err, sizeof err);
  CHECK(p.s != NULL);
  if (!p.s) return;
  n = sf_split_count(p.s);
  CHECK(n > 8);
  p.per = calloc(n, sizeof *p.per);
  g = sf_gang_start((int)n, read_one_chunk, &p);
  CHECK(g != NULL);
  sf_gang_join(g);
  memset(&got, 0, sizeof got);
  for (i = 0; i < n; i++)
    for (j = 0; j < p.per[i].n; j++) recs_add(&got, &p.per[i].v[j]);  /* still mapped */
  CHECK(same(&want, &got));
  for (i = 0; i < n; i++) recs_free(&p.per[i]);
  free(p.per);
  recs_free(&want);
  recs_free(&got);
  sf_split_close(p.s);
}

/* A gzip file is a stream: one chunk, its count unknown, read once. */
static void test_stream(void) {
  char err[600];
  sf_split *s = sf_split_open("data/macos.pcapng.gz", NULL, 4, 100, err, sizeof err);
  recs want, got;
  CHECK(s != NULL);
  if (!s) return;
  CHECK(!sf_split_mapped(s));
  CHECK_EQ(sf_split_count(s), 1);
  CHECK(sf_split_chunk(s, 0)->count == UINT64_MAX);
  CHECK(whole("data/macos.pcapng.gz", 0, &want));
  read_chunks(s, &got);
  CHECK(same(&want, &got));
  CHECK(sf_split_reader(s, 0, err, sizeof err) == NULL);
  recs_free(&want);
  recs_free(&got);
  sf_split_close(s);
}

int main(void) {
  char err[600];
  check_dir("data", 0);
  test_false_start();
  test_damage();
  test_sections();
  test_threads();
  test_stream();
  CHECK(sf_split_open("data/no-such-file.pcap", NULL, 2, 0, err, sizeof err) == NULL);
  CHECK(strstr(err, "no-such-file.pcap") != NULL);
  return check_report("test_split");
}
