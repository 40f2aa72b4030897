/*
 * test_pcap.c -- the capture readers and writers of core/io, from C:
 * round trips through both formats, the mapping outliving its reader,
 * streaming, and damage reported with an offset after every good packet;
 * gzip files cut at every offset; a mapped file cut short under readers
 * (and other threads) without a signal; files replaced only when a
 * writer closes, appends cut back when one fails.
 * Runs in tests/ (ctest's working directory) and reads data/http.pcap.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef SF_HAVE_ZLIB
#include <zlib.h>
#endif

#include "io/io.h"

#include "check.h"

static const uint8_t frame[] = {
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
  0x45, 0, 0, 20, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};

static sf_rec record(int64_t t, int32_t linktype, uint32_t iface, const char *comment) {
  sf_rec r;
  memset(&r, 0, sizeof r);
  r.data = frame;
  r.caplen = sizeof frame;
  r.wirelen = 1000;
  r.time_ns = t;
  r.linktype = linktype;
  r.interface_id = iface;
  r.comment = comment;
  r.comment_len = comment ? strlen(comment) : 0;
  return r;
}

static void write_file(const char *path, const sf_wopts *o, const sf_rec *recs, int n) {
  char err[600];
  sf_writer *w = sf_writer_open(path, o, err, sizeof err);
  int i;
  CHECK(w != NULL);
  if (!w) return;
  for (i = 0; i < n; i++) CHECK(sf_writer_write(w, &recs[i]) == SF_OK);
  CHECK(sf_writer_count(w) == (uint64_t)n);
  CHECK(sf_writer_close(w, err, sizeof err) == SF_OK);
}

static void test_pcapng_round_trip(void) {
  char path[] = "/tmp/sflua_test_pcapXXXXXX", err[600];
  sf_wopts o = {SF_FMT_PCAPNG, -1, 1, 0, 0};
  sf_rec in[3], out;
  sf_reader *r;
  int fd = mkstemp(path), i;
  close(fd);
  in[0] = record(1700000000123456789, 1, 0, "first");
  in[1] = record(1700000001000000001, 101, 0, NULL);
  in[2] = record(5, 1, 7, NULL);
  write_file(path, &o, in, 3);
  r = sf_reader_open(path, err, sizeof err);
  CHECK(r != NULL);
  if (!r) return;
  CHECK(sf_reader_format(r) == SF_FMT_PCAPNG);
  CHECK(sf_reader_map(r) != NULL);
  for (i = 0; i < 3; i++) {
    CHECK(sf_reader_next(r, &out) == SF_IO_REC);
    CHECK(out.time_ns == in[i].time_ns);
    CHECK(out.linktype == in[i].linktype);
    CHECK(out.caplen == sizeof frame && memcmp(out.data, frame, sizeof frame) == 0);
    CHECK(out.wirelen == 1000);
    CHECK(out.interface_id == (uint32_t)i);  /* one interface block per pair */
  }
  CHECK(sf_reader_next(r, &out) == SF_IO_EOF);
  sf_reader_close(r);
  unlink(path);
}

/* A record stays readable while its mapping is retained. */
static void test_mapping_outlives_reader(void) {
  char err[600];
  sf_reader *r = sf_reader_open("data/http.pcap", err, sizeof err);
  sf_rec rec;
  sf_map *m;
  uint8_t first;
  CHECK(r != NULL);
  if (!r) return;
  CHECK(sf_reader_next(r, &rec) == SF_IO_REC);
  m = sf_map_retain(sf_reader_map(r));
  first = rec.data[0];
  sf_reader_close(r);
  CHECK(rec.data[0] == first);  /* would fault if unmapped */
  CHECK(rec.caplen == 62 && rec.time_ns == 1084443427311224000);
  sf_map_release(m);
}

static void test_pcap_us_and_damage(void) {
  char path[] = "/tmp/sflua_test_pcapXXXXXX", err[600];
  sf_wopts o = {SF_FMT_PCAP, -1, 0, 0, 0};
  sf_rec in[2], out;
  sf_reader *r;
  FILE *f;
  long size;
  int fd = mkstemp(path);
  close(fd);
  in[0] = record(1700000000123456789, 1, 0, NULL);
  in[1] = record(1700000000999999999, 1, 0, NULL);
  write_file(path, &o, in, 2);
  f = fopen(path, "rb+");
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fclose(f);
  CHECK(size == 24 + 2 * (16 + (long)sizeof frame));
  CHECK(truncate(path, size - 3) == 0);
  r = sf_reader_open(path, err, sizeof err);
  CHECK(r != NULL);
  if (!r) return;
  CHECK(sf_reader_next(r, &out) == SF_IO_REC);
  CHECK(out.time_ns == 1700000000123456000);  /* microseconds, rounded down */
  CHECK(sf_reader_next(r, &out) == SF_IO_ERR);
  CHECK(strstr(sf_reader_error(r), "at byte offset 74") != NULL);
  CHECK(strstr(sf_reader_error(r), path) != NULL);
  CHECK(sf_reader_next(r, &out) == SF_IO_ERR);  /* sticky */
  sf_reader_close(r);
  unlink(path);
}

static void test_memory_and_errors(void) {
  static const uint8_t junk[] = "this is not a capture";
  char err[600];
  sf_reader *r = sf_reader_open_mem(junk, sizeof junk, "junk", err, sizeof err);
  CHECK(r == NULL && strstr(err, "not a pcap or pcapng file") != NULL);
  r = sf_reader_open("/nonexistent.pcap", err, sizeof err);
  CHECK(r == NULL && strstr(err, "No such file or directory") != NULL);
}

/* ---- helpers ------------------------------------------------------------ */

static uint8_t *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  uint8_t *d;
  long size;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  d = malloc((size_t)size + 1);
  *n = fread(d, 1, (size_t)size, f);
  fclose(f);
  return d;
}

/* Records of a reader until it stops: the count; *rc the last result. */
static int drain(sf_reader *r, int *rc) {
  sf_rec rec;
  int n = 0;
  while ((*rc = sf_reader_next(r, &rec)) == SF_IO_REC) n++;
  return n;
}

/* Files in dir, "." and ".." aside. */
static int entries(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  if (!d) return -1;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(d);
  return n;
}

/* ---- gzip ------------------------------------------------------------------- */

#ifdef SF_HAVE_ZLIB
/* gzip(1)'s format through zlib (windowBits 31): one member. */
static uint8_t *gzip_bytes(const uint8_t *d, size_t n, size_t *out) {
  z_stream z;
  size_t cap = n + n / 10 + 64;
  uint8_t *o = malloc(cap);
  memset(&z, 0, sizeof z);
  deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  z.next_in = (Bytef *)(uintptr_t)d;
  z.avail_in = (uInt)n;
  z.next_out = o;
  z.avail_out = (uInt)cap;
  CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
  *out = z.total_out;
  deflateEnd(&z);
  return o;
}

/* Every cut of http.pcap's gzip file is an error, never a clean end;
   past the header the message gives both offsets. */
static void test_gzip_every_cut(void) {
  size_t n, zn, cut;
  uint8_t *d = slurp("data/http.pcap", &n), *z;
  char err[600];
  int rc, undetected = 0, unplaced = 0;
  sf_reader *r;
  CHECK(d != NULL);
  if (!d) return;
  z = gzip_bytes(d, n, &zn);
  r = sf_reader_open_mem(z, zn, "http.pcap.gz", err, sizeof err);
  CHECK(r != NULL && drain(r, &rc) == 43 && rc == SF_IO_EOF);
  sf_reader_close(r);
  for (cut = 0; cut < zn; cut++) {
    if (!(r = sf_reader_open_mem(z, cut, "cut.gz", err, sizeof err))) {
      if (cut >= 10 && !strstr(err, "compressed byte offset")) unplaced++;
      continue;
    }
    drain(r, &rc);
    if (rc != SF_IO_ERR) undetected++;
    else if (cut >= 10 && !strstr(sf_reader_error(r), "(uncompressed byte offset")) unplaced++;
    sf_reader_close(r);
  }
  CHECK_EQ(undetected, 0);
  CHECK_EQ(unplaced, 0);
  free(z);
  free(d);
}

/* A bad CRC or length: every packet, then the trailer named; trailing
   bytes: a warning (an error when strict); two members read in turn. */
static void test_gzip_trailer(void) {
  size_t n, zn, z2n, i;
  uint8_t *d = slurp("data/http.pcap", &n), *z, *z2, *both;
  char err[600];
  const char *first;
  int rc;
  sf_reader *r;
  if (!d) return;
  z = gzip_bytes(d, n, &zn);
  for (i = 0; i < 2; i++) {
    z[zn - 8 + 4 * i] ^= 1;  /* the CRC, then the length */
    r = sf_reader_open_mem(z, zn, "t.gz", err, sizeof err);
    CHECK(drain(r, &rc) == 43 && rc == SF_IO_ERR);
    CHECK(strstr(sf_reader_error(r), i ? "its length is" : "its CRC-32 is") != NULL);
    CHECK(strstr(sf_reader_error(r), "(uncompressed byte offset 25803)") != NULL);
    sf_reader_close(r);
    z[zn - 8 + 4 * i] ^= 1;
  }
  z2 = gzip_bytes(d + 24, n - 24, &z2n);  /* the records again: one pcap of 86 */
  both = malloc(zn + z2n + 5);
  memcpy(both, z, zn);
  memcpy(both + zn, z2, z2n);
  memcpy(both + zn + z2n, "junk!", 5);
  r = sf_reader_open_mem(both, zn + z2n, "two.gz", err, sizeof err);
  CHECK(drain(r, &rc) == 86 && rc == SF_IO_EOF);
  sf_reader_close(r);
  r = sf_reader_open_mem(both, zn + z2n + 5, "junk.gz", err, sizeof err);
  CHECK(drain(r, &rc) == 86 && rc == SF_IO_EOF);
  CHECK(sf_reader_warnings(r, &first) == 1 && strstr(first, "5 bytes after the last gzip member"));
  sf_reader_close(r);
  r = sf_reader_open_mem(both, zn + z2n + 5, "junk.gz", err, sizeof err);
  sf_reader_set_strict(r, 1);
  CHECK(drain(r, &rc) == 86 && rc == SF_IO_ERR);
  sf_reader_close(r);
  free(both);
  free(z2);
  free(z);
  free(d);
}
#endif

/* ---- a mapped file cut short ------------------------------------------------- */

static const char *cut_path = "/tmp/sflua_test_cut.pcap";

/* A capture of n records of 1000 bytes: many pages. */
static void big_capture(const char *path, int n) {
  static uint8_t data[1000];
  char err[600];
  sf_wopts o = {SF_FMT_PCAP, 1, 0, 0, 0};
  sf_writer *w = sf_writer_open(path, &o, err, sizeof err);
  sf_rec rec;
  int i;
  memset(&rec, 0, sizeof rec);
  memset(data, 0xab, sizeof data);
  rec.data = data;
  rec.caplen = rec.wirelen = sizeof data;
  rec.linktype = 1;
  for (i = 0; i < n; i++) {
    rec.time_ns = (int64_t)i * 1000;
    CHECK(sf_writer_write(w, &rec) == SF_OK);
  }
  CHECK(sf_writer_close(w, err, sizeof err) == SF_OK);
}

static void *touch_tail(void *arg) {
  const volatile uint8_t *p = arg;
  return (void *)(uintptr_t)(p[0] + p[4096] + p[100000]);  /* zeros, no signal */
}

static void test_cut_under_mapping(void) {
  char err[600];
  sf_reader *r;
  sf_rec rec;
  sf_map *m;
  const uint8_t *late;
  uint8_t copy[64];
  pthread_t t;
  void *sum = NULL;
  int rc, n;
  big_capture(cut_path, 1000);
  r = sf_reader_open(cut_path, err, sizeof err);
  CHECK(r != NULL && sf_reader_map(r) != NULL);
  if (!r) return;
  CHECK(sf_reader_next(r, &rec) == SF_IO_REC);
  m = sf_map_retain(sf_reader_map(r));
  late = sf_reader_map(r) ? rec.data + 800000 : rec.data;
  CHECK(sf_map_cut(m) == SF_MAP_INTACT);
  CHECK(truncate(cut_path, 300000) == 0);
  CHECK(pthread_create(&t, NULL, touch_tail, (void *)(uintptr_t)late) == 0);
  pthread_join(t, &sum);
  CHECK(sum == NULL);                      /* zeros past the cut */
  CHECK(sf_map_cut(m) <= 800000 && sf_map_cut(m) >= 300000);
  CHECK(sf_map_copy(copy, rec.data, sizeof copy, err, sizeof err) == SF_OK);  /* before it */
  CHECK(sf_map_copy(copy, late, sizeof copy, err, sizeof err) == SF_IO_ERR);
  CHECK(strstr(err, cut_path) && strstr(err, "cut short"));
  n = 1 + drain(r, &rc);
  CHECK(rc == SF_IO_ERR && n < 300 && n > 250);
  CHECK(strstr(sf_reader_error(r), "the file was cut short") != NULL);
  sf_reader_close(r);
  sf_map_release(m);
  unlink(cut_path);
}

/* ---- writers replace files when they close --------------------------------- */

static void test_replace_on_close(void) {
  char dir[] = "/tmp/sflua_test_wXXXXXX", path[64], err[600];
  sf_wopts o = {SF_FMT_PCAP, -1, 0, 0, 0};
  sf_rec in[2], rec;
  sf_reader *r;
  sf_writer *w;
  uint8_t first;
  int rc;
  struct stat st;
  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/x.pcap", dir);
  in[0] = record(1700000000000000000, 1, 0, NULL);
  in[1] = record(1700000001000000000, 1, 0, NULL);
  write_file(path, &o, in, 2);
  r = sf_reader_open(path, err, sizeof err);
  CHECK(r && sf_reader_next(r, &rec) == SF_IO_REC);
  if (!r) return;
  first = rec.data[0];
  w = sf_writer_open(path, &o, err, sizeof err);  /* over the file being read */
  CHECK(w && sf_writer_write(w, &rec) == SF_OK);
  CHECK(entries(dir) == 2);                  /* x.pcap and the temporary file */
  CHECK(stat(path, &st) == 0 && st.st_size == 24 + 2 * (16 + (long)sizeof frame));
  CHECK(sf_writer_close(w, err, sizeof err) == SF_OK);
  CHECK(entries(dir) == 1);
  CHECK(stat(path, &st) == 0 && st.st_size == 24 + 16 + (long)sizeof frame);
  CHECK(rec.data[0] == first);               /* the old inode: still mapped */
  CHECK(drain(r, &rc) == 1 && rc == SF_IO_EOF);
  sf_reader_close(r);
  w = sf_writer_open(path, &o, err, sizeof err);  /* abandoned: nothing changes */
  CHECK(w && sf_writer_write(w, &in[0]) == SF_OK && sf_writer_write(w, &in[1]) == SF_OK);
  sf_writer_abort(w);
  CHECK(entries(dir) == 1);
  CHECK(stat(path, &st) == 0 && st.st_size == 24 + 16 + (long)sizeof frame);
  o.append = 1;                              /* appending: cut back on abort */
  w = sf_writer_open(path, &o, err, sizeof err);
  CHECK(w && sf_writer_write(w, &in[1]) == SF_OK && sf_writer_flush(w) == SF_OK);
  CHECK(stat(path, &st) == 0 && st.st_size == 24 + 2 * (16 + (long)sizeof frame));
  sf_writer_abort(w);
  CHECK(stat(path, &st) == 0 && st.st_size == 24 + 16 + (long)sizeof frame);
  unlink(path);
  rmdir(dir);
}

int main(void) {
  test_pcapng_round_trip();
  test_mapping_outlives_reader();
  test_pcap_us_and_damage();
  test_memory_and_errors();
#ifdef SF_HAVE_ZLIB
  test_gzip_every_cut();
  test_gzip_trailer();
#endif
  test_cut_under_mapping();
  test_replace_on_close();
  return check_report("test_pcap");
}
