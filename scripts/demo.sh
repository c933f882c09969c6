#!/usr/bin/env bash
# The main job: installs what is needed, builds, and runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
# The end-to-end demo through the driver's gRPC socket on the local runsc
# backend; demo/shim-demo.sh shows the shim alone (signals, reaping, doctor).
exec bash demo/driver-demo.sh
