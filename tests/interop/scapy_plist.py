#!/usr/bin/python3
"""scapy_plist.py: Scapy's PacketList text for the captures named on the
command line, as a Lua table literal (tests/data/scapy_plist_golden.lua,
read by tests/lua/packetlist_spec.lua): repr of the list, of a slice, of a
concatenation and of a filtered list; nsummary(); hexdump() of the first
three packets; make_table of (IP src, IP dst, TCP dport) over the IPv4 TCP
packets; the session keys and their lists' reprs; the conversations graph.
Run with TZ=UTC (hexdump prints local times).  Scapy's TLS and HTTP layers
are loaded first, as for tests/interop/run_scapy_text.sh --layers.

Exit status: 0, or 77 when Scapy cannot be imported.
"""
import contextlib
import io
import os
import sys

try:
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.all import rdpcap, IP, TCP, conf, load_layer  # noqa: F401
    load_layer("tls")   # as a Scapy user does: sflua's summaries assume them
    load_layer("http")
    import scapy.plist
    scapy.plist.do_graph = lambda graph, **kargs: graph  # the dot text itself
except Exception as e:  # pragma: no cover
    print("scapy not importable: %s" % e, file=sys.stderr)
    sys.exit(77)


def lua_str(s):
    out = ['"']
    for c in s.encode("utf-8"):
        out.append(chr(c) if 32 <= c < 127 and c not in (34, 92) else "\\%03d" % c)
    out.append('"')
    return "".join(out)


def printed(fn):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        fn()
    return buf.getvalue()


def main():
    print("-- Scapy's PacketList text, by tests/interop/scapy_plist.py (TZ=UTC). Regenerate; do not edit.")
    print("return {")
    for path in sys.argv[1:]:
        pl = rdpcap(path)
        tcp4 = pl.filter(lambda p: IP in p and TCP in p)
        sess = pl.sessions()
        items = {
            "file": os.path.basename(path),
            "repr": repr(pl),
            "slice": repr(pl[2:5]),
            "concat": repr(pl + pl[:2]),
            "filtered": repr(pl.filter(lambda p: TCP in p)),
            "nsummary": printed(lambda: pl.nsummary()),
            "hexdump3": printed(lambda: pl[:3].hexdump()),
            "table": printed(lambda: tcp4.make_table(lambda p: (p[IP].src, p[IP].dst, p[TCP].dport))),
            "sessions": "\n".join("%s %s" % (k, repr(v)) for k, v in sorted(sess.items())),
            "conversations": pl.conversations(),
        }
        print("{" + ",\n ".join("%s=%s" % (k, lua_str(v)) for k, v in items.items()) + "},")
    print("}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
