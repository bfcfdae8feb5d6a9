#!/usr/bin/env bash
# Makes a self-signed TLS server certificate that browsers and iOS accept, as ONE PEM file (certificate, then its
# unencrypted private key): websockify's self.pem format, which wsproxy reads with --cert.
#
# Unlike the classic `openssl req -x509 -new` recipe (CA:TRUE from Debian's openssl.cnf, no SAN: rejected by Chrome,
# Firefox and Apple), the certificate has: every NAME/IP in subjectAltName (IPs as IP entries), CN = the first name,
# basicConstraints critical CA:FALSE, extendedKeyUsage serverAuth, keyUsage critical digitalSignature (plus
# keyEncipherment for RSA), SHA-256, an EC P-256 key (or RSA-2048 with --rsa), at most 825 days (Apple's limit).
# The file is created with mode 0600 and is never readable by others, not even briefly.
set -euo pipefail
umask 077

prog=make-self-signed

usage() {
  cat <<'USAGE'
Usage: scripts/make-self-signed.sh [-o FILE] [-d DAYS] [-f] [--rsa] [NAME|IP ...]

Makes a self-signed server certificate browsers and iOS accept, written with its
private key to one PEM file (mode 0600) for wsproxy/websockify --cert.

  -o FILE     output PEM file (certificate + key), default: self.pem
  -d DAYS     validity in days, 1-825 (Apple's limit), default: 365
  -f          replace FILE if it exists
  --rsa       RSA-2048 key instead of EC P-256
  -h, --help  show this help
  NAME|IP     DNS names and IPv4/IPv6 addresses for the certificate; the first is
              also the CN. Default: localhost 127.0.0.1 ::1 and this host's name.

Prints the SHA-256 fingerprint and the subjectAltName list when done.
USAGE
}

# One line on stderr, then exit (1 by default, 2 for usage errors).
die() {
  printf '%s: %s\n' "$prog" "$1" >&2
  exit "${2:-1}"
}

is_ipv4() {
  local IFS=. octet
  [[ "$1" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || return 1
  for octet in $1; do
    [ $((10#$octet)) -le 255 ] || return 1
  done
}

is_ipv6() {
  local s=$1 head tail groups=0 max=8 g
  [[ "$s" == *:* && "$s" =~ ^[0-9A-Fa-f:.]+$ && "$s" != *:::* ]] || return 1
  # An embedded IPv4 tail (::ffff:192.0.2.1) counts as two groups.
  if [[ "$s" == *.* ]]; then
    is_ipv4 "${s##*:}" || return 1
    s=${s%:*}:0:0
  fi
  if [[ "$s" == *::* ]]; then
    head=${s%%::*}
    tail=${s#*::}
    [[ "$tail" != *::* ]] || return 1
    max=7
  else
    head=$s
    tail=
  fi
  for g in ${head//:/ } ${tail//:/ }; do
    [[ "$g" =~ ^[0-9A-Fa-f]{1,4}$ ]] || return 1
    groups=$((groups + 1))
  done
  # Without '::' every group must be present (and no leading/trailing ':').
  if [ "$max" -eq 8 ]; then
    [[ "$s" != :* && "$s" != *: ]] && [ "$groups" -eq 8 ]
  else
    [ "$groups" -le "$max" ]
  fi
}

# A DNS name (optionally a leading '*.' wildcard): LDH labels of 1-63 characters, at most 253 in all, and a last
# label that is not all digits (so a mistyped address such as 192.0.2.300 is not taken for a name).
is_dns() {
  local label='[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
  [ "${#1}" -le 253 ] && [[ "$1" =~ ^(\*\.)?$label(\.$label)*$ ]] && ! [[ "${1##*.}" =~ ^[0-9]+$ ]]
}

out=self.pem
days=365
force=0
rsa=0
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    -o) [ $# -ge 2 ] || die "-o needs a file name" 2; out=$2; shift 2 ;;
    -d) [ $# -ge 2 ] || die "-d needs a number of days" 2; days=$2; shift 2 ;;
    -f) force=1; shift ;;
    --rsa) rsa=1; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; names+=("$@"); break ;;
    -?*) die "unknown option $1 (see --help)" 2 ;;
    *) names+=("$1"); shift ;;
  esac
done

[ -n "$out" ] || die "-o needs a file name" 2
case "$days" in
  '' | *[!0-9]*) die "-d: '$days' is not a number of days (1-825)" 2 ;;
esac
if [ "${#days}" -gt 4 ] || [ $((10#$days)) -lt 1 ] || [ $((10#$days)) -gt 825 ]; then
  die "-d: $days is out of range 1-825 (Apple rejects server certificates valid for more than 825 days)" 2
fi
days=$((10#$days))

if [ ${#names[@]} -eq 0 ]; then
  names=(localhost 127.0.0.1 ::1)
  if command -v hostname >/dev/null 2>&1; then
    host=$(hostname 2>/dev/null || true)
  else
    host=$(uname -n 2>/dev/null || true)
  fi
  if [ -n "$host" ] && is_dns "$host" && [[ "$host" != \** ]] && ! is_ipv4 "$host"; then
    names+=("$host")
  fi
fi

# subjectAltName entries, duplicates dropped (DNS names compare case-insensitively).
san=()
seen=' '
for n in "${names[@]}"; do
  if is_ipv4 "$n" || is_ipv6 "$n"; then
    entry="IP:$n"
  elif is_dns "$n"; then
    entry="DNS:$n"
  else
    die "'$n' is neither a DNS name nor an IPv4/IPv6 address" 2
  fi
  key=$(printf '%s' "$entry" | tr '[:upper:]' '[:lower:]')
  case "$seen" in
    *" $key "*) continue ;;
  esac
  seen="$seen$key "
  san+=("$entry")
done
cn=${names[0]}
# The CN is limited to 64 characters; a longer first name is still in the SAN, which is what clients check.
[ "${#cn}" -le 64 ] || cn="wsproxy self-signed"

if [ -d "$out" ]; then
  die "$out is a directory"
fi
if [ -e "$out" ] || [ -L "$out" ]; then
  [ "$force" -eq 1 ] || die "$out exists; pass -f to replace it"
fi
command -v openssl >/dev/null 2>&1 || die "openssl not found; install it (e.g. apt-get install openssl)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/make-self-signed.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# openssl with its stderr kept; on failure, its first line of complaint becomes ours.
ossl() {
  if ! openssl "$@" 2>"$tmp/err"; then
    die "openssl $1 failed: $(grep -v '^\s*$' "$tmp/err" | head -n 1 || true)"
  fi
}

# A complete, minimal config: nothing from the system openssl.cnf (whose v3_ca section adds CA:TRUE) is read.
san_list=$(IFS=,; printf '%s' "${san[*]}")
if [ "$rsa" -eq 1 ]; then
  key_usage=critical,digitalSignature,keyEncipherment
else
  key_usage=critical,digitalSignature
fi
cat >"$tmp/req.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
x509_extensions = server_cert
utf8 = yes

[dn]
CN = $cn

[server_cert]
basicConstraints = critical,CA:FALSE
keyUsage = $key_usage
extendedKeyUsage = serverAuth
subjectAltName = $san_list
subjectKeyIdentifier = hash
CNF

if [ "$rsa" -eq 1 ]; then
  ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/key.pem"
  key_desc="RSA-2048"
else
  ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$tmp/key.pem"
  key_desc="EC P-256"
fi
ossl req -new -x509 -config "$tmp/req.cnf" -key "$tmp/key.pem" -sha256 -days "$days" -out "$tmp/cert.pem"

# Written with O_EXCL (noclobber) under umask 077: the file is 0600 from the moment it exists.
if [ "$force" -eq 1 ]; then
  rm -f -- "$out" 2>/dev/null || die "cannot replace $out"
fi
if ! (set -o noclobber; cat "$tmp/cert.pem" "$tmp/key.pem" >"$out") 2>"$tmp/err"; then
  die "cannot write $out: $(sed -e 's/^.*: //' "$tmp/err" | head -n 1)"
fi
chmod 600 -- "$out"

echo "wrote $out: certificate and private key ($key_desc), mode 0600, valid $days days"
echo "subjectAltName: ${san_list//,/, }"
openssl x509 -in "$out" -noout -fingerprint -sha256
