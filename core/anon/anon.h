/*
 * anon.h -- anonymization policies and their application to packets and
 * capture files.  No Lua here: the flow extractor and the Lua binding both
 * use this API.
 *
 * A policy (sf_anon_policy) is plain data: one mode per setting, the
 * numeric parameters, and the Crypto-PAn key and hash salt.  An anonymizer
 * (sf_anon) is a policy made ready: AES and HMAC keys set up, the port
 * permutation built, caches, and the timestamp state (first packet seen).
 * Everything is a function of the key and salt, so the same policy run on
 * the same input gives byte-identical output.
 *
 * An sf_anon is not thread-safe (caches, timestamp state); use one per
 * thread, made from the same policy, and results agree except for the
 * timestamp epoch, which each anonymizer takes from the first packet it
 * sees.
 *
 * Mode names follow the seed toolkit (Stackforge): salted_hash_preserve_oui,
 * categorize, epoch_shift_jitter, truncate_all; sflua's older spellings
 * (salted_hash_keep_oui, drop) and "none" (pass-through) are aliases.
 */
#ifndef SF_ANON_H
#define SF_ANON_H

#include <stddef.h>
#include <stdint.h>

#include "../sf.h"

/* settings, in the order of their names in sf_anon_setting_name() */
enum { SF_AN_IP, SF_AN_MAC, SF_AN_PORT, SF_AN_TIME, SF_AN_SEQ, SF_AN_PAYLOAD,
       SF_AN_NSETTINGS };

/* Every setting's mode 0 passes values through ("preserve", or "none"). */
enum { SF_IP_PRESERVE, SF_IP_CRYPTOPAN, SF_IP_PERMUTE };
enum { SF_MAC_PRESERVE, SF_MAC_HASH, SF_MAC_HASH_OUI, SF_MAC_ZERO };
enum { SF_PORT_PRESERVE, SF_PORT_WELL_KNOWN, SF_PORT_PERMUTE,
       SF_PORT_CATEGORIZE };
enum { SF_TS_PRESERVE, SF_TS_EPOCH_SHIFT, SF_TS_RANDOM_SHIFT,
       SF_TS_EPOCH_JITTER };
enum { SF_SEQ_PRESERVE, SF_SEQ_RANDOM_OFFSET };
enum { SF_PL_PRESERVE, SF_PL_TRUNCATE, SF_PL_DROP, SF_PL_ZERO };

/* Limits of the numeric options (the binding checks values against them) */
#define SF_ANON_MAX_JITTER_MS 3600000u  /* an hour */
#define SF_ANON_MAX_TRUNCATE SF_MAX_LEN  /* past a packet's largest size */
#define SF_ANON_JITTER_MS 10u  /* epoch_shift_jitter's when not given */

typedef struct sf_anon_policy {
  int mode[SF_AN_NSETTINGS];
  uint32_t timestamp_jitter_ms;     /* 0: none */
  uint32_t payload_truncate_bytes;  /* for SF_PL_TRUNCATE */
  /* 0: payloads are cut as a snap length cuts them (the headers and the
     record keep the original lengths); 1: lengths and checksums are
     rewritten to the bytes left */
  int payload_rewrite_lengths;
  uint8_t crypto_pan_key[32];
  uint8_t hash_salt[32];
} sf_anon_policy;

/* "ip_mode", "mac_mode", ... */
const char *sf_anon_setting_name(int setting);
/* A mode's number, or -1 when the name (or an alias) is not the setting's. */
int sf_anon_mode_find(int setting, const char *name);
const char *sf_anon_mode_name(int setting, int mode);
/* The valid names, aliases in parentheses, for error messages. */
const char *sf_anon_mode_list(int setting);

/* Defaults (see docs/anonymization.md) with a fresh random key and salt
   from OpenSSL's RAND_bytes; SF_OK or SF_E_NOMEM if the RNG failed. */
int sf_anon_policy_init(sf_anon_policy *p);
/* Presets: "default", "ml_optimized", "maximum_privacy"; the key and salt
   are left alone.  SF_E_VALUE for another name. */
int sf_anon_policy_preset(sf_anon_policy *p, const char *name);
/* Set one setting's mode.  A timestamp mode brings its own jitter (10 ms
   for epoch_shift_jitter, else none): set timestamp_jitter_ms after it. */
void sf_anon_policy_set_mode(sf_anon_policy *p, int setting, int mode);
/* Options that contradict each other or exceed the limits above: SF_OK,
   or SF_E_VALUE with what is wrong in err. */
int sf_anon_policy_check(const sf_anon_policy *p, char *err, size_t errlen);

typedef struct sf_anon sf_anon;

sf_anon *sf_anon_new(const sf_anon_policy *p);  /* NULL: no memory / crypto */
void sf_anon_free(sf_anon *a);
const sf_anon_policy *sf_anon_policy_of(const sf_anon *a);

/* ---- one value at a time (flows use these) ---------------------------- */

void sf_anon_ip4(sf_anon *a, const uint8_t in[4], uint8_t out[4]);
void sf_anon_ip6(sf_anon *a, const uint8_t in[16], uint8_t out[16]);
void sf_anon_mac(sf_anon *a, const uint8_t in[6], uint8_t out[6]);
uint16_t sf_anon_port(const sf_anon *a, uint16_t port);
/* Timestamps come in capture order: the first one fixes the shift, and
   every later one moves by the same amount, so a capture whose clock
   steps backwards keeps those steps.  A time that would fall before 1970
   (which no capture format stores) becomes 1970-01-01 00:00:00 and is
   counted (sf_anon_times_clamped).  Jitter never turns a step around: a
   packet stamped no earlier than the one before it is not moved before
   it, and one stamped earlier is not moved after it. */
int64_t sf_anon_time(sf_anon *a, int64_t time_ns);
uint64_t sf_anon_times_clamped(const sf_anon *a);
/* The sequence-number offset of one direction of a TCP connection
   (original addresses, alen 4 or 16, and ports); 0 when preserving.
   Its ack numbers take the reverse direction's offset. */
uint32_t sf_anon_seq_offset(sf_anon *a, const uint8_t *src,
                            const uint8_t *dst, size_t alen, uint16_t sport,
                            uint16_t dport);

/* ---- packets and captures ----------------------------------------------- */

/* Rewrite a dissected packet in place: addresses in every layer (quoted
   ones too), ports, TCP seq/ack and SACK, payload, timestamp; then lengths
   and checksums.  A payload cut as a snap length cuts it leaves the
   packet shorter than its wirelen, its layers marked truncated.  SF_OK or
   an SF_E_* code. */
int sf_anon_packet(sf_anon *a, sf_pkt *p);

typedef struct sf_anon_stats {
  uint64_t packets;
  uint64_t bytes_in, bytes_out;
  uint64_t times_clamped;  /* timestamps that would have fallen before 1970 */
} sf_anon_stats;

/* Stream in_path to out_path (same format; "-" for stdin/stdout) in
   bounded memory, reading with the reader options ro (NULL: defaults).
   out_path appears only when complete (core/io writes a temporary file
   beside it), so in_path may be out_path.  SF_OK, or SF_IO_ERR-like -1
   with a message in err, and then out_path is as it was. */
struct sf_ropts;
int sf_anon_pcap(const char *in_path, const char *out_path,
                 const sf_anon_policy *p, const struct sf_ropts *ro,
                 sf_anon_stats *st, char *err, size_t errlen);

/* The same with more said (NULL: sf_anon_pcap's defaults).  On several
   threads the output is the same bytes as on one (anon_pcap.c). */
struct sf_wopts;
struct sf_filter;
typedef struct sf_anon_run {
  const struct sf_ropts *ro;    /* the reader's options, or NULL */
  int threads;                  /* 1: the caller's thread; 0: one per CPU
                                   (a stream is read by one) */
  const struct sf_wopts *wo;    /* the output's options; NULL: the input's
                                   format and time resolution */
  struct sf_filter **filters;   /* only packets these pass (one program per
                                   thread: a program runs on one at a time),
                                   numbered by their frame in the input */
  /* called on the threads around the engine's work on each packet: at
     the end, nonzero when the work wanted the host (a protocol defined
     by it); then the capture is done again on the caller's thread */
  int (*thread_work)(void *ud, int begin);
  /* called on the caller's thread while the threads work, ten times a
     second: nonzero stops them (the output stays as it was) */
  int (*tick)(void *ud);
  void *ud;
} sf_anon_run;
int sf_anon_pcap_run(const char *in_path, const char *out_path,
                     const sf_anon_policy *p, const sf_anon_run *o,
                     sf_anon_stats *st, char *err, size_t errlen);

#endif
