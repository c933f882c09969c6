#!/usr/bin/env bash
# The gateway model's own rules (tests/driver/gateway_model.py) on synthetic
# snapshot sequences and a scripted driver stub: no driver process.
set -euo pipefail
ref=$(/usr/bin/python3 "$OSS_SOURCE_DIR/tests/lib/protos.py" peer openshell) # tests/lib/protos.py
/usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null ||
    { echo "SKIP: /usr/bin/python3 lacks grpcio/grpc_tools"; exit 77; }
exec /usr/bin/python3 "$OSS_SOURCE_DIR/tests/driver/test_gateway_model.py" --reference "$ref"
