#!/usr/bin/env bash
# End to end through the REAL openshell-driver-substrate (--backend=substrate,
# JSON config file): the FAKE ate-api-server and FAKE Kubernetes API of
# tests/driver/substrate (test CA made now, TLS, bearer token files) on loopback, the
# gateway-like client's lifecycle suite, then fault cases through the driver
# (e2e.py says which).  Skips (77) without Debian's
# python3-grpcio/grpc-tools/protobuf/yaml.  Protos and CRD: tests/lib/protos.py.
set -uo pipefail
source "$OSS_SOURCE_DIR/tests/driver/substrate/fakes_lib.sh"
drv=$OSS_BUILD_DIR/driver/openshell-driver-substrate
[[ -x $drv ]] || { echo "FAIL: $drv not built"; exit 1; }
$py "$OSS_SOURCE_DIR/tests/driver/e2e/e2e.py" --driver-bin "$drv" \
  --reference "$($py "$OSS_SOURCE_DIR/tests/lib/protos.py" peer openshell)" --fake-logs "$tmp"
rc=$?
if [[ $rc != 0 ]]; then
  echo "---- fake_ateapi"; tail -n 20 "$tmp/fake_ateapi.log"
  echo "---- fake_kube"; tail -n 20 "$tmp/fake_kube.log"
fi
exit $rc
