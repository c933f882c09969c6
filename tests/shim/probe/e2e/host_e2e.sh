#!/usr/bin/env bash
# The real openshell-shim on the host kernel, as root, with the stand-in
# supervisor as its child, around oss-faultinject's gvisor-substrate preset
# (docs/platform/gvisor.md, "Refusals during the
# supervisor's bootstrap", last column, emulated with a seccomp errno filter):
#   - doctor / doctor --json: native host all supported, exit 0; injected:
#     exit 124 strict, 0 with --degrade=all;
#   - strict: exit 124, one error line naming subsystem, step, errno, flag;
#     a partial --degrade names only what is still missing; --stay-alive
#     stays up with readyz 503;
#   - --degrade=all, the stand-in in each upstream variant's mode: what the
#     report predicts per variant is what the stand-in does (none starts its
#     workload as uid 0 without CAP_SETUID/SETGID); as the sandbox identity
#     pull request 1549 starts it: env contract, proxy answers;
#   - the fallback filter (workload, prelude, auto with TSYNC refused) denies
#     with EPERM while ordinary work goes on.
# Controls: without the injector the strict shim starts the stand-in with
# every protection; --fallback-seccomp=off leaves the kernel's answers.
# runsc_e2e.sh runs the same cases under real gVisor and compares.
# In a network and mount namespace of its own (tests/lib/private_netns.sh):
# its readyz port and the stand-in's namespaces cannot meet other tests'.
source "$OSS_SOURCE_DIR/tests/lib/private_netns.sh"
oss_in_private_netns "$0" "$@"
source "$OSS_SOURCE_DIR/tests/shim/probe/e2e/lib.sh"
oss_require_root

# hs NAME [INJECT_SPEC|-] SHIM_ARGS...: the shim with $OSS_TMP/NAME as its
# out dir (report.json, stdout, stderr, standin.json); sets HS_RC, HS_DIR.
hs() {
    local name=$1 inj=$2
    shift 2
    HS_DIR="$OSS_TMP/$name"
    mkdir -p "$HS_DIR"
    local -a pre=()
    [[ $inj == - ]] || pre=("$FI" "$inj" --)
    HS_RC=0
    OPENSHELL_STANDIN_STATUS_FILE="$HS_DIR/standin.json" timeout -k 5 60 "${pre[@]}" "$SHIM" \
        --report="$HS_DIR/report.json" --state-dir="$HS_DIR/state" "$@" \
        >"$HS_DIR/stdout" 2>"$HS_DIR/stderr" </dev/null || HS_RC=$?
}

echo "=== doctor on the host"
hs doctor - doctor
sed 's/^/    /' "$HS_DIR/stdout"
e2e_check "host doctor exit (root: all supported)" 0 "$HS_RC"
for s in "${SUBS[@]}"; do
    e2e_check_re "host doctor $s" "^$s +supported +ok " "$(grep "^$s " "$HS_DIR/stdout")"
done
hs doctor-json - doctor --json
e2e_check "host doctor --json exit" 0 "$HS_RC"
e2e_check "host doctor --json outcome" ok "$(jget "$HS_DIR/stdout" bootstrap.outcome)"
e2e_check "host doctor --json decisions" "netns=ok seccomp=ok landlock=ok privdrop=ok" "$(decisions "$HS_DIR/stdout")"
hs doctor-inj gvisor-substrate doctor
sed 's/^/    /' "$HS_DIR/stdout"
e2e_check "injected doctor exit (strict)" 124 "$HS_RC"
e2e_check_re "injected doctor netns" 'netns +unsupported +fatal .*ns_create: EPERM' "$(grep '^netns ' "$HS_DIR/stdout")"
e2e_check_re "injected doctor landlock" 'landlock +unsupported +fatal .*abi_version: ENOSYS' "$(grep '^landlock ' "$HS_DIR/stdout")"
e2e_check_re "injected doctor privdrop" 'privdrop +unsupported +fatal .*setgroups: EPERM' "$(grep '^privdrop ' "$HS_DIR/stdout")"
hs doctor-inj-all gvisor-substrate doctor --degrade=all
e2e_check "injected doctor --degrade=all exit" 0 "$HS_RC"
hs doctor-inj-json gvisor-substrate doctor --json
e2e_check "injected doctor --json exit" 124 "$HS_RC"
e2e_check "injected doctor --json decisions" "netns=fatal seccomp=ok landlock=fatal privdrop=fatal" "$(decisions "$HS_DIR/stdout")"
hs doctor-inj-json-all gvisor-substrate doctor --json --degrade=all
e2e_check "injected doctor --json --degrade=all exit" 0 "$HS_RC"
e2e_check "injected doctor --json --degrade=all outcome" degraded "$(jget "$HS_DIR/stdout" bootstrap.outcome)"

echo "=== CONTROL: strict shim without injection starts the stand-in with every protection"
hs native - --run-as=65534:65534 -- "$STANDIN" "${SB_RUNAS[@]}" -- /bin/sh -c 'exit 7'
e2e_check "native strict: the workload's exit status passes through" 7 "$HS_RC"
e2e_check "native strict outcome" ok "$(jget "$HS_DIR/report.json" bootstrap.outcome)"
e2e_check "native strict: no findings" "" "$(findings "$HS_DIR/stderr")"
e2e_check "native strict: stand-in best_effort" false "$(jget "$HS_DIR/standin.json" best_effort)"
e2e_check "native strict: stand-in netns step" ok "$(jget "$HS_DIR/standin.json" steps.1.result)"
e2e_check "native strict: every variant starts here" "main:starts pr1549:starts pr1548:starts" "$(variant_stops "$HS_DIR/report.json")"
e2e_check "native strict: no switch set" "absent absent" \
    "$(env_entry "$HS_DIR/report.json" OPENSHELL_SKIP_BOOTSTRAP) $(env_entry "$HS_DIR/report.json" OPENSHELL_BEST_EFFORT_FAILURES)"

echo "=== strict under the injector"
hs strict gvisor-substrate -- "$STANDIN" -- /bin/true
e2e_check "injected strict exit" 124 "$HS_RC"
lines=$(log_lines "$HS_DIR/stderr")
sed 's/^/    /' <<<"$lines"
e2e_check "injected strict: exactly one shim log line" 1 "$(grep -c . <<<"$lines" || true)"
e2e_check_re "injected strict: the line" 'error: not starting .*: netns unavailable \(step ns_create: EPERM, Operation not permitted\); landlock unavailable \(step abi_version: ENOSYS, Function not implemented\); privdrop unavailable \(step setgroups: EPERM, Operation not permitted\); the supervisor was not started: allow with --degrade=netns,landlock,privdrop$' "$lines"
e2e_check "injected strict: the stand-in never ran" absent "$([[ -e $HS_DIR/standin.json ]] && echo present || echo absent)"

hs partial gvisor-substrate --degrade=netns,landlock -- "$STANDIN" -- /bin/true
e2e_check "injected --degrade=netns,landlock exit" 124 "$HS_RC"
lines=$(log_lines "$HS_DIR/stderr")
e2e_check_re "partial: names only privdrop, suggests the full list" ': privdrop unavailable \(step setgroups: EPERM, Operation not permitted\); the supervisor was not started: allow with --degrade=netns,landlock,privdrop$' "$lines"
# the supervisor does not run, so no protection is lost: no finding (the
# refusal line and the report say what is missing)
e2e_check "partial: refused, so no findings" "" "$(findings "$HS_DIR/stderr")"
hs partial_ok gvisor-substrate --degrade=netns,landlock,privdrop -- "$STANDIN" -- /bin/true
e2e_check "partial_ok: findings for the degraded ones only" \
    "landlock-unavailable netns-unavailable privdrop-unavailable" "$(findings "$HS_DIR/stderr" | awk '{print $1}' | sort | xargs)"

echo "=== strict + --stay-alive under the injector"
port=$((20000 + $$ % 20000))
d="$OSS_TMP/stay"
mkdir -p "$d"
OPENSHELL_STANDIN_STATUS_FILE="$d/standin.json" "$FI" gvisor-substrate -- "$SHIM" --stay-alive \
    --readyz-port="$port" --ready-tcp=none --report="$d/report.json" --state-dir="$d/state" \
    -- "$STANDIN" -- /bin/true >"$d/stdout" 2>"$d/stderr" </dev/null &
spid=$!
oss_on_exit "kill -KILL $spid"
oss_wait_for "[[ -s '$d/report.json' ]]" 10 || e2e_bad "stay-alive: no report"
sleep 1
if kill -0 "$spid" 2>/dev/null; then e2e_ok "stay-alive: still running 1 s after refusing"; else e2e_bad "stay-alive: exited"; fi
code=$(bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && printf 'GET /readyz HTTP/1.0\r\n\r\n' >&3 && head -n 1 <&3" 2>/dev/null | tr -d '\r' || true)
e2e_check_re "stay-alive: readyz 503" '^HTTP/1\.[01] 503' "$code"
e2e_check "stay-alive report outcome" refused "$(jget "$d/report.json" bootstrap.outcome)"
kill -TERM "$spid"
src=0
oss_wait_for "! kill -0 $spid" 15 || e2e_bad "stay-alive: SIGTERM did not end it"
wait "$spid" || src=$?
echo "stay-alive: exit after SIGTERM: $src"

echo "=== --degrade=all under the injector, the stand-in in each variant's mode"
for V in "${VARIANTS[@]}"; do
    OPENSHELL_STANDIN_VARIANT=$V hs "degraded-$V" gvisor-substrate --degrade=all -- "$STANDIN" "${SB_RUNAS[@]}" \
        -- "$OSS_PYTHON" -c "$WL_PY" "$OSS_TMP/degraded-$V"
    e2e_check "injected degrade=all $V: exit (the supervisor's)" 1 "$HS_RC"
    check_variant "$HS_DIR" injected "$V"
done
check_degraded_report "$HS_DIR" injected
# CONTROL: the stand-in in pull request 1549's mode dies at netns when the
# shim does not set the skip.
OPENSHELL_STANDIN_VARIANT=pr1549 hs contract-be gvisor-substrate --degrade=all --supervisor-contract=best-effort \
    -- "$STANDIN" "${SB_RUNAS[@]}" -- /bin/true
e2e_check "control: no skip set, pr1549 stops at netns" netns "$(standin_stop "$HS_DIR/standin.json")"
check_variant "$HS_DIR" "control best-effort" pr1549

echo "=== --degrade=all as the sandbox identity (runAsUser shape), pull request 1549"
chmod 0711 "$OSS_TMP"
d="$OSS_TMP/runas"
mkdir -m 0777 "$d"
rrc=0
OPENSHELL_STANDIN_VARIANT=pr1549 OPENSHELL_STANDIN_STATUS_FILE="$d/standin.json" timeout -k 5 60 \
    setpriv --reuid=65534 --regid=65534 --clear-groups "$FI" gvisor-substrate -- "$SHIM" --degrade=all \
    --run-as=65534:65534 --report="$d/report.json" --state-dir="$d/state" -- "$STANDIN" "${SB_RUNAS[@]}" \
    -- "$OSS_PYTHON" -c "$WL_PY" "$d" >"$d/stdout" 2>"$d/stderr" </dev/null || rrc=$?
e2e_check "runAsUser shape: exit (the workload's)" 0 "$rrc"
check_runasuser_run "$d" host-runas

echo "=== the fallback filter (host kernel)"
PRELUDE_CALLS=(bpf perf_event_open umount2 mount userfaultfd)
WORKLOAD_CALLS=(ptrace process_vm_readv unshare_user execveat_empty)
fb() {
    local name=$1 inj=$2 mode=$3
    # LeakSanitizer stops threads with ptrace, which the workload filter
    # denies: the sanitizer build's helper would die at exit.
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 hs "fb-$name" "$inj" --degrade=all --fallback-seccomp="$mode" -- "$SYSCALLS"
    e2e_check "fallback $name: exit" 0 "$HS_RC"
    echo "fallback $name: active=$(jget "$HS_DIR/report.json" bootstrap.fallback_seccomp.active)" \
        "list=$(jget "$HS_DIR/report.json" bootstrap.fallback_seccomp.list); $(grep -E '^(deny|work)\.' "$HS_DIR/stdout" | xargs)"
    for w in file fork_exec socket getpid; do e2e_check "fallback $name: work.$w" OK "$(kv "$HS_DIR/stdout" "work.$w")"; done
}
eperm() { for c in "${@:2}"; do e2e_check "fallback $1: deny.$c" EPERM "$(kv "$HS_DIR/stdout" "deny.$c")"; done; }
not_eperm() {
    local v
    for c in "${@:2}"; do
        v=$(kv "$HS_DIR/stdout" "deny.$c")
        if [[ -n $v && $v != EPERM ]]; then e2e_ok "fallback $1: deny.$c = $v (not EPERM)"; else e2e_bad "fallback $1: deny.$c = '$v'"; fi
    done
}
fb workload gvisor-substrate workload
eperm workload "${PRELUDE_CALLS[@]}" "${WORKLOAD_CALLS[@]}"
fb prelude gvisor-substrate prelude
eperm prelude "${PRELUDE_CALLS[@]}"
not_eperm prelude "${WORKLOAD_CALLS[@]}"
fb off - off
not_eperm off "${PRELUDE_CALLS[@]}" "${WORKLOAD_CALLS[@]}"
fb auto-plain gvisor-substrate auto
e2e_check "fallback auto (TSYNC loads): inactive" false "$(jget "$HS_DIR/report.json" bootstrap.fallback_seccomp.active)"
not_eperm auto-plain ptrace perf_event_open
fb auto-tsync seccomp-tsync:EINVAL auto
e2e_check "fallback auto (TSYNC refused): prelude" "true prelude" \
    "$(jget "$HS_DIR/report.json" bootstrap.fallback_seccomp.active) $(jget "$HS_DIR/report.json" bootstrap.fallback_seccomp.list)"
eperm auto-tsync "${PRELUDE_CALLS[@]}"
not_eperm auto-tsync "${WORKLOAD_CALLS[@]}"

e2e_finish
