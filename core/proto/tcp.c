/*
 * tcp.c -- TCP (RFC 9293) with options.
 */
#include "common.h"

static const sf_enum tcp_flags[] = {
  {0, "F"}, {1, "S"}, {2, "R"}, {3, "P"}, {4, "A"}, {5, "U"}, {6, "E"},
  {7, "C"}, {8, "N"}, {0, NULL}
};

enum { F_SPORT, F_DPORT, F_SEQ, F_ACK, F_DATAOFS, F_RESERVED, F_FLAGS,
       F_WINDOW, F_CHKSUM, F_URGPTR, F_OPTIONS };

static const sf_field tcp_fields[] = {
  UINTF("sport", 0, 16, 20, 0, NULL, 0),
  UINTF("dport", 16, 16, 80, 0, NULL, 0),
  UINTF("seq", 32, 32, 0, 0, NULL, 0),
  UINTF("ack", 64, 32, 0, 0, NULL, 0),
  UINTF("dataofs", 96, 4, 5, SF_FF_AUTO, NULL, 0),
  UINTF("reserved", 100, 3, 0, 0, NULL, 0),
  FLAGF("flags", 103, 9, 2, tcp_flags, 0),
  UINTF("window", 112, 16, 8192, 0, NULL, 0),
  UINTF("chksum", 128, 16, 0, SF_FF_AUTO | SF_FF_HEX, NULL, 0),
  UINTF("urgptr", 144, 16, 0, 0, NULL, 0),
  BYTESF("options", 160, 4, "tcp_options", NULL, 0),
};

static size_t tcp_hdr_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  size_t hl;
  if (n < 20) return 0;
  hl = (size_t)(h[12] >> 4) * 4;
  return (hl >= 20 && hl <= n) ? hl : 0;
}

static void tcp_fixup(sf_pkt *p, int li) {
  sf_lput(p, li, F_DATAOFS, p->layers[li].hlen / 4);
}

static void tcp_options(const uint8_t *h, size_t hlen, int fi, size_t *off,
                        size_t *len) {
  (void)h;
  (void)fi;
  *off = 20;
  *len = hlen - 20;
}

static const sf_place tcp_places[] = {{"ip.proto", 6, 0, NULL}, {NULL, 0, 0, NULL}};

static const sf_alias tcp_aliases[] = {{"checksum", "chksum"}, {NULL, NULL}};

static const sf_facts tcp_facts = {
  .role = SF_ROLE_STREAM, .src = "sport", .dst = "dport", .seq = "seq",
  .ack = "ack", .flags = "flags", .ack_flag = 0x10, .syn_flag = 0x02, .rst_flag = 0x04, .options = "options",
  .cksum = "chksum", .cksum_cover = SF_CK_PSEUDO, .cksum_proto = 6,
};

static const sf_wsfield tcp_ws[] = {
  WS("tcp.srcport", "sport"), WS("tcp.dstport", "dport"),
  WS2("tcp.port", "sport", "dport"), WS("tcp.seq_raw", "seq"),
  WS("tcp.ack_raw", "ack"), WSMUL("tcp.hdr_len", "dataofs", 4),
  WSX("tcp.flags", "flags", 4), WSBIT("tcp.flags.fin", "flags", 0x01),
  WSBIT("tcp.flags.syn", "flags", 0x02), WSBIT("tcp.flags.reset", "flags", 0x04),
  WSBIT("tcp.flags.push", "flags", 0x08), WSBIT("tcp.flags.ack", "flags", 0x10),
  WSBIT("tcp.flags.urg", "flags", 0x20), WSBIT("tcp.flags.ece", "flags", 0x40),
  WSBIT("tcp.flags.cwr", "flags", 0x80), WSBIT("tcp.flags.ae", "flags", 0x100),
  WS("tcp.window_size_value", "window"), WSX("tcp.checksum", "chksum", 4),
  WS("tcp.urgent_pointer", "urgptr"), WSEND
};

/* What follows is found by the destination port, then the source port. */
/* TCP.mysummary: the addresses of the IP or IPv6 layer right below */
static const char *const tcp_names[] = {"sport", "services/tcp", "dport", "services/tcp", NULL};
/* What Scapy, its TLS and HTTP layers loaded, makes of a payload sflua
   leaves Raw: on port 443 the middle of a record (TLS's dispatch hook:
   _TLSEncryptedContent), on ports 80 and 8080 HTTP's layer around it. */
static const char *tcp_raw_cls(const sf_pkt *p, int li) {
  if (p->layers[li].flags & SF_L_QUOTED) return NULL;
  if (on_port(p, li, 443)) return "_TLSEncryptedContent";
  if (on_port(p, li, 80) || on_port(p, li, 8080)) return "HTTP / Raw";
  return NULL;
}

static const sf_scapy tcp_scapy = {
  .fmt = "{^@net:TCP %^src%:%sport% > %^dst%:%dport% %flags%}"
         "{!^@net:TCP %sport% > %dport% %flags%}",
  .quoted = "TCPerror", .names = tcp_names, .raw_cls = tcp_raw_cls,
};

static sf_proto tcp = {
  .name = "TCP", .display = "TCP", .kind = "Tcp",
  .scapy = &tcp_scapy,
  .fields = tcp_fields, .nfields = NFIELDS(tcp_fields), .minlen = 20,
  .next_table = "tcp.port", .next_keys = {"dport", "sport"},
  .places = tcp_places, .aliases = tcp_aliases, .facts = &tcp_facts,
  .ws = "tcp", .ws_fields = tcp_ws,
  .hdr_len = tcp_hdr_len, .fixup = tcp_fixup, .var = tcp_options,
};

SF_PROTO_FILE(tcp) { sf_register(&tcp); }
