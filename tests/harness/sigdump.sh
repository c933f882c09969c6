#!/usr/bin/env bash
# (e) oss-sigdump reports the signal state it was started with and records
# the signals it receives.
#   - started normally: SigBlk and SigIgn are empty;
#   - control: started by a process that blocks SIGUSR1+SIGTERM and ignores
#     SIGHUP (what an init that forgets to restore them would pass on), it
#     reports exactly those bits, so a test of the shim can tell the two apart;
#   - --wait records signals with its pid and pgid, --exit-on exits with the
#     chosen code; with --fork-grandchild a signal to the process group is
#     recorded by both processes (each with its own pid), a signal to the main
#     pid only by the main process (the control for -g tests);
#   - bad usage exits 125.
source "$OSS_SOURCE_DIR/tests/lib/common.sh"
sd=$(oss_helper oss-sigdump)

# Normal start.
"$sd" --out "$OSS_TMP/plain"
oss_assert_eq 0000000000000000 "$(oss_kv "$OSS_TMP/plain" SigBlk)" "SigBlk, normal start"
oss_assert_eq 0000000000000000 "$(oss_kv "$OSS_TMP/plain" SigIgn)" "SigIgn, normal start"
cgt=$(oss_kv "$OSS_TMP/plain" SigCgt)
if [[ "${OSS_SANITIZE:-0}" == 1 ]]; then
    # ASan's own handlers for SIGBUS, SIGFPE, SIGSEGV (0x4c0) run before main.
    cgt=$(printf '%016x' $((16#$cgt & ~0x4c0)))
fi
oss_assert_eq 0000000000000000 "$cgt" "SigCgt after exec"
oss_assert_eq "$(grep ^SigBlk /proc/self/status | awk '{print $2}')" 0000000000000000 "this shell's own mask"

# Control: a parent that blocks and ignores signals, then execs oss-sigdump.
"$OSS_PYTHON" - "$sd" "$OSS_TMP/blocked" <<'PY'
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGTERM})
signal.signal(signal.SIGHUP, signal.SIG_IGN)
# Python itself ignores SIGPIPE and SIGXFSZ: give them back their default.
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
os.execv(sys.argv[1], [sys.argv[1], "--out", sys.argv[2]])
PY
# bit N-1 for signal N: USR1=10 -> 0x200, TERM=15 -> 0x4000, HUP=1 -> 0x1.
oss_assert_eq 0000000000004200 "$(oss_kv "$OSS_TMP/blocked" SigBlk)" "control: SigBlk inherited"
oss_assert_eq 0000000000000001 "$(oss_kv "$OSS_TMP/blocked" SigIgn)" "control: SigIgn inherited"
# The values agree with the kernel's own view where /proc has it.
out="$OSS_TMP/self"
"$OSS_PYTHON" -c '
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGWINCH})
os.execv("/bin/sh", ["sh", "-c", "grep ^SigBlk /proc/self/status > %s.proc; exec %s --out %s" % (sys.argv[2], sys.argv[1], sys.argv[2])])
' "$sd" "$out"
oss_assert_eq "$(awk '{print $2}' "$out.proc")" "$(oss_kv "$out" SigBlk)" "SigBlk vs /proc/self/status"

# Waiting: signals are recorded with pid/pgid; --exit-on ends it.
w="$OSS_TMP/wait"
setsid "$sd" --out "$w" --wait --exit-on SIGTERM:42 --timeout 30 &
pid=$!
oss_wait_for "grep -q '^ready role=main' '$w'" 10 || oss_fail "oss-sigdump not ready: $(cat "$w")"
# One at a time: pending signals are taken lowest number first, and SIGTERM
# ends the process.
send() {
    local n
    n=$(grep -c '^signal=' "$w" || true)
    kill -s "$1" "$pid"
    oss_wait_for "[[ \$(grep -c '^signal=' '$w') -gt $n ]]" 10 || oss_fail "$1 not recorded"
}
send USR1
send SIGRTMIN+1
send CHLD # sent with kill(): recorded (an init must not forward it)
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
oss_assert_eq 42 "$rc" "--exit-on SIGTERM:42"
oss_assert_file_contains "$w" "^signal=SIGUSR1 pid=$pid pgid=$pid role=main sender=$$\$" "SIGUSR1 record"
oss_assert_file_contains "$w" "^signal=SIGRTMIN\+1 pid=$pid " "SIGRTMIN+1 record"
oss_assert_file_contains "$w" "^signal=SIGCHLD pid=$pid " "SIGCHLD from kill() record"
oss_assert_file_contains "$w" "^signal=SIGTERM pid=$pid " "SIGTERM record"
oss_assert_eq "$pid" "$(oss_kv "$w" pgid)" "own process group (setsid)"
# A non-interactive shell starts background jobs with SIGINT and SIGQUIT
# ignored: bits 0x2 and 0x4.  (Tests that start an init with & see this too.)
oss_assert_eq 0000000000000006 "$(oss_kv "$w" SigIgn)" "SigIgn of a background job"

# Grandchild: group signal reaches both, a pid signal only the main process.
g="$OSS_TMP/group"
setsid "$sd" --out "$g" --wait --fork-grandchild --exit-on SIGTERM:0 --timeout 30 &
pid=$!
oss_wait_for "grep -q '^ready role=main' '$g'" 10 || oss_fail "grandchild mode not ready: $(cat "$g")"
gc=$(sed -n 's/^ready role=grandchild pid=\([0-9]*\).*/\1/p' "$g")
[[ -n "$gc" && "$gc" != "$pid" ]] || oss_fail "no grandchild pid in $(cat "$g")"
kill -USR2 "$pid"       # control: only the main process
kill -HUP -- "-$pid"    # the whole group
oss_wait_for "[[ \$(grep -c '^signal=SIGHUP' '$g') -eq 2 ]]" 10 || oss_fail "group SIGHUP: $(cat "$g")"
oss_assert_file_contains "$g" "^signal=SIGHUP pid=$gc pgid=$pid role=grandchild" "grandchild SIGHUP"
oss_assert_file_contains "$g" "^signal=SIGHUP pid=$pid pgid=$pid role=main" "main SIGHUP"
oss_assert_eq 1 "$(grep -c '^signal=SIGUSR2' "$g")" "SIGUSR2 to the main pid only"
kill -TERM -- "-$pid"
wait "$pid" || oss_fail "main exit code"
oss_wait_for "! kill -0 $gc" 10 || oss_fail "grandchild $gc did not exit on SIGTERM"
oss_assert_eq 0 "$(grep -c '^signal=SIGCHLD' "$g")" "the grandchild's exit SIGCHLD is not recorded"

for bad in "--exit-on SIGFOO:1" "--exit-on SIGTERM:300" "--bogus" "--fork-grandchild"; do
    rc=0
    # shellcheck disable=SC2086
    "$sd" $bad >/dev/null 2>&1 || rc=$?
    oss_assert_eq 125 "$rc" "exit code for '$bad'"
done
echo PASS
