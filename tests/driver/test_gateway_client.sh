#!/usr/bin/env bash
# The gateway-like client (tests/driver/gateway_client.py) against the driver
# built with the in-memory test double.  Stubs come from the REFERENCE protos
# at $OSS_SOURCE_DIR/../shared/reference; without them there is nothing
# independent to test against, so skip.
set -euo pipefail
ref="$OSS_SOURCE_DIR/../shared/reference/openshell"
drv="$OSS_BUILD_DIR/tests/driver/openshell-driver-substrate-testmem"
if [[ ! -f $ref/compute_driver.proto ]]; then
  echo "SKIP: reference protos not found at $ref" >&2
  exit 77
fi
if ! /usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null; then
  echo "SKIP: /usr/bin/python3 lacks grpcio/grpc_tools (python3-grpcio python3-grpc-tools)" >&2
  exit 77
fi
[[ -x $drv ]] || { echo "missing $drv" >&2; exit 1; }
tmp=$(mktemp -d)
chmod 0755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
# the socket's directory does not exist yet: the driver must create it 0700
exec /usr/bin/python3 "$OSS_SOURCE_DIR/tests/driver/gateway_client.py" \
  --reference "$ref" --socket "$tmp/run/driver.sock" --driver "$drv --log-level debug" \
  --expect-digest --suite lifecycle --suite testmem --suite perms --suite sigterm \
  --suite slowstream --suite nulstrings
