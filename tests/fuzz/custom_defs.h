/*
 * custom_defs.h -- custom protocols defined from C (core/custom/, no Lua),
 * shared by fuzz_custom.c and tests/c/test_custom.c: every field type
 * (fixed integers big- and little-endian, signed, bit fields, flags,
 * addresses; the rest, fixed-length, NUL-terminated, length-from,
 * count-from, lists of items and of packets, conditional, padded) in
 * every position, and the post_build and guess_payload hooks.
 *
 * The host answers by rule: a length or count is another field's value
 * plus a constant, a condition is another field's value under a mask,
 * adjust adds a constant.  It counts its calls and keeps the engine's
 * last error, as a host should (no Lua here).
 */
#ifndef FZ_CUSTOM_DEFS_H
#define FZ_CUSTOM_DEFS_H

#include <stdio.h>
#include <string.h>

#include "custom/custom.h"

typedef struct fz_rule {
  int ref;            /* length/count from this field's value ... */
  int64_t add;        /* ... plus add (adjust: x + add) */
  int cref;           /* condition: this field's value ... */
  uint64_t mask;      /* ... & mask != 0 */
} fz_rule;

typedef struct fz_host {
  const char *name;
  const fz_rule *rules;
  unsigned calls, errors;
  char err[256];      /* the engine's last complaint */
} fz_host;

static int fz_value(const sf_cview *v, int fi, uint64_t *out) {
  sf_val val;
  if (fi < 0 || sf_cview_get(v, fi, &val) != SF_OK) return 0;
  *out = val.u;
  return 1;
}

static int fz_number(void *host, const sf_cview *v, int fi, int what,
                     int64_t *out, char *bad, size_t badlen) {
  fz_host *h = host;
  uint64_t x;
  (void)what;
  h->calls++;
  if (!fz_value(v, h->rules[fi].ref, &x)) {
    snprintf(bad, badlen, "nothing (its field is absent)");
    return SF_E_VALUE;
  }
  *out = (int64_t)x + h->rules[fi].add;
  return SF_OK;
}

static int fz_cond(void *host, const sf_cview *v, int fi, int *holds) {
  fz_host *h = host;
  uint64_t x = 0;
  h->calls++;
  *holds = fz_value(v, h->rules[fi].cref, &x) && (x & h->rules[fi].mask);
  return SF_OK;
}

static int fz_adjust(void *host, const sf_cview *v, int fi, int64_t x,
                     int64_t *out, char *bad, size_t badlen) {
  fz_host *h = host;
  (void)v;
  (void)bad;
  (void)badlen;
  h->calls++;
  *out = x + h->rules[fi].add;
  return SF_OK;
}

/* FzHooks: byte 1 of the layer is the XOR of everything after byte 1 */
static int fz_post_build(void *host, const sf_cview *v, uint8_t *layer,
                         size_t n) {
  uint8_t x = 0;
  size_t i;
  (void)v;
  ((fz_host *)host)->calls++;
  for (i = 2; i < n; i++) x ^= layer[i];
  if (n > 1) layer[1] = x;
  return SF_OK;
}

/* FzHooks: type 1 is followed by an FzTlv */
static int fz_guess(void *host, const sf_cview *v, int *next) {
  uint64_t type = 0;
  ((fz_host *)host)->calls++;
  *next = fz_value(v, 0, &type) && type == 1 ? sf_proto_find("FzTlv") : -1;
  return SF_OK;
}

static void fz_error(void *host, const char *msg) {
  fz_host *h = host;
  h->errors++;
  snprintf(h->err, sizeof h->err, "%s", msg);
}

static const sf_custom_ops fz_ops = {
  fz_number, fz_cond, fz_adjust, fz_post_build, fz_guess, fz_error, NULL
};

/* ---- the definitions ------------------------------------------------------- */

#define FZ_U(n, b, d) {.name = n, .type = SF_T_UINT, .bits = b, .def = d}
#define FZ_UF(n, b, d, fl) {.name = n, .type = SF_T_UINT, .bits = b, .def = d, .flags = fl}
#define FZ_B(n) {.name = n, .type = SF_T_BYTES}
#define FZ_NONE {.len_of = -1, .count_of = -1, .sub_proto = -1}
#define FZ_KIND(k) {.kind = k, .len_of = -1, .count_of = -1, .sub_proto = -1}
#define FZ_LENOF(t) {.len_of = t, .count_of = -1, .sub_proto = -1}
#define FZ_CNTOF(t) {.len_of = -1, .count_of = t, .sub_proto = -1}
#define FZ_R0 {-1, 0, -1, 0}

static const sf_enum fz_flag_names[] = {
  {0, "A"}, {1, "B"}, {2, "C"}, {3, "D"}, {4, "E"}, {5, "F"}, {6, "G"},
  {7, "H"}, {8, "I"}, {9, "J"}, {10, "K"}, {11, "L"}, {0, NULL}
};

/* every fixed-size type: static offsets, no host */
static const sf_field fz_fixed_f[] = {
  FZ_U("a", 8, 1), FZ_UF("b", 16, 0xabcd, SF_FF_HEX), FZ_UF("c", 16, 0x0102, SF_FF_LE),
  FZ_UF("d", 32, 0x01020304, SF_FF_LE), FZ_UF("e", 8, 0xfb, SF_FF_SIGNED),
  FZ_UF("f", 32, 0xfffffffe, SF_FF_SIGNED), FZ_U("g", 64, 0x0102030405060708),
  FZ_U("h", 4, 4), FZ_U("i", 4, 5),
  {.name = "j", .type = SF_T_FLAGS, .bits = 12, .def = 5, .enums = fz_flag_names},
  FZ_U("k", 4, 3), FZ_UF("k2", 24, 0x010203, SF_FF_LE),
  {.name = "l", .type = SF_T_IP4, .bits = 32, .defstr = "10.0.0.1"},
  {.name = "m", .type = SF_T_IP6, .bits = 128, .defstr = "2001:db8::1"},
  {.name = "n", .type = SF_T_MAC, .bits = 48, .defstr = "00:11:22:33:44:55"},
};
static const sf_cfield fz_fixed_c[15] = {FZ_NONE, FZ_NONE, FZ_NONE, FZ_NONE, FZ_NONE,
  FZ_NONE, FZ_NONE, FZ_NONE, FZ_NONE, FZ_NONE, FZ_NONE, FZ_NONE, FZ_NONE, FZ_NONE, FZ_NONE};
static const fz_rule fz_fixed_r[15] = {FZ_R0};

/* strings: fixed length, NUL-terminated, the rest */
static const sf_field fz_str_f[] = {FZ_B("tag"), FZ_B("label"), FZ_U("mid", 8, 0), FZ_B("rest")};
static const sf_cfield fz_str_c[] = {
  {.kind = SF_CK_FIXLEN, .bytes = 4, .len_of = -1, .count_of = -1, .sub_proto = -1,
   .defbytes = (const uint8_t *)"ab", .ndef = 2},
  {.kind = SF_CK_NULL, .len_of = -1, .count_of = -1, .sub_proto = -1,
   .defbytes = (const uint8_t *)"x", .ndef = 1},
  FZ_NONE, FZ_KIND(SF_CK_REST)};
static const fz_rule fz_str_r[4] = {FZ_R0};

/* a TLV: the items of the packet lists */
static const sf_field fz_tlv_f[] = {FZ_U("t", 8, 1), FZ_U("l", 8, 0), FZ_B("v")};
static const sf_cfield fz_tlv_c[] = {FZ_NONE, FZ_LENOF(2),
  {.kind = SF_CK_VAR, .hooks = SF_CH_LENGTH, .len_of = -1, .count_of = -1, .sub_proto = -1}};
static const fz_rule fz_tlv_r[] = {FZ_R0, FZ_R0, {1, 0, -1, 0}};

/* lengths and counts: big- and little-endian, adjusted */
static const sf_field fz_len_f[] = {FZ_U("len", 16, 0), FZ_U("cnt", 8, 0),
  FZ_UF("alen", 16, 0, SF_FF_LE), FZ_B("data"), FZ_B("items"), FZ_B("data2")};
static const sf_cfield fz_len_c[] = {FZ_LENOF(3), FZ_CNTOF(4),
  {.hooks = SF_CH_ADJUST, .len_of = 5, .count_of = -1, .sub_proto = -1},
  {.kind = SF_CK_VAR, .hooks = SF_CH_LENGTH, .len_of = -1, .count_of = -1, .sub_proto = -1},
  {.kind = SF_CK_VAR, .hooks = SF_CH_COUNT, .item_bytes = 2, .len_of = -1, .count_of = -1,
   .sub_proto = -1},
  {.kind = SF_CK_VAR, .hooks = SF_CH_LENGTH, .len_of = -1, .count_of = -1, .sub_proto = -1}};
static const fz_rule fz_len_r[] = {FZ_R0, FZ_R0, {-1, 2, -1, 0}, {0, 0, -1, 0},
  {1, 0, -1, 0}, {2, -2, -1, 0}};

/* lists of addresses, by length and by count */
static const sf_field fz_addr_f[] = {FZ_U("ln", 8, 0), FZ_B("addrs"), FZ_U("n6", 32, 0),
  FZ_B("addrs6"), FZ_UF("nle", 16, 0, SF_FF_LE), FZ_B("les")};
static const sf_cfield fz_addr_c[] = {FZ_LENOF(1),
  {.kind = SF_CK_VAR, .hooks = SF_CH_LENGTH, .item_bytes = 4, .len_of = -1, .count_of = -1,
   .sub_proto = -1},
  FZ_CNTOF(3),
  {.kind = SF_CK_VAR, .hooks = SF_CH_COUNT, .item_bytes = 16, .len_of = -1, .count_of = -1,
   .sub_proto = -1},
  FZ_CNTOF(5),
  {.kind = SF_CK_VAR, .hooks = SF_CH_COUNT, .item_bytes = 4, .len_of = -1, .count_of = -1,
   .sub_proto = -1}};
static const fz_rule fz_addr_r[] = {FZ_R0, {0, 0, -1, 0}, FZ_R0, {2, 0, -1, 0}, FZ_R0,
  {4, 0, -1, 0}};

/* packet lists by length and by count, a fixed field after them; the
   items' protocol is filled in once FzTlv is registered */
static const sf_field fz_pkts_f[] = {FZ_U("kind", 8, 0), FZ_U("blen", 16, 0), FZ_B("more"),
  FZ_U("cnt", 8, 0), FZ_B("elems"), FZ_U("trailer", 16, 0xffff)};
static sf_cfield fz_pkts_c[] = {FZ_NONE, FZ_LENOF(2),
  {.kind = SF_CK_VAR, .hooks = SF_CH_LENGTH, .len_of = -1, .count_of = -1, .sub_proto = -1},
  FZ_CNTOF(4),
  {.kind = SF_CK_VAR, .hooks = SF_CH_COUNT, .len_of = -1, .count_of = -1, .sub_proto = -1},
  FZ_NONE};
static const fz_rule fz_pkts_r[] = {FZ_R0, FZ_R0, {1, 0, -1, 0}, FZ_R0, {3, 0, -1, 0}, FZ_R0};

/* conditions before, around and on every kind of variable field */
static const sf_field fz_cond_f[] = {FZ_U("op", 8, 0), FZ_U("ln", 8, 0), FZ_U("x", 32, 7),
  FZ_B("s"), FZ_B("n"), FZ_U("w", 16, 2), FZ_U("pc", 8, 0), FZ_B("pk"), FZ_U("y", 8, 9),
  FZ_B("f"), FZ_B("rest")};
static sf_cfield fz_cond_c[] = {FZ_NONE, FZ_LENOF(3),
  {.hooks = SF_CH_COND, .len_of = -1, .count_of = -1, .sub_proto = -1},
  {.kind = SF_CK_VAR, .hooks = SF_CH_LENGTH, .len_of = -1, .count_of = -1, .sub_proto = -1},
  {.kind = SF_CK_NULL, .hooks = SF_CH_COND, .len_of = -1, .count_of = -1, .sub_proto = -1},
  {.hooks = SF_CH_COND, .align = 4, .len_of = -1, .count_of = -1, .sub_proto = -1},
  FZ_CNTOF(7),
  {.kind = SF_CK_VAR, .hooks = SF_CH_COUNT | SF_CH_COND, .len_of = -1, .count_of = -1,
   .sub_proto = -1},
  {.hooks = SF_CH_COND, .len_of = -1, .count_of = -1, .sub_proto = -1},
  {.kind = SF_CK_FIXLEN, .hooks = SF_CH_COND, .bytes = 3, .len_of = -1, .count_of = -1,
   .sub_proto = -1, .defbytes = (const uint8_t *)"ff", .ndef = 2},
  FZ_KIND(SF_CK_REST)};
static const fz_rule fz_cond_r[] = {FZ_R0, FZ_R0, {-1, 0, 0, 1}, {1, 0, -1, 0},
  {-1, 0, 0, 2}, {-1, 0, 0, 4}, FZ_R0, {6, 0, 0, 8}, {-1, 0, 0, 16}, {-1, 0, 0, 32}, FZ_R0};

/* padding: a string and a byte padded to 4, a length-from string to 8 */
static const sf_field fz_pad_f[] = {FZ_B("s"), FZ_U("b", 8, 9), FZ_U("z", 16, 0x0102),
  FZ_U("ln", 8, 0), FZ_B("v"), FZ_U("last", 8, 3)};
static const sf_cfield fz_pad_c[] = {
  {.kind = SF_CK_NULL, .align = 4, .len_of = -1, .count_of = -1, .sub_proto = -1,
   .defbytes = (const uint8_t *)"ab", .ndef = 2},
  {.align = 4, .len_of = -1, .count_of = -1, .sub_proto = -1}, FZ_NONE, FZ_LENOF(4),
  {.kind = SF_CK_VAR, .hooks = SF_CH_LENGTH, .align = 8, .len_of = -1, .count_of = -1,
   .sub_proto = -1},
  FZ_NONE};
static const fz_rule fz_pad_r[] = {FZ_R0, FZ_R0, FZ_R0, FZ_R0, {3, 0, -1, 0}, FZ_R0};

/* hooks: post_build's XOR in ck, guess_payload by type */
static const sf_field fz_hooks_f[] = {FZ_U("type", 8, 1), FZ_UF("ck", 8, 0, SF_FF_HEX),
  FZ_B("body")};
static const sf_cfield fz_hooks_c[] = {FZ_NONE, FZ_NONE,
  {.kind = SF_CK_FIXLEN, .bytes = 2, .len_of = -1, .count_of = -1, .sub_proto = -1}};
static const fz_rule fz_hooks_r[3] = {FZ_R0};

typedef struct fz_def {
  const char *name;
  const sf_field *fields;
  sf_cfield *cf;          /* sub_proto patched: FzTlv's id */
  int nfields;
  const fz_rule *rules;
  unsigned hooks;
} fz_def;

static fz_def fz_defs[] = {
  {"FzFixed", fz_fixed_f, (sf_cfield *)fz_fixed_c, 15, fz_fixed_r, 0},
  {"FzStr", fz_str_f, (sf_cfield *)fz_str_c, 4, fz_str_r, 0},
  {"FzTlv", fz_tlv_f, (sf_cfield *)fz_tlv_c, 3, fz_tlv_r, 0},
  {"FzLen", fz_len_f, (sf_cfield *)fz_len_c, 6, fz_len_r, 0},
  {"FzAddr", fz_addr_f, (sf_cfield *)fz_addr_c, 6, fz_addr_r, 0},
  {"FzPkts", fz_pkts_f, fz_pkts_c, 6, fz_pkts_r, 0},
  {"FzCond", fz_cond_f, fz_cond_c, 11, fz_cond_r, 0},
  {"FzPad", fz_pad_f, (sf_cfield *)fz_pad_c, 6, fz_pad_r, 0},
  {"FzHooks", fz_hooks_f, (sf_cfield *)fz_hooks_c, 3, fz_hooks_r,
   SF_CH_POST_BUILD | SF_CH_GUESS},
};
#define FZ_NDEFS (int)(sizeof fz_defs / sizeof fz_defs[0])

static fz_host fz_hosts[FZ_NDEFS];
static int fz_ids[FZ_NDEFS];

/* Register them all once (FzTlv before the lists of it); 0 or -1 with
   the reason in err. */
static int fz_define_all(char *err, size_t errlen) {
  int i, tlv = -1;
  for (i = 0; i < FZ_NDEFS; i++) {
    fz_def *d = &fz_defs[i];
    sf_cdef def;
    sf_custom *c;
    int k;
    for (k = 0; k < d->nfields; k++)  /* packet lists: FzTlv items */
      if (d->cf[k].kind == SF_CK_VAR && (d->cf[k].hooks & SF_CH_COUNT) &&
          !d->cf[k].item_bytes)
        d->cf[k].sub_proto = tlv;
    fz_hosts[i].name = d->name;
    fz_hosts[i].rules = d->rules;
    memset(&def, 0, sizeof def);
    def.name = d->name;
    def.nfields = d->nfields;
    def.fields = d->fields;
    def.cf = d->cf;
    def.hooks = d->hooks;
    def.ops = &fz_ops;
    def.host = &fz_hosts[i];
    if (!(c = sf_custom_new(&def, err, errlen))) return -1;
    if ((fz_ids[i] = sf_custom_register(c)) < 0) {
      snprintf(err, errlen, "%s: cannot register (%d)", d->name, fz_ids[i]);
      sf_custom_free(c);
      return -1;
    }
    if (strcmp(d->name, "FzTlv") == 0) tlv = fz_ids[i];
  }
  return 0;
}

#endif

