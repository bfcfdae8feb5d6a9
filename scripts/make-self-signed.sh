#!/usr/bin/env bash
# Makes a self-signed TLS certificate that browsers and iOS accept, as one PEM file (certificate, then key), the
# format websockify and wsproxy read with --cert. Unlike the classic `openssl req -x509` recipe (CA:TRUE, no SAN,
# rejected by Firefox, Chrome and Apple), it sets: SAN with every name (IPs as IP entries), CA:FALSE, EKU serverAuth,
# SHA-256, EC P-256 (or RSA-2048), at most 825 days (Apple's limit), file mode 0600.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/make-self-signed.sh [-o FILE] [-d DAYS] [-f] [--rsa] [NAME|IP ...]

  -o FILE   output PEM (certificate + key), default: self.pem
  -d DAYS   validity in days, 1-825, default: 365
  -f        overwrite FILE if it exists
  --rsa     RSA-2048 key instead of EC P-256
  NAME|IP   names for the certificate (default: localhost 127.0.0.1 ::1 and this host's name)
USAGE
}

die() { echo "make-self-signed: $1" >&2; exit "${2:-1}"; }

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
    -h|--help) usage; exit 0 ;;
    --) shift; names+=("$@"); break ;;
    -*) die "unknown option $1 (see --help)" 2 ;;
    *) names+=("$1"); shift ;;
  esac
done

case "$days" in
  ''|*[!0-9]*) die "-d: '$days' is not a number of days (1-825)" 2 ;;
esac
if [ "$days" -lt 1 ] || [ "$days" -gt 825 ]; then
  die "-d: $days is out of range; Apple rejects server certificates valid for more than 825 days" 2
fi
command -v openssl >/dev/null 2>&1 || die "openssl not found; install it (e.g. apt-get install openssl)"
if [ -e "$out" ] && [ "$force" -ne 1 ]; then
  die "$out exists; pass -f to replace it"
fi

if [ ${#names[@]} -eq 0 ]; then
  names=(localhost 127.0.0.1 ::1)
  host=$(hostname 2>/dev/null || true)
  if [[ "$host" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] && [ "$host" != localhost ]; then
    names+=("$host")
  fi
fi

is_ip() {
  [[ "$1" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || [[ "$1" == *:* ]]
}

san=""
for n in "${names[@]}"; do
  if is_ip "$n"; then entry="IP:$n"; else entry="DNS:$n"; fi
  san="${san:+$san,}$entry"
done
cn=${names[0]}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077

# A minimal config: no v3_ca section from the system openssl.cnf can add CA:TRUE.
cat > "$tmp/req.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
x509_extensions = ext
[dn]
CN = $cn
O = wsproxy self-signed
[ext]
basicConstraints = critical,CA:FALSE
subjectAltName = $san
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
CNF

if [ "$rsa" -eq 1 ]; then
  echo "keyUsage = critical,digitalSignature,keyEncipherment" >> "$tmp/req.cnf"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/key.pem" 2>/dev/null
else
  echo "keyUsage = critical,digitalSignature" >> "$tmp/req.cnf"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/key.pem" 2>/dev/null
fi
openssl req -new -x509 -config "$tmp/req.cnf" -key "$tmp/key.pem" -sha256 -days "$days" \
  -set_serial "0x$(openssl rand -hex 16 | sed 's/^[89a-f]/7/')" -out "$tmp/cert.pem" 2>/dev/null

cat "$tmp/cert.pem" "$tmp/key.pem" > "$tmp/self.pem"
chmod 600 "$tmp/self.pem"
mv -f "$tmp/self.pem" "$out"

echo "wrote $out (certificate and key, mode 0600, valid $days days)"
echo "names: $san"
openssl x509 -in "$out" -noout -fingerprint -sha256
