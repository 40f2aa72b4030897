/*
 * test_reverse.c -- sf_reverse (core/capture/reply.c): a packet turned
 * around by its protocols' facts.  The frames are an echo request as
 * ping(8) sends it and a UDP datagram in a VLAN; the answer's bytes are
 * written out here (addresses swapped, type 8 -> 0, the ICMP checksum
 * 0x2104 + 0x0800 by RFC 1624's update, the IPv4 header's unchanged), so
 * sf_finalize's checksums meet arithmetic done apart from the engine.
 */
#include <stdlib.h>
#include <string.h>

#include "sf.h"
#include "capture/capture.h"

#include "check.h"

/* Ether 02..01 -> 02..02, IPv4 10.0.0.1 -> 10.0.0.2 (id 0x1c46, ttl 64,
   checksum 0x0a95), ICMP echo request id 0x1234 seq 1, "abcd" */
static const uint8_t echo[] = {
  0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
  0x45, 0x00, 0x00, 0x20, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x01, 0x0a, 0x95,
  10, 0, 0, 1, 10, 0, 0, 2,
  0x08, 0x00, 0x21, 0x04, 0x12, 0x34, 0x00, 0x01, 'a', 'b', 'c', 'd'
};
static const uint8_t echo_reply[] = {
  0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00,
  0x45, 0x00, 0x00, 0x20, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x01, 0x0a, 0x95,
  10, 0, 0, 2, 10, 0, 0, 1,
  0x00, 0x00, 0x29, 0x04, 0x12, 0x34, 0x00, 0x01, 'a', 'b', 'c', 'd'
};

/* the same frame with an 802.1Q tag (vlan 5) and UDP 40000 -> 53 */
static const uint8_t udp[] = {
  0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x81, 0x00, 0x00, 0x05, 0x08, 0x00,
  0x45, 0x00, 0x00, 0x1d, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x66, 0xcd,
  10, 0, 0, 1, 10, 0, 0, 2,
  0x9c, 0x40, 0x00, 0x35, 0x00, 0x09, 0x00, 0x00, 'q'
};

static void parse(sf_pkt *p, const uint8_t *d, size_t n) {
  sf_pkt_init(p);
  if (sf_pkt_borrow(p, d, n) != SF_OK) abort();
  p->linktype = 1;
  sf_pkt_parse(p);
}

static void test_echo(void) {
  sf_pkt p;
  parse(&p, echo, sizeof echo);
  CHECK_EQ(sf_reverse(&p), SF_OK);
  CHECK_EQ(sf_finalize(&p), SF_OK);
  CHECK_EQ(p.len, sizeof echo_reply);
  CHECK(memcmp(p.data, echo_reply, sizeof echo_reply) == 0);
  CHECK(echo[34] == 8);  /* the borrowed bytes were copied, not written */
  sf_pkt_free(&p);
}

static void test_udp_in_vlan(void) {
  sf_pkt p;
  parse(&p, udp, sizeof udp);
  CHECK_EQ(sf_reverse(&p), SF_OK);
  CHECK_EQ(sf_finalize(&p), SF_OK);
  CHECK(memcmp(p.data, udp + 6, 6) == 0 && memcmp(p.data + 6, udp, 6) == 0);
  CHECK_EQ(p.data[15], 5);                                     /* the tag kept */
  CHECK(memcmp(p.data + 30, udp + 34, 4) == 0 && memcmp(p.data + 34, udp + 30, 4) == 0);
  CHECK_EQ((p.data[38] << 8) | p.data[39], 53);
  CHECK_EQ((p.data[40] << 8) | p.data[41], 40000);
  CHECK_EQ(p.data[46], 'q');
  sf_pkt_free(&p);
}

/* every cut of the echo: the same number of bytes, no read past them
   (ASan watches) */
static void test_cuts(void) {
  size_t n;
  for (n = 0; n <= sizeof echo; n++) {
    sf_pkt p;
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, echo, n);
    parse(&p, copy, n);
    CHECK_EQ(sf_reverse(&p), SF_OK);
    sf_finalize(&p);
    CHECK_EQ(p.len, n);
    sf_pkt_free(&p);
    free(copy);
  }
}

int main(void) {
  sf_init();
  test_echo();
  test_udp_in_vlan();
  test_cuts();
  return check_report("test_reverse");
}
