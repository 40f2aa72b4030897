/*
 * part.c -- the counted parts of a message: records that follow its
 * header as layers of their own (DNS's questions, answers, authority and
 * additional records), each part as many as a field of the header says.
 */
#include "sf.h"

/* Record layers right after layer li. */
static int records_after(const sf_pkt *p, int li) {
  int k = li + 1;
  while (k < p->nlayers && sf_proto_get(p->layers[k].proto)->record) k++;
  return k - li - 1;
}

static uint64_t count_of(const sf_pkt *p, int li, const sf_part *pt) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  int fi = sf_field_find(pr, pt->count);
  sf_val v;
  fi = fi >= 0 ? sf_field_resolve(p, li, fi) : -1;
  return fi >= 0 && sf_field_get(p, li, fi, &v) == SF_OK ? v.u : 0;
}

int sf_part_layers(const sf_pkt *p, int li, int part, int *first) {
  const sf_proto *pr = sf_proto_get(p->layers[li].proto);
  uint64_t at = 0, n = 0, have = (uint64_t)records_after(p, li);
  int k;
  *first = li + 1;
  if (!pr->parts) return 0;
  for (k = 0; pr->parts[k].name && k <= part; k++) {
    n = count_of(p, li, &pr->parts[k]);
    if (k < part) at += n;
  }
  if (k <= part || at >= have) return 0;  /* no such part, or none parsed */
  *first = li + 1 + (int)at;
  return (int)(n < have - at ? n : have - at);
}
