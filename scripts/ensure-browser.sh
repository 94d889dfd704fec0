#!/usr/bin/env bash
# Makes sure the browser end-to-end tests can run: Debian's Chromium (/usr/bin/chromium) with the
# IPA Gothic font (so screenshots show Japanese), and e2e/node_modules installed from
# e2e/package-lock.json with `npm ci` (playwright-core only: it drives the system Chromium and
# downloads no browser of its own). Idempotent: does nothing when everything is already there.
# Prints what it did; exits non-zero with a clear message when something cannot be installed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
e2e="$root/e2e"
chromium=/usr/bin/chromium

log() { printf 'ensure-browser: %s\n' "$*"; }
fail() {
  printf 'ensure-browser: ERROR: %s\n' "$*" >&2
  exit 1
}

has_ipa_font() { command -v fc-list >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi ipa; }

# --- Chromium and the Japanese font (Debian packages) ---
if [ -x "$chromium" ] && has_ipa_font; then
  log "chromium and the IPA Gothic font are installed"
else
  missing=()
  [ -x "$chromium" ] || missing+=("$chromium")
  has_ipa_font || missing+=("the IPA Gothic font")
  log "missing: ${missing[*]}; installing Debian's chromium and fonts-ipafont-gothic"
  command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: install Chromium at $chromium and fonts-ipafont-gothic by hand"
  if [ "$(id -u)" -ne 0 ]; then
    fail "installing packages needs root (apt-get); run as root or install chromium and fonts-ipafont-gothic by hand"
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || fail "apt-get update failed"
  apt-get install -y -qq --no-install-recommends chromium fonts-ipafont-gothic \
    || fail "apt-get install chromium fonts-ipafont-gothic failed"
  [ -x "$chromium" ] || fail "$chromium is still missing after installing the chromium package"
  has_ipa_font || fail "fc-list still shows no IPA font after installing fonts-ipafont-gothic"
  log "installed chromium and fonts-ipafont-gothic"
fi
log "$("$chromium" --version 2>/dev/null || echo "chromium at $chromium")"

# --- playwright-core (npm, pinned in e2e/package-lock.json) ---
command -v node >/dev/null 2>&1 || fail "node is not installed (Node.js 20 or newer is needed)"
command -v npm >/dev/null 2>&1 || fail "npm is not installed"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || fail "Node.js $(node --version) is too old: 20 or newer is needed (node --test)"
[ -f "$e2e/package-lock.json" ] || fail "$e2e/package-lock.json is missing"

# A stamp written after a successful `npm ci` records the lock it installed.
stamp="$e2e/node_modules/.ichiba-lock.sha256"
lock_sum="$(sha256sum "$e2e/package-lock.json" | cut -d' ' -f1)"
if [ -f "$e2e/node_modules/playwright-core/package.json" ] && [ -f "$stamp" ] \
  && [ "$(cat "$stamp")" = "$lock_sum" ]; then
  log "e2e/node_modules is up to date with package-lock.json"
else
  if [ ! -f "$e2e/node_modules/playwright-core/package.json" ]; then
    log "e2e/node_modules/playwright-core is missing; running npm ci in e2e/"
  else
    log "e2e/package-lock.json changed since the last install; running npm ci in e2e/"
  fi
  (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in e2e/ failed"
  [ -f "$e2e/node_modules/playwright-core/package.json" ] \
    || fail "npm ci finished but e2e/node_modules/playwright-core is missing"
  printf '%s\n' "$lock_sum" >"$stamp"
  log "installed playwright-core $(node -p "require('$e2e/node_modules/playwright-core/package.json').version")"
fi
