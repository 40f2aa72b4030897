/*
 * send.c -- sending frames at layer 2 on a packet socket that captures
 * nothing (protocol 0: an injection handle should not copy the
 * interface's traffic as a capture handle would), and batches of frames
 * or datagrams in one system call (sendmmsg).
 */
#define _GNU_SOURCE  /* sendmmsg */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture.h"

int sf_l2_open(const char *iface, char *err, size_t errlen) {
  struct sockaddr_ll sll;
  unsigned idx = if_nametoindex(iface);
  int s, e;
  if (!idx) {
    snprintf(err, errlen, "no such interface: %s", iface);
    return -1;
  }
  s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (s < 0) {
    sf_send_error(errno, 0, iface, err, errlen);
    return -1;
  }
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = (int)idx;
  if (bind(s, (struct sockaddr *)&sll, sizeof sll)) {
    e = errno;
    close(s);
    sf_send_error(e, 0, iface, err, errlen);
    return -1;
  }
  return s;
}

/* where a layer 3 datagram goes: its destination address */
static socklen_t l3_name(const sf_sendbuf *b, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (b->family == AF_INET && b->n >= 20) {
    struct sockaddr_in *sa = (struct sockaddr_in *)ss;
    sa->sin_family = AF_INET;
    memcpy(&sa->sin_addr, b->d + 16, 4);
    return sizeof *sa;
  }
  if (b->family == AF_INET6 && b->n >= 40) {
    struct sockaddr_in6 *sa = (struct sockaddr_in6 *)ss;
    sa->sin6_family = AF_INET6;
    memcpy(&sa->sin6_addr, b->d + 24, 16);
    sa->sin6_scope_id = b->scope;
    return sizeof *sa;
  }
  return 0;
}

#define BATCH 64

/* Send n buffers (family 0: frames on a layer 2 socket); returns how many
   went, with errno set if fewer. */
int sf_send_batch(int fd, const sf_sendbuf *b, int n) {
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_storage names[BATCH];
  int done = 0, waits = 0;
  while (done < n) {
    int k = n - done < BATCH ? n - done : BATCH, i, rc;
    memset(msgs, 0, (size_t)k * sizeof msgs[0]);
    for (i = 0; i < k; i++) {
      const sf_sendbuf *x = &b[done + i];
      iov[i].iov_base = (void *)(uintptr_t)x->d;
      iov[i].iov_len = x->n;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      if (x->family) {
        msgs[i].msg_hdr.msg_name = &names[i];
        msgs[i].msg_hdr.msg_namelen = l3_name(x, &names[i]);
      }
    }
    rc = sendmmsg(fd, msgs, (unsigned)k, 0);
    if (rc < 0) {
      if (errno == EINTR) continue;
      if ((errno == ENOBUFS || errno == EAGAIN) && waits++ < 20000) {
        usleep(50);  /* the queue is full: wait, up to a second in all */
        continue;
      }
      return done;
    }
    done += rc;
    waits = 0;
  }
  return done;
}
