#!/bin/sh
# Makes a DEVELOPMENT-ONLY signing setup for RAUC bundles: a CA and one signing
# certificate under it, both ECDSA P-256 (what RAUC 1.8 signs with here).
# Never put these on a box that ships: production keys are made offline, see
# ota/KEYS.md.
#
#   ota/make-keys.sh DIR
#
# Writes into DIR: dev-ca.cert.pem, dev-ca.key.pem (the CA), dev-signing.cert.pem,
# dev-signing.key.pem (what `rauc bundle` signs with) and keyring.pem (what the
# box verifies against: the CA's certificate).
set -eu

usage() {
	echo "usage: $0 DIR   (makes DEVELOPMENT-ONLY RAUC keys in DIR)" >&2
	exit 2
}
[ "$#" -eq 1 ] || usage
dir="$1"
command -v openssl >/dev/null 2>&1 || {
	echo "make-keys: openssl not found (apt-get install openssl)" >&2
	exit 1
}
mkdir -p "$dir"
if [ -e "$dir/dev-ca.key.pem" ] || [ -e "$dir/dev-signing.key.pem" ]; then
	echo "make-keys: $dir already holds keys; not overwriting them" >&2
	exit 1
fi

days=3650
org="hushbox DEVELOPMENT ONLY - not for production"
ext="$(mktemp)"
trap 'rm -f "$ext" "$dir/dev-signing.csr"' EXIT

umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$dir/dev-ca.key.pem" -out "$dir/dev-ca.cert.pem" -days "$days" \
	-subj "/O=$org/CN=hushbox DEVELOPMENT ONLY CA" \
	-addext "basicConstraints=critical,CA:true" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

cat >"$ext" <<EXT
basicConstraints=critical,CA:false
keyUsage=critical,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
EXT
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$dir/dev-signing.key.pem" -out "$dir/dev-signing.csr" \
	-subj "/O=$org/CN=hushbox DEVELOPMENT ONLY signing" 2>/dev/null
openssl x509 -req -in "$dir/dev-signing.csr" -CA "$dir/dev-ca.cert.pem" -CAkey "$dir/dev-ca.key.pem" \
	-set_serial "0x$(openssl rand -hex 16)" -days "$days" -extfile "$ext" \
	-out "$dir/dev-signing.cert.pem" 2>/dev/null

umask 022
chmod 644 "$dir/dev-ca.cert.pem" "$dir/dev-signing.cert.pem"
cp "$dir/dev-ca.cert.pem" "$dir/keyring.pem"
echo "make-keys: DEVELOPMENT-ONLY keys in $dir (keyring.pem is what a development box trusts)" >&2
