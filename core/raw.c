/*
 * raw.c -- Raw and Padding: bytes no protocol claims.  They belong to the
 * engine (the dissector falls back on them), so they are registered first,
 * with the fixed ids SF_RAW and SF_PADDING.
 */
#include "sf.h"

static const sf_field raw_fields[] = {
  {"load", SF_T_BYTES, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

static size_t all_bytes(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n;
}

static void load_span(const uint8_t *h, size_t hlen, int fi, size_t *off,
                      size_t *len) {
  (void)h;
  (void)fi;
  *off = 0;
  *len = hlen;
}

/* Bytes no dissector claims are Wireshark's "data" */
static const sf_wsfield raw_ws[] = {{"data.data", "load", NULL, 0, 0, 0}, {NULL, NULL, NULL, 0, 0, 0}};

static sf_proto raw = {
  .name = "Raw", .display = "Raw", .kind = "Raw",
  .fields = raw_fields, .nfields = 1, .minlen = 0,
  .ws = "data", .ws_fields = raw_ws, .hdr_len = all_bytes, .var = load_span,
};

static sf_proto padding = {
  .name = "Padding", .display = "Padding", .kind = "Padding",
  .fields = raw_fields, .nfields = 1, .minlen = 0,
  .hdr_len = all_bytes, .var = load_span,
};

void sf_register_raw(void);

void sf_register_raw(void) {
  sf_register(&raw);
  sf_register(&padding);
}
