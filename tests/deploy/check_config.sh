#!/usr/bin/env bash
# `openshell-driver-substrate check-config` on the config.json of the
# rendered ConfigMap, exactly as the sidecar would load it.  It runs in a
# private mount namespace with a tmpfs over /run, where the pod's files are
# put at the pod's paths (ate-api token and CA, service-account token and
# CA), so the config is checked unchanged.  Must pass.  Controls: the token
# file removed, the CA not a certificate, a truncated digest, the socket
# directory open to others -> each an error finding and exit 1; a key the
# driver does not know, or a tag instead of a digest -> exit 2 (a start
# refuses those too).
source "$OSS_SOURCE_DIR/tests/deploy/lib.sh"
oss_require_root
oss_require_cmd unshare openssl
drv=$OSS_BUILD_DIR/driver/openshell-driver-substrate
[[ -x $drv ]] || oss_fail "$drv not built"
deploy_render
"$OSS_PYTHON" - "$OSS_TMP/rendered.yaml" "$OSS_TMP/config.json" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
cm = [d for d in docs if d["kind"] == "ConfigMap" and "config.json" in (d.get("data") or {})]
assert len(cm) == 1, "one driver ConfigMap expected"
open(sys.argv[2], "w").write(cm[0]["data"]["config.json"])
PY
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=test-ca \
    -keyout "$OSS_TMP/ca.key" -out "$OSS_TMP/ca.pem" 2>/dev/null || oss_fail "openssl"

# run CASE: check-config in a private /run laid out like the pod; CASE
# breaks one thing first.  Prints the findings, returns check-config's status.
run() {
    unshare --mount --propagation private bash -euc '
        mount -t tmpfs -o mode=0755 tmpfs /run
        mkdir -p /run/ate-api/token /run/ate-api/ca /run/secrets/kubernetes.io/serviceaccount /run/openshell-driver
        chmod 1777 /run/openshell-driver
        cp "$1/ca.pem" /run/ate-api/ca/trust-bundle.pem
        cp "$1/ca.pem" /run/secrets/kubernetes.io/serviceaccount/ca.crt
        echo header.payload.sig >/run/ate-api/token/token
        echo header.payload.sig >/run/secrets/kubernetes.io/serviceaccount/token
        cfg=$1/config.json
        case $2 in
          no-token) rm /run/ate-api/token/token ;;
          bad-ca) echo garbage >/run/ate-api/ca/trust-bundle.pem ;;
          tag) sed "s|@sha256:[0-9a-f]*\"|:3.9\"|" "$cfg" >"$1/tag.json"; cfg=$1/tag.json ;;
          short-digest) sed "s|@sha256:[0-9a-f]*\"|@sha256:abc\"|" "$cfg" >"$1/short.json"; cfg=$1/short.json ;;
          open-sockdir) mkdir -p /run/openshell-driver/substrate; chmod 0777 /run/openshell-driver/substrate
                        chown 4242 /run/openshell-driver/substrate ;;
          unknown-key) sed "s|^{|{\"no_such_key\": 1,|" "$cfg" >"$1/unk.json"; cfg=$1/unk.json ;;
        esac
        exec "$3" check-config --config "$cfg"
    ' run "$OSS_TMP" "$1" "$drv"
}

rc=0; run none >"$OSS_TMP/ok.out" 2>&1 || rc=$?
cat "$OSS_TMP/ok.out"
oss_assert_eq 0 "$rc" "check-config on the ConfigMap's config"
grep -q '^ok    api_tls_ca_path' "$OSS_TMP/ok.out" || oss_fail "the ate-api CA was not checked"
grep -q '^ok    api_bearer_token_path' "$OSS_TMP/ok.out" || oss_fail "the ate-api token was not checked"
grep -q '^ok    pause_image: pinned' "$OSS_TMP/ok.out" || oss_fail "pause_image was not checked"
grep -q 'backend substrate' "$OSS_TMP/ok.out" || oss_fail "not the Substrate backend"
if grep -q 'header.payload.sig' "$OSS_TMP/ok.out"; then oss_fail "a token's contents were printed"; fi
echo "PASS check-config on the ConfigMap's config"

expect() { # expect CASE STATUS PATTERN
    local rc=0
    run "$1" >"$OSS_TMP/$1.out" 2>&1 || rc=$?
    oss_assert_eq "$2" "$rc" "control $1: exit status ($(grep -E '^error' "$OSS_TMP/$1.out" | head -n 2 | tr '\n' ' '))"
    grep -Eq "$3" "$OSS_TMP/$1.out" || oss_fail "control $1: no finding matching $3: $(cat "$OSS_TMP/$1.out")"
    echo "PASS control $1: $(grep -E "$3" "$OSS_TMP/$1.out" | head -n 1)"
}
expect no-token 1 '^error api_bearer_token_path: token file .*No such file'
expect bad-ca 1 '^error api_tls_ca_path: .*no PEM certificate'
expect tag 2 '^error configuration: pause_image must be pinned'
expect short-digest 1 '^error pause_image: .*@sha256:abc is not pinned'
expect open-sockdir 1 '^error socket: directory .* writable by others and not ours'
expect unknown-key 2 '^error configuration: .*unknown key "no_such_key"'
echo PASS
