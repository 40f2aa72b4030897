#!/usr/bin/python3
"""scapy_custom_oracle.py: Scapy's side of the custom-layer cross-check.

Declares, as Scapy Packet classes, the layers of tests/custom/defs.lua
(same names, fields, defaults and options), reads the cases of
gen_custom_cases.lua on stdin (JSON TAB Lua literal), builds each with
Scapy, dissects Scapy's bytes with Scapy, and writes a golden file (a Lua
table literal): per case the Lua case, Scapy's bytes in hex and Scapy's
field values ({name, value} pairs in field order; {name} alone = absent).

  scapy_custom_oracle.py --golden OUT.lua [--seed N] < cases

Exit status 0, 1 on a case Scapy cannot build, 77 without Scapy.
"""
import argparse
import json
import sys

try:
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    import scapy
    from scapy.packet import Packet, bind_layers
    from scapy.fields import (
        ByteField, XByteField, SignedByteField, ShortField, XShortField,
        LEShortField, IntField, XIntField, LEIntField, SignedIntField,
        LongField, XLongField, BitField, FlagsField, ByteEnumField,
        ShortEnumField, IntEnumField, StrField, StrFixedLenField,
        StrLenField, StrNullField, FieldLenField, FieldListField,
        PacketListField, IPField, IP6Field, MACField, ConditionalField,
        PadField, FlagValue)
    from scapy.layers.l2 import Ether
    from scapy.layers.inet import IP, UDP
except Exception as e:  # pragma: no cover
    print("scapy not importable: %s" % e, file=sys.stderr)
    sys.exit(77)


# ---- the layers (keep in step with defs.lua) -----------------------------------

class CTInts(Packet):
    name = "CTInts"
    fields_desc = [
        ByteField("a", 1), XByteField("b", 0xab), SignedByteField("c", -5),
        ShortField("d", 0x1234), XShortField("e", 0), LEShortField("f", 0x0102),
        IntField("g", 7), XIntField("h", 0xdeadbeef), LEIntField("i", 0x01020304),
        SignedIntField("j", -2), LongField("k", 0x0102030405060708),
        XLongField("l", 0),
    ]


class CTBits(Packet):
    name = "CTBits"
    fields_desc = [
        BitField("ver", 4, 4), BitField("ihl", 5, 4),
        FlagsField("fl", 0, 8, "ABCDEFGH"),
        FlagsField("opts", 0, 8, ["SYN", "ACK", "FIN", "RST", "PSH", "URG", "ECE", "CWR"]),
        BitField("x", 0xabc, 12), BitField("y", 3, 4),
        FlagsField("nine", 0, 9, ["f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8"]),
        BitField("tail", 0, 7),
    ]


class CTEnum(Packet):
    name = "CTEnum"
    fields_desc = [
        ByteEnumField("op", 1, {1: "get", 2: "set", 3: "del"}),
        ShortEnumField("status", 0, {0: "ok", 256: "err", 0xffff: "fatal"}),
        IntEnumField("code", 7, {7: "seven", 0x10000: "big"}),
    ]


class CTStr(Packet):
    name = "CTStr"
    fields_desc = [
        StrFixedLenField("tag", b"ab", 8), StrNullField("label", b"x"),
        ByteField("mid", 0), StrField("rest", b""),
    ]


class CTLen(Packet):
    name = "CTLen"
    fields_desc = [
        FieldLenField("len", None, length_of="data"),
        FieldLenField("cnt", None, count_of="items", fmt="B"),
        FieldLenField("alen", None, length_of="data2", fmt="<H",
                      adjust=lambda pkt, x: x + 2),
        StrLenField("data", b"", length_from=lambda pkt: pkt.len),
        FieldListField("items", [], ShortField("item", 0),
                       count_from=lambda pkt: pkt.cnt),
        StrLenField("data2", b"", length_from=lambda pkt: pkt.alen - 2),
    ]


class CTAddrList(Packet):
    name = "CTAddrList"
    fields_desc = [
        FieldLenField("ln", None, length_of="addrs", fmt="B"),
        FieldListField("addrs", [], IPField("a", "0.0.0.0"),
                       length_from=lambda pkt: pkt.ln),
        FieldLenField("n6", None, count_of="addrs6", fmt="I"),
        FieldListField("addrs6", [], IP6Field("a6", "::"),
                       count_from=lambda pkt: pkt.n6),
        FieldLenField("nle", None, count_of="les", fmt="<H"),
        FieldListField("les", [], LEIntField("v", 0),
                       count_from=lambda pkt: pkt.nle),
    ]


class CTTlv(Packet):
    name = "CTTlv"
    fields_desc = [
        ByteField("t", 1),
        FieldLenField("l", None, length_of="v", fmt="B"),
        StrLenField("v", b"", length_from=lambda pkt: pkt.l),
    ]

    def extract_padding(self, s):  # an element ends where its fields end
        return b"", s


class CTPkts(Packet):
    name = "CTPkts"
    fields_desc = [
        ByteField("kind", 0),
        FieldLenField("blen", None, length_of="more"),
        PacketListField("more", [], CTTlv, length_from=lambda pkt: pkt.blen),
        ShortField("trailer", 0xffff),
    ]


class CTPktsCnt(Packet):
    name = "CTPktsCnt"
    fields_desc = [
        FieldLenField("cnt", None, count_of="elems", fmt="B"),
        PacketListField("elems", [], CTTlv, count_from=lambda pkt: pkt.cnt),
        ShortField("trailer", 0xffff),
    ]


class CTCond(Packet):
    name = "CTCond"
    fields_desc = [
        ByteField("present", 0),
        ConditionalField(IntField("x", 0x11111111), lambda pkt: pkt.present & 1 != 0),
        ConditionalField(StrFixedLenField("y", b"zz", 2), lambda pkt: pkt.present & 2 != 0),
        ConditionalField(IPField("z", "1.2.3.4"), lambda pkt: pkt.present & 4 != 0),
        ShortField("tail", 0x5555),
    ]


class CTCondVar(Packet):
    name = "CTCondVar"
    fields_desc = [
        ByteField("op", 1),
        ConditionalField(IntField("x", 7), lambda pkt: pkt.op == 2),
        StrField("s", b""),
    ]


class CTCondPkts(Packet):
    name = "CTCondPkts"
    fields_desc = [
        ByteField("op", 0),
        FieldLenField("blen", None, length_of="elems", fmt="B"),
        FieldLenField("cnt", None, count_of="more", fmt="B"),
        ConditionalField(ShortField("x", 0x1234), lambda pkt: pkt.op & 1 != 0),
        PacketListField("elems", [], CTTlv, length_from=lambda pkt: pkt.blen),
        ConditionalField(ByteField("y", 9), lambda pkt: pkt.op & 2 != 0),
        PacketListField("more", [], CTTlv, count_from=lambda pkt: pkt.cnt),
        ConditionalField(ShortField("z", 0x5678), lambda pkt: pkt.op & 4 != 0),
        StrField("rest", b""),
    ]


class CTCondEvery(Packet):
    name = "CTCondEvery"
    fields_desc = [
        ByteField("op", 0),
        FieldLenField("ln", None, length_of="s", fmt="B"),
        FieldLenField("cn", None, count_of="items", fmt="B"),
        ConditionalField(ByteField("a", 1), lambda pkt: pkt.op & 1 != 0),
        StrLenField("s", b"", length_from=lambda pkt: pkt.ln),
        ConditionalField(ShortField("b", 2), lambda pkt: pkt.op & 2 != 0),
        StrNullField("n", b"nn"),
        ConditionalField(StrFixedLenField("f", b"ff", 3), lambda pkt: pkt.op & 4 != 0),
        FieldListField("items", [], ShortField("i", 0), count_from=lambda pkt: pkt.cn),
        ConditionalField(PadField(StrNullField("p", b"pp"), 4), lambda pkt: pkt.op & 8 != 0),
        ConditionalField(StrNullField("q", b"qq"), lambda pkt: pkt.op & 16 != 0),
        PadField(ByteField("z", 3), 2),
        ConditionalField(IPField("ip", "1.2.3.4"), lambda pkt: pkt.op & 32 != 0),
        ByteField("pc", 0),
        ConditionalField(PacketListField("pk", [], CTTlv, count_from=lambda pkt: pkt.pc),
                         lambda pkt: pkt.op & 64 != 0),
        StrField("rest", b""),
    ]


class CTPad(Packet):
    name = "CTPad"
    fields_desc = [
        PadField(StrNullField("s", b"ab"), 4),
        PadField(ByteField("b", 9), 4),
        ShortField("z", 0x0102),
    ]


class CTPad2(Packet):
    name = "CTPad2"
    fields_desc = [
        ByteField("first", 1),
        PadField(StrNullField("s", b"abc"), 4),
        PadField(ShortField("w", 2), 8),
        ByteField("last", 3),
    ]


class CTAddr(Packet):
    name = "CTAddr"
    fields_desc = [
        IPField("ip", "10.0.0.1"), IP6Field("ip6", "2001:db8::1"),
        MACField("mac", "00:11:22:33:44:55"),
    ]


LAYERS = {c.__name__: c for c in (CTInts, CTBits, CTEnum, CTStr, CTLen, CTAddrList,
                                  CTTlv, CTPkts, CTPktsCnt, CTCond, CTCondVar, CTCondPkts,
                                  CTCondEvery, CTPad, CTPad2, CTAddr)}
PORTS = {"CTInts": 7001, "CTBits": 7002, "CTEnum": 7003, "CTStr": 7004,
         "CTLen": 7005, "CTAddrList": 7006, "CTPkts": 7007, "CTCond": 7008, "CTPktsCnt": 7012,
         "CTCondVar": 7013, "CTCondPkts": 7014, "CTCondEvery": 7015,
         "CTPad": 7009, "CTPad2": 7010, "CTAddr": 7011}
for _name, _port in PORTS.items():
    bind_layers(UDP, LAYERS[_name], dport=_port)


def frame(inner):
    return (Ether(dst="02:00:00:00:00:01", src="02:00:00:00:00:02") /
            IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=40000) / inner)


# ---- JSON values -> Scapy arguments ---------------------------------------------

def base(f):
    while isinstance(f, (ConditionalField, PadField)):
        f = f.fld
    return f


def is_bytes_field(f):
    return isinstance(f, StrField)


def scapy_value(f, v):
    f = base(f)
    if isinstance(v, dict) and "$s" in v:
        b = bytes.fromhex(v["$s"])
        return b if is_bytes_field(f) else b.decode("latin-1")
    if isinstance(v, dict) and "$pkt" in v:
        return make(v["$pkt"], v["v"])
    if isinstance(v, list):
        item = getattr(f, "field", None)
        return [scapy_value(item, x) if item is not None else scapy_value(f, x) for x in v]
    if isinstance(v, int) and getattr(f, "fmt", "")[-1:] == "Q" and v < 0:
        return v + (1 << 64)
    return v


def make(layer, values):
    cls = LAYERS[layer]
    kw = {}
    for f in cls.fields_desc:
        if f.name in values:
            kw[f.name] = scapy_value(f, values[f.name])
    return cls(**kw)


# ---- Scapy values -> Lua ------------------------------------------------------------

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


def lua_int(v):
    if v > 0x7fffffffffffffff:
        return "0x%x" % v
    return str(v)


def fields_of(pkt):
    """[(name, value)] or [(name,)] for an absent conditional field."""
    out = []
    for f in pkt.fields_desc:
        if isinstance(f, ConditionalField) and not f._evalcond(pkt):
            out.append("{%s}" % lua_str(f.name))
            continue
        v = pkt.getfieldval(f.name)
        out.append("{%s,%s}" % (lua_str(f.name), lua_val(base(f), v)))
    return "{" + ",".join(out) + "}"


def lua_val(f, v):
    if isinstance(v, Packet):
        return "{layer=%s,fields=%s}" % (lua_str(type(v).__name__), fields_of(v))
    if isinstance(v, list):
        item = getattr(f, "field", None) or f
        return "{" + ",".join(lua_val(item, x) for x in v) + "}"
    if isinstance(v, FlagValue):
        return lua_str(str(v))
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return lua_int(v)
    if isinstance(v, (bytes, str)):
        return lua_str(v)
    raise TypeError("cannot write %r (%s) as Lua" % (v, f.name))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--golden", required=True)
    ap.add_argument("--seed", default="?")
    a = ap.parse_args()
    out, bad = [], 0
    for n, line in enumerate(sys.stdin, 1):
        line = line.rstrip("\n")
        if not line:
            continue
        js, lua_case = line.split("\t", 1)
        case = json.loads(js)
        try:
            inner = make(case["layer"], case["values"])
            pkt = frame(inner) if case.get("wrap") == "udp" else inner
            raw = bytes(pkt)
            if case.get("wrap") == "udp":
                back = Ether(raw)
                layer = back.getlayer(LAYERS[case["layer"]])
                if layer is None:
                    raise ValueError("Scapy did not dissect %s back" % case["layer"])
            else:
                layer = LAYERS[case["layer"]](raw)
            fields = fields_of(layer)
        except Exception as e:
            print("case %d (%s): Scapy failed: %s" % (n, lua_case, e), file=sys.stderr)
            bad += 1
            continue
        out.append("{case=%s,\n hex=%s,\n fields=%s},\n" % (lua_case, lua_str(raw.hex()), fields))
    with open(a.golden, "w") as fh:
        fh.write("-- Generated by tests/custom/run_scapy_custom.sh --golden (seed %s) with Scapy %s.\n"
                 % (a.seed, scapy.VERSION))
        fh.write("-- Each case: the custom-layer case (tests/custom/gen_custom_cases.lua), the\n"
                 "-- bytes Scapy built for it, and Scapy's dissection of those bytes as\n"
                 "-- {name, value} pairs in field order ({name} = absent).  Do not edit; regenerate.\n")
        fh.write("return {\n")
        fh.writelines(out)
        fh.write("}\n")
    print("scapy: %d cases written, %d failed" % (len(out), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
