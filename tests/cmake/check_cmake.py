#!/usr/bin/env python3
"""Checks that keep the CMake files honest.

usage: check_cmake.py SOURCE_DIR BUILD_DIR

1. Every file a CMake comment names exists (relative to the CMake file,
   to the source root, in the build tree as generated, or as a program on
   PATH).
2. Each source file is compiled once (BUILD_DIR/compile_commands.json),
   except the engine's and the binding's instrumented second copies in a
   fuzzing build.
3. Lua is looked for once: one pkg_check_modules of lua5.4, one
   find_program of the lua5.4 interpreter.
"""

import json
import os
import re
import shutil
import sys

# a path-like word: has a '/' or a file extension we keep in the tree
PATHLIKE = re.compile(
    r"(?<![\w$.{/-])(\.?[\w.-]*/[\w./-]*[\w]|[\w.-]+\.(?:sh|lua|py|c|h|md|txt|cpp|in))(?![\w/])")


def cmake_files(src):
    for root, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs
                   if not d.startswith(".") and not d.startswith("build")]
        for f in files:
            if f == "CMakeLists.txt" or f.endswith(".cmake"):
                yield os.path.join(root, f)


def comments(path):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            i = line.find("#")
            if i >= 0 and not line[:i].count('"') % 2:  # not inside a string
                yield n, line[i + 1:]


def named_files_exist(src, build):
    bad = []
    bases = (src, build, os.path.join(build, "generated"))
    for cm in cmake_files(src):
        here = os.path.dirname(cm)
        for n, text in comments(cm):
            for word in PATHLIKE.findall(text):
                word = word.rstrip(".")
                if "://" in word or word.startswith("-"):
                    continue
                # the shared test data beside the clone: named on purpose,
                # absent from a clone made elsewhere (tests skip it then)
                if word.startswith("../shared"):
                    continue
                if any(os.path.exists(os.path.join(base, word))
                       for base in (here,) + bases):
                    continue
                if "/" not in word and shutil.which(word):
                    continue
                bad.append(f"{os.path.relpath(cm, src)}:{n}: names "
                           f"'{word}', which does not exist")
    return bad


def compiled_once(build):
    db = os.path.join(build, "compile_commands.json")
    if not os.path.exists(db):
        return [f"{db} is missing (CMAKE_EXPORT_COMPILE_COMMANDS)"]
    with open(db, encoding="utf-8") as f:
        entries = json.load(f)
    seen, bad = {}, []
    for e in entries:
        out = e.get("output", "") or e.get("command", "")
        if "sfcore_fuzz.dir" in out or "sfbind_fuzz.dir" in out:  # instrumented
            continue                                                # on purpose
        src = os.path.normpath(os.path.join(e["directory"], e["file"]))
        if src in seen:
            bad.append(f"{src} is compiled twice")
        seen[src] = True
    if not seen:
        bad.append("compile_commands.json lists no source")
    return bad


def lua_found_once(src):
    text = ""
    for cm in cmake_files(src):
        with open(cm, encoding="utf-8") as f:
            text += "".join(l.split("#")[0] + "\n" for l in f)
    bad = []
    pkg = len(re.findall(r"pkg_check_modules\([^)]*\blua5\.4\b", text))
    prog = len(re.findall(r"find_program\([^)]*\blua5\.4\b", text))
    if pkg != 1:
        bad.append(f"pkg_check_modules(... lua5.4) appears {pkg} times")
    if prog != 1:
        bad.append(f"find_program(... lua5.4) appears {prog} times")
    return bad


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, build = map(os.path.abspath, sys.argv[1:])
    failed = 0
    for name, problems in (("comments name files that exist", named_files_exist(src, build)),
                           ("each source compiled once", compiled_once(build)),
                           ("Lua found once", lua_found_once(src))):
        if problems:
            failed += 1
            print(f"FAIL {name}")
            for p in problems:
                print(f"     {p}")
        else:
            print(f"ok   {name}")
    print(f"{3 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
