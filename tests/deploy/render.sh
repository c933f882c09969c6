#!/usr/bin/env bash
# deploy/kubernetes renders with `kubectl kustomize`; the output and the
# sources pass yamllint; the built-in kinds pass the offline schema check
# (schema_check.py); the pieces match (wiring_check.py: socket, uid, config,
# ate-api token and CA, images pinned or named placeholders).  Each checker
# runs its own controls (mutations that must be refused).
source "$OSS_SOURCE_DIR/tests/deploy/lib.sh"
deploy_render
command -v yamllint >/dev/null || oss_skip "yamllint missing (Debian's yamllint)"
yl=(yamllint -s -c "$OSS_SOURCE_DIR/tests/deploy/yamllint.yaml")
"${yl[@]}" "$OSS_TMP/rendered.yaml" "$OSS_SOURCE_DIR/deploy/kubernetes" ||
    oss_fail "yamllint refused the rendering or deploy/kubernetes"
# control: yamllint bites on a duplicated key
printf 'a: 1\na: 2\n' >"$OSS_TMP/dup.yaml"
if "${yl[@]}" "$OSS_TMP/dup.yaml" >/dev/null 2>&1; then oss_fail "control: yamllint passed a duplicated key"; fi
echo "PASS yamllint (control: a duplicated key is refused)"
"$OSS_PYTHON" "$OSS_SOURCE_DIR/tests/deploy/schema_check.py" "$OSS_TMP/rendered.yaml" --controls
"$OSS_PYTHON" "$OSS_SOURCE_DIR/tests/deploy/wiring_check.py" "$OSS_TMP/rendered.yaml" \
    "$OSS_SOURCE_DIR/deploy/kubernetes/README.md" --controls

# The chart's default workload is a StatefulSet: the README's one-line change
# (kind in the patch, here also in the stand-in) renders and checks the same.
cp -r "$OSS_SOURCE_DIR/deploy/kubernetes" "$OSS_TMP/sts"
sed -i 's/^kind: Deployment$/kind: StatefulSet/' "$OSS_TMP/sts/gateway/chart-rendered.yaml" \
    "$OSS_TMP/sts/driver/sidecar-patch.yaml"
"${OSS_KUBECTL:-kubectl}" kustomize "$OSS_TMP/sts" >"$OSS_TMP/sts.yaml" 2>"$OSS_TMP/sts.err" ||
    oss_fail "the StatefulSet variant does not render: $(cat "$OSS_TMP/sts.err")"
grep -q '^kind: StatefulSet$' "$OSS_TMP/sts.yaml" || oss_fail "the StatefulSet variant rendered no StatefulSet"
"$OSS_PYTHON" "$OSS_SOURCE_DIR/tests/deploy/schema_check.py" "$OSS_TMP/sts.yaml" >/dev/null ||
    oss_fail "the StatefulSet variant fails the schema check"
"$OSS_PYTHON" "$OSS_SOURCE_DIR/tests/deploy/wiring_check.py" "$OSS_TMP/sts.yaml" \
    "$OSS_SOURCE_DIR/deploy/kubernetes/README.md" >/dev/null || oss_fail "the StatefulSet variant fails the wiring check"
echo "PASS the StatefulSet variant (the chart's default workload kind) renders and checks"
echo PASS
