#!/usr/bin/env bash
# Runs the bench with enough file descriptors for thousands of idle connections (three processes hold one or two each).
# socat is the raw-relay reference: installed with apt-get when missing and we may (root), otherwise a clear hint.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v socat >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing socat" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq socat
  else
    echo "bench: socat is needed as the reference relay (sudo apt-get install socat)" >&2
    exit 2
  fi
fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
npm run build --silent
exec node dist/bench/bench.js "$@"
