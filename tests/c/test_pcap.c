/*
 * test_pcap.c -- the capture readers and writers of core/io, from C:
 * round trips through both formats, the mapping outliving its reader,
 * streaming, and damage reported with an offset after every good packet.
 * Runs in tests/ (ctest's working directory) and reads data/http.pcap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int main(void) {
  test_pcapng_round_trip();
  test_mapping_outlives_reader();
  test_pcap_us_and_damage();
  test_memory_and_errors();
  return check_report("test_pcap");
}
