#!/usr/bin/env bash
# Resident memory of the server before and after N sign-ups (each an argon2id hash), C at a time:
# argon2id takes 19 MiB per hash, and the server must not keep it (docs/benchmarks.md).
#   BIN=target/release/ichiba N=600 C=16 bash scripts/measure-signup-memory.sh
set -euo pipefail
BIN=${BIN:-target/release/ichiba}; N=${N:-200}; C=${C:-8}; PORT=${PORT:-18181}
dir=$(mktemp -d)
$BIN serve --demo --data-dir "$dir" --addr 127.0.0.1:$PORT > "$dir/log" 2>&1 &
pid=$!
for i in $(seq 1 100); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.2; done
rss() { grep -E "VmRSS|VmHWM" /proc/$pid/status | tr -s ' ' | tr '\n' ' '; }
echo "idle: $(rss)"
seq 1 $N | xargs -P $C -I{} curl -s -o /dev/null -w "%{http_code}\n" -X POST -H "content-type: application/json" \
  -d "{\"email\":\"load{}@example.com\",\"password\":\"correct-horse-{}\",\"display_name\":\"負荷{}\"}" http://127.0.0.1:$PORT/api/v1/users | sort | uniq -c
echo "after $N sign-ups (c=$C): $(rss)"
sleep 5; echo "5 s later: $(rss)"
kill $pid; wait $pid 2>/dev/null || true; rm -rf "$dir"
