#!/usr/bin/env bash
# WatchSandboxes over N sandboxes (the in-memory test double seeded with N):
# whole snapshots for readers at a realistic pace, live events meanwhile,
# and a cut only for a stream that stops reading.  Usage: test_watch_scale.sh N
set -euo pipefail
ref="$OSS_SOURCE_DIR/../shared/reference/openshell"
drv="$OSS_BUILD_DIR/tests/driver/openshell-driver-substrate-testmem"
[[ -f $ref/compute_driver.proto ]] || { echo "SKIP: reference protos not found at $ref"; exit 77; }
/usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null ||
    { echo "SKIP: /usr/bin/python3 lacks grpcio/grpc_tools"; exit 77; }
[[ -x $drv ]] || { echo "missing $drv" >&2; exit 1; }
exec /usr/bin/python3 "$OSS_SOURCE_DIR/tests/driver/watch_scale.py" --reference "$ref" \
    --driver "$drv" --n "$1"
