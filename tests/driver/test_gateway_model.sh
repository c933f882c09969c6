#!/usr/bin/env bash
# The gateway model's own rules (tests/driver/gateway_model.py) on synthetic
# snapshot sequences and a scripted driver stub: no driver process.
set -euo pipefail
ref="$OSS_SOURCE_DIR/../shared/reference/openshell"
[[ -f $ref/compute_driver.proto ]] || { echo "SKIP: reference protos not found at $ref"; exit 77; }
/usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null ||
    { echo "SKIP: /usr/bin/python3 lacks grpcio/grpc_tools"; exit 77; }
exec /usr/bin/python3 "$OSS_SOURCE_DIR/tests/driver/test_gateway_model.py" --reference "$ref"
