#!/usr/bin/env bash
# The driver's Role is exactly what the driver uses: rbac_check.py compares
# the Role in the rendering with every request the driver made to the FAKE
# Kubernetes API during the Substrate suites (their request logs, written by
# tests/driver/substrate/fakes_lib.sh; ctest runs those suites first: fixture
# kube_requests).  Controls inside: each rule removed is reported missing,
# an added one extra.
source "$OSS_SOURCE_DIR/tests/deploy/lib.sh"
deploy_render
logs=()
for s in run_fakes e2e; do
    f=$OSS_BUILD_DIR/tests/kube-requests/$s.jsonl
    if [[ -s $f ]]; then logs+=("$f"); else oss_log "no request log from $s (it skipped or did not run)"; fi
done
((${#logs[@]})) || oss_skip "no Substrate suite ran (their request logs are missing)"
"$OSS_PYTHON" "$OSS_SOURCE_DIR/tests/deploy/rbac_check.py" "$OSS_TMP/rendered.yaml" "${logs[@]}" --controls
echo PASS
