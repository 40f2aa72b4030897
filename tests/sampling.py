"""Which cases a slow interop test checks in one run (docs/testing.md,
"Samples").

By default a test checks a sample: every kind of case at least once, which
case stands for a kind rotating with a seed.  The seed is SFLUA_TEST_SEED
(default: the clock) and is printed, so a failing sample can be replayed;
SFLUA_TEST_EXHAUSTIVE=1 checks every case.  The shell half is sampling.sh.
"""
import os
import random
import sys
import time
import zlib

EXHAUSTIVE = os.environ.get("SFLUA_TEST_EXHAUSTIVE", "0") not in ("", "0")


def _seed():
    text = os.environ.get("SFLUA_TEST_SEED", "")
    if text == "":
        return int(time.time())
    if not text.isdigit():
        sys.exit("SFLUA_TEST_SEED must be a non-negative integer, got %r" % text)
    return int(text)


SEED = _seed()


def announce(test):
    """Print how this run samples, and how to replay it."""
    if EXHAUSTIVE:
        print("%s: every case (SFLUA_TEST_EXHAUSTIVE=1)" % test)
    else:
        print("%s: a sample, seed %d (SFLUA_TEST_SEED=%d replays it, "
              "SFLUA_TEST_EXHAUSTIVE=1 checks every case)" % (test, SEED, SEED))


def cover(label, cases, *kinds):
    """The cases to check, in their given order: all of them when
    exhaustive; otherwise a subset in which every value of every kind
    function appears at least once.  Cases are visited in an order shuffled
    by the seed (and label, so two samples of one run are independent) and
    kept when they bring a kind not yet covered."""
    cases = list(cases)
    if EXHAUSTIVE:
        return cases
    rng = random.Random(SEED * 4294967311 + zlib.crc32(label.encode()))
    order = list(range(len(cases)))
    rng.shuffle(order)
    covered, keep = set(), set()
    for i in order:
        values = {(k, kind(cases[i])) for k, kind in enumerate(kinds)}
        if not values <= covered:
            keep.add(i)
            covered |= values
    return [c for i, c in enumerate(cases) if i in keep]
