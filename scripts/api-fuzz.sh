#!/usr/bin/env bash
# The API against its own OpenAPI document, on SQLite and then on PostgreSQL: starts `ichiba serve`
# with the demo market and the dev clock on a fresh database, fetches /api/v1/openapi.json, checks
# it with openapi-spec-validator, and runs schemathesis against it as a demo seller who is also an
# operator (so the operator routes are reached too). Fails on an invalid document, any 5xx, any
# response that breaks the document (undocumented status, wrong content type, body or headers) and
# any request the document forbids that the server accepts. Every check of schemathesis runs but
# two: positive_data_acceptance (a request the document allows may still name an unknown id or
# break a rule of the deal: 404 and 422 are the right answers) and ignored_auth (a listing is
# public whatever the token).
#
# The Python tools are pinned and installed into a project-local virtualenv (target/api-fuzz/venv)
# the first time. The run is bounded: ICHIBA_FUZZ_EXAMPLES cases per operation and phase (default
# 25) with a fixed seed (ICHIBA_FUZZ_SEED), about a minute or two per backend. The PostgreSQL run
# uses the server of scripts/ensure-postgres.sh (ICHIBA_TEST_POSTGRES_URL, as scripts/test.sh)
# with a database of its own, dropped afterwards; it is skipped when no server answers unless
# CI=true. Reports (JUnit XML, server log) are kept in target/api-fuzz/<backend>/.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
SPEC_VALIDATOR_VERSION=0.9.0
examples="${ICHIBA_FUZZ_EXAMPLES:-25}"
seed="${ICHIBA_FUZZ_SEED:-20261203}"
pg_url="${ICHIBA_TEST_POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
work="$PWD/target/api-fuzz"
venv="$work/venv"
bin="${CARGO_TARGET_DIR:-$PWD/target}/debug/ichiba"
demo_email="seller01@demo.ichiba.jp"
demo_password="ichiba-demo-2026"
orders_regex='^/api/v1/(admin/)?orders/[{]id[}]'

log() { printf 'api-fuzz: %s\n' "$*" >&2; }

# --- the Python tools, pinned, in a virtualenv of their own ---------------------------------------
tools_ok() {
  [ -x "$venv/bin/schemathesis" ] && [ -x "$venv/bin/openapi-spec-validator" ] &&
    "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(not (
      m.version('schemathesis') == '$SCHEMATHESIS_VERSION' and
      m.version('openapi-spec-validator') == '$SPEC_VALIDATOR_VERSION'))" 2>/dev/null
}
if ! tools_ok; then
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    log "python3 with venv is missing; installing Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq python3 python3-venv >&2
  fi
  log "installing schemathesis $SCHEMATHESIS_VERSION and openapi-spec-validator $SPEC_VALIDATOR_VERSION into $venv"
  rm -rf "$venv"
  mkdir -p "$work"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION" "openapi-spec-validator==$SPEC_VALIDATOR_VERSION" >&2
fi

log "building ichiba"
cargo build --locked -q -p ichiba

server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap stop_server EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# login BASE [EMAIL]: a token of the demo seller (or of EMAIL, with the demo password). The
# fuzzer's failed logins from this address may have hit the login rate limit (429): the dev clock
# is then moved past its Retry-After.
login() {
  python3 - "$1" "${2:-$demo_email}" "$demo_password" <<'PY'
import json, sys, urllib.error, urllib.request
base, email, password = sys.argv[1:4]
def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    return urllib.request.urlopen(req, timeout=30)
for _ in range(3):
    try:
        print(json.load(post("/api/v1/sessions", {"email": email, "password": password}))["token"])
        sys.exit(0)
    except urllib.error.HTTPError as e:
        if e.code != 429:
            sys.exit(f"login as {email}: HTTP {e.code} {e.read()[:300]!r}")
        post("/api/v1/dev/clock", {"advance_seconds": int(e.headers.get("retry-after", "3600")) + 1})
sys.exit(f"login as {email}: still rate-limited")
PY
}

# order BASE SELLER_TOKEN BUYER_TOKEN: the buyer purchases one of the seller's listings; prints
# the order id.
order() {
  python3 - "$@" <<'PY'
import json, sys, urllib.request
base, seller, buyer = sys.argv[1:4]
def call(method, path, token, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"content-type": "application/json",
                                          "authorization": f"Bearer {token}"})
    return json.load(urllib.request.urlopen(req, timeout=30))
listing = call("GET", "/api/v1/me/listings", seller)["items"][0]["id"]
print(call("POST", "/api/v1/orders", buyer, {"listing_id": listing})["id"])
PY
}

# st OUT BASE TOKEN PASS CONFIG [FILTERS…]: one schemathesis pass over the fetched document with
# the settings of the CONFIG file (schemathesis.toml format).
st() {
  local out="$1" base="$2" token="$3" pass="$4" config="$5"
  shift 5
  # From the output directory: schemathesis keeps its cache (.schemathesis/) in the working one.
  (cd "$out" && "$venv/bin/schemathesis" --config-file "$config" run "$out/openapi.json" \
    --url "$base" \
    --header "Authorization: Bearer $token" \
    --checks all --exclude-checks positive_data_acceptance,ignored_auth \
    --phases examples,coverage,fuzzing,stateful \
    --max-examples "$examples" \
    --seed "$seed" \
    --workers 2 \
    --request-timeout 30 \
    --no-color \
    --report junit --report-junit-path "$out/junit-$pass.xml" \
    "$@")
}

# fuzz LABEL DATABASE_URL|"" : one backend, start to finish.
fuzz() {
  local label="$1" database_url="$2"
  local out="$work/$label" port base token
  rm -rf "$out"
  mkdir -p "$out/data"
  port="$(free_port)"
  base="http://127.0.0.1:$port"
  export ICHIBA_DATA_DIR="$out/data"
  if [ -n "$database_url" ]; then export ICHIBA_DATABASE_URL="$database_url"; else unset ICHIBA_DATABASE_URL; fi

  log "[$label] demo market, operator role for $demo_email"
  "$bin" demo >"$out/demo.log"
  "$bin" admin grant-operator "$demo_email" >>"$out/demo.log"
  "$bin" serve --addr "127.0.0.1:$port" --dev-clock >"$out/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 120); do
    curl -sf "$base/healthz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$out/server.log" >&2; log "[$label] the server exited"; return 1; }
    sleep 0.5
  done
  curl -sf "$base/api/v1/openapi.json" -o "$out/openapi.json"

  log "[$label] openapi-spec-validator"
  "$venv/bin/openapi-spec-validator" "$out/openapi.json"

  token="$(login "$base")"

  # A real order between the demo seller and a demo buyer, so one pass reaches the talk room
  # (every operation on /orders/{id} gets its id; elsewhere ids are generated, mostly unknown).
  local order_id
  order_id="$(order "$base" "$token" "$(login "$base" buyer01@demo.ichiba.jp)")"
  : >"$out/none.toml"
  printf '[[operations]]\ninclude-path-regex = "%s"\nparameters = { "path.id" = "%s" }\n' \
    "$orders_regex" "$order_id" >"$out/order.toml"

  # Four passes. 1: every operation but the dev clock, logging out (it would end the token every
  # other request uses) and the event stream (it never ends by design). 2: every operation on
  # the real order. 3: the dev clock, which may move time years ahead (and so expire the
  # session). 4: after a fresh login, every read in that far future.
  local status=0
  log "[$label] schemathesis ($examples examples per operation, seed $seed): all operations"
  st "$out" "$base" "$token" all "$out/none.toml" \
    --exclude-path /api/v1/sessions/current --exclude-path /api/v1/events \
    --exclude-path /api/v1/dev/clock || status=1
  log "[$label] schemathesis: the operations of order $order_id"
  st "$out" "$base" "$token" order "$out/order.toml" --include-path-regex "$orders_regex" ||
    status=1
  log "[$label] schemathesis: the dev clock"
  st "$out" "$base" "$token" clock "$out/none.toml" --include-path /api/v1/dev/clock || status=1
  token="$(login "$base")"
  log "[$label] schemathesis: every read after the clock moved"
  st "$out" "$base" "$token" later "$out/none.toml" --include-method GET \
    --exclude-path /api/v1/events || status=1
  stop_server
  if grep -q "panicked" "$out/server.log"; then
    log "[$label] the server panicked (see $out/server.log)"
    status=1
  fi
  if [ "$status" != 0 ]; then
    log "[$label] FAILED (server log: $out/server.log)"
    return 1
  fi
  log "[$label] passed"
}

fuzz sqlite ""

if ICHIBA_TEST_POSTGRES_URL="$pg_url" bash scripts/ensure-postgres.sh; then
  db="ichiba_api_fuzz_$$"
  psql "$pg_url" -qAtc "DROP DATABASE IF EXISTS $db" >/dev/null
  psql "$pg_url" -qAtc "CREATE DATABASE $db" >/dev/null
  drop_db() { psql "$pg_url" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; }
  trap 'stop_server; drop_db' EXIT
  # The same server, another database: replace the path of the URL.
  fuzz postgres "${pg_url%/*}/$db"
elif [ "${CI:-}" = "true" ]; then
  log "PostgreSQL is unreachable: the PostgreSQL run is required under CI"
  exit 1
else
  log "PostgreSQL unreachable: skipped the PostgreSQL run (required under CI=true)"
fi
