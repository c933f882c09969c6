#!/usr/bin/env bash
# Makes a throw-away test CA and a server certificate for api.ate-system.svc
# (also localhost and 127.0.0.1) in directory $1.  Test use only.
set -euo pipefail
d=$1
mkdir -p "$d"
cat >"$d/ext.cnf" <<'EOT'
subjectAltName=DNS:api.ate-system.svc,DNS:localhost,IP:127.0.0.1
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
EOT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 1 \
  -subj /CN=oss-test-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$d/srv.key" -out "$d/srv.csr" \
  -subj /CN=api.ate-system.svc 2>/dev/null
openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
  -out "$d/srv.pem" -days 1 -extfile "$d/ext.cnf" 2>/dev/null
# a client certificate for the mutual-TLS case
printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n' \
  >"$d/client.cnf"
openssl req -newkey rsa:2048 -nodes -keyout "$d/client.key" -out "$d/client.csr" \
  -subj /CN=openshell-driver-substrate 2>/dev/null
openssl x509 -req -in "$d/client.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
  -out "$d/client.pem" -days 1 -extfile "$d/client.cnf" 2>/dev/null
