#!/usr/bin/env bash
# pg-mcp --list-plugins shows the real plugins; pointed at a folder of broken
# ones it names each with its reason and still lists and loads the good ones.
set -e
pgmcp=$1
src=$2
cases=$3
. "$src/tests/cli/lib.sh"

run list -- "$pgmcp" --list-plugins --config "$src/conf/pg-mcp.ini"
expect_rc 0
expect_out "token-bucket         rate limiter     1.0.0      1.3"
expect_out "fixed-window         rate limiter     1.0.0      1.3"
expect_out "postgres             database driver  1.0.0      1.3"
expect_out "redis                rate limiter     1.0.0      1.3"

cat >"$work/bad.ini" <<INI
[server]
plugin_dir = $cases
INI
run bad-plugins -- "$pgmcp" --list-plugins --config "$work/bad.ini"
expect_rc 0
expect_out "c-grant-all"
expect_err "not-a-library.so: not a shared library"
expect_err "no-entry.so: no pgmcp_plugin_entry symbol"
expect_err "wrong-abi.so: built for plugin ABI major 99"
expect_err "tiny-descriptor.so: malformed descriptor: struct_size 20"
expect_err "null-descriptor.so: does not support plugin ABI major 1"
expect_err "dup-second.so: duplicate plugin id 'duplicate'"
expect_err "init-fails.so: plugin 'test-case' init failed (status 2): licence file"
expect_err "init-throws.so: plugin 'init-throws' init threw: cannot reach the licence server"
expect_err "bad-id.so: malformed descriptor: the id must be"
expect_err "no-capability.so: plugin 'test-case' offers no capability"

# The good plugin from that folder serves a config while the bad ones are refused.
cat >>"$work/bad.ini" <<'INI'
[rate_limiter.any]
plugin = c-grant-all
INI
run check-with-bad-plugins -- "$pgmcp" --check-config --config "$work/bad.ini"
expect_rc 0; expect_out "OK (1 rate limiter(s)"

finish
