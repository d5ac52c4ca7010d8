# Small assertion helpers for the command-line tests. Each test script sources
# this, calls the helpers, and ends with `finish`.
set -u
failures=0
checks=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run NAME -- CMD...: runs CMD, keeping its exit code, stdout and stderr.
run() {
  local name=$1; shift; [ "$1" = "--" ] && shift
  current=$name
  set +e
  "$@" >"$work/out" 2>"$work/err"
  rc=$?
  set -e
}

fail() {
  failures=$((failures + 1))
  echo "FAIL [$current]: $*" >&2
  echo "  stdout: $(head -c 2000 "$work/out")" >&2
  echo "  stderr: $(head -c 2000 "$work/err")" >&2
}

expect_rc() { checks=$((checks + 1)); [ "$rc" -eq "$1" ] || fail "exit code $rc, expected $1"; }
expect_out() { checks=$((checks + 1)); grep -qF -- "$1" "$work/out" || fail "stdout lacks: $1"; }
expect_err() { checks=$((checks + 1)); grep -qF -- "$1" "$work/err" || fail "stderr lacks: $1"; }
expect_no_err() { checks=$((checks + 1)); ! grep -qF -- "$1" "$work/err" || fail "stderr has: $1"; }

finish() {
  echo "$checks checks, $failures failed"
  [ "$failures" -eq 0 ]
}
