/*
 * mqtt.c -- MQTT 3.1, 3.1.1 and 5.0 (OASIS) over TCP 1883, with Scapy's
 * classes and field names (scapy.contrib.mqtt) and MQTT 5.0's properties.
 *
 * A message is two layers, as in Scapy: the fixed header (MQTT: type,
 * flags and the remaining length, a base-128 integer) and the message's
 * own class (MQTTConnect, MQTTPublish, ...), whose header is the rest of
 * the message -- a PUBLISH's payload is its `value` field.  PINGREQ,
 * PINGRESP and 3.1.1's DISCONNECT have no such rest, hence no second
 * layer.  A TCP segment holds messages back to back: after a message's
 * last layer comes the next MQTT; a message cut short by the segment is
 * Raw, and flows give it whole (docs/flows.md).
 *
 * Two things of a message's layout are not in its own bytes: a PUBLISH
 * has a message id when the fixed header's QoS is above 0, and 5.0's
 * properties (and a few other parts) exist only if the connection
 * speaks 5.0, which its CONNECT says.  Parsed, the QoS is read from the
 * fixed header below; the version from a CONNECT earlier in the same
 * packet, else from the bytes: messages whose 5.0 form differs in length
 * (CONNACK, the acknowledgements, DISCONNECT, AUTH) say so by their
 * length, and the others (PUBLISH, SUBSCRIBE, SUBACK, UNSUBSCRIBE) are
 * read as 5.0 when a well-formed property block of the kinds that message
 * may carry sits where 5.0 puts one (and, for lists, the rest then makes
 * whole entries); a 3.1.1 PUBLISH whose payload starts with a zero byte
 * reads as 5.0.  Built, a message starts with its message id and its
 * property block, so that both can be set; when the packet is finalized
 * the message id follows the QoS of the fixed header below, and the
 * property block goes unless `properties` was given: a 5.0 message is one
 * built with properties (an empty table is an empty block).  What was
 * left out is kept in the layer's SF_L_OWN bits.
 *
 * CONNECT is laid out by the layout engine (core/custom/), as Scapy's
 * fields_desc says, with this file answering lengths and conditions.
 *
 * Properties are one field, `properties`: the block's bytes with its
 * length, given and read as a table by name through the Lua codec
 * "mqtt_properties" (stdlib/stackforge/mqtt.lua); Wireshark's mqtt.*
 * names are declared for the rest.
 */
#include <string.h>

#include "common.h"
#include "../custom/custom.h"

static int mqtt_id = -1, connect_id = -1;

static const sf_enum types[] = {
  {1, "CONNECT"}, {2, "CONNACK"}, {3, "PUBLISH"}, {4, "PUBACK"}, {5, "PUBREC"},
  {6, "PUBREL"}, {7, "PUBCOMP"}, {8, "SUBSCRIBE"}, {9, "SUBACK"},
  {10, "UNSUBSCRIBE"}, {11, "UNSUBACK"}, {12, "PINGREQ"}, {13, "PINGRESP"},
  {14, "DISCONNECT"}, {15, "AUTH"}, {0, NULL}
};

static const sf_enum qos_levels[] = {
  {0, "At most once delivery"}, {1, "At least once delivery"},
  {2, "Exactly once delivery"}, {0, NULL}
};

static const sf_enum levels[] = {{3, "v3.1"}, {4, "v3.1.1"}, {5, "v5.0"}, {0, NULL}};

static const sf_enum connack_codes[] = {
  {0, "Connection Accepted"}, {1, "Unacceptable protocol version"},
  {2, "Identifier rejected"}, {3, "Server unavailable"},
  {4, "Bad username/password"}, {5, "Not authorized"}, {0, NULL}
};

/* ---- 5.0 properties (2.2.2.2) --------------------------------------------------- */

enum { P_BYTE, P_U16, P_U32, P_VARINT, P_STR, P_BIN, P_PAIR };

static int prop_form(unsigned id) {
  switch (id) {
    case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28:
    case 0x29: case 0x2a: return P_BYTE;
    case 0x13: case 0x21: case 0x22: case 0x23: return P_U16;
    case 0x02: case 0x11: case 0x18: case 0x27: return P_U32;
    case 0x0b: return P_VARINT;
    case 0x03: case 0x08: case 0x12: case 0x15: case 0x1a: case 0x1c:
    case 0x1f: return P_STR;
    case 0x09: case 0x16: return P_BIN;
    case 0x26: return P_PAIR;
    default: return -1;
  }
}

/* the bytes one property's value takes at d (n there), 0 if it does not fit */
static size_t prop_value_len(int form, const uint8_t *d, size_t n) {
  static const uint8_t fixed[] = {1, 2, 4};
  uint64_t v;
  size_t a, b;
  switch (form) {
    case P_BYTE: case P_U16: case P_U32:
      return fixed[form] <= n ? fixed[form] : 0;
    case P_VARINT:
      return sf_varint_get(d, n < 4 ? n : 4, &v);
    case P_STR: case P_BIN:
      return n >= 2 && 2u + rd16(d) <= n ? 2u + rd16(d) : 0;
    default:  /* a key and a value */
      if (!(a = prop_value_len(P_STR, d, n))) return 0;
      b = prop_value_len(P_STR, d + a, n - a);
      return b ? a + b : 0;
  }
}

/* The length of a property block at h (n bytes there): its varint and its
   properties, each a kind `allowed` lists; 0 when there is none such. */
static size_t props_len(const uint8_t *h, size_t n, const char *allowed) {
  uint64_t total;
  size_t k = sf_varint_get(h, n < 4 ? n : 4, &total), at;
  if (!k || total > n - k) return 0;
  for (at = k; at < k + total;) {
    int form = prop_form(h[at]);
    size_t vl;
    if (form < 0 || !memchr(allowed, h[at], strlen(allowed))) return 0;
    vl = prop_value_len(form, h + at + 1, k + total - at - 1);
    if (!vl) return 0;
    at += 1 + vl;
  }
  return k + (size_t)total;
}

/* the property kinds each message may carry */
#define CONNECT_PROPS "\x11\x21\x27\x22\x19\x17\x26\x15\x16"
#define WILL_PROPS "\x18\x01\x02\x03\x08\x09\x26"
#define CONNACK_PROPS "\x11\x21\x24\x25\x27\x12\x22\x1f\x26\x28\x29\x2a\x13\x1a\x1c\x15\x16"
#define PUBLISH_PROPS "\x01\x02\x23\x08\x09\x26\x0b\x03"
#define ACK_PROPS "\x1f\x26"
#define SUBSCRIBE_PROPS "\x0b\x26"
#define UNSUBSCRIBE_PROPS "\x26"
#define DISCONNECT_PROPS "\x11\x1f\x26\x1c"
#define AUTH_PROPS "\x15\x16\x1f\x26"

/* ---- the fixed header ------------------------------------------------------------ */

enum { H_TYPE, H_DUP, H_QOS, H_RETAIN, H_LEN };

static const sf_field mqtt_fields[] = {
  UINTF("type", 0, 4, 1, 0, types, 0),
  UINTF("DUP", 4, 1, 0, 0, NULL, 0),
  UINTF("QOS", 5, 2, 0, 0, qos_levels, 0),
  UINTF("RETAIN", 7, 1, 0, 0, NULL, 0),
  /* the remaining length: 1 to 4 bytes */
  {"len", SF_T_UINT, SF_FF_AUTO | SF_FF_VARINT, 0, 0, 0, 28, 0, NULL, NULL, NULL, NULL},
};

static const uint8_t mqtt_tmpl[] = {0x10, 0x00};

/* the remaining length's bytes after the first, 0 when malformed */
static size_t len_bytes(const uint8_t *h, size_t n) {
  uint64_t v;
  return n >= 2 ? sf_varint_get(h + 1, n - 1 < 4 ? n - 1 : 4, &v) : 0;
}

/* Flags a message of type t may have (3.1.1, 2.2.2): PUBLISH any; PUBREL,
   SUBSCRIBE and UNSUBSCRIBE 0010; the rest 0000.  Other bytes are no
   message start -- a segment in the middle of a long PUBLISH, say. */
static int flags_fit(uint8_t b) {
  unsigned t = b >> 4, f = b & 0x0f;
  if (t == 0) return 0;
  if (t == 3) return (f & 0x06) != 0x06;  /* QoS 3 is no QoS */
  return f == (t == 6 || t == 8 || t == 10 ? 2u : 0u);
}

static size_t mqtt_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  size_t k = len_bytes(h, n);
  (void)p;
  return k && flags_fit(h[0]) ? 1 + k : 0;
}

static void mqtt_var(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)h;
  (void)fi;
  *off = 1;
  *len = hlen > 1 ? hlen - 1 : 0;
}

/* No rest (PINGREQ, PINGRESP, 3.1.1's DISCONNECT): the next message, if
   any; else the message's class by its type. */
static int mqtt_next(const sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  if (sf_lget(p, li, H_LEN) == 0) return l->off + l->hlen < l->end ? mqtt_id : -2;
  return -1;
}

/* The remaining length: the bytes up to the next message, or to the end. */
static void mqtt_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  sf_lput(p, li, H_LEN, message_end(p, li) - l->off - l->hlen);
}

static const sf_place mqtt_places[] = {{"tcp.port", 1883, 0, NULL}, {NULL, 0, 0, NULL}};
static const sf_alias mqtt_aliases[] = {
  {"msg_type", "type"}, {"dup", "DUP"}, {"qos", "QOS"}, {"retain", "RETAIN"},
  {"length", "len"}, {NULL, NULL}
};
static const sf_wsfield mqtt_ws[] = {
  WS("mqtt.msgtype", "type"), WS("mqtt.dupflag", "DUP"),
  WS("mqtt.qos", "QOS"), WS("mqtt.retain", "RETAIN"),
  WS("mqtt.len", "len"), WSEND
};

static sf_proto mqtt = {
  .name = "MQTT", .display = "MQTT", .kind = "Mqtt",
  .fields = mqtt_fields, .nfields = NFIELDS(mqtt_fields), .minlen = 2,
  .next_table = "mqtt.type", .next_keys = {"type"}, .places = mqtt_places,
  .aliases = mqtt_aliases, .ws = "mqtt", .ws_fields = mqtt_ws,
  .hdr_len = mqtt_len, .next = mqtt_next, .fixup = mqtt_fixup, .var = mqtt_var,
  .deftmpl = mqtt_tmpl,
};

/* ---- what every message's class shares -------------------------------------------- */

/* The fixed header right below the header at h, or -1. */
static int header_below(const sf_pkt *p, const uint8_t *h) {
  int b = sf_layer_before(p, h);
  return b >= 0 && p->layers[b].proto == mqtt_id ? b : -1;
}

/* The layer whose header starts at h, or -1 (being parsed). */
static int layer_at(const sf_pkt *p, const uint8_t *h) {
  int li;
  if (!p) return -1;
  for (li = p->nlayers - 1; li >= 0; li--)
    if (p->data + p->layers[li].off == h) return li;
  return -1;
}

static int built_layer(const sf_pkt *p, int li) {
  return li >= 0 && (p->layers[li].flags & (SF_L_BUILT | SF_L_TRUNC)) == SF_L_BUILT;
}

/* The rest of the message: the remaining length of the header below
   (0 when the bytes are cut short), or every byte without one. */
static size_t body_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  int b = p ? header_below(p, h) : -1;
  uint64_t rl;
  if (b < 0) return n;
  rl = sf_lget(p, b, H_LEN);
  return rl <= n ? (size_t)rl : 0;
}

/* After a message, the next one. */
static int body_next(const sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  return l->off + l->hlen < l->end ? mqtt_id : -2;
}

/* The protocol level of a CONNECT earlier in the packet, or 0. */
static unsigned connect_level(const sf_pkt *p, int below) {
  int li;
  for (li = below; li >= 0; li--)
    if (p->layers[li].proto == connect_id) return (unsigned)sf_lget(p, li, 2);
  return 0;
}

/* A version 5.0 layout?  known: 5.0 by the packet's CONNECT (1), 3.x by
   it (0), or unknown (-1): then the bytes decide. */
static int version_known(const sf_pkt *p, const uint8_t *h) {
  int b = p ? sf_layer_before(p, h) : -1;
  unsigned level = b >= 0 ? connect_level(p, b) : 0;
  return level ? level == 5 : -1;
}

/* ---- bodies whose layout the header below or the version decides ------------------- */

/* What one class knows of its layout: a message id (after the topic, in
   PUBLISH; at 0 elsewhere), a property block, and the rest. */
typedef struct body {
  const char *props;   /* property kinds it may carry */
  int topic_first;     /* PUBLISH: length + topic, then the id */
  int has_id;          /* at all */
  int list;            /* what follows: 1 topic filters with options,
                          2 topic filters, 3 reason codes, 0 a value */
} body;

enum { BODY_PUBLISH, BODY_SUBSCRIBE, BODY_SUBACK, BODY_UNSUBSCRIBE, NBODY };

static const body bodies[NBODY] = {
  {PUBLISH_PROPS, 1, 1, 0},
  {SUBSCRIBE_PROPS, 0, 1, 1},
  {ACK_PROPS, 0, 1, 3},
  {UNSUBSCRIBE_PROPS, 0, 1, 2},
};

/* where the message id is: after PUBLISH's topic, else first */
static size_t id_at(const body *b, const uint8_t *h, size_t hlen) {
  return b->topic_first && hlen >= 2 ? 2u + rd16(h) : 0;
}

/* Do the bytes [at, end) make whole topic filters (with an options byte
   each when opts), at least one? */
static int filters_tile(const uint8_t *h, size_t at, size_t end, int opts) {
  int n = 0;
  while (at < end) {
    if (end - at < 2 || (size_t)rd16(h + at) + 2 + (size_t)opts > end - at) return 0;
    at += 2u + rd16(h + at) + (size_t)opts;
    n++;
  }
  return n > 0;
}

/* Does what follows the property block (or the id, in 3.x) make sense for
   the message?  SUBACK codes: 0-2 and 0x80 in 3.1.1, reason codes in 5.0. */
static int rest_fits(const body *b, const uint8_t *h, size_t at, size_t end, int v5) {
  size_t i;
  switch (b->list) {
    case 1: return filters_tile(h, at, end, 1);
    case 2: return filters_tile(h, at, end, 0);
    case 3:
      if (at >= end) return 0;
      for (i = at; i < end; i++)
        if (!(h[i] <= 2 || h[i] == 0x80 || (v5 && h[i] > 0x80))) return 0;
      return 1;
    default: return 1;
  }
}

/* A parsed message read as 5.0: the packet's CONNECT says, else a
   property block of its kinds where 5.0 has one, the rest then fitting
   (ties go to 5.0). */
static int guess_v5(const sf_pkt *p, const body *b, const uint8_t *h, size_t hlen,
                    int id) {
  size_t at = id_at(b, h, hlen) + (id ? 2 : 0), pl;
  int known = version_known(p, h);
  if (known >= 0) return known;
  if (at > hlen || !(pl = props_len(h + at, hlen - at, b->props))) return 0;
  return rest_fits(b, h, at + pl, hlen, 1) || !rest_fits(b, h, at, hlen, 0);
}

/* This header's layout: a message id?  a property block? */
static void body_layout(const sf_pkt *p, const body *b, const uint8_t *h, size_t hlen,
                        int *id, int *v5) {
  int li = layer_at(p, h), below;
  if (built_layer(p, li)) {
    *id = b->has_id && !(p->layers[li].flags & SF_L_OWN1);
    *v5 = !(p->layers[li].flags & SF_L_OWN2);
    return;
  }
  below = p ? header_below(p, h) : -1;
  *id = b->has_id && (!b->topic_first || (below >= 0 && sf_lget(p, below, H_QOS) > 0));
  *v5 = guess_v5(p, b, h, hlen, *id);
}

/* Conditions: the layout each field copy is for (GRE's way: a field after
   a part that may be absent has a copy for each case). */
enum { C_ID = 1, C_V5, C_V3, C_ID_V5, C_ID_V3, C_NOID_V5, C_NOID_V3 };

static int layout_holds(int cond, int id, int v5) {
  switch (cond) {
    case C_ID: return id;
    case C_V5: return v5;
    case C_V3: return !v5;
    case C_ID_V5: return id && v5;
    case C_ID_V3: return id && !v5;
    case C_NOID_V5: return !id && v5;
    case C_NOID_V3: return !id && !v5;
    default: return 1;
  }
}

static int cond_id(int cond) { return cond == C_ID || cond == C_ID_V5 || cond == C_ID_V3; }
static int cond_v5(int cond) { return cond == C_V5 || cond == C_ID_V5 || cond == C_NOID_V5; }

/* Where the property block and the rest start, for the layout a field
   copy is for. */
static void parts_at(const body *b, const uint8_t *h, size_t hlen, int cond,
                     size_t *props, size_t *rest) {
  size_t at = id_at(b, h, hlen) + (b->has_id && (b->topic_first ? cond_id(cond) : 1) ? 2 : 0);
  size_t pl = 0;
  uint64_t v;
  size_t k;
  if (at > hlen) at = hlen;
  *props = at;
  if (cond_v5(cond) && (k = sf_varint_get(h + at, hlen - at < 4 ? hlen - at : 4, &v)))
    pl = v <= hlen - at - k ? k + (size_t)v : hlen - at;
  *rest = at + pl;
}

/* What a variable field of a body is: the fields' codecs tell them apart
   (a field copy for each layout that moves it, GRE's way: the condition
   says which layout). */
enum { PART_TOPIC, PART_ID, PART_PROPS, PART_REST };

static int part_of(const sf_field *f) {
  if (f->flags & SF_FF_AT) return PART_ID;
  if (f->flags & SF_FF_SHAPE) return PART_PROPS;  /* only properties are */
  return f->cond ? PART_REST : PART_TOPIC;        /* the topic is unconditional */
}

static void body_var(const body *b, const sf_field *f, const uint8_t *h, size_t hlen,
                     size_t *off, size_t *len) {
  size_t props, rest;
  parts_at(b, h, hlen, f->cond, &props, &rest);
  switch (part_of(f)) {
    case PART_TOPIC:
      *off = 2;
      *len = hlen >= 2 ? rd16(h) : 0;
      break;
    case PART_ID:
      *off = id_at(b, h, hlen);
      *len = 2;
      break;
    case PART_PROPS:
      *off = props;
      *len = rest - props;
      break;
    default:  /* the rest: value, topics, retcode */
      *off = rest;
      *len = hlen - rest;
  }
}

/* Built: the message id as the QoS below says, and the property block
   only when properties were given.  What is left out is noted. */
static void strip_id(sf_pkt *p, int li, const body *b, int fid) {
  sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off;
  int below = header_below(p, h), id, v5;
  size_t at = id_at(b, h, l->hlen);
  if (below < 0 || !b->topic_first) return;
  body_layout(p, b, h, l->hlen, &id, &v5);
  if (id && sf_lget(p, below, H_QOS) == 0 && at + 2 <= l->hlen &&
      sf_pkt_splice(p, li, l->off + at, 2, NULL, 0) == SF_OK) {
    p->layers[li].flags |= SF_L_OWN1;
    p->layers[li].set &= ~(UINT64_C(1) << fid);
  } else if (!id && sf_lget(p, below, H_QOS) > 0 &&
             sf_pkt_splice(p, li, l->off + at, 0, NULL, 2) == SF_OK) {
    p->layers[li].flags &= (uint16_t)~SF_L_OWN1;
  }
}

static int props_given(const sf_pkt *p, int li) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  int fi;
  for (fi = 0; fi < pr->nfields; fi++)
    if (strcmp(pr->fields[fi].name, "properties") == 0 && sf_isset(p, li, fi)) return 1;
  return 0;
}

static void strip_props(sf_pkt *p, int li, const body *b) {
  sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off;
  size_t props, rest;
  int id, v5;
  body_layout(p, b, h, l->hlen, &id, &v5);
  if (!v5 || props_given(p, li)) return;
  parts_at(b, h, l->hlen, id ? C_ID_V5 : C_NOID_V5, &props, &rest);
  if (sf_pkt_splice(p, li, l->off + props, rest - props, NULL, 0) == SF_OK)
    p->layers[li].flags |= SF_L_OWN2;
}

static void body_fixup(sf_pkt *p, int li, const body *b, int fid) {
  if (!built_layer(p, li)) return;
  strip_id(p, li, b, fid);
  strip_props(p, li, b);
}

/* ---- PUBLISH ---------------------------------------------------------------------------- */

#define AT16(n, c) {(n), SF_T_UINT, SF_FF_AT, (c), 0, 0, 16, 0, NULL, NULL, NULL, NULL}
#define AT8(n, fl, c, en) {(n), SF_T_UINT, SF_FF_AT | (fl), (c), 0, 0, 8, 0, NULL, (en), NULL, NULL}
#define PROPS(c) {"properties", SF_T_BYTES, SF_FF_SHAPE, (c), 0, 0, 0, 0, NULL, NULL, "mqtt_properties", NULL}
#define REST(n, codec, c) {(n), SF_T_BYTES, 0, (c), 0, 0, 0, 0, NULL, NULL, (codec), NULL}

enum { PUB_LENGTH, PUB_TOPIC, PUB_MSGID };
static const sf_field publish_fields[] = {
  UINTF("length", 0, 16, 0, 0, NULL, 0),  /* follows the topic when it is set */
  REST("topic", NULL, 0),
  AT16("msgid", C_ID),
  PROPS(C_ID_V5), PROPS(C_NOID_V5),
  REST("value", NULL, C_ID_V5), REST("value", NULL, C_ID_V3),
  REST("value", NULL, C_NOID_V5), REST("value", NULL, C_NOID_V3),
};
/* topic length 0, message id 0, an empty property block */
static const uint8_t publish_tmpl[] = {0, 0, 0, 0, 0};

static int publish_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  int id, v5;
  body_layout(p, &bodies[BODY_PUBLISH], h, hlen, &id, &v5);
  return layout_holds(cond, id, v5);
}

static void publish_var(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  body_var(&bodies[BODY_PUBLISH], &publish_fields[fi], h, hlen, off, len);
}

static void publish_fixup(sf_pkt *p, int li) {
  body_fixup(p, li, &bodies[BODY_PUBLISH], PUB_MSGID);
}

/* Setting a field of a PUBLISH: its bytes replaced, the topic's length
   with the topic (the length says where the topic ends), and a message id
   or a property block left out at build brought back when set. */
static int bring_back(sf_pkt *p, int li, int fi) {
  sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off;
  size_t props, rest;
  int rc = SF_OK;
  if (!built_layer(p, li)) return SF_OK;
  if (fi == PUB_MSGID && (l->flags & SF_L_OWN1)) {
    rc = sf_pkt_splice(p, li, l->off + id_at(&bodies[BODY_PUBLISH], h, l->hlen), 0, NULL, 2);
    if (rc == SF_OK) p->layers[li].flags &= (uint16_t)~SF_L_OWN1;
  } else if (strcmp(publish_fields[fi].name, "properties") == 0 && (l->flags & SF_L_OWN2)) {
    parts_at(&bodies[BODY_PUBLISH], h, l->hlen, (l->flags & SF_L_OWN1) ? C_NOID_V3 : C_ID_V3,
             &props, &rest);
    rc = sf_pkt_splice(p, li, l->off + props, 0, (const uint8_t *)"", 1);
    if (rc == SF_OK) p->layers[li].flags &= (uint16_t)~SF_L_OWN2;
  }
  return rc;
}

static int publish_set(const sf_proto *pr, sf_pkt *p, int li, int fi, const sf_val *v) {
  const sf_field *f = &pr->fields[fi];
  sf_val d = {f->def, (const uint8_t *)"", 0};
  size_t bitoff, bits;
  int rc;
  if (!v) v = &d;
  if ((rc = bring_back(p, li, fi)) != SF_OK) return rc;
  if ((fi = sf_field_resolve(p, li, sf_field_find(pr, f->name))) < 0) return SF_E_ABSENT;
  if (!sf_field_span(p, li, fi, &bitoff, &bits)) return SF_E_ABSENT;
  if (f->type == SF_T_UINT) {
    sf_setbits((uint8_t *)p->data + p->layers[li].off, (unsigned)bitoff, (unsigned)bits, v->u);
    return SF_OK;
  }
  rc = sf_pkt_splice(p, li, p->layers[li].off + bitoff / 8u, bits / 8u, v->p, v->n);
  if (rc == SF_OK && fi == PUB_TOPIC)
    sf_setbits((uint8_t *)p->data + p->layers[li].off, 0, 16, v->n);
  return rc;
}

static const sf_dyn publish_dyn = {.set = publish_set};

/* ---- SUBSCRIBE, SUBACK, UNSUBSCRIBE: a message id, properties, a list ------------------ */

#define LISTBODY(var, kind, list, codec)                                                  \
  static const sf_field var##_fields[] = {                                                 \
    UINTF("msgid", 0, 16, 0, 0, NULL, 0), PROPS(C_V5),                                      \
    REST(list, codec, C_V5), REST(list, codec, C_V3),                                      \
  };                                                                                       \
  static int var##_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {    \
    int id, v5;                                                                            \
    body_layout(p, &bodies[kind], h, hlen, &id, &v5);                                      \
    return layout_holds(cond, id, v5);                                                     \
  }                                                                                        \
  static void var##_var(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) { \
    body_var(&bodies[kind], &var##_fields[fi], h, hlen, off, len);                         \
  }                                                                                        \
  static void var##_fixup(sf_pkt *p, int li) { body_fixup(p, li, &bodies[kind], -1); }

LISTBODY(subscribe, BODY_SUBSCRIBE, "topics", "mqtt_topic_qos_list")
LISTBODY(suback, BODY_SUBACK, "retcode", "mqtt_codes")
LISTBODY(unsubscribe, BODY_UNSUBSCRIBE, "topics", "mqtt_topic_list")

/* message id 0, an empty property block */
static const uint8_t id_props_tmpl[] = {0, 0, 0};

/* ---- messages whose length says their version ------------------------------------------- */

/* CONNACK: flags, a return (5.0: reason) code, then 5.0's properties. */
static const sf_field connack_fields[] = {
  UINTF("sessPresentFlag", 0, 8, 0, 0, NULL, 0),
  UINTF("retcode", 8, 8, 0, 0, connack_codes, 0),
  REST("properties", "mqtt_properties", 0),
};

static void from2(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)h;
  (void)fi;
  *off = 2;
  *len = hlen > 2 ? hlen - 2 : 0;
}

/* PUBACK, PUBREC, PUBREL, PUBCOMP: a message id; 5.0 adds a reason code
   and properties after it.  UNSUBACK: a message id; 5.0 adds properties
   and a reason code for each topic. */
enum { C_CODE = 1 };
static const sf_field ack_fields[] = {
  UINTF("msgid", 0, 16, 0, 0, NULL, 0),
  AT8("reasonCode", SF_FF_SHAPE, 0, NULL),
  {"properties", SF_T_BYTES, 0, C_CODE, 0, 0, 0, 0, NULL, NULL, "mqtt_properties", NULL},
};

static int ack_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  (void)p;
  (void)h;
  return cond != C_CODE || hlen >= 3;
}

static void ack_var(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)h;
  *off = fi == 1 ? 2 : 3;
  *len = hlen > *off ? hlen - *off : 0;
}

static const sf_field unsuback_fields[] = {
  UINTF("msgid", 0, 16, 0, 0, NULL, 0),
  {"properties", SF_T_BYTES, SF_FF_SHAPE, 0, 0, 0, 0, 0, NULL, NULL, "mqtt_properties", NULL},
  REST("reasonCodes", "u8_list", 0),
};

/* 5.0's block, if the message is longer than its id; the codes after it */
static void unsuback_var(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  size_t pl = hlen > 2 ? props_len(h + 2, hlen - 2, ACK_PROPS) : 0;
  if (hlen > 2 && !pl) {  /* a block cut short: its varint and what there is */
    uint64_t v;
    size_t k = sf_varint_get(h + 2, hlen - 2 < 4 ? hlen - 2 : 4, &v);
    pl = k ? (v <= hlen - 2 - k ? k + (size_t)v : hlen - 2) : hlen - 2;
  }
  *off = fi == 1 ? 2 : 2 + pl;
  *len = fi == 1 ? pl : hlen - 2 - pl;
}

/* DISCONNECT and AUTH (5.0): a reason code, then properties. */
static const sf_field reason_fields[] = {
  AT8("reasonCode", SF_FF_SHAPE, 0, NULL),
  {"properties", SF_T_BYTES, 0, C_CODE, 0, 0, 0, 0, NULL, NULL, "mqtt_properties", NULL},
};

static int reason_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  (void)p;
  (void)h;
  return cond != C_CODE || hlen >= 1;
}

static void reason_var(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)h;
  *off = fi == 0 ? 0 : 1;
  *len = hlen > *off ? hlen - *off : 0;
}

/* ---- CONNECT: the layout engine's --------------------------------------------------------- */

enum { CN_LENGTH, CN_PROTONAME, CN_LEVEL, CN_UFLAG, CN_PFLAG, CN_WRETAIN, CN_WQOS,
       CN_WFLAG, CN_CLEAN, CN_RESERVED, CN_KLIVE, CN_PROPS, CN_IDLEN, CN_ID,
       CN_WPROPS, CN_WTOPLEN, CN_WTOPIC, CN_WMSGLEN, CN_WMSG, CN_ULEN, CN_USER,
       CN_PLEN, CN_PASS, CN_N };

#define CU(n, bits, d, en) {(n), SF_T_UINT, 0, 0, 0, 0, (bits), (d), NULL, (en), NULL, NULL}
#define CS(n, codec) {(n), SF_T_BYTES, 0, 0, 0, 0, 0, 0, NULL, NULL, (codec), NULL}

static const sf_field connect_fields[CN_N] = {
  CU("length", 16, 0, NULL), CS("protoname", NULL), CU("protolevel", 8, 4, levels),
  CU("usernameflag", 1, 0, NULL), CU("passwordflag", 1, 0, NULL),
  CU("willretainflag", 1, 0, NULL), CU("willQOSflag", 2, 0, qos_levels),
  CU("willflag", 1, 0, NULL), CU("cleansess", 1, 0, NULL), CU("reserved", 1, 0, NULL),
  CU("klive", 16, 0, NULL), CS("properties", "mqtt_properties"),
  CU("clientIdlen", 16, 0, NULL), CS("clientId", NULL),
  CS("willproperties", "mqtt_properties"),
  CU("wtoplen", 16, 0, NULL), CS("willtopic", NULL), CU("wmsglen", 16, 0, NULL),
  CS("willmsg", NULL), CU("userlen", 16, 0, NULL), CS("username", NULL),
  CU("passlen", 16, 0, NULL), CS("password", NULL),
};

#define K_FIXED {SF_CK_FIXED, 0, -1, -1, -1, 0, 0, 0, NULL, 0}
#define K_LEN_OF(t, h) {SF_CK_FIXED, (h), (t), -1, -1, 0, 0, 0, NULL, 0}
#define K_SIZED(h, d, nd) {SF_CK_VAR, SF_CH_LENGTH | (h), -1, -1, -1, 0, 0, 0, (const uint8_t *)(d), (nd)}
#define K_COND {SF_CK_FIXED, SF_CH_COND, -1, -1, -1, 0, 0, 0, NULL, 0}

static const uint8_t empty_props[] = {0};

static const sf_cfield connect_cf[CN_N] = {
  K_LEN_OF(CN_PROTONAME, 0), K_SIZED(0, "MQTT", 4), K_FIXED,
  K_FIXED, K_FIXED, K_FIXED, K_FIXED, K_FIXED, K_FIXED, K_FIXED, K_FIXED,
  K_SIZED(SF_CH_COND, empty_props, 1),
  K_LEN_OF(CN_ID, 0), K_SIZED(0, NULL, 0),
  K_SIZED(SF_CH_COND, empty_props, 1),
  K_LEN_OF(CN_WTOPIC, SF_CH_COND), K_SIZED(SF_CH_COND, NULL, 0),
  K_LEN_OF(CN_WMSG, SF_CH_COND), K_SIZED(SF_CH_COND, NULL, 0),
  K_LEN_OF(CN_USER, SF_CH_COND), K_SIZED(SF_CH_COND, NULL, 0),
  K_LEN_OF(CN_PASS, SF_CH_COND), K_SIZED(SF_CH_COND, NULL, 0),
};

static uint64_t view_u(const sf_cview *v, int fi) {
  sf_val x;
  return sf_cview_get(v, fi, &x) == SF_OK ? x.u : 0;
}

/* where the field after the last one laid out starts, in bytes */
static size_t view_end(const sf_cview *v, int fi) {
  int i;
  for (i = fi - 1; i >= 0; i--)
    if (v->spans[i].bits != SF_ABSENT) return (v->spans[i].bitoff + v->spans[i].bits) / 8u;
  return 0;
}

static int connect_number(void *host, const sf_cview *v, int fi, int what,
                          int64_t *out, char *bad, size_t badlen) {
  size_t at, pl;
  (void)host;
  (void)what;
  (void)bad;
  (void)badlen;
  if (fi == CN_PROPS || fi == CN_WPROPS) {  /* a block: its own varint */
    at = view_end(v, fi);
    pl = at <= v->n ? props_len(v->h + at, v->n - at,
                                fi == CN_PROPS ? CONNECT_PROPS : WILL_PROPS) : 0;
    if (!pl) return SF_E_VALUE;
    *out = (int64_t)pl;
    return SF_OK;
  }
  *out = (int64_t)view_u(v, fi - 1);  /* the length before it */
  return SF_OK;
}

static int connect_cond(void *host, const sf_cview *v, int fi, int *holds) {
  int v5 = view_u(v, CN_LEVEL) == 5, will = view_u(v, CN_WFLAG) == 1;
  (void)host;
  switch (fi) {
    case CN_PROPS: *holds = v5; break;
    case CN_WPROPS: *holds = v5 && will; break;
    case CN_WTOPLEN: case CN_WTOPIC: case CN_WMSGLEN: case CN_WMSG: *holds = will; break;
    case CN_ULEN: case CN_USER: *holds = view_u(v, CN_UFLAG) == 1; break;
    default: *holds = view_u(v, CN_PFLAG) == 1; break;
  }
  return SF_OK;
}

static const sf_custom_ops connect_ops = {connect_number, connect_cond, NULL, NULL, NULL, NULL, NULL};

static const sf_alias connect_aliases[] = {
  {"client_id", "clientId"}, {"keep_alive", "klive"}, {"protocol_level", "protolevel"},
  {NULL, NULL}
};

/* ---- registration ------------------------------------------------------------------------- */


static const sf_wsfield connect_ws[] = {
  WS("mqtt.proto_len", "length"), WS("mqtt.protoname", "protoname"),
  WS("mqtt.ver", "protolevel"), WS("mqtt.conflag.uname", "usernameflag"),
  WS("mqtt.conflag.passwd", "passwordflag"), WS("mqtt.conflag.retain", "willretainflag"),
  WS("mqtt.conflag.qos", "willQOSflag"), WS("mqtt.conflag.willflag", "willflag"),
  WS("mqtt.conflag.cleansess", "cleansess"), WS("mqtt.conflag.reserved", "reserved"),
  WS("mqtt.kalive", "klive"), WS("mqtt.clientid_len", "clientIdlen"),
  WS("mqtt.clientid", "clientId"), WS("mqtt.willtopic_len", "wtoplen"),
  WS("mqtt.willtopic", "willtopic"), WS("mqtt.willmsg_len", "wmsglen"),
  WS("mqtt.willmsg", "willmsg"), WS("mqtt.username_len", "userlen"),
  WS("mqtt.username", "username"), WS("mqtt.passwd_len", "passlen"),
  WS("mqtt.passwd", "password"), WSEND
};
static const sf_wsfield connack_ws[] = {
  WSX("mqtt.conack.flags", "sessPresentFlag", 2), WS("mqtt.conack.val", "retcode"), WSEND
};
static const sf_wsfield publish_ws[] = {
  WS("mqtt.topic_len", "length"), WS("mqtt.topic", "topic"), WS("mqtt.msgid", "msgid"),
  WS("mqtt.msg", "value"), WSEND
};
static const sf_wsfield msgid_ws[] = {WS("mqtt.msgid", "msgid"), WSEND};
static const sf_wsfield puback_ws[] = {
  WS("mqtt.msgid", "msgid"), WS("mqtt.puback.reason_code", "reasonCode"), WSEND
};
static const sf_wsfield pubrec_ws[] = {
  WS("mqtt.msgid", "msgid"), WS("mqtt.pubrec.reason_code", "reasonCode"), WSEND
};
static const sf_wsfield pubrel_ws[] = {
  WS("mqtt.msgid", "msgid"), WS("mqtt.pubrel.reason_code", "reasonCode"), WSEND
};
static const sf_wsfield pubcomp_ws[] = {
  WS("mqtt.msgid", "msgid"), WS("mqtt.pubcomp.reason_code", "reasonCode"), WSEND
};
static const sf_wsfield disconnect_ws[] = {WS("mqtt.disconnect.reason_code", "reasonCode"), WSEND};
static const sf_wsfield auth_ws[] = {WS("mqtt.auth.reason_code", "reasonCode"), WSEND};

/* The classes of messages: where each sits in the "mqtt.type" table. */
#define PLACE(t) {{"mqtt.type", (t), 0, NULL}, {NULL, 0, 0, NULL}}
static const sf_place at1[] = PLACE(1), at2[] = PLACE(2), at3[] = PLACE(3),
  at4[] = PLACE(4), at5[] = PLACE(5), at6[] = PLACE(6), at7[] = PLACE(7),
  at8[] = PLACE(8), at9[] = PLACE(9), at10[] = PLACE(10), at11[] = PLACE(11),
  at14[] = PLACE(14), at15[] = PLACE(15);

#define BODYPROTO(v, nm, disp, kd, fl, pl, tm, ml)                                   \
  static sf_proto v = {                                                              \
    .name = nm, .display = disp, .kind = kd, .fields = fl, .nfields = NFIELDS(fl),   \
    .minlen = ml, .places = pl, .ws = "mqtt", .hdr_len = body_len,                   \
    .next = body_next, .deftmpl = tm,

BODYPROTO(publish, "MQTTPublish", "MQTT publish", "MqttPublish", publish_fields, at3,
          publish_tmpl, 5)
  .ws_fields = publish_ws, .present = publish_present, .var = publish_var,
  .fixup = publish_fixup, .dyn = &publish_dyn,
};
BODYPROTO(subscribe, "MQTTSubscribe", "MQTT subscribe", "MqttSubscribe", subscribe_fields,
          at8, id_props_tmpl, 3)
  .ws_fields = msgid_ws, .present = subscribe_present, .var = subscribe_var,
  .fixup = subscribe_fixup,
};
BODYPROTO(suback, "MQTTSuback", "MQTT suback", "MqttSuback", suback_fields, at9,
          id_props_tmpl, 3)
  .ws_fields = msgid_ws, .present = suback_present, .var = suback_var,
  .fixup = suback_fixup,
};
BODYPROTO(unsubscribe, "MQTTUnsubscribe", "MQTT unsubscribe", "MqttUnsubscribe",
          unsubscribe_fields, at10, id_props_tmpl, 3)
  .ws_fields = msgid_ws, .present = unsubscribe_present, .var = unsubscribe_var,
  .fixup = unsubscribe_fixup,
};
static const uint8_t two_zeros[] = {0, 0};
BODYPROTO(connack, "MQTTConnack", "MQTT connack", "MqttConnack", connack_fields, at2,
          two_zeros, 2)
  .ws_fields = connack_ws, .var = from2,
};
BODYPROTO(puback, "MQTTPuback", "MQTT puback", "MqttPuback", ack_fields, at4, two_zeros, 2)
  .ws_fields = puback_ws, .present = ack_present, .var = ack_var,
};
BODYPROTO(pubrec, "MQTTPubrec", "MQTT pubrec", "MqttPubrec", ack_fields, at5, two_zeros, 2)
  .ws_fields = pubrec_ws, .present = ack_present, .var = ack_var,
};
BODYPROTO(pubrel, "MQTTPubrel", "MQTT pubrel", "MqttPubrel", ack_fields, at6, two_zeros, 2)
  .ws_fields = pubrel_ws, .present = ack_present, .var = ack_var,
};
BODYPROTO(pubcomp, "MQTTPubcomp", "MQTT pubcomp", "MqttPubcomp", ack_fields, at7,
          two_zeros, 2)
  .ws_fields = pubcomp_ws, .present = ack_present, .var = ack_var,
};
BODYPROTO(unsuback, "MQTTUnsuback", "MQTT unsuback", "MqttUnsuback", unsuback_fields,
          at11, two_zeros, 2)
  .ws_fields = msgid_ws, .var = unsuback_var,
};
BODYPROTO(disconnect, "MQTTDisconnect", "MQTT disconnect", "MqttDisconnect",
          reason_fields, at14, NULL, 0)
  .ws_fields = disconnect_ws, .present = reason_present, .var = reason_var,
};
BODYPROTO(auth, "MQTTAuth", "MQTT auth", "MqttAuth", reason_fields, at15, NULL, 0)
  .ws_fields = auth_ws, .present = reason_present, .var = reason_var,
};

static int define_connect(void) {
  sf_cdef d;
  sf_proto like;
  sf_custom *c;
  char err[160];
  int id;
  memset(&d, 0, sizeof d);
  d.name = "MQTTConnect";
  d.display = "MQTT connect";
  d.nfields = CN_N;
  d.fields = connect_fields;
  d.cf = connect_cf;
  d.ops = &connect_ops;
  if (!(c = sf_custom_new(&d, err, sizeof err))) return -1;
  memset(&like, 0, sizeof like);
  like.kind = "MqttConnect";
  like.places = at1;
  like.aliases = connect_aliases;
  like.ws = "mqtt";
  like.ws_fields = connect_ws;
  like.next = body_next;
  sf_custom_describe(c, &like);
  if ((id = sf_custom_register(c)) < 0) sf_custom_free(c);
  return id;
}

SF_PROTO_FILE(mqtt) {
  static sf_proto *const classes[] = {
    &connack, &publish, &puback, &pubrec, &pubrel, &pubcomp, &subscribe, &suback,
    &unsubscribe, &unsuback, &disconnect, &auth,
  };
  size_t i;
  mqtt_id = sf_register(&mqtt);
  connect_id = define_connect();
  for (i = 0; i < sizeof classes / sizeof classes[0]; i++) sf_register(classes[i]);
}
