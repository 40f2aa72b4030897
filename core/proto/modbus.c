/*
 * modbus.c -- Modbus/TCP (Modbus Application Protocol v1.1b3 and the
 * Messaging on TCP/IP guide) over TCP 502, with scapy.contrib.modbus's
 * class and field names.
 *
 * The Modbus layer is the MBAP header and the function code (Scapy's
 * ModbusADURequest and ModbusADUResponse are its names too): the code
 * keys the "modbus.func" table, so the function's class follows it --
 * ModbusPDU03ReadHoldingRegistersRequest{startAddr=, quantity=} -- and a
 * class stacked on Modbus sets the code, as a TCP on IP sets IP's proto.
 * So the classes here have no funcCode field of their own; the bytes are
 * Scapy's.  The seed toolkit's one-layer form, Modbus{func_code=3,
 * data="..."}, puts the bytes after the code in the Modbus layer's own
 * `data` (empty when a class follows).
 *
 * A function code means a request or its response, which differ: the
 * direction says which -- to port 502 a request, from it a response --
 * and without ports (a capture on another port, bytes parsed alone) the
 * lengths do (a read request is 4 bytes, its response a byte count and
 * that many bytes).  Exception responses (code + 0x80) have their own
 * classes.  A segment may hold several ADUs: after one, the next.
 * Coil and register values are lists (u8_list, u16_list), as Scapy's
 * FieldListFields; byte counts and quantities follow them when built.
 */
#include "common.h"

#define PORT 502

static int modbus_id = -1, object_id = -1, devid_resp_id = -1;

/* ---- the ADU ---------------------------------------------------------------------- */

enum { A_TRANS, A_PROTO, A_LEN, A_UNIT, A_FUNC, A_DATA };

static const sf_enum func_codes[] = {
  {1, "Read Coils"}, {2, "Read Discrete Inputs"}, {3, "Read Holding Registers"},
  {4, "Read Input Registers"}, {5, "Write Single Coil"}, {6, "Write Single Register"},
  {7, "Read Exception Status"}, {8, "Diagnostics"}, {11, "Get Comm Event Counter"},
  {12, "Get Comm Event Log"}, {15, "Write Multiple Coils"},
  {16, "Write Multiple Registers"}, {17, "Report Slave ID"}, {20, "Read File Record"},
  {21, "Write File Record"}, {22, "Mask Write Register"},
  {23, "Read Write Multiple Registers"}, {24, "Read FIFO Queue"},
  {43, "Encapsulated Interface Transport"}, {0, NULL}
};

static const sf_field modbus_fields[] = {
  UINTF("transId", 0, 16, 0, SF_FF_HEX, NULL, 0),
  UINTF("protoId", 16, 16, 0, SF_FF_HEX, NULL, 0),
  UINTF("len", 32, 16, 0, SF_FF_AUTO, NULL, 0),
  UINTF("unitId", 48, 8, 0xff, SF_FF_HEX, NULL, 0),
  UINTF("funcCode", 56, 8, 0, SF_FF_HEX, func_codes, 0),
  BYTESF("data", 64, 0, NULL, NULL, 0),
};

static size_t modbus_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  return n >= 8 && rd16(h + 4) >= 2 ? 8 : 0;
}

static void modbus_var(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)h;
  (void)fi;
  *off = 8;
  *len = hlen > 8 ? hlen - 8 : 0;
}

/* The ADU that layer li belongs to (itself if a Modbus), or -1. */
static int adu_of(const sf_pkt *p, int li) {
  for (; li >= 0; li--)
    if (p->layers[li].proto == modbus_id) return li;
  return -1;
}

/* Where ADU a ends: its length counts from the unit id on. */
static size_t adu_end(const sf_pkt *p, int a) {
  return p->layers[a].off + 6 + rd16(p->data + p->layers[a].off + 4);
}

/* After layer li: the next ADU if bytes remain, else nothing. */
static int after(const sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  return l->off + l->hlen < l->end ? modbus_id : -2;
}

/* No function data: the next ADU; else the function's class. */
static int modbus_next(const sf_pkt *p, int li) {
  if (adu_end(p, li) <= p->layers[li].off + p->layers[li].hlen) return after(p, li);
  return -1;
}

/* len: the unit id, the code and everything to the next ADU (or the end). */
static void modbus_fixup(sf_pkt *p, int li) {
  sf_lput(p, li, A_LEN, message_end(p, li) - p->layers[li].off - 6);
}

static const sf_place modbus_places[] = {{"tcp.port", PORT, 0, NULL}, {NULL, 0, 0, NULL}};
static const sf_alias modbus_aliases[] = {
  {"trans_id", "transId"}, {"proto_id", "protoId"}, {"length", "len"},
  {"unit_id", "unitId"}, {"func_code", "funcCode"}, {NULL, NULL}
};
/* Scapy's two names for the header (protoId 0 is the default anyway) */
static const sf_variant modbus_variants[] = {
  {"request", "ModbusADURequest", "protoId", 0}, {"response", "ModbusADUResponse", "protoId", 0},
  {NULL, NULL, NULL, 0}
};
static const sf_wsfield modbus_ws[] = {
  WS("mbtcp.trans_id", "transId"), WS("mbtcp.prot_id", "protoId"),
  WS("mbtcp.len", "len"), WS("mbtcp.unit_id", "unitId"),
  WS("modbus.func_code", "funcCode"), WS("modbus.data", "data"),
  WSEND
};

static sf_proto modbus = {
  .name = "Modbus", .display = "Modbus/TCP", .kind = "Modbus",
  .fields = modbus_fields, .nfields = NFIELDS(modbus_fields), .minlen = 8,
  .next_table = "modbus.func", .next_keys = {"funcCode"}, .places = modbus_places,
  .aliases = modbus_aliases, .variants = modbus_variants, .ws = "mbtcp",
  .ws_fields = modbus_ws, .hdr_len = modbus_len, .next = modbus_next,
  .fixup = modbus_fixup, .var = modbus_var,
};

/* ---- request or response ---------------------------------------------------------------- */

enum { DIR_UNKNOWN, DIR_REQUEST, DIR_RESPONSE };

/* By the ports of the transport below layer li. */
static int direction_by_ports(const sf_pkt *p, int li) {
  for (; li >= 0; li--) {
    const sf_proto *pr = sf_proto_get(p->layers[li].proto);
    uint64_t sp, dp;
    if (!pr->facts || (pr->facts->role != SF_ROLE_STREAM &&
                       pr->facts->role != SF_ROLE_TRANSPORT) || pr->at.src < 0)
      continue;
    sp = sf_lget(p, li, pr->at.src);
    dp = sf_lget(p, li, pr->at.dst);
    if (dp == PORT && sp != PORT) return DIR_REQUEST;
    if (sp == PORT && dp != PORT) return DIR_RESPONSE;
    return DIR_UNKNOWN;
  }
  return DIR_UNKNOWN;
}

/* By the lengths: the function data h (n bytes) of code fc make a
   response and not a request. */
static int response_by_length(unsigned fc, const uint8_t *h, size_t n) {
  switch (fc) {
    case 1: case 2: case 3: case 4: return n != 4 && n >= 1 && n == 1u + h[0];
    case 15: case 16: return n == 4;
    case 23: return n >= 1 && n == 1u + h[0] && !(n >= 9 && n == 9u + h[8]);
    case 43: return n > 3;
    default: return 0;  /* 5, 6, 22: the same either way */
  }
}

/* Is the function data at h (n bytes) after ADU layer li a response? */
static int is_response(const sf_pkt *p, int li, const uint8_t *h, size_t n) {
  int a = p ? adu_of(p, li) : -1, dir;
  size_t len;
  if (a < 0) return 0;
  if ((dir = direction_by_ports(p, a - 1)) != DIR_UNKNOWN) return dir == DIR_RESPONSE;
  len = adu_end(p, a) - p->layers[a].off - 8;
  return response_by_length(p->data[p->layers[a].off + 7], h, len < n ? len : n);
}

static int accept_request(const sf_pkt *p, int li, const uint8_t *h, size_t n) {
  return !is_response(p, li, h, n);
}

static int accept_response(const sf_pkt *p, int li, const uint8_t *h, size_t n) {
  return is_response(p, li, h, n);
}

/* ---- the functions' classes ---------------------------------------------------------------- */

/* Function data: to the ADU's end (the bytes there, when cut short). */
static size_t pdu_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  int b = p ? sf_layer_before(p, h) : -1, a = b >= 0 ? adu_of(p, b) : -1;
  size_t end;
  if (a < 0) return n;
  end = adu_end(p, a);
  if (end > p->len || (size_t)(h - p->data) >= end) return 0;
  return end - (size_t)(h - p->data) <= n ? end - (size_t)(h - p->data) : 0;
}

/* A list after a fixed part of `at` bytes: the rest. */
#define VAR_AFTER(fn, at)                                                            \
  static void fn(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) { \
    (void)h;                                                                         \
    (void)fi;                                                                        \
    *off = (at);                                                                     \
    *len = hlen > (at) ? hlen - (at) : 0;                                            \
  }
VAR_AFTER(from1, 1)
VAR_AFTER(from5, 5)
VAR_AFTER(from9, 9)

static const sf_enum exceptions[] = {
  {1, "Illegal Function Code"}, {2, "Illegal Data Address"}, {3, "Illegal Data Value"},
  {4, "Server Device Failure"}, {5, "Acknowledge"}, {6, "Server Device Busy"},
  {8, "Memory Parity Error"}, {10, "Gateway Path Unavailable"},
  {11, "Gateway Target Device Failed to Respond"}, {0, NULL}
};

#define HEX16(n, off, d) UINTF(n, off, 16, d, SF_FF_HEX, NULL, 0)
/* a list at byte `at`, its default as hex */
#define LIST(n, at, codec, d) {(n), SF_T_BYTES, 0, 0, 0, (at) * 8, 0, 0, (d), NULL, (codec), NULL}
#define COUNT(n, off, bits) UINTF(n, off, bits, 0, SF_FF_AUTO, NULL, 0)

static const sf_field read_req_fields[] = {HEX16("startAddr", 0, 0), HEX16("quantity", 16, 1)};
static const sf_field bits_resp_fields_c[] = {COUNT("byteCount", 0, 8), LIST("coilStatus", 1, "u8_list", "00")};
static const sf_field bits_resp_fields_i[] = {COUNT("byteCount", 0, 8), LIST("inputStatus", 1, "u8_list", "00")};
static const sf_field regs_resp_fields[] = {COUNT("byteCount", 0, 8), LIST("registerVal", 1, "u16_list", "0000")};
static const sf_field error_fields[] = {UINTF("exceptCode", 0, 8, 1, 0, exceptions, 0)};
static const sf_field coil_fields[] = {HEX16("outputAddr", 0, 0), HEX16("outputValue", 16, 0)};
static const sf_field reg_fields[] = {HEX16("registerAddr", 0, 0), HEX16("registerValue", 16, 0)};
static const sf_field coils_req_fields[] = {
  HEX16("startAddr", 0, 0), HEX16("quantityOutput", 16, 1), COUNT("byteCount", 32, 8),
  LIST("outputsValue", 5, "u8_list", "00"),
};
static const sf_field coils_resp_fields[] = {HEX16("startAddr", 0, 0), HEX16("quantityOutput", 16, 1)};
static const sf_field regs_req_fields[] = {
  HEX16("startAddr", 0, 0), COUNT("quantityRegisters", 16, 16), COUNT("byteCount", 32, 8),
  LIST("outputsValue", 5, "u16_list", "0000"),
};
static const sf_field regs_wresp_fields[] = {HEX16("startAddr", 0, 0), HEX16("quantityRegisters", 16, 1)};
static const sf_field mask_fields[] = {
  HEX16("refAddr", 0, 0), HEX16("andMask", 16, 0xffff), HEX16("orMask", 32, 0),
};
static const sf_field rw_req_fields[] = {
  HEX16("readStartingAddr", 0, 0), HEX16("readQuantityRegisters", 16, 1),
  HEX16("writeStartingAddr", 32, 0), COUNT("writeQuantityRegisters", 48, 16),
  COUNT("byteCount", 64, 8), LIST("writeRegistersValue", 9, "u16_list", "0000"),
};

static const sf_enum read_codes[] = {
  {1, "Basic"}, {2, "Regular"}, {3, "Extended"}, {4, "Specific"}, {0, NULL}
};
static const sf_enum object_ids[] = {
  {0, "VendorName"}, {1, "ProductCode"}, {2, "MajorMinorRevision"}, {3, "VendorUrl"},
  {4, "ProductName"}, {5, "ModelName"}, {6, "UserApplicationName"}, {0, NULL}
};
static const sf_enum conformity[] = {
  {0x01, "Basic Identification (stream only)"},
  {0x02, "Regular Identification (stream only)"},
  {0x03, "Extended Identification (stream only)"},
  {0x81, "Basic Identification (stream and individual access)"},
  {0x82, "Regular Identification (stream and individual access)"},
  {0x83, "Extended Identification (stream and individual access)"}, {0, NULL}
};
static const sf_enum more_follows[] = {{0, "No"}, {1, "Yes"}, {0, NULL}};

static const sf_field devid_req_fields[] = {
  UINTF("MEIType", 0, 8, 0x0e, SF_FF_HEX, NULL, 0), UINTF("readCode", 8, 8, 1, 0, read_codes, 0),
  UINTF("objectId", 16, 8, 0, 0, object_ids, 0),
};
static const sf_field devid_resp_fields[] = {
  UINTF("MEIType", 0, 8, 0x0e, SF_FF_HEX, NULL, 0), UINTF("readCode", 8, 8, 4, 0, read_codes, 0),
  UINTF("conformityLevel", 16, 8, 1, 0, conformity, 0),
  UINTF("more", 24, 8, 0, 0, more_follows, 0), UINTF("nextObjId", 32, 8, 0, 0, object_ids, 0),
  COUNT("objCount", 40, 8),
};
static const sf_field object_fields[] = {
  UINTF("id", 0, 8, 0, 0, object_ids, 0), COUNT("length", 8, 8), LIST("value", 2, NULL, NULL),
};

/* A count that follows the list at list_off (the rest of the header),
   unless set: its bytes divided by div (2: registers). */
static void count_from(sf_pkt *p, int li, int fi, size_t list_off, unsigned div) {
  const sf_layer *l = &p->layers[li];
  size_t n = l->hlen > list_off ? l->hlen - list_off : 0;
  sf_lput(p, li, fi, n / div);
}

static void bits_resp_fixup(sf_pkt *p, int li) { count_from(p, li, 0, 1, 1); }
static void coils_req_fixup(sf_pkt *p, int li) { count_from(p, li, 2, 5, 1); }
static void regs_req_fixup(sf_pkt *p, int li) {
  count_from(p, li, 1, 5, 2);
  count_from(p, li, 2, 5, 1);
}
static void rw_req_fixup(sf_pkt *p, int li) {
  count_from(p, li, 3, 9, 2);
  count_from(p, li, 4, 9, 1);
}
static void object_fixup(sf_pkt *p, int li) { count_from(p, li, 1, 2, 1); }

/* objCount: the objects that follow */
static void devid_fixup(sf_pkt *p, int li) {
  int j = li + 1;
  while (j < p->nlayers && p->layers[j].proto == object_id) j++;
  sf_lput(p, li, 5, (uint64_t)(j - li - 1));
}

/* Read Device Identification: six bytes, then the objects, each a layer. */
static size_t devid_resp_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  size_t all = pdu_len(p, h, n);
  return all >= 6 ? 6 : 0;
}

static int objects_after(const sf_pkt *p, int li) {
  int j = li, k = 0;
  while (j >= 0 && p->layers[j].proto == object_id) {
    j--;
    k++;
  }
  if (j < 0 || p->layers[j].proto != devid_resp_id) return -1;
  return k < (int)sf_lget(p, j, 5) ? object_id : -1;
}

static int devid_next(const sf_pkt *p, int li) {
  int next = objects_after(p, li);
  return next >= 0 ? next : after(p, li);
}

static size_t object_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  return n >= 2 && 2u + h[1] <= n ? 2u + h[1] : 0;
}

static void object_var(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)fi;
  *off = 2;
  *len = hlen >= 2 && h[1] <= hlen - 2 ? h[1] : 0;
}

static int pdu_next(const sf_pkt *p, int li) { return after(p, li); }

/* Read Device Identification asks with MEI type 14 (0x2B/0x0E). */
static int devid_request(const sf_pkt *p, int li, const uint8_t *h, size_t n) {
  return n >= 1 && h[0] == 0x0e && !is_response(p, li, h, n);
}
static int devid_response(const sf_pkt *p, int li, const uint8_t *h, size_t n) {
  return n >= 1 && h[0] == 0x0e && is_response(p, li, h, n);
}

/* ---- the classes, as Scapy names them ---------------------------------------------------- */

#define PLACES(v, code, acc) \
  static const sf_place v[] = {{"modbus.func", (code), 0, (acc)}, {NULL, 0, 0, NULL}}
#define REQ(v, code) PLACES(v, code, accept_request)
#define RESP(v, code) PLACES(v, code, accept_response)
#define ERR(v, code) PLACES(v, code, NULL)

REQ(q01, 1); RESP(r01, 1); ERR(e01, 0x81);
REQ(q02, 2); RESP(r02, 2); ERR(e02, 0x82);
REQ(q03, 3); RESP(r03, 3); ERR(e03, 0x83);
REQ(q04, 4); RESP(r04, 4); ERR(e04, 0x84);
REQ(q05, 5); RESP(r05, 5); ERR(e05, 0x85);
REQ(q06, 6); RESP(r06, 6); ERR(e06, 0x86);
REQ(q0f, 15); RESP(r0f, 15); ERR(e0f, 0x8f);
REQ(q10, 16); RESP(r10, 16); ERR(e10, 0x90);
REQ(q16, 22); RESP(r16, 22); ERR(e16, 0x96);
REQ(q17, 23); RESP(r17, 23); ERR(e17, 0x97);
PLACES(q2b, 43, devid_request); PLACES(r2b, 43, devid_response); ERR(e2b, 0xab);

static const sf_wsfield ws_read_bits[] = {
  WS("modbus.reference_num", "startAddr"), WS("modbus.bit_cnt", "quantity"), WSEND
};
static const sf_wsfield ws_read_words[] = {
  WS("modbus.reference_num", "startAddr"), WS("modbus.word_cnt", "quantity"), WSEND
};
static const sf_wsfield ws_byte_cnt[] = {WS("modbus.byte_cnt", "byteCount"), WSEND};
static const sf_wsfield ws_error[] = {WS("modbus.exception_code", "exceptCode"), WSEND};
static const sf_wsfield ws_coil[] = {WS("modbus.reference_num", "outputAddr"), WSEND};
static const sf_wsfield ws_reg[] = {WS("modbus.reference_num", "registerAddr"), WSEND};
static const sf_wsfield ws_coils_req[] = {
  WS("modbus.reference_num", "startAddr"), WS("modbus.bit_cnt", "quantityOutput"),
  WS("modbus.byte_cnt", "byteCount"), WSEND
};
static const sf_wsfield ws_coils_resp[] = {
  WS("modbus.reference_num", "startAddr"), WS("modbus.bit_cnt", "quantityOutput"), WSEND
};
static const sf_wsfield ws_regs_req[] = {
  WS("modbus.reference_num", "startAddr"), WS("modbus.word_cnt", "quantityRegisters"),
  WS("modbus.byte_cnt", "byteCount"), WSEND
};
static const sf_wsfield ws_regs_resp[] = {
  WS("modbus.reference_num", "startAddr"), WS("modbus.word_cnt", "quantityRegisters"), WSEND
};
static const sf_wsfield ws_mask[] = {
  WS("modbus.reference_num", "refAddr"), WSX("modbus.and_mask", "andMask", 4),
  WSX("modbus.or_mask", "orMask", 4), WSEND
};
static const sf_wsfield ws_rw_req[] = {
  WS("modbus.read_reference_num", "readStartingAddr"),
  WS("modbus.read_word_cnt", "readQuantityRegisters"),
  WS("modbus.write_reference_num", "writeStartingAddr"),
  WS("modbus.write_word_cnt", "writeQuantityRegisters"), WS("modbus.byte_cnt", "byteCount"), WSEND
};
static const sf_wsfield ws_devid_req[] = {
  WS("modbus.mei", "MEIType"), WS("modbus.read_device_id", "readCode"),
  WS("modbus.object_id", "objectId"), WSEND
};
static const sf_wsfield ws_devid_resp[] = {
  WS("modbus.mei", "MEIType"), WS("modbus.read_device_id", "readCode"),
  WSX("modbus.conformity_level", "conformityLevel", 2), WSX("modbus.more_follows", "more", 2),
  WS("modbus.next_object_id", "nextObjId"), WS("modbus.num_objects", "objCount"), WSEND
};
static const sf_wsfield ws_object[] = {
  WS("modbus.object_id", "id"), WS("modbus.objects_len", "length"),
  WS("modbus.object_str_value", "value"), WSEND
};

#define PDU(v, nm, disp, kd, fl, pl, ws_, ml, ...)                                   \
  static sf_proto v = {                                                             \
    .name = nm, .display = disp, .kind = kd, .fields = fl, .nfields = NFIELDS(fl),  \
    .minlen = ml, .places = pl, .ws = "modbus", .ws_fields = ws_,                   \
    .hdr_len = pdu_len, .next = pdu_next, __VA_ARGS__                               \
  }
#define ERROR_PDU(v, code, nm, disp, kd) PDU(v, nm, disp, kd, error_fields, code, ws_error, 1)

PDU(rc_q, "ModbusPDU01ReadCoilsRequest", "Read Coils Request", "ModbusPdu01ReadCoilsRequest",
    read_req_fields, q01, ws_read_bits, 4);
PDU(rc_r, "ModbusPDU01ReadCoilsResponse", "Read Coils Response", "ModbusPdu01ReadCoilsResponse",
    bits_resp_fields_c, r01, ws_byte_cnt, 2, .var = from1, .fixup = bits_resp_fixup);
ERROR_PDU(rc_e, e01, "ModbusPDU01ReadCoilsError", "Read Coils Exception", "ModbusPdu01ReadCoilsError");
PDU(rdi_q, "ModbusPDU02ReadDiscreteInputsRequest", "Read Discrete Inputs",
    "ModbusPdu02ReadDiscreteInputsRequest", read_req_fields, q02, ws_read_bits, 4);
PDU(rdi_r, "ModbusPDU02ReadDiscreteInputsResponse", "Read Discrete Inputs Response",
    "ModbusPdu02ReadDiscreteInputsResponse", bits_resp_fields_i, r02, ws_byte_cnt, 2,
    .var = from1, .fixup = bits_resp_fixup);
ERROR_PDU(rdi_e, e02, "ModbusPDU02ReadDiscreteInputsError", "Read Discrete Inputs Exception",
          "ModbusPdu02ReadDiscreteInputsError");
PDU(rhr_q, "ModbusPDU03ReadHoldingRegistersRequest", "Read Holding Registers",
    "ModbusPdu03ReadHoldingRegistersRequest", read_req_fields, q03, ws_read_words, 4);
PDU(rhr_r, "ModbusPDU03ReadHoldingRegistersResponse", "Read Holding Registers Response",
    "ModbusPdu03ReadHoldingRegistersResponse", regs_resp_fields, r03, ws_byte_cnt, 3,
    .var = from1, .fixup = bits_resp_fixup);
ERROR_PDU(rhr_e, e03, "ModbusPDU03ReadHoldingRegistersError", "Read Holding Registers Exception",
          "ModbusPdu03ReadHoldingRegistersError");
PDU(rir_q, "ModbusPDU04ReadInputRegistersRequest", "Read Input Registers",
    "ModbusPdu04ReadInputRegistersRequest", read_req_fields, q04, ws_read_words, 4);
PDU(rir_r, "ModbusPDU04ReadInputRegistersResponse", "Read Input Registers Response",
    "ModbusPdu04ReadInputRegistersResponse", regs_resp_fields, r04, ws_byte_cnt, 3,
    .var = from1, .fixup = bits_resp_fixup);
ERROR_PDU(rir_e, e04, "ModbusPDU04ReadInputRegistersError", "Read Input Registers Exception",
          "ModbusPdu04ReadInputRegistersError");
PDU(wsc_q, "ModbusPDU05WriteSingleCoilRequest", "Write Single Coil",
    "ModbusPdu05WriteSingleCoilRequest", coil_fields, q05, ws_coil, 4);
PDU(wsc_r, "ModbusPDU05WriteSingleCoilResponse", "Write Single Coil Response",
    "ModbusPdu05WriteSingleCoilResponse", coil_fields, r05, ws_coil, 4);
ERROR_PDU(wsc_e, e05, "ModbusPDU05WriteSingleCoilError", "Write Single Coil Exception",
          "ModbusPdu05WriteSingleCoilError");
PDU(wsr_q, "ModbusPDU06WriteSingleRegisterRequest", "Write Single Register",
    "ModbusPdu06WriteSingleRegisterRequest", reg_fields, q06, ws_reg, 4);
PDU(wsr_r, "ModbusPDU06WriteSingleRegisterResponse", "Write Single Register Response",
    "ModbusPdu06WriteSingleRegisterResponse", reg_fields, r06, ws_reg, 4);
ERROR_PDU(wsr_e, e06, "ModbusPDU06WriteSingleRegisterError", "Write Single Register Exception",
          "ModbusPdu06WriteSingleRegisterError");
PDU(wmc_q, "ModbusPDU0FWriteMultipleCoilsRequest", "Write Multiple Coils",
    "ModbusPdu0FWriteMultipleCoilsRequest", coils_req_fields, q0f, ws_coils_req, 6,
    .var = from5, .fixup = coils_req_fixup);
PDU(wmc_r, "ModbusPDU0FWriteMultipleCoilsResponse", "Write Multiple Coils Response",
    "ModbusPdu0FWriteMultipleCoilsResponse", coils_resp_fields, r0f, ws_coils_resp, 4);
ERROR_PDU(wmc_e, e0f, "ModbusPDU0FWriteMultipleCoilsError", "Write Multiple Coils Exception",
          "ModbusPdu0FWriteMultipleCoilsError");
PDU(wmr_q, "ModbusPDU10WriteMultipleRegistersRequest", "Write Multiple Registers",
    "ModbusPdu10WriteMultipleRegistersRequest", regs_req_fields, q10, ws_regs_req, 7,
    .var = from5, .fixup = regs_req_fixup);
PDU(wmr_r, "ModbusPDU10WriteMultipleRegistersResponse", "Write Multiple Registers Response",
    "ModbusPdu10WriteMultipleRegistersResponse", regs_wresp_fields, r10, ws_regs_resp, 4);
ERROR_PDU(wmr_e, e10, "ModbusPDU10WriteMultipleRegistersError",
          "Write Multiple Registers Exception", "ModbusPdu10WriteMultipleRegistersError");
PDU(mwr_q, "ModbusPDU16MaskWriteRegisterRequest", "Mask Write Register",
    "ModbusPdu16MaskWriteRegisterRequest", mask_fields, q16, ws_mask, 6);
PDU(mwr_r, "ModbusPDU16MaskWriteRegisterResponse", "Mask Write Register Response",
    "ModbusPdu16MaskWriteRegisterResponse", mask_fields, r16, ws_mask, 6);
ERROR_PDU(mwr_e, e16, "ModbusPDU16MaskWriteRegisterError", "Mask Write Register Exception",
          "ModbusPdu16MaskWriteRegisterError");
PDU(rw_q, "ModbusPDU17ReadWriteMultipleRegistersRequest", "Read Write Multiple Registers",
    "ModbusPdu17ReadWriteMultipleRegistersRequest", rw_req_fields, q17, ws_rw_req, 11,
    .var = from9, .fixup = rw_req_fixup);
PDU(rw_r, "ModbusPDU17ReadWriteMultipleRegistersResponse",
    "Read Write Multiple Registers Response", "ModbusPdu17ReadWriteMultipleRegistersResponse",
    regs_resp_fields, r17, ws_byte_cnt, 3, .var = from1, .fixup = bits_resp_fixup);
ERROR_PDU(rw_e, e17, "ModbusPDU17ReadWriteMultipleRegistersError",
          "Read Write Multiple Exception", "ModbusPdu17ReadWriteMultipleRegistersError");
PDU(di_q, "ModbusPDU2B0EReadDeviceIdentificationRequest", "Read Device Identification",
    "ModbusPdu2B0EReadDeviceIdentificationRequest", devid_req_fields, q2b, ws_devid_req, 3);
static sf_proto di_r = {  /* six bytes, then the objects */
  .name = "ModbusPDU2B0EReadDeviceIdentificationResponse",
  .display = "Read Device Identification Response",
  .kind = "ModbusPdu2B0EReadDeviceIdentificationResponse", .fields = devid_resp_fields,
  .nfields = NFIELDS(devid_resp_fields), .minlen = 6, .places = r2b, .ws = "modbus",
  .ws_fields = ws_devid_resp, .hdr_len = devid_resp_len, .next = devid_next,
  .fixup = devid_fixup,
};
ERROR_PDU(di_e, e2b, "ModbusPDU2B0EReadDeviceIdentificationError",
          "Read Device Identification Exception", "ModbusPdu2B0EReadDeviceIdentificationError");

static const uint8_t object_tmpl[] = {0, 0};
static sf_proto object = {
  .name = "ModbusObjectId", .display = "Object", .kind = "ModbusObjectId",
  .fields = object_fields, .nfields = NFIELDS(object_fields), .minlen = 2,
  .ws = "modbus", .ws_fields = ws_object, .hdr_len = object_len, .next = devid_next,
  .fixup = object_fixup, .var = object_var, .deftmpl = object_tmpl,
};

SF_PROTO_FILE(modbus) {
  static sf_proto *const classes[] = {
    &rc_q, &rc_r, &rc_e, &rdi_q, &rdi_r, &rdi_e, &rhr_q, &rhr_r, &rhr_e, &rir_q, &rir_r,
    &rir_e, &wsc_q, &wsc_r, &wsc_e, &wsr_q, &wsr_r, &wsr_e, &wmc_q, &wmc_r, &wmc_e,
    &wmr_q, &wmr_r, &wmr_e, &mwr_q, &mwr_r, &mwr_e, &rw_q, &rw_r, &rw_e, &di_q, &di_r,
    &di_e,
  };
  size_t i;
  modbus_id = sf_register(&modbus);
  for (i = 0; i < sizeof classes / sizeof classes[0]; i++) sf_register(classes[i]);
  devid_resp_id = di_r.id;
  object_id = sf_register(&object);
}
