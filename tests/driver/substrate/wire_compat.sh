#!/usr/bin/env bash
# proto/ateapi.proto against upstream's ateapi.proto (see wire_compat.py);
# needs OSS_REFERENCE_DIR (tests/lib/protos.py), skips without it.
set -uo pipefail
ref=$(/usr/bin/python3 "${OSS_SOURCE_DIR:?}/tests/lib/protos.py" reference ateapi) || { echo "$ref"; exit 77; }
ref=$(dirname "$ref")
/usr/bin/python3 -c 'import grpc_tools, google.protobuf' 2>/dev/null ||
  { echo "SKIP: python3-grpc-tools and python3-protobuf needed"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
exec /usr/bin/python3 "$(dirname "$0")/wire_compat.py" \
  "${OSS_BUILD_DIR:?}/tests/driver/substrate/ateapi_wire" "$ref" "$tmp"
