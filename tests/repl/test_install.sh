#!/usr/bin/env bash
# An installed sflua uses only installed files, and the version is one.
# usage: test_install.sh SOURCE_DIR
#
# Builds a copy of the source tree (sflua and the module only), installs it
# with `cmake --install --prefix`, then edits and deletes the copy's
# stdlib/: the installed sflua must not notice, while the copy's build-tree
# sflua (the control) must.  The version that sflua -v, stackforge.version
# (in sflua and in stock lua5.4) and written pcapng files report must be
# the one in CMakeLists.txt's project() line.
set -u

SRC=${1:?usage: test_install.sh SOURCE_DIR}
SRC=$(cd "$SRC" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sflua-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unset LUA_INIT LUA_INIT_5_4 SFLUA_STDLIB LUA_PATH LUA_CPATH

passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
expect() {  # NAME EXPECTED ACTUAL
  if [[ $3 == "$2" ]]; then ok "$1"
  else fail "$1: expected $(printf %q "$2"), got $(printf %q "$3")"; fi
}
finish() { echo "$passed passed, $failed failed"; [[ $failed == 0 ]]; exit; }

# ---- a copy of the source tree, built and installed -----------------------
copy=$tmp/src
mkdir -p "$copy"
for f in "$SRC"/* "$SRC"/.[!.]*; do  # the tree without build directories
  case ${f##*/} in build*|.git) continue ;; esac
  cp -R "$f" "$copy/"
done
prefix=$tmp/prefix
# the configured prefix does not exist: nothing is found there by accident
if cmake -S "$copy" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Debug \
     -DCMAKE_INSTALL_PREFIX="$tmp/configured-prefix" >"$tmp/log" 2>&1 &&
   cmake --build "$tmp/build" -j2 --target sflua stackforge_core >>"$tmp/log" 2>&1 &&
   cmake --install "$tmp/build" --prefix "$prefix" >>"$tmp/log" 2>&1; then
  ok "copy built and installed into a temporary prefix"
else
  cat "$tmp/log"
  fail "build or install of the copy"
  finish
fi
installed=$prefix/bin/sflua
built=$tmp/build/sflua
where='print((package.searchpath("stackforge", package.path)))'

out=$("$built" -e "$where" 2>&1)
expect "the build-tree sflua uses the source tree's stdlib" \
  "$copy/stdlib/stackforge/init.lua" "$out"
out=$("$installed" -e "$where" 2>&1)
expect "the installed sflua uses the installed stdlib" \
  "$prefix/share/lua/5.4/stackforge/init.lua" "$out"

# ---- the source tree changes: only the build-tree sflua sees it ------------
echo 'error("the source tree was loaded")' >"$copy/stdlib/stackforge/init.lua"
out=$("$built" -e 'print("x")' 2>&1)
if [[ $out == *"the source tree was loaded"* ]]; then ok "control: the build-tree sflua reads the edited source"
else fail "control: the build-tree sflua did not read the edited source: $(printf %q "$out")"; fi
out=$("$installed" -e 'print(Packet((IP() / TCP()):bytes(), {proto = "IP"}):summary())' 2>&1)
expect "the installed sflua ignores an edited source tree" "IPv4 / TCP" "$out"

rm -rf "$copy"
out=$("$installed" -e 'print(Packet((IP() / UDP()):bytes(), {proto = "IP"}):summary())' 2>&1)
expect "the installed sflua works with the source tree deleted" "IPv4 / UDP" "$out"

# moved elsewhere, the binary has no installed files next to it and the
# configured prefix has none: it says so instead of finding a source tree
mkdir -p "$tmp/elsewhere"
cp "$installed" "$tmp/elsewhere/sflua"
out=$("$tmp/elsewhere/sflua" -e 'print("x")' 2>&1)
if [[ $out == *"module 'stackforge' not found"* ]]; then ok "a lone copy of the binary finds no stdlib"
else fail "lone binary: $(printf %q "$out")"; fi

# ---- one version --------------------------------------------------------------
version=$(sed -nE 's/^project\(sflua VERSION ([0-9.]+).*/\1/p' "$SRC/CMakeLists.txt")
if [[ -z $version ]]; then fail "no project(sflua VERSION ...) line in CMakeLists.txt"; finish; fi
out=$("$installed" -v 2>&1)
expect "sflua -v" "sflua $version" "${out% (*}"
out=$("$installed" -e 'print(stackforge.version)' 2>&1)
expect "stackforge.version in sflua" "$version" "$out"
if command -v lua5.4 >/dev/null; then
  out=$(LUA_PATH="$prefix/share/lua/5.4/?.lua;$prefix/share/lua/5.4/?/init.lua;;" \
        LUA_CPATH="$(echo "$prefix"/lib*/lua/5.4)/?.so;;" \
        lua5.4 -e 'print(require("stackforge").version)' 2>&1)
  expect "stackforge.version in stock lua5.4 (installed module)" "$version" "$out"
fi
"$installed" -e "wrpcap('$tmp/v.pcapng', {Ether() / IP()})" 2>&1
if grep -qa "sflua $version" "$tmp/v.pcapng"; then ok "pcapng files name sflua $version"
else fail "pcapng application name is not 'sflua $version'"; fi
defines=$(grep -rnE '#[[:space:]]*define[[:space:]]+[A-Z_]*VERSION[[:space:]]+"' "$SRC/core" "$SRC/lua" \
  --include=*.c --include=*.h)
if [[ -n $defines ]]; then
  fail "a version number is written in C: $defines"
else
  ok "no version number written in the C sources"
fi

finish
