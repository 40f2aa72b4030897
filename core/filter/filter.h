/*
 * filter.h -- display filters: a compiled program run over a packet's
 * layer index, with no host-language call per packet.
 *
 * The language (Wireshark's display filters) is parsed and its names
 * resolved by the host (stdlib/stackforge/dfilter.lua, an LPeg grammar),
 * which emits a program: a tree of nodes in prefix order, serialised as
 * bytes.  sf_filter_load checks every byte of it (a program is untrusted
 * input, fuzzed as such) and compiles its regular expressions (PCRE2);
 * sf_filter_run answers one packet.
 *
 * Program format (little-endian; version 1):
 *   "SFDF" u8 version, then one test node.
 * Tests:
 *   TRUE | FALSE | NOT t | AND t t | OR t t | XOR t t
 *   EXISTS v             some value is there (a field or a protocol)
 *   NONZERO v            some value is not zero (tcp.flags & 0x02)
 *   CMP u8 op u8 all v v any pair compares (all: every left value does)
 *   CONTAINS v v         some left value holds some right one
 *   MATCHES v u32 n str  some value matches the PCRE2 pattern
 *   IN v u16 n {u8 0 v | u8 1 v v}   some value is one of, or in a range
 * A fields program (tshark -T fields) has instead of the test:
 *   FIELDS u16 n {v}      the values to print, in order
 * Values (each a list: a field may occur in several layers):
 *   FIELD u8 n {u16 proto, u16 field, u16 field2, u64 mask, u32 mul,
 *               u8 hex, u8 exact}   (hex: printed in hexadecimal, so many
 *               digits; exact: this field, not others of the same name)
 *   PROTO u8 n {u16 proto}     the header's bytes of each such layer
 *   FRAME u8 which             frame.number, .len, .cap_len, ...
 *   INT i64 | FLOAT f64 | BYTES u32 n bytes | ADDR u8 prefix u8 n bytes
 *   SLICE v u8 n {i32 start, i32 len}   (len < 0: to the end; start < 0:
 *                                        from the end)
 *   FUNC u8 fn v               len(), count(), lower(), upper()
 *   BITAND v v
 */
#ifndef SF_FILTER_H
#define SF_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "../sf.h"

enum sf_fop {
  SF_FT_TRUE = 1, SF_FT_FALSE, SF_FT_NOT, SF_FT_AND, SF_FT_OR, SF_FT_XOR,
  SF_FT_EXISTS, SF_FT_NONZERO, SF_FT_CMP, SF_FT_CONTAINS, SF_FT_MATCHES,
  SF_FT_IN,
  SF_FV_FIELD = 32, SF_FV_PROTO, SF_FV_FRAME, SF_FV_INT, SF_FV_FLOAT,
  SF_FV_BYTES, SF_FV_ADDR, SF_FV_SLICE, SF_FV_FUNC, SF_FV_BITAND,
  SF_FO_FIELDS = 64
};

enum sf_fcmp { SF_FC_EQ, SF_FC_NE, SF_FC_LT, SF_FC_LE, SF_FC_GT, SF_FC_GE };

enum sf_fframe {
  SF_FF_NUMBER, SF_FF_LEN, SF_FF_CAPLEN, SF_FF_TIME, SF_FF_PROTOCOLS,
  SF_FF_BYTES, SF_FF_TIME_DELTA_NONE  /* reserved */
};

enum sf_ffn { SF_FN_LEN, SF_FN_COUNT, SF_FN_LOWER, SF_FN_UPPER };

#define SF_FILTER_VERSION 1
#define SF_FILTER_MAX_DEPTH 256   /* nesting of nodes */
#define SF_FILTER_MAX_NODES 65536

typedef struct sf_filter sf_filter;

/* The program in prog (n bytes); NULL with the reason in err when it is
   malformed or a pattern does not compile. */
sf_filter *sf_filter_load(const uint8_t *prog, size_t n, char *err,
                          size_t errlen);
void sf_filter_free(sf_filter *f);

/* Does parsed packet p pass?  1 or 0.  The filter keeps scratch space:
   one filter runs on one thread at a time (load one per thread). */
int sf_filter_run(sf_filter *f, const sf_pkt *p);

/* A fields program's values for p as tshark -T fields prints them: tab
   between fields, ',' between occurrences, no newline; NUL-terminated in
   out (n bytes, cut short if need be).  Returns the full length. */
size_t sf_filter_format(sf_filter *f, const sf_pkt *p, char *out, size_t n);

/* frame.protocols of p ("eth:ethertype:ip:tcp") into out (n bytes,
   NUL-terminated, cut short if need be); its full length */
size_t sf_filter_protocols(const sf_pkt *p, char *out, size_t n);

#endif
