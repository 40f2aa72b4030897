/*
 * l3.c -- sending at layer 3: raw sockets that take whole IPv4 or IPv6
 * datagrams (IPPROTO_RAW implies the header is ours) and let the kernel
 * route them and resolve the next hop's link address.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture.h"

void sf_send_error(int e, size_t n, const char *iface, char *err,
                   size_t errlen) {
  const char *on = iface && *iface ? iface : "the route's interface";
  sf_iface info;
  char ignored[64];
  switch (e) {
    case EPERM: case EACCES:
      snprintf(err, errlen, "cannot send on %s: permission denied (needs root "
               "or CAP_NET_RAW)", on);
      break;
    case EMSGSIZE:
      if (iface && *iface && sf_iface_get(iface, &info, ignored, sizeof ignored) == 0 &&
          info.mtu > 0)
        snprintf(err, errlen, "cannot send on %s: the packet of %zu bytes "
                 "exceeds its MTU (%d)", on, n, info.mtu);
      else
        snprintf(err, errlen, "cannot send on %s: the packet of %zu bytes "
                 "exceeds the MTU", on, n);
      break;
    case ENETDOWN:
      snprintf(err, errlen, "cannot send on %s: the interface is down", on);
      break;
    case ENXIO: case ENODEV:
      snprintf(err, errlen, "cannot send on %s: no such interface", on);
      break;
    default:
      snprintf(err, errlen, "cannot send on %s: %s", on, strerror(e));
  }
}

int sf_l3_open(int family, const char *iface, char *err, size_t errlen) {
  int s = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW), e;
  if (s < 0) {
    sf_send_error(errno, 0, iface, err, errlen);
    return -1;
  }
  if (iface && *iface &&
      setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, iface, (socklen_t)strlen(iface) + 1)) {
    e = errno;
    close(s);
    sf_send_error(e == ENODEV ? ENODEV : e, 0, iface, err, errlen);
    return -1;
  }
  return s;
}
