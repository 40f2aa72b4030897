/*
 * summary.h -- Scapy's text for packets: Packet.summary(), sprintf() and
 * how Scapy shows field values, from each protocol's sf_scapy (sf.h).
 *
 * A protocol's format (sf_scapy.fmt) is its mysummary written in the
 * style of Scapy's sprintf:
 *   %field%      a field of this layer as Scapy shows it (i2repr): names
 *                from sf_scapy.names or the field's own, else the number
 *                (hexadecimal for SF_FF_HEX fields, as Scapy's X fields)
 *   %r,field%    the number itself, in decimal
 *   %^field%     a field of the layer below (Scapy's self.underlayer)
 *   %$what%      the text the protocol's text() hook makes
 *   %% %( %)     '%', '{', '}'
 *   {cond:text}  text when cond holds, nested freely; cond is one of
 *                field (not 0), field=N, field&NAME (that flag bit set),
 *                ^NAME (the layer below is protocol NAME), ^@net (the
 *                layer below has the network role: IP and IPv6 alike),
 *                $what (the hook has that text); a leading ! negates.
 *
 * Every function writes as snprintf does: at most cap - 1 bytes and a
 * NUL, and returns the length the whole text has.
 */
#ifndef SF_SUMMARY_H
#define SF_SUMMARY_H

#include "sf.h"

/* Scapy's Packet.summary() of a dissected packet */
size_t sf_scapy_summary(const sf_pkt *p, char *out, size_t cap);

/* The classes of Scapy's layers that layer li of p is, " / " between
   them ("HTTP / HTTPRequest", "Dot11 / Dot11ProbeReq": classes Scapy has
   and sflua not put in), as a summary without texts would say them; -1
   when layer li is none of Scapy's: a record of the message before it (a
   DNS answer) or a layer one before it keeps (sf_scapy.keeps: a TLS
   record's messages, what a CCMP frame's data field holds). */
long sf_scapy_units(const sf_pkt *p, int li, char *out, size_t cap);

/* Scapy's class name of layer li: "TCP", "IPerror", "ICMPv6EchoRequest" */
const char *sf_scapy_class(const sf_pkt *p, int li);

/* field fi of layer li as Scapy shows it (its i2repr) */
size_t sf_scapy_repr(const sf_pkt *p, int li, int fi, char *out, size_t cap);

/* Scapy's Packet.sprintf(fmt) over p: %[fmt[r],][cls[:n].]field%, {cls:...}
   and {!cls:...}, %.time%; a class is Scapy's (sf_scapy_class) or the
   protocol's name.  What is not found reads "??", as Scapy's relax=1.
   A malformed directive is an error: -1, with a message in err. */
long sf_scapy_sprintf(const sf_pkt *p, const char *fmt, char *out, size_t cap,
                      char *err, size_t errcap);

/* Python's repr of bytes (b'..'), as Scapy's texts show bytes values */
size_t sf_scapy_pybytes(const uint8_t *d, size_t n, char *out, size_t cap);

/* Python's str of bytes decoded as UTF-8, undecodable bytes \xNN
   (Scapy's plain_str), not NUL-safe: its length is what counts */
size_t sf_scapy_pystr(const uint8_t *d, size_t n, char *out, size_t cap);

/* A name from the system's files as Scapy reads them (/etc/ethertypes,
   /etc/protocols, /etc/services): source "ethertypes", "protocols",
   "services/tcp", "services/udp"; NULL when the value has none. */
const char *sf_scapy_name(const char *source, uint64_t value);

#endif
