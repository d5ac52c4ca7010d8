#!/usr/bin/env bash
# pg-mcp --check-config: 0 for the shipped configs, 1 with a message naming
# the problem for each kind of mistake.
set -e
pgmcp=$1
src=$2
. "$src/tests/cli/lib.sh"

run ini -- "$pgmcp" --check-config --config "$src/conf/pg-mcp.ini"
expect_rc 0; expect_out "pg-mcp.ini: OK (2 rate limiter(s)"

run json -- "$pgmcp" --check-config --config "$src/conf/pg-mcp.json"
expect_rc 0; expect_out "pg-mcp.json: OK (2 rate limiter(s)"

cat >"$work/unknown.ini" <<'INI'
[server]
transport = stdio
log_levle = debug
INI
run unknown-key -- "$pgmcp" --check-config --config "$work/unknown.ini"
expect_rc 1; expect_err "unknown.ini:3: server.log_levle: unknown key (known in [server]:"

cat >"$work/unset.ini" <<'INI'
[rate_limiter.default]
plugin = token-bucket
rate = ${PGMCP_TEST_SURELY_UNSET_RATE}
INI
run unset-var -- env -u PGMCP_TEST_SURELY_UNSET_RATE "$pgmcp" --check-config --config "$work/unset.ini"
expect_rc 1; expect_err "unset.ini:3: rate_limiter.default.rate: environment variable PGMCP_TEST_SURELY_UNSET_RATE is not set"

run set-var -- env PGMCP_TEST_SURELY_UNSET_RATE=5/s "$pgmcp" --check-config --config "$work/unset.ini"
expect_rc 0

cat >"$work/number.ini" <<'INI'
[rate_limiter.default]
plugin = token-bucket
rate = 10/min
burst = ten
INI
run bad-number -- "$pgmcp" --check-config --config "$work/number.ini"
expect_rc 1; expect_err "[rate_limiter.default]: burst = 'ten' is not a whole number from 1 to"

cat >"$work/noplugin.ini" <<'INI'
[rate_limiter.default]
plugin = leaky-bucket
rate = 10/min
INI
run missing-plugin -- "$pgmcp" --check-config --config "$work/noplugin.ini"
expect_rc 1; expect_err "[rate_limiter.default]: plugin 'leaky-bucket' is not loaded (loaded: anthropic, fixed-window, openai, postgres, redis, sampling, token-bucket"

cat >"$work/bad.json" <<'JSON'
{"server": {"transport": "stdio",}}
JSON
run bad-json -- "$pgmcp" --check-config --config "$work/bad.json"
expect_rc 1; expect_err "bad.json:1:"

run no-file -- "$pgmcp" --check-config --config "$work/absent.ini"
expect_rc 1; expect_err "absent.ini: cannot open the config file"

run no-config -- "$pgmcp" --check-config
expect_rc 2; expect_err "--check-config needs --config FILE"

run bad-option -- "$pgmcp" --no-such-option
expect_rc 2; expect_err "see pg-mcp --help"

# A secret in a value never shows in an error about another key.
cat >"$work/secret.ini" <<'INI'
[rate_limiter.default]
plugin = token-bucket
rate = 10/min
burst = oops
max_keys = 5
INI
run no-secret -- env PGMCP_SECRET=hunter2 "$pgmcp" --check-config --config "$work/secret.ini"
expect_rc 1; expect_no_err "hunter2"

run version -- "$pgmcp" --version
expect_rc 0; expect_out "pg-mcp "; expect_out "(plugin ABI 1."

run help -- "$pgmcp" --help
expect_rc 0; expect_out "--check-config"; expect_out "--list-plugins"

finish
