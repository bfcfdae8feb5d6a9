#!/usr/bin/env bash
# Runs the bench with enough file descriptors for thousands of idle connections (three processes hold one or two each).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v socat >/dev/null 2>&1 || { echo "bench: socat is needed (apt-get install socat)" >&2; exit 2; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
npm run build --silent
exec node dist/bench/bench.js "$@"
