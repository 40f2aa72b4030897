/*
 * tls.c -- TLS (RFC 5246, RFC 8446): records, handshake messages and their
 * extensions, alerts, change-cipher-spec and application data, with
 * Scapy's class and field names; the JA3, JA3S and JA4 fingerprints and
 * certificates' names computed through OpenSSL.
 *
 * A TCP segment holds records back to back, and a record holds messages
 * back to back; the layer index is a chain, so each is the layer after
 * the one before it: TLS / TLSClientHello / TLS_Ext_ServerName / ... /
 * TLS / TLSChangeCipherSpec.  No layer claims an extent (bytes past it
 * would be Padding); each layer's `next` works out where it stands -- in
 * a hello's extensions, in a record's content, or after the record --
 * from the record and message headers before it (where_is), and the
 * lengths are filled in from the layers after a record or message.
 *
 * Extensions (and a Certificate's entries) are layers of their own rather
 * than one list field with a codec: each has Scapy's class (TLS_Ext_ALPN)
 * and fields; `p[TLS_Ext_ServerName].servername` reads the host name
 * straight from the bytes (the SNI path is one field read); Wireshark's
 * names (tls.handshake.extensions_server_name) map onto plain fields the
 * display filters read; show() prints each as Scapy does; and a hello is
 * built by stacking them, its lengths filled in.  Lists inside an
 * extension (cipher suites, groups, ALPN names) are list fields with the
 * generic codecs of stdlib/stackforge/codecs.lua.
 *
 * ClientHello and ServerHello have fields after variable ones (the cipher
 * suites follow the session id), so they are laid out by the engine's
 * layout engine (core/custom/) with this file as its host: each list is
 * sized by the length field before it, as Scapy's FieldLenField and
 * length_from say, and setting a field rebuilds the header.
 *
 * Detection: TCP port 443 and 853 when the bytes look like a record, and
 * any TCP port by the same test (a heuristic).  A bare handshake message
 * (the CRYPTO data of a QUIC Initial) parses from TLSClientHello on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common.h"
#include "fptext.h"
#include "../custom/custom.h"

static inline uint32_t rd24(const uint8_t *p) {
  return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* RFC 8701: 0x0a0a, 0x1a1a, ... 0xfafa, reserved so that peers learn to
   ignore values they do not know. */
static int is_grease(unsigned v) {
  return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* ---- value names ---------------------------------------------------------- */

#define GREASE_NAMES                                                        \
  {0x0a0a, "GREASE"}, {0x1a1a, "GREASE"}, {0x2a2a, "GREASE"},               \
  {0x3a3a, "GREASE"}, {0x4a4a, "GREASE"}, {0x5a5a, "GREASE"},               \
  {0x6a6a, "GREASE"}, {0x7a7a, "GREASE"}, {0x8a8a, "GREASE"},               \
  {0x9a9a, "GREASE"}, {0xaaaa, "GREASE"}, {0xbaba, "GREASE"},               \
  {0xcaca, "GREASE"}, {0xdada, "GREASE"}, {0xeaea, "GREASE"},               \
  {0xfafa, "GREASE"}

static const sf_enum content_types[] = {
  {20, "change_cipher_spec"}, {21, "alert"}, {22, "handshake"},
  {23, "application_data"}, {24, "heartbeat"}, {0, NULL}
};

static const sf_enum versions[] = {
  {0x0002, "SSLv2"}, {0x0300, "SSLv3"}, {0x0301, "TLS 1.0"},
  {0x0302, "TLS 1.1"}, {0x0303, "TLS 1.2"}, {0x0304, "TLS 1.3"},
  {0xfeff, "DTLS 1.0"}, {0xfefd, "DTLS 1.2"}, {0xfefc, "DTLS 1.3"},
  GREASE_NAMES, {0, NULL}
};

static const sf_enum hs_types[] = {
  {0, "hello_request"}, {1, "client_hello"}, {2, "server_hello"},
  {3, "hello_verify_request"}, {4, "session_ticket"}, {5, "end_of_early_data"},
  {6, "hello_retry_request"}, {8, "encrypted_extensions"}, {11, "certificate"},
  {12, "server_key_exchange"}, {13, "certificate_request"},
  {14, "server_hello_done"}, {15, "certificate_verify"},
  {16, "client_key_exchange"}, {20, "finished"}, {21, "certificate_url"},
  {22, "certificate_status"}, {23, "supplemental_data"}, {24, "key_update"},
  {25, "compressed_certificate"}, {254, "message_hash"}, {0, NULL}
};

/* IANA's TLS ExtensionType Values, with Scapy's spellings */
static const sf_enum ext_types[] = {
  {0, "server_name"}, {1, "max_fragment_length"}, {2, "client_certificate_url"},
  {3, "trusted_ca_keys"}, {4, "truncated_hmac"}, {5, "status_request"},
  {6, "user_mapping"}, {7, "client_authz"}, {8, "server_authz"},
  {9, "cert_type"}, {10, "supported_groups"}, {11, "ec_point_formats"},
  {12, "srp"}, {13, "signature_algorithms"}, {14, "use_srtp"},
  {15, "heartbeat"}, {16, "alpn"}, {17, "status_request_v2"},
  {18, "signed_certificate_timestamp"}, {19, "client_certificate_type"},
  {20, "server_certificate_type"}, {21, "padding"}, {22, "encrypt_then_mac"},
  {23, "extended_master_secret"}, {24, "token_binding"},
  {25, "cached_info"}, {27, "compress_certificate"}, {28, "record_size_limit"},
  {34, "delegated_credentials"}, {35, "session_ticket"},
  {41, "pre_shared_key"}, {42, "early_data_indication"},
  {43, "supported_versions"}, {44, "cookie"}, {45, "psk_key_exchange_modes"},
  {47, "certificate_authorities"}, {48, "oid_filters"},
  {49, "post_handshake_auth"}, {50, "signature_algorithms_cert"},
  {51, "key_share"}, {57, "quic_transport_parameters"},
  {13172, "next_protocol_negotiation"}, {17513, "application_settings"},
  {0xfe0d, "encrypted_client_hello"}, {65281, "renegotiation_info"},
  GREASE_NAMES, {0, NULL}
};

static const sf_enum cipher_suites[] = {
  {0x0000, "TLS_NULL_WITH_NULL_NULL"}, {0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
  {0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"}, {0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"},
  {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"}, {0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
  {0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"}, {0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256"},
  {0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"}, {0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"},
  {0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"}, {0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
  {0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"}, {0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
  {0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"},
  {0x1301, "TLS_AES_128_GCM_SHA256"}, {0x1302, "TLS_AES_256_GCM_SHA384"},
  {0x1303, "TLS_CHACHA20_POLY1305_SHA256"}, {0x1304, "TLS_AES_128_CCM_SHA256"},
  {0x1305, "TLS_AES_128_CCM_8_SHA256"}, {0x5600, "TLS_FALLBACK_SCSV"},
  {0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"}, {0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
  {0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"}, {0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
  {0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"}, {0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
  {0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"}, {0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
  {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}, {0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
  {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}, {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
  {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
  {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
  {0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
  GREASE_NAMES, {0, NULL}
};

static const sf_enum groups[] = {
  {23, "secp256r1"}, {24, "secp384r1"}, {25, "secp521r1"}, {29, "x25519"},
  {30, "x448"}, {256, "ffdhe2048"}, {257, "ffdhe3072"}, {258, "ffdhe4096"},
  {259, "ffdhe6144"}, {260, "ffdhe8192"}, {0x11ec, "X25519MLKEM768"},
  {0x6399, "X25519Kyber768Draft00"}, GREASE_NAMES, {0, NULL}
};

static const sf_enum alert_levels[] = {{1, "warning"}, {2, "fatal"}, {0, NULL}};

static const sf_enum alert_descrs[] = {
  {0, "close_notify"}, {10, "unexpected_message"}, {20, "bad_record_mac"},
  {21, "decryption_failed"}, {22, "record_overflow"}, {30, "decompression_failure"},
  {40, "handshake_failure"}, {41, "no_certificate"}, {42, "bad_certificate"},
  {43, "unsupported_certificate"}, {44, "certificate_revoked"},
  {45, "certificate_expired"}, {46, "certificate_unknown"},
  {47, "illegal_parameter"}, {48, "unknown_ca"}, {49, "access_denied"},
  {50, "decode_error"}, {51, "decrypt_error"}, {60, "export_restriction"},
  {70, "protocol_version"}, {71, "insufficient_security"}, {80, "internal_error"},
  {86, "inappropriate_fallback"}, {90, "user_canceled"},
  {100, "no_renegotiation"}, {109, "missing_extension"},
  {110, "unsupported_extension"}, {111, "certificate_unobtainable"},
  {112, "unrecognized_name"}, {113, "bad_certificate_status_response"},
  {114, "bad_certificate_hash_value"}, {115, "unknown_psk_identity"},
  {116, "certificate_required"}, {120, "no_application_protocol"}, {0, NULL}
};

static const sf_enum comp_methods[] = {{0, "null"}, {1, "deflate"}, {0, NULL}};
static const sf_enum name_types[] = {{0, "host_name"}, {0, NULL}};
static const sf_enum status_types[] = {{1, "ocsp"}, {2, "ocsp_multi"}, {0, NULL}};
static const sf_enum ccs_types[] = {{1, "change_cipher_spec"}, {0, NULL}};

/* ---- what each layer is --------------------------------------------------- */

/* A layer's part in the chain (by protocol id): the record, a handshake
   message, one whose parts follow it (a hello's extensions, a
   Certificate's entries), such a part, or a record's other contents. */
enum { R_NONE, R_RECORD, R_MSG, R_HELLO, R_CERTS, R_EXT, R_CERT, R_CONTENT };
/* a hello's kind: which extensions its key_share and supported_versions are */
enum { K_CH = 1, K_SH, K_EE };

static uint8_t role[SF_MAX_PROTOS];
static uint8_t kind_of[SF_MAX_PROTOS];

static int id_record = -1, id_ch = -1, id_sh = -1, id_ee = -1, id_cert = -1,
           id_entry = -1, id_generic = -1, id_ccs = -1, id_alert = -1,
           id_app = -1, id_enc = -1;
static int id_msg[256];                  /* by handshake type; -1: generic */
static int ext_small[64];                /* by extension type below 64, -1 */
static int id_reneg = -1, id_unknown = -1, id_sv_ch = -1, id_sv_sh = -1,
           id_ks_ch = -1, id_ks_sh = -1, id_ks_hrr = -1;

static int role_at(const sf_pkt *p, int li) { return role[p->layers[li].proto]; }

/* ---- where a layer stands --------------------------------------------------- */

/* The record layer before (its content's end in bytes, which may lie past
   the bytes captured), and the hello or Certificate whose parts come
   next (its end), for layer li. */
typedef struct where {
  int rec, msg;
  size_t rec_end, msg_end;
} where;

/* The hello or Certificate whose parts li is one of (or which li is);
   its layer and w->msg_end.  (A hello's parts walk back over the parts
   before them: a tight loop, cheaper than remembering the answer.) */
static int message_of(const sf_pkt *p, int li, where *w) {
  const sf_layer *ls = p->layers;
  int j = li, r;
  while (j >= 0 && (role[ls[j].proto] == R_EXT || role[ls[j].proto] == R_CERT)) j--;
  w->msg = -1;
  w->msg_end = 0;
  if (j < 0) return j;
  r = role[ls[j].proto];
  if ((r == R_HELLO || r == R_CERTS) && ls[j].hlen >= 4) {
    w->msg = j;
    w->msg_end = ls[j].off + 4 + rd24(p->data + ls[j].off + 1);
  }
  return j;
}

/* The record layer at or before j, and w->rec_end. */
static void record_of(const sf_pkt *p, int j, where *w) {
  const sf_layer *ls = p->layers;
  while (j >= 0 && role[ls[j].proto] != R_RECORD && role[ls[j].proto] != R_NONE) j--;
  w->rec = -1;
  w->rec_end = 0;
  if (j >= 0 && role[ls[j].proto] == R_RECORD && ls[j].hlen >= 5) {
    w->rec = j;
    w->rec_end = ls[j].off + 5 + rd16(p->data + ls[j].off + 3);
  }
}

static void where_is(const sf_pkt *p, int li, where *w) {
  record_of(p, message_of(p, li, w), w);
}

/* Handshake records after a ChangeCipherSpec are encrypted. */
static int after_ccs(const sf_pkt *p, int rec) {
  int j;
  for (j = rec - 1; j >= 0 && role_at(p, j) != R_NONE; j--)
    if (p->layers[j].proto == id_ccs) return 1;
  return 0;
}

/* Does h (n bytes) start like a TLS record?  A plausible type, version
   3.0 to 3.4 and length; when the record ends within the bytes, what
   follows it must start like one too. */
static int looks_like_record(const uint8_t *h, size_t n) {
  size_t len;
  if (n < 5 || h[0] < 20 || h[0] > 24 || h[1] != 3 || h[2] > 4) return 0;
  len = rd16(h + 3);
  if (len == 0 || len > 16384 + 2048) return 0;
  if ((h[0] == 20 && len != 1) || (h[0] == 21 && len < 2)) return 0;
  if (5 + len + 3 <= n) {
    const uint8_t *q = h + 5 + len;
    return q[0] >= 20 && q[0] <= 24 && q[1] == 3 && q[2] <= 4;
  }
  return 1;
}

/* The protocol of an extension of type t in a hello of kind k, at h (n
   bytes). */
static int ext_proto(unsigned t, int k, const uint8_t *h, size_t n) {
  if (t == 43) return k == K_CH ? id_sv_ch : id_sv_sh;
  if (t == 51) {
    if (k == K_CH) return id_ks_ch;
    return n >= 4 && rd16(h + 2) == 2 ? id_ks_hrr : id_ks_sh;
  }
  if (t < 64 && ext_small[t] >= 0) return ext_small[t];
  if (t == 65281) return id_reneg;
  return id_unknown;
}

/* A Certificate in TLS 1.2's form: its entries fill it exactly. */
static int certs_12(const uint8_t *h, size_t n) {
  return n >= 7 && rd24(h + 1) >= 3 && rd24(h + 4) + 3 == rd24(h + 1);
}

static int hs_known(unsigned t) {
  const sf_enum *e;
  for (e = hs_types; e->name; e++)
    if (e->value == t) return 1;
  return 0;
}

/* Do handshake messages of known types fill the room bytes at h (n of
   them captured) exactly?  Encrypted bytes seldom do: TLS 1.2's GCM
   nonce starts with zeros, which read as an empty hello_request. */
static int messages_fill(const uint8_t *h, size_t n, size_t room) {
  size_t at = 0;
  while (at < room) {
    size_t len;
    if (at + 4 > n) return 1;  /* the capture ends first: as far as we see */
    len = 4 + (size_t)rd24(h + at + 1);
    if (!hs_known(h[at]) || len > room - at) return 0;
    at += len;
  }
  return 1;
}

/* A handshake message at h (n bytes), room bytes left in its record
   (bare: no record, n is all there is): its protocol, or -2 when the bytes
   are not one (encrypted, or continued in the next record). */
static int message_at(const uint8_t *h, size_t n, size_t room, int bare) {
  int enc = bare ? -2 : id_enc;
  unsigned t;
  if (n < 4) return !bare && room > n ? id_generic : enc;  /* cut: Raw, truncated */
  t = h[0];
  if (!hs_known(t)) return enc;
  if (!bare && !messages_fill(h, n, room)) return enc;
  if (t == 11 && !certs_12(h, n)) return id_generic;
  return id_msg[t] >= 0 ? id_msg[t] : id_generic;
}

/* What follows at pos within record w.rec's content. */
static int content_at(const sf_pkt *p, const where *w, size_t pos, size_t end) {
  const uint8_t *rec = p->data + p->layers[w->rec].off;
  size_t room = w->rec_end - pos;
  switch (rec[0]) {
    case 20: return id_ccs;
    case 21: return room == 2 ? id_alert : id_enc;  /* longer: encrypted */
    case 22:
      if (after_ccs(p, w->rec)) return id_enc;
      return message_at(p->data + pos, end - pos, room, 0);
    case 23: return id_app;
    case 24: return id_enc;
    default: return -2;
  }
}

/* The part (extension, certificate entry) at pos of message w.msg. */
static int part_at(const sf_pkt *p, const where *w, size_t pos, size_t end) {
  const uint8_t *h = p->data + pos;
  size_t n = end - pos, room = w->msg_end - pos;
  int r = role_at(p, w->msg);
  if (r == R_CERTS) return id_entry;
  if (n < 4) return w->msg_end > end ? id_unknown : -2;  /* cut: Raw, truncated */
  if (4 + (size_t)rd16(h + 2) > room && w->msg_end <= end) return -2;  /* overruns */
  return ext_proto(rd16(h), kind_of[p->layers[w->msg].proto], h, n);
}

/* The next layer of every TLS layer: the hello's next extension, the
   record's next content, the next record; handshake messages back to
   back without a record (QUIC's CRYPTO data). */
static int tls_next(const sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  size_t pos = l->off + l->hlen, end = l->end;
  where w;
  int j;
  if (pos >= end) return -2;
  j = message_of(p, li, &w);
  if (w.msg >= 0 && pos < w.msg_end) return part_at(p, &w, pos, end);
  if (w.msg >= 0 && pos > w.msg_end) return -2;  /* a part ran past it */
  record_of(p, j, &w);
  if (w.rec >= 0) {
    if (pos < w.rec_end) return content_at(p, &w, pos, end);
    if (pos > w.rec_end) return -2;
    return looks_like_record(p->data + pos, end - pos) ? id_record : -2;
  }
  return message_at(p->data + pos, end - pos, end - pos, 1);
}

/* ---- lengths ------------------------------------------------------------------- */

/* The end of the layers after li that are `member`s of it (the contents
   of a record, the parts of a message); *next: the first that is not. */
static size_t members_end(const sf_pkt *p, int li, int (*member)(int), int *next) {
  size_t e = p->layers[li].off + p->layers[li].hlen;
  int j;
  for (j = li + 1; j < p->nlayers; j++) {
    const sf_layer *l = &p->layers[j];
    if (!member(role_at(p, j)) || l->off != e) break;
    e += l->hlen;
  }
  *next = j;
  return e;
}

static int in_record(int r) { return r != R_NONE && r != R_RECORD; }
static int is_part(int r) { return r == R_EXT || r == R_CERT; }

/* A parsed layer whose bytes were cut (the capture's snap length, a
   record continued in the next segment, a part that did not parse)
   keeps the lengths its header says; a built one, or a parsed one
   changed but whole, gets them from what follows it. */
static int keeps_lengths(const sf_pkt *p, int li, size_t claimed_end, int next) {
  const sf_layer *l = &p->layers[li];
  if (l->flags & SF_L_BUILT) return 0;
  if (claimed_end > l->end) return 1;
  return next < p->nlayers && p->layers[next].proto == SF_RAW &&
         p->layers[next].off < claimed_end;
}

/* ---- how Scapy prints it ------------------------------------------------------------ */

/* Scapy 2.5 keeps a record's messages in its msg list, not as layers, and
   its summary (TLS.mysummary) names the session and each message:
   "TLS 10.0.0.1:1234 > 10.0.0.2:443 / TLS / TLS Handshake - Client Hello".
   Its classes and names of handshake messages by type
   (scapy/layers/tls/handshake.py's _tls_handshake_cls); another type, or
   a message cut short, is a Raw that takes the rest of the record. */
static const struct {
  uint8_t type;
  const char *cls, *name;
} scapy_msgs[] = {
  {0, "TLSHelloRequest", "TLS Handshake - Hello Request"},
  {1, "TLSClientHello", "TLS Handshake - Client Hello"},
  {2, "TLSServerHello", "TLS Handshake - Server Hello"},
  {3, "TLSHelloVerifyRequest", "TLS Handshake - Hello Verify Request"},
  {4, "TLSNewSessionTicket", "TLS Handshake - New Session Ticket"},
  {8, "TLSEncryptedExtensions", "TLS 1.3 Handshake - Encrypted Extensions"},
  {11, "TLSCertificate", "TLS Handshake - Certificate"},
  {12, "TLSServerKeyExchange", "TLS Handshake - Server Key Exchange"},
  {13, "TLSCertificateRequest", "TLS Handshake - Certificate Request"},
  {14, "TLSServerHelloDone", "TLS Handshake - Server Hello Done"},
  {15, "TLSCertificateVerify", "TLS Handshake - Certificate Verify"},
  {16, "TLSClientKeyExchange", "TLS Handshake - Client Key Exchange"},
  {20, "TLSFinished", "TLS Handshake - Finished"},
  {21, "TLSCertificateURL", "TLS Handshake - Certificate URL"},
  {22, "TLSCertificateStatus", "TLS Handshake - Certificate Status"},
  {23, "TLSSupplementalData", "TLS Handshake - Supplemental Data"},
};

static void tput(text *t, const char *s) { put(t, s, strlen(s)); }

/* Does a TLS 1.2 ServerHello choosing a cipher suite come before layer
   li in the packet?  Scapy then has the suite but not its keys: after a
   ChangeCipherSpec it cannot read a record at all. */
static int suite_before(const sf_pkt *p, int li) {
  int j;
  for (j = 0; j < li; j++) {
    const sf_layer *l = &p->layers[j];
    const uint8_t *h = p->data + l->off;
    if (l->proto == id_sh && l->hlen >= 39 && 41u + h[38] <= l->hlen &&
        rd16(h + 39 + h[38]) != 0)
      return 1;
  }
  return 0;
}

/* What Scapy makes of the content at layer li of record w.rec that sflua
   finds no message in (encrypted, or not one): its classes and names,
   ", " and " / " between them, into cls and names.  A handshake record's
   bytes are read as messages all the same (after a ChangeCipherSpec,
   Scapy's NULL cipher hands them over as they are): an empty
   hello_request or server_hello_done is one (4 bytes, whatever its
   length says); anything else ends the list as Raw. */
static int scapy_unread(const sf_pkt *p, int li, const where *w, text *cls, text *names) {
  const uint8_t *rec = p->data + p->layers[w->rec].off;
  size_t at = p->layers[li].off, end = w->rec_end < p->len ? w->rec_end : p->len;
  int first = 1;
  if (after_ccs(p, w->rec) && suite_before(p, w->rec)) {
    tput(cls, "_TLSEncryptedContent"), tput(names, "Encrypted Content");
    return 1;
  }
  if (rec[0] == 21) {
    tput(cls, "TLSAlert"), tput(names, "TLS Alert");
    return 1;
  }
  while (rec[0] == 22 && at < end && (p->data[at] == 0 || p->data[at] == 14)) {
    int done = p->data[at] == 14;
    if (!first) tput(cls, ","), tput(names, " / ");
    first = 0;
    tput(cls, done ? "TLSServerHelloDone" : "TLSHelloRequest");
    tput(names, done ? "TLS Handshake - Server Hello Done" : "TLS Handshake - Hello Request");
    at += 4;
  }
  if (at < end || first) {
    if (!first) tput(cls, ","), tput(names, " / ");
    tput(cls, "Raw"), tput(names, "Raw");
    return 0;
  }
  return 1;
}

/* Scapy's class(es) (cls, "," between) and name(s) (" / " between) of
   the record content at layer li; 0 when they end with a Raw that takes
   the rest of the record. */
static int scapy_content(const sf_pkt *p, int li, text *cls, text *names) {
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off;
  const char *c = NULL, *name = NULL;
  int id = l->proto;
  where w;
  size_t i;
  where_is(p, li, &w);
  if (w.rec >= 0 && (id == id_enc || (after_ccs(p, w.rec) && suite_before(p, w.rec))))
    return scapy_unread(p, li, &w, cls, names);
  if (id == id_ccs) c = "TLSChangeCipherSpec", name = "TLS ChangeCipherSpec";
  else if (id == id_alert) c = "TLSAlert", name = "TLS Alert";
  else if (id == id_app) c = "TLSApplicationData", name = "TLS Application Data";
  else if (l->hlen >= 4 && l->off + 4 + rd24(h + 1) <= (w.rec_end < p->len ? w.rec_end : p->len))
    for (i = 0; i < sizeof scapy_msgs / sizeof *scapy_msgs; i++)
      if (scapy_msgs[i].type == h[0]) c = scapy_msgs[i].cls, name = scapy_msgs[i].name;
  /* else: cut short, Scapy's message class fails on it */
  tput(cls, c ? c : "Raw");
  tput(names, name ? name : "Raw");
  return c != NULL;
}

static const char *content_cls(const sf_pkt *p, int li) {
  static _Thread_local char c[256];
  text cb = {c, sizeof c, 0}, nb = {NULL, 0, 0};
  scapy_content(p, li, &cb, &nb);
  return c;
}

/* An address of layer ip (Scapy's str of the IP layer's src or dst), or
   "None" when the layer below TCP is no IP. */
static void put_addr(text *b, const sf_pkt *p, int ip, int src) {
  const sf_proto *pr = ip >= 0 ? sf_proto_get(p->layers[ip].proto) : NULL;
  char tmp[46];
  sf_val v;
  int fi = pr && pr->facts && pr->facts->role == SF_ROLE_NET ? (src ? pr->at.src : pr->at.dst) : -1;
  if (fi < 0 || sf_field_get(p, ip, fi, &v) != SF_OK) {
    tput(b, "None");
    return;
  }
  if (pr->fields[fi].type == SF_T_IP6) sf_format_ip6(v.p, tmp);
  else sf_format_ip4(v.p, tmp);
  tput(b, tmp);
}

static void put_port(text *b, const sf_pkt *p, int tcp, int src) {
  const sf_proto *pr = sf_proto_get(p->layers[tcp].proto);
  char tmp[24];
  sf_val v;
  int fi = src ? pr->at.src : pr->at.dst;
  if (fi < 0 || sf_field_get(p, tcp, fi, &v) != SF_OK) strcpy(tmp, "None");
  else snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v.u);
  tput(b, tmp);
}

/* The session's repr (scapy/layers/tls/session.py: tlsSession.__repr__):
   the addresses and ports of the IP and TCP layers below the records. */
/* The layer below the first TLS layer before li (TCP), or -1 */
static int transport_below(const sf_pkt *p, int li) {
  while (li >= 0 && role_at(p, li) != R_NONE) li--;
  return li;
}

/* Does Scapy read record li as TLS?  It binds TLS to TCP port 443 alone;
   elsewhere the records are its Raw, or what it binds there. */
static int scapy_binds(const sf_pkt *p, int li) {
  return on_port(p, transport_below(p, li), 443);
}

static void put_session(text *b, const sf_pkt *p, int li) {
  int tcp = transport_below(p, li);
  if (tcp < 0) {
    tput(b, "None:None > None:None");
    return;
  }
  put_addr(b, p, tcp - 1, 1);
  tput(b, ":");
  put_port(b, p, tcp, 1);
  tput(b, " > ");
  put_addr(b, p, tcp - 1, 0);
  tput(b, ":");
  put_port(b, p, tcp, 0);
}

/* Does record li keep layer j in its msg list?  Its messages, and a Raw
   that starts within it (the rest of a message cut short). */
static int record_keeps(const sf_pkt *p, int li, int j) {
  const sf_layer *l = &p->layers[li];
  if (!scapy_keepable(p, j)) return 0;
  if (!scapy_binds(p, li)) return 1;  /* all of it is in the first one's place */
  if (role_at(p, j) == R_RECORD) return 0;
  if (in_record(role_at(p, j))) return 1;
  return l->hlen >= 5 && p->layers[j].off < l->off + 5 + rd16(p->data + l->off + 3);
}

/* Scapy's repr of a dissected record's len: the bytes of it there are
   ("deciphered": Scapy's NULL cipher passes them through) after it. */
static int len_text(const sf_pkt *p, int li, char *out, size_t cap) {
  const sf_layer *l = &p->layers[li];
  size_t len = rd16(p->data + l->off + 3), there = p->len - l->off - 5;
  if (l->flags & SF_L_BUILT) return snprintf(out, cap, "%zu", len);
  return snprintf(out, cap, "%zu    [deciphered_len= %zu]", len, there < len ? there : len);
}

/* TLS.mysummary of record li: "TLS <session> / TLS / <each message>" */
static int record_text(const sf_pkt *p, int li, const char *what, char *out, size_t cap) {
  text b = {out, cap, 0}, cls = {NULL, 0, 0};
  int j, said = 0;
  if (p->layers[li].hlen < 5) return -1;
  if (strcmp(what, "len") == 0) return len_text(p, li, out, cap);
  if (strcmp(what, "summary") != 0 || !scapy_binds(p, li)) return -1;
  tput(&b, "TLS ");
  put_session(&b, p, li);
  tput(&b, " / TLS");
  for (j = li + 1; j < p->nlayers; j++) {
    int r = role_at(p, j), raw = p->layers[j].proto == SF_RAW;
    if (is_part(r)) continue;
    if (!in_record(r) && !(raw && record_keeps(p, li, j))) break;
    tput(&b, " / ");
    said = 1;
    if (raw) {
      tput(&b, "Raw");
      break;
    }
    if (!scapy_content(p, j, &cls, &b)) break;  /* a Raw takes the rest */
  }
  if (!said) tput(&b, " / Raw");  /* nothing parsed: Scapy's Raw(b"") */
  return (int)b.len;
}

/* off Scapy's port, the first record is where Scapy's Raw (or the class
   it binds there) starts */
static const char *record_cls(const sf_pkt *p, int li) {
  return scapy_binds(p, li) ? NULL : scapy_payload_class(p, transport_below(p, li));
}

/* Records are inner layers too: a record keeps those after it when Scapy
   reads none of them as TLS. */
static const char *const record_names[] = {"len", "$", NULL};
static const sf_scapy record_scapy = {.fmt = "%$summary%", .names = record_names,
                                      .text = record_text, .cls = record_cls,
                                      .inner = 1, .keeps = record_keeps};
static const sf_scapy content_scapy = {.cls = content_cls, .inner = 1};

/* ---- TLS: the record ------------------------------------------------------------ */

enum { F_TYPE, F_VERSION, F_LEN };

static const sf_field record_fields[] = {
  UINTF("type", 0, 8, 0, SF_FF_AUTO, content_types, 0),
  UINTF("version", 8, 16, 0x0303, SF_FF_HEX, versions, 0),
  UINTF("len", 24, 16, 0, SF_FF_AUTO, NULL, 0),
};

static size_t record_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 5 ? 5 : 0;
}

/* The content type a built record takes from its first content layer. */
static unsigned content_type_of(int proto) {
  if (proto == id_ccs) return 20;
  if (proto == id_alert) return 21;
  if (proto == id_app) return 23;
  if (role[proto] == R_MSG || role[proto] == R_HELLO || role[proto] == R_CERTS)
    return 22;
  return 0;
}

static void record_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  int next;
  size_t e = members_end(p, li, in_record, &next);
  if (keeps_lengths(p, li, l->off + 5 + rd16(p->data + l->off + 3), next)) return;
  sf_lput(p, li, F_LEN, e - l->off - 5);
  if ((l->flags & SF_L_BUILT) && li + 1 < next)
    sf_lput(p, li, F_TYPE, content_type_of(p->layers[li + 1].proto));
}

static int record_accept(const sf_pkt *p, int li, const uint8_t *h, size_t n) {
  (void)p;
  (void)li;
  return looks_like_record(h, n);
}

/* Records on any TCP port (s_server's 4433, SMTP after STARTTLS). */
static int record_heur(const sf_pkt *p, int li, void *ud) {
  const sf_layer *l = &p->layers[li];
  (void)ud;
  return looks_like_record(p->data + l->off + l->hlen, l->end - l->off - l->hlen)
             ? id_record : -1;
}

static const sf_place record_places[] = {
  {"tcp.port", 443, 0, record_accept},
  {"tcp.port", 853, SF_PL_PARSE_ONLY, record_accept},
  {NULL, 0, 0, NULL}
};

static const sf_wsfield record_ws[] = {
  WS("tls.record.content_type", "type"),
  {"tls.record.version", "version", NULL, 0, 0, 4},
  WS("tls.record.length", "len"), {NULL, NULL, NULL, 0, 0, 0}
};

static sf_proto record = {
  .name = "TLS", .display = "TLS", .kind = "Tls",
  .fields = record_fields, .nfields = NFIELDS(record_fields), .minlen = 5,
  .places = record_places, .ws = "tls", .ws_fields = record_ws,
  .hdr_len = record_len, .next = tls_next, .fixup = record_fixup,
};

/* ---- a record's other contents --------------------------------------------------- */

/* Bytes from h to the end of the record they are in (n available). */
static size_t rest_of_record(const sf_pkt *p, const uint8_t *h, size_t n) {
  int li = p ? sf_layer_before(p, h) : -1;
  where w;
  size_t pos;
  if (li < 0) return n;
  where_is(p, li, &w);
  pos = (size_t)(h - p->data);
  if (w.rec < 0 || w.rec_end <= pos) return n;
  return w.rec_end - pos < n ? w.rec_end - pos : n;
}

static size_t content_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  return n ? rest_of_record(p, h, n) : 0;
}

static void var_all(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)h;
  (void)fi;
  *off = 0;
  *len = hlen;
}

static size_t ccs_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 1 ? 1 : 0;
}

static size_t alert_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 2 ? 2 : 0;
}

static const sf_field ccs_fields[] = {UINTF("msgtype", 0, 8, 1, 0, ccs_types, 0)};
static const sf_field alert_fields[] = {
  UINTF("level", 0, 8, 0, 0, alert_levels, 0),
  UINTF("descr", 8, 8, 0, 0, alert_descrs, 0),
};
static const sf_field app_fields[] = {BYTESF("data", 0, 0, NULL, NULL, 0)};
static const sf_field enc_fields[] = {BYTESF("load", 0, 0, NULL, NULL, 0)};

static const sf_wsfield alert_ws[] = {
  WS("tls.alert_message.level", "level"),
  WS("tls.alert_message.desc", "descr"), {NULL, NULL, NULL, 0, 0, 0}
};
static const sf_wsfield app_ws[] = {WS("tls.app_data", "data"), {NULL, NULL, NULL, 0, 0, 0}};

static sf_proto ccs = {
  .name = "TLSChangeCipherSpec", .display = "TLS ChangeCipherSpec",
  .kind = "TlsChangeCipherSpec", .fields = ccs_fields,
  .nfields = NFIELDS(ccs_fields), .minlen = 1, .hdr_len = ccs_len,
  .next = tls_next,
};

static sf_proto alert = {
  .name = "TLSAlert", .display = "TLS Alert", .kind = "TlsAlert",
  .fields = alert_fields, .nfields = NFIELDS(alert_fields), .minlen = 2,
  .ws_fields = alert_ws, .hdr_len = alert_len, .next = tls_next,
};

static sf_proto app = {
  .name = "TLSApplicationData", .display = "TLS Application Data",
  .kind = "TlsApplicationData", .fields = app_fields,
  .nfields = NFIELDS(app_fields), .minlen = 0, .ws_fields = app_ws,
  .hdr_len = content_len, .next = tls_next, .var = var_all,
};

/* A handshake record's content that is no whole message: encrypted (after
   ChangeCipherSpec), or a message continued in the next record. */
static sf_proto enc = {
  .name = "TLSEncryptedContent", .display = "TLS Encrypted Content",
  .kind = "TlsEncryptedContent", .fields = enc_fields,
  .nfields = NFIELDS(enc_fields), .minlen = 0, .hdr_len = content_len,
  .next = tls_next, .var = var_all,
};

/* ---- handshake messages with one body ---------------------------------------------- */

/* A message whose header is the whole message: 4 + msglen bytes, its
   body (fields after the fixed ones) one variable field to its end. */
typedef struct tls_msg {
  sf_proto pr;            /* first: the registry holds &pr */
  uint8_t type;           /* handshake type */
  uint8_t body;           /* where the variable field starts */
  int8_t lenf;            /* a length field of the body (hlen - body), -1 */
} tls_msg;

#define MSG_HEAD(t)                                           \
  UINTF("msgtype", 0, 8, (t), 0, hs_types, 0),                \
  UINTF("msglen", 8, 24, 0, SF_FF_AUTO, NULL, 0)
enum { F_MSGTYPE, F_MSGLEN };

static size_t msg_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  size_t want;
  (void)p;
  if (n < 4) return 0;
  want = 4 + (size_t)rd24(h + 1);
  return want <= n ? want : 0;
}

static const tls_msg *msg_of(const sf_pkt *p, int li) {
  return (const tls_msg *)sf_proto_get(p->layers[li].proto);
}

static void msg_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  const tls_msg *m = msg_of(p, li);
  if (l->hlen < 4) return;
  sf_lput(p, li, F_MSGLEN, l->hlen - 4);
  if (m->lenf >= 0 && l->hlen >= m->body) sf_lput(p, li, m->lenf, l->hlen - m->body);
}

#define VAR_FROM(k)                                                             \
  static void var_from##k(const uint8_t *h, size_t hlen, int fi, size_t *off,   \
                          size_t *len) {                                        \
    (void)h;                                                                    \
    (void)fi;                                                                   \
    *off = (k);                                                                 \
    *len = hlen > (k) ? hlen - (k) : 0;                                         \
  }
VAR_FROM(4)
VAR_FROM(5)
VAR_FROM(6)
VAR_FROM(8)
VAR_FROM(10)

static const sf_wsfield msg_ws[] = {
  WS("tls.handshake.type", "msgtype"),
  WS("tls.handshake.length", "msglen"), {NULL, NULL, NULL, 0, 0, 0}
};

#define SIMPLE_MSG(id_, cls, disp, knd, t, flds, minl, varfn, bodyat, lf, wsf) \
  static tls_msg id_ = {                                                       \
    {.name = (cls), .display = (disp), .kind = (knd), .fields = (flds),        \
     .nfields = NFIELDS(flds), .minlen = (minl), .ws_fields = (wsf),           \
     .hdr_len = msg_len, .next = tls_next, .fixup = msg_fixup,                 \
     .var = (varfn)},                                                          \
    (t), (bodyat), (lf)}

static const sf_field generic_fields[] = {MSG_HEAD(0), BYTESF("body", 32, 0, NULL, NULL, 0)};
static const sf_field shd_fields[] = {MSG_HEAD(14)};
static const sf_field ske_fields[] = {MSG_HEAD(12), BYTESF("params", 32, 0, NULL, NULL, 0)};
static const sf_field cke_fields[] = {MSG_HEAD(16), BYTESF("exchkeys", 32, 0, NULL, NULL, 0)};
static const sf_field cv_fields[] = {MSG_HEAD(15), BYTESF("sig", 32, 0, NULL, NULL, 0)};
static const sf_field fin_fields[] = {MSG_HEAD(20), BYTESF("vdata", 32, 0, NULL, NULL, 0)};
static const sf_field nst_fields[] = {
  MSG_HEAD(4), UINTF("lifetime", 32, 32, 0xffffffff, 0, NULL, 0),
  UINTF("ticketlen", 64, 16, 0, SF_FF_AUTO, NULL, 0),
  BYTESF("ticket", 80, 0, NULL, NULL, 0),
};

static const sf_wsfield nst_ws[] = {
  WS("tls.handshake.type", "msgtype"),
  WS("tls.handshake.length", "msglen"),
  WS("tls.handshake.session_ticket_lifetime_hint", "lifetime"),
  WS("tls.handshake.session_ticket_length", "ticketlen"),
  WS("tls.handshake.session_ticket", "ticket"), {NULL, NULL, NULL, 0, 0, 0}
};

SIMPLE_MSG(generic, "TLSHandshake", "TLS Handshake", "TlsHandshake", 0,
           generic_fields, 4, var_from4, 4, -1, msg_ws);
SIMPLE_MSG(shd, "TLSServerHelloDone", "TLS Handshake - Server Hello Done",
           "TlsServerHelloDone", 14, shd_fields, 4, NULL, 4, -1, msg_ws);
SIMPLE_MSG(ske, "TLSServerKeyExchange", "TLS Handshake - Server Key Exchange",
           "TlsServerKeyExchange", 12, ske_fields, 4, var_from4, 4, -1, msg_ws);
SIMPLE_MSG(cke, "TLSClientKeyExchange", "TLS Handshake - Client Key Exchange",
           "TlsClientKeyExchange", 16, cke_fields, 4, var_from4, 4, -1, msg_ws);
SIMPLE_MSG(cv, "TLSCertificateVerify", "TLS Handshake - Certificate Verify",
           "TlsCertificateVerify", 15, cv_fields, 4, var_from4, 4, -1, msg_ws);
SIMPLE_MSG(fin, "TLSFinished", "TLS Handshake - Finished", "TlsFinished", 20,
           fin_fields, 4, var_from4, 4, -1, msg_ws);
SIMPLE_MSG(nst, "TLSNewSessionTicket", "TLS Handshake - New Session Ticket",
           "TlsNewSessionTicket", 4, nst_fields, 10, var_from10, 10, 3, nst_ws);

/* ---- messages whose parts follow them ---------------------------------------------- */

/* msglen and the parts' length (extlen, certslen) from the parts after
   message li: lf, the parts' length field */
static void parts_fixup(sf_pkt *p, int li, int lf) {
  const sf_layer *l = &p->layers[li];
  int next;
  size_t e = members_end(p, li, is_part, &next);
  if (l->hlen < 4 ||
      keeps_lengths(p, li, l->off + 4 + rd24(p->data + l->off + 1), next))
    return;
  sf_lput(p, li, F_MSGLEN, e - l->off - 4);
  sf_lput(p, li, lf, e - l->off - l->hlen);
}

/* EncryptedExtensions: msgtype msglen extlen, the extensions after it */
static const sf_field ee_fields[] = {MSG_HEAD(8), UINTF("extlen", 32, 16, 0, SF_FF_AUTO, NULL, 0)};

static size_t fixed_len(size_t want, size_t n) { return want <= n ? want : 0; }

static size_t ee_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return fixed_len(6, n);
}

static void ee_fixup(sf_pkt *p, int li) { parts_fixup(p, li, 2); }

static const sf_wsfield ee_ws[] = {
  WS("tls.handshake.type", "msgtype"),
  WS("tls.handshake.length", "msglen"),
  WS("tls.handshake.extensions_length", "extlen"), {NULL, NULL, NULL, 0, 0, 0}
};

static sf_proto ee = {
  .name = "TLSEncryptedExtensions", .display = "TLS 1.3 Handshake - Encrypted Extensions",
  .kind = "TlsEncryptedExtensions", .fields = ee_fields, .nfields = NFIELDS(ee_fields),
  .minlen = 6, .ws_fields = ee_ws, .hdr_len = ee_len, .next = tls_next,
  .fixup = ee_fixup,
};

/* Certificate (TLS 1.2): msgtype msglen certslen, the entries after it */
static const sf_field cert_fields[] = {MSG_HEAD(11), UINTF("certslen", 32, 24, 0, SF_FF_AUTO, NULL, 0)};

static size_t cert_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return fixed_len(7, n);
}

static void cert_fixup(sf_pkt *p, int li) { parts_fixup(p, li, 2); }

static const sf_wsfield cert_ws[] = {
  WS("tls.handshake.type", "msgtype"),
  WS("tls.handshake.length", "msglen"),
  WS("tls.handshake.certificates_length", "certslen"), {NULL, NULL, NULL, 0, 0, 0}
};

static sf_proto cert = {
  .name = "TLSCertificate", .display = "TLS Handshake - Certificate",
  .kind = "TlsCertificate", .fields = cert_fields, .nfields = NFIELDS(cert_fields),
  .minlen = 7, .ws_fields = cert_ws, .hdr_len = cert_len, .next = tls_next,
  .fixup = cert_fixup,
};

/* ---- certificates ------------------------------------------------------------------ */

/* One certificate of a Certificate message: its length and DER bytes;
   its names and validity read through OpenSSL's X.509 parser. */
static const sf_field entry_fields[] = {
  UINTF("certlen", 0, 24, 0, SF_FF_AUTO, NULL, 0),
  BYTESF("cert", 24, 0, NULL, NULL, 0),
};

static size_t entry_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  if (n < 3) return 0;
  return fixed_len(3 + (size_t)rd24(h), n);
}

static void var_from3(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)h;
  (void)fi;
  *off = 3;
  *len = hlen > 3 ? hlen - 3 : 0;
}

static void entry_fixup(sf_pkt *p, int li) {
  if (p->layers[li].hlen >= 3) sf_lput(p, li, 0, p->layers[li].hlen - 3);
}

/* The certificate of entry li, parsed (NULL: not DER X.509). */
static X509 *x509_of(const sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  const unsigned char *d = p->data + l->off + 3;
  if (l->hlen <= 3) return NULL;
  return d2i_X509(NULL, &d, (long)(l->hlen - 3));
}

/* What OpenSSL printed into b, as a computed value's text. */
static int bio_text(BIO *b, char *out, size_t cap) {
  char *s;
  long n = BIO_get_mem_data(b, &s);
  if (n < 0) return -1;
  if (cap) {
    size_t k = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
    memcpy(out, s, k);
    out[k] = 0;
  }
  return (int)n;
}

static int x509_name_text(const sf_pkt *p, int li, char *out, size_t cap, int issuer) {
  X509 *x = x509_of(p, li);
  BIO *b;
  int n = -1;
  if (!x) return -1;
  if ((b = BIO_new(BIO_s_mem()))) {
    if (X509_NAME_print_ex(b, issuer ? X509_get_issuer_name(x) : X509_get_subject_name(x),
                           0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
      n = bio_text(b, out, cap);
    BIO_free(b);
  }
  X509_free(x);
  return n;
}

static int subject_text(const sf_pkt *p, int li, char *out, size_t cap) {
  return x509_name_text(p, li, out, cap, 0);
}

static int issuer_text(const sf_pkt *p, int li, char *out, size_t cap) {
  return x509_name_text(p, li, out, cap, 1);
}

static int serial_text(const sf_pkt *p, int li, char *out, size_t cap) {
  X509 *x = x509_of(p, li);
  BIGNUM *bn;
  char *hex;
  int n = -1;
  if (!x) return -1;
  if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL))) {
    if ((hex = BN_bn2hex(bn))) {
      n = snprintf(out, cap, "%s", hex);
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  X509_free(x);
  return n;
}

/* A validity date as ISO 8601 UTC. */
static int time_text(const sf_pkt *p, int li, char *out, size_t cap, int after) {
  X509 *x = x509_of(p, li);
  struct tm tm;
  int n = -1;
  if (!x) return -1;
  if (ASN1_TIME_to_tm(after ? X509_get0_notAfter(x) : X509_get0_notBefore(x), &tm))
    n = snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  X509_free(x);
  return n;
}

static int not_before_text(const sf_pkt *p, int li, char *out, size_t cap) {
  return time_text(p, li, out, cap, 0);
}

static int not_after_text(const sf_pkt *p, int li, char *out, size_t cap) {
  return time_text(p, li, out, cap, 1);
}

static const sf_prop entry_props[] = {
  {"subject", subject_text, "the certificate's subject (RFC 2253), through OpenSSL"},
  {"issuer", issuer_text, "the certificate's issuer (RFC 2253)"},
  {"serial", serial_text, "the serial number in hexadecimal"},
  {"not_before", not_before_text, "start of validity, ISO 8601 UTC"},
  {"not_after", not_after_text, "end of validity, ISO 8601 UTC"},
  {NULL, NULL, NULL}
};

static const sf_wsfield entry_ws[] = {
  WS("tls.handshake.certificate_length", "certlen"),
  WS("tls.handshake.certificate", "cert"), {NULL, NULL, NULL, 0, 0, 0}
};

static sf_proto entry = {
  .name = "TLSCertificateEntry", .display = "TLS Certificate",
  .kind = "TlsCertificateEntry", .fields = entry_fields,
  .nfields = NFIELDS(entry_fields), .minlen = 3, .ws_fields = entry_ws,
  .props = entry_props, .record = 1, .hdr_len = entry_len, .next = tls_next,
  .fixup = entry_fixup, .var = var_from3,
};

/* ---- extensions --------------------------------------------------------------------- */

/* An extension: type, len, fixed fields, at most one variable field to
   its end; every length field holds the bytes from some offset to the
   end, so they all follow from the header's length. */
typedef struct tls_ext {
  sf_proto pr;            /* first: the registry holds &pr */
  uint16_t type;          /* what it parses; 0xffff: any (Unknown) */
  uint8_t kinds;          /* 0, or the hello kind (K_*) it is for */
  struct { int8_t fi; uint8_t from; } lens[3];  /* fi < 0 ends */
} tls_ext;

#define EXT_HEAD(t)                                            \
  UINTF("type", 0, 16, (t), 0, ext_types, 0),                  \
  UINTF("len", 16, 16, 0, SF_FF_AUTO, NULL, 0)
#define WS_EXT                                                 \
  WS("tls.handshake.extension.type", "type"),        \
  WS("tls.handshake.extension.len", "len")
#define WS_END {NULL, NULL, NULL, 0, 0, 0}

static size_t ext_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  if (n < 4) return 0;
  return fixed_len(4 + (size_t)rd16(h + 2), n);
}

static void ext_fixup(sf_pkt *p, int li) {
  const tls_ext *e = (const tls_ext *)sf_proto_get(p->layers[li].proto);
  size_t hl = p->layers[li].hlen;
  int i;
  for (i = 0; i < 3 && e->lens[i].fi >= 0; i++)
    if (hl >= e->lens[i].from) sf_lput(p, li, e->lens[i].fi, hl - e->lens[i].from);
}

#define EXT(id_, cls, disp, knd, t, k, flds, minl, varfn, wsf, ...)               \
  static tls_ext id_ = {                                                         \
    {.name = (cls), .display = (disp), .kind = (knd), .fields = (flds),          \
     .nfields = NFIELDS(flds), .minlen = (minl), .ws_fields = (wsf),             \
     .record = 1, .hdr_len = ext_len, .next = tls_next, .fixup = ext_fixup,      \
     .var = (varfn)},                                                            \
    (t), (k), {__VA_ARGS__}}
#define L(fi, from) {(fi), (from)}
#define LEND {-1, 0}

/* server_name: the first name of the list as fields (a list holds one
   host name: RFC 6066 allows no second of a type). */
enum { F_SNI_LISTLEN = 2, F_SNI_TYPE, F_SNI_NAMELEN, F_SNI_NAME };
static const sf_field sni_fields[] = {
  EXT_HEAD(0), UINTF("servernameslen", 32, 16, 0, SF_FF_AUTO, NULL, 0),
  UINTF("nametype", 48, 8, 0, 0, name_types, 0),
  UINTF("namelen", 56, 16, 0, SF_FF_AUTO, NULL, 0),
  BYTESF("servername", 72, 0, "text", NULL, 0),
};

static void sni_var(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  size_t n = hlen >= 9 ? rd16(h + 7) : 0;
  (void)fi;
  *off = 9;
  *len = hlen > 9 ? (n < hlen - 9 ? n : hlen - 9) : 0;
}

/* Names after the first (none, in practice) keep their bytes: what the
   list held past the first name before a change is what it holds past
   it now. */
static void sni_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off;
  size_t tail = 0;
  if (l->hlen < 9) {
    ext_fixup(p, li);
    return;
  }
  if (rd16(h + 4) >= 3 + (size_t)rd16(h + 7)) tail = rd16(h + 4) - 3 - rd16(h + 7);
  if (tail > l->hlen - 9) tail = 0;
  sf_lput(p, li, F_SNI_NAMELEN, l->hlen - 9 - tail);
  ext_fixup(p, li);
}

static const sf_wsfield sni_ws[] = {
  WS_EXT, WS("tls.handshake.extensions_server_name_list_len", "servernameslen"),
  WS("tls.handshake.extensions_server_name_type", "nametype"),
  WS("tls.handshake.extensions_server_name_len", "namelen"),
  WS("tls.handshake.extensions_server_name", "servername"), WS_END
};

static tls_ext sni = {
  {.name = "TLS_Ext_ServerName", .display = "TLS Extension - Server Name",
   .kind = "TlsExtServerName", .fields = sni_fields, .nfields = NFIELDS(sni_fields),
   .minlen = 9, .ws_fields = sni_ws, .record = 1, .hdr_len = ext_len,
   .next = tls_next, .fixup = sni_fixup, .var = sni_var},
  0, 0, {L(1, 4), L(F_SNI_LISTLEN, 6), LEND}
};

static const sf_field alpn_fields[] = {
  EXT_HEAD(16), UINTF("protocolslen", 32, 16, 0, SF_FF_AUTO, NULL, 0),
  BYTESF("protocols", 48, 0, "str8_list", NULL, 0),
};
static const sf_wsfield alpn_ws[] = {
  WS_EXT, WS("tls.handshake.extensions_alpn_len", "protocolslen"), WS_END
};
EXT(alpn, "TLS_Ext_ALPN", "TLS Extension - Application Layer Protocol Negotiation",
    "TlsExtAlpn", 16, 0, alpn_fields, 6, var_from6, alpn_ws, L(1, 4), L(2, 6), LEND);

static const sf_field sv_ch_fields[] = {
  EXT_HEAD(43), UINTF("versionslen", 32, 8, 0, SF_FF_AUTO, NULL, 0),
  BYTESF("versions", 40, 0, "u16_list", NULL, 0),
};
static const sf_wsfield sv_ch_ws[] = {
  WS_EXT, WS("tls.handshake.extensions.supported_versions_len", "versionslen"), WS_END
};
EXT(sv_ch, "TLS_Ext_SupportedVersion_CH",
    "TLS Extension - Supported Versions (for ClientHello)", "TlsExtSupportedVersionCh",
    43, K_CH, sv_ch_fields, 5, var_from5, sv_ch_ws, L(1, 4), L(2, 5), LEND);

static const sf_field sv_sh_fields[] = {
  EXT_HEAD(43), UINTF("version", 32, 16, 0x0304, SF_FF_HEX, versions, 0),
};
static const sf_wsfield sv_sh_ws[] = {
  WS_EXT, {"tls.handshake.extensions.supported_version", "version", NULL, 0, 0, 4}, WS_END
};
EXT(sv_sh, "TLS_Ext_SupportedVersion_SH",
    "TLS Extension - Supported Versions (for ServerHello)", "TlsExtSupportedVersionSh",
    43, K_SH, sv_sh_fields, 6, NULL, sv_sh_ws, L(1, 4), LEND);

static const sf_field ks_ch_fields[] = {
  EXT_HEAD(51), UINTF("client_shares_len", 32, 16, 0, SF_FF_AUTO, NULL, 0),
  BYTESF("client_shares", 48, 0, "tlv16_list", NULL, 0),
};
static const sf_wsfield ks_ch_ws[] = {
  WS_EXT, WS("tls.handshake.extensions_key_share_client_length", "client_shares_len"),
  WS_END
};
EXT(ks_ch, "TLS_Ext_KeyShare_CH", "TLS Extension - Key Share (for ClientHello)",
    "TlsExtKeyShareCh", 51, K_CH, ks_ch_fields, 6, var_from6, ks_ch_ws, L(1, 4),
    L(2, 6), LEND);

/* Scapy's server_share (a KeyShareEntry) as the fields it holds */
static const sf_field ks_sh_fields[] = {
  EXT_HEAD(51), UINTF("group", 32, 16, 29, 0, groups, 0),
  UINTF("kxlen", 48, 16, 0, SF_FF_AUTO, NULL, 0),
  BYTESF("key_exchange", 64, 0, NULL, NULL, 0),
};
static const sf_wsfield ks_sh_ws[] = {
  WS_EXT, WS("tls.handshake.extensions_key_share_group", "group"),
  WS("tls.handshake.extensions_key_share_key_exchange_length", "kxlen"),
  WS("tls.handshake.extensions_key_share_key_exchange", "key_exchange"), WS_END
};
EXT(ks_sh, "TLS_Ext_KeyShare_SH", "TLS Extension - Key Share (for ServerHello)",
    "TlsExtKeyShareSh", 51, K_SH, ks_sh_fields, 8, var_from8, ks_sh_ws, L(1, 4),
    L(3, 8), LEND);

static const sf_field ks_hrr_fields[] = {
  EXT_HEAD(51), UINTF("selected_group", 32, 16, 29, 0, groups, 0),
};
static const sf_wsfield ks_hrr_ws[] = {
  WS_EXT, WS("tls.handshake.extensions_key_share_selected_group", "selected_group"),
  WS_END
};
EXT(ks_hrr, "TLS_Ext_KeyShare_HRR", "TLS Extension - Key Share (for HelloRetryRequest)",
    "TlsExtKeyShareHrr", 51, K_SH, ks_hrr_fields, 6, NULL, ks_hrr_ws, L(1, 4), LEND);

static const sf_field sigalg_fields[] = {
  EXT_HEAD(13), UINTF("sig_algs_len", 32, 16, 0, SF_FF_AUTO, NULL, 0),
  BYTESF("sig_algs", 48, 0, "u16_list", NULL, 0),
};
static const sf_wsfield sigalg_ws[] = {
  WS_EXT, WS("tls.handshake.sig_hash_alg_len", "sig_algs_len"), WS_END
};
EXT(sigalg, "TLS_Ext_SignatureAlgorithms", "TLS Extension - Signature Algorithms",
    "TlsExtSignatureAlgorithms", 13, 0, sigalg_fields, 6, var_from6, sigalg_ws,
    L(1, 4), L(2, 6), LEND);

static const sf_field sigalg_cert_fields[] = {
  EXT_HEAD(50), UINTF("sig_algs_len", 32, 16, 0, SF_FF_AUTO, NULL, 0),
  BYTESF("sig_algs", 48, 0, "u16_list", NULL, 0),
};
EXT(sigalg_cert, "TLS_Ext_SignatureAlgorithmsCert",
    "TLS Extension - Signature Algorithms Cert", "TlsExtSignatureAlgorithmsCert", 50, 0,
    sigalg_cert_fields, 6, var_from6, sigalg_ws, L(1, 4), L(2, 6), LEND);

static const sf_field groups_fields[] = {
  EXT_HEAD(10), UINTF("groupslen", 32, 16, 0, SF_FF_AUTO, NULL, 0),
  BYTESF("groups", 48, 0, "u16_list", NULL, 0),
};
static const sf_wsfield groups_ws[] = {
  WS_EXT, WS("tls.handshake.extensions_supported_groups_length", "groupslen"),
  WS_END
};
EXT(sgroups, "TLS_Ext_SupportedGroups", "TLS Extension - Supported Groups",
    "TlsExtSupportedGroups", 10, 0, groups_fields, 6, var_from6, groups_ws, L(1, 4),
    L(2, 6), LEND);

static const sf_field ecpf_fields[] = {
  EXT_HEAD(11), UINTF("ecpllen", 32, 8, 0, SF_FF_AUTO, NULL, 0),
  BYTESF("ecpl", 40, 0, "u8_list", NULL, 0),
};
static const sf_wsfield ecpf_ws[] = {
  WS_EXT, WS("tls.handshake.extensions_ec_point_formats_length", "ecpllen"), WS_END
};
EXT(ecpf, "TLS_Ext_SupportedPointFormat", "TLS Extension - Supported Point Format",
    "TlsExtSupportedPointFormat", 11, 0, ecpf_fields, 5, var_from5, ecpf_ws, L(1, 4),
    L(2, 5), LEND);

static const sf_field psk_fields[] = {
  EXT_HEAD(45), UINTF("kxmodeslen", 32, 8, 0, SF_FF_AUTO, NULL, 0),
  BYTESF("kxmodes", 40, 0, "u8_list", NULL, 0),
};
static const sf_wsfield psk_ws[] = {
  WS_EXT, WS("tls.extension.psk_ke_modes_length", "kxmodeslen"), WS_END
};
EXT(pskm, "TLS_Ext_PSKKeyExchangeModes", "TLS Extension - PSK Key Exchange Modes",
    "TlsExtPskKeyExchangeModes", 45, 0, psk_fields, 5, var_from5, psk_ws, L(1, 4),
    L(2, 5), LEND);

static const sf_field reneg_fields[] = {
  EXT_HEAD(65281), UINTF("reneg_conn_len", 32, 8, 0, SF_FF_AUTO, NULL, 0),
  BYTESF("renegotiated_connection", 40, 0, NULL, NULL, 0),
};
static const sf_wsfield reneg_ws[] = {
  WS_EXT, WS("tls.handshake.extensions_reneg_info_len", "reneg_conn_len"), WS_END
};
EXT(reneg, "TLS_Ext_RenegotiationInfo", "TLS Extension - Renegotiation Indication",
    "TlsExtRenegotiationInfo", 65281, 0, reneg_fields, 5, var_from5, reneg_ws, L(1, 4),
    L(2, 5), LEND);

static const sf_field ticket_fields[] = {EXT_HEAD(35), BYTESF("ticket", 32, 0, NULL, NULL, 0)};
static const sf_wsfield plain_ws[] = {WS_EXT, WS_END};
EXT(ticket, "TLS_Ext_SessionTicket", "TLS Extension - Session Ticket",
    "TlsExtSessionTicket", 35, 0, ticket_fields, 4, var_from4, plain_ws, L(1, 4), LEND);

static const sf_field padding_fields[] = {EXT_HEAD(21), BYTESF("padding", 32, 0, NULL, NULL, 0)};
static const sf_wsfield padding_ws[] = {
  WS_EXT, WS("tls.handshake.extensions_padding_data", "padding"), WS_END
};
EXT(padding, "TLS_Ext_Padding", "TLS Extension - Padding", "TlsExtPadding", 21, 0,
    padding_fields, 4, var_from4, padding_ws, L(1, 4), LEND);

static const sf_field ems_fields[] = {EXT_HEAD(23)};
EXT(ems, "TLS_Ext_ExtendedMasterSecret", "TLS Extension - Extended Master Secret",
    "TlsExtExtendedMasterSecret", 23, 0, ems_fields, 4, NULL, plain_ws, L(1, 4), LEND);

static const sf_field etm_fields[] = {EXT_HEAD(22)};
EXT(etm, "TLS_Ext_EncryptThenMAC", "TLS Extension - Encrypt-then-MAC",
    "TlsExtEncryptThenMac", 22, 0, etm_fields, 4, NULL, plain_ws, L(1, 4), LEND);

static const sf_field early_fields[] = {EXT_HEAD(42)};
EXT(early, "TLS_Ext_EarlyDataIndication", "TLS Extension - Early Data",
    "TlsExtEarlyDataIndication", 42, 0, early_fields, 4, NULL, plain_ws, L(1, 4), LEND);

static const sf_field rsl_fields[] = {
  EXT_HEAD(28), UINTF("record_size_limit", 32, 16, 0, 0, NULL, 0),
};
static const sf_wsfield rsl_ws[] = {WS_EXT, WS("tls.record_size_limit", "record_size_limit"), WS_END};
EXT(rsl, "TLS_Ext_RecordSizeLimit", "TLS Extension - Record Size Limit",
    "TlsExtRecordSizeLimit", 28, 0, rsl_fields, 6, NULL, rsl_ws, L(1, 4), LEND);

static const sf_field cookie_fields[] = {
  EXT_HEAD(44), UINTF("cookielen", 32, 16, 0, SF_FF_AUTO, NULL, 0),
  BYTESF("cookie", 48, 0, NULL, NULL, 0),
};
static const sf_wsfield cookie_ws[] = {
  WS_EXT, WS("tls.handshake.extensions.cookie_len", "cookielen"),
  WS("tls.handshake.extensions.cookie", "cookie"), WS_END
};
EXT(cookie, "TLS_Ext_Cookie", "TLS Extension - Cookie", "TlsExtCookie", 44, 0,
    cookie_fields, 6, var_from6, cookie_ws, L(1, 4), L(2, 6), LEND);

static const sf_field csr_fields[] = {
  EXT_HEAD(5), UINTF("stype", 32, 8, 1, 0, status_types, 0),
  BYTESF("req", 40, 0, NULL, NULL, 0),
};
static const sf_wsfield csr_ws[] = {
  WS_EXT, WS("tls.handshake.extensions_status_request_type", "stype"), WS_END
};
EXT(csr, "TLS_Ext_CSR", "TLS Extension - Certificate Status Request", "TlsExtCsr", 5,
    0, csr_fields, 5, var_from5, csr_ws, L(1, 4), LEND);

static const sf_field unknown_fields[] = {EXT_HEAD(0xffff), BYTESF("val", 32, 0, NULL, NULL, 0)};
static const sf_wsfield unknown_ws[] = {
  WS_EXT, WS("tls.handshake.extension.data", "val"), WS_END
};
EXT(unknown, "TLS_Ext_Unknown", "TLS Extension - Scapy Unknown", "TlsExtUnknown", 0xffff,
    0, unknown_fields, 4, var_from4, unknown_ws, L(1, 4), LEND);

static tls_ext *const exts[] = {
  &sni, &alpn, &sv_ch, &sv_sh, &ks_ch, &ks_sh, &ks_hrr, &sigalg, &sigalg_cert,
  &sgroups, &ecpf, &pskm, &reneg, &ticket, &padding, &ems, &etm, &early, &rsl,
  &cookie, &csr, &unknown,
};

/* ---- ClientHello and ServerHello: the layout engine's ------------------------------ */

/* A hello's lists are sized by the length field before each (Scapy's
   FieldLenField + length_from); extlen is there when the message has
   bytes after the compression methods (or has no length yet: built). */
typedef struct hello_host {
  int8_t len_from[SF_MAX_FIELDS];   /* -1: not sized by another field */
  int msglen, extlen;
} hello_host;

static int hello_number(void *host, const sf_cview *v, int fi, int what,
                        int64_t *out, char *bad, size_t badlen) {
  const hello_host *hh = host;
  sf_val x;
  (void)what;
  (void)bad;
  (void)badlen;
  if (hh->len_from[fi] < 0 || sf_cview_get(v, hh->len_from[fi], &x) != SF_OK)
    return SF_E_VALUE;
  *out = (int64_t)x.u;
  return SF_OK;
}

static int hello_cond(void *host, const sf_cview *v, int fi, int *holds) {
  const hello_host *hh = host;
  const sf_span *prev = &v->spans[fi - 1];
  sf_val len;
  size_t pos;
  if (fi != hh->extlen || sf_cview_get(v, hh->msglen, &len) != SF_OK) return SF_E_VALUE;
  pos = prev->bits == SF_ABSENT ? prev->bitoff / 8u : (prev->bitoff + prev->bits) / 8u;
  /* no length yet (built): there when its bytes are (extensions follow) */
  *holds = len.u == 0 ? v->rebuilding || pos + 2 <= v->n : 4 + len.u > pos;
  return SF_OK;
}

static const sf_custom_ops hello_ops = {hello_number, hello_cond, NULL, NULL, NULL, NULL, NULL};

#define CU(n, bits, d, en, fl) {(n), SF_T_UINT, (fl), 0, 0, 0, (bits), (d), NULL, (en), NULL, NULL}
#define CB(n, codec) {(n), SF_T_BYTES, 0, 0, 0, 0, 0, 0, NULL, NULL, (codec), NULL}
#define C_FIXED {SF_CK_FIXED, 0, -1, -1, -1, 0, 0, 0, NULL, 0}
#define C_LEN_OF(t) {SF_CK_FIXED, 0, (t), -1, -1, 0, 0, 0, NULL, 0}
#define C_SIZED(d, nd) {SF_CK_VAR, SF_CH_LENGTH, -1, -1, -1, 0, 0, 0, (const uint8_t *)(d), (nd)}
#define C_FIXLEN(b) {SF_CK_FIXLEN, 0, -1, -1, -1, (b), 0, 0, NULL, 0}
#define C_COND {SF_CK_FIXED, SF_CH_COND, -1, -1, -1, 0, 0, 0, NULL, 0}

/* Scapy's default cipher suites */
static const uint8_t default_ciphers[] = {
  0xc0, 0x2b, 0xc0, 0x23, 0xc0, 0x2f, 0xc0, 0x27, 0x00, 0x9e, 0x00, 0x67, 0x00, 0x9c,
  0x00, 0x3c, 0xc0, 0x09, 0xc0, 0x13, 0x00, 0x33, 0x00, 0x2f, 0x00, 0x0a
};
static const uint8_t null_comp[] = {0};

enum { CH_VERSION = 2, CH_SIDLEN = 5, CH_SID, CH_CIPHERSLEN, CH_CIPHERS, CH_COMPLEN,
       CH_COMP, CH_EXTLEN };
static const sf_field ch_fields[] = {
  CU("msgtype", 8, 1, hs_types, 0), CU("msglen", 24, 0, NULL, 0),
  CU("version", 16, 0x0303, versions, SF_FF_HEX), CU("gmt_unix_time", 32, 0, NULL, 0),
  CB("random_bytes", NULL), CU("sidlen", 8, 0, NULL, 0), CB("sid", NULL),
  CU("cipherslen", 16, 0, NULL, 0), CB("ciphers", "u16_list"),
  CU("complen", 8, 0, NULL, 0), CB("comp", "u8_list"), CU("extlen", 16, 0, NULL, 0),
};
static const sf_cfield ch_cf[] = {
  C_FIXED, C_FIXED, C_FIXED, C_FIXED, C_FIXLEN(28), C_LEN_OF(CH_SID), C_SIZED(NULL, 0),
  C_LEN_OF(CH_CIPHERS), C_SIZED(default_ciphers, sizeof default_ciphers),
  C_LEN_OF(CH_COMP), C_SIZED(null_comp, 1), C_COND,
};
static hello_host ch_host = {
  .len_from = {-1, -1, -1, -1, -1, -1, CH_SIDLEN, -1, CH_CIPHERSLEN, -1, CH_COMPLEN, -1},
  .msglen = 1, .extlen = CH_EXTLEN,
};

enum { SH_SID = 6, SH_CIPHER, SH_COMP, SH_EXTLEN };
static const sf_field sh_fields[] = {
  CU("msgtype", 8, 2, hs_types, 0), CU("msglen", 24, 0, NULL, 0),
  CU("version", 16, 0x0303, versions, SF_FF_HEX), CU("gmt_unix_time", 32, 0, NULL, 0),
  CB("random_bytes", NULL), CU("sidlen", 8, 0, NULL, 0), CB("sid", NULL),
  CU("cipher", 16, 0, cipher_suites, SF_FF_HEX), CU("comp", 8, 0, comp_methods, 0),
  CU("extlen", 16, 0, NULL, 0),
};
static const sf_cfield sh_cf[] = {
  C_FIXED, C_FIXED, C_FIXED, C_FIXED, C_FIXLEN(28), C_LEN_OF(SH_SID), C_SIZED(NULL, 0),
  C_FIXED, C_FIXED, C_COND,
};
static hello_host sh_host = {
  .len_from = {-1, -1, -1, -1, -1, -1, 5, -1, -1, -1},
  .msglen = 1, .extlen = SH_EXTLEN,
};

/* A built hello has extlen when extensions follow it and not otherwise,
   as Scapy builds one (ext=[] writes no length); extlen is its header's
   last field, so it comes and goes at the header's end. */
static void extlen_as_built(sf_pkt *p, int li, int lf) {
  const sf_layer *l = &p->layers[li];
  int next, present;
  size_t end = l->off + l->hlen;
  if (!(l->flags & SF_L_BUILT) || sf_isset(p, li, lf)) return;
  present = sf_field_present(p, li, lf);
  if (members_end(p, li, is_part, &next) > end) {
    if (!present && sf_pkt_splice(p, li, end, 0, NULL, 2) == SF_OK)
      sf_lput(p, li, F_MSGLEN, p->layers[li].hlen - 4 + 1);  /* extlen's there */
  } else if (present && l->hlen >= 2) {
    sf_pkt_splice(p, li, end - 2, 2, NULL, 0);
    sf_lput(p, li, F_MSGLEN, p->layers[li].hlen - 4);
  }
}

/* ---- the hellos' layout by hand -------------------------------------------------- */

/* The engine lays a hello out by asking this file through callbacks,
   field by field; parsing and reading take this shortcut instead, which
   gives the same spans (checked against the engine's when built with
   SF_CHECK_FAST_PATHS: the sanitizer and fuzzing builds).  Setting a
   field and built layers still go the engine's way. */
enum { S_FIX, S_BYTES, S_SIZED, S_EXTLEN };
typedef struct step {
  uint8_t kind;
  uint16_t size;          /* S_FIX: bits; S_BYTES: bytes */
  int8_t from;            /* S_SIZED: the length field */
} step;

static const step ch_steps[] = {
  {S_FIX, 8, -1}, {S_FIX, 24, -1}, {S_FIX, 16, -1}, {S_FIX, 32, -1}, {S_BYTES, 28, -1},
  {S_FIX, 8, -1}, {S_SIZED, 0, CH_SIDLEN}, {S_FIX, 16, -1}, {S_SIZED, 0, CH_CIPHERSLEN},
  {S_FIX, 8, -1}, {S_SIZED, 0, CH_COMPLEN}, {S_EXTLEN, 16, -1},
};
static const step sh_steps[] = {
  {S_FIX, 8, -1}, {S_FIX, 24, -1}, {S_FIX, 16, -1}, {S_FIX, 32, -1}, {S_BYTES, 28, -1},
  {S_FIX, 8, -1}, {S_SIZED, 0, 5}, {S_FIX, 16, -1}, {S_FIX, 8, -1}, {S_EXTLEN, 16, -1},
};

static size_t lay_steps(const step *st, int nst, const uint8_t *h, size_t n, sf_span *sp) {
  size_t bit = 0, len, msglen = 0;
  int i;
  for (i = 0; i < nst; i++) {
    sp[i].bitoff = 0;
    sp[i].bits = SF_ABSENT;
  }
  for (i = 0; i < nst; i++) {
    switch (st[i].kind) {
      case S_FIX: len = st[i].size; break;
      case S_BYTES: len = 8u * st[i].size; break;
      case S_SIZED: len = 8 * (size_t)sf_getbits(h, sp[st[i].from].bitoff, sp[st[i].from].bits); break;
      default:  /* extlen: there when the message has bytes left (with no
                   length yet, when its bytes are there: hello_cond) */
        if (msglen != 0 ? 4 + msglen <= bit / 8 : bit + st[i].size > n * 8) {
          sp[i].bitoff = (uint32_t)bit;
          continue;
        }
        len = st[i].size;
    }
    if (bit + len > n * 8) return 0;  /* cut short */
    sp[i].bitoff = (uint32_t)bit;
    sp[i].bits = (uint32_t)len;
    bit += len;
    if (i == F_MSGLEN) msglen = rd24(h + 1);
  }
  return (bit + 7) / 8;
}

typedef size_t (*layout_fn)(const sf_proto *, const uint8_t *, size_t, sf_span *, int);
static layout_fn engine_layout[2];  /* the engine's, for ClientHello and ServerHello */

static size_t hello_layout(const sf_proto *pr, const uint8_t *h, size_t n, sf_span *sp,
                           int build) {
  int sh = pr->id == id_sh;
  size_t len;
  if (build) return engine_layout[sh](pr, h, n, sp, build);
  len = sh ? lay_steps(sh_steps, NFIELDS(sh_steps), h, n, sp)
           : lay_steps(ch_steps, NFIELDS(ch_steps), h, n, sp);
#ifdef SF_CHECK_FAST_PATHS
  {
    sf_span e[SF_MAX_FIELDS];
    if (engine_layout[sh](pr, h, n, e, 0) != len ||
        memcmp(e, sp, pr->nfields * sizeof *sp) != 0)
      abort();
  }
#endif
  return len;
}

static const sf_dyn hello_dyn = {NULL, hello_layout, NULL, NULL, NULL, NULL};

static void ch_fixup(sf_pkt *p, int li) {
  extlen_as_built(p, li, CH_EXTLEN);
  parts_fixup(p, li, CH_EXTLEN);
}

static void sh_fixup(sf_pkt *p, int li) {
  extlen_as_built(p, li, SH_EXTLEN);
  parts_fixup(p, li, SH_EXTLEN);
}

static const sf_wsfield ch_ws[] = {
  WS("tls.handshake.type", "msgtype"),
  WS("tls.handshake.length", "msglen"),
  {"tls.handshake.version", "version", NULL, 0, 0, 4},
  WS("tls.handshake.random_bytes", "random_bytes"),
  WS("tls.handshake.session_id_length", "sidlen"),
  WS("tls.handshake.session_id", "sid"),
  WS("tls.handshake.cipher_suites_length", "cipherslen"),
  WS("tls.handshake.comp_methods_length", "complen"),
  WS("tls.handshake.extensions_length", "extlen"), {NULL, NULL, NULL, 0, 0, 0}
};

static const sf_wsfield sh_ws[] = {
  WS("tls.handshake.type", "msgtype"),
  WS("tls.handshake.length", "msglen"),
  {"tls.handshake.version", "version", NULL, 0, 0, 4},
  WS("tls.handshake.random_bytes", "random_bytes"),
  WS("tls.handshake.session_id_length", "sidlen"),
  WS("tls.handshake.session_id", "sid"),
  {"tls.handshake.ciphersuite", "cipher", NULL, 0, 0, 4},
  WS("tls.handshake.comp_method", "comp"),
  WS("tls.handshake.extensions_length", "extlen"), {NULL, NULL, NULL, 0, 0, 0}
};

/* ---- fingerprints --------------------------------------------------------------------- */

/* What the fingerprints read of a hello and its extensions. */
#define MAX_LIST 512
typedef struct hello_info {
  unsigned version;
  uint16_t ciphers[MAX_LIST], exts[MAX_LIST], groups[MAX_LIST], sigalgs[MAX_LIST],
           versions[MAX_LIST];
  uint8_t ecpf[MAX_LIST];
  size_t nciphers, nexts, ngroups, nsigalgs, nversions, necpf;
  const uint8_t *alpn;   /* the first ALPN name */
  size_t alpn_len;
  int sni, quic;
} hello_info;

/* n big-endian 16-bit values of d (len bytes) into out; GREASE left out */
static size_t u16s(const uint8_t *d, size_t len, uint16_t *out) {
  size_t i, n = 0;
  for (i = 0; i + 1 < len && n < MAX_LIST; i += 2)
    if (!is_grease(rd16(d + i))) out[n++] = rd16(d + i);
  return n;
}

/* The list after a length prefix of lb bytes in an extension's data. */
static const uint8_t *prefixed(const uint8_t *d, size_t len, unsigned lb, size_t *n) {
  size_t k;
  if (len < lb) return *n = 0, d;
  k = lb == 1 ? d[0] : rd16(d);
  *n = k <= len - lb ? k : len - lb;
  return d + lb;
}

static void read_ext(hello_info *hi, unsigned t, const uint8_t *d, size_t len) {
  size_t n, i;
  const uint8_t *l;
  switch (t) {
    case 0: hi->sni = 1; break;
    case 10: l = prefixed(d, len, 2, &n); hi->ngroups = u16s(l, n, hi->groups); break;
    case 11:
      l = prefixed(d, len, 1, &n);
      for (i = 0; i < n && hi->necpf < MAX_LIST; i++) hi->ecpf[hi->necpf++] = l[i];
      break;
    case 13: l = prefixed(d, len, 2, &n); hi->nsigalgs = u16s(l, n, hi->sigalgs); break;
    case 16:
      l = prefixed(d, len, 2, &n);
      if (n >= 1 && l[0] >= 1 && l[0] < n) {
        hi->alpn = l + 1;
        hi->alpn_len = l[0];
      }
      break;
    case 43: l = prefixed(d, len, 1, &n); hi->nversions = u16s(l, n, hi->versions); break;
    default: break;
  }
}

/* The extensions after hello li, as its parts. */
static void read_exts(const sf_pkt *p, int li, hello_info *hi) {
  int j;
  for (j = li + 1; j < p->nlayers && role_at(p, j) == R_EXT; j++) {
    const sf_layer *l = &p->layers[j];
    const uint8_t *h = p->data + l->off;
    unsigned t = rd16(h);
    if (is_grease(t)) continue;
    if (hi->nexts < MAX_LIST) hi->exts[hi->nexts++] = (uint16_t)t;
    read_ext(hi, t, h + 4, l->hlen - 4);
  }
}

/* A field of hello li (its layout asked once per field). */
static int hello_field(const sf_pkt *p, int li, int fi, sf_val *v) {
  return sf_field_get(p, li, fi, v) == SF_OK;
}

/* Over a datagram transport (a QUIC Initial's CRYPTO data), not TCP. */
static int over_datagrams(const sf_pkt *p, int li) {
  int j;
  for (j = li - 1; j >= 0; j--) {
    const sf_facts *f = sf_proto_get(p->layers[j].proto)->facts;
    if (f && f->role == SF_ROLE_STREAM) return 0;
    if (f && f->role == SF_ROLE_TRANSPORT) return 1;
  }
  return 0;
}

static void no_info(hello_info *hi) {
  hi->version = 0;
  hi->nciphers = hi->nexts = hi->ngroups = hi->nsigalgs = hi->nversions = hi->necpf = 0;
  hi->alpn = NULL;
  hi->alpn_len = 0;
  hi->sni = hi->quic = 0;
}

static int client_info(const sf_pkt *p, int li, hello_info *hi) {
  sf_val v;
  no_info(hi);
  if (!hello_field(p, li, CH_VERSION, &v)) return 0;
  hi->version = (unsigned)v.u;
  if (!hello_field(p, li, CH_CIPHERS, &v)) return 0;
  hi->nciphers = u16s(v.p, v.n, hi->ciphers);
  hi->quic = over_datagrams(p, li);
  read_exts(p, li, hi);
  return 1;
}

static void put_list(text *t, const uint16_t *v, size_t n, const char *fmt, const char *sep) {
  size_t i;
  for (i = 0; i < n; i++) {
    if (i) put(t, sep, strlen(sep));
    putf(t, fmt, v[i]);
  }
}

/* JA3: version,ciphers,extensions,groups,point formats, in decimal */
static int ja3_string(const void *ud, text *t) {
  const hello_info *hi = ud;
  size_t i;
  putf(t, "%u,", hi->version);
  put_list(t, hi->ciphers, hi->nciphers, "%u", "-");
  put(t, ",", 1);
  put_list(t, hi->exts, hi->nexts, "%u", "-");
  put(t, ",", 1);
  put_list(t, hi->groups, hi->ngroups, "%u", "-");
  put(t, ",", 1);
  for (i = 0; i < hi->necpf; i++) {
    if (i) put(t, "-", 1);
    putf(t, "%u", hi->ecpf[i]);
  }
  return (int)t->len;
}

/* The text of f (with room for any length) hashed into out. */
static int hashed(int (*f)(const void *, text *), const hello_info *hi,
                  const EVP_MD *md, size_t digits, char *out, size_t cap) {
  text o = {out, cap, 0};
  return put_hashed(&o, f, hi, md, digits);
}

static int ja3_text(const sf_pkt *p, int li, char *out, size_t cap) {
  hello_info hi;
  text t = {out, cap, 0};
  if (!client_info(p, li, &hi)) return -1;
  return ja3_string(&hi, &t);
}

static int ja3_hash_text(const sf_pkt *p, int li, char *out, size_t cap) {
  hello_info hi;
  if (!client_info(p, li, &hi)) return -1;
  return hashed(ja3_string, &hi, EVP_md5(), 32, out, cap);
}

/* ---- JA4 (FoxIO): t13d1516h2_<ciphers>_<extensions and signatures> ---- */

static int cmp_u16(const void *a, const void *b) {
  return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static const char *ja4_version(const hello_info *hi) {
  unsigned v = hi->version;
  size_t i;
  for (i = 0; i < hi->nversions; i++)  /* the highest offered */
    if (i == 0 || hi->versions[i] > v) v = hi->versions[i];
  switch (v) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002: return "s2";
    case 0xfeff: return "d1";
    case 0xfefd: return "d2";
    case 0xfefc: return "d3";
    default: return "00";
  }
}

static int alnum(int c) {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* the first and last characters of the first ALPN name ("00": none; their
   hex digits when either is not alphanumeric) */
static void ja4_alpn(const hello_info *hi, text *t) {
  static const char hex[] = "0123456789abcdef";
  unsigned a, z;
  char b[2];
  if (!hi->alpn_len) {
    put(t, "00", 2);
    return;
  }
  a = hi->alpn[0];
  z = hi->alpn[hi->alpn_len - 1];
  if (alnum((int)a) && alnum((int)z)) {
    b[0] = (char)a;
    b[1] = (char)z;
  } else {
    b[0] = hex[a >> 4];
    b[1] = hex[z & 15];
  }
  put(t, b, 2);
}

/* part a: transport, version, SNI, counts, ALPN */
static void ja4_a(const hello_info *hi, text *t) {
  put(t, hi->quic ? "q" : "t", 1);
  put(t, ja4_version(hi), 2);
  put(t, hi->sni ? "d" : "i", 1);
  putf(t, "%02u", (unsigned)(hi->nciphers > 99 ? 99 : hi->nciphers));
  putf(t, "%02u", (unsigned)(hi->nexts > 99 ? 99 : hi->nexts));
  ja4_alpn(hi, t);
}

/* part b's input: the cipher suites sorted, 4 hex digits each */
static int ja4_b_raw(const void *ud, text *t) {
  const hello_info *hi = ud;
  uint16_t s[MAX_LIST];
  memcpy(s, hi->ciphers, hi->nciphers * sizeof *s);
  qsort(s, hi->nciphers, sizeof *s, cmp_u16);
  put_list(t, s, hi->nciphers, "%04x", ",");
  return (int)t->len;
}

/* part c's input: the extensions but SNI and ALPN sorted, then the
   signature algorithms as sent */
static int ja4_c_raw(const void *ud, text *t) {
  const hello_info *hi = ud;
  uint16_t s[MAX_LIST];
  size_t i, n = 0;
  for (i = 0; i < hi->nexts; i++)
    if (hi->exts[i] != 0 && hi->exts[i] != 16) s[n++] = hi->exts[i];
  qsort(s, n, sizeof *s, cmp_u16);
  put_list(t, s, n, "%04x", ",");
  if (hi->nsigalgs) {
    put(t, "_", 1);
    put_list(t, hi->sigalgs, hi->nsigalgs, "%04x", ",");
  }
  return (int)t->len;
}

/* a hashed part: 12 hex digits of SHA-256, or zeros for an empty list */
static void ja4_hashed(int (*raw)(const void *, text *), const hello_info *hi,
                       size_t count, text *t) {
  char h[16];
  if (!count || hashed(raw, hi, EVP_sha256(), 12, h, sizeof h) != 12) {
    put(t, "000000000000", 12);
    return;
  }
  put(t, h, 12);
}

static int ja4_text(const sf_pkt *p, int li, char *out, size_t cap) {
  hello_info hi;
  text t = {out, cap, 0};
  if (!client_info(p, li, &hi)) return -1;
  ja4_a(&hi, &t);
  put(&t, "_", 1);
  ja4_hashed(ja4_b_raw, &hi, hi.nciphers, &t);
  put(&t, "_", 1);
  ja4_hashed(ja4_c_raw, &hi, hi.nexts, &t);
  return (int)t.len;
}

/* JA4_r: the same with the lists in the clear */
static int ja4_r_text(const sf_pkt *p, int li, char *out, size_t cap) {
  hello_info hi;
  text t = {out, cap, 0};
  if (!client_info(p, li, &hi)) return -1;
  ja4_a(&hi, &t);
  put(&t, "_", 1);
  ja4_b_raw(&hi, &t);
  put(&t, "_", 1);
  ja4_c_raw(&hi, &t);
  return (int)t.len;
}

/* JA3S: version,cipher,extensions of a ServerHello */
static int server_info(const sf_pkt *p, int li, hello_info *hi) {
  sf_val v;
  no_info(hi);
  if (!hello_field(p, li, CH_VERSION, &v)) return 0;
  hi->version = (unsigned)v.u;
  if (!hello_field(p, li, SH_CIPHER, &v)) return 0;
  hi->ciphers[hi->nciphers++] = (uint16_t)v.u;
  read_exts(p, li, hi);
  return 1;
}

static int ja3s_string(const void *ud, text *t) {
  const hello_info *hi = ud;
  putf(t, "%u,", hi->version);
  putf(t, "%u,", hi->ciphers[0]);
  put_list(t, hi->exts, hi->nexts, "%u", "-");
  return (int)t->len;
}

static int ja3s_text(const sf_pkt *p, int li, char *out, size_t cap) {
  hello_info hi;
  text t = {out, cap, 0};
  if (!server_info(p, li, &hi)) return -1;
  return ja3s_string(&hi, &t);
}

static int ja3s_hash_text(const sf_pkt *p, int li, char *out, size_t cap) {
  hello_info hi;
  if (!server_info(p, li, &hi)) return -1;
  return hashed(ja3s_string, &hi, EVP_md5(), 32, out, cap);
}

static const sf_prop ch_props[] = {
  {"ja3", ja3_text, "JA3 string: version,ciphers,extensions,groups,point formats (GREASE left out)"},
  {"ja3_hash", ja3_hash_text, "MD5 of the JA3 string, in hexadecimal"},
  {"ja4", ja4_text, "JA4 fingerprint (FoxIO): t13d1516h2_<ciphers>_<extensions>"},
  {"ja4_r", ja4_r_text, "JA4 with its lists in the clear (JA4_r)"},
  {NULL, NULL, NULL}
};

static const sf_prop sh_props[] = {
  {"ja3s", ja3s_text, "JA3S string: version,cipher,extensions"},
  {"ja3s_hash", ja3s_hash_text, "MD5 of the JA3S string, in hexadecimal"},
  {NULL, NULL, NULL}
};

/* ---- registration -------------------------------------------------------------------- */

static void note(int id, int r, int kind) {
  if (id < 0) return;
  role[id] = (uint8_t)r;
  kind_of[id] = (uint8_t)kind;
}

/* A hello through the layout engine, described as a built-in. */
static int define_hello(const char *name, const char *display, const char *kind,
                        const sf_field *f, const sf_cfield *cf, int n,
                        hello_host *host, const sf_wsfield *ws, const sf_prop *props,
                        void (*fixup)(sf_pkt *, int)) {
  sf_cdef d;
  sf_proto like;
  sf_custom *c;
  char err[160];
  int id;
  memset(&d, 0, sizeof d);
  d.name = name;
  d.display = display;
  d.nfields = n;
  d.fields = f;
  d.cf = cf;
  d.ops = &hello_ops;
  d.host = host;
  if (!(c = sf_custom_new(&d, err, sizeof err))) return -1;
  engine_layout[f == sh_fields] = sf_custom_proto(c)->dyn->layout;
  memset(&like, 0, sizeof like);
  like.dyn = &hello_dyn;
  like.kind = kind;
  like.ws_fields = ws;
  like.props = props;
  like.scapy = &content_scapy;
  like.next = tls_next;
  like.fixup = fixup;
  sf_custom_describe(c, &like);
  if ((id = sf_custom_register(c)) < 0) sf_custom_free(c);
  return id;
}

static int reg(sf_proto *pr, int r, int kind) {
  int id;
  if (r == R_RECORD) pr->scapy = &record_scapy;
  else if (!is_part(r)) pr->scapy = &content_scapy;
  id = sf_register(pr);
  note(id, r, kind);
  return id;
}

static void register_messages(void) {
  static tls_msg *const simple[] = {&shd, &ske, &cke, &cv, &fin, &nst};
  size_t i;
  id_generic = reg(&generic.pr, R_MSG, 0);
  for (i = 0; i < 256; i++) id_msg[i] = -1;
  for (i = 0; i < sizeof simple / sizeof *simple; i++)
    id_msg[simple[i]->type] = reg(&simple[i]->pr, R_MSG, 0);
  id_msg[8] = id_ee = reg(&ee, R_HELLO, K_EE);
  id_msg[11] = id_cert = reg(&cert, R_CERTS, 0);
  id_entry = reg(&entry, R_CERT, 0);
  id_msg[1] = id_ch = define_hello("TLSClientHello", "TLS Handshake - Client Hello",
                                   "TlsClientHello", ch_fields, ch_cf, NFIELDS(ch_fields),
                                   &ch_host, ch_ws, ch_props, ch_fixup);
  id_msg[2] = id_sh = define_hello("TLSServerHello", "TLS Handshake - Server Hello",
                                   "TlsServerHello", sh_fields, sh_cf, NFIELDS(sh_fields),
                                   &sh_host, sh_ws, sh_props, sh_fixup);
  note(id_ch, R_HELLO, K_CH);
  note(id_sh, R_HELLO, K_SH);
}

static void register_extensions(void) {
  size_t i;
  for (i = 0; i < 64; i++) ext_small[i] = -1;
  for (i = 0; i < sizeof exts / sizeof *exts; i++) {
    int id = reg(&exts[i]->pr, R_EXT, 0);
    unsigned t = exts[i]->type;
    if (id < 0) continue;
    if (exts[i]->kinds == 0 && t < 64) ext_small[t] = id;
  }
  id_reneg = reneg.pr.id;
  id_unknown = unknown.pr.id;
  id_sv_ch = sv_ch.pr.id;
  id_sv_sh = sv_sh.pr.id;
  id_ks_ch = ks_ch.pr.id;
  id_ks_sh = ks_sh.pr.id;
  id_ks_hrr = ks_hrr.pr.id;
}

SF_PROTO_FILE(tls) {
  int tcp = sf_proto_find("TCP");
  id_record = reg(&record, R_RECORD, 0);
  id_ccs = reg(&ccs, R_CONTENT, 0);
  id_alert = reg(&alert, R_CONTENT, 0);
  id_app = reg(&app, R_CONTENT, 0);
  id_enc = reg(&enc, R_CONTENT, 0);
  register_messages();
  register_extensions();
  if (tcp >= 0 && id_record >= 0) sf_heur_add(tcp, record_heur, NULL);
}
