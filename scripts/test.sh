#!/usr/bin/env bash
# The test command of the README: every unit and property test, the integration suite on SQLite,
# then the integration suite again on PostgreSQL (installed and started by ensure-postgres.sh when
# missing), then schemathesis against the OpenAPI document on both (scripts/api-fuzz.sh), then the
# browser tests of the web app (scripts/e2e.sh). Under CI=true a PostgreSQL that
# cannot be reached fails the run instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== unit, property and integration tests (SQLite)"
cargo test --workspace --locked

pg_url="${ICHIBA_TEST_POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
if ICHIBA_TEST_POSTGRES_URL="$pg_url" bash scripts/ensure-postgres.sh; then
  echo "== integration tests (PostgreSQL)"
  ICHIBA_TEST_POSTGRES_URL="$pg_url" cargo test --locked -p ichiba --test api
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is unreachable: the PostgreSQL run is required under CI" >&2
  exit 1
else
  echo "== PostgreSQL unreachable: skipped the PostgreSQL run (required under CI=true)" >&2
fi

echo "== the API against its OpenAPI document: openapi-spec-validator and schemathesis (SQLite, PostgreSQL)"
ICHIBA_TEST_POSTGRES_URL="$pg_url" bash scripts/api-fuzz.sh

echo "== browser tests (headless Chromium; installed by scripts/ensure-browser.sh when missing)"
bash scripts/e2e.sh
