#!/bin/bash
# The stand-in supervisor (a TEST DOUBLE of openshell-sandbox) on the host, in
# each upstream variant's mode (main, pr1549, pr1548): every step ok and the
# workload sees the proxy env inside the namespace; each variant's signal
# handling; the readiness proxy; under fault injection (emulating gVisor) each
# variant's own rule: main fatal, pr1549 fatal unless skipped, pr1548 fatal
# unless OPENSHELL_BEST_EFFORT_FAILURES (any value); the privilege drop
# mandatory everywhere; the policy-source and TLS requirements.
set -u
SB="$OSS_BUILD_DIR/tests/standin/openshell-sandbox-standin"
INJ="$OSS_BUILD_DIR/tests/standin/oss_inject"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
capeff=$(awk '/^CapEff/ {print $2}' /proc/self/status)
(( (0x$capeff >> 12) & 1 && (0x$capeff >> 21) & 1 )) || { echo "SKIP: needs CAP_NET_ADMIN and CAP_SYS_ADMIN"; exit 77; }
# In a network and mount namespace of its own (tests/lib/private_netns.sh):
# its before/after counts of sandbox-* namespaces must not see the stand-ins
# other tests start meanwhile.
. "$(dirname "$0")/../lib/private_netns.sh"
oss_in_private_netns "$0" "$@"
[ -x "$SB" ] && [ -x "$INJ" ] || { echo "FAIL: binaries not built"; exit 1; }

work=$(mktemp -d /tmp/oss-standin.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    # Whatever a status file says the standin made goes, even on failure.
    for f in "$work"/*.json; do
        [ -f "$f" ] || continue
        read -r ns host < <(/usr/bin/python3 -c 'import json,sys
d=json.load(open(sys.argv[1])); n=d.get("netns") or {}
print(n.get("name","-"), n.get("host_if","-"))' "$f" 2>/dev/null) || continue
        [ "$host" != "-" ] && ip link del "$host" 2>/dev/null
        [ "$ns" != "-" ] && [ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
PORT=$((20000 + $$ % 20000))
export OPENSHELL_STANDIN_PROXY_ADDR=":$PORT"
unset OPENSHELL_BEST_EFFORT_FAILURES OPENSHELL_STANDIN_RUN_AS OPENSHELL_SKIP_BOOTSTRAP \
    OPENSHELL_STANDIN_VARIANT OPENSHELL_SANDBOX OPENSHELL_SANDBOX_ID OPENSHELL_ENDPOINT
# upstream's local-file policy mode (the stand-in reads, does not evaluate)
export OPENSHELL_POLICY_RULES="$OSS_SOURCE_DIR/tests/standin/policy/sandbox.rego"
export OPENSHELL_POLICY_DATA="$OSS_SOURCE_DIR/tests/standin/policy/policy.yaml"
# the identity the drop targets (no "sandbox" user on a CI host)
RUNAS=(--run-as 65534:65534)
# workloads write here: a Landlock rw path of the default policy, and nobody's
chmod 0711 "$work"; mkdir -m 0777 "$work/pub"; cd "$work/pub" || exit 1

# jq-like: q FILE EXPR  (EXPR is Python over d)
q() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
step_result() { q "$1" "next((s['result']+':'+str(s['errno'])) for s in d['steps'] if s['step']=='$2')" 2>/dev/null; }
leftovers() {  # status file -> anything of its netns still there
    local ns host
    ns=$(q "$1" "(d['netns'] or {}).get('name','')") host=$(q "$1" "(d['netns'] or {}).get('host_if','')")
    [ -n "$host" ] && ip link show "$host" >/dev/null 2>&1 && echo "link $host"
    [ -n "$ns" ] && [ -e "/run/netns/$ns" ] && echo "netns $ns"
    return 0
}


# ---- 1. every variant: everything ok on the host; the workload is in the
#         namespace as 65534, sees the proxy env, reaches the proxy, and its
#         filter blocks userns.  The stand-in's own environment has no proxy
#         variable (upstream sets them on the child only).
for V in main pr1549 pr1548; do
    st="$work/ok-$V.json"; w="$work/pub/$V"; mkdir -m 0777 "$w"
    OPENSHELL_STANDIN_VARIANT=$V OPENSHELL_STANDIN_STATUS_FILE=$st timeout 60 "$SB" "${RUNAS[@]}" -- bash -c '
        env | grep -E "^(ALL_PROXY|HTTP_PROXY|HTTPS_PROXY|http_proxy|https_proxy|grpc_proxy|NO_PROXY|no_proxy|NODE_USE_ENV_PROXY)=" | sort > '"$w"'/env
        tr "\0" "\n" < /proc/$PPID/environ 2>/dev/null | grep -c PROXY > '"$w"'/supenv
        id -u > '"$w"'/uid; echo "$OPENSHELL_SANDBOX" > '"$w"'/sbx
        readlink /proc/self/ns/net > '"$w"'/ns
        a=${HTTP_PROXY#http://}; exec 3<>/dev/tcp/${a%:*}/${a#*:}; echo "CONNECT x:443 HTTP/1.1" >&3; head -c 15 <&3 > '"$w"'/proxy
        unshare -U true 2>/dev/null; echo $? > '"$w"'/userns
        exit 7' 2>"$work/ok-$V.err"
    rc=$?
    [ $rc = 7 ] && ok "$V: exit code of the workload passed through (7)" || fail "$V: rc=$rc, want 7: $(cat "$work/ok-$V.err")"
    for s in policy netns proxy supervisor_seccomp landlock setns privdrop workload_seccomp; do
        [ "$(step_result "$st" $s)" = "ok:None" ] || fail "$V: step $s: $(step_result "$st" $s)"
    done
    [ "$(q "$st" "d['variant']")" = "$V" ] || fail "$V: status variant $(q "$st" "d['variant']")"
    [ "$(cat "$w/uid")" = 65534 ] && ok "$V: privilege drop to 65534" || fail "$V: workload uid $(cat "$w/uid")"
    [ "$(cat "$w/sbx")" = 1 ] || fail "$V: OPENSHELL_SANDBOX is not 1 in the workload"
    want="http://10.200.0.1:$PORT"
    [ "$(grep -c "=$want\$" "$w/env")" = 6 ] && grep -q '^NO_PROXY=127.0.0.1,localhost,::1$' "$w/env" \
        && grep -q '^NODE_USE_ENV_PROXY=1$' "$w/env" \
        && ok "$V: workload got the proxy env ($want)" || fail "$V: workload env: $(cat "$w/env")"
    [ "$(cat "$w/supenv" 2>/dev/null)" = 0 ] && ok "$V: no proxy variable in the supervisor's own environment" \
        || fail "$V: supervisor env proxy count [$(cat "$w/supenv" 2>/dev/null)]"
    [ "$(cat "$w/ns")" != "$(readlink /proc/self/ns/net)" ] || fail "$V: workload ran in the host network namespace"
    [ "$(cat "$w/proxy")" = "HTTP/1.1 200 OK" ] || fail "$V: proxy answer from the namespace: [$(cat "$w/proxy" 2>/dev/null)]"
    # control for the filter check: the same call works without the filter.
    unshare -U true && [ "$(cat "$w/userns")" != 0 ] || fail "$V: userns: inside rc=$(cat "$w/userns")"
    [ -z "$(leftovers "$st")" ] || fail "$V: left: $(leftovers "$st")"
done

# ---- 2. SIGTERM: main forwards it to the workload's group (exit 143);
#         pr1549 has no handler: the supervisor dies, the workload lives on.
st="$work/term.json"
OPENSHELL_STANDIN_STATUS_FILE=$st "$SB" "${RUNAS[@]}" -- sh -c 'sleep 100; exit 3' 2>/dev/null &
sbpid=$!; pids+=($sbpid)
for _ in $(seq 100); do [ "$(q "$st" "d['phase']" 2>/dev/null)" = running ] && break; sleep 0.1; done
# control for every leftovers check: while running, it sees both objects.
l=$(leftovers "$st")
grep -q "^link veth-h-" <<<"$l" && grep -q "^netns sandbox-" <<<"$l" \
    && ok "control: leftovers check sees the running standin's veth and namespace" \
    || fail "control: leftovers check saw [$l] while running"
kill -TERM $sbpid
for _ in $(seq 100); do kill -0 $sbpid 2>/dev/null || break; sleep 0.1; done
wait $sbpid; rc=$?
[ $rc = 143 ] && ok "main: SIGTERM forwarded, exit 143" || fail "main SIGTERM: rc=$rc"
[ -z "$(leftovers "$st")" ] || fail "SIGTERM run left: $(leftovers "$st")"

st="$work/term1549.json"
OPENSHELL_STANDIN_VARIANT=pr1549 OPENSHELL_STANDIN_STATUS_FILE=$st "$SB" "${RUNAS[@]}" -- sleep 100 2>/dev/null &
sbpid=$!; pids+=($sbpid)
for _ in $(seq 100); do [ "$(q "$st" "d['phase']" 2>/dev/null)" = running ] && break; sleep 0.1; done
wl=$(q "$st" "d['workload_pid']"); pids+=("$wl")
kill -TERM $sbpid; wait $sbpid; rc=$?
[ $rc = 143 ] && kill -0 "$wl" 2>/dev/null && ok "pr1549: SIGTERM kills the supervisor (143), the workload lives on" \
    || fail "pr1549 SIGTERM: rc=$rc, workload alive: $(kill -0 "$wl" 2>/dev/null && echo yes || echo no)"
kill -KILL "$wl" 2>/dev/null
for _ in $(seq 50); do [ -z "$(leftovers "$st")" ] && break; sleep 0.1; done
[ -z "$(leftovers "$st")" ] || fail "pr1549 SIGTERM left: $(leftovers "$st")"

# ---- 2b. SIGKILL of the standin: its janitor still removes the namespace.
st="$work/kill.json"
OPENSHELL_STANDIN_STATUS_FILE=$st "$SB" "${RUNAS[@]}" -- sleep 100 2>/dev/null &
sbpid=$!; pids+=($sbpid)
for _ in $(seq 100); do [ "$(q "$st" "d['phase']" 2>/dev/null)" = running ] && break; sleep 0.1; done
wl=$(q "$st" "d['workload_pid']")
kill -KILL $sbpid; wait $sbpid 2>/dev/null
kill -KILL "$wl" 2>/dev/null
for _ in $(seq 50); do [ -z "$(leftovers "$st")" ] && break; sleep 0.1; done
[ -z "$(leftovers "$st")" ] && ok "SIGKILLed standin: janitor removed namespace and veth" \
    || fail "SIGKILLed standin left: $(leftovers "$st")"

# ---- 3. main --mode network: the proxy only, until SIGTERM, then exit 0;
#         the other variants have no --mode (usage error, exit 2).
st="$work/serve.json"
OPENSHELL_STANDIN_STATUS_FILE=$st "$SB" --mode network 2>/dev/null &
sbpid=$!; pids+=($sbpid)
for _ in $(seq 100); do [ "$(q "$st" "d['phase']" 2>/dev/null)" = serving ] && break; sleep 0.1; done
addr=$(q "$st" "d['proxy']")
ans=$(timeout 5 bash -c "exec 3<>/dev/tcp/${addr%:*}/${addr#*:}; head -c 15 <&3")
[ "$ans" = "HTTP/1.1 200 OK" ] && ok "network-only: proxy at $addr answers" || fail "proxy at $addr: [$ans]"
kill -TERM $sbpid; wait $sbpid; rc=$?
[ $rc = 0 ] && ok "network-only standin exits 0 on SIGTERM" || fail "serve SIGTERM rc=$rc"
[ -z "$(leftovers "$st")" ] || fail "serve run left: $(leftovers "$st")"
OPENSHELL_STANDIN_VARIANT=pr1549 "$SB" --mode network 2>/dev/null; rc=$?
[ $rc = 2 ] && ok "pr1549 has no --mode: exit 2" || fail "pr1549 --mode rc=$rc"
"$SB" --skip-bootstrap netns -- true 2>/dev/null; rc=$?
[ $rc = 2 ] && ok "main has no --skip-bootstrap: exit 2" || fail "main --skip-bootstrap rc=$rc"
OPENSHELL_STANDIN_VARIANT=pr1549 OPENSHELL_SKIP_BOOTSTRAP=netns,landlock "$SB" "${RUNAS[@]}" -- touch "$work/pub/badtok" 2>/dev/null; rc=$?
[ $rc = 1 ] && [ ! -e "$work/pub/badtok" ] && ok "pr1549: unknown skip token (landlock) exits 1" || fail "bad token rc=$rc"

# ---- 4. netns refused (unshare -> EPERM, as under Substrate's caps).
# run_inj NAME VARIANT INJECT [ENV=V ...] -- ARGV: status in $work/NAME.json
run_inj() {
    local name=$1 v=$2 inj=$3; shift 3
    local -a envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
    env OPENSHELL_STANDIN_VARIANT="$v" OPENSHELL_STANDIN_STATUS_FILE="$work/$name.json" "${envs[@]}" \
        "$INJ" "$inj" -- "$SB" "${RUNAS[@]}" -- "$@" 2>"$work/$name.err"
}
before_ns=$(ls /run/netns 2>/dev/null | grep '^sandbox-' | sort)
before_veth=$(ip -o link show | grep -c ': veth-h-')
for V in main pr1549 pr1548; do
    run_inj n-$V $V unshare:EPERM -- touch "$work/pub/ran-$V"; rc=$?
    [ $rc = 1 ] && [ ! -e "$work/pub/ran-$V" ] && [ "$(step_result "$work/n-$V.json" netns)" = "fatal:EPERM" ] \
        && ok "$V, no switch: netns EPERM is fatal, exit 1, no workload" \
        || fail "$V netns: rc=$rc $(step_result "$work/n-$V.json" netns)"
done
grep -q '"step":"netns","result":"fatal","errno":"EPERM"' "$work/n-main.err" || fail "no fatal netns line"
# the switch of the other variant does nothing
run_inj n-cross pr1549 unshare:EPERM OPENSHELL_BEST_EFFORT_FAILURES=1 -- true; rc=$?
[ $rc = 1 ] && ok "pr1549 ignores OPENSHELL_BEST_EFFORT_FAILURES" || fail "pr1549 with BEST_EFFORT rc=$rc"
run_inj n-cross2 pr1548 unshare:EPERM OPENSHELL_SKIP_BOOTSTRAP=netns -- true; rc=$?
[ $rc = 1 ] && ok "pr1548 ignores OPENSHELL_SKIP_BOOTSTRAP" || fail "pr1548 with SKIP rc=$rc"
run_inj n-skip pr1549 unshare:EPERM OPENSHELL_SKIP_BOOTSTRAP=netns -- sh -c 'env > '"$work"'/pub/skip.env; exit 5'; rc=$?
[ $rc = 5 ] && [ "$(step_result "$work/n-skip.json" netns)" = "skipped:None" ] \
    && ok "pr1549, netns skipped: not attempted, workload ran" || fail "pr1549 skip: rc=$rc $(step_result "$work/n-skip.json" netns)"
grep -qiE '^(ALL_PROXY|HTTP_PROXY|HTTPS_PROXY|GRPC_PROXY|NO_PROXY|NODE_USE_ENV_PROXY)=' "$work/pub/skip.env" \
    && fail "pr1549 skip: workload got proxy env without a netns" || ok "pr1549 skip: workload has no proxy env"
[ "$(q "$work/n-skip.json" "d['proxy']")" = "127.0.0.1:$PORT" ] || fail "pr1549 skip: proxy $(q "$work/n-skip.json" "d['proxy']")"
run_inj n-be pr1548 unshare:EPERM OPENSHELL_BEST_EFFORT_FAILURES=0 -- true; rc=$?
[ $rc = 0 ] && [ "$(step_result "$work/n-be.json" netns)" = "degraded:EPERM" ] \
    && ok "pr1548, OPENSHELL_BEST_EFFORT_FAILURES=0 (any value): netns degraded, workload ran" \
    || fail "pr1548 be: rc=$rc $(step_result "$work/n-be.json" netns)"
[ "$(ls /run/netns 2>/dev/null | grep '^sandbox-' | sort)" = "$before_ns" ] || fail "netns runs left a namespace"
[ "$(ip -o link show | grep -c ': veth-h-')" = "$before_veth" ] || fail "netns runs left a veth"

# ---- 5. seccomp refused (seccomp() -> EINVAL): both programs fail.
run_inj s-main main seccomp:EINVAL -- touch "$work/pub/ran-s"; rc=$?
r=$(step_result "$work/s-main.json" supervisor_seccomp)
[ $rc = 1 ] && [ ! -e "$work/pub/ran-s" ] && [ "${r%%:*}" = fatal ] && ok "main: prelude refused is fatal ($r)" || fail "main seccomp: rc=$rc $r"
[ -z "$(leftovers "$work/s-main.json")" ] || fail "fatal seccomp run left: $(leftovers "$work/s-main.json")"
run_inj s-sup pr1549 seccomp:EINVAL OPENSHELL_SKIP_BOOTSTRAP=supervisor-seccomp -- touch "$work/pub/ran-s2"; rc=$?
r=$(step_result "$work/s-sup.json" workload_seccomp)
[ $rc = 1 ] && [ ! -e "$work/pub/ran-s2" ] && [ "${r%%:*}" = fatal ] \
    && ok "pr1549, only the prelude skipped: the workload filter refused is fatal ($r)" || fail "pr1549 sup-only: rc=$rc $r"
run_inj s-both pr1549 seccomp:EINVAL "OPENSHELL_SKIP_BOOTSTRAP=Supervisor_Seccomp, workload-seccomp" -- true; rc=$?
[ $rc = 0 ] && [ "$(step_result "$work/s-both.json" supervisor_seccomp)" = "skipped:None" ] \
    && [ "$(step_result "$work/s-both.json" workload_seccomp)" = "skipped:None" ] \
    && ok "pr1549, both seccomp skipped (aliases, case): workload ran" || fail "pr1549 both: rc=$rc"
run_inj s-be pr1548 seccomp:EINVAL OPENSHELL_BEST_EFFORT_FAILURES= -- true; rc=$?
r1=$(step_result "$work/s-be.json" supervisor_seccomp) r2=$(step_result "$work/s-be.json" workload_seccomp)
[ $rc = 0 ] && [ "${r1%%:*}" = degraded ] && [ "${r2%%:*}" = degraded ] \
    && ok "pr1548, BEST_EFFORT empty: both seccomp steps degraded, workload ran" || fail "pr1548 seccomp: rc=$rc $r1 $r2"

# ---- 6. Landlock missing (ENOSYS, as in gVisor): best effort everywhere.
for V in main pr1549; do
    run_inj l-$V $V landlock_create_ruleset:ENOSYS -- true; rc=$?
    [ $rc = 0 ] && [ "$(step_result "$work/l-$V.json" landlock)" = "degraded:ENOSYS" ] \
        && grep -q '"uid":"landlock-unavailable"' "$work/l-$V.err" && ok "$V: landlock ENOSYS: finding, continues" \
        || fail "$V landlock: rc=$rc $(step_result "$work/l-$V.json" landlock)"
done

# ---- 7. the privilege drop: mandatory in every variant, whatever is skipped.
for V in main pr1549 pr1548; do
    run_inj p-$V $V setresuid:EPERM,setuid:EPERM,setresgid:EPERM,setgid:EPERM,setgroups:EPERM \
        OPENSHELL_SKIP_BOOTSTRAP=all OPENSHELL_BEST_EFFORT_FAILURES=1 -- touch "$work/pub/ran-p-$V"; rc=$?
    r=$(step_result "$work/p-$V.json" privdrop)
    [ $rc = 1 ] && [ ! -e "$work/pub/ran-p-$V" ] && [ "$r" = "fatal:EPERM" ] \
        && ok "$V: privilege drop refused is fatal whatever the switches" || fail "$V privdrop: rc=$rc $r"
    [ -z "$(leftovers "$work/p-$V.json")" ] || fail "$V privdrop failure left: $(leftovers "$work/p-$V.json")"
done
# main clears the bounding set while root (CAP_SETPCAP); the pull requests do not.
for V in main pr1549; do
    OPENSHELL_STANDIN_VARIANT=$V OPENSHELL_STANDIN_STATUS_FILE="$work/b-$V.json" \
        capsh --drop=cap_setpcap -- -c "exec $SB ${RUNAS[*]} -- true" 2>/dev/null
    echo $? > "$work/b-$V.rc"
done
[ "$(cat "$work/b-main.rc")" = 1 ] && [ "$(step_result "$work/b-main.json" privdrop)" = "fatal:EPERM" ] \
    && grep -q 'capbset clear' "$work/b-main.json" && ok "main without CAP_SETPCAP: the bounding-set clear fails" \
    || fail "main capbset: rc=$(cat "$work/b-main.rc") $(step_result "$work/b-main.json" privdrop)"
[ "$(cat "$work/b-pr1549.rc")" = 0 ] && ok "control: pr1549 without CAP_SETPCAP drops fine" || fail "pr1549 capbset rc=$(cat "$work/b-pr1549.rc")"
# MIN_SANDBOX_UID on main; pull requests 1549/1548 take uid 0 as "already".
OPENSHELL_STANDIN_STATUS_FILE="$work/z-main.json" "$SB" --run-as 0:0 -- touch "$work/pub/ran-z" 2>/dev/null; rc=$?
[ $rc = 1 ] && [ ! -e "$work/pub/ran-z" ] && [ "$(step_result "$work/z-main.json" identity)" = "fatal:None" ] \
    && ok "main refuses uid 0 as the sandbox identity" || fail "main uid 0: rc=$rc"
OPENSHELL_STANDIN_VARIANT=pr1549 "$SB" --run-as 0:0 -- sh -c 'id -u > '"$work"'/pub/z1549' 2>/dev/null; rc=$?
[ $rc = 0 ] && [ "$(cat "$work/pub/z1549")" = 0 ] && ok "pr1549: already the target (0:0), the drop is a no-op" || fail "pr1549 uid 0: rc=$rc"
# no identity: the sandbox user must exist
if ! getent passwd sandbox >/dev/null; then
    for V in main pr1549 pr1548; do
        OPENSHELL_STANDIN_VARIANT=$V "$SB" -- touch "$work/pub/ran-ns-$V" 2>/dev/null; rc=$?
        [ $rc = 1 ] && [ ! -e "$work/pub/ran-ns-$V" ] && ok "$V: no 'sandbox' user: exit 1" || fail "$V without sandbox user: rc=$rc"
    done
fi

# ---- 8. policy sources and the gateway's requirements.
(unset OPENSHELL_POLICY_RULES OPENSHELL_POLICY_DATA
 "$SB" "${RUNAS[@]}" -- touch "$work/pub/ran-np" 2>/dev/null; echo $? > "$work/np.rc"
 OPENSHELL_STANDIN_STATUS_FILE="$work/tls.json" "$SB" "${RUNAS[@]}" --sandbox-id s1 \
     --openshell-endpoint "https://127.0.0.1:$PORT" -- true 2>/dev/null; echo $? > "$work/tls.rc"
 OPENSHELL_STANDIN_STATUS_FILE="$work/gw0.json" "$SB" "${RUNAS[@]}" --sandbox-id s1 \
     --openshell-endpoint "http://127.0.0.1:$((PORT + 1))" -- true 2>/dev/null; echo $? > "$work/gw0.rc"
 python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); time.sleep(20)' $((PORT + 1)) &
 gw=$!
 for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$((PORT + 1))) 2>/dev/null && break; sleep 0.1; done
 OPENSHELL_STANDIN_GATEWAY_POLICY=absent "$SB" "${RUNAS[@]}" --sandbox-id s1 \
     --openshell-endpoint "http://127.0.0.1:$((PORT + 1))" -- touch "$work/pub/ran-nosb" 2>/dev/null; echo $? > "$work/nosb.rc"
 OPENSHELL_STANDIN_GATEWAY_POLICY=absent OPENSHELL_SANDBOX=sb1 "$SB" "${RUNAS[@]}" --sandbox-id s1 \
     --openshell-endpoint "http://127.0.0.1:$((PORT + 1))" -- true 2>/dev/null; echo $? > "$work/sb.rc"
 kill $gw 2>/dev/null; wait $gw 2>/dev/null)
[ "$(cat "$work/np.rc")" = 1 ] && [ ! -e "$work/pub/ran-np" ] && ok "no policy source: exit 1" || fail "no policy: rc=$(cat "$work/np.rc")"
[ "$(cat "$work/tls.rc")" = 1 ] && grep -q 'OPENSHELL_TLS_CA is required' "$work/tls.json" \
    && ok "https:// endpoint without OPENSHELL_TLS_*: exit 1" || fail "tls: rc=$(cat "$work/tls.rc")"
[ "$(cat "$work/gw0.rc")" = 1 ] && ok "gateway unreachable: exit 1" || fail "gw unreachable rc=$(cat "$work/gw0.rc")"
[ "$(cat "$work/nosb.rc")" = 1 ] && [ ! -e "$work/pub/ran-nosb" ] \
    && ok "gateway without a policy and no OPENSHELL_SANDBOX: exit 1" || fail "nosb rc=$(cat "$work/nosb.rc")"
[ "$(cat "$work/sb.rc")" = 0 ] && ok "control: with OPENSHELL_SANDBOX the discovered policy syncs" || fail "sb rc=$(cat "$work/sb.rc")"

# ---- control: the injector really injects (a plain unshare fails under it).
"$INJ" unshare:EPERM -- unshare -n true 2>/dev/null && fail "control: injector did not inject" \
    || ok "control: injector makes unshare fail"

[ $fails = 0 ] && { echo PASS; exit 0; }
echo "$fails failure(s)"; exit 1
