#!/usr/bin/env bash
# The gateway TLS hand-over and the secret scrub under real runsc, in a
# Substrate-shaped bundle (tests/lib/runsc.sh): the shim as the container
# process with the driver's TLS variables (paths under /run/openshell/tls,
# the templates' own) and the token; its child, a uid-0 script standing for
# the supervisor's start, records /proc/1/environ (the shim's), its own
# environment and the files' modes, starts a gateway listener on the
# sandbox's loopback and execs the stand-in with an https:// endpoint.
# What gVisor shows: /proc/1/environ after the scrub holds neither the token
# nor a PEM; the stand-in reads its files.
# Controls: the shim built without the scrub (the token and the PEMs are in
# /proc/1/environ); the same script as the container process without the
# shim (the stand-in aborts with upstream's "failed to read CA cert").
OSS_TEST_NAME=shim_tls_files_runsc
source "$OSS_SOURCE_DIR/tests/lib/common.sh" || { echo "FAIL: cannot load tests/lib/common.sh" >&2; exit 1; }
[[ "${OSS_SANITIZE:-0}" == 1 ]] && oss_skip "sanitizer build: ASan does not run under gVisor; the plain build runs this"
source "$OSS_SOURCE_DIR/tests/lib/runsc.sh"
source "$OSS_SOURCE_DIR/tests/standin/lib.sh"
oss_runsc_require
SHIM="$OSS_BUILD_DIR/shim/openshell-shim"
NOSCRUB="$OSS_BUILD_DIR/tests/shim/openshell-shim-noscrub"
SB="$OSS_BUILD_DIR/tests/standin/openshell-sandbox-standin"
for b in "$SHIM" "$NOSCRUB" "$SB"; do [[ -x $b ]] || oss_fail "not built: $b"; done

TOKEN="tok-$(oss_unique_name s)"
CA_ID=$(oss_unique_name ca) CERT_ID=$(oss_unique_name cert) KEY_ID=$(oss_unique_name key)
CA="-----BEGIN CERTIFICATE-----
$CA_ID
-----END CERTIFICATE-----"
CERT="-----BEGIN CERTIFICATE-----
$CERT_ID
-----END CERTIFICATE-----"
KEY="-----BEGIN PRIVATE KEY-----
$KEY_ID
-----END PRIVATE KEY-----"
T=/run/openshell/tls
ENV=(--env "OPENSHELL_TLS_CA=$T/ca.crt" --env "OPENSHELL_TLS_CERT=$T/tls.crt" --env "OPENSHELL_TLS_KEY=$T/tls.key"
    --env "OPENSHELL_SHIM_TLS_CA_PEM=$CA" --env "OPENSHELL_SHIM_TLS_CERT_PEM=$CERT"
    --env "OPENSHELL_SHIM_TLS_KEY_PEM=$KEY" --env "OPENSHELL_SANDBOX_TOKEN=$TOKEN"
    --env OPENSHELL_SHIM_TEST_CANARY=canary-visible --env OPENSHELL_STANDIN_STATUS_FILE=/out/standin.json)
# The supervisor's start, as uid 0 in the sandbox (the gateway on the
# sandbox's own loopback: --network=none keeps lo).
START='tr "\0" "\n" < /proc/1/environ > /out/pid1.env 2>&1
env > /out/sup.env
'"$OSS_PYTHON"' -c "import os
for p in (\"ca.crt\", \"tls.crt\", \"tls.key\"):
    s = os.stat(\"/run/openshell/tls/\" + p); print(p, \"%o\" % (s.st_mode & 0o777), s.st_uid)" > /out/mode 2>&1
'"$OSS_PYTHON"' -c "import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((\"127.0.0.1\", 18443)); s.listen(16); open(\"/tmp/gw-up\", \"w\").close(); time.sleep(60)" &
i=0; while [ ! -e /tmp/gw-up ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
exec '"$SB"' --run-as 65534:65534 --sandbox-id s1 --openshell-endpoint https://127.0.0.1:18443 -- /bin/true'

rs() { # NAME -- ARGV...: sets RS_RC, RS_DIR
    local name=$1 id
    shift 2
    RS_DIR="$OSS_TMP/$name"
    mkdir -p "$RS_DIR" && chmod 0777 "$RS_DIR"
    id=$(oss_unique_name "tls-$name")
    oss_bundle_make "$OSS_TMP/bundle-$name" --bind "$RS_DIR:/out" --bind "$OSS_BUILD_DIR:$OSS_BUILD_DIR:ro" \
        "${ENV[@]}" -- "$@"
    RS_RC=0
    oss_runsc_run_fg "$id" "$OSS_TMP/bundle-$name" 60 || RS_RC=$?
    cp "$(oss_runsc_err "$id")" "$RS_DIR/stderr"
}
count() { grep -cF -- "$2" "$1" || true; }

echo "=== the shim under runsc: files written, PEMs and token gone from /proc/1/environ"
rs shim -- "$SHIM" --degrade=all --report=/out/report.json -- /bin/sh -c "$START"
oss_assert_match "^ok" "$(standin_step "$RS_DIR/standin.json" policy)" "runsc: the stand-in read its TLS files (policy step; stderr: $(tail -n 2 "$RS_DIR/stderr" | tr '\n' ' '))"
oss_assert_eq "ca.crt 400 0
tls.crt 400 0
tls.key 400 0" "$(cat "$RS_DIR/mode")" "runsc: the files' modes and owner"
oss_assert_eq 0 "$(count "$RS_DIR/sup.env" _PEM=)" "runsc: no PEM variable in the supervisor's environment"
oss_assert_eq 1 "$(count "$RS_DIR/pid1.env" OPENSHELL_SHIM_TEST_CANARY=canary-visible)" "runsc: /proc/1/environ is readable (a harmless variable)"
for v in "$TOKEN" "$CA_ID" "$CERT_ID" "$KEY_ID" BEGIN; do
    oss_assert_eq 0 "$(count "$RS_DIR/pid1.env" "$v")" "runsc: /proc/1/environ holds no '$v'"
done
# What gVisor shows for a scrubbed entry: the name, then an empty value.
oss_log "gVisor /proc/1/environ, scrubbed entries: $(grep -E '^OPENSHELL_(SANDBOX_TOKEN|SHIM_TLS_)' "$RS_DIR/pid1.env" | tr '\n' ' ')"
oss_assert_eq 1 "$(count "$RS_DIR/pid1.env" 'OPENSHELL_SANDBOX_TOKEN=')" "runsc: the token's name is still listed"

echo "=== CONTROL: the shim without the scrub: gVisor shows the values"
rs noscrub -- "$NOSCRUB" --degrade=all --report=/out/report.json -- /bin/sh -c "$START"
oss_assert_eq 1 "$(count "$RS_DIR/pid1.env" "OPENSHELL_SANDBOX_TOKEN=$TOKEN")" "noscrub: the token in /proc/1/environ"
oss_assert_eq 1 "$(count "$RS_DIR/pid1.env" "OPENSHELL_SHIM_TLS_KEY_PEM=-----BEGIN PRIVATE KEY-----")" "noscrub: the key PEM in /proc/1/environ"

echo "=== CONTROL: no shim, the stand-in aborts as upstream does"
rs direct -- /bin/sh -c "$START"
oss_assert_match "failed to read CA cert from $T/ca.crt" "$(standin_step "$RS_DIR/standin.json" policy)" "no shim: the stand-in's policy step"
oss_assert_eq 1 "$RS_RC" "no shim: exit status"
echo PASS
