/*
 * prepare.c -- what a packet built for sending still lacks, filled as
 * Scapy fills it: the network layer's source from the route to its
 * destination; at layer 2 the link source from the interface and the
 * link destination from the kernel's neighbour cache; ARP's sender
 * addresses.  Only layers a constructor made (SF_L_BUILT) and fields the
 * user did not set are filled: a captured packet is sent as it is.
 */
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "capture.h"

static int role_at(const sf_pkt *p, int li) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  return pr && pr->facts ? pr->facts->role : SF_ROLE_NONE;
}

/* field fi of a built layer that the user left to us */
static int ours(const sf_pkt *p, int li, int fi) {
  return fi >= 0 && (p->layers[li].flags & SF_L_BUILT) && !sf_isset(p, li, fi) &&
         sf_field_present(p, li, fi);
}

static int find_role(const sf_pkt *p, int role) {
  int li;
  for (li = 0; li < p->nlayers; li++) {
    if (p->layers[li].flags & SF_L_QUOTED) return -1;
    if (role_at(p, li) == role) return li;
  }
  return -1;
}

/* the address in field fi, and its family */
static int address(const sf_pkt *p, int li, int fi, const uint8_t **a) {
  sf_val v;
  *a = NULL;
  if (fi < 0 || sf_field_get(p, li, fi, &v) != SF_OK) return 0;
  *a = v.p;
  return v.n == 4 ? AF_INET : v.n == 16 ? AF_INET6 : 0;
}

/* the route to the network layer's destination, and whether its source
   is ours to fill */
static int look_net(const sf_pkt *p, int li, sf_prep *pr, char *err, size_t errlen) {
  const sf_proto *np = sf_proto_get(p->layers[li].proto);
  const uint8_t *dst;
  pr->net = li;
  pr->family = address(p, li, np->at.dst, &dst);
  if (!pr->family) {
    snprintf(err, errlen, "%s has no destination address", np->display);
    return -1;
  }
  if (sf_route_get(pr->family, dst, &pr->route, err, errlen)) return -1;
  pr->fill_src = ours(p, li, np->at.src) && pr->route.has_src;
  return 0;
}

/* sf_iface_get, the last answer kept for 50 ms (sendp of built frames
   asks for the interface's MAC once a packet) */
static int iface_info(const char *iface, sf_iface *info, char *err, size_t errlen) {
  static _Thread_local sf_iface last;
  static _Thread_local int64_t at;
  struct timespec ts;
  int64_t now;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
  if (at && now - at < 50000000 && strcmp(last.name, iface) == 0) {
    *info = last;
    return 0;
  }
  if (sf_iface_get(iface, info, err, errlen)) return -1;
  last = *info;
  at = now;
  return 0;
}

/* ARP: the sender's addresses from the route to the target */
static int look_resolve(const sf_pkt *p, int li, const char *iface, sf_prep *pr,
                        char *err, size_t errlen) {
  const sf_proto *rp = sf_proto_get(p->layers[li].proto);
  const uint8_t *target;
  int fam = address(p, li, rp->at.dst, &target);
  sf_iface info;
  pr->net = li;  /* its protocol addresses stand for the network's */
  pr->family = fam;
  if (ours(p, li, rp->at.src) && fam &&
      sf_route_get(fam, target, &pr->route, err, errlen) == 0)
    pr->fill_src = pr->route.has_src;
  if (ours(p, li, rp->at.lsrc) && iface && iface_info(iface, &info, err, errlen) == 0 &&
      info.has_mac) {
    memcpy(pr->lsrc, info.mac, 6);
    pr->fill_lsrc = 2;  /* 2: the resolving layer's, 1: the link layer's */
  }
  return 0;
}

/* the link layer's addresses: ours from the interface, the next hop's
   from the neighbour cache */
static void look_link(const sf_pkt *p, int li, const char *iface, sf_prep *pr) {
  const sf_proto *lp = sf_proto_get(p->layers[li].proto);
  sf_iface info;
  char ignored[SF_CAP_ERRLEN];
  const uint8_t *hop;
  if (ours(p, li, lp->at.src) && iface && iface_info(iface, &info, ignored, sizeof ignored) == 0 &&
      info.has_mac) {
    memcpy(pr->lsrc, info.mac, 6);
    pr->fill_lsrc = pr->fill_lsrc ? pr->fill_lsrc : 1;
    if (pr->fill_lsrc == 2) pr->fill_lsrc = 3;  /* both */
  }
  if (pr->net < 0 || !ours(p, li, lp->at.dst) || role_at(p, pr->net) != SF_ROLE_NET) return;
  if (pr->route.has_gw) {
    hop = pr->route.gw;
  } else if (!address(p, pr->net, sf_proto_get(p->layers[pr->net].proto)->at.dst, &hop)) {
    return;
  }
  if (sf_neigh_get(pr->family, hop, iface ? if_nametoindex(iface) : 0, pr->ldst) == 0)
    pr->fill_ldst = 1;
}

static int any_built(const sf_pkt *p) {
  int li;
  for (li = 0; li < p->nlayers; li++)
    if (p->layers[li].flags & SF_L_BUILT) return 1;
  return 0;
}

int sf_prep_look(const sf_pkt *p, int l2, const char *iface, int need_route,
                 sf_prep *pr, char *err, size_t errlen) {
  int li, link;
  memset(pr, 0, sizeof *pr);
  pr->net = -1;
  if (!(p->flags & SF_P_PARSED) || p->nlayers == 0) {
    snprintf(err, errlen, "the packet is empty");
    return -1;
  }
  li = find_role(p, SF_ROLE_NET);
  if (!l2 && li != 0) {
    snprintf(err, errlen, "the packet starts with %s: send() and sr() take "
             "packets from their IP layer (sendp() and srp() send frames)",
             sf_proto_get(p->layers[0].proto)->display);
    return -1;
  }
  if (!need_route && !any_built(p)) return 0;  /* a captured packet goes as it is */
  if (!l2) return look_net(p, li, pr, err, errlen);
  if (li >= 0 && look_net(p, li, pr, err, errlen)) {
    pr->net = -1;  /* unroutable: send the frame as it is */
    pr->fill_src = 0;
  }
  if (li < 0 && (li = find_role(p, SF_ROLE_RESOLVE)) >= 0 &&
      look_resolve(p, li, iface, pr, err, errlen))
    return -1;
  if ((link = find_role(p, SF_ROLE_LINK)) == 0) look_link(p, link, iface, pr);
  return 0;
}

int sf_prep_changes(const sf_prep *pr) {
  return pr->fill_src || pr->fill_lsrc || pr->fill_ldst;
}

static int put(sf_pkt *p, int li, int fi, const uint8_t *a, size_t n) {
  sf_val v = {0, a, n};
  return sf_field_set(p, li, fi, &v);
}

int sf_prep_apply(sf_pkt *p, const sf_prep *pr) {
  int rc = SF_OK, link = find_role(p, SF_ROLE_LINK);
  if (pr->fill_src && pr->net >= 0) {
    const sf_proto *np = sf_proto_get(p->layers[pr->net].proto);
    rc = put(p, pr->net, np->at.src, pr->route.src, pr->family == AF_INET ? 4 : 16);
  }
  if (rc == SF_OK && (pr->fill_lsrc & 2) && pr->net >= 0)
    rc = put(p, pr->net, sf_proto_get(p->layers[pr->net].proto)->at.lsrc, pr->lsrc, 6);
  if (rc == SF_OK && (pr->fill_lsrc & 1) && link == 0)
    rc = put(p, 0, sf_proto_get(p->layers[0].proto)->at.src, pr->lsrc, 6);
  if (rc == SF_OK && pr->fill_ldst && link == 0)
    rc = put(p, 0, sf_proto_get(p->layers[0].proto)->at.dst, pr->ldst, 6);
  return rc;
}
