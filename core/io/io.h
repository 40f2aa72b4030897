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
 * SF_IO_ERR with a message naming the file and the byte offset.  What
 * tshark reads without a word (a captured length above the snaplen, a
 * time that does not fit) is a counted warning, or an error when strict.
 *
 * A mapped file that another program cuts short reads as zeros past the
 * cut instead of raising SIGBUS (map.c): readers and writers report it.
 *
 * Writers write a temporary file next to the target and rename it into
 * place on close, so a file being read is never truncated under its
 * readers and a failed write leaves the old file whole.
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

/* The offset from which a mapped file was found gone (another program
   cut it short; its bytes there read as zeros), or SF_MAP_INTACT. */
#define SF_MAP_INTACT UINT64_MAX
uint64_t sf_map_cut(const sf_map *m);
/* SF_OK, or SF_IO_ERR with "<file>: the file was cut short ..." in err
   when some of the n bytes at p lie in a mapping past its file's cut.
   One load when no file was ever cut. */
int sf_map_check(const void *p, size_t n, char *err, size_t errlen);
/* memcpy for bytes that may lie in a mapping (a flow stream's pieces
   kept as references into the capture), then sf_map_check. */
int sf_map_copy(void *dst, const void *src, size_t n, char *err, size_t errlen);

typedef struct sf_reader sf_reader;

/* Open path ("-" = stdin).  NULL on failure, with the reason in err
   (the OS message for a wrong path; "not a capture file" otherwise). */
sf_reader *sf_reader_open(const char *path, char *err, size_t errlen);
/* Read from memory (not copied; must outlive the reader).  For tests and
   fuzzing; name appears in messages. */
sf_reader *sf_reader_open_mem(const uint8_t *d, size_t n, const char *name,
                              char *err, size_t errlen);
int sf_reader_next(sf_reader *r, sf_rec *rec);
/* The record as packet p, borrowing its bytes, with its link type, time,
   length on the wire and interface (not dissected): sf_pkt_borrow's
   answer.  What every driver that reads captures does first. */
int sf_pkt_of_rec(sf_pkt *p, const sf_rec *rec);
const char *sf_reader_error(const sf_reader *r);
/* The mapping records point into, or NULL when records are transient. */
sf_map *sf_reader_map(const sf_reader *r);
int sf_reader_format(const sf_reader *r);      /* SF_FMT_* */
int32_t sf_reader_linktype(const sf_reader *r); /* first interface's, -1 none */
int sf_reader_nanosecond(const sf_reader *r);  /* pcap: ns magic */
uint32_t sf_reader_snaplen(const sf_reader *r);
void sf_reader_close(sf_reader *r);
/* Reader options, as one bundle that other modules pass on (anonymizing
   and flow extraction read captures too). */
typedef struct sf_ropts {
  int strict;           /* see sf_reader_set_strict */
} sf_ropts;
void sf_reader_apply(sf_reader *r, const sf_ropts *o);  /* NULL: defaults */
/* strict: what tshark reads without a word (captured lengths above the
   snaplen, fractions of a second >= 1 s, times sflua cannot hold, data
   after a gzip file's end) is damage; by default a counted warning. */
void sf_reader_set_strict(sf_reader *r, int strict);
/* Warnings so far; *first (if first) gets the first one's message. */
uint64_t sf_reader_warnings(const sf_reader *r, const char **first);

typedef struct sf_wopts {
  int format;           /* SF_FMT_*; 0: the file's when appending, else
                           pcapng if the name ends in ".pcapng", else pcap */
  int32_t linktype;     /* >= 0: every record is written with this link
                           type; < 0: each record's own */
  int nanosecond;       /* pcap: ns magic; pcapng: if_tsresol 9 (else 6);
                           < 0: pcapng yes, pcap no */
  uint32_t snaplen;     /* 0: 262144 for pcap, none for pcapng */
  int append;           /* add to the file there (same link type for pcap;
                           a new section for pcapng) instead of replacing */
} sf_wopts;

typedef struct sf_writer sf_writer;

/* Create path ("-" = stdout); NULL with the OS message in err.  A regular
   file is written as a temporary file beside it until sf_writer_close. */
sf_writer *sf_writer_open(const char *path, const sf_wopts *o, char *err,
                          size_t errlen);
int sf_writer_write(sf_writer *w, const sf_rec *rec);  /* SF_OK or SF_IO_ERR */
int sf_writer_flush(sf_writer *w);
const char *sf_writer_error(const sf_writer *w);
uint64_t sf_writer_count(const sf_writer *w);
/* Flush, put the file in place and free; SF_OK or SF_IO_ERR with the
   message copied to err (then the old file, if any, is left as it was). */
int sf_writer_close(sf_writer *w, char *err, size_t errlen);
/* Free without a trace: the temporary file is removed (appending: the
   file is cut back to its old length).  NULL-safe. */
void sf_writer_abort(sf_writer *w);

/* ---- a capture split for threads (split.c) ---------------------------------

   The records of a mapped capture cut into chunks (about chunk_bytes of
   the file each) that readers on several threads read side by side; each
   chunk's reader hands out what a reader of the whole file would for
   that stretch, errors included (the last chunk reads to the end).  The
   scan that finds the records runs on `threads` threads itself (0: one
   per CPU).  A stream (stdin, a pipe, gzip) is one chunk of unknown
   count, read by the reader that opened it. */
#define SF_SPLIT_CHUNK ((uint64_t)4 << 20)

typedef struct sf_chunk {
  uint64_t start, end;   /* byte offsets: records starting in [start, end) */
  uint64_t first;        /* index of its first record in the capture */
  uint64_t count;        /* its records (UINT64_MAX: a stream, not known) */
} sf_chunk;

typedef struct sf_split sf_split;
/* NULL with the reader's message (or "not enough memory") in err. */
sf_split *sf_split_open(const char *path, const sf_ropts *ro, int threads,
                        uint64_t chunk_bytes, char *err, size_t errlen);
size_t sf_split_count(const sf_split *s);  /* >= 1 */
const sf_chunk *sf_split_chunk(const sf_split *s, size_t i);
int sf_split_mapped(const sf_split *s);    /* 0: one stream */
/* CPU seconds the scan took on all its threads; *longest: on the one
   that took longest plus any serial rescan (its share of the wall time
   on an idle machine).  For benchmarks. */
double sf_split_scan_cpu(const sf_split *s, double *longest);
/* The reader that opened the capture (its format, link type, ...);
   NULL once a stream's reader was handed out. */
const sf_reader *sf_split_base(const sf_split *s);
/* A reader of chunk i alone (the caller closes it); any thread may read
   it, and several at once may read different chunks.  NULL with the
   reason in err. */
sf_reader *sf_split_reader(sf_split *s, size_t i, char *err, size_t errlen);
void sf_split_close(sf_split *s);  /* its readers may outlive it; NULL-safe */

/* Reading a mapped capture from a guessed place, for threads that read
   stretches of it without a scan before (core/flow/shard.c): where
   records seem to start, a reader from there, and what to check once
   the stretch before is read -- that it ended there, in the same state.
   sf_reader_prime reads a pcapng file's section header and interface
   blocks up to its first packet (the state a guessed stretch assumes);
   sf_reader_guess gives the first offset in [from, to) from which
   records frame one another, or UINT64_MAX; sf_reader_fork a reader of
   the same mapping from off (stopping before stop) in from's state;
   sf_reader_offset where the next unit starts. */
int sf_reader_prime(sf_reader *r);
uint64_t sf_reader_guess(const sf_reader *r, uint64_t from, uint64_t to);
sf_reader *sf_reader_fork(const sf_reader *from, uint64_t off, uint64_t stop);
uint64_t sf_reader_offset(const sf_reader *r);
int sf_reader_same_state(const sf_reader *a, const sf_reader *b);

/* The link type a packet's bytes are: its own when its first layer is
   what that link type carries (a packet read from a file), else the one
   its first layer calls for in the registry's "linktype" table (IP and
   IPv6: 101, CookedLinux: 113, ...), else its own. */
int32_t sf_linktype_of(const sf_pkt *p);

#endif
