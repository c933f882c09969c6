#!/usr/bin/env bash
# The gateway TLS hand-over (docs/probes.md, the gateway TLS files) and the
# secret scrub of the shim's start-up environment, on the host: the real
# shim, the stand-in supervisor (upstream's TLS file reads), an https://
# endpoint on loopback and the three OPENSHELL_SHIM_TLS_*_PEM variables as
# the driver's templates deliver them.
#   1. the shim writes each PEM to the file its OPENSHELL_TLS_* names (0400,
#      a 0700 directory on a tmpfs), takes the PEMs out of the supervisor's
#      environment, reports names and paths only; the stand-in reads its
#      files and gets past the policy step;
#   2. /proc/<shim pid>/environ holds neither the token nor a PEM (a
#      harmless variable stays readable: the reader works);
#   3. refusals, exit 124 naming the variable, the stand-in never started:
#      a path outside the allowed directories, a PEM missing;
# Controls: the stand-in without the shim's step aborts as upstream does
# ("failed to read CA cert from ..."); a file with no PEM block fails the
# stand-in's handshake; the shim built without the scrub leaves the token
# and the PEMs readable in /proc/<pid>/environ.
OSS_TEST_NAME=shim_tls_files
source "$OSS_SOURCE_DIR/tests/lib/common.sh" || { echo "FAIL: cannot load tests/lib/common.sh" >&2; exit 1; }
oss_require_root # the stand-in's privilege drop and network namespace
source "$OSS_SOURCE_DIR/tests/lib/private_netns.sh"
source "$OSS_SOURCE_DIR/tests/standin/lib.sh"
oss_in_private_netns "$0" "$@"
SHIM="$OSS_BUILD_DIR/shim/openshell-shim"
NOSCRUB="$OSS_BUILD_DIR/tests/shim/openshell-shim-noscrub"
SB="$OSS_BUILD_DIR/tests/standin/openshell-sandbox-standin"
for b in "$SHIM" "$NOSCRUB" "$SB"; do [[ -x $b ]] || oss_fail "not built: $b"; done
[[ $(stat -f -c %T /dev/shm) == tmpfs ]] || oss_skip "/dev/shm is not a tmpfs"

W="$OSS_TMP/w"
mkdir -p "$W" && chmod 0777 "$W"
STATE="/dev/shm/$(oss_unique_name oss-tls)"
oss_on_exit "rm -rf '$STATE'"
TLS="$STATE/tls"
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

# The gateway: a listener on loopback in this test's own namespace.
PORT=$("$OSS_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$OSS_PYTHON" -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); time.sleep(120)' "$PORT" &
GW=$!
oss_on_exit "kill $GW"
oss_wait_for "(exec 3<>/dev/tcp/127.0.0.1/$PORT)" 10 || oss_fail "gateway listener did not start"

TLSENV=(OPENSHELL_TLS_CA="$TLS/ca.crt" OPENSHELL_TLS_CERT="$TLS/tls.crt" OPENSHELL_TLS_KEY="$TLS/tls.key"
    OPENSHELL_SHIM_TLS_CA_PEM="$CA" OPENSHELL_SHIM_TLS_CERT_PEM="$CERT" OPENSHELL_SHIM_TLS_KEY_PEM="$KEY")
SBARGS=(--run-as 65534:65534 --sandbox-id s1 --openshell-endpoint "https://127.0.0.1:$PORT")
# The workload records its environment and waits (bounded) for "go", so the
# test can read the shim's /proc/<pid>/environ meanwhile.
WL='env > "$1/wl.env"; i=0; while [ ! -e "$1/go" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done'

environ_has() { # PID STRING -> count of entries holding STRING
    tr '\0' '\n' <"/proc/$1/environ" | grep -cF -- "$2" || true
}

# run_shim NAME SHIMBIN: the shim with the TLS variables and the token, in
# the background until the workload waits; sets D, PID.
run_shim() {
    D="$W/$1"
    mkdir -p "$D" && chmod 0777 "$D"
    rm -rf "$STATE"
    env "${TLSENV[@]}" OPENSHELL_SANDBOX_TOKEN="$TOKEN" OPENSHELL_SHIM_TEST_CANARY=canary-visible \
        OPENSHELL_STANDIN_STATUS_FILE="$D/standin.json" \
        "$2" --degrade=all --report="$D/report.json" --state-dir="$STATE" -- \
        "$SB" "${SBARGS[@]}" -- /bin/sh -c "$WL" wl "$D" >"$D/out" 2>"$D/err" </dev/null &
    PID=$!
    oss_on_exit "kill -KILL $PID"
    oss_wait_for "[[ -s '$D/wl.env' ]]" 30 || oss_fail "$1: the workload never ran: $(tail -n 5 "$D/err")"
}
finish() { touch "$D/go"; RC=0; wait "$PID" || RC=$?; }

echo "=== 1. the shim writes the files; the stand-in reads them"
run_shim ok "$SHIM"
oss_assert_match "^ok" "$(standin_step "$D/standin.json" policy)" "stand-in policy step (the TLS files read, the gateway reached)"
for f in ca.crt:CA tls.crt:CERT tls.key:KEY; do
    file=${f%%:*} var=${f#*:}
    oss_assert_eq "400 0" "$(stat -c '%a %u' "$TLS/$file")" "$file: mode and owner (the supervisor's uid)"
    [[ $(cat "$TLS/$file") == "${!var}" ]] || oss_fail "$file: content differs from its PEM variable"
done
oss_assert_eq "700 tmpfs" "$(stat -c %a "$TLS") $(stat -f -c %T "$TLS")" "the directory: 0700 on a tmpfs"
oss_assert_eq 0 "$(find "$TLS" -name '.secret.*' | wc -l)" "no temporary file left"
oss_assert_eq 0 "$(grep -c '_PEM=' "$D/wl.env")" "the workload's environment has no PEM variable"
SUP=$(pgrep -P "$PID" | head -n 1)
[[ -n $SUP ]] || oss_fail "no supervisor process under the shim"
oss_assert_eq 0 "$(environ_has "$SUP" _PEM=)" "the supervisor's environment has no PEM variable"
oss_assert_eq 1 "$(environ_has "$SUP" "OPENSHELL_TLS_KEY=$TLS/tls.key")" "the supervisor's OPENSHELL_TLS_KEY"

echo "=== 2. the shim's own /proc/<pid>/environ"
oss_assert_eq 0 "$(environ_has "$PID" "$TOKEN")" "/proc/shim/environ: the token's value"
for v in "$CA_ID" "$CERT_ID" "$KEY_ID" BEGIN; do
    oss_assert_eq 0 "$(environ_has "$PID" "$v")" "/proc/shim/environ: PEM material ($v)"
done
oss_assert_eq 1 "$(environ_has "$PID" OPENSHELL_SHIM_TEST_CANARY=canary-visible)" "/proc/shim/environ: a harmless variable (the reader works)"
oss_assert_eq 1 "$(environ_has "$PID" "OPENSHELL_TLS_CA=$TLS/ca.crt")" "/proc/shim/environ: a path variable stays"
finish
oss_assert_eq 0 "$(grep -cE "$CA_ID|$CERT_ID|$KEY_ID|BEGIN|$TOKEN" "$D/report.json")" "the report holds no secret"
"$OSS_PYTHON" - "$D/report.json" "$TLS" <<'PY' || oss_fail "report: tls section / env entries"
import json, sys
b = json.load(open(sys.argv[1]))["bootstrap"]
t = b["tls"]
assert t["note"].startswith("written"), t
got = [(f["from"], f["variable"], f["path"]) for f in t["files"]]
want = [("OPENSHELL_SHIM_TLS_CA_PEM", "OPENSHELL_TLS_CA", sys.argv[2] + "/ca.crt"),
        ("OPENSHELL_SHIM_TLS_CERT_PEM", "OPENSHELL_TLS_CERT", sys.argv[2] + "/tls.crt"),
        ("OPENSHELL_SHIM_TLS_KEY_PEM", "OPENSHELL_TLS_KEY", sys.argv[2] + "/tls.key")]
assert got == want, got
env = {e["name"]: e for e in b["env"]}
for n in ("OPENSHELL_SHIM_TLS_CA_PEM", "OPENSHELL_SHIM_TLS_CERT_PEM", "OPENSHELL_SHIM_TLS_KEY_PEM"):
    assert env[n]["action"] == "removed" and "value" not in env[n], env[n]
PY

echo "=== CONTROL: the scrub off (test build): the values stay in /proc/<pid>/environ"
run_shim noscrub "$NOSCRUB"
oss_assert_eq 1 "$(environ_has "$PID" "OPENSHELL_SANDBOX_TOKEN=$TOKEN")" "noscrub: the token in /proc/shim/environ"
oss_assert_eq 1 "$(environ_has "$PID" "OPENSHELL_SHIM_TLS_CA_PEM=-----BEGIN")" "noscrub: the CA PEM in /proc/shim/environ"
finish

echo "=== CONTROL: the stand-in without the shim's step aborts as upstream does"
rm -rf "$STATE"
D="$W/direct"
mkdir -p "$D"
rc=0
env "${TLSENV[@]}" OPENSHELL_STANDIN_STATUS_FILE="$D/standin.json" "$SB" "${SBARGS[@]}" -- /bin/true \
    >/dev/null 2>&1 </dev/null || rc=$?
oss_assert_eq 1 "$rc" "stand-in alone: exit status"
oss_assert_match "failed to read CA cert from $TLS/ca.crt" "$(standin_step "$D/standin.json" policy)" "stand-in alone: the upstream message"
echo "=== CONTROL: a file with no PEM block fails the stand-in's handshake"
mkdir -p "$TLS" && printf 'not pem' >"$TLS/ca.crt" && printf '%s' "$CERT" >"$TLS/tls.crt" && printf '%s' "$KEY" >"$TLS/tls.key"
rc=0
env "${TLSENV[@]}" OPENSHELL_STANDIN_STATUS_FILE="$D/nopem.json" "$SB" "${SBARGS[@]}" -- /bin/true \
    >/dev/null 2>&1 </dev/null || rc=$?
oss_assert_eq 1 "$rc" "not PEM: exit status"
oss_assert_match "no PEM block in $TLS/ca.crt" "$(standin_step "$D/nopem.json" policy)" "not PEM: the stand-in's message"

echo "=== 3. refusals: exit 124 naming the variable, no supervisor"
refuse() { # NAME EXPECTED-RE ENV...
    local name=$1 re=$2
    shift 2
    D="$W/$name"
    mkdir -p "$D"
    rm -rf "$STATE"
    local rc=0
    env "$@" "$SHIM" --degrade=all --report="$D/report.json" --state-dir="$STATE" -- \
        /bin/sh -c "touch '$D/ran'" >"$D/out" 2>"$D/err" </dev/null || rc=$?
    oss_assert_eq 124 "$rc" "$name: exit status"
    oss_assert_match "$re" "$(cat "$D/err")" "$name: the error line"
    [[ ! -e $D/ran ]] || oss_fail "$name: the supervisor ran"
    oss_assert_match "^refused: " "$("$OSS_PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["bootstrap"]["tls"]["note"])' "$D/report.json")" "$name: the report's tls note"
    oss_assert_eq 0 "$(grep -cE "$CA_ID|$CERT_ID|$KEY_ID|BEGIN" "$D/err" "$D/report.json" | awk -F: '{s+=$2} END {print s}')" "$name: no PEM in the log or report"
}
refuse escape 'OPENSHELL_TLS_CA names a path the shim does not write' \
    "${TLSENV[@]}" OPENSHELL_TLS_CA="$TLS/../ca.crt"
refuse elsewhere 'OPENSHELL_TLS_KEY names a path the shim does not write' \
    "${TLSENV[@]}" OPENSHELL_TLS_KEY=/etc/tls.key
refuse missing 'OPENSHELL_SHIM_TLS_CERT_PEM is missing' \
    OPENSHELL_TLS_CA="$TLS/ca.crt" OPENSHELL_TLS_CERT="$TLS/tls.crt" OPENSHELL_TLS_KEY="$TLS/tls.key" \
    OPENSHELL_SHIM_TLS_CA_PEM="$CA" OPENSHELL_SHIM_TLS_KEY_PEM="$KEY"
[[ ! -e /etc/tls.key ]] || oss_fail "a file appeared at /etc/tls.key"
# A state dir that is not on a tmpfs: the writer refuses, and so does the shim.
STATE_SAVE=$STATE
STATE="$OSS_TMP/disk-state"
refuse disk 'OPENSHELL_SHIM_TLS_CA_PEM to .*not on a tmpfs' \
    OPENSHELL_TLS_CA="$STATE/tls/ca.crt" OPENSHELL_TLS_CERT="$STATE/tls/tls.crt" OPENSHELL_TLS_KEY="$STATE/tls/tls.key" \
    OPENSHELL_SHIM_TLS_CA_PEM="$CA" OPENSHELL_SHIM_TLS_CERT_PEM="$CERT" OPENSHELL_SHIM_TLS_KEY_PEM="$KEY"
[[ $(stat -f -c %T "$OSS_TMP") != tmpfs ]] || oss_log "note: $OSS_TMP is a tmpfs, the disk case proved nothing"
STATE=$STATE_SAVE
echo PASS
