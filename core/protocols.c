/*
 * protocols.c -- the built-in protocols, registered once in id order
 * (see the enum in sf.h).  Adding a protocol family: one file in proto/
 * and one line here.
 */
#include "proto/common.h"

void sf_init(void) {
  static int done;
  if (done) return;
  done = 1;
  sf_register_raw();
  sf_register_ether();
  sf_register_ipv4();
  sf_register_ipv6();
  sf_register_tcp();
  sf_register_udp();
  sf_register_icmp();
  sf_register_icmpv6();
  sf_register_sll();
  sf_register_loopback();
}
