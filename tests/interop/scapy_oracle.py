#!/usr/bin/python3
"""scapy_oracle.py: Scapy's side of the sflua cross-check.

Reads lines from gen_cases.lua on stdin (Scapy expression TAB sflua hex TAB
sflua spec as a Lua literal).  For each case it builds the Scapy expression,
compares bytes(pkt) with sflua's bytes, dissects Scapy's bytes with Scapy and
records the field values Scapy sees.  It writes a golden file (a Lua table
literal, see tests/lua/scapy_golden_spec.lua) that holds, per case, the spec,
Scapy's hex and Scapy's dissection, so sflua can be checked without Scapy.

  scapy_oracle.py [--golden OUT.lua] [--seed N] [--max-diffs K] < cases

Exit status: 0 when every case's bytes match, 1 otherwise, 77 when Scapy
cannot be imported.
"""
import argparse
import sys

try:
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.all import *  # noqa: F401,F403
    from scapy.all import conf, Ether, Raw, Padding
    from scapy.fields import ConditionalField, MultipleTypeField, FlagValue
    from scapy.packet import Packet, NoPayload
    import scapy
except Exception as e:  # pragma: no cover
    print("scapy not importable: %s" % e, file=sys.stderr)
    sys.exit(77)


# ---- Lua literals ------------------------------------------------------------

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
        return "{" + ",".join("%s=%s" % (k, lua(v[k])) for k in sorted(v)) + "}"
    raise TypeError("cannot write %r as Lua" % (v,))


# ---- Scapy values in sflua's shapes --------------------------------------------

IPOPT_NAMES = {
    "IPOption_NOP": "NOP", "IPOption_EOL": "EOL", "IPOption_RR": "RR",
    "IPOption_LSRR": "LSRR", "IPOption_SSRR": "SSRR",
    "IPOption_Router_Alert": "Router_Alert", "IPOption_Stream_Id": "Stream_Id",
}


def ip_options(opts):
    out = []
    for o in opts:
        name = IPOPT_NAMES.get(type(o).__name__)
        if name is None:
            raise ValueError("unexpected IP option %r" % o)
        if name in ("NOP", "EOL"):
            out.append([name])
        elif name in ("RR", "LSRR", "SSRR"):
            out.append([name, list(o.routers)])
        elif name == "Router_Alert":
            out.append([name, int(o.alert)])
        else:
            out.append([name, int(o.security)])
        if name == "EOL":  # what follows is padding
            break
    return out


def tcp_options(opts):
    out = []
    for name, v in opts:
        if name in ("NOP", "EOL"):
            out.append([name])
        elif name == "SAckOK":
            out.append([name, bytes(v)])
        elif name in ("Timestamp", "SAck"):
            out.append([name, [int(x) for x in v]])
        elif isinstance(v, int):
            out.append([name, v])
        else:
            raise ValueError("unexpected TCP option %r" % ((name, v),))
        if name == "EOL":
            break
    return out


def ip6_options(opts):
    out = []
    for o in opts:
        cls = type(o).__name__
        if cls == "Pad1":
            out.append(["Pad1"])
        elif cls == "PadN":
            out.append(["PadN", len(o.optdata)])
        elif cls == "RouterAlert":
            out.append(["RouterAlert", int(o.value)])
        elif cls == "Jumbo":
            out.append(["Jumbo", int(o.jumboplen)])
        elif cls == "HAO":
            out.append(["HAO", o.hoa])
        else:  # sflua keeps an unknown option as {type, bytes}
            out.append([int(o.otype), bytes(o.optdata)])
    return out


def active(layer, f):
    if isinstance(f, ConditionalField):
        return f._evalcond(layer)
    return True


def value_of(layer, f):
    v = layer.getfieldval(f.name)
    cls = type(layer).__name__
    if v is None:
        return None
    if f.name == "options":
        if cls in ("IP", "IPerror"):
            return ip_options(v)
        if cls in ("TCP", "TCPerror"):
            return tcp_options(v)
        return ip6_options(v)
    if isinstance(v, FlagValue):
        return str(v)
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v]
    if isinstance(v, (int, str, bytes)):
        return v
    raise ValueError("unexpected value %r for %s.%s" % (v, cls, f.name))


def dissect(raw):
    """Scapy's view of raw: a list of [class, {field: value}], one per layer."""
    out = []
    layer = Ether(raw)
    while layer is not None and not isinstance(layer, NoPayload):
        fields = {}
        for f in layer.fields_desc:
            if f.name == "autopad" or not active(layer, f):
                continue
            v = value_of(layer, f)
            if v is None or (f.name == "unused" and v == b""):
                continue  # a field of no width in this message type
            fields[f.name] = v
        out.append([type(layer).__name__, fields])
        layer = layer.payload
    return out


# ---- main ------------------------------------------------------------------------

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
        expr, sfhex, spec = line.split("\t")
        try:
            pkt = eval(expr, ns)
            raw = bytes(pkt)
            recs = dissect(raw)
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
                diff = next((i for i in range(min(len(raw), len(sfhex) // 2))
                             if raw.hex()[2 * i:2 * i + 2] != sfhex[2 * i:2 * i + 2]),
                            min(len(raw), len(sfhex) // 2))
                print("case %d: bytes differ at offset %d\n  scapy: %s\n  sflua: %s\n"
                      "  expr:  %s\n  spec:  %s"
                      % (lineno, diff, raw.hex(), sfhex, expr, spec), file=sys.stderr)
        entries.append("{expr=%s,\nhex=%s,\nspec=%s,\nlayers=%s}"
                       % (lua_str(expr), lua_str(raw.hex()), spec, lua(recs)))

    if args.golden:
        with open(args.golden, "w") as out:
            out.write("-- Generated by tests/interop/run_scapy_crosscheck.sh --golden "
                      "(seed %s) with Scapy %s.\n" % (args.seed, scapy.VERSION))
            out.write("-- Each case: the sflua spec, the Scapy expression built from it, Scapy's\n"
                      "-- bytes, and Scapy's dissection of them: per layer {Scapy class,\n"
                      "-- {field = value}}.  Do not edit; regenerate.\n")
            out.write("return {\n")
            out.write(",\n".join(entries))
            out.write("\n}\n")
    print("bytes: %d passed, %d failed (seed %s)" % (passed, failed, args.seed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
