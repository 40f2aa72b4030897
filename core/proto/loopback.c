/*
 * loopback.c -- the BSD loopback / null link layers: a 4-byte address
 * family before the packet.  Link type 0 (DLT_NULL) stores it in the
 * capturing host's byte order, little-endian nearly always (Scapy's
 * Loopback); link type 108 (DLT_LOOP) in network order (LoopbackBE).
 * Either way the next layer is found from the family in whichever byte
 * order gives a small number, as Wireshark does.  IPv6's family differs
 * between the BSDs: 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS).
 */
#include "common.h"

/* families of protocols sflua does not dissect; the "null.type" table
   names the others */
static const sf_enum families[] = {
  {7, "OSI"}, {16, "Appletalk"}, {23, "Netware IPX/SPX"}, {0, NULL}
};

static const sf_field lo_fields[] = {
  UINTT("type", 0, 32, 2, SF_FF_LE, families, "null.type"),
};

static const sf_field lobe_fields[] = {
  UINTF("type", 0, 32, 2, 0, families, 0),
};

static size_t lo_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 4 ? 4 : 0;
}

static uint32_t family(const uint8_t *h) {
  uint32_t le = (uint32_t)h[3] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[1] << 8 | h[0];
  uint32_t be = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
  return le <= 0xffff ? le : be;
}

static sf_proto lo, lobe;

static int lo_next(const sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  int next = sf_table_lookup(lo.table, family(p->data + l->off), p, li,
                             p->data + l->off + l->hlen, l->end - l->off - l->hlen);
  return next >= 0 ? next : -2;
}

/* The little-endian type is filled here: the generic fill writes
   big-endian. */
static void lo_fixup(sf_pkt *p, int li) {
  uint8_t *h = (uint8_t *)p->data + p->layers[li].off;
  uint64_t v;
  if (sf_isset(p, li, 0) || li + 1 >= p->nlayers || p->layers[li].hlen < 4) return;
  if (!sf_table_value(lo.table, p->layers[li + 1].proto, &v)) return;
  h[0] = (uint8_t)v;
  h[1] = (uint8_t)(v >> 8);
  h[2] = (uint8_t)(v >> 16);
  h[3] = (uint8_t)(v >> 24);
}

/* Wireshark's family is the 32-bit value in the capture's byte order */
static const sf_wsfield lo_ws[] = {WS("null.family", "type"), WSEND};

static const sf_place lo_places[] = {{"linktype", 0, 0, NULL}, {NULL, 0, 0, NULL}};
static const sf_place lobe_places[] = {{"linktype", 108, 0, NULL}, {NULL, 0, 0, NULL}};

/* The address families are the "null.type" table, as Wireshark's. */
static sf_proto lo = {
  .name = "Loopback", .display = "Loopback", .kind = "Loopback",
  .fields = lo_fields, .nfields = NFIELDS(lo_fields), .minlen = 4,
  .next_table = "null.type", .places = lo_places,
  .ws = "null", .ws_fields = lo_ws,
  .hdr_len = lo_len, .next = lo_next, .fixup = lo_fixup,
};

static sf_proto lobe = {
  .name = "LoopbackBE", .display = "Loopback", .kind = "LoopbackBE",
  .fields = lobe_fields, .nfields = NFIELDS(lobe_fields), .minlen = 4,
  .next_table = "null.type", .next_keys = {"type"}, .places = lobe_places,
  .ws = "null", .ws_fields = lo_ws,
  .hdr_len = lo_len, .next = lo_next,
};

SF_PROTO_FILE(loopback) {
  sf_register(&lo);
  sf_register(&lobe);
}
