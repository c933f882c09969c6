#!/usr/bin/env bash
# The golden boot stays anonymous (--actor, --golden=hold): while the
# identity file names another actor (the golden actor's UUID), the shim runs
# its probes and answers readyz 200, and the supervisor is NOT started; once
# the file names our actor (as after Substrate's restore), the shim's restore
# detection starts the supervisor and readyz answers 200 only when the
# supervisor is ready (here: its ready file).
# Controls: --golden=run starts the supervisor during the golden boot; a file
# naming yet another actor keeps the hold.
OSS_TEST_NAME=shim_golden_hold
source "$OSS_SOURCE_DIR/tests/lib/common.sh" || { echo "FAIL: cannot load tests/lib/common.sh" >&2; exit 1; }
SHIM="${OSS_SHIM_UNDER_TEST:-$OSS_BUILD_DIR/shim/openshell-shim}"
[[ -x "$SHIM" ]] || oss_fail "shim not built at $SHIM"
ACTOR="sb-$(oss_unique_name g 12)"
GOLDEN=$(cat /proc/sys/kernel/random/uuid)

readyz() { # -> "CODE BODY"
    "$OSS_PYTHON" - "$1" "${2:-readyz}" <<'PY'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/{sys.argv[2]}", timeout=2)
    print(r.status, r.read().decode().strip()[:200])
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode().strip())
except Exception as e:
    print("dead", repr(e))
PY
}
status_of() { # PORT PYEXPR over /status
    "$OSS_PYTHON" - "$1" "$2" <<'PY'
import json, sys, urllib.request
d = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/status", timeout=2))
print(eval(sys.argv[2]))
PY
}
start_shim() { # DIR MODE -> sets PORT SHIM_PID
    local d=$1 mode=$2
    mkdir -p "$d"
    printf '%s' "$GOLDEN" >"$d/actor-id" # raw UUID, no newline, as Substrate writes it
    PORT=$("$OSS_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$SHIM" --probes=none --report="$d/report.json" --state-dir="$d/state" --readyz-port="$PORT" \
        --ready-tcp=none --ready-file="$d/sup-ready" --identity-file="$d/actor-id" \
        --freeze-threshold=0 --actor="$ACTOR" --golden="$mode" -v -v -- \
        sh -c "touch '$d/started'; sleep 0.3; touch '$d/sup-ready'; exec sleep 600" \
        >"$d/shim.out" 2>"$d/shim.err" </dev/null &
    SHIM_PID=$!
    oss_on_exit "kill -KILL $SHIM_PID 2>/dev/null"
    oss_wait_for "[[ \$(readyz $PORT healthz) == 200* ]]" 10 || oss_fail "shim did not serve: $(tail -n 3 "$d/shim.err")"
}
set_identity() { printf '%s' "$2" >"$1/actor-id.tmp" && mv -f "$1/actor-id.tmp" "$1/actor-id"; }

# ---- hold --------------------------------------------------------------------
D="$OSS_TMP/hold"
start_shim "$D" hold
r=$(readyz "$PORT")
[[ "$r" == "200 ok" ]] || oss_fail "readyz during the golden boot: $r (want 200 for the snapshot)"
sleep 0.5
[[ ! -e "$D/started" ]] || oss_fail "the supervisor started during the golden boot"
oss_assert_eq True "$(status_of "$PORT" 'd["golden"]["holding"]')" "golden.holding"
oss_assert_eq not-started "$(status_of "$PORT" 'd["supervisor"]["state"]')" "supervisor state while holding"
oss_log "ok: golden boot: readyz 200, supervisor not started"

# another actor's name keeps the hold
set_identity "$D" "someone-else"
r=$(readyz "$PORT")
[[ "$r" == "200 ok" ]] || oss_fail "readyz with another actor's identity: $r"
sleep 0.3
[[ ! -e "$D/started" ]] || oss_fail "control: another actor's identity started the supervisor"
oss_log "ok: control: another actor's identity keeps the hold"

# the restore into our actor: the readyz request itself runs the detection
set_identity "$D" "$ACTOR"
t0=$(oss_now_ms)
r=$(readyz "$PORT")
[[ "$r" != "200 ok" ]] || oss_fail "readyz 200 right after the restore, before the supervisor was ready"
oss_log "first readyz after the restore: $r"
oss_wait_for "[[ -e '$D/started' ]]" 5 || oss_fail "the supervisor did not start after the restore: $(tail -n 3 "$D/shim.err")"
oss_wait_for "[[ \$(readyz $PORT) == '200 ok' ]]" 10 0.01 || oss_fail "readyz never 200 after the restore: $(readyz "$PORT")"
[[ -e "$D/sup-ready" ]] || oss_fail "readyz 200 before the supervisor was ready"
oss_log "ok: restored as $ACTOR: supervisor started, readyz 200 after $(($(oss_now_ms) - t0)) ms"
oss_assert_eq False "$(status_of "$PORT" 'd["golden"]["holding"]')" "golden.holding after the restore"
kill -TERM "$SHIM_PID"
wait "$SHIM_PID" || true

# ---- run (control): the supervisor starts during the golden boot --------------
D="$OSS_TMP/run"
start_shim "$D" run
oss_wait_for "[[ -e '$D/started' ]]" 5 || oss_fail "control: --golden=run did not start the supervisor"
oss_log "ok: control: --golden=run starts the supervisor during the golden boot"
kill -TERM "$SHIM_PID"
wait "$SHIM_PID" || true
echo "shim_golden_hold: pass"
