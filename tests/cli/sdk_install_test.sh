#!/usr/bin/env bash
# Installs pg-mcp and its SDK into a temporary prefix, builds the example
# plugin out of tree with find_package(pgmcp-sdk), installs it there, and
# checks the installed pg-mcp finds and loads it from its own prefix.
set -e
build=$1
src=$2
. "$src/tests/cli/lib.sh"
prefix="$work/prefix"

run install -- cmake --install "$build" --prefix "$prefix"
expect_rc 0
for f in bin/pg-mcp lib/pg-mcp/plugins/token-bucket.so include/pgmcp/plugin.h \
         include/pgmcp/cpp/plugin.hpp lib/cmake/pgmcp-sdk/pgmcp-sdk-config.cmake \
         lib/cmake/pgmcp-sdk/pgmcp-sdk-config-version.cmake share/pg-mcp/conf/pg-mcp.ini; do
  checks=$((checks + 1)); [ -e "$prefix/$f" ] || { current=layout; fail "missing $f"; }
done

# The example must come from the out-of-tree build, not the in-tree one.
rm -f "$prefix/lib/pg-mcp/plugins/fixed-window.so"
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
run configure -- cmake -S "$src/sdk/examples/ratelimit-fixed-window" -B "$work/example" "${gen[@]}" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
expect_rc 0
run build -- cmake --build "$work/example"
expect_rc 0
run install-example -- cmake --install "$work/example" --prefix "$prefix"
expect_rc 0

# One exported symbol, and nothing else.
run exports -- sh -c "nm -D --defined-only '$prefix/lib/pg-mcp/plugins/fixed-window.so' | awk '{print \$3}'"
expect_rc 0
checks=$((checks + 1))
[ "$(cat "$work/out")" = "pgmcp_plugin_entry" ] || fail "exports: $(tr '\n' ' ' <"$work/out")"

# The installed host finds plugins relative to itself, wherever the prefix is.
moved="$work/moved"
mv "$prefix" "$moved"
run list -- "$moved/bin/pg-mcp" --list-plugins
expect_rc 0
expect_out "fixed-window         rate limiter     1.0.0      1.3   $moved/lib/pg-mcp/plugins/fixed-window.so"
expect_out "token-bucket"

cat >"$work/uses-example.ini" <<'INI'
[rate_limiter.w]
plugin = fixed-window
limit = 5
window_s = 1
INI
run check -- "$moved/bin/pg-mcp" --check-config --config "$work/uses-example.ini"
expect_rc 0

# A major version the SDK does not offer is refused by find_package.
mkdir -p "$work/v2"
cat >"$work/v2/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.25)
project(v2 LANGUAGES CXX)
find_package(pgmcp-sdk 2 REQUIRED)
CM
run wrong-major -- cmake -S "$work/v2" -B "$work/v2/build" -DCMAKE_PREFIX_PATH="$moved"
expect_rc 1

finish
