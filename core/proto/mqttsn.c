/*
 * mqttsn.c -- MQTT-SN 1.2 (MQTT For Sensor Networks) over UDP 1883, with
 * scapy.contrib.mqttsn's class and field names.
 *
 * A message is the MQTTSN header -- its length in one byte, or in three
 * (0x01 then 16 bits) from 256 bytes on -- and its type, then the
 * message's class (MQTTSNPublish, ...), whose last field is the rest of
 * the message.  The length is the message's extent: bytes past it are
 * Padding.  An encapsulated message (type 0xFE, forwarded by a gateway)
 * counts only its own header in its length: the message it carries
 * follows it as another MQTTSN.
 */
#include "common.h"

#define ENCAPS 0xfe

static int mqttsn_id = -1, encaps_id = -1;

static const sf_enum types[] = {
  {0x00, "ADVERTISE"}, {0x01, "SEARCHGW"}, {0x02, "GWINFO"}, {0x04, "CONNECT"},
  {0x05, "CONNACK"}, {0x06, "WILLTOPICREQ"}, {0x07, "WILLTOPIC"}, {0x08, "WILLMSGREQ"},
  {0x09, "WILLMSG"}, {0x0a, "REGISTER"}, {0x0b, "REGACK"}, {0x0c, "PUBLISH"},
  {0x0d, "PUBACK"}, {0x0e, "PUBCOMP"}, {0x0f, "PUBREC"}, {0x10, "PUBREL"},
  {0x12, "SUBSCRIBE"}, {0x13, "SUBACK"}, {0x14, "UNSUBSCRIBE"}, {0x15, "UNSUBACK"},
  {0x16, "PINGREQ"}, {0x17, "PINGRESP"}, {0x18, "DISCONNECT"}, {0x1a, "WILLTOPICUPD"},
  {0x1b, "WILLTOPICRESP"}, {0x1c, "WILLMSGUPD"}, {0x1d, "WILLMSGRESP"},
  {ENCAPS, "Encapsulated message"}, {0, NULL}
};

/* ---- the header ------------------------------------------------------------------- */

enum { C_SHORT = 1, C_LONG };
enum { F_LEN1, F_LEN3, F_TYPE };

static const sf_field mqttsn_fields[] = {
  UINTF("len", 0, 8, 0, SF_FF_AUTO, NULL, C_SHORT),
  UINTF("len", 8, 16, 0, SF_FF_AUTO, NULL, C_LONG),
  {"type", SF_T_UINT, SF_FF_AT | SF_FF_HEX, 0, 0, 0, 8, 0, NULL, types, NULL, NULL},
};
static const uint8_t mqttsn_tmpl[] = {0x02, 0x00};

static int long_form(const uint8_t *h) { return h[0] == 0x01; }

static size_t mqttsn_hdr_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  if (n < 2) return 0;
  if (!long_form(h)) return h[0] >= 2 ? 2 : 0;
  return n >= 4 && rd16(h + 1) >= 4 ? 4 : 0;
}

static int mqttsn_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  (void)p;
  (void)hlen;
  return cond == C_LONG ? long_form(h) : !long_form(h);
}

static void mqttsn_var(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)fi;
  (void)hlen;
  *off = long_form(h) ? 3 : 1;
  *len = 1;
}

static unsigned msg_len(const uint8_t *h) { return long_form(h) ? rd16(h + 1) : h[0]; }
static unsigned msg_type(const uint8_t *h, size_t hlen) {
  return hlen >= 4 && long_form(h) ? h[3] : h[1];
}

/* The message's bytes, unless it carries another (which is not counted). */
static size_t mqttsn_extent(const uint8_t *h, size_t hlen, size_t n) {
  (void)n;
  if (msg_type(h, hlen) == ENCAPS) return SIZE_MAX;
  return msg_len(h);
}

/* The length of what the header heads: the layers up to the message's
   end, or for an encapsulation its own part alone.  The short form while
   it fits a byte (Scapy's 0x02..0xff), else 0x01 and 16 bits. */
static void mqttsn_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  size_t body = l->end - l->off - l->hlen;
  uint8_t *h;
  if (msg_type(p->data + l->off, l->hlen) == ENCAPS)
    body = li + 1 < p->nlayers && p->layers[li + 1].proto == encaps_id ? p->layers[li + 1].hlen : 0;
  if (sf_isset(p, li, F_LEN1) || sf_isset(p, li, F_LEN3)) return;
  if (body + 2 <= 0xff && l->hlen == 4)
    sf_pkt_splice(p, li, l->off + 1, 2, NULL, 0);
  else if (body + 2 > 0xff && l->hlen == 2)
    sf_pkt_splice(p, li, l->off + 1, 0, NULL, 2);
  l = &p->layers[li];
  h = (uint8_t *)p->data + l->off;
  if (l->hlen == 4) {
    h[0] = 0x01;
    h[1] = (uint8_t)((body + 4) >> 8);
    h[2] = (uint8_t)(body + 4);
  } else {
    h[0] = (uint8_t)(body + 2);
  }
}

static const sf_place mqttsn_places[] = {{"udp.port", 1883, 0, NULL}, {NULL, 0, 0, NULL}};
static const sf_alias mqttsn_aliases[] = {{"msg_type", "type"}, {"length", "len"}, {NULL, NULL}};
static const sf_wsfield mqttsn_ws[] = {
  WS("mqttsn.msg.len", "len"), WSX("mqttsn.msg.type", "type", 2),
  WSEND
};

static sf_proto mqttsn = {
  .name = "MQTTSN", .display = "MQTT-SN", .kind = "MqttSn",
  .fields = mqttsn_fields, .nfields = NFIELDS(mqttsn_fields), .minlen = 2,
  .next_table = "mqttsn.type", .next_keys = {"type"}, .places = mqttsn_places,
  .aliases = mqttsn_aliases, .ws = "mqttsn", .ws_fields = mqttsn_ws,
  .hdr_len = mqttsn_hdr_len, .extent = mqttsn_extent, .fixup = mqttsn_fixup,
  .present = mqttsn_present, .var = mqttsn_var, .deftmpl = mqttsn_tmpl,
};

/* ---- the messages' classes ------------------------------------------------------------ */

static const sf_enum qos_levels[] = {
  {0, "Fire and Forget"}, {1, "Acknowledged deliver"}, {2, "Assured Delivery"},
  {3, "No Connection required"}, {0, NULL}
};
static const sf_enum tid_types[] = {
  {0, "Normal ID"}, {1, "Pre-defined ID"}, {2, "Short Topic Name"}, {3, "Reserved"},
  {0, NULL}
};
static const sf_enum return_codes[] = {
  {0, "Accepted"}, {1, "Rejected: congestion"}, {2, "Rejected: invalid topic ID"},
  {3, "Rejected: not supported"}, {0, NULL}
};

/* Scapy's FLAG_FIELDS, in the message's first byte */
#define FLAGS                                                   \
  UINTF("dup", 0, 1, 0, 0, NULL, 0), UINTF("qos", 1, 2, 0, 0, qos_levels, 0), \
  UINTF("retain", 3, 1, 0, 0, NULL, 0), UINTF("will", 4, 1, 0, 0, NULL, 0),   \
  UINTF("cleansess", 5, 1, 0, 0, NULL, 0)
#define TID_TYPE(fl) UINTF("tid_type", 6, 2, 0, (fl), tid_types, 0)
#define U8(n, off, en) UINTF(n, off, 8, 0, 0, en, 0)
#define U16(n, off, d) UINTF(n, off, 16, d, 0, NULL, 0)
#define REST(n, off) BYTESF(n, (off) * 8, 0, NULL, NULL, 0)

/* A class of fixed fields: their bytes (anything after them is Raw). */
#define FIXED(fn, k)                                                  \
  static size_t fn(const sf_pkt *p, const uint8_t *h, size_t n) {     \
    (void)p;                                                          \
    (void)h;                                                          \
    return n >= (k) ? (k) : 0;                                        \
  }
FIXED(fixed1, 1)
FIXED(fixed2, 2)
FIXED(fixed3, 3)
FIXED(fixed5, 5)
FIXED(fixed6, 6)

/* One ending in a string: the message's rest. */
static size_t rest_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n;
}

/* a string from byte at to the end */
#define FROM(fn, at)                                                                 \
  static void fn(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) { \
    (void)h;                                                                         \
    (void)fi;                                                                        \
    *off = (at);                                                                     \
    *len = hlen > (at) ? hlen - (at) : 0;                                            \
  }
FROM(from0, 0)
FROM(from1, 1)
FROM(from4, 4)
FROM(from5, 5)

static const sf_field advertise_fields[] = {U8("gw_id", 0, NULL), U16("duration", 8, 0)};
static const sf_field searchgw_fields[] = {U8("radius", 0, NULL)};
static const sf_field gwinfo_fields[] = {U8("gw_id", 0, NULL), REST("gw_addr", 1)};
static const sf_field connect_fields[] = {
  FLAGS, TID_TYPE(0), UINTF("prot_id", 8, 8, 1, 0, NULL, 0), U16("duration", 16, 0),
  REST("client_id", 4),
};
static const sf_field return_fields[] = {U8("return_code", 0, return_codes)};
static const sf_field willtopic_fields[] = {FLAGS, TID_TYPE(0), REST("will_topic", 1)};
static const sf_field willmsg_fields[] = {REST("will_msg", 0)};
static const sf_field register_fields[] = {U16("tid", 0, 0), U16("mid", 16, 0), REST("topic_name", 4)};
static const sf_field regack_fields[] = {U16("tid", 0, 0), U16("mid", 16, 0), U8("return_code", 32, return_codes)};
static const sf_field publish_fields[] = {
  FLAGS, TID_TYPE(0), U16("tid", 8, 0), U16("mid", 24, 0), REST("data", 5),
};
static const sf_field mid_fields[] = {U16("mid", 0, 0)};
static const sf_field suback_fields[] = {
  FLAGS, TID_TYPE(0), U16("tid", 8, 0), U16("mid", 24, 0), U8("return_code", 40, return_codes),
};
static const sf_field pingreq_fields[] = {REST("client_id", 0)};
static const sf_field encaps_fields[] = {
  UINTF("resvd", 0, 6, 0, 0, NULL, 0), UINTF("radius", 6, 2, 0, 0, NULL, 0),
  REST("w_node_id", 1),
};

/* SUBSCRIBE and UNSUBSCRIBE: the topic as the topic id type says -- a
   predefined id, a two-byte short name, or a name. */
enum { C_TID = 1, C_SHORT_TOPIC, C_NAME };
enum { F_SHORT_TOPIC = 8 };  /* its index in subscribe_fields */
static const sf_field subscribe_fields[] = {
  FLAGS, TID_TYPE(SF_FF_SHAPE), U16("mid", 8, 0),
  UINTF("tid", 24, 16, 0, 0, NULL, C_TID),
  {"short_topic", SF_T_BYTES, 0, C_SHORT_TOPIC, 0, 24, 16, 0, NULL, NULL, NULL, NULL},
  BYTESF("topic_name", 24, 0, NULL, NULL, C_NAME),
};

static int subscribe_present(const sf_pkt *p, const uint8_t *h, size_t hlen, int cond) {
  unsigned t = h[0] & 3;
  (void)p;
  (void)hlen;
  switch (cond) {
    case C_TID: return t == 1;
    case C_SHORT_TOPIC: return t == 2;
    case C_NAME: return t != 1 && t != 2;
    default: return 1;
  }
}

static size_t subscribe_shape(const uint8_t *h, size_t hlen) {
  unsigned t = h[0] & 3;
  return t == 1 || t == 2 ? 5 : hlen > 3 ? hlen : 3;
}

static void subscribe_var(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)h;
  *off = 3;
  *len = fi == F_SHORT_TOPIC ? 2 : hlen > 3 ? hlen - 3 : 0;
}

static size_t subscribe_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  if (n < 3) return 0;
  return subscribe_shape(h, n) <= n ? subscribe_shape(h, n) : 0;
}

/* DISCONNECT: a sleep duration, in a sleeping client's. */
static const sf_field disconnect_fields[] = {
  {"duration", SF_T_UINT, SF_FF_AT, 0, 0, 0, 16, 0, NULL, NULL, NULL, NULL},
};

/* An encapsulation's own part: what its header's length counts. */
static size_t encaps_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  int b = p ? sf_layer_before(p, h) : -1;
  size_t own;
  if (b < 0 || p->layers[b].proto != mqttsn_id) return n >= 1 ? n : 0;
  own = msg_len(p->data + p->layers[b].off);
  own = own > p->layers[b].hlen ? own - p->layers[b].hlen : 0;
  return own >= 1 && own <= n ? own : 0;
}

static int encaps_next(const sf_pkt *p, int li) {
  (void)p;
  (void)li;
  return mqttsn_id;
}

#define PLACE(v, t) static const sf_place v[] = {{"mqttsn.type", (t), 0, NULL}, {NULL, 0, 0, NULL}}
PLACE(t00, 0x00); PLACE(t01, 0x01); PLACE(t02, 0x02); PLACE(t04, 0x04); PLACE(t05, 0x05);
PLACE(t06, 0x06); PLACE(t07, 0x07); PLACE(t08, 0x08); PLACE(t09, 0x09); PLACE(t0a, 0x0a);
PLACE(t0b, 0x0b); PLACE(t0c, 0x0c); PLACE(t0d, 0x0d); PLACE(t0e, 0x0e); PLACE(t0f, 0x0f);
PLACE(t10, 0x10); PLACE(t12, 0x12); PLACE(t13, 0x13); PLACE(t14, 0x14); PLACE(t15, 0x15);
PLACE(t16, 0x16); PLACE(t17, 0x17); PLACE(t18, 0x18); PLACE(t1a, 0x1a); PLACE(t1b, 0x1b);
PLACE(t1c, 0x1c); PLACE(t1d, 0x1d); PLACE(tfe, ENCAPS);

#define WS_FLAGS WS("mqttsn.dup", "dup"), WSX("mqttsn.qos", "qos", 2), WS("mqttsn.retain", "retain"), \
  WS("mqttsn.will", "will"), WS("mqttsn.clean.session", "cleansess"), \
  WSX("mqttsn.topic.id.type", "tid_type", 2)
static const sf_wsfield ws_advertise[] = {WS("mqttsn.gw.id", "gw_id"), WS("mqttsn.adv.interv", "duration"), WSEND};
static const sf_wsfield ws_searchgw[] = {WS("mqttsn.radius", "radius"), WSEND};
static const sf_wsfield ws_gwinfo[] = {WS("mqttsn.gw.id", "gw_id"), WS("mqttsn.gw.addr", "gw_addr"), WSEND};
static const sf_wsfield ws_connect[] = {
  WS_FLAGS, WS("mqttsn.protocol.id", "prot_id"), WS("mqttsn.keep.alive", "duration"),
  WS("mqttsn.client.id", "client_id"), WSEND
};
static const sf_wsfield ws_return[] = {WSX("mqttsn.return.code", "return_code", 2), WSEND};
static const sf_wsfield ws_willtopic[] = {WS_FLAGS, WS("mqttsn.will.topic", "will_topic"), WSEND};
static const sf_wsfield ws_willmsg[] = {WS("mqttsn.will.msg", "will_msg"), WSEND};
static const sf_wsfield ws_register[] = {
  WS("mqttsn.topic.id", "tid"), WS("mqttsn.msg.id", "mid"), WS("mqttsn.topic", "topic_name"), WSEND
};
static const sf_wsfield ws_regack[] = {
  WS("mqttsn.topic.id", "tid"), WS("mqttsn.msg.id", "mid"), WSX("mqttsn.return.code", "return_code", 2), WSEND
};
static const sf_wsfield ws_publish[] = {
  WS_FLAGS, WS("mqttsn.topic.id", "tid"), WS("mqttsn.msg.id", "mid"), WS("mqttsn.pub.msg", "data"), WSEND
};
static const sf_wsfield ws_mid[] = {WS("mqttsn.msg.id", "mid"), WSEND};
static const sf_wsfield ws_suback[] = {
  WS_FLAGS, WS("mqttsn.topic.id", "tid"), WS("mqttsn.msg.id", "mid"),
  WSX("mqttsn.return.code", "return_code", 2), WSEND
};
static const sf_wsfield ws_subscribe[] = {
  WS_FLAGS, WS("mqttsn.msg.id", "mid"), WS("mqttsn.topic.id", "tid"),
  WS("mqttsn.topic", "topic_name"), WS("mqttsn.topic", "short_topic"), WSEND
};
static const sf_wsfield ws_pingreq[] = {WS("mqttsn.client.id", "client_id"), WSEND};
static const sf_wsfield ws_disconnect[] = {WS("mqttsn.sleep.timer", "duration"), WSEND};
static const sf_wsfield ws_encaps[] = {
  WS("mqttsn.radius", "radius"), WS("mqttsn.wireless.node.id", "w_node_id"), WSEND
};

#define CLASS(v, nm, disp, kd, fl, pl, ws_, ml, hl, ...)                               \
  static sf_proto v = {                                                               \
    .name = nm, .display = disp, .kind = kd, .fields = fl, .nfields = NFIELDS(fl),    \
    .minlen = ml, .places = pl, .ws = "mqttsn", .ws_fields = ws_, .hdr_len = hl,      \
    __VA_ARGS__                                                                       \
  }
#define EMPTY(v, nm, disp, kd, pl)                                                     \
  static sf_proto v = {.name = nm, .display = disp, .kind = kd, .places = pl,          \
                       .ws = "mqttsn", .hdr_len = rest_len}

CLASS(advertise, "MQTTSNAdvertise", "MQTT-SN advertise gateway", "MqttSnAdvertise",
      advertise_fields, t00, ws_advertise, 3, fixed3);
CLASS(searchgw, "MQTTSNSearchGW", "MQTT-SN search gateway", "MqttSnSearchGw",
      searchgw_fields, t01, ws_searchgw, 1, fixed1);
CLASS(gwinfo, "MQTTSNGwInfo", "MQTT-SN gateway info", "MqttSnGwInfo", gwinfo_fields, t02,
      ws_gwinfo, 1, rest_len, .var = from1);
CLASS(connect, "MQTTSNConnect", "MQTT-SN connect command", "MqttSnConnect", connect_fields,
      t04, ws_connect, 4, rest_len, .var = from4);
CLASS(connack, "MQTTSNConnack", "MQTT-SN connect ACK", "MqttSnConnack", return_fields, t05,
      ws_return, 1, fixed1);
EMPTY(willtopicreq, "MQTTSNWillTopicReq", "MQTT-SN will topic request", "MqttSnWillTopicReq", t06);
CLASS(willtopic, "MQTTSNWillTopic", "MQTT-SN will topic", "MqttSnWillTopic", willtopic_fields,
      t07, ws_willtopic, 1, rest_len, .var = from1);
EMPTY(willmsgreq, "MQTTSNWillMsgReq", "MQTT-SN will message request", "MqttSnWillMsgReq", t08);
CLASS(willmsg, "MQTTSNWillMsg", "MQTT-SN will message", "MqttSnWillMsg", willmsg_fields, t09,
      ws_willmsg, 0, rest_len, .var = from0);
CLASS(register_, "MQTTSNRegister", "MQTT-SN register", "MqttSnRegister", register_fields, t0a,
      ws_register, 4, rest_len, .var = from4);
CLASS(regack, "MQTTSNRegack", "MQTT-SN register ACK", "MqttSnRegack", regack_fields, t0b,
      ws_regack, 5, fixed5);
CLASS(publish, "MQTTSNPublish", "MQTT-SN publish message", "MqttSnPublish", publish_fields,
      t0c, ws_publish, 5, rest_len, .var = from5);
CLASS(puback, "MQTTSNPuback", "MQTT-SN publish ACK", "MqttSnPuback", regack_fields, t0d,
      ws_regack, 5, fixed5);
CLASS(pubcomp, "MQTTSNPubcomp", "MQTT-SN publish complete", "MqttSnPubcomp", mid_fields, t0e,
      ws_mid, 2, fixed2);
CLASS(pubrec, "MQTTSNPubrec", "MQTT-SN publish received", "MqttSnPubrec", mid_fields, t0f,
      ws_mid, 2, fixed2);
CLASS(pubrel, "MQTTSNPubrel", "MQTT-SN publish release", "MqttSnPubrel", mid_fields, t10,
      ws_mid, 2, fixed2);
CLASS(subscribe, "MQTTSNSubscribe", "MQTT-SN subscribe request", "MqttSnSubscribe",
      subscribe_fields, t12, ws_subscribe, 3, subscribe_len, .present = subscribe_present,
      .shape_len = subscribe_shape, .var = subscribe_var);
CLASS(suback, "MQTTSNSuback", "MQTT-SN subscribe ACK", "MqttSnSuback", suback_fields, t13,
      ws_suback, 6, fixed6);
CLASS(unsubscribe, "MQTTSNUnsubscribe", "MQTT-SN unsubscribe request", "MqttSnUnsubscribe",
      subscribe_fields, t14, ws_subscribe, 3, subscribe_len, .present = subscribe_present,
      .shape_len = subscribe_shape, .var = subscribe_var);
CLASS(unsuback, "MQTTSNUnsuback", "MQTT-SN unsubscribe ACK", "MqttSnUnsuback", mid_fields,
      t15, ws_mid, 2, fixed2);
CLASS(pingreq, "MQTTSNPingReq", "MQTT-SN ping request", "MqttSnPingReq", pingreq_fields, t16,
      ws_pingreq, 0, rest_len, .var = from0);
EMPTY(pingresp, "MQTTSNPingResp", "MQTT-SN ping response", "MqttSnPingResp", t17);
CLASS(disconnect, "MQTTSNDisconnect", "MQTT-SN disconnect request", "MqttSnDisconnect",
      disconnect_fields, t18, ws_disconnect, 0, rest_len, .var = from0);
CLASS(willtopicupd, "MQTTSNWillTopicUpd", "MQTT-SN will topic update", "MqttSnWillTopicUpd",
      willtopic_fields, t1a, ws_willtopic, 1, rest_len, .var = from1);
CLASS(willtopicresp, "MQTTSNWillTopicResp", "MQTT-SN will topic response",
      "MqttSnWillTopicResp", return_fields, t1b, ws_return, 1, fixed1);
CLASS(willmsgupd, "MQTTSNWillMsgUpd", "MQTT-SN will message update", "MqttSnWillMsgUpd",
      willmsg_fields, t1c, ws_willmsg, 0, rest_len, .var = from0);
CLASS(willmsgresp, "MQTTSNWillMsgResp", "MQTT-SN will message response",
      "MqttSnWillMsgResp", return_fields, t1d, ws_return, 1, fixed1);
CLASS(encaps, "MQTTSNEncaps", "MQTT-SN encapsulated message", "MqttSnEncaps", encaps_fields,
      tfe, ws_encaps, 1, encaps_len, .var = from1, .next = encaps_next);

SF_PROTO_FILE(mqttsn) {
  static sf_proto *const classes[] = {
    &advertise, &searchgw, &gwinfo, &connect, &connack, &willtopicreq, &willtopic,
    &willmsgreq, &willmsg, &register_, &regack, &publish, &puback, &pubcomp, &pubrec,
    &pubrel, &subscribe, &suback, &unsubscribe, &unsuback, &pingreq, &pingresp,
    &disconnect, &willtopicupd, &willtopicresp, &willmsgupd, &willmsgresp, &encaps,
  };
  size_t i;
  mqttsn_id = sf_register(&mqttsn);
  for (i = 0; i < sizeof classes / sizeof classes[0]; i++) sf_register(classes[i]);
  encaps_id = encaps.id;
}
