#!/usr/bin/env bash
# proto/ateapi.proto against the REFERENCE ateapi.proto (see wire_compat.py).
set -uo pipefail
ref=${OSS_SOURCE_DIR:?}/../shared/reference/substrate
[[ -f $ref/ateapi.proto ]] || { echo "SKIP: reference ateapi.proto not found at $ref"; exit 77; }
/usr/bin/python3 -c 'import grpc_tools, google.protobuf' 2>/dev/null ||
  { echo "SKIP: python3-grpc-tools and python3-protobuf needed"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
exec /usr/bin/python3 "$(dirname "$0")/wire_compat.py" \
  "${OSS_BUILD_DIR:?}/tests/substrate/ateapi_wire" "$ref" "$tmp"
