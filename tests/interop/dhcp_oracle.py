#!/usr/bin/python3
"""dhcp_oracle.py: Scapy's side of the DHCP cross-check (run_dhcp_crosscheck.sh).

Reads the lines of gen_dhcp.lua on stdin (Scapy expression TAB sflua hex TAB
sflua spec TAB expected options, the last two Lua literals).  For each case
it builds the expression with Scapy 2.5, compares bytes(pkt) with sflua's,
and dissects Scapy's bytes with Scapy: the layer classes, BOOTP's fields and
DHCP's options as Scapy reads them.  With --golden it writes all of that as a
Lua table (tests/data/dhcp_golden.lua), which dhcp_golden_check.lua holds
sflua's parse against, with or without Scapy installed.

  dhcp_oracle.py [--golden OUT.lua] [--seed N] [--max-diffs K] < cases

Exit status: 0 when every case's bytes match, 1 otherwise, 77 when Scapy
cannot be imported.
"""
import argparse
import sys

try:
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    import scapy
    from scapy.all import Ether, NoPayload
    from scapy.layers.dhcp import BOOTP, DHCP, DHCPOptions
    from scapy.fields import Field
except Exception as e:  # pragma: no cover
    print("scapy not importable: %s" % e, file=sys.stderr)
    sys.exit(77)


def lua_str(b):
    if isinstance(b, str):
        b = b.encode("latin-1")
    out = ['"']
    for c in b:
        if 32 <= c < 127 and c not in (34, 92):
            out.append(chr(c))
        else:
            out.append("\\%03d" % c)
    out.append('"')
    return "".join(out)


def lua(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (str, bytes)):
        return lua_str(v)
    if isinstance(v, (list, tuple)):
        return "{" + ",".join(lua(x) for x in v) + "}"
    if isinstance(v, dict):
        return "{" + ",".join("[%s]=%s" % (lua(k), lua(v[k])) for k in sorted(v)) + "}"
    raise TypeError("cannot write %r as Lua" % (v,))


BOOTP_FIELDS = ["op", "htype", "hlen", "hops", "xid", "secs", "flags", "ciaddr",
                "yiaddr", "siaddr", "giaddr", "chaddr", "sname", "file", "options"]


def bootp_fields(b):
    """BOOTP's fields; chaddr, sname and file without their trailing NULs
    (the bytes are compared whole anyway)."""
    out = {}
    for name in BOOTP_FIELDS:
        v = b.getfieldval(name)
        if name == "flags":
            v = int(v)
        elif name in ("chaddr", "sname", "file"):
            v = v.rstrip(b"\0")
        out[name] = v
    return out


def option_item(o):
    """A Scapy option in a neutral form: "pad", "end", bytes (what did not
    parse), or [name or code, values...] with lists kept."""
    if isinstance(o, str):
        return o
    if isinstance(o, bytes):
        return o
    out = [o[0]]
    for v in o[1:]:
        if isinstance(v, (list, tuple)):
            out.append([x if isinstance(x, (int, str, bytes)) else str(x) for x in v])
        else:
            out.append(v)
    return out


def dissect(raw):
    layers, bootp, options = [], None, None
    layer = Ether(raw)
    while layer is not None and not isinstance(layer, NoPayload):
        layers.append(type(layer).__name__)
        if isinstance(layer, BOOTP):
            bootp = bootp_fields(layer)
        if isinstance(layer, DHCP):
            options = [option_item(o) for o in layer.options]
        layer = layer.payload
    r = {"layers": layers}
    if bootp is not None:
        r["bootp"] = bootp
    if options is not None:
        r["options"] = options
    return r


def scapy_names():
    """Scapy's option names by code: sflua's names must be these."""
    return {k: (v if isinstance(v, str) else v.name) for k, v in DHCPOptions.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--golden", help="write the golden Lua file here")
    ap.add_argument("--seed", default="?", help="seed, for the report")
    ap.add_argument("--max-diffs", type=int, default=10)
    args = ap.parse_args()

    ns = {}
    exec("from scapy.all import *", ns)
    passed = failed = 0
    entries = []
    for lineno, line in enumerate(sys.stdin, 1):
        line = line.rstrip("\n")
        if not line:
            continue
        expr, sfhex, spec, want = line.split("\t")
        try:
            raw = bytes(eval(expr, ns))  # noqa: S307 - our generator's expressions
            seen = dissect(raw)
        except Exception as e:
            failed += 1
            if failed <= args.max_diffs:
                print("case %d: Scapy failed: %r\n  %s" % (lineno, e, expr), file=sys.stderr)
            continue
        if raw.hex() == sfhex:
            passed += 1
        else:
            failed += 1
            if failed <= args.max_diffs:
                at = next((i for i in range(0, min(len(raw.hex()), len(sfhex)), 2)
                           if raw.hex()[i:i + 2] != sfhex[i:i + 2]), None)
                print("case %d: bytes differ at offset %s\n  scapy: %s\n  sflua: %s\n"
                      "  expr:  %s\n  spec:  %s"
                      % (lineno, at and at // 2, raw.hex(), sfhex, expr, spec), file=sys.stderr)
        entries.append("{expr=%s,\nhex=%s,\nspec=%s,\nwant=%s,\nscapy=%s}"
                       % (lua_str(expr), lua_str(raw.hex()), spec, want, lua(seen)))

    if args.golden:
        with open(args.golden, "w") as out:
            out.write("-- Generated by tests/interop/run_dhcp_crosscheck.sh --golden "
                      "(seed %s) with Scapy %s.\n" % (args.seed, scapy.VERSION))
            out.write("-- Each case: the Scapy expression, Scapy's bytes, the sflua spec\n"
                      "-- that builds them, the options sflua should read, and Scapy's\n"
                      "-- dissection (layers, BOOTP fields, DHCP options).  Do not edit.\n")
            out.write("return {\nnames=%s,\ncases={\n" % lua(scapy_names()))
            out.write(",\n".join(entries))
            out.write("\n}}\n")
    print("bytes: %d passed, %d failed (seed %s)" % (passed, failed, args.seed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
