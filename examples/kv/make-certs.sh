#!/usr/bin/env bash
# Makes a cluster CA and certificates signed by it, with the openssl CLI
# (docs/operations.md explains each step).
#
#   make-certs.sh DIR IDENTITY...
#
# DIR/ca.pem, DIR/ca.key: the CA (made once; reused if present).
# DIR/<IDENTITY>.pem, DIR/<IDENTITY>.key for each identity: subject CN =
# IDENTITY (a member's is its HOST:PORT id; a client's any name), usable for
# TLS servers and clients. ':' in file names is replaced by '_'.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 DIR IDENTITY..." >&2; exit 2; }
dir="$1"; shift
mkdir -p "$dir"
cd "$dir"
if [ ! -f ca.pem ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout ca.key -out ca.pem -days 3650 -subj "/CN=caf-raft cluster CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi
cat > leaf.ext <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyAgreement
extendedKeyUsage=serverAuth,clientAuth
EXT
for id in "$@"; do
  f="${id//:/_}"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$f.key" -out "$f.csr" -subj "/CN=$id" 2>/dev/null
  openssl x509 -req -in "$f.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out "$f.pem" -days 825 -extfile leaf.ext 2>/dev/null
  rm -f "$f.csr"
done
rm -f leaf.ext
