/*
 * dhcp.c -- BOOTP (RFC 951, RFC 1542) and DHCP (RFC 2131, options RFC
 * 2132 and successors) over UDP 67 and 68, with Scapy's classes and field
 * names: BOOTP is the fixed header, and its `options` field holds what
 * follows it -- the magic cookie when DHCP follows, the whole vendor area
 * otherwise; DHCP is the option list after the cookie.
 *
 * The engine keeps the option list as bytes; the Lua half gives it
 * Scapy's shape ({{"message-type", "discover"}, ..., "end"}: the
 * "dhcp_options" codec, stdlib/stackforge/codecs/dhcp.lua).  Here the
 * list is only walked, to know where it ends: at the "end" option (bytes
 * after it are padding), or at an option that runs past the bytes there
 * (what parsed is kept, the rest is Raw and the packet truncated).
 *
 * chaddr reads and takes a MAC address as text (its 16 bytes when the 10
 * after the first 6 are not zero padding, or when given as bytes), sname
 * and file their text without the NUL padding: the "chaddr" and
 * "nul_padded" codecs below.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"

#define BOOTP_LEN 236    /* op .. file */
#define COOKIE_LEN 4
#define OPT_PAD 0
#define OPT_END 255

static const uint8_t cookie[COOKIE_LEN] = {0x63, 0x82, 0x53, 0x63};

/* ---- BOOTP ---------------------------------------------------------------- */

enum { F_OP, F_HTYPE, F_HLEN, F_HOPS, F_XID, F_SECS, F_FLAGS, F_CIADDR,
       F_YIADDR, F_SIADDR, F_GIADDR, F_CHADDR, F_SNAME, F_FILE, F_OPTIONS };

static const sf_enum ops[] = {{1, "BOOTREQUEST"}, {2, "BOOTREPLY"}, {0, NULL}};
/* as ARP's hwtype names them */
static const sf_enum htypes[] = {{1, "Ethernet (10Mb)"}, {6, "IEEE 802"}, {0, NULL}};
static const sf_enum bootp_flags[] = {{15, "B"}, {0, NULL}};  /* broadcast */

/* a fixed-length byte field (bytes long) read and written through codec */
#define FIXBYTES(n, off, bytes, codec) \
  {(n), SF_T_BYTES, 0, 0, 0, (off), (bytes) * 8, 0, NULL, NULL, (codec), NULL}

static const sf_field bootp_fields[] = {
  UINTF("op", 0, 8, 1, 0, ops, 0),
  UINTF("htype", 8, 8, 1, 0, htypes, 0),
  UINTF("hlen", 16, 8, 6, 0, NULL, 0),
  UINTF("hops", 24, 8, 0, 0, NULL, 0),
  UINTF("xid", 32, 32, 0, SF_FF_HEX, NULL, 0),
  UINTF("secs", 64, 16, 0, 0, NULL, 0),
  FLAGF("flags", 80, 16, 0, bootp_flags, 0),
  IP4F("ciaddr", 96, "0.0.0.0", 0),
  IP4F("yiaddr", 128, "0.0.0.0", 0),
  IP4F("siaddr", 160, "0.0.0.0", 0),
  IP4F("giaddr", 192, "0.0.0.0", 0),
  FIXBYTES("chaddr", 224, 16, "chaddr"),
  FIXBYTES("sname", 352, 64, "nul_padded"),
  FIXBYTES("file", 864, 128, "nul_padded"),
  BYTESF("options", BOOTP_LEN * 8, 0, NULL, NULL, 0),
};

static int has_cookie(const uint8_t *h, size_t n) {
  return n >= BOOTP_LEN + COOKIE_LEN &&
         memcmp(h + BOOTP_LEN, cookie, COOKIE_LEN) == 0;
}

/* With the cookie, DHCP options follow it; without, the rest is the
   vendor area, all of it BOOTP's (Scapy's extract_padding). */
static size_t bootp_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  if (n < BOOTP_LEN) return 0;
  return has_cookie(h, n) ? BOOTP_LEN + COOKIE_LEN : n;
}

static void bootp_var(const uint8_t *h, size_t hlen, int fi, size_t *off,
                      size_t *len) {
  (void)h;
  if (fi == F_OPTIONS) {
    *off = BOOTP_LEN;
    *len = hlen > BOOTP_LEN ? hlen - BOOTP_LEN : 0;
  } else {
    *off = bootp_fields[fi].bitoff / 8u;
    *len = bootp_fields[fi].bits / 8u;
  }
}

static int dhcp_id = -1;

static int bootp_next(const sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  return has_cookie(p->data + l->off, l->hlen) ? dhcp_id : -2;
}

/* UDP()/BOOTP() is what Scapy builds: sport 67, dport 68 (its last
   bind_layers wins); the table entry writes dport, this the other port. */
static void bootp_overload(sf_pkt *p, int lower, int li) {
  const sf_proto *pr = sf_proto_get(p->layers[lower].proto);
  static int udp_port = -1;
  (void)li;
  if (udp_port < 0) udp_port = sf_table_find("udp.port");
  if (pr->table == udp_port && pr->next_field2 >= 0)
    sf_lput(p, lower, pr->next_field2, 67);
}

/* 68 is what builders write (with 67 as the other port, above); Wireshark
   and Scapy dissect either port, Scapy also 67 to 67 (relays). */
static const sf_place bootp_places[] = {
  {"udp.port", 68, 0, NULL},
  {"udp.port", 67, SF_PL_PARSE_ONLY, NULL},
  {NULL, 0, 0, NULL}
};

/* hexadecimal where tshark prints it so (-T fields) */
static const sf_wsfield bootp_ws[] = {
  WS("dhcp.type", "op"), WSX("dhcp.hw.type", "htype", 2),
  WS("dhcp.hw.len", "hlen"), WS("dhcp.hops", "hops"),
  WSX("dhcp.id", "xid", 8), WS("dhcp.secs", "secs"),
  WSX("dhcp.flags", "flags", 4), WSBIT("dhcp.flags.bc", "flags", 0x8000),
  {"dhcp.flags.reserved", "flags", NULL, 0x7fff, 0, 4},
  WS("dhcp.ip.client", "ciaddr"), WS("dhcp.ip.your", "yiaddr"),
  WS("dhcp.ip.server", "siaddr"), WS("dhcp.ip.relay", "giaddr"),
  WS("dhcp.server", "sname"), WS("dhcp.file", "file"), WSEND
};

/* Scapy's text of chaddr on Ethernet (htype 1) with the usual padding:
   "02:00:00:00:00:01 (+ 10 nul pad)"; else Scapy shows the bytes */
static int bootp_text(const sf_pkt *p, int li, const char *what, char *out,
                      size_t cap) {
  const uint8_t *h = p->data + p->layers[li].off;
  static const uint8_t zeros[10];
  char mac[18];
  if (strcmp(what, "chaddr") != 0 || p->layers[li].hlen < BOOTP_LEN || h[1] != 1 ||
      memcmp(h + 34, zeros, 10) != 0)
    return -1;
  sf_format_mac(h + 28, mac);
  return snprintf(out, cap, "%s (+ 10 nul pad)", mac);
}

static const char *const bootp_names[] = {"chaddr", "$", NULL};
static const sf_scapy bootp_scapy = {.names = bootp_names, .text = bootp_text};

static sf_proto bootp = {
  .name = "BOOTP", .display = "BOOTP", .kind = "Bootp",
  .scapy = &bootp_scapy,
  .fields = bootp_fields, .nfields = NFIELDS(bootp_fields), .minlen = BOOTP_LEN,
  .places = bootp_places, .ws = "dhcp", .ws_fields = bootp_ws,
  .hdr_len = bootp_len, .next = bootp_next, .overload = bootp_overload,
  .var = bootp_var,
};

/* ---- DHCP options ------------------------------------------------------------ */

/* Walk the option list h (n bytes): *claimed is how far it says it goes
   (past n when an option runs past the bytes); returns the length of
   the options that parsed, the "end" option included. */
static size_t walk_options(const uint8_t *h, size_t n, size_t *claimed) {
  size_t pos = 0;
  while (pos < n) {
    if (h[pos] == OPT_END) {
      *claimed = pos + 1;
      return pos + 1;
    }
    if (h[pos] == OPT_PAD) {
      pos++;
      continue;
    }
    if (pos + 2 > n || pos + 2 + h[pos + 1] > n) {  /* cut short */
      *claimed = pos + 2 + (pos + 1 < n ? h[pos + 1] : 0);
      return pos;
    }
    pos += 2u + h[pos + 1];
  }
  *claimed = SIZE_MAX;  /* no "end": the rest is options */
  return n;
}

static size_t dhcp_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  size_t claimed;
  (void)p;
  return walk_options(h, n, &claimed);
}

/* After "end", padding; an option cut short claims more than there is,
   so the layer is marked cut short and what follows it is Raw. */
static size_t dhcp_extent(const uint8_t *h, size_t hlen, size_t n) {
  size_t claimed;
  (void)hlen;
  walk_options(h, n, &claimed);
  return claimed;
}

static int dhcp_next(const sf_pkt *p, int li) {
  (void)p;
  (void)li;
  return -2;
}

static void dhcp_var(const uint8_t *h, size_t hlen, int fi, size_t *off,
                     size_t *len) {
  (void)h;
  (void)fi;
  *off = 0;
  *len = hlen;
}

/* BOOTP()/DHCP() puts the cookie in BOOTP's options, as Scapy's
   bind_layers(BOOTP, DHCP, options=...) does, unless the user set them. */
static void dhcp_overload(sf_pkt *p, int lower, int li) {
  sf_val v = {0, cookie, COOKIE_LEN};
  const sf_layer *l = &p->layers[lower];
  (void)li;
  if (l->proto != bootp.id || sf_isset(p, lower, F_OPTIONS) ||
      l->hlen != BOOTP_LEN)
    return;
  if (sf_field_set(p, lower, F_OPTIONS, &v) == SF_OK)
    p->layers[lower].set &= ~(UINT64_C(1) << F_OPTIONS);  /* still automatic */
}

static const sf_field dhcp_fields[] = {
  BYTESF("options", 0, 0, "dhcp_options", NULL, 0),
};

/* ---- Scapy's text -------------------------------------------------------- */

static const char *const dhcp_types[] = {
  "", "Discover", "Offer", "Request", "Decline", "Ack", "Nak", "Release",
  "Inform", "Force_renew", "Lease_query", "Lease_unassigned",
  "Lease_unknown", "Lease_active"
};

/* "type": the message type as DHCP.mysummary says it (Scapy's DHCPTypes
   name, capitalized; "" for another value), -1 without the option */
static int dhcp_text(const sf_pkt *p, int li, const char *what, char *out,
                     size_t cap) {
  const uint8_t *h = p->data + p->layers[li].off;
  size_t n = p->layers[li].hlen, pos = 0;
  if (strcmp(what, "type") != 0) return -1;
  while (pos < n && h[pos] != 255) {
    if (h[pos] == 0) {
      pos++;
      continue;
    }
    if (pos + 2 > n || pos + 2 + h[pos + 1] > n) return -1;
    if (h[pos] == 53 && h[pos + 1] >= 1) {
      unsigned t = h[pos + 2];
      return snprintf(out, cap, "%s", t < sizeof dhcp_types / sizeof *dhcp_types
                      ? dhcp_types[t] : "");
    }
    pos += 2u + h[pos + 1];
  }
  return -1;
}

/* Scapy's options field reads on past the end option, to the end of
   BOOTP's bytes ("pad" options): sflua's Padding there is in it. */
static int dhcp_keeps(const sf_pkt *p, int li, int j) {
  return li > 0 && p->layers[j].proto == SF_PADDING && p->layers[j].off < p->layers[li - 1].end;
}

static const sf_scapy dhcp_scapy = {.fmt = "{$type:DHCP %$type%}", .text = dhcp_text,
                                    .keeps = dhcp_keeps};

static sf_proto dhcp = {
  .name = "DHCP", .display = "DHCP", .kind = "Dhcp",
  .scapy = &dhcp_scapy,
  .fields = dhcp_fields, .nfields = NFIELDS(dhcp_fields), .minlen = 0,
  .hdr_len = dhcp_len, .extent = dhcp_extent, .next = dhcp_next,
  .overload = dhcp_overload, .var = dhcp_var,
};

/* ---- codecs ------------------------------------------------------------------ */

static int all_zero(const uint8_t *d, size_t n) {
  while (n--)
    if (*d++) return 0;
  return 1;
}

/* chaddr: a MAC address followed by zeros reads as its text */
static int chaddr_text(const sf_pkt *p, int li, int fi, const uint8_t *d,
                       size_t n, char *out, size_t cap) {
  (void)p;
  (void)li;
  (void)fi;
  if (n < 6 || cap < 18 || !all_zero(d + 6, n - 6)) return SF_E_VALUE;
  sf_format_mac(d, out);
  return 17;
}

/* A MAC address as text, or the bytes themselves (Scapy takes bytes) */
static int chaddr_bytes(const char *s, size_t n, uint8_t *out, size_t cap) {
  char mac[18];
  if (n == 17 && cap >= 6) {
    memcpy(mac, s, 17);
    mac[17] = '\0';
    if (sf_parse_mac(mac, out) == SF_OK) return 6;
  }
  if (n > 16 || n > cap) return SF_E_VALUE;
  memcpy(out, s, n);
  return (int)n;
}

/* sname, file: text, then NULs up to the field's length */
static int nul_padded_text(const sf_pkt *p, int li, int fi, const uint8_t *d,
                           size_t n, char *out, size_t cap) {
  const uint8_t *nul = memchr(d, 0, n);
  size_t len = nul ? (size_t)(nul - d) : n;
  (void)p;
  (void)li;
  (void)fi;
  if (!all_zero(d + len, n - len) || len >= cap) return SF_E_VALUE;
  memcpy(out, d, len);
  out[len] = '\0';
  return (int)len;
}

static int nul_padded_bytes(const char *s, size_t n, uint8_t *out, size_t cap) {
  if (n > cap) return SF_E_VALUE;
  memcpy(out, s, n);
  return (int)n;
}

static const sf_codec chaddr_codec = {
  "chaddr", chaddr_text, chaddr_bytes,
  "a MAC address like \"00:11:22:33:44:55\" or up to 16 bytes", NULL
};

static const sf_codec nul_padded_codec = {
  "nul_padded", nul_padded_text, nul_padded_bytes, "a string that fits the field", NULL
};

SF_PROTO_FILE(dhcp) {
  sf_register(&bootp);
  dhcp_id = sf_register(&dhcp);
  sf_codec_add(&chaddr_codec);
  sf_codec_add(&nul_padded_codec);
}
