/*
 * raw.c -- Raw and Padding: bytes no protocol claims.
 */
#include "common.h"

static const sf_field raw_fields[] = {
  BYTESF("load", 0, 0, NULL, NULL, 0),
};

static size_t all_bytes(const uint8_t *h, size_t n) {
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

static sf_proto raw = {
  .name = "Raw", .display = "Raw", .kind = "Raw",
  .fields = raw_fields, .nfields = NFIELDS(raw_fields), .minlen = 0,
  .next_field = -1, .hdr_len = all_bytes, .var = load_span,
};

static sf_proto padding = {
  .name = "Padding", .display = "Padding", .kind = "Padding",
  .fields = raw_fields, .nfields = NFIELDS(raw_fields), .minlen = 0,
  .next_field = -1, .hdr_len = all_bytes, .var = load_span,
};

void sf_register_raw(void) {
  sf_register(&raw);
  sf_register(&padding);
}
