#!/usr/bin/env bash
# 1,000 concurrent gRPC calls against the driver (built with the in-memory
# test double), bounded, on a private Unix socket.
set -euo pipefail
ref=$(/usr/bin/python3 "$OSS_SOURCE_DIR/tests/lib/protos.py" peer openshell) # the protos the peer uses
drv="$OSS_BUILD_DIR/tests/driver/openshell-driver-substrate-testmem"
/usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null ||
    { echo "SKIP: /usr/bin/python3 lacks grpcio/grpc_tools"; exit 77; }
[[ -x $drv ]] || { echo "missing $drv" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
exec /usr/bin/python3 "$OSS_SOURCE_DIR/tests/driver/load_client.py" \
    --reference "$ref" --socket "$tmp/run/driver.sock" --driver "$drv"
