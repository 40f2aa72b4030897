/*
 * l2tp.c -- the Layer Two Tunneling Protocol, version 2 (RFC 2661), over
 * UDP port 1701, with Scapy's class and field names (L2TP: hdr, version,
 * len, tunnel_id, session_id, ns, nr, offset).
 *
 * The header's optional words follow its flags in a set order (length,
 * then Ns and Nr, then the offset size and its pad), so a field's offset
 * depends on which come before it: each position is its own conditional
 * field, as GRE's are.  Which are there follows the bits, as RFC 2661
 * and Wireshark read them: the length with L, Ns and Nr with S, the
 * offset size with O.  (Scapy 2.5 also reads the length, Ns and Nr when
 * T alone is set, and no offset size in a control message: it reads a
 * header the RFC forbids otherwise.)  The offset pad is as long as the
 * offset size says (RFC 2661 section 3.1; Scapy 2.5 pads the offset size
 * to four bytes whatever it says, so the two agree on an offset of 2).
 *
 * A control message (T set) carries attribute-value pairs, each a layer
 * of its own (L2TP_AVP, a record of the message: its extent is the length
 * field's), its value read by type: the Message Type AVP's msg_type named
 * SCCRQ, SCCRP, ..., host and vendor names, tunnel and session ids; a
 * hidden or vendor-specific value, or one of another type, is `value`.
 * A data message carries a PPP frame (core/proto/ppp.c), with its HDLC
 * address and control bytes when they are there.
 */
#include "common.h"

/* the flag bits as Scapy names them: hdr is the first word's top 12 bits */
static const sf_enum hdr_flags[] = {
  {0, "res00"}, {1, "res01"}, {2, "res02"}, {3, "res03"}, {4, "priority"}, {5, "offset"},
  {6, "res06"}, {7, "sequence"}, {8, "res08"}, {9, "res09"}, {10, "length"},
  {11, "control"}, {0, NULL}
};
static const sf_enum l2tp_versions[] = {{2, "L2TPv2"}, {0, NULL}};

#define T_BIT 0x8000
#define L_BIT 0x4000
#define S_BIT 0x0800
#define O_BIT 0x0200

static unsigned has_len(uint16_t w) { return (w & L_BIT) != 0; }
static unsigned has_seq(uint16_t w) { return (w & S_BIT) != 0; }
static unsigned has_off(uint16_t w) { return (w & O_BIT) != 0; }

/* where the offset size lies, in bytes */
static size_t off_pos(uint16_t w) { return 6 + 2 * has_len(w) + 4 * has_seq(w); }

enum { C_LEN = 1, C_NOLEN, C_SEQ_NOLEN, C_SEQ_LEN, C_OFF6, C_OFF8, C_OFF10, C_OFF12, C_PAD };
enum { F_HDR, F_VERSION, F_LEN };

static const sf_field l2tp_fields[] = {
  /* its flags lay the header out: SHAPE, set before the other fields */
  {"hdr", SF_T_FLAGS, SF_FF_SHAPE, 0, 0, 0, 12, 0, NULL, hdr_flags, NULL, NULL},
  UINTF("version", 12, 4, 2, 0, l2tp_versions, 0),
  UINTF("len", 16, 16, 0, SF_FF_AUTO, NULL, C_LEN),
  UINTF("tunnel_id", 16, 16, 0, 0, NULL, C_NOLEN),
  UINTF("tunnel_id", 32, 16, 0, 0, NULL, C_LEN),
  UINTF("session_id", 32, 16, 0, 0, NULL, C_NOLEN),
  UINTF("session_id", 48, 16, 0, 0, NULL, C_LEN),
  UINTF("ns", 48, 16, 0, 0, NULL, C_SEQ_NOLEN),
  UINTF("ns", 64, 16, 0, 0, NULL, C_SEQ_LEN),
  UINTF("nr", 64, 16, 0, 0, NULL, C_SEQ_NOLEN),
  UINTF("nr", 80, 16, 0, 0, NULL, C_SEQ_LEN),
  UINTF("offset", 48, 16, 0, 0, NULL, C_OFF6),
  UINTF("offset", 64, 16, 0, 0, NULL, C_OFF8),
  UINTF("offset", 80, 16, 0, 0, NULL, C_OFF10),
  UINTF("offset", 96, 16, 0, 0, NULL, C_OFF12),
  BYTESF("offset_pad", 0, 0, NULL, NULL, C_PAD),
};

static int l2tp_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  uint16_t w = rd16(h);
  (void)p;
  (void)hlen;
  switch (cond) {
    case C_LEN: return has_len(w);
    case C_NOLEN: return !has_len(w);
    case C_SEQ_NOLEN: return has_seq(w) && !has_len(w);
    case C_SEQ_LEN: return has_seq(w) && has_len(w);
    case C_OFF6: case C_OFF8: case C_OFF10: case C_OFF12:
      return has_off(w) && off_pos(w) == 6 + 2u * (unsigned)(cond - C_OFF6);
    case C_PAD: return has_off(w);
    default: return 1;
  }
}

/* The header's length from its flags and offset size (hlen bytes there:
   an offset size not yet written counts as 0). */
static size_t l2tp_shape(const uint8_t *h, size_t hlen) {
  uint16_t w = rd16(h);
  size_t at = off_pos(w);
  if (!has_off(w)) return at;
  return at + 2 + (at + 2 <= hlen ? rd16(h + at) : 0);
}

static size_t l2tp_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  size_t want;
  (void)p;
  if (n < 6 || (h[1] & 0x0f) != 2) return 0;  /* version 2 only */
  if (has_off(rd16(h)) && off_pos(rd16(h)) + 2 > n) return 0;
  want = l2tp_shape(h, n);
  return want <= n ? want : 0;
}

static size_t l2tp_extent(const uint8_t *h, size_t hlen, size_t n) {
  size_t len;
  (void)n;
  if (!has_len(rd16(h))) return SIZE_MAX;
  len = rd16(h + 2);
  return len >= hlen ? len : hlen;
}

static void l2tp_var(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  size_t at = off_pos(rd16(h)) + 2;
  (void)fi;
  *off = at <= hlen ? at : hlen;
  *len = hlen - *off;
}

static int id_avp = -1;

/* AVPs after a control message's header; a PPP frame after a data one. */
static int l2tp_next(const sf_pkt *p, int li) {
  static int ppp, hdlc;
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off + l->hlen;
  size_t n = l->end - l->off - l->hlen;
  if (n == 0) return -2;
  if (rd16(p->data + l->off) & T_BIT) return n >= 6 ? id_avp : -2;
  if (n >= 2 && h[0] == 0xff && h[1] == 0x03) return proto_named(&hdlc, "HDLC");
  return proto_named(&ppp, "PPP");
}

/* A built header's offset pad as long as its offset size says (the size
   is set after the flags that bring it in, so the pad follows it here). */
static void pad_as_built(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off;
  size_t at, want;
  if (!(l->flags & SF_L_BUILT) || !has_off(rd16(h))) return;
  at = off_pos(rd16(h));
  if (at + 2 > l->hlen) return;
  want = at + 2 + rd16(h + at);
  if (want > l->hlen) sf_pkt_splice(p, li, l->off + l->hlen, 0, NULL, want - l->hlen);
  else if (want < l->hlen) sf_pkt_splice(p, li, l->off + want, l->hlen - want, NULL, 0);
}

static void l2tp_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  int fi;
  pad_as_built(p, li);
  fi = sf_field_resolve(p, li, F_LEN);
  if (fi < 0 || (!(l->flags & SF_L_BUILT) && (l->flags & SF_L_TRUNC))) return;
  sf_lput(p, li, fi, l->end - l->off);
}

static const sf_place l2tp_places[] = {
  {"udp.port", 1701, SF_PL_BOTH_PORTS, NULL}, {NULL, 0, 0, NULL}
};

static const sf_wsfield l2tp_ws[] = {
  WSBIT("l2tp.type", "hdr", 0x800), WSBIT("l2tp.length_bit", "hdr", 0x400),
  WSBIT("l2tp.seq_bit", "hdr", 0x080), WSBIT("l2tp.offset_bit", "hdr", 0x020),
  WSBIT("l2tp.priority", "hdr", 0x010), WS("l2tp.version", "version"),
  WS("l2tp.length", "len"), WS("l2tp.tunnel", "tunnel_id"), WS("l2tp.session", "session_id"),
  WS("l2tp.Ns", "ns"), WS("l2tp.Nr", "nr"), WS("l2tp.offset", "offset"), WSEND
};

/* Scapy 2.5 binds PPP after every L2TP header, a control message's too:
   its AVPs become a PPP header (a protocol of one byte when the first is
   odd, else two) and, unless that protocol is one Scapy binds after PPP,
   Raw.  (0xff first is Scapy's HDLC: left to the usual class.) */
static const char *l2tp_cls(const sf_pkt *p, int li) {
  static const unsigned bound[] = {0xc227, 0x0021, 0x0057, 0xc223, 0x8021, 0x8053, 0xc021, 0xc023};
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off + l->hlen;
  size_t n = l->end - l->off - l->hlen, plen, i;
  unsigned proto;
  if (!(rd16(p->data + l->off) & T_BIT) || n < 2 || h[0] == 0xff) return NULL;
  plen = h[0] & 1 ? 1 : 2;
  proto = plen == 1 ? h[0] : rd16(h);
  for (i = 0; i < sizeof bound / sizeof *bound; i++)
    if (proto == bound[i]) return NULL;
  return n > plen ? "L2TP / PPP / Raw" : "L2TP / PPP";
}

static const sf_scapy l2tp_scapy = {.cls = l2tp_cls};

static sf_proto l2tp = {
  .name = "L2TP", .display = "L2TP", .kind = "L2tp", .scapy = &l2tp_scapy,
  .fields = l2tp_fields, .nfields = NFIELDS(l2tp_fields), .minlen = 6,
  .places = l2tp_places, .ws = "l2tp", .ws_fields = l2tp_ws,
  .hdr_len = l2tp_len, .extent = l2tp_extent, .next = l2tp_next, .fixup = l2tp_fixup,
  .present = l2tp_present, .shape_len = l2tp_shape, .var = l2tp_var,
};

/* ---- attribute-value pairs ------------------------------------------------------- */

static const sf_enum msg_types[] = {
  {1, "SCCRQ"}, {2, "SCCRP"}, {3, "SCCCN"}, {4, "StopCCN"}, {6, "HELLO"},
  {7, "OCRQ"}, {8, "OCRP"}, {9, "OCCN"}, {10, "ICRQ"}, {11, "ICRP"}, {12, "ICCN"},
  {14, "CDN"}, {15, "WEN"}, {16, "SLI"}, {0, NULL}
};

static const sf_enum avp_types[] = {
  {0, "Message Type"}, {1, "Result Code"}, {2, "Protocol Version"},
  {3, "Framing Capabilities"}, {4, "Bearer Capabilities"}, {5, "Tie Breaker"},
  {6, "Firmware Revision"}, {7, "Host Name"}, {8, "Vendor Name"},
  {9, "Assigned Tunnel ID"}, {10, "Receive Window Size"}, {11, "Challenge"},
  {12, "Q.931 Cause Code"}, {13, "Challenge Response"}, {14, "Assigned Session ID"},
  {15, "Call Serial Number"}, {16, "Minimum BPS"}, {17, "Maximum BPS"},
  {18, "Bearer Type"}, {19, "Framing Type"}, {21, "Called Number"},
  {22, "Calling Number"}, {23, "Sub-Address"}, {24, "Tx Connect Speed"},
  {25, "Physical Channel ID"}, {26, "Initial Received LCP CONFREQ"},
  {27, "Last Sent LCP CONFREQ"}, {28, "Last Received LCP CONFREQ"},
  {29, "Proxy Authen Type"}, {30, "Proxy Authen Name"}, {31, "Proxy Authen Challenge"},
  {32, "Proxy Authen ID"}, {33, "Proxy Authen Response"}, {34, "Call Errors"},
  {35, "ACCM"}, {36, "Random Vector"}, {37, "Private Group ID"},
  {38, "Rx Connect Speed"}, {39, "Sequencing Required"}, {0, NULL}
};

/* A value field of the AVP types whose value has a form: the type, and
   its width in bits (0: text of any length). */
typedef struct avp_form {
  uint16_t type;
  uint16_t bits;
} avp_form;

enum {
  V_MSG = 1, V_VER, V_FRAMING_CAPS, V_BEARER_CAPS, V_TIE, V_FIRMWARE, V_HOST, V_VENDOR,
  V_TUNNEL, V_WINDOW, V_SESSION, V_SERIAL, V_MIN_BPS, V_MAX_BPS, V_BEARER, V_FRAMING,
  V_CALLED, V_CALLING, V_SUB, V_TX_SPEED, V_CHANNEL, V_RX_SPEED, V_VALUE
};

/* by condition number: the type and the value's width (V_VER: two bytes) */
static const avp_form forms[] = {
  {0xffff, 0}, {0, 16}, {2, 16}, {3, 32}, {4, 32}, {5, 64}, {6, 16}, {7, 0}, {8, 0},
  {9, 16}, {10, 16}, {14, 16}, {15, 32}, {16, 32}, {17, 32}, {18, 32}, {19, 32},
  {21, 0}, {22, 0}, {23, 0}, {24, 32}, {25, 32}, {38, 32}
};
#define NFORMS ((int)(sizeof forms / sizeof *forms))

enum { A_M, A_H, A_RES, A_LEN, A_VENDOR, A_TYPE };

static const sf_field avp_fields[] = {
  UINTF("mandatory", 0, 1, 1, 0, NULL, 0),
  UINTF("hidden", 1, 1, 0, SF_FF_SHAPE, NULL, 0),
  UINTF("reserved", 2, 4, 0, 0, NULL, 0),
  UINTF("len", 6, 10, 0, SF_FF_AUTO, NULL, 0),
  UINTF("vendor_id", 16, 16, 0, SF_FF_SHAPE, NULL, 0),
  UINTF("type", 32, 16, 0, SF_FF_SHAPE, avp_types, 0),
  UINTF("msg_type", 48, 16, 1, 0, msg_types, V_MSG),
  UINTF("protocol_version", 48, 8, 1, 0, NULL, V_VER),
  UINTF("protocol_revision", 56, 8, 0, 0, NULL, V_VER),
  UINTF("framing_capabilities", 48, 32, 0, SF_FF_HEX, NULL, V_FRAMING_CAPS),
  UINTF("bearer_capabilities", 48, 32, 0, SF_FF_HEX, NULL, V_BEARER_CAPS),
  UINTF("tie_breaker", 48, 64, 0, SF_FF_HEX, NULL, V_TIE),
  UINTF("firmware_revision", 48, 16, 0, SF_FF_HEX, NULL, V_FIRMWARE),
  BYTESF("host_name", 48, 0, "text", NULL, V_HOST),
  BYTESF("vendor_name", 48, 0, "text", NULL, V_VENDOR),
  UINTF("assigned_tunnel_id", 48, 16, 0, 0, NULL, V_TUNNEL),
  UINTF("receive_window_size", 48, 16, 0, 0, NULL, V_WINDOW),
  UINTF("assigned_session_id", 48, 16, 0, 0, NULL, V_SESSION),
  UINTF("call_serial_number", 48, 32, 0, 0, NULL, V_SERIAL),
  UINTF("minimum_bps", 48, 32, 0, 0, NULL, V_MIN_BPS),
  UINTF("maximum_bps", 48, 32, 0, 0, NULL, V_MAX_BPS),
  UINTF("bearer_type", 48, 32, 0, SF_FF_HEX, NULL, V_BEARER),
  UINTF("framing_type", 48, 32, 0, SF_FF_HEX, NULL, V_FRAMING),
  BYTESF("called_number", 48, 0, "text", NULL, V_CALLED),
  BYTESF("calling_number", 48, 0, "text", NULL, V_CALLING),
  BYTESF("sub_address", 48, 0, "text", NULL, V_SUB),
  UINTF("tx_connect_speed", 48, 32, 0, 0, NULL, V_TX_SPEED),
  UINTF("physical_channel", 48, 32, 0, 0, NULL, V_CHANNEL),
  UINTF("rx_connect_speed", 48, 32, 0, 0, NULL, V_RX_SPEED),
  BYTESF("value", 48, 0, NULL, NULL, V_VALUE),
};

/* The form of the AVP at h (hlen bytes): its condition number, V_VALUE
   when its value is hidden, a vendor's, of another type, or of the wrong
   length for its type. */
static int avp_form_of(const uint8_t *h, size_t hlen) {
  int c;
  unsigned t;
  if (hlen < 6 || (h[0] & 0x40) || rd16(h + 2) != 0) return V_VALUE;
  t = rd16(h + 4);
  for (c = 1; c < NFORMS; c++)
    if (forms[c].type == t)
      return forms[c].bits == 0 || hlen == 6 + forms[c].bits / 8u ? c : V_VALUE;
  return V_VALUE;
}

static int avp_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  (void)p;
  return cond == 0 || avp_form_of(h, hlen) == cond;
}

/* A new type brings its value's width; a text or raw value keeps its bytes. */
static size_t avp_shape(const uint8_t *h, size_t hlen) {
  int c;
  unsigned t;
  if (hlen < 6 || (h[0] & 0x40) || rd16(h + 2) != 0) return hlen;
  t = rd16(h + 4);
  for (c = 1; c < NFORMS; c++)
    if (forms[c].type == t) return forms[c].bits ? 6 + forms[c].bits / 8u : hlen;
  return hlen;
}

static size_t avp_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  size_t len;
  (void)p;
  if (n < 6) return 0;
  len = rd16(h) & 0x3ff;
  return len >= 6 && len <= n ? len : 0;
}

static void avp_var(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)h;
  (void)fi;
  *off = hlen >= 6 ? 6 : hlen;
  *len = hlen - *off;
}

/* the next AVP, while the message lasts */
static int avp_next(const sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  size_t pos = l->off + l->hlen;
  const uint8_t *h = p->data + pos;
  size_t n = l->end - pos;
  if (n == 0) return -2;
  return avp_len(p, h, n) ? id_avp : -2;  /* Raw, truncated: malformed */
}

static void avp_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  if (!(l->flags & SF_L_BUILT) && (l->flags & SF_L_TRUNC)) return;
  sf_lput(p, li, A_LEN, l->hlen);
}

static const sf_variant avp_variants[] = {
  {"message_type", NULL, "type", 0}, {"protocol_version", NULL, "type", 2},
  {"framing_capabilities", NULL, "type", 3}, {"bearer_capabilities", NULL, "type", 4},
  {"tie_breaker", NULL, "type", 5}, {"firmware_revision", NULL, "type", 6},
  {"host_name", NULL, "type", 7}, {"vendor_name", NULL, "type", 8},
  {"assigned_tunnel_id", NULL, "type", 9}, {"receive_window_size", NULL, "type", 10},
  {"assigned_session_id", NULL, "type", 14}, {"call_serial_number", NULL, "type", 15},
  {"bearer_type", NULL, "type", 18}, {"framing_type", NULL, "type", 19},
  {"tx_connect_speed", NULL, "type", 24}, {NULL, NULL, NULL, 0}
};

static const sf_wsfield avp_ws[] = {
  WS("l2tp.avp.mandatory", "mandatory"), WS("l2tp.avp.hidden", "hidden"),
  WS("l2tp.avp.length", "len"), WS("l2tp.avp.vendor_id", "vendor_id"),
  WS("l2tp.avp.type", "type"), WS("l2tp.avp.message_type", "msg_type"),
  WS("l2tp.avp.protocol_version", "protocol_version"),
  WS("l2tp.avp.protocol_revision", "protocol_revision"),
  WSX("l2tp.tie_breaker", "tie_breaker", 16),
  WS("l2tp.avp.firmware_revision", "firmware_revision"),
  WS("l2tp.avp.host_name", "host_name"), WS("l2tp.avp.vendor_name", "vendor_name"),
  WS("l2tp.avp.assigned_tunnel_id", "assigned_tunnel_id"),
  WS("l2tp.avp.receive_window_size", "receive_window_size"),
  WS("l2tp.avp.assigned_session_id", "assigned_session_id"),
  WS("l2tp.avp.call_serial_number", "call_serial_number"),
  WS("l2tp.avp.minimum_bps", "minimum_bps"), WS("l2tp.avp.maximum_bps", "maximum_bps"),
  WS("l2tp.avp.called_number", "called_number"), WS("l2tp.avp.calling_number", "calling_number"),
  WS("l2tp.avp.sub_address", "sub_address"), WS("l2tp.avp.connect_speed", "tx_connect_speed"),
  WS("l2tp.avp.physical_channel", "physical_channel"), WSEND
};

static sf_proto avp = {
  .name = "L2TP_AVP", .display = "L2TP AVP", .kind = "L2tpAvp",
  .fields = avp_fields, .nfields = NFIELDS(avp_fields), .minlen = 8,
  .variants = avp_variants, .ws_fields = avp_ws, .record = 1,
  .hdr_len = avp_len, .next = avp_next, .fixup = avp_fixup,
  .present = avp_present, .shape_len = avp_shape, .var = avp_var,
};

SF_PROTO_FILE(l2tp) {
  sf_register(&l2tp);
  id_avp = sf_register(&avp);
}
