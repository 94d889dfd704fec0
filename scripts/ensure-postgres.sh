#!/usr/bin/env bash
# Makes sure a PostgreSQL server for the test suite answers on 127.0.0.1:5432, installing and
# starting Debian's package when it is missing. Prints nothing on success but progress on stderr.
# The test URL is postgres://postgres:postgres@127.0.0.1:5432/postgres unless
# ICHIBA_TEST_POSTGRES_URL says otherwise.
set -euo pipefail

url="${ICHIBA_TEST_POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
log() { printf 'ensure-postgres: %s\n' "$*" >&2; }

answers() { command -v psql >/dev/null 2>&1 && psql "$url" -Atqc 'SELECT 1' >/dev/null 2>&1; }

if answers; then exit 0; fi

installed_now=0
if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  log "PostgreSQL is not installed; installing Debian's package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  installed_now=1
fi

version="$(ls /etc/postgresql | sort -V | tail -n 1)"
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  log "starting the PostgreSQL $version cluster"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
fi
for _ in $(seq 1 60); do
  pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && break
  sleep 0.5
done

if [ "$installed_now" = 1 ]; then
  # A fresh Debian cluster asks for a password over TCP: give the test user the one in the URL.
  su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >&2
fi

if answers; then exit 0; fi
log "PostgreSQL does not answer at $url"
exit 1
