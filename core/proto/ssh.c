/*
 * ssh.c -- the Secure Shell transport (RFC 4253): the version exchange,
 * binary packets and the key exchange messages sent in the clear
 * (KEXINIT with its name-lists, the (EC)DH init and reply, NEWKEYS), and
 * the HASSH fingerprints (Salesforce's hassh and hasshServer, MD5
 * through OpenSSL) that Wireshark computes as ssh.kex.hassh and
 * ssh.kex.hasshserver.
 *
 * A TCP segment may hold several binary packets; the layer index is a
 * chain, as TLS's records are: SSH (packet_length, padding_length,
 * message_code) / the message (SSHKexInit, ...) / SSHPadding / SSH / ...
 * Each layer's `next` works out where it stands from the packet header
 * before it.  After NEWKEYS the packets are encrypted: what follows is
 * SSHEncrypted, its bytes as they are.
 *
 * Detection: TCP port 22 when the bytes start a version line ("SSH-") or
 * look like a binary packet sent in the clear (RFC 4253 section 6: a
 * length that with its own four bytes is a multiple of eight, at least
 * four bytes of padding), and the rest of what port 22 carries is
 * SSHEncrypted; on any other TCP port, a version line (a heuristic).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common.h"
#include "fptext.h"
#include "../custom/custom.h"

static inline uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#define MAX_PACKET 35000  /* RFC 4253 section 6.1: what every peer takes */

static const sf_enum msg_codes[] = {
  {1, "DISCONNECT"}, {2, "IGNORE"}, {3, "UNIMPLEMENTED"}, {4, "DEBUG"},
  {5, "SERVICE_REQUEST"}, {6, "SERVICE_ACCEPT"}, {7, "EXT_INFO"}, {20, "KEXINIT"},
  {21, "NEWKEYS"}, {30, "KEXDH_INIT"}, {31, "KEXDH_REPLY"}, {32, "KEX_DH_GEX_INIT"},
  {33, "KEX_DH_GEX_REPLY"}, {34, "KEX_DH_GEX_REQUEST"}, {50, "USERAUTH_REQUEST"},
  {51, "USERAUTH_FAILURE"}, {52, "USERAUTH_SUCCESS"}, {53, "USERAUTH_BANNER"},
  {80, "GLOBAL_REQUEST"}, {81, "REQUEST_SUCCESS"}, {82, "REQUEST_FAILURE"},
  {90, "CHANNEL_OPEN"}, {91, "CHANNEL_OPEN_CONFIRMATION"}, {94, "CHANNEL_DATA"},
  {96, "CHANNEL_EOF"}, {97, "CHANNEL_CLOSE"}, {98, "CHANNEL_REQUEST"}, {0, NULL}
};

/* ---- what each layer is ---------------------------------------------------------- */

enum { R_NONE, R_VERSION, R_PACKET, R_MSG, R_PADDING, R_ENC };
static uint8_t role[SF_MAX_PROTOS];
static uint8_t code_of[SF_MAX_PROTOS];   /* a message layer's message code */
static int id_version = -1, id_packet = -1, id_padding = -1, id_enc = -1, id_generic = -1;
static int id_msg[256];                  /* by message code; the generic one */

/* Does h (n bytes) start like a binary packet sent in the clear? */
static int looks_like_packet(const uint8_t *h, size_t n) {
  uint32_t len;
  if (n < 6) return 0;
  len = rd32(h);
  return len >= 12 && len <= MAX_PACKET && (len + 4) % 8 == 0 && h[4] >= 4 &&
         (uint32_t)h[4] + 2 <= len && h[5] != 0;
}

static int looks_like_version(const uint8_t *h, size_t n) {
  return n >= 4 && memcmp(h, "SSH-", 4) == 0;
}

/* The packet a layer belongs to, and where its payload and padding end. */
typedef struct where {
  int pkt;
  size_t body_end, pad_end;
} where;

static int where_is(const sf_pkt *p, int li, where *w) {
  const uint8_t *h;
  uint32_t len;
  while (li >= 0 && (role[p->layers[li].proto] == R_MSG || role[p->layers[li].proto] == R_PADDING))
    li--;
  if (li < 0 || role[p->layers[li].proto] != R_PACKET || p->layers[li].hlen < 6) return 0;
  h = p->data + p->layers[li].off;
  len = rd32(h);
  w->pkt = li;
  w->pad_end = p->layers[li].off + 4 + (size_t)len;
  w->body_end = len >= (uint32_t)h[4] + 1 ? w->pad_end - h[4] : p->layers[li].off + 5;
  return 1;
}

/* What follows a whole packet at pos (end: the bytes' end). */
static int after_packet(const sf_pkt *p, const where *w, size_t pos, size_t end) {
  if (pos >= end) return -2;
  if (p->data[p->layers[w->pkt].off + 5] == 21) return id_enc;  /* NEWKEYS */
  return looks_like_packet(p->data + pos, end - pos) ? id_packet : -2;
}

/* The message layer for code c. */
static int message_for(unsigned c) { return id_msg[c] >= 0 ? id_msg[c] : id_generic; }

static int ssh_next(const sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  size_t pos = l->off + l->hlen, end = l->end;
  int r = role[l->proto];
  where w;
  if (r == R_VERSION) {
    if (pos >= end) return -2;
    if (looks_like_version(p->data + pos, end - pos)) return id_version;
    return looks_like_packet(p->data + pos, end - pos) ? id_packet : -2;
  }
  if (r == R_ENC || !where_is(p, li, &w)) return -2;
  if (r == R_PACKET && pos < w.body_end) return pos < end ? message_for(p->data[l->off + 5]) : -2;
  if (r != R_PADDING && pos == w.body_end && w.pad_end > w.body_end)
    return pos < end ? id_padding : -2;
  if (pos == w.pad_end) return after_packet(p, &w, pos, end);
  return -2;  /* a message longer or shorter than its packet says: Raw */
}

/* ---- the version exchange ----------------------------------------------------------- */

static const sf_field version_fields[] = {
  BYTESF("version", 0, 0, "text", "5353482d322e302d73666c7561", 0),  /* SSH-2.0-sflua */
  BYTESF("eol", 104, 0, NULL, "0d0a", 0),
};

/* A line of at most 255 bytes ending with LF (RFC 4253 section 4.2). */
static size_t version_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  const uint8_t *lf;
  (void)p;
  if (!looks_like_version(h, n)) return 0;
  lf = memchr(h, '\n', n < 255 ? n : 255);
  return lf ? (size_t)(lf - h) + 1 : 0;
}

static size_t eol_len(const uint8_t *h, size_t hlen) {
  if (hlen >= 2 && h[hlen - 2] == '\r' && h[hlen - 1] == '\n') return 2;
  return hlen >= 1 && h[hlen - 1] == '\n' ? 1 : 0;
}

static void version_var(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  size_t e = eol_len(h, hlen);
  *off = fi == 0 ? 0 : hlen - e;
  *len = fi == 0 ? hlen - e : e;
}

static int version_accept(const sf_pkt *p, int li, const uint8_t *h, size_t n) {
  (void)p;
  (void)li;
  return looks_like_version(h, n);
}

/* A version line on any TCP port. */
static int version_heur(const sf_pkt *p, int li, void *ud) {
  const sf_layer *l = &p->layers[li];
  const uint8_t *h = p->data + l->off + l->hlen;
  size_t n = l->end - l->off - l->hlen;
  (void)ud;
  return n >= 8 && (memcmp(h, "SSH-2.0-", 8) == 0 || (n >= 9 && memcmp(h, "SSH-1.99-", 9) == 0))
             ? id_version : -1;
}

static const sf_place version_places[] = {{"tcp.port", 22, 0, version_accept}, {NULL, 0, 0, NULL}};
static const sf_heur_place version_heurs[] = {{"TCP", version_heur}, {NULL, NULL}};
static const sf_wsfield version_ws[] = {WS("ssh.protocol", "version"), WSEND};

static sf_proto version = {
  .name = "SSHVersion", .display = "SSH Version", .kind = "SshVersion",
  .fields = version_fields, .nfields = NFIELDS(version_fields), .minlen = 15,
  .places = version_places, .heurs = version_heurs, .ws = "ssh", .ws_fields = version_ws,
  .hdr_len = version_len, .next = ssh_next, .var = version_var,
};

/* ---- the binary packet ---------------------------------------------------------------- */

enum { P_LEN, P_PADLEN, P_CODE };

static const sf_field packet_fields[] = {
  UINTF("packet_length", 0, 32, 0, SF_FF_AUTO, NULL, 0),
  UINTF("padding_length", 32, 8, 0, SF_FF_AUTO, NULL, 0),
  UINTF("message_code", 40, 8, 0, SF_FF_AUTO, msg_codes, 0),
};

static size_t packet_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n >= 6 ? 6 : 0;
}

/* A built padding the user did not set is sized as RFC 4253 section 6
   asks: at least four bytes, the packet a multiple of eight. */
static void size_padding(sf_pkt *p, int li, size_t before) {
  const sf_layer *l = &p->layers[li];
  size_t want = 4 + (8 - (before + 4) % 8) % 8;
  if (!(l->flags & SF_L_BUILT) || sf_isset(p, li, 0) || l->hlen == want) return;
  if (l->hlen < want) sf_pkt_splice(p, li, l->off + l->hlen, 0, NULL, want - l->hlen);
  else sf_pkt_splice(p, li, l->off + want, l->hlen - want, NULL, 0);
}

/* Lengths from the layers after it: its message and padding. */
static void packet_fixup(sf_pkt *p, int li) {
  const sf_layer *l = &p->layers[li];
  size_t e = l->off + l->hlen, padlen = 0;
  int j = li + 1;
  if (!(l->flags & SF_L_BUILT) && (l->flags & SF_L_TRUNC)) return;
  if (j < p->nlayers && role[p->layers[j].proto] == R_MSG && p->layers[j].off == e) {
    if (!sf_isset(p, li, P_CODE) && code_of[p->layers[j].proto])
      sf_lput(p, li, P_CODE, code_of[p->layers[j].proto]);
    e += p->layers[j++].hlen;
  }
  if (j < p->nlayers && role[p->layers[j].proto] == R_PADDING && p->layers[j].off == e) {
    size_padding(p, j, e - l->off);
    l = &p->layers[li];
    padlen = p->layers[j].hlen;
    e += padlen;
  }
  sf_lput(p, li, P_PADLEN, padlen);
  sf_lput(p, li, P_LEN, e - l->off - 4);
}

static int packet_accept(const sf_pkt *p, int li, const uint8_t *h, size_t n) {
  (void)p;
  (void)li;
  return looks_like_packet(h, n);
}

static const sf_place packet_places[] = {{"tcp.port", 22, 0, packet_accept}, {NULL, 0, 0, NULL}};
static const sf_wsfield packet_ws[] = {
  WS("ssh.packet_length", "packet_length"), WS("ssh.padding_length", "padding_length"),
  WS("ssh.message_code", "message_code"), WSEND
};

static sf_proto packet = {
  .name = "SSH", .display = "SSH", .kind = "Ssh",
  .fields = packet_fields, .nfields = NFIELDS(packet_fields), .minlen = 6,
  .places = packet_places, .ws = "ssh", .ws_fields = packet_ws,
  .hdr_len = packet_len, .next = ssh_next, .fixup = packet_fixup,
};

/* ---- padding, encrypted packets, other messages -------------------------------------------- */

static void var_all(const uint8_t *h, size_t hlen, int fi, size_t *off, size_t *len) {
  (void)h;
  (void)fi;
  *off = 0;
  *len = hlen;
}

/* The bytes from h to where the packet's payload (or padding) ends. */
static size_t rest_of(const sf_pkt *p, const uint8_t *h, size_t n, int padding) {
  int li = p ? sf_layer_before(p, h) : -1;
  size_t pos, stop;
  where w;
  if (li < 0 || !where_is(p, li, &w)) return n;  /* built alone: all of it */
  pos = (size_t)(h - p->data);
  stop = padding ? w.pad_end : w.body_end;
  if (stop < pos || stop - pos > n) return 0;  /* cut short */
  return stop - pos;
}

static size_t padding_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  return rest_of(p, h, n, 1);
}

static size_t body_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  return rest_of(p, h, n, 0);
}

static size_t all_len(const sf_pkt *p, const uint8_t *h, size_t n) {
  (void)p;
  (void)h;
  return n;
}

static const sf_field padding_fields[] = {BYTESF("padding", 0, 0, NULL, "00000000", 0)};
static const sf_wsfield padding_ws[] = {WS("ssh.padding_string", "padding"), WSEND};
static sf_proto padding = {
  .name = "SSHPadding", .display = "SSH Padding", .kind = "SshPadding",
  .fields = padding_fields, .nfields = NFIELDS(padding_fields), .minlen = 4,
  .ws_fields = padding_ws, .hdr_len = padding_len, .next = ssh_next, .var = var_all,
};

static const sf_field enc_fields[] = {BYTESF("data", 0, 0, NULL, NULL, 0)};
static const sf_wsfield enc_ws[] = {WS("ssh.encrypted_packet", "data"), WSEND};

/* anything else port 22 carries: tried after the version and packets */
static const sf_place enc_places[] = {
  {"tcp.port", 22, SF_PL_PARSE_ONLY, NULL}, {NULL, 0, 0, NULL}
};

static sf_proto enc = {
  .name = "SSHEncrypted", .display = "SSH Encrypted", .kind = "SshEncrypted",
  .fields = enc_fields, .nfields = NFIELDS(enc_fields), .minlen = 0,
  .places = enc_places, .ws = "ssh", .ws_fields = enc_ws, .hdr_len = all_len,
  .next = ssh_next, .var = var_all,
};

static const sf_field generic_fields[] = {BYTESF("data", 0, 0, NULL, NULL, 0)};
static sf_proto generic = {
  .name = "SSHMessage", .display = "SSH Message", .kind = "SshMessage",
  .fields = generic_fields, .nfields = NFIELDS(generic_fields), .minlen = 0,
  .hdr_len = body_len, .next = ssh_next, .var = var_all,
};

/* ---- messages laid out by the engine: KEXINIT, (EC)DH init and reply -------------------- */

/* Each string is sized by the uint32 before it, which the engine fills in.
   A message is a fixed-length prefix (KEXINIT's cookie), (uint32 length,
   string) pairs, then fixed integers: what the hand-written layout reads. */
typedef struct msg_host {
  int8_t len_from[SF_MAX_FIELDS];   /* -1: not sized by another field */
  uint8_t prefix;                   /* bytes of the first field, 0: none */
  uint8_t npairs;
  uint8_t tail[2];                  /* bits of the integers after them */
  uint8_t ntail;
  /* the engine's layout (setting a field, built layers) */
  size_t (*engine)(const sf_proto *, const uint8_t *, size_t, sf_span *, int);
} msg_host;

static int msg_number(void *host, const sf_cview *v, int fi, int what,
                      int64_t *out, char *bad, size_t badlen) {
  const msg_host *mh = host;
  sf_val x;
  (void)what;
  (void)bad;
  (void)badlen;
  if (mh->len_from[fi] < 0 || sf_cview_get(v, mh->len_from[fi], &x) != SF_OK)
    return SF_E_VALUE;
  *out = (int64_t)x.u;
  return SF_OK;
}

static const sf_custom_ops msg_ops = {msg_number, NULL, NULL, NULL, NULL, NULL, NULL};

/* The layout by hand, for parsing and reading (the engine asks this file
   field by field; this gives the same spans, checked against the
   engine's when built with SF_CHECK_FAST_PATHS: the fuzzing builds). */
static size_t lay_msg(const msg_host *mh, const uint8_t *h, size_t n, sf_span *sp) {
  size_t bit = 0, len;
  int i = 0, k;
  if (mh->prefix) {
    if (mh->prefix > n) return 0;
    sp[i].bitoff = 0;
    sp[i++].bits = 8u * mh->prefix;
    bit = 8u * mh->prefix;
  }
  for (k = 0; k < mh->npairs; k++, i += 2) {
    if (bit / 8 + 4 > n) return 0;
    len = rd32(h + bit / 8);
    if (len > n - bit / 8 - 4) return 0;  /* cut short */
    sp[i].bitoff = (uint32_t)bit;
    sp[i].bits = 32;
    sp[i + 1].bitoff = (uint32_t)bit + 32;
    sp[i + 1].bits = (uint32_t)(8 * len);
    bit += 32 + 8 * len;
  }
  for (k = 0; k < mh->ntail; k++, i++) {
    if (bit + mh->tail[k] > 8 * n) return 0;
    sp[i].bitoff = (uint32_t)bit;
    sp[i].bits = mh->tail[k];
    bit += mh->tail[k];
  }
  return bit / 8;
}

static const msg_host *host_by_id[SF_MAX_PROTOS];
static const msg_host *host_of(const sf_proto *pr) { return host_by_id[pr->id]; }

static size_t msg_layout(const sf_proto *pr, const uint8_t *h, size_t n, sf_span *sp,
                         int build) {
  const msg_host *mh = host_of(pr);  /* set once registered: laid out only then */
  size_t len;
  if (!mh) return 0;
  if (build) return mh->engine(pr, h, n, sp, build);
  len = lay_msg(mh, h, n, sp);
#ifdef SF_CHECK_FAST_PATHS
  {
    sf_span e[SF_MAX_FIELDS];
    if (mh->engine(pr, h, n, e, 0) != len ||
        (len && memcmp(e, sp, pr->nfields * sizeof *sp) != 0))
      abort();
  }
#endif
  return len;
}

static const sf_dyn msg_dyn = {NULL, msg_layout, NULL, NULL, NULL, NULL};

#define CU(n, bits, d, fl) {(n), SF_T_UINT, (fl), 0, 0, 0, (bits), (d), NULL, NULL, NULL, NULL}
#define CB(n, codec) {(n), SF_T_BYTES, 0, 0, 0, 0, 0, 0, NULL, NULL, (codec), NULL}
#define C_FIXED {SF_CK_FIXED, 0, -1, -1, -1, 0, 0, 0, NULL, 0}
#define C_LEN_OF(t) {SF_CK_FIXED, 0, (t), -1, -1, 0, 0, 0, NULL, 0}
#define C_SIZED(d) {SF_CK_VAR, SF_CH_LENGTH, -1, -1, -1, 0, 0, 0, (const uint8_t *)(d), sizeof(d) - 1}
#define C_FIXLEN(b) {SF_CK_FIXLEN, 0, -1, -1, -1, (b), 0, 0, NULL, 0}

/* a name-list: its length and its text */
#define NAMES(n) CU(n "_length", 32, 0, 0), CB(n, "text")

static const sf_field kexinit_fields[] = {
  CB("cookie", NULL),
  NAMES("kex_algorithms"), NAMES("server_host_key_algorithms"),
  NAMES("encryption_algorithms_client_to_server"),
  NAMES("encryption_algorithms_server_to_client"),
  NAMES("mac_algorithms_client_to_server"), NAMES("mac_algorithms_server_to_client"),
  NAMES("compression_algorithms_client_to_server"),
  NAMES("compression_algorithms_server_to_client"),
  NAMES("languages_client_to_server"), NAMES("languages_server_to_client"),
  CU("first_kex_packet_follows", 8, 0, 0), CU("reserved", 32, 0, SF_FF_HEX),
};
enum { K_COOKIE, K_KEX = 2, K_HOSTKEY = 4, K_ENC_CS = 6, K_ENC_SC = 8, K_MAC_CS = 10,
       K_MAC_SC = 12, K_COMP_CS = 14, K_COMP_SC = 16, K_LANG_CS = 18, K_LANG_SC = 20 };

/* defaults: what OpenSSH 9 offers, shortened */
static const char d_kex[] = "curve25519-sha256";
static const char d_hostkey[] = "ssh-ed25519";
static const char d_enc[] = "aes128-ctr";
static const char d_mac[] = "hmac-sha2-256";
static const char d_comp[] = "none";
static const char d_empty[] = "";

static const sf_cfield kexinit_cf[] = {
  C_FIXLEN(16),
  C_LEN_OF(K_KEX), C_SIZED(d_kex), C_LEN_OF(K_HOSTKEY), C_SIZED(d_hostkey),
  C_LEN_OF(K_ENC_CS), C_SIZED(d_enc), C_LEN_OF(K_ENC_SC), C_SIZED(d_enc),
  C_LEN_OF(K_MAC_CS), C_SIZED(d_mac), C_LEN_OF(K_MAC_SC), C_SIZED(d_mac),
  C_LEN_OF(K_COMP_CS), C_SIZED(d_comp), C_LEN_OF(K_COMP_SC), C_SIZED(d_comp),
  C_LEN_OF(K_LANG_CS), C_SIZED(d_empty), C_LEN_OF(K_LANG_SC), C_SIZED(d_empty),
  C_FIXED, C_FIXED,
};
static msg_host kexinit_host = {
  .len_from = {-1, -1, 1, -1, 3, -1, 5, -1, 7, -1, 9, -1, 11, -1, 13, -1, 15, -1, 17, -1, 19,
               -1, -1},
  .prefix = 16, .npairs = 10, .tail = {8, 32}, .ntail = 2,
};

#define WSN(n) WS("ssh." n "_length", n "_length"), WS("ssh." n, n)
static const sf_wsfield kexinit_ws[] = {
  WS("ssh.cookie", "cookie"), WSN("kex_algorithms"), WSN("server_host_key_algorithms"),
  WSN("encryption_algorithms_client_to_server"), WSN("encryption_algorithms_server_to_client"),
  WSN("mac_algorithms_client_to_server"), WSN("mac_algorithms_server_to_client"),
  WSN("compression_algorithms_client_to_server"),
  WSN("compression_algorithms_server_to_client"),
  WSN("languages_client_to_server"), WSN("languages_server_to_client"),
  WS("ssh.first_kex_packet_follows", "first_kex_packet_follows"), WSEND
};

/* (EC)DH: the client's public value; the server's host key, value and
   signature (RFC 4253 section 8, RFC 5656 section 4) */
static const uint8_t no_bytes[] = "";
static const sf_field dhinit_fields[] = {CU("pub_length", 32, 0, 0), CB("pub", NULL)};
static const sf_cfield dhinit_cf[] = {C_LEN_OF(1), C_SIZED(no_bytes)};
static msg_host dhinit_host = {.len_from = {-1, 0}, .npairs = 1};
static const sf_wsfield dhinit_ws[] = {
  WS("ssh.ecdh.q_c_length", "pub_length"), WS("ssh.ecdh.q_c", "pub"), WSEND
};

static const sf_field dhreply_fields[] = {
  CU("host_key_length", 32, 0, 0), CB("host_key", NULL), CU("pub_length", 32, 0, 0),
  CB("pub", NULL), CU("sig_length", 32, 0, 0), CB("sig", NULL),
};
static const sf_cfield dhreply_cf[] = {
  C_LEN_OF(1), C_SIZED(no_bytes), C_LEN_OF(3), C_SIZED(no_bytes), C_LEN_OF(5), C_SIZED(no_bytes),
};
static msg_host dhreply_host = {.len_from = {-1, 0, -1, 2, -1, 4}, .npairs = 3};
static const sf_wsfield dhreply_ws[] = {
  WS("ssh.host_key.length", "host_key_length"), WS("ssh.ecdh.q_s_length", "pub_length"),
  WS("ssh.ecdh.q_s", "pub"), WS("ssh.host_sig.length", "sig_length"), WSEND
};

/* ---- HASSH ------------------------------------------------------------------------------ */

/* Which side's hassh text of which packet's layer. */
typedef struct hassh_of {
  const sf_pkt *p;
  int li, server;
} hassh_of;

/* hassh: kex;encryption;mac;compression of the client's side (server:
   the server's), as Salesforce defines it and Wireshark computes it */
static int hassh_string(const void *ud, text *t) {
  static const int client_lists[] = {K_KEX, K_ENC_CS, K_MAC_CS, K_COMP_CS};
  static const int server_lists[] = {K_KEX, K_ENC_SC, K_MAC_SC, K_COMP_SC};
  const hassh_of *h = ud;
  const int *lists = h->server ? server_lists : client_lists;
  int i;
  for (i = 0; i < 4; i++) {
    sf_val v;
    const uint8_t *nul;
    if (sf_field_get(h->p, h->li, lists[i], &v) != SF_OK) return -1;
    if ((nul = memchr(v.p, 0, v.n)) != NULL) v.n = (size_t)(nul - v.p);  /* text ends there */
    if (i) put(t, ";", 1);
    put(t, v.p, v.n);
  }
  return (int)t->len;
}

static int hassh_hash(const sf_pkt *p, int li, int server, char *out, size_t cap) {
  hassh_of h = {p, li, server};
  text o = {out, cap, 0};
  return put_hashed(&o, hassh_string, &h, EVP_md5(), 32);
}

static int hassh_algs_text(const sf_pkt *p, int li, char *out, size_t cap) {
  hassh_of h = {p, li, 0};
  text t = {out, cap, 0};
  return hassh_string(&h, &t);
}

static int hassh_server_algs_text(const sf_pkt *p, int li, char *out, size_t cap) {
  hassh_of h = {p, li, 1};
  text t = {out, cap, 0};
  return hassh_string(&h, &t);
}

static int hassh_text(const sf_pkt *p, int li, char *out, size_t cap) {
  return hassh_hash(p, li, 0, out, cap);
}

static int hassh_server_text(const sf_pkt *p, int li, char *out, size_t cap) {
  return hassh_hash(p, li, 1, out, cap);
}

static const sf_prop kexinit_props[] = {
  {"hassh", hassh_text, "MD5 of hassh_algorithms, in hexadecimal (the client's fingerprint)"},
  {"hassh_algorithms", hassh_algs_text, "kex;encryption;mac;compression algorithms, client to server"},
  {"hassh_server", hassh_server_text, "MD5 of hassh_server_algorithms (the server's fingerprint)"},
  {"hassh_server_algorithms", hassh_server_algs_text,
   "kex;encryption;mac;compression algorithms, server to client"},
  {NULL, NULL, NULL}
};

/* ---- registration ------------------------------------------------------------------------- */

static int reg(sf_proto *pr, int r) {
  int id = sf_register(pr);
  if (id >= 0) role[id] = (uint8_t)r;
  return id;
}

/* A message through the layout engine, described as a built-in. */
static int define_msg(const char *name, const char *display, const char *kind, unsigned code,
                      const sf_field *f, const sf_cfield *cf, int n, msg_host *host,
                      const sf_wsfield *ws, const sf_prop *props) {
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
  d.ops = &msg_ops;
  d.host = host;
  if (!(c = sf_custom_new(&d, err, sizeof err))) return -1;
  host->engine = sf_custom_proto(c)->dyn->layout;
  memset(&like, 0, sizeof like);
  like.dyn = &msg_dyn;
  like.kind = kind;
  like.ws = "ssh";
  like.ws_fields = ws;
  like.props = props;
  like.next = ssh_next;
  sf_custom_describe(c, &like);
  if ((id = sf_custom_register(c)) < 0) {
    sf_custom_free(c);
    return id;
  }
  role[id] = R_MSG;
  code_of[id] = (uint8_t)code;
  id_msg[code] = id;
  host_by_id[id] = host;
  return id;
}

SF_PROTO_FILE(ssh) {
  int i;
  for (i = 0; i < 256; i++) id_msg[i] = -1;
  id_enc = reg(&enc, R_ENC);          /* first in port 22's chain: tried last */
  id_packet = reg(&packet, R_PACKET);
  id_version = reg(&version, R_VERSION);
  id_padding = reg(&padding, R_PADDING);
  id_generic = reg(&generic, R_MSG);
  define_msg("SSHKexInit", "SSH Key Exchange Init", "SshKexInit", 20, kexinit_fields,
             kexinit_cf, NFIELDS(kexinit_fields), &kexinit_host, kexinit_ws, kexinit_props);
  define_msg("SSHKexDHInit", "SSH (EC)DH Key Exchange Init", "SshKexDHInit", 30,
             dhinit_fields, dhinit_cf, NFIELDS(dhinit_fields), &dhinit_host, dhinit_ws, NULL);
  define_msg("SSHKexDHReply", "SSH (EC)DH Key Exchange Reply", "SshKexDHReply", 31,
             dhreply_fields, dhreply_cf, NFIELDS(dhreply_fields), &dhreply_host, dhreply_ws,
             NULL);
}
