/*
 * cpriv.h -- what define.c and layout.c share about a custom protocol.
 */
#ifndef SF_CPRIV_H
#define SF_CPRIV_H

#include "custom.h"

typedef struct chunk chunk;  /* memory a protocol owns, freed together */

struct sf_custom {
  sf_proto proto;            /* what the registry holds */
  sf_dyn dyn;                /* dyn.ud is this */
  sf_field *fields;
  sf_cfield *cf;
  uint8_t **defv;            /* each field's default value: its bits */
  uint32_t *defbits;         /* (no NUL, no padding) */
  uint32_t *after;           /* bytes the unconditional fields after each
                                field take at least */
  const sf_custom_ops *ops;
  void *host;
  unsigned hooks;            /* SF_CH_POST_BUILD, SF_CH_GUESS */
  int registered, dead;
  uint64_t serial;           /* unique for the process's life: the key of
                                its remembered layouts (layout.c) */
  chunk *mem;
};

/* A growing bit string: headers rebuilt from values. */
typedef struct sf_tbuf {
  uint8_t *d;
  size_t bits, cap;          /* cap in bytes */
  int oom;
} sf_tbuf;

/* layout.c */
/* The fields' spans in the n bytes at h, and the header's length in *len;
   0 when the header is malformed or cut short (the spans laid out so far
   are filled in).  build: bad values are reported to the host (a
   constructor's layer) rather than failing quietly. */
int sf_custom_lay(const sf_custom *c, const uint8_t *h, size_t n, sf_span *sp,
                  int build, size_t *len);
/* The header again from values: field fi takes v (NULL: its default),
   every other field keeps its bits in h (old: their spans; NULL: none,
   every field takes its default), fields a condition brings in take their
   defaults.  Length and count fields not in `set` follow. */
int sf_custom_relay(const sf_custom *c, const uint8_t *h, const sf_span *old,
                    int fi, const sf_val *v, uint64_t set, sf_tbuf *out,
                    sf_span *sp);
/* fills c->dyn; fixed: every field has a static offset */
void sf_custom_hooks(sf_custom *c, int fixed);
void sf_custom_report(const sf_custom *c, const char *fmt, ...);
/* a serial no protocol had before (never 0) */
uint64_t sf_custom_next_serial(void);

void sf_tb_free(sf_tbuf *b);

#endif
