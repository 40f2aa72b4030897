#!/usr/bin/python3
"""scapy_text.py: Scapy's text for packets, the oracle of sflua's
p:summary("scapy") and p:sprintf().

Reads lines "HEX<TAB>LINKTYPE" on stdin; for each, dissects the bytes with
the class Scapy gives that link type and writes one line:
HEX<TAB>LINKTYPE<TAB>CLASSES<TAB>summary()<TAB>sprintf(F1)<TAB>...  with
the layers' classes (" / " between them: the text is compared only where
sflua dissects the same layers), the formats, and last show2(dump=True)
of FORMATS (tests/lua/scapy_text_spec.lua uses the same list, read from
the golden file's header).  Tabs and newlines in a text are written \\t
and \\n.

--layers tls,http,... loads those of Scapy's layers first (load_layer, as a
Scapy user does for the ones scapy.all leaves out); the classes column
then lists a TLS record's messages after it: "TLS[TLSClientHello,Raw]".

Exit status: 0, or 77 when Scapy cannot be imported.
"""
import sys

from scapy_common import escape  # exits 77 without Scapy
from scapy.all import conf, Raw  # noqa: F401
from scapy.packet import NoPayload

# Formats with classes Scapy and sflua name alike (no ICMPv6 message
# classes, whose Scapy names differ by type).
FORMATS = [
    "%IP.src% > %IP.dst% {TCP:%TCP.sport%}{UDP:%UDP.dport%}",
    "%-20s,Ether.src%|%5dr,IP.ttl%|%04xr,IP.id%|%IPv6.nh%|%IPv6.src%",
    "{!TCP:no tcp}{ICMP:%ICMP.type%/%ICMP.code%}%TCP.flags%|%r,TCP.flags%",
    "%IP:2.src% %Dot1Q.vlan% %ARP.op% %ARP.pdst% %ARP.hwsrc%",
    "%dst% %type% %ttl% %dport% %proto%",
    "%%%(%IP.proto%%)%UDP.sport%{IPerror:quoted %IPerror.dst%}{TCPerror:%TCPerror.dport%}",
    "%TCP.dport% %UDP.sport% %ICMP.id% %IP.flags% %r,IP.flags% %TCP.window%",
]


def class_of(layer):
    """A layer's class, and a TLS record's messages (its msg list, or the
    encrypted content it holds instead) in brackets."""
    name = layer.__class__.__name__
    msg = layer.getfieldval("msg") if "msg" in layer.fieldtype else None
    if name in ("TLS", "TLS13", "SSLv2") and msg is not None:
        msgs = msg if isinstance(msg, list) else [msg]
        name += "[" + ",".join(m.__class__.__name__ for m in msgs) + "]"
    return name


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--layers":
        from scapy.all import load_layer
        for name in sys.argv[2].split(","):
            load_layer(name)
        del sys.argv[1:3]
    if len(sys.argv) > 1 and sys.argv[1] == "--formats":
        for f in FORMATS:
            print(f)
        return 0
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        hexs, linktype = line.split("\t")[:2]
        cls = conf.l2types.num2layer.get(int(linktype), Raw)
        try:
            pkt = cls(bytes.fromhex(hexs))
        except Exception as e:  # Scapy's own failure: not a case to compare
            print("scapy_text.py: %s cannot dissect %s...: %s" % (cls.__name__, hexs[:40], e),
                  file=sys.stderr)
            continue
        classes, layer = [], pkt
        while layer is not None and not isinstance(layer, NoPayload):
            classes.append(class_of(layer))
            layer = layer.payload
        texts = [" / ".join(classes), pkt.summary()] + [pkt.sprintf(f) for f in FORMATS]
        texts.append(pkt.show2(dump=True))
        print("\t".join([hexs, linktype] + [escape(t) for t in texts]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
