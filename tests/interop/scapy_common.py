"""scapy_common.py: what the Scapy oracles of sflua's text share (scapy_text.py,
scapy_wireless_text.py): importing Scapy quietly, or exit status 77 (ctest's
skip) when it cannot be imported; and the escaping of their TSV lines."""
import sys

try:
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    import scapy.all  # noqa: F401
except Exception as e:  # pragma: no cover
    print("scapy not importable: %s" % e, file=sys.stderr)
    sys.exit(77)


def escape(s):
    """Tabs, newlines and backslashes of a text as \\t, \\n and \\\\."""
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
