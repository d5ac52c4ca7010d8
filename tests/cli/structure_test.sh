#!/usr/bin/env bash
# The structure CI keeps: every include of host/ follows the layer table of
# docs/architecture.md, and docs/configuration.md is what
# `pg-mcp --config-reference` prints. Each check is also shown to fail on a
# tree that breaks it.
set -e
pgmcp=$1
src=$2
. "$src/tests/cli/lib.sh"

run layers -- "$src/scripts/check-layers" "$src"
expect_rc 0
expect_out "every include allowed"

# A doctored copy: db/ reaching up into mcp/, and an unlisted layer.
mkdir -p "$work/tree/docs" "$work/tree/host"
cp "$src/docs/architecture.md" "$work/tree/docs/"
cp -r "$src/host/db" "$src/host/mcp" "$src/host/core" "$work/tree/host/"
printf '#include "mcp/server.hpp"\n' >>"$work/tree/host/db/values.cpp"
mkdir -p "$work/tree/host/gadgets"
printf '// nothing\n' >"$work/tree/host/gadgets/x.cpp"
run layers-broken -- "$src/scripts/check-layers" "$work/tree"
expect_rc 1
expect_out "host/db/values.cpp:"
expect_out "the db layer includes mcp/"
expect_out "host/gadgets: not in the layer table"

# A long file without its reason.
cp "$src/host/db/schema.cpp" "$work/tree/host/db/long.cpp"
for _ in $(seq 700); do echo "// filler" >>"$work/tree/host/db/long.cpp"; done
run layers-long -- "$src/scripts/check-layers" "$work/tree"
expect_rc 1
expect_out "host/db/long.cpp:"
expect_out "no '// Long file:' comment"

run reference -- "$pgmcp" --config-reference
expect_rc 0
checks=$((checks + 1))
if ! diff -u "$src/docs/configuration.md" "$work/out" >"$work/diff"; then
  fail "docs/configuration.md is not what pg-mcp --config-reference prints; regenerate it:
  build/release/bin/pg-mcp --config-reference > docs/configuration.md
$(head -40 "$work/diff")"
fi
expect_out "| \`max_rows\` | a whole number from 1 to 10000000 | \`1000\` |"
expect_out "## \`[database.NAME]\`"

run help -- "$pgmcp" --help
expect_rc 0
expect_out "--config-reference"
expect_out "[http] listen, path,"

finish
