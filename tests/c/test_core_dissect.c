/*
 * test_core_dissect.c -- the engine's dissector, field access and
 * finalize (lengths, checksums), on real frames.
 *
 * Frames (hex copied unchanged from captures in shared/captures):
 *   SYN     scapy/http_content_length.pcap frame 1 (62 B, Ether/IPv4/TCP, MSS+SACK-perm)
 *           (secdev/scapy test/pcaps, GPL-2.0; also listed in refdata/08-checksums.md)
 *   ACKPAD  scapy/http_content_length.pcap frame 5 (60 B: IPv4 total length 40, 6 B padding)
 *   VLAN    tcpdump/ipv4_tcp_http_xml.pcap frame 1 (663 B, Ether/802.1Q vlan 165/IPv4/TCP/HTTP)
 *           (the-tcpdump-group/tcpdump tests, BSD-3-Clause)
 *   MLD     tcpdump/icmpv6.pcap frame 2 (90 B, Ether/IPv6/Hop-by-Hop(router alert)/ICMPv6 MLDv2)
 * Synthetic frames (ICMP errors, IPv6 extension chains) are built below
 * byte by byte, with their checksums computed by this file's own code.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf.h"

#include "check.h"

/* ---- helpers ------------------------------------------------------------ */

static size_t unhex(const char *s, uint8_t *out, size_t cap) {
  size_t n = 0;
  while (s[0] && s[1] && n < cap) {
    unsigned v;
    if (sscanf(s, "%2x", &v) != 1) abort();
    out[n++] = (uint8_t)v;
    s += 2;
  }
  return n;
}

/* RFC 1071, written independently of core/build.c */
static uint16_t cksum(const uint8_t *d, size_t n, uint32_t sum) {
  size_t i;
  for (i = 0; i + 1 < n; i += 2) sum += (uint32_t)(d[i] << 8 | d[i + 1]);
  if (n & 1) sum += (uint32_t)d[n - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* sum of the IPv4 pseudo-header for an upper layer of len bytes */
static uint32_t pseudo4(const uint8_t *ip, uint8_t proto, size_t len) {
  uint32_t s = 0;
  int i;
  for (i = 12; i < 20; i += 2) s += rd16(ip + i);
  return s + proto + (uint32_t)len;
}

static uint32_t pseudo6(const uint8_t *ip6, uint8_t proto, size_t len) {
  uint32_t s = 0;
  int i;
  for (i = 8; i < 40; i += 2) s += rd16(ip6 + i);
  return s + proto + (uint32_t)len;
}

/* dissect a private heap copy, so that ASan sees any read past the end */
typedef struct {
  sf_pkt p;
  uint8_t *bytes;
} frame;

static void frame_open(frame *f, int linktype, const uint8_t *d, size_t n) {
  f->bytes = malloc(n ? n : 1);
  if (!f->bytes) abort();
  if (n) memcpy(f->bytes, d, n);
  sf_pkt_init(&f->p);
  f->p.linktype = linktype;
  if (sf_pkt_borrow(&f->p, f->bytes, n) != SF_OK) abort();
  sf_dissect(&f->p, sf_linktype_proto(linktype, f->bytes, n));
}

static void frame_close(frame *f) {
  sf_pkt_free(&f->p);
  free(f->bytes);
}

/* a copy sharing src's bytes; dst starts as a fresh packet */
static int copy_pkt(sf_pkt *dst, const sf_pkt *src) {
  sf_pkt_init(dst);
  return sf_pkt_copy(dst, src);
}

static int fidx(const sf_pkt *p, int li, const char *name) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  int fi = sf_field_find(pr, name);
  if (fi < 0) {
    fprintf(stderr, "no field %s in %s\n", name, pr->name);
    return -1;
  }
  return sf_field_resolve(p, li, fi);
}

/* value of an integer field, or ~0 when absent */
static uint64_t getu(const sf_pkt *p, int li, const char *name) {
  sf_val v;
  int fi = fidx(p, li, name);
  if (fi < 0 || sf_field_get(p, li, fi, &v) != SF_OK) return ~UINT64_C(0);
  return v.u;
}

static int getbytes(const sf_pkt *p, int li, const char *name, const char *hex) {
  uint8_t want[256];
  size_t n = unhex(hex, want, sizeof want);
  sf_val v;
  int fi = fidx(p, li, name);
  if (fi < 0 || sf_field_get(p, li, fi, &v) != SF_OK) return 0;
  return v.n == n && memcmp(v.p, want, n) == 0;
}

static int setu(sf_pkt *p, int li, const char *name, uint64_t u) {
  sf_val v = {u, NULL, 0};
  int fi = fidx(p, li, name);
  return fi < 0 ? -1 : sf_field_set(p, li, fi, &v);
}

static int layer_is(const sf_pkt *p, int li, int proto, size_t off, size_t hlen,
                    size_t end) {
  const sf_layer *l;
  if (li >= p->nlayers) return 0;
  l = &p->layers[li];
  if (l->proto == proto && l->off == off && l->hlen == hlen && l->end == end)
    return 1;
  fprintf(stderr, "  layer %d: proto %d off %u hlen %u end %u (want %d %zu %zu %zu)\n",
          li, l->proto, l->off, l->hlen, l->end, proto, off, hlen, end);
  return 0;
}

/* every layer inside the bytes, every present field readable */
static int index_sane(const sf_pkt *p) {
  int li, fi;
  for (li = 0; li < p->nlayers; li++) {
    const sf_layer *l = &p->layers[li];
    const sf_proto *pr = sf_proto_get(l->proto);
    if (!pr || l->off > p->len || l->off + l->hlen > p->len || l->end > p->len ||
        l->off + l->hlen > l->end)
      return 0;
    for (fi = 0; fi < pr->nfields; fi++) {
      sf_val v;
      volatile uint8_t x = 0;
      size_t i;
      if (!sf_field_present(p, li, fi)) continue;
      if (sf_field_get(p, li, fi, &v) != SF_OK) return 0;
      for (i = 0; i < v.n; i++) x ^= v.p[i];
      (void)x;
    }
  }
  return 1;
}

/* ---- frames ---------------------------------------------------------------- */

static const char SYN[] =
    "00190725929b001321c998c2080045000030c6d740008006898b0a01010342f9"
    "5c6853fa005025a02539000000007002ffff3a5f0000020404ec01010402";

static const char ACKPAD[] =
    "001321c998c200190725929b080045000028cdd100003006129a42f95c680a01"
    "0103005053fad3941a0125a02730501019205d9f0000000000000000";

static const char MLD[] =
    "333300000016001517cce54686dd6000000000240001fe80000000000000021517"
    "fffecce546ff0200000000000000000000000000163a000502000001008f001fc5"
    "0000000104000000ff0200000000000000000db811223344";

static const char VLAN[] =
    "0003b27804170050569f369f810000a508004500028559ef4000800619270a150b"
    "5e0a726578005016873627f412a08eb5755018f906bdc40000485454502f312e31"
    "20323030204f4b0d0a446174653a205475652c203138204d617220323031342031"
    "393a31323a303520474d540d0a5365727665723a204d6963726f736f66742d4949"
    "532f362e300d0a43616368652d436f6e74726f6c3a6e6f2d63616368650d0a582d"
    "506f77657265642d42793a204153502e4e45540d0a582d4173704e65742d566572"
    "73696f6e3a20342e302e33303331390d0a43616368652d436f6e74726f6c3a2070"
    "7269766174652c206d61782d6167653d300d0a436f6e74656e742d547970653a20"
    "746578742f786d6c3b20636861727365743d7574662d380d0a436f6e74656e742d"
    "4c656e6774683a203335310d0a0d0a3c3f786d6c2076657273696f6e3d22312e30"
    "2220656e636f64696e673d227574662d38223f3e3c736f61703a456e76656c6f70"
    "6520786d6c6e733a736f61703d22687474703a2f2f736368656d61732e786d6c73"
    "6f61702e6f72672f736f61702f656e76656c6f70652f2220786d6c6e733a787369"
    "3d22687474703a2f2f7777772e77332e6f72672f323030312f584d4c536368656d"
    "612d696e7374616e63652220786d6c6e733a7873643d22687474703a2f2f777777"
    "2e77332e6f72672f323030312f584d4c536368656d61223e3c736f61703a426f64"
    "793e3c57616974466f72526573706f6e736520786d6c6e733d22687474703a2f2f"
    "74656d707572692e6f72672f223e3c57616974466f72526573756c743e48656c6c"
    "6f20576f726c643c2f57616974466f72526573756c743e3c2f57616974466f7252"
    "6573706f6e73653e3c2f736f61703a426f64793e3c2f736f61703a456e76656c6f"
    "70653e";

static uint8_t buf[2048];

/* ---- Ethernet / IPv4 / TCP ----------------------------------------------- */

static void test_syn(void) {
  size_t n = unhex(SYN, buf, sizeof buf);
  frame f;
  sf_pkt *p = &f.p;
  CHECK_EQ(n, 62);
  frame_open(&f, 1, buf, n);
  CHECK_EQ(p->nlayers, 3);
  CHECK(layer_is(p, 0, ID("Ether"), 0, 14, 62));
  CHECK(layer_is(p, 1, ID("IP"), 14, 20, 62));
  CHECK(layer_is(p, 2, ID("TCP"), 34, 28, 62));
  CHECK(!(p->flags & SF_P_TRUNC));
  CHECK(p->flags & SF_P_PARSED);
  CHECK(getbytes(p, 0, "dst", "00190725929b"));
  CHECK(getbytes(p, 0, "src", "001321c998c2"));
  CHECK_EQ(getu(p, 0, "type"), 0x0800);
  CHECK_EQ(getu(p, 1, "version"), 4);
  CHECK_EQ(getu(p, 1, "ihl"), 5);
  CHECK_EQ(getu(p, 1, "len"), 48);
  CHECK_EQ(getu(p, 1, "id"), 0xc6d7);
  CHECK_EQ(getu(p, 1, "flags"), 2); /* DF */
  CHECK_EQ(getu(p, 1, "frag"), 0);
  CHECK_EQ(getu(p, 1, "ttl"), 128);
  CHECK_EQ(getu(p, 1, "proto"), 6);
  CHECK_EQ(getu(p, 1, "chksum"), 0x898b);
  CHECK(getbytes(p, 1, "src", "0a010103"));
  CHECK(getbytes(p, 1, "dst", "42f95c68"));
  CHECK(getbytes(p, 1, "options", ""));
  CHECK_EQ(getu(p, 2, "sport"), 21498);
  CHECK_EQ(getu(p, 2, "dport"), 80);
  CHECK_EQ(getu(p, 2, "seq"), 0x25a02539);
  CHECK_EQ(getu(p, 2, "ack"), 0);
  CHECK_EQ(getu(p, 2, "dataofs"), 7);
  CHECK_EQ(getu(p, 2, "flags"), 0x002); /* S */
  CHECK_EQ(getu(p, 2, "window"), 0xffff);
  CHECK_EQ(getu(p, 2, "chksum"), 0x3a5f);
  CHECK(getbytes(p, 2, "options", "020404ec01010402"));
  /* the captured checksums are right, by this file's own arithmetic */
  CHECK_EQ(cksum(buf + 14, 20, 0), 0);
  CHECK_EQ(cksum(buf + 34, 28, pseudo4(buf + 14, 6, 28)), 0);
  /* finalize of an unchanged packet changes nothing */
  CHECK_EQ(sf_finalize(p), SF_OK);
  CHECK(p->data == f.bytes && memcmp(f.bytes, buf, n) == 0);
  CHECK(index_sane(p));
  frame_close(&f);
}

/* every prefix of a frame: no crash, a prefix of the full layer list ending
   in Raw for what did not parse, SF_P_TRUNC where bytes are missing */
static void sweep(const char *name, int linktype, const uint8_t *d, size_t n,
                  int check_trunc) {
  frame full;
  size_t len;
  int bad = 0;
  frame_open(&full, linktype, d, n);
  for (len = 0; len <= n; len++) {
    frame f;
    sf_pkt *p = &f.p, q;
    int li, prefix_ok = 1;
    frame_open(&f, linktype, d, len);
    if (!index_sane(p)) bad++, fprintf(stderr, "  %s len %zu: index\n", name, len);
    if (len == 0 && p->nlayers != 0) bad++;
    if (len > 0) {
      const sf_layer *last = &p->layers[p->nlayers - 1];
      /* layers in byte order: the innermost header reaches the end of the
         bytes, or a Raw / Padding layer holds the rest */
      size_t covered = 0;
      for (li = 0; li < p->nlayers; li++)
        if (p->layers[li].off + p->layers[li].hlen > covered)
          covered = p->layers[li].off + p->layers[li].hlen;
      if (covered != len) bad++, fprintf(stderr, "  %s len %zu: covered %zu\n", name, len, covered);
      (void)last;
      for (li = 0; li < p->nlayers; li++) {
        const sf_layer *l = &p->layers[li];
        if (li < full.p.nlayers && l->proto == full.p.layers[li].proto &&
            l->off == full.p.layers[li].off)
          continue;
        /* past the common prefix only Raw (what did not parse) may follow */
        if (l->proto != SF_RAW || li != p->nlayers - 1) prefix_ok = 0;
      }
      if (!prefix_ok && p->nlayers && p->layers[p->nlayers - 1].proto != SF_PADDING)
        bad++, fprintf(stderr, "  %s len %zu: not a prefix of the full dissection\n", name, len);
    }
    if (check_trunc && len < n && len > 0) {
      /* at a header boundary nothing says bytes are missing; elsewhere the
         packet must say so */
      int boundary = 0;
      for (li = 0; li < full.p.nlayers; li++)
        if (full.p.layers[li].off + full.p.layers[li].hlen == len &&
            full.p.layers[li].end != len && p->nlayers == li + 1)
          boundary = 1;
      if (!boundary && !(p->flags & SF_P_TRUNC))
        bad++, fprintf(stderr, "  %s len %zu: SF_P_TRUNC not set\n", name, len);
    }
    if (len == n && check_trunc && (p->flags & SF_P_TRUNC))
      bad++, fprintf(stderr, "  %s: full frame marked truncated\n", name);
    /* change a copy and finalize: no crash, input untouched */
    if (copy_pkt(&q, p) == SF_OK) {
      for (li = 0; li < q.nlayers; li++)
        if (q.layers[li].proto == ID("IP") || q.layers[li].proto == ID("IPv6")) {
          setu(&q, li, q.layers[li].proto == ID("IP") ? "ttl" : "hlim", 7);
          break;
        }
      q.flags |= SF_P_DIRTY;
      sf_finalize(&q);
      if (!index_sane(&q)) bad++, fprintf(stderr, "  %s len %zu: index after finalize\n", name, len);
      if (memcmp(f.bytes, d, len) != 0) bad++, fprintf(stderr, "  %s len %zu: input written\n", name, len);
      sf_pkt_free(&q);
    }
    frame_close(&f);
  }
  frame_close(&full);
  if (bad) fprintf(stderr, "sweep %s: %d problems\n", name, bad);
  CHECK_EQ(bad, 0);
}

static void test_truncated_syn(void) {
  size_t n = unhex(SYN, buf, sizeof buf), len;
  sweep("SYN", 1, buf, n, 1);
  for (len = 0; len <= n; len++) {
    frame f;
    sf_pkt *p = &f.p;
    int ok = 1;
    frame_open(&f, 1, buf, len);
    if (len == 0) {
      ok = p->nlayers == 0;
    } else if (len < 14) {
      ok = p->nlayers == 1 && layer_is(p, 0, SF_RAW, 0, len, len) &&
           (p->layers[0].flags & SF_L_TRUNC) && (p->flags & SF_P_TRUNC);
    } else if (len < 34) {
      ok = layer_is(p, 0, ID("Ether"), 0, 14, len) &&
           (len == 14 ? p->nlayers == 1
                      : p->nlayers == 2 && layer_is(p, 1, SF_RAW, 14, len - 14, len));
    } else if (len < 62) {
      /* IPv4 parses but claims 48 bytes: the layer is marked cut short */
      ok = layer_is(p, 1, ID("IP"), 14, 20, len) && (p->layers[1].flags & SF_L_TRUNC) &&
           (p->flags & SF_P_TRUNC) &&
           (len == 34 ? p->nlayers == 2
                      : p->nlayers == 3 && layer_is(p, 2, SF_RAW, 34, len - 34, len) &&
                            (p->layers[2].flags & SF_L_TRUNC));
      /* the fields of a layer whose header is whole stay readable */
      ok = ok && getu(p, 1, "ttl") == 128 && getu(p, 1, "len") == 48;
    } else {
      ok = p->nlayers == 3 && !(p->flags & SF_P_TRUNC) && !(p->layers[1].flags & SF_L_TRUNC);
    }
    if (!ok) fprintf(stderr, "  truncated SYN at %zu bytes: unexpected layers\n", len);
    CHECK(ok);
    frame_close(&f);
  }
  /* a field beyond a cut header is absent, not garbage */
  {
    frame f;
    sf_val v;
    frame_open(&f, 1, buf, 12);
    CHECK_EQ(f.p.layers[0].proto, SF_RAW);
    frame_close(&f);
    frame_open(&f, 1, buf, 40);
    CHECK_EQ(f.p.layers[2].proto, SF_RAW);
    CHECK_EQ(sf_field_get(&f.p, 2, 0, &v), SF_OK);
    CHECK_EQ(v.n, 6);
    CHECK(v.p == f.bytes + 34);
    frame_close(&f);
  }
}

static void test_modify_checksums(void) {
  size_t n = unhex(SYN, buf, sizeof buf);
  frame f;
  sf_pkt q;
  const uint8_t *d;
  frame_open(&f, 1, buf, n);
  CHECK_EQ(copy_pkt(&q, &f.p), SF_OK);
  CHECK_EQ(setu(&q, 1, "ttl", 5), SF_OK);
  CHECK_EQ(setu(&q, 2, "dport", 8080), SF_OK);
  CHECK(q.flags & SF_P_DIRTY);
  CHECK(q.data != f.bytes);                 /* copy on write */
  CHECK(memcmp(f.bytes, buf, n) == 0);      /* the original is untouched */
  CHECK_EQ(getu(&f.p, 2, "dport"), 80);
  CHECK_EQ(sf_finalize(&q), SF_OK);
  CHECK(!(q.flags & SF_P_DIRTY));
  d = q.data;
  CHECK_EQ(q.len, 62);
  CHECK_EQ(d[14 + 8], 5);
  CHECK_EQ(rd16(d + 36), 8080);
  CHECK_EQ(getu(&q, 1, "len"), 48);
  CHECK_EQ(getu(&q, 1, "ihl"), 5);
  CHECK_EQ(getu(&q, 2, "dataofs"), 7);
  CHECK(getbytes(&q, 2, "options", "020404ec01010402"));
  /* IPv4 header checksum, independently: zero it, sum, complement */
  {
    uint8_t h[20];
    memcpy(h, d + 14, 20);
    h[10] = h[11] = 0;
    CHECK_EQ(getu(&q, 1, "chksum"), cksum(h, 20, 0));
    CHECK_EQ(cksum(d + 14, 20, 0), 0);
    CHECK(getu(&q, 1, "chksum") != 0x898b);
  }
  /* TCP checksum over the pseudo-header and the segment */
  {
    uint8_t s[28];
    memcpy(s, d + 34, 28);
    s[16] = s[17] = 0;
    CHECK_EQ(getu(&q, 2, "chksum"), cksum(s, 28, pseudo4(d + 14, 6, 28)));
    CHECK_EQ(cksum(d + 34, 28, pseudo4(d + 14, 6, 28)), 0);
  }
  /* a checksum the user set is kept; the others still follow changes */
  CHECK_EQ(setu(&q, 2, "chksum", 0xbeef), SF_OK);
  CHECK_EQ(setu(&q, 1, "ttl", 6), SF_OK);
  CHECK_EQ(sf_finalize(&q), SF_OK);
  CHECK_EQ(getu(&q, 2, "chksum"), 0xbeef);
  CHECK_EQ(cksum(q.data + 14, 20, 0), 0);
  /* back to automatic */
  CHECK_EQ(sf_field_default(&q, 2, sf_field_find(sf_proto_get(ID("TCP")), "chksum")), SF_OK);
  CHECK_EQ(sf_finalize(&q), SF_OK);
  CHECK_EQ(cksum(q.data + 34, 28, pseudo4(q.data + 14, 6, 28)), 0);
  /* out of range values are refused */
  CHECK_EQ(setu(&q, 1, "ttl", 256), SF_E_RANGE);
  CHECK_EQ(setu(&q, 2, "dataofs", 16), SF_E_RANGE);
  sf_pkt_free(&q);
  frame_close(&f);

  /* a packet cut by the snap length keeps the length its header claims
     when another field changes (bytes on the wire were longer) */
  frame_open(&f, 1, buf, 50);
  CHECK_EQ(copy_pkt(&q, &f.p), SF_OK);
  CHECK_EQ(setu(&q, 1, "ttl", 9), SF_OK);
  CHECK_EQ(sf_finalize(&q), SF_OK);
  CHECK_EQ(cksum(q.data + 14, 20, 0), 0);
  CHECK_EQ(getu(&q, 1, "len"), 48);
  sf_pkt_free(&q);
  frame_close(&f);
}

/* ---- padding ------------------------------------------------------------- */

static void test_padding(void) {
  size_t n = unhex(ACKPAD, buf, sizeof buf);
  frame f;
  sf_pkt q;
  sf_val v;
  CHECK_EQ(n, 60);
  frame_open(&f, 1, buf, n);
  CHECK_EQ(f.p.nlayers, 4);
  CHECK(layer_is(&f.p, 0, ID("Ether"), 0, 14, 60));
  CHECK(layer_is(&f.p, 1, ID("IP"), 14, 20, 54));
  CHECK(layer_is(&f.p, 2, ID("TCP"), 34, 20, 54));
  CHECK(layer_is(&f.p, 3, SF_PADDING, 54, 6, 60));
  CHECK(!(f.p.flags & SF_P_TRUNC));
  CHECK_EQ(sf_field_get(&f.p, 3, 0, &v), SF_OK);
  CHECK(v.n == 6 && v.p == f.bytes + 54);
  CHECK_EQ(getu(&f.p, 2, "flags"), 0x010); /* A */
  CHECK_EQ(getu(&f.p, 2, "chksum"), 0x5d9f);
  CHECK_EQ(cksum(buf + 34, 20, pseudo4(buf + 14, 6, 20)), 0);
  /* change, finalize: the checksum covers the segment, not the padding */
  CHECK_EQ(copy_pkt(&q, &f.p), SF_OK);
  CHECK_EQ(setu(&q, 2, "window", 1234), SF_OK);
  CHECK_EQ(sf_finalize(&q), SF_OK);
  CHECK_EQ(q.len, 60);
  CHECK_EQ(getu(&q, 1, "len"), 40);
  CHECK_EQ(cksum(q.data + 14, 20, 0), 0);
  CHECK_EQ(cksum(q.data + 34, 20, pseudo4(q.data + 14, 6, 20)), 0);
  CHECK(memcmp(q.data + 54, "\0\0\0\0\0\0", 6) == 0);
  sf_pkt_free(&q);
  frame_close(&f);
  sweep("ACKPAD", 1, buf, n, 0);

  /* nested padding: IPv4 in IPv4, the inner one shorter than the outer
     claims; inner padding comes first in the bytes */
  {
    static const uint8_t ipip[] = {
      0x45, 0, 0, 48, 0, 1, 0, 0, 64, 4, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
      0x45, 0, 0, 24, 0, 2, 0, 0, 64, 59, 0, 0, 10, 0, 0, 3, 10, 0, 0, 4,
      'a', 'b', 'c', 'd', 'P', 'P', 'P', 'P', 'Q', 'Q'};
    frame_open(&f, 228, ipip, sizeof ipip);
    CHECK(layer_is(&f.p, 0, ID("IP"), 0, 20, 48));
    CHECK(layer_is(&f.p, 1, ID("IP"), 20, 20, 44));
    CHECK(layer_is(&f.p, 2, SF_RAW, 40, 4, 44));
    CHECK(layer_is(&f.p, 3, SF_PADDING, 44, 4, 48));
    CHECK(layer_is(&f.p, 4, SF_PADDING, 48, 2, 50));
    CHECK_EQ(f.p.nlayers, 5);
    frame_close(&f);
  }
}

/* ---- VLAN ------------------------------------------------------------------- */

static void test_vlan(void) {
  size_t n = unhex(VLAN, buf, sizeof buf);
  frame f;
  sf_pkt q;
  CHECK_EQ(n, 663);
  frame_open(&f, 1, buf, n);
  CHECK_EQ(f.p.nlayers, 6);
  CHECK(layer_is(&f.p, 0, ID("Ether"), 0, 14, 663));
  CHECK(layer_is(&f.p, 1, ID("Dot1Q"), 14, 4, 663));
  CHECK(layer_is(&f.p, 2, ID("IP"), 18, 20, 663));
  CHECK(layer_is(&f.p, 3, ID("TCP"), 38, 20, 663));
  /* an HTTP response from port 80: its header, then the body */
  CHECK(layer_is(&f.p, 4, ID("HTTPResponse"), 58, 254, 663));
  CHECK(layer_is(&f.p, 5, SF_RAW, 312, 351, 663));
  CHECK_EQ(getu(&f.p, 0, "type"), 0x8100);
  CHECK_EQ(getu(&f.p, 1, "prio"), 0);
  CHECK_EQ(getu(&f.p, 1, "id"), 0);
  CHECK_EQ(getu(&f.p, 1, "vlan"), 165);
  CHECK_EQ(getu(&f.p, 1, "type"), 0x0800);
  CHECK_EQ(getu(&f.p, 2, "len"), 645);
  CHECK_EQ(getu(&f.p, 2, "chksum"), 0x1927);
  CHECK_EQ(getu(&f.p, 3, "sport"), 80);
  CHECK_EQ(getu(&f.p, 3, "dport"), 5767);
  CHECK_EQ(getu(&f.p, 3, "chksum"), 0xbdc4);
  CHECK_EQ(cksum(buf + 18, 20, 0), 0);
  CHECK_EQ(cksum(buf + 38, 625, pseudo4(buf + 18, 6, 625)), 0);
  /* the VLAN id is a 12-bit field: change it, the rest is intact */
  CHECK_EQ(copy_pkt(&q, &f.p), SF_OK);
  CHECK_EQ(setu(&q, 1, "vlan", 0xabc), SF_OK);
  CHECK_EQ(setu(&q, 1, "prio", 5), SF_OK);
  CHECK_EQ(setu(&q, 1, "vlan", 0x1000), SF_E_RANGE);
  CHECK_EQ(setu(&q, 3, "sport", 8080), SF_OK);
  CHECK_EQ(sf_finalize(&q), SF_OK);
  CHECK_EQ(rd16(q.data + 14), 0xaabc);
  CHECK_EQ(getu(&q, 1, "type"), 0x0800);
  CHECK_EQ(cksum(q.data + 18, 20, 0), 0);
  CHECK_EQ(cksum(q.data + 38, 625, pseudo4(q.data + 18, 6, 625)), 0);
  CHECK(memcmp(q.data + 58, buf + 58, 605) == 0);
  sf_pkt_free(&q);
  frame_close(&f);
  sweep("VLAN", 1, buf, n, 1);

  /* QinQ: 802.1ad outer tag, 802.1Q inner tag, ARP */
  {
    static const char qinq[] =
        "ffffffffffff02000000000188a8a06481000065080600010800060400010200"
        "00000001c0000201000000000000c0000202";
    size_t m = unhex(qinq, buf, sizeof buf);
    frame_open(&f, 1, buf, m);
    CHECK_EQ(f.p.nlayers, 4);
    CHECK(layer_is(&f.p, 0, ID("Ether"), 0, 14, m));
    CHECK(layer_is(&f.p, 1, ID("Dot1AD"), 14, 4, m));
    CHECK(layer_is(&f.p, 2, ID("Dot1Q"), 18, 4, m));
    CHECK(layer_is(&f.p, 3, ID("ARP"), 22, 28, m));
    CHECK_EQ(getu(&f.p, 1, "prio"), 5);
    CHECK_EQ(getu(&f.p, 1, "vlan"), 100);
    CHECK_EQ(getu(&f.p, 2, "vlan"), 101);
    CHECK_EQ(getu(&f.p, 3, "op"), 1);
    CHECK(getbytes(&f.p, 3, "pdst", "c0000202"));
    frame_close(&f);
  }
}

/* ---- IPv6 and its extension headers --------------------------------------- */

static void test_ipv6_hopopts(void) {
  size_t n = unhex(MLD, buf, sizeof buf);
  frame f;
  sf_pkt q;
  CHECK_EQ(n, 90);
  frame_open(&f, 1, buf, n);
  CHECK(f.p.nlayers == 4);
  CHECK(layer_is(&f.p, 0, ID("Ether"), 0, 14, 90));
  CHECK(layer_is(&f.p, 1, ID("IPv6"), 14, 40, 90));
  CHECK(layer_is(&f.p, 2, ID("IPv6ExtHdrHopByHop"), 54, 8, 90));
  CHECK(f.p.layers[3].proto == ID("ICMPv6") && f.p.layers[3].off == 62 &&
        f.p.layers[3].end == 90);
  CHECK(!(f.p.flags & SF_P_TRUNC));
  CHECK_EQ(getu(&f.p, 1, "version"), 6);
  CHECK_EQ(getu(&f.p, 1, "plen"), 36);
  CHECK_EQ(getu(&f.p, 1, "nh"), 0);
  CHECK_EQ(getu(&f.p, 1, "hlim"), 1);
  CHECK(getbytes(&f.p, 1, "src", "fe80000000000000021517fffecce546"));
  CHECK(getbytes(&f.p, 1, "dst", "ff020000000000000000000000000016"));
  CHECK_EQ(getu(&f.p, 2, "nh"), 58);
  CHECK_EQ(getu(&f.p, 2, "len"), 0);
  CHECK(getbytes(&f.p, 2, "options", "050200000100"));
  CHECK_EQ(getu(&f.p, 3, "type"), 143);
  CHECK_EQ(getu(&f.p, 3, "cksum"), 0x1fc5);
  CHECK_EQ(cksum(buf + 62, 28, pseudo6(buf + 14, 58, 28)), 0);
  /* change the hop limit (not in the pseudo-header) and the code */
  CHECK_EQ(copy_pkt(&q, &f.p), SF_OK);
  CHECK_EQ(setu(&q, 1, "hlim", 255), SF_OK);
  CHECK_EQ(sf_finalize(&q), SF_OK);
  CHECK_EQ(getu(&q, 1, "plen"), 36);
  CHECK_EQ(getu(&q, 2, "len"), 0);
  CHECK_EQ(getu(&q, 1, "nh"), 0);
  CHECK_EQ(getu(&q, 3, "cksum"), 0x1fc5);
  CHECK(memcmp(q.data + 62, buf + 62, 28) == 0);
  CHECK_EQ(setu(&q, 3, "code", 1), SF_OK);
  CHECK_EQ(sf_finalize(&q), SF_OK);
  CHECK_EQ(cksum(q.data + 62, 28, pseudo6(q.data + 14, 58, 28)), 0);
  sf_pkt_free(&q);
  frame_close(&f);
  sweep("MLD", 1, buf, n, 1);
}

/* raw IPv6 (link type 229): destination options, fragment, UDP */
static size_t make_v6_chain(uint8_t *d, unsigned frag_offset) {
  static const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
  static const uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
  size_t n = 0;
  memset(d, 0, 68);
  d[0] = 0x60;
  d[4] = 0; d[5] = 28;          /* payload length */
  d[6] = 60;                    /* next: destination options */
  d[7] = 64;
  memcpy(d + 8, src, 16);
  memcpy(d + 24, dst, 16);
  n = 40;
  d[n] = 44; d[n + 1] = 0;      /* next: fragment, 8 bytes */
  d[n + 2] = 1; d[n + 3] = 4;   /* PadN, 4 bytes */
  n += 8;
  d[n] = 17;                    /* next: UDP */
  d[n + 2] = (uint8_t)(frag_offset >> 5);
  d[n + 3] = (uint8_t)((frag_offset << 3) | 1);  /* M */
  d[n + 4] = 0xde; d[n + 5] = 0xad; d[n + 6] = 0xbe; d[n + 7] = 0xef;
  n += 8;
  d[n] = 0x03; d[n + 1] = 0xe8; /* 1000 */
  d[n + 2] = 0x07; d[n + 3] = 0xd0; /* 2000 */
  d[n + 5] = 12;
  n += 8;
  memcpy(d + n, "abcd", 4);
  return n + 4;
}

static void test_ipv6_ext_chain(void) {
  size_t n = make_v6_chain(buf, 0);
  frame f;
  sf_pkt q;
  CHECK_EQ(n, 68);
  frame_open(&f, 229, buf, n);
  CHECK_EQ(f.p.nlayers, 5);
  CHECK(layer_is(&f.p, 0, ID("IPv6"), 0, 40, 68));
  CHECK(layer_is(&f.p, 1, ID("IPv6ExtHdrDestOpt"), 40, 8, 68));
  CHECK(layer_is(&f.p, 2, ID("IPv6ExtHdrFragment"), 48, 8, 68));
  CHECK(layer_is(&f.p, 3, ID("UDP"), 56, 8, 68));
  CHECK(layer_is(&f.p, 4, SF_RAW, 64, 4, 68));
  CHECK_EQ(getu(&f.p, 2, "nh"), 17);
  CHECK_EQ(getu(&f.p, 2, "offset"), 0);
  CHECK_EQ(getu(&f.p, 2, "m"), 1);
  CHECK_EQ(getu(&f.p, 2, "id"), 0xdeadbeef);
  CHECK_EQ(getu(&f.p, 3, "dport"), 2000);
  /* finalize: UDP checksum over the IPv6 pseudo-header */
  CHECK_EQ(copy_pkt(&q, &f.p), SF_OK);
  CHECK_EQ(setu(&q, 3, "sport", 1001), SF_OK);
  CHECK_EQ(sf_finalize(&q), SF_OK);
  CHECK_EQ(getu(&q, 0, "plen"), 28);
  CHECK_EQ(getu(&q, 1, "len"), 0);
  CHECK_EQ(getu(&q, 3, "len"), 12);
  CHECK_EQ(cksum(q.data + 56, 12, pseudo6(q.data, 17, 12)), 0);
  CHECK(getu(&q, 3, "chksum") != 0);
  sf_pkt_free(&q);
  frame_close(&f);
  sweep("IPv6 chain", 229, buf, n, 1);
  /* link type 101 (raw IP) decides by the version nibble */
  frame_open(&f, 101, buf, n);
  CHECK_EQ(f.p.layers[0].proto, ID("IPv6"));
  frame_close(&f);

  /* a later fragment: what follows the fragment header is Raw */
  n = make_v6_chain(buf, 185);
  frame_open(&f, 229, buf, n);
  CHECK_EQ(f.p.nlayers, 4);
  CHECK(layer_is(&f.p, 2, ID("IPv6ExtHdrFragment"), 48, 8, 68));
  CHECK(layer_is(&f.p, 3, SF_RAW, 56, 12, 68));
  CHECK_EQ(getu(&f.p, 2, "offset"), 185);
  frame_close(&f);

  /* a routing header with segments left: TCP's pseudo-header uses the
     final destination (RFC 8200 section 8.1) */
  {
    static const uint8_t final[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, [15] = 0x99};
    uint8_t *d = buf;
    memset(d, 0, 84);
    d[0] = 0x60; d[5] = 44; d[6] = 43; d[7] = 64;
    d[8] = 0x20; d[9] = 0x01; d[23] = 1;
    d[24] = 0x20; d[25] = 0x01; d[39] = 2;
    d[40] = 6; d[41] = 2; d[42] = 0; d[43] = 1;  /* nh TCP, len 2, type 0, segleft 1 */
    memcpy(d + 48, final, 16);
    d[64] = 0x30; d[65] = 0x39; d[66] = 0; d[67] = 80;  /* 12345 -> 80 */
    d[76] = 0x50; d[77] = 0x02; d[78] = 0x20;  /* dataofs 5, SYN, window */
    frame_open(&f, 229, d, 84);
    CHECK_EQ(f.p.nlayers, 3);
    CHECK(layer_is(&f.p, 1, ID("IPv6ExtHdrRouting"), 40, 24, 84));
    CHECK(layer_is(&f.p, 2, ID("TCP"), 64, 20, 84));
    CHECK_EQ(getu(&f.p, 1, "segleft"), 1);
    CHECK(getbytes(&f.p, 1, "addresses", "20010db8000000000000000000000099"));
    CHECK_EQ(copy_pkt(&q, &f.p), SF_OK);
    CHECK_EQ(setu(&q, 2, "window", 512), SF_OK);
    CHECK_EQ(sf_finalize(&q), SF_OK);
    CHECK_EQ(getu(&q, 1, "segleft"), 1);  /* state in a captured header */
    {
      uint8_t ph[40];
      memcpy(ph, q.data, 40);
      memcpy(ph + 24, final, 16);
      CHECK_EQ(cksum(q.data + 64, 20, pseudo6(ph, 6, 20)), 0);
    }
    sf_pkt_free(&q);
    frame_close(&f);
    sweep("IPv6 routing", 229, d, 84, 1);
  }

  /* a segment routing header (routing type 4, RFC 8754): the final
     destination is the first address of the list.  Bytes and checksum
     0xd3d5 from python3-scapy 2.5: IPv6(src="2001:db8::1",
     dst="2001:db8::a")/IPv6ExtHdrSegmentRouting(addresses=["2001:db8::f",
     "2001:db8::a"], segleft=1)/UDP(sport=1000, dport=2000)/b"abcd" */
  {
    static const char srh[] =
        "6000000000342b4020010db800000000000000000000000120010db800000000"
        "000000000000000a110404010100000020010db800000000000000000000000f"
        "20010db800000000000000000000000a03e807d0000cd3d561626364";
    size_t m = unhex(srh, buf, sizeof buf);
    frame_open(&f, 229, buf, m);
    CHECK_EQ(m, 92);
    CHECK(layer_is(&f.p, 1, ID("IPv6ExtHdrRouting"), 40, 40, 92));
    CHECK(layer_is(&f.p, 2, ID("UDP"), 80, 8, 92));
    CHECK_EQ(getu(&f.p, 2, "chksum"), 0xd3d5);
    CHECK_EQ(copy_pkt(&q, &f.p), SF_OK);
    CHECK_EQ(setu(&q, 2, "sport", 1000), SF_OK);  /* same value, now dirty */
    CHECK_EQ(sf_finalize(&q), SF_OK);
    CHECK_EQ(getu(&q, 2, "chksum"), 0xd3d5);  /* SRH: addresses[0] is final */
    sf_pkt_free(&q);
    frame_close(&f);
  }
}

/* ---- ICMP errors quote the datagram that caused them ---------------------- */

static size_t make_icmp_error(uint8_t *d, uint8_t quoted_proto) {
  static const char hdr[] =
      "02000000000102000000000208004500003812340000400100" "00c0000201c6336407"
      "03030000" "00000000"
      "45000080abcd40004011" "0000c6336407c0000263";
  size_t n = unhex(hdr, d, 128);
  uint16_t c;
  d[14 + 9] = 1;
  d[42 + 9] = quoted_proto;
  /* quoted header's own checksum */
  c = cksum(d + 42, 20, 0);
  d[52] = (uint8_t)(c >> 8); d[53] = (uint8_t)c;
  /* first 8 bytes of the quoted transport header */
  d[n++] = 0x14; d[n++] = 0xe9;   /* 5353 */
  d[n++] = 0x82; d[n++] = 0x9a;   /* 33434 */
  d[n++] = 0x00; d[n++] = 0x6c;   /* UDP len 108 / TCP seq hi */
  d[n++] = 0x11; d[n++] = 0x11;
  c = cksum(d + 34, n - 34, 0);
  d[36] = (uint8_t)(c >> 8); d[37] = (uint8_t)c;
  c = cksum(d + 14, 20, 0);
  d[24] = (uint8_t)(c >> 8); d[25] = (uint8_t)c;
  return n;
}

static void test_icmp_error(void) {
  uint8_t orig[128];
  size_t n = make_icmp_error(buf, 17);
  frame f;
  sf_pkt q;
  CHECK_EQ(n, 70);
  memcpy(orig, buf, n);
  frame_open(&f, 1, buf, n);
  CHECK_EQ(f.p.nlayers, 5);
  CHECK(layer_is(&f.p, 0, ID("Ether"), 0, 14, 70));
  CHECK(layer_is(&f.p, 1, ID("IP"), 14, 20, 70));
  CHECK(layer_is(&f.p, 2, ID("ICMP"), 34, 8, 70));
  CHECK(layer_is(&f.p, 3, ID("IP"), 42, 20, 70));
  CHECK(layer_is(&f.p, 4, ID("UDP"), 62, 8, 70));
  CHECK(f.p.layers[3].flags & SF_L_QUOTED);
  CHECK(f.p.layers[4].flags & SF_L_QUOTED);
  CHECK(!(f.p.layers[2].flags & SF_L_QUOTED));
  /* the quote is short by design: the packet is not truncated */
  CHECK(!(f.p.flags & SF_P_TRUNC));
  CHECK_EQ(getu(&f.p, 2, "type"), 3);
  CHECK_EQ(getu(&f.p, 2, "code"), 3);
  CHECK_EQ(getu(&f.p, 2, "nexthopmtu"), 0);
  CHECK_EQ(getu(&f.p, 3, "len"), 128);
  CHECK_EQ(getu(&f.p, 3, "proto"), 17);
  CHECK_EQ(getu(&f.p, 4, "sport"), 5353);
  CHECK_EQ(getu(&f.p, 4, "dport"), 33434);
  CHECK_EQ(getu(&f.p, 4, "len"), 108);
  CHECK_EQ(cksum(buf + 34, 36, 0), 0);
  /* change the outer TTL: outer checksums follow, the quote is never fixed */
  CHECK_EQ(copy_pkt(&q, &f.p), SF_OK);
  CHECK_EQ(setu(&q, 1, "ttl", 1), SF_OK);
  CHECK_EQ(setu(&q, 2, "code", 1), SF_OK);
  CHECK_EQ(sf_finalize(&q), SF_OK);
  CHECK_EQ(getu(&q, 1, "len"), 56);
  CHECK_EQ(cksum(q.data + 14, 20, 0), 0);
  CHECK_EQ(cksum(q.data + 34, 36, 0), 0);
  CHECK(memcmp(q.data + 42, orig + 42, 28) == 0);
  CHECK_EQ(getu(&q, 3, "len"), 128);
  CHECK_EQ(getu(&q, 4, "len"), 108);
  sf_pkt_free(&q);
  frame_close(&f);
  sweep("ICMP error", 1, buf, n, 0);

  /* quoting TCP: only 8 bytes of its header are there (RFC 792) */
  n = make_icmp_error(buf, 6);
  frame_open(&f, 1, buf, n);
  CHECK_EQ(f.p.nlayers, 5);
  CHECK(layer_is(&f.p, 3, ID("IP"), 42, 20, 70));
  CHECK(f.p.layers[4].off == 62 && (f.p.layers[4].flags & SF_L_QUOTED));
  CHECK(!(f.p.flags & SF_P_TRUNC));  /* quotes are short by design */
  CHECK_EQ(f.p.layers[4].proto, ID("TCP"));  /* as Scapy's TCPerror */
  CHECK(f.p.layers[4].flags & SF_L_TRUNC);
  CHECK_EQ(getu(&f.p, 4, "dport"), getu(&f.p, 4, "dport"));
  CHECK(sf_field_present(&f.p, 4, sf_field_find(sf_proto_get(ID("TCP")), "seq")));
  CHECK(!sf_field_present(&f.p, 4, sf_field_find(sf_proto_get(ID("TCP")), "window")));
  frame_close(&f);

  /* echo request: no quote, the payload is Raw */
  {
    static const char echo[] =
        "4500001c0001000040017cde7f0000017f0000010800f7ff00000000";
    size_t m = unhex(echo, buf, sizeof buf);
    frame_open(&f, 228, buf, m);
    CHECK_EQ(f.p.nlayers, 2);
    CHECK(layer_is(&f.p, 1, ID("ICMP"), 20, 8, 28));
    CHECK_EQ(getu(&f.p, 1, "chksum"), 0xf7ff);
    CHECK_EQ(getu(&f.p, 1, "id"), 0);
    CHECK_EQ(getu(&f.p, 1, "seq"), 0);
    CHECK_EQ(getu(&f.p, 1, "nexthopmtu"), ~UINT64_C(0));  /* absent for echo */
    frame_close(&f);
  }
}

/* ---- link types ----------------------------------------------------------- */

static void test_linktypes(void) {
  static const uint8_t v4[] = {0x45}, v6[] = {0x60}, junk[] = {0x10};
  CHECK_EQ(sf_linktype_proto(1, v4, 1), ID("Ether"));
  CHECK_EQ(sf_linktype_proto(228, v6, 1), ID("IP"));
  CHECK_EQ(sf_linktype_proto(229, v4, 1), ID("IPv6"));
  CHECK_EQ(sf_linktype_proto(101, v4, 1), ID("IP"));
  CHECK_EQ(sf_linktype_proto(101, v6, 1), ID("IPv6"));
  CHECK_EQ(sf_linktype_proto(101, junk, 1), SF_RAW);
  CHECK_EQ(sf_linktype_proto(101, v4, 0), SF_RAW);
  CHECK_EQ(sf_linktype_proto(147, v4, 1), SF_RAW);
}

/* Codecs are found by name, once each. */
static int upper_text(const sf_pkt *p, int li, int fi, const uint8_t *d, size_t n,
                      char *out, size_t cap) {
  size_t i;
  (void)p;
  (void)li;
  (void)fi;
  for (i = 0; i < n && i + 1 < cap; i++) out[i] = (char)(d[i] & ~0x20);
  out[i] = 0;
  return (int)i;
}

static void test_codecs(void) {
  static const sf_codec up = {"test_upper", upper_text, NULL, "text", NULL};
  char out[8];
  CHECK_EQ(sf_codec_find("test_upper") == NULL, 1);
  CHECK_EQ(sf_codec_add(&up), SF_OK);
  CHECK_EQ(sf_codec_add(&up), SF_OK);
  CHECK(sf_codec_find("test_upper") == &up);
  CHECK_EQ(sf_codec_find("test_upper")->to_text(NULL, 0, 0, (const uint8_t *)"abc", 3, out, 8), 3);
  CHECK(strcmp(out, "ABC") == 0);
  CHECK(sf_codec_find(NULL) == NULL);
}

/* Computed values are found by name on the protocol that declares them. */
static int layer_count_text(const sf_pkt *p, int li, char *out, size_t cap) {
  return snprintf(out, cap, "%d of %d", li, p->nlayers);
}

static void test_props(void) {
  static const sf_prop props[] = {
    {"where", layer_count_text, "the layer's index"}, {NULL, NULL, NULL}
  };
  sf_proto pr;
  sf_pkt p;
  char out[16];
  memset(&pr, 0, sizeof pr);
  CHECK(sf_prop_find(&pr, "where") == NULL);
  pr.props = props;
  CHECK(sf_prop_find(&pr, "where") == &props[0]);
  CHECK(sf_prop_find(&pr, "here") == NULL);
  sf_pkt_init(&p);
  p.nlayers = 3;
  CHECK_EQ(sf_prop_find(&pr, "where")->text(&p, 1, out, sizeof out), 6);
  CHECK(strcmp(out, "1 of 3") == 0);
}

int main(void) {
  sf_init();
  test_codecs();
  test_props();
  test_linktypes();
  test_syn();
  test_truncated_syn();
  test_modify_checksums();
  test_padding();
  test_vlan();
  test_ipv6_hopopts();
  test_ipv6_ext_chain();
  test_icmp_error();
  return check_report("test_core_dissect");
}
