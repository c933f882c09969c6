#!/usr/bin/env bash
# --hold-stdin: the child's stdin is a pipe the shim keeps open and never
# writes, so a shell meant for a terminal (the gateway's default
# "/bin/bash -l" with tty) waits instead of reading EOF from /dev/null and
# ending the sandbox (docs/shim.md, "Standard input").
# Control: the same child without the flag reads EOF at once and ends.
OSS_TEST_NAME=shim_hold_stdin
source "$OSS_SOURCE_DIR/tests/lib/common.sh" || { echo "FAIL: cannot load tests/lib/common.sh" >&2; exit 1; }
SHIM="${OSS_SHIM_UNDER_TEST:-$OSS_BUILD_DIR/shim/openshell-shim}"
[[ -x "$SHIM" ]] || oss_fail "shim not built at $SHIM"

# The child records what its fd 0 is and which of its fds share that pipe,
# then reads stdin once and says how the read ended.
child() { # DIR
    printf '%s' "d='$1'"'
        readlink /proc/$$/fd/0 >>"$d/fd0"
        for f in /proc/$$/fd/*; do readlink "$f"; done >"$d/fds"
        if read -r line; then echo "data:$line" >>"$d/read"; else echo eof >>"$d/read"; fi'
}

# ---- control: without the flag, EOF at once ---------------------------------
D="$OSS_TMP/control"
mkdir -p "$D"
t0=$(oss_now_ms)
rc=0
timeout 10 "$SHIM" --probes=none -- sh -c "$(child "$D")" </dev/null 2>"$D/err" || rc=$?
oss_assert_eq 0 "$rc" "control: the shim ends with its child"
oss_assert_eq eof "$(cat "$D/read")" "control: the child read EOF from /dev/null"
(($(oss_now_ms) - t0 < 5000)) || oss_fail "control: took $(($(oss_now_ms) - t0)) ms"
oss_assert_eq /dev/null "$(cat "$D/fd0")" "control: the child's stdin"

# ---- the flag: the child waits, and a stop still ends it ---------------------
D="$OSS_TMP/hold"
mkdir -p "$D"
"$SHIM" --probes=none --hold-stdin -- sh -c "$(child "$D")" </dev/null 2>"$D/err" &
SHIM_PID=$!
oss_on_exit "kill -KILL $SHIM_PID 2>/dev/null"
oss_wait_for "[[ -s '$D/fds' ]]" 10 || oss_fail "the child did not start: $(tail -n 3 "$D/err")"
sleep 1
kill -0 "$SHIM_PID" 2>/dev/null || oss_fail "the shim ended although the child should wait on stdin"
[[ ! -e "$D/read" ]] || oss_fail "the child's read returned: $(cat "$D/read")"
pipe=$(cat "$D/fd0")
[[ "$pipe" == pipe:* ]] || oss_fail "the child's stdin is '$pipe', not a pipe"
oss_assert_eq 1 "$(grep -cxF "$pipe" "$D/fds")" "the child holds only the read end (the write end stays in the shim)"
shim_fds=$(for f in /proc/$SHIM_PID/fd/*; do readlink "$f"; done)
oss_assert_eq 2 "$(grep -cxF "$pipe" <<<"$shim_fds")" "the shim holds both ends of the child's stdin pipe"
kill -TERM "$SHIM_PID"
rc=0
wait "$SHIM_PID" || rc=$?
oss_assert_eq 143 "$rc" "SIGTERM still ends the waiting child and the shim"

# ---- every restart gets the same held pipe; the environment form ------------
D="$OSS_TMP/restart"
mkdir -p "$D"
OPENSHELL_SHIM_HOLD_STDIN=1 "$SHIM" --probes=none --restart=on-failure --backoff-initial=50ms -- \
    sh -c "readlink /proc/\$\$/fd/0 >>'$D/fd0'; [ -e '$D/again' ] || { touch '$D/again'; exit 3; }; read -r x; echo ended >'$D/read'" \
    </dev/null 2>"$D/err" &
SHIM_PID=$!
oss_on_exit "kill -KILL $SHIM_PID 2>/dev/null"
oss_wait_for "[[ \$(wc -l <'$D/fd0' 2>/dev/null) -ge 2 ]]" 10 || oss_fail "no restart: $(tail -n 3 "$D/err")"
sleep 0.5
[[ ! -e "$D/read" ]] || oss_fail "the restarted child's read returned"
first=$(sed -n 1p "$D/fd0") second=$(sed -n 2p "$D/fd0")
[[ "$first" == pipe:* ]] || oss_fail "OPENSHELL_SHIM_HOLD_STDIN=1: stdin is '$first'"
oss_assert_eq "$first" "$second" "the restarted child gets the same held pipe"
kill -TERM "$SHIM_PID"
wait "$SHIM_PID" 2>/dev/null || true
echo PASS
