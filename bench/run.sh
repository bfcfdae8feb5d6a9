#!/usr/bin/env bash
# Runs the bench with enough file descriptors for thousands of idle connections (three processes hold one or two each).
# socat (reference relay), a C compiler and OpenSSL headers (load generator): apt-get installs them when missing and we may.
set -euo pipefail
cd "$(dirname "$0")/.."
# The load generator and target are C (bench/loadgen.c, built on first use): a compiler and OpenSSL's headers.
need=()
command -v socat >/dev/null 2>&1 || need+=(socat)
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
[ -f /usr/include/openssl/ssl.h ] || need+=(libssl-dev)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing ${need[*]}" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  else
    echo "bench: needs ${need[*]} (sudo apt-get install ${need[*]})" >&2
    exit 2
  fi
fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
npm run build --silent
exec node dist/bench/bench.js "$@"
