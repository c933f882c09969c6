# Sourced by the deploy tests: finds kubectl (OSS_KUBECTL overrides, e.g. a
# Debian kubernetes-client unpacked elsewhere) and renders deploy/kubernetes
# into $OSS_TMP/rendered.yaml.
OSS_TEST_NAME=${OSS_TEST_NAME:-$(basename "$0" .sh)}
source "$OSS_SOURCE_DIR/tests/lib/common.sh"
deploy_render() {
    local kubectl=${OSS_KUBECTL:-kubectl}
    command -v "$kubectl" >/dev/null || oss_skip "no kubectl (Debian's kubernetes-client)"
    "$OSS_PYTHON" -c 'import yaml' 2>/dev/null || oss_skip "python3-yaml missing"
    "$kubectl" kustomize "$OSS_SOURCE_DIR/deploy/kubernetes" >"$OSS_TMP/rendered.yaml" \
        2>"$OSS_TMP/kustomize.err" || oss_fail "kubectl kustomize failed: $(cat "$OSS_TMP/kustomize.err")"
    oss_log "rendered with $("$kubectl" version --client 2>/dev/null | head -n 1)"
}
