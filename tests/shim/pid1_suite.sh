#!/usr/bin/env bash
# The PID-1 suite of openshell-shim, run in every mode of
# lib_pid1.sh: exit statuses, signal forwarding (child and group), reaping a
# burst of orphans, restart policies with backoff, stay-alive, the stop
# timeout, the child's restored signal state, and bad input.  Controls prove
# the checks can fail: a non-reaping init leaves zombies, a grandchild outside
# -g gets nothing, the shim's own mask is not the child's.
#
#   P1_MODE=host|subreaper|userns|runsc pid1_suite.sh
HERE=$(cd "$(dirname "$0")" && pwd)
OSS_TEST_NAME="pid1_${P1_MODE:-}"
set -euo pipefail
source "$HERE/lib_pid1.sh" || exit 1

H="$OSS_HELPERS_DIR"
for h in oss-exit oss-sigdump oss-orphans; do oss_helper "$h" >/dev/null; done
pass=0
ok() {
    pass=$((pass + 1))
    oss_log "ok: $*"
}

# ---- exit statuses --------------------------------------------------------
if [[ "$P1_MODE" == runsc ]]; then
    codes=(0 1 2 3 64 100 124 125 126 127 128 200 254 255) # each run boots a sandbox
else
    codes=($(seq 0 255))
fi
for c in "${codes[@]}"; do
    rc=$(p1_run "exit$c" 20 -- "$H/oss-exit" "$c")
    oss_assert_eq "$c" "$rc" "exit status for child exit $c"
done
ok "child exit codes ${codes[0]}..${codes[-1]} (${#codes[@]})"

deadly=(HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT XCPU XFSZ VTALRM PROF POLL PWR SYS)
for s in "${deadly[@]}"; do
    n=$(kill -l "${s/POLL/IO}") # glibc names signal 29 POLL, bash names it IO
    rc=$(p1_run "sig$s" 20 -- "$H/oss-exit" "SIG$s")
    oss_assert_eq "$((128 + n))" "$rc" "exit status for child killed by SIG$s"
done
ok "every deadly signal maps to 128+N (${#deadly[@]} signals)"

oss_assert_eq 127 "$(p1_run nf 20 -- /nonexistent/cmd)" "command not found"
oss_assert_eq 126 "$(p1_run nx 20 -- /etc/passwd)" "command not executable"
oss_assert_file_contains "$P1_OUT/nf.stderr" "cannot execute /nonexistent/cmd: .*ENOENT"
oss_assert_eq 0 "$(p1_run remap 20 -e 3 -- "$H/oss-exit" 3)" "-e 3 remaps 3 to 0"
oss_assert_eq 4 "$(p1_run remap2 20 -e 3 -- "$H/oss-exit" 4)" "-e 3 leaves 4 alone"
oss_assert_eq 0 "$(p1_run remap3 20 -e 143 -- "$H/oss-exit" SIGTERM)" "-e 143 remaps death by SIGTERM"
# tini's form: no "--", options stop at the first non-option
oss_assert_eq 0 "$(p1_run tini1 20 -e 3 "$H/oss-exit" 3)" "tini form: -e 3 CMD 3"
oss_assert_eq 5 "$(p1_run tini2 20 -g /bin/sh -c 'exit 5' -v)" "tini form: the command keeps its own flags"
ok "127/126 and -e remapping, with and without '--'"

# ---- bad input: one line, exit 125, the child never starts ----------------
marker="$P1_OUT/started-anyway"
for bad in "--nope" "--restart=sometimes" "-p SIGKILL" "--degrade=netns,bogus" "--stop-timeout=x"; do
    # shellcheck disable=SC2086
    rc=$(p1_run bad 20 $bad -- /bin/sh -c "touch $marker")
    oss_assert_eq 125 "$rc" "exit status for bad input '$bad'"
    [[ ! -e "$marker" ]] || oss_fail "child started despite bad input '$bad'"
    oss_assert_eq 2 "$(wc -l <"$P1_OUT/bad.stderr")" "error lines for '$bad': $(cat "$P1_OUT/bad.stderr")"
done
ok "bad input exits 125 with one error line and starts nothing"

# ---- signal forwarding ----------------------------------------------------
fwd=(HUP USR1 USR2 WINCH INT TERM)
check_forwarding() { # NAME GROUP(0|1)
    local name=$1 group=$2 f="$P1_OUT/$1.sig" s
    local -a flags=()
    ((group)) && flags=(-g)
    p1_start "$name" "${flags[@]}" --stop-timeout=5s -- "$H/oss-sigdump" --wait --fork-grandchild \
        --out "$f" --exit-on SIGTERM:0 --timeout 60
    oss_wait_for "grep -q 'ready role=main' '$f'" 20 || oss_fail "$name: sigdump not ready: $(cat "$f")"
    for s in "${fwd[@]}"; do
        p1_signal "$name" "$s"
        oss_wait_for "grep -q 'signal=SIG$s .*role=main' '$f'" 10 ||
            oss_fail "$name: SIG$s not forwarded to the child: $(cat "$f")"
    done
    p1_signal "$name" CHLD # handled by the shim, never forwarded
    p1_wait "$name" 20
    oss_assert_eq 0 "$P1_RC" "$name: exit status after forwarded SIGTERM"
    ! grep -q 'signal=SIGCHLD' "$f" || oss_fail "$name: SIGCHLD was forwarded: $(cat "$f")"
    for s in "${fwd[@]}"; do
        if ((group)); then
            grep -q "signal=SIG$s .*role=grandchild" "$f" ||
                oss_fail "$name: -g did not deliver SIG$s to the group: $(cat "$f")"
        else
            # control: without -g only the child is signalled
            ! grep -q "signal=SIG$s .*role=grandchild" "$f" ||
                oss_fail "$name: SIG$s reached the grandchild without -g"
        fi
    done
}
check_forwarding fwd 0
ok "HUP USR1 USR2 WINCH INT TERM forwarded to the child only; SIGCHLD not forwarded"
check_forwarding fwdg 1
ok "with -g the same signals reach the child's process group"

# ---- reaping a burst of orphans -------------------------------------------
burst() { # NAME: prints the zombie count seen while the init was alive
    local name=$1
    p1_run "$name" 60 -- /bin/sh -c "'$H/oss-orphans' 1000 --linger-ms 50 >/dev/null && sleep 1.5 && '$HERE/count_zombies.sh' \$PPID" >/dev/null
    oss_kv "$P1_OUT/$name.stdout" zombies
}
z=$(burst reap)
oss_assert_eq 0 "$z" "zombies left by the shim after 1000 orphans"
if [[ "$P1_MODE" == userns ]]; then
    oss_log "control skipped in userns mode (python3 as uid 65534 is fine, but it changes nothing)"
fi
zc=$(P1_INIT="$HERE/nonreaping_init.py" burst control)
((zc > 0)) || oss_fail "control: a non-reaping init left no zombie (saw '$zc'): the check cannot fail"
ok "1000 orphans reaped, no zombie (control init left $zc zombies)"

# ---- restart policies with backoff -----------------------------------------
runs="$P1_OUT/runs"
: >"$runs"
rc=$(p1_run onfail 30 -v --restart=on-failure --restart-max=3 --backoff-initial=100ms -- \
    /bin/sh -c "date +%s%N >> $runs; exit 3")
oss_assert_eq 3 "$rc" "on-failure: final status"
oss_assert_eq 4 "$(wc -l <"$runs")" "on-failure: 1 start + 3 restarts"
mapfile -t t <"$runs"
for i in 1 2 3; do
    gap=$(((t[i] - t[i - 1]) / 1000000))
    want=$((100 << (i - 1)))
    ((gap >= want - 5)) || oss_fail "backoff before restart $i was ${gap}ms, expected >= ${want}ms"
done
oss_assert_file_contains "$P1_OUT/onfail.stderr" "restarting in 100ms"
oss_assert_file_contains "$P1_OUT/onfail.stderr" "restarting in 400ms"
oss_assert_file_contains "$P1_OUT/onfail.stderr" "giving up"
ok "on-failure restarts 3 times with 100/200/400ms backoff, then gives up"

: >"$runs"
rc=$(p1_run onfail_ok 20 --restart=on-failure -- /bin/sh -c "echo x >> $runs; exit 0")
oss_assert_eq "0 1" "$rc $(wc -l <"$runs")" "on-failure with success: no restart"
: >"$runs"
rc=$(OPENSHELL_SHIM_RESTART=always p1_run always 20 --restart-max=2 --backoff-initial=10ms -- /bin/sh -c "echo x >> $runs; exit 0")
oss_assert_eq "0 3" "$rc $(wc -l <"$runs")" "always (from env): restarts even on success"
: >"$runs"
rc=$(p1_run never 20 -- /bin/sh -c "echo x >> $runs; exit 9")
oss_assert_eq "9 1" "$rc $(wc -l <"$runs")" "never: one run"
ok "never / on-failure / always (env) policies"

# ---- stay-alive -------------------------------------------------------------
p1_start stay -v --stay-alive -- "$H/oss-exit" 4
sleep 1
p1_alive stay || oss_fail "--stay-alive: shim exited when its child did"
oss_assert_file_contains "$P1_OUT/stay.stderr" "child gone for good .*exited with 4"
p1_signal stay USR1 # no child: ignored, the shim stays
sleep 0.2
p1_alive stay || oss_fail "--stay-alive: shim exited on SIGUSR1"
p1_signal stay TERM
p1_wait stay 10
    oss_assert_eq 4 "$P1_RC" "--stay-alive: SIGTERM ends it with the child's status"
if [[ "$P1_MODE" != userns ]]; then # env is not passed through setpriv in that mode
    OPENSHELL_SHIM_STAY_ALIVE=1 p1_start stayenv -- "$H/oss-exit" 5
    sleep 0.5
    p1_alive stayenv || oss_fail "OPENSHELL_SHIM_STAY_ALIVE=1 ignored"
    p1_signal stayenv INT
    p1_wait stayenv 10
    oss_assert_eq 5 "$P1_RC" "stay-alive via env ends on SIGINT"
fi
ok "stay-alive keeps the shim up and SIGTERM/SIGINT end it"

# ---- graceful stop and the stop timeout -----------------------------------
p1_start stopkill --stop-timeout=1s -- /bin/sh -c 'trap "" TERM; while :; do sleep 1; done'
sleep "${P1_SETTLE:-0.3}" # the child's trap must be set before the TERM
t0=$(oss_now_ms)
p1_signal stopkill TERM
p1_wait stopkill 15
rc=$P1_RC
dt=$(($(oss_now_ms) - t0))
oss_assert_eq 137 "$rc" "child ignoring SIGTERM is SIGKILLed"
((dt >= 900 && dt < 8000)) || oss_fail "stop took ${dt}ms, expected ~1000ms"

p1_start stopgrp --stop-timeout=1s -- /bin/sh -c \
    "(trap '' TERM; exec sleep 30) & echo \$! > $P1_OUT/gc.pid; exec sleep 30"
oss_wait_for "[[ -s $P1_OUT/gc.pid ]]" 10
sleep 0.2
t0=$(oss_now_ms)
p1_signal stopgrp TERM
p1_wait stopgrp 15
rc=$P1_RC
dt=$(($(oss_now_ms) - t0))
oss_assert_eq 143 "$rc" "child died of SIGTERM: 143 even though its group needed SIGKILL"
((dt >= 900)) || oss_fail "shim did not wait for the rest of the group (${dt}ms)"

p1_start stopfast --stop-timeout=10s -- "$H/oss-sigdump" --wait --exit-on SIGTERM:0 --out "$P1_OUT/sf"
oss_wait_for "grep -q 'ready role=main' '$P1_OUT/sf'" 10
t0=$(oss_now_ms)
p1_signal stopfast TERM
p1_wait stopfast 15
    oss_assert_eq 0 "$P1_RC" "cooperative child"
dt=$(($(oss_now_ms) - t0))
((dt < 3000)) || oss_fail "cooperative stop took ${dt}ms: the shim waited for nothing"
ok "stop timeout escalates to SIGKILL of the group; a cooperative child stops at once"

# ---- the child's signal state ---------------------------------------------
p1_run mask 20 -- "$H/oss-sigdump" --out "$P1_OUT/mask" >/dev/null
oss_assert_eq 0000000000000000 "$(oss_kv "$P1_OUT/mask" SigBlk)" "child's blocked mask"
if [[ "$P1_MODE" == runsc ]]; then
    # the container process starts with a clean slate, so must its child
    oss_assert_eq 0000000000000000 "$(oss_kv "$P1_OUT/mask" SigIgn)" "child's ignored set"
else
    # control: the shim itself blocks (almost) everything, so a shim that
    # forgot to restore the mask would hand that mask to the child
    p1_start maskctl -- /bin/sleep 2
    sleep 0.3
    st="/proc/$(p1_host_pid maskctl)/status"
    blk=$(awk '/^SigBlk:/ {print $2}' "$st")
    shim_ign=$(awk '/^SigIgn:/ {print $2}' "$st")
    oss_assert_ne 0000000000000000 "$blk" "the shim's own SigBlk"
    p1_signal maskctl TERM
    p1_wait maskctl 10
    # dispositions are passed on as the shim inherited them (bash starts
    # background jobs with SIGINT/SIGQUIT ignored, so that is what we see)
    oss_assert_eq "$shim_ign" "$(oss_kv "$P1_OUT/mask" SigIgn)" "child's ignored set = the shim's inherited one"
    # ...except an ignored SIGCHLD, which would break the supervisor's waitpid
    (trap '' USR1 CHLD && p1_run maskign 20 -- "$H/oss-sigdump" --out "$P1_OUT/maskign" >/dev/null)
    ign=$(oss_kv "$P1_OUT/maskign" SigIgn)
    (((16#$ign & (1 << 9)) != 0)) || oss_fail "inherited SIG_IGN of SIGUSR1 was not kept (SigIgn=$ign)"
    (((16#$ign & (1 << 16)) == 0)) || oss_fail "inherited SIG_IGN of SIGCHLD was passed on (SigIgn=$ign)"
fi
ok "child starts with the inherited signal state, not the shim's"

# ---- idle cost: no wake-ups while nothing happens --------------------------
if [[ "$P1_MODE" != runsc ]]; then
    p1_start idle --freeze-threshold=0 -- /bin/sleep 5
    sleep 0.5
    pid=$(p1_host_pid idle)
    a=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$pid/status")
    sleep 2
    b=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$pid/status")
    oss_assert_eq "$a" "$b" "context switches of an idle shim over 2s"
    p1_signal idle TERM
    p1_wait idle 10
    # control: with restore detection's 1 s timer on, the same count moves
    p1_start idle_ctl -- /bin/sleep 5
    sleep 0.5
    pid=$(p1_host_pid idle_ctl)
    a=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$pid/status")
    sleep 2.1
    b=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$pid/status")
    ((b > a)) || oss_fail "control: the 1 s restore-detection timer caused no wake-up ($a -> $b)"
    p1_signal idle_ctl TERM
    p1_wait idle_ctl 10
    ok "idle shim: 0 wake-ups in 2s with --freeze-threshold=0 (control with the timer: $((b - a)))"
fi

# ---- JSON logs --------------------------------------------------------------
p1_run jlog 20 --log-format=json -v -- "$H/oss-exit" 0 >/dev/null
"$OSS_PYTHON" - "$P1_OUT/jlog.stderr" <<'PY' || oss_fail "--log-format=json lines are not JSON"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert lines, "no log lines"
for l in lines:
    o = json.loads(l)
    assert {"ts_ms", "level", "component", "msg"} <= o.keys(), o
PY
ok "--log-format=json emits one JSON object per line"

echo "pid1 suite ($P1_MODE): $pass passed, 0 failed"
