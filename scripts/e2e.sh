#!/usr/bin/env bash
# Browser end-to-end tests of the web UI: headless Debian Chromium driven by playwright-core,
# run with Node's built-in test runner (node --test) against a fresh demo server.
#
#   bash scripts/e2e.sh                              # every e2e/tests/*.test.mjs
#   bash scripts/e2e.sh e2e/tests/guard.test.mjs     # only the files given
#   ICHIBA_BIN=target/debug/ichiba bash scripts/e2e.sh   # use that binary, build nothing
#
# 1. scripts/ensure-browser.sh installs Chromium, the IPA Gothic font and e2e/node_modules when
#    missing.
# 2. Without ICHIBA_BIN, `cargo build -p ichiba --locked` builds target/debug/ichiba.
# 3. `ichiba serve --demo --dev-clock` starts on a free loopback port with a fresh temporary data
#    directory (SQLite); its log goes to e2e/artifacts/server.log.
# 4. node --test runs the tests, one file at a time (timers.test.mjs moves the shared manual
#    clock), with ICHIBA_URL and E2E_ARTIFACTS (screenshots) set.
# The server is stopped and the data directory removed on exit; the exit status is the tests'.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
artifacts="$root/e2e/artifacts"
log() { printf 'e2e: %s\n' "$*"; }
fail() {
  printf 'e2e: ERROR: %s\n' "$*" >&2
  exit 1
}

bash "$root/scripts/ensure-browser.sh"

# --- the binary ---
if [ -n "${ICHIBA_BIN:-}" ]; then
  case "$ICHIBA_BIN" in
    /*) bin="$ICHIBA_BIN" ;;
    *) bin="$(pwd)/$ICHIBA_BIN" ;;
  esac
  log "using ICHIBA_BIN=$bin (not building)"
else
  log "ICHIBA_BIN is unset: cargo build -p ichiba --locked"
  (cd "$root" && cargo build -p ichiba --locked)
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/ichiba"
  case "$bin" in /*) ;; *) bin="$root/$bin" ;; esac
fi
[ -x "$bin" ] || fail "no executable ichiba binary at $bin"

# --- the server ---
rm -rf "$artifacts"
mkdir -p "$artifacts"
data_dir="$(mktemp -d "${TMPDIR:-/tmp}/ichiba-e2e.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$data_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port="$(node -e '
  const s = require("net").createServer();
  s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });
')"
url="http://127.0.0.1:$port"

# A fresh SQLite database in the temporary data directory, whatever the environment says.
unset ICHIBA_DATABASE_URL ICHIBA_DATA_DIR ICHIBA_ADDR
log "starting $bin serve --demo --dev-clock on $url (log: e2e/artifacts/server.log)"
"$bin" serve --demo --dev-clock --data-dir "$data_dir" --addr "127.0.0.1:$port" \
  >"$artifacts/server.log" 2>&1 &
server_pid=$!

# The debug build hashes every demo password on start: give it time.
healthy=0
for _ in $(seq 1 360); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    tail -n 30 "$artifacts/server.log" >&2 || true
    fail "the server exited before answering /healthz (see e2e/artifacts/server.log)"
  fi
  if node -e '
    fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));
  ' "$url/healthz" 2>/dev/null; then
    healthy=1
    break
  fi
  sleep 0.5
done
[ "$healthy" = 1 ] || {
  tail -n 30 "$artifacts/server.log" >&2 || true
  fail "the server did not answer $url/healthz within 3 minutes"
}
log "server is up"

# --- the tests ---
if [ "$#" -gt 0 ]; then
  tests=()
  for t in "$@"; do
    case "$t" in /*) tests+=("$t") ;; *) tests+=("$(pwd)/$t") ;; esac
  done
else
  tests=("$root"/e2e/tests/*.test.mjs)
fi

status=0
(
  cd "$root/e2e"
  ICHIBA_URL="$url" E2E_ARTIFACTS="$artifacts" \
    node --test --test-concurrency=1 "${tests[@]}"
) || status=$?

if [ "$status" -eq 0 ]; then
  log "all browser tests passed; screenshots in e2e/artifacts/"
else
  log "browser tests failed (status $status); screenshots and server.log in e2e/artifacts/"
fi
exit "$status"
