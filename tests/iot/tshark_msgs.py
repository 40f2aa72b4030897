#!/usr/bin/python3
"""tshark_msgs.py PROTO < tshark -T json --no-duplicate-keys: one line per
message of PROTO (mqtt, or mbtcp for Modbus/TCP with its modbus PDU) that
tshark dissected, in capture order: "SPORT>DPORT<TAB>name=value<TAB>..."
with the fields' values as tshark gives them (lists joined by ",", bytes
as plain hex, booleans as 0/1), names sorted.  The MQTT and Modbus specs
write the same lines from sflua's parse and compare."""
import json
import sys

proto = sys.argv[1]


def flat(obj, out):
    for k, v in obj.items():
        if isinstance(v, dict):
            flat(v, out)
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            for x in v:
                flat(x, out)
        else:
            vals = v if isinstance(v, list) else [v]
            out.setdefault(k, []).extend(vals)
    return out


def norm(k, v):
    if v in ("True", "False"):
        return "1" if v == "True" else "0"
    if k.endswith((".msg", ".willmsg", ".passwd", ".data", "prop_binary")) or ":" in v and all(
            len(x) == 2 for x in v.split(":")):
        return v.replace(":", "")
    return v


for frame in json.load(sys.stdin):
    layers = frame["_source"]["layers"]
    if proto not in layers:
        continue
    tcp = layers.get("tcp", {})
    d = "%s>%s" % (tcp.get("tcp.srcport"), tcp.get("tcp.dstport"))
    msgs = layers[proto] if isinstance(layers[proto], list) else [layers[proto]]
    pdus = []
    if proto == "mbtcp":  # each ADU's PDU is a "modbus" layer of its own
        m = layers.get("modbus", [])
        pdus = m if isinstance(m, list) else [m]
    for i, m in enumerate(msgs):
        f = flat(m, {})
        if i < len(pdus):
            flat(pdus[i], f)
        cols = ["%s=%s" % (k, ",".join(norm(k, x) for x in f[k])) for k in sorted(f)
                if not k.endswith("_tree") and not k.startswith("_ws")]
        print(d + "\t" + "\t".join(cols))
