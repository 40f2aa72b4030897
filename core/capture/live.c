/*
 * live.c -- capture handles over libpcap: opened with the user's options,
 * non-blocking, read when the host's loop says the descriptor is ready.
 * Timestamps are nanoseconds, as everywhere in the engine.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"

struct sf_live {
  pcap_t *p;
  int fd;
  int nano;              /* the kernel gave nanosecond timestamps */
  char iface[64];
  char err[PCAP_ERRBUF_SIZE + 128];
};

/* What an activation failure means to the user, with libpcap's words. */
static void activate_error(pcap_t *p, int rc, const char *iface, char *err,
                           size_t errlen) {
  const char *detail = pcap_geterr(p);
  switch (rc) {
    case PCAP_ERROR_PERM_DENIED:
      snprintf(err, errlen, "cannot capture on %s: permission denied (needs "
               "root or CAP_NET_RAW)", iface);
      break;
    case PCAP_ERROR_NO_SUCH_DEVICE:
      snprintf(err, errlen, "no such interface: %s", iface);
      break;
    case PCAP_ERROR_IFACE_NOT_UP:
      snprintf(err, errlen, "interface %s is down", iface);
      break;
    case PCAP_ERROR_RFMON_NOTSUP:
      snprintf(err, errlen, "interface %s cannot do monitor mode", iface);
      break;
    default:
      snprintf(err, errlen, "cannot capture on %s: %s", iface,
               detail && *detail ? detail : pcap_statustostr(rc));
  }
}

/* Set every option before activation; the first failure says which. */
static int configure(pcap_t *p, const sf_live_opts *o) {
  if (pcap_set_snaplen(p, o->snaplen > 0 ? o->snaplen : 262144) ||
      pcap_set_promisc(p, o->promisc) || pcap_set_timeout(p, o->timeout_ms) ||
      pcap_set_immediate_mode(p, o->immediate))
    return -1;
  if (o->monitor && pcap_set_rfmon(p, 1)) return -1;
  if (o->buffer_size > 0 && pcap_set_buffer_size(p, o->buffer_size)) return -1;
  return 0;
}

static const pcap_direction_t directions[] = {PCAP_D_INOUT, PCAP_D_IN, PCAP_D_OUT};

static int activate(sf_live *h, const sf_live_opts *o, char *err, size_t errlen) {
  int rc;
  h->nano = pcap_set_tstamp_precision(h->p, PCAP_TSTAMP_PRECISION_NANO) == 0;
  if (configure(h->p, o)) {
    snprintf(err, errlen, "cannot configure a capture on %s", h->iface);
    return -1;
  }
  rc = pcap_activate(h->p);
  if (rc < 0) {
    activate_error(h->p, rc, h->iface, err, errlen);
    return -1;
  }
  if (o->direction && pcap_setdirection(h->p, directions[o->direction % 3])) {
    snprintf(err, errlen, "%s: %s", h->iface, pcap_geterr(h->p));
    return -1;
  }
  if (pcap_setnonblock(h->p, 1, h->err) < 0 || (h->fd = pcap_get_selectable_fd(h->p)) < 0) {
    snprintf(err, errlen, "%s: cannot poll this interface", h->iface);
    return -1;
  }
  if (o->filter && *o->filter && sf_live_setfilter(h, o->filter)) {
    snprintf(err, errlen, "%s", h->err);
    return -1;
  }
  return 0;
}

sf_live *sf_live_open(const sf_live_opts *o, char *err, size_t errlen) {
  sf_live *h = calloc(1, sizeof *h);
  char ebuf[PCAP_ERRBUF_SIZE] = "";
  if (!h) {
    snprintf(err, errlen, "not enough memory");
    return NULL;
  }
  snprintf(h->iface, sizeof h->iface, "%s", o->iface ? o->iface : "any");
  h->p = pcap_create(h->iface, ebuf);
  if (!h->p) {
    snprintf(err, errlen, "cannot capture on %s: %s", h->iface, ebuf);
    free(h);
    return NULL;
  }
  if (activate(h, o, err, errlen)) {
    sf_live_close(h);
    return NULL;
  }
  return h;
}

int sf_live_fd(const sf_live *h) { return h->fd; }
int sf_live_linktype(const sf_live *h) { return pcap_datalink(h->p); }
const char *sf_live_iface(const sf_live *h) { return h->iface; }
const char *sf_live_error(const sf_live *h) { return h->err; }

typedef struct reading {
  sf_live_fn fn;
  void *ud;
  int nano;
} reading;

static void on_packet(u_char *user, const struct pcap_pkthdr *hdr, const u_char *d) {
  const reading *r = (const reading *)(void *)user;
  int64_t ns = (int64_t)hdr->ts.tv_sec * 1000000000 +
               (int64_t)hdr->ts.tv_usec * (r->nano ? 1 : 1000);
  r->fn(r->ud, d, hdr->caplen, hdr->len, ns);
}

int sf_live_read(sf_live *h, int max, sf_live_fn fn, void *ud) {
  reading r = {fn, ud, h->nano};
  int n = pcap_dispatch(h->p, max > 0 ? max : -1, on_packet, (u_char *)&r);
  if (n == PCAP_ERROR) {
    snprintf(h->err, sizeof h->err, "%s: %s", h->iface, pcap_geterr(h->p));
    return -1;
  }
  return n < 0 ? 0 : n;  /* PCAP_ERROR_BREAK: nothing more now */
}

int sf_live_setfilter(sf_live *h, const char *expr) {
  struct bpf_program prog;
  int rc;
  if (pcap_compile(h->p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
    snprintf(h->err, sizeof h->err, "bad filter %s: %s", expr, pcap_geterr(h->p));
    return -1;
  }
  rc = pcap_setfilter(h->p, &prog);
  pcap_freecode(&prog);
  if (rc) snprintf(h->err, sizeof h->err, "%s: %s", h->iface, pcap_geterr(h->p));
  return rc ? -1 : 0;
}

int sf_live_stats_get(sf_live *h, sf_live_stats *st) {
  struct pcap_stat ps;
  if (pcap_stats(h->p, &ps)) {
    snprintf(h->err, sizeof h->err, "%s: %s", h->iface, pcap_geterr(h->p));
    return -1;
  }
  st->received = ps.ps_recv;
  st->dropped = ps.ps_drop;
  st->if_dropped = ps.ps_ifdrop;
  return 0;
}

void sf_live_close(sf_live *h) {
  if (!h) return;
  if (h->p) pcap_close(h->p);
  free(h);
}

/* ---- filters without a device ------------------------------------------------- */

struct sf_bpf {
  struct bpf_program prog;
};

static int compile_dead(const char *expr, int linktype, struct bpf_program *prog,
                        char *err, size_t errlen) {
  pcap_t *p = pcap_open_dead(linktype, 262144);
  int rc;
  if (!p) {
    snprintf(err, errlen, "link type %d is unknown to libpcap", linktype);
    return -1;
  }
  rc = pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN);
  if (rc) snprintf(err, errlen, "bad filter %s: %s", expr, pcap_geterr(p));
  pcap_close(p);
  return rc ? -1 : 0;
}

int sf_filter_check(const char *expr, int linktype, char *err, size_t errlen) {
  struct bpf_program prog;
  if (compile_dead(expr, linktype, &prog, err, errlen)) return -1;
  pcap_freecode(&prog);
  return 0;
}

sf_bpf *sf_bpf_new(const char *expr, int linktype, char *err, size_t errlen) {
  sf_bpf *b = calloc(1, sizeof *b);
  if (!b) {
    snprintf(err, errlen, "not enough memory");
    return NULL;
  }
  if (compile_dead(expr, linktype, &b->prog, err, errlen)) {
    free(b);
    return NULL;
  }
  return b;
}

int sf_bpf_match(const sf_bpf *b, const uint8_t *d, uint32_t caplen,
                 uint32_t wirelen) {
  return bpf_filter(b->prog.bf_insns, d, wirelen, caplen) != 0;
}

void sf_bpf_free(sf_bpf *b) {
  if (!b) return;
  pcap_freecode(&b->prog);
  free(b);
}
