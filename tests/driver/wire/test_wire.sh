#!/usr/bin/env bash
# Wire compatibility of proto/compute_driver.proto with the reference copy,
# plus the control: the same comparison against a scratch reference with one
# field number changed must report a mismatch.  Needs upstream's copy
# (OSS_REFERENCE_DIR, see tests/lib/protos.py); skips without it.
set -euo pipefail
ref=$(/usr/bin/python3 "$OSS_SOURCE_DIR/tests/lib/protos.py" reference openshell) || { echo "$ref"; exit 77; }
tool="$OSS_BUILD_DIR/tests/driver/wire/drv_wire_tool"
if [[ ! -x /usr/bin/protoc ]] || ! /usr/bin/python3 -c 'import google.protobuf' 2>/dev/null; then
  echo "SKIP: needs /usr/bin/protoc (protobuf-compiler) and python3-protobuf" >&2
  exit 77
fi
test_py="$OSS_SOURCE_DIR/tests/driver/wire/wire_test.py"
/usr/bin/python3 "$test_py" --tool "$tool" --reference "$ref"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp "$ref/compute_driver.proto" "$ref/options.proto" "$scratch/"
# DriverCondition.reason = 3 -> 7: same type, different number
sed -i '/^message DriverCondition {/,/^}/ s/string reason = 3;/string reason = 7;/' \
  "$scratch/compute_driver.proto"
grep -q 'string reason = 7;' "$scratch/compute_driver.proto" || {
  echo "control setup failed: pattern not found in the reference" >&2
  exit 1
}
echo "control: static check against a scratch reference with reason = 7"
/usr/bin/python3 "$test_py" --tool "$tool" --reference "$scratch" --expect-mismatch
echo "control: round trips alone against the same scratch reference"
/usr/bin/python3 "$test_py" --tool "$tool" --reference "$scratch" --expect-mismatch --skip-static
echo "wire compatibility: OK (and the controls detect a wrong field number)"
