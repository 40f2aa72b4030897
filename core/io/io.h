/*
 * io.h -- capture files: pcap and pcapng readers and writers.
 *
 * A reader hands out records one at a time.  When the file is a plain file
 * it is mapped, and a record's bytes point into the mapping: they stay valid
 * for as long as someone holds a reference to that mapping (sf_reader_map),
 * so packets can borrow them without a copy.  Pipes, stdin ("-") and gzip
 * files are streamed; their records are valid until the next call.
 *
 * Damage is never skipped: sf_reader_next() returns every good record, then
 * SF_IO_ERR with a message naming the file and the byte offset.
 */
#ifndef SF_IO_H
#define SF_IO_H

#include <stddef.h>
#include <stdint.h>

#include "../sf.h"

enum {
  SF_IO_EOF = 0,   /* sf_reader_next: no more records */
  SF_IO_REC = 1,   /* sf_reader_next: *rec filled */
  SF_IO_ERR = -1   /* message in sf_reader_error / sf_writer_error */
};

enum { SF_FMT_PCAP = 1, SF_FMT_PCAPNG = 2 };

/* The largest captured length accepted; as a packet's (sf_pkt) limit. */
#define SF_IO_MAX_CAPLEN SF_MAX_LEN

/* One packet record, as read or to be written. */
typedef struct sf_rec {
  const uint8_t *data;
  uint32_t caplen;        /* bytes at data */
  uint32_t wirelen;       /* length on the wire (>= caplen when read) */
  int64_t time_ns;        /* ns since the epoch */
  int32_t linktype;
  uint32_t interface_id;  /* pcapng: global over sections; pcap: 0 */
  const char *comment;    /* first packet comment, not NUL-terminated */
  size_t comment_len;
  uint64_t offset;        /* byte offset of the record in the file */
} sf_rec;

/* A refcounted file mapping that packets may borrow bytes from. */
typedef struct sf_map sf_map;
sf_map *sf_map_retain(sf_map *m);
void sf_map_release(sf_map *m);

typedef struct sf_reader sf_reader;

/* Open path ("-" = stdin).  NULL on failure, with the reason in err
   (the OS message for a wrong path; "not a capture file" otherwise). */
sf_reader *sf_reader_open(const char *path, char *err, size_t errlen);
/* Read from memory (not copied; must outlive the reader).  For tests and
   fuzzing; name appears in messages. */
sf_reader *sf_reader_open_mem(const uint8_t *d, size_t n, const char *name,
                              char *err, size_t errlen);
int sf_reader_next(sf_reader *r, sf_rec *rec);
const char *sf_reader_error(const sf_reader *r);
/* The mapping records point into, or NULL when records are transient. */
sf_map *sf_reader_map(const sf_reader *r);
int sf_reader_format(const sf_reader *r);      /* SF_FMT_* */
int32_t sf_reader_linktype(const sf_reader *r); /* first interface's, -1 none */
int sf_reader_nanosecond(const sf_reader *r);  /* pcap: ns magic */
uint32_t sf_reader_snaplen(const sf_reader *r);
void sf_reader_close(sf_reader *r);
/* Accept captured lengths above the snaplen (libpcap and Wireshark do);
   by default they are reported as damage. */
void sf_reader_set_strict(sf_reader *r, int strict);

typedef struct sf_wopts {
  int format;           /* SF_FMT_* */
  int32_t linktype;     /* < 0: the first record's */
  int nanosecond;       /* pcap: ns magic; pcapng: if_tsresol 9 (else 6) */
  uint32_t snaplen;     /* 0: 262144 for pcap, none for pcapng */
} sf_wopts;

typedef struct sf_writer sf_writer;

/* Create path ("-" = stdout); NULL with the OS message in err. */
sf_writer *sf_writer_open(const char *path, const sf_wopts *o, char *err,
                          size_t errlen);
int sf_writer_write(sf_writer *w, const sf_rec *rec);  /* SF_OK or SF_IO_ERR */
int sf_writer_flush(sf_writer *w);
const char *sf_writer_error(const sf_writer *w);
uint64_t sf_writer_count(const sf_writer *w);
/* Flush and free; SF_OK or SF_IO_ERR with the message copied to err. */
int sf_writer_close(sf_writer *w, char *err, size_t errlen);

#endif
