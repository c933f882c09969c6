# shellcheck shell=bash
# Runs openshell-shim as PID 1 in four ways behind one interface, so the same
# cases run on the host kernel and under gVisor:
#   host       unshare -pf --mount-proc: PID 1 of a new PID namespace (root)
#   subreaper  a plain child of the test: not PID 1, a child subreaper
#   userns     unshare -Urpf as uid 65534: PID 1 without privilege
#   runsc      the container process of a Substrate-shaped OCI bundle
#
#   p1_start NAME SHIM_ARGS... -- CMD...   start in the background
#   p1_signal NAME SIG                     deliver SIG to the shim
#   p1_wait NAME TIMEOUT_S                 sets P1_RC to the shim's exit status
#                                          (not in $(...): wait needs the parent shell)
#   p1_alive NAME                          true while the shim runs
#   p1_run NAME TIMEOUT_S SHIM_ARGS... -- CMD...   start + wait, echo status
set -euo pipefail
source "$OSS_SOURCE_DIR/tests/lib/common.sh" || { echo "FAIL: cannot load tests/lib/common.sh" >&2; exit 1; }

P1_MODE=${P1_MODE:?P1_MODE must be host, subreaper, userns or runsc}
SHIM="$OSS_BUILD_DIR/shim/openshell-shim"
[[ -x "$SHIM" ]] || oss_fail "shim not built at $SHIM"
# files the shim's children write must be writable by uid 65534 in userns mode
umask 0000
P1_OUT="$OSS_TMP/out"
mkdir -p "$P1_OUT"
chmod 0777 "$P1_OUT" "$OSS_TMP"

case "$P1_MODE" in
host | subreaper) oss_require_root ;;
userns)
    oss_require_cmd setpriv unshare
    if ! setpriv --reuid 65534 --regid 65534 --clear-groups unshare -Urpf --mount-proc true 2>/dev/null; then
        oss_skip "unprivileged user namespaces are not available here (unshare -Urpf as uid 65534 failed)"
    fi
    # the build tree must be reachable by uid 65534
    [[ -x "$SHIM" ]] && setpriv --reuid 65534 --regid 65534 --clear-groups test -x "$SHIM" ||
        oss_skip "uid 65534 cannot execute $SHIM (build tree not world-readable)"
    ;;
runsc)
    source "$OSS_SOURCE_DIR/tests/lib/runsc.sh"
    oss_runsc_require
    ;;
*) oss_fail "unknown P1_MODE $P1_MODE" ;;
esac

# Child pid of a process (the shim under unshare), waiting for it to appear.
_p1_child_of() {
    local parent=$1 c i
    for ((i = 0; i < 200; i++)); do
        c=$(pgrep -P "$parent" | head -n 1 || true)
        [[ -n "$c" ]] && { echo "$c"; return 0; }
        kill -0 "$parent" 2>/dev/null || return 0 # already done: nothing to signal
        sleep 0.01
    done
    return 1
}

p1_start() {
    local name=$1
    shift
    local out="$P1_OUT/$name.stdout" err="$P1_OUT/$name.stderr" bg
    if [[ -z "${P1_INIT:-}" ]]; then
        # This suite is about the init; the bootstrap probes have their own
        # tests.  Report and control socket go to this test's directory.
        set -- --probes=none --report="$P1_OUT/$name.report.json" --state-dir="$P1_OUT/state-$name" "$@"
    fi
    case "$P1_MODE" in
    host)
        unshare -pf --mount-proc --kill-child "${P1_INIT:-$SHIM}" "$@" >"$out" 2>"$err" </dev/null &
        bg=$!
        echo "$bg" >"$OSS_TMP/$name.bg"
        _p1_child_of "$bg" >"$OSS_TMP/$name.pid" || oss_fail "$name: shim did not start"
        ;;
    subreaper)
        "${P1_INIT:-$SHIM}" "$@" >"$out" 2>"$err" </dev/null &
        bg=$!
        echo "$bg" >"$OSS_TMP/$name.bg"
        echo "$bg" >"$OSS_TMP/$name.pid"
        ;;
    userns)
        setpriv --reuid 65534 --regid 65534 --clear-groups \
            unshare -Urpf --mount-proc --kill-child "${P1_INIT:-$SHIM}" "$@" >"$out" 2>"$err" </dev/null &
        bg=$!
        echo "$bg" >"$OSS_TMP/$name.bg"
        _p1_child_of "$bg" >"$OSS_TMP/$name.pid" || oss_fail "$name: shim did not start"
        ;;
    runsc)
        local b="$OSS_TMP/bundle-$name" id
        id=$(oss_unique_name "p1-$name")
        echo "$id" >"$OSS_TMP/$name.id"
        # the container's env is the spec's: pass the shim's own variables on
        local -a envs=()
        local kv
        while IFS= read -r kv; do envs+=(--env "$kv"); done < <(env | grep '^OPENSHELL_SHIM_' || true)
        # /tmp and /run are tmpfs in the sandbox: bind what lives there
        oss_bundle_make "$b" --bind "$P1_OUT:$P1_OUT" --bind "$OSS_BUILD_DIR:$OSS_BUILD_DIR:ro" \
            --bind "$OSS_SOURCE_DIR:$OSS_SOURCE_DIR:ro" \
            "${envs[@]}" -- "${P1_INIT:-$SHIM}" "$@"
        # foreground `runsc run` in the background: its exit status is the
        # container's (a detached container's status is lost once it stops)
        oss_runsc run -bundle "$b" "$id" >"$out" 2>"$err" </dev/null &
        bg=$!
        echo "$bg" >"$OSS_TMP/$name.bg"
        # running, or already finished (a short child may never be seen running)
        oss_wait_for "[[ \$(oss_runsc_status $id) == running ]] || ! kill -0 $bg" 20 0.02 ||
            oss_fail "$name: container did not start: $(tail -n 5 "$err")"
        ;;
    esac
}

p1_signal() {
    local name=$1 sig=$2
    if [[ "$P1_MODE" == runsc ]]; then
        oss_runsc kill "$(cat "$OSS_TMP/$name.id")" "$sig" >/dev/null 2>&1 || true
    else
        kill -s "$sig" "$(cat "$OSS_TMP/$name.pid")" 2>/dev/null || true
    fi
}

p1_alive() {
    kill -0 "$(cat "$OSS_TMP/$1.bg")" 2>/dev/null
}

p1_wait() {
    local name=$1 timeout=$2 bg rc=0
    bg=$(cat "$OSS_TMP/$name.bg")
    if ! oss_wait_for "! kill -0 $bg" "$timeout" 0.01; then
        kill -KILL "$bg" 2>/dev/null || true
        oss_fail "$name: shim still running after ${timeout}s; stderr: $(tail -n 5 "$P1_OUT/$name.stderr")"
    fi
    wait "$bg" || rc=$?
    if [[ "$P1_MODE" == runsc ]]; then
        oss_runsc delete -force "$(cat "$OSS_TMP/$name.id")" >/dev/null 2>&1 || true
    fi
    P1_RC=$rc
}

p1_run() {
    local name=$1 timeout=$2
    shift 2
    p1_start "$name" "$@"
    p1_wait "$name" "$timeout"
    echo "$P1_RC"
}

# What the shim's process looks like from the host: its pid there.
p1_host_pid() {
    cat "$OSS_TMP/$1.pid"
}
