/*
 * fuzz_http.c -- libFuzzer target for HTTP/1 and HTTP/2: messages and
 * frames parsed from hostile bytes and every field read; copies changed
 * (rebuild.h's round, and a header set or added, a frame's flags set:
 * the header or frame written again, lengths filled in) and parsed again;
 * and libnghttp2's HPACK through the engine's codecs: a block decoded
 * alone, blocks decoded in sequence with a table size, header lists
 * encoded.
 *
 * Input: one selector byte -- where the bytes start: an HTTP request, a
 * response, an HTTP/2 frame (its type byte picks the layer), the client
 * preface, an Ethernet frame (ports and heuristics), or HPACK bytes --
 * then the bytes.  The seeds corpus/http-* are Scapy's captures' messages
 * and frames and RFC 7541's blocks; the dissector target reaches both
 * through TCP as well.
 */
#include "rebuild.h"

static const char *const starts[] = {"HTTPRequest", "HTTPResponse", "H2Frame", "H2Preface", "Ether"};
static const char *const frames[] = {
  "H2DataFrame", "H2HeadersFrame", "H2PriorityFrame", "H2ResetFrame", "H2SettingsFrame",
  "H2PushPromiseFrame", "H2PingFrame", "H2GoAwayFrame", "H2WindowUpdateFrame",
  "H2ContinuationFrame"
};
static const char *const prefixes[] = {"HTTP", "H2", NULL};

/* Beyond rebuild.h's change: in each HTTP/1 layer a named header (there
   or not: its line replaced, or added in Scapy's place) gets some of the
   input; in each HTTP/2 frame the flags change (fields come and go); the
   copy is rebuilt and parsed again. */
static void headers_and_flags(int first, const uint8_t *data, size_t size) {
  sf_pkt p, q;
  int li;
  sf_pkt_init(&p);
  sf_pkt_init(&q);
  if (sf_pkt_borrow(&p, data, size) != SF_OK) return;
  sf_dissect(&p, first);
  if (sf_pkt_copy(&q, &p) == SF_OK) {
    for (li = 0; li < q.nlayers && li < 8; li++) {
      const sf_proto *pr = sf_proto_get(q.layers[li].proto);
      int fi = sf_field_find(pr, "flags");
      sf_val v = {0, data, size < 40 ? size : 40};
      if (strncmp(pr->name, "HTTP", 4) == 0 && pr->nfields > 4) {
        sf_field_set(&q, li, 4 + (int)(size % (size_t)(pr->nfields - 4)), &v);
      } else if (strncmp(pr->name, "H2", 2) == 0 && fi >= 0 &&
                 sf_field_get(&q, li, fi, &v) == SF_OK) {
        v.u ^= size & 0xff;
        sf_field_set(&q, li, fi, &v);
      }
    }
    q.flags |= SF_P_DIRTY;
    if (sf_finalize(&q) == SF_OK) {
      read_all(&q);
      sf_pkt_free(&p);
      sf_pkt_init(&p);
      if (sf_pkt_copy(&p, &q) == SF_OK) {  /* what the rebuild wrote parses again */
        sf_dissect(&p, first);
        read_all(&p);
      }
    }
  }
  sf_pkt_free(&q);
  sf_pkt_free(&p);
}

/* HPACK: the bytes as one block, as a sequence, and as a list to encode. */
static void hpack(const uint8_t *data, size_t size) {
  static char out[1 << 16];
  const sf_codec *one = sf_codec_find("hpack"), *seq = sf_codec_find("hpack_seq");
  int n;
  if (!one || !seq) abort();
  n = one->to_text(NULL, -1, -1, data, size, out, sizeof out);
  if (n >= 0 && (size_t)n < sizeof out) sink ^= (uint8_t)out[n / 2];
  n = seq->to_text(NULL, -1, -1, data, size, out, sizeof out);
  if (n >= 0 && (size_t)n < sizeof out) sink ^= (uint8_t)out[n / 2];
  n = one->from_text((const char *)data, size, (uint8_t *)out, sizeof out);
  if (n > (int)sizeof out) abort();
  n = seq->from_text((const char *)data, size, (uint8_t *)out, sizeof out);
  if (n > (int)sizeof out) abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  sf_init();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int first, sel;
  if (size < 1) return 0;
  sel = data[0] % 6;
  data++;
  size--;
  if (sel == 5) {
    hpack(data, size);
    return 0;
  }
  first = sf_proto_find(starts[sel]);
  if (sel == 2 && size >= 4 && data[3] < 10) first = sf_proto_find(frames[data[3]]);
  round_trip(first, data, size, prefixes);
  headers_and_flags(first, data, size);
  return 0;
}
