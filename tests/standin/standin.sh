#!/bin/bash
# The stand-in supervisor (a TEST DOUBLE of openshell-sandbox) on the host:
# every step ok and the workload sees the proxy env inside the namespace;
# signals forwarded; readiness proxy answers; and, under seccomp fault
# injection (emulating gVisor), hard errors without
# OPENSHELL_BEST_EFFORT_FAILURES and warnings with it (no proxy env then).
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
unset OPENSHELL_BEST_EFFORT_FAILURES OPENSHELL_STANDIN_RUN_AS

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

# ---- 1. everything ok on the host; the workload is in the namespace, sees
#         the proxy env, reaches the proxy, and its filter blocks userns.
st="$work/ok.json"
OPENSHELL_STANDIN_STATUS_FILE=$st timeout 60 "$SB" --sandbox-id t1 -- bash -c '
    env | grep -E "^(ALL_PROXY|HTTP_PROXY|HTTPS_PROXY|http_proxy|https_proxy|grpc_proxy|NO_PROXY|no_proxy|NODE_USE_ENV_PROXY)=" | sort > '"$work"'/env
    readlink /proc/self/ns/net > '"$work"'/ns
    a=${HTTP_PROXY#http://}; exec 3<>/dev/tcp/${a%:*}/${a#*:}; echo "CONNECT x:443 HTTP/1.1" >&3; head -c 15 <&3 > '"$work"'/proxy
    unshare -U true 2>/dev/null; echo $? > '"$work"'/userns
    exit 7' 2>"$work/ok.err"
rc=$?
[ $rc = 7 ] && ok "exit code of the workload passed through (7)" || fail "rc=$rc, want 7: $(cat "$work/ok.err")"
for s in netns proxy supervisor_seccomp landlock setns workload_seccomp; do
    [ "$(step_result "$st" $s)" = "ok:None" ] || fail "step $s: $(step_result "$st" $s)"
done
grep -q '"standin":"step","step":"netns","result":"ok"' "$work/ok.err" || fail "no netns step line on stderr"
[ "$(q "$st" "d['phase']"):$(q "$st" "d['exit_code']")" = "exited:7" ] || fail "status phase/exit_code"
want="http://10.200.0.1:$PORT"
[ "$(grep -c "=$want\$" "$work/env")" = 6 ] && grep -q '^NO_PROXY=127.0.0.1,localhost,::1$' "$work/env" \
    && grep -q '^no_proxy=127.0.0.1,localhost,::1$' "$work/env" && grep -q '^NODE_USE_ENV_PROXY=1$' "$work/env" \
    && ok "workload got the proxy env ($want)" || fail "workload env: $(cat "$work/env")"
[ "$(cat "$work/ns")" != "$(readlink /proc/self/ns/net)" ] && ok "workload ran in another network namespace" \
    || fail "workload ran in the host network namespace"
[ "$(cat "$work/proxy")" = "HTTP/1.1 200 OK" ] && ok "workload reached the proxy through the veth" \
    || fail "proxy answer from the namespace: [$(cat "$work/proxy" 2>/dev/null)]"
# control for the filter check: the same call works without the filter.
unshare -U true && [ "$(cat "$work/userns")" != 0 ] && ok "workload filter blocks unshare(CLONE_NEWUSER) (works outside)" \
    || fail "userns: outside ok? inside rc=$(cat "$work/userns")"
[ -z "$(leftovers "$st")" ] && ok "namespace and veth removed at exit" || fail "left: $(leftovers "$st")"

# ---- 2. SIGTERM is forwarded to the workload's group: exit 128+15.
st="$work/term.json"
OPENSHELL_STANDIN_STATUS_FILE=$st "$SB" -- sh -c 'sleep 100; exit 3' 2>/dev/null &
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
[ $rc = 143 ] && ok "SIGTERM forwarded, exit 143" || fail "SIGTERM: rc=$rc"
[ -z "$(leftovers "$st")" ] || fail "SIGTERM run left: $(leftovers "$st")"

# ---- 2b. SIGKILL of the standin: its janitor still removes the namespace.
st="$work/kill.json"
OPENSHELL_STANDIN_STATUS_FILE=$st "$SB" -- sleep 100 2>/dev/null &
sbpid=$!; pids+=($sbpid)
for _ in $(seq 100); do [ "$(q "$st" "d['phase']" 2>/dev/null)" = running ] && break; sleep 0.1; done
wl=$(q "$st" "d['workload_pid']")
kill -KILL $sbpid; wait $sbpid 2>/dev/null
kill -KILL "$wl" 2>/dev/null
for _ in $(seq 50); do [ -z "$(leftovers "$st")" ] && break; sleep 0.1; done
[ -z "$(leftovers "$st")" ] && ok "SIGKILLed standin: janitor removed namespace and veth" \
    || fail "SIGKILLed standin left: $(leftovers "$st")"

# ---- 3. no workload: serves the proxy until SIGTERM, then exits 0.
st="$work/serve.json"
OPENSHELL_STANDIN_STATUS_FILE=$st "$SB" 2>/dev/null &
sbpid=$!; pids+=($sbpid)
for _ in $(seq 100); do [ "$(q "$st" "d['phase']" 2>/dev/null)" = serving ] && break; sleep 0.1; done
addr=$(q "$st" "d['proxy']")
ans=$(timeout 5 bash -c "exec 3<>/dev/tcp/${addr%:*}/${addr#*:}; head -c 15 <&3")
[ "$ans" = "HTTP/1.1 200 OK" ] && ok "proxy at $addr answers" || fail "proxy at $addr: [$ans]"
kill -TERM $sbpid; wait $sbpid; rc=$?
[ $rc = 0 ] && ok "serving standin exits 0 on SIGTERM" || fail "serve SIGTERM rc=$rc"
[ -z "$(leftovers "$st")" ] || fail "serve run left: $(leftovers "$st")"

# ---- 4. netns refused (unshare -> EPERM, as under Substrate's caps):
#         strict = exit 1 before any workload; best effort = continues,
#         proxy on loopback, NO proxy env.
st="$work/strict.json"
before_ns=$(ls /run/netns 2>/dev/null | grep '^sandbox-' | sort)
before_veth=$(ip -o link show | grep -c ': veth-h-')
OPENSHELL_STANDIN_STATUS_FILE=$st "$INJ" unshare:EPERM -- "$SB" -- touch "$work/ran" 2>"$work/strict.err"
rc=$?
[ $rc = 1 ] && [ ! -e "$work/ran" ] && [ "$(step_result "$st" netns)" = "fatal:EPERM" ] \
    && ok "strict: netns EPERM is fatal, exit 1, no workload" || fail "strict netns: rc=$rc $(step_result "$st" netns)"
grep -q '"step":"netns","result":"fatal","errno":"EPERM"' "$work/strict.err" || fail "strict: no fatal netns line"
[ "$(ls /run/netns 2>/dev/null | grep '^sandbox-' | sort)" = "$before_ns" ] || fail "strict run left a namespace"
[ "$(ip -o link show | grep -c ': veth-h-')" = "$before_veth" ] || fail "strict run left a veth"

st="$work/be.json"
OPENSHELL_BEST_EFFORT_FAILURES=1 OPENSHELL_STANDIN_STATUS_FILE=$st "$INJ" unshare:EPERM -- "$SB" -- \
    sh -c 'env > '"$work"'/be.env; exit 5' 2>/dev/null
rc=$?
[ $rc = 5 ] && [ "$(step_result "$st" netns)" = "degraded:EPERM" ] && ok "best effort: netns degraded, workload ran" \
    || fail "best effort netns: rc=$rc $(step_result "$st" netns)"
grep -qiE '^(ALL_PROXY|HTTP_PROXY|HTTPS_PROXY|GRPC_PROXY|NO_PROXY|NODE_USE_ENV_PROXY)=' "$work/be.env" \
    && fail "best effort: workload got proxy env without a netns" || ok "best effort: workload has no proxy env"
[ "$(q "$st" "d['proxy']")" = "127.0.0.1:$PORT" ] && ok "best effort: proxy on 127.0.0.1" || fail "proxy $(q "$st" "d['proxy']")"
[ "$(q "$st" "d['workload_env']")" = "{}" ] || fail "status lists workload env without a netns"

# ---- 5. seccomp refused (seccomp() -> EINVAL; libseccomp then reports
#         TSYNC as unsupported): strict = fatal at the supervisor prelude;
#         best effort = both filters degraded, workload runs.
st="$work/sc.json"
OPENSHELL_STANDIN_STATUS_FILE=$st "$INJ" seccomp:EINVAL -- "$SB" -- touch "$work/ran3" 2>/dev/null
rc=$?
r=$(step_result "$st" supervisor_seccomp)
[ $rc = 1 ] && [ ! -e "$work/ran3" ] && [ "${r%%:*}" = fatal ] && [ "${r#*:}" != None ] \
    && ok "strict: supervisor seccomp refused is fatal ($r)" || fail "strict seccomp: rc=$rc $r"
[ -z "$(leftovers "$st")" ] || fail "fatal seccomp run left: $(leftovers "$st")"
st="$work/scbe.json"
OPENSHELL_BEST_EFFORT_FAILURES=1 OPENSHELL_STANDIN_STATUS_FILE=$st "$INJ" seccomp:EINVAL,unshare:EPERM -- "$SB" -- true 2>/dev/null
rc=$?
r1=$(step_result "$st" supervisor_seccomp) r2=$(step_result "$st" workload_seccomp)
[ $rc = 0 ] && [ "${r1%%:*}" = degraded ] && [ "${r2%%:*}" = degraded ] \
    && ok "best effort: both seccomp steps degraded ($r1, $r2), workload ran" \
    || fail "best effort seccomp: rc=$rc sup=$r1 wl=$r2"

# ---- 6. Landlock missing (ENOSYS, as in gVisor): always best effort.
st="$work/ll.json"
OPENSHELL_STANDIN_STATUS_FILE=$st "$INJ" landlock_create_ruleset:ENOSYS -- "$SB" -- true 2>"$work/ll.err"
rc=$?
[ $rc = 0 ] && [ "$(step_result "$st" landlock)" = "degraded:ENOSYS" ] \
    && grep -q '"uid":"landlock-unavailable"' "$work/ll.err" && ok "landlock ENOSYS: finding, continues" \
    || fail "landlock: rc=$rc $(step_result "$st" landlock)"

# ---- 7. privilege drop: works, is skipped when already that identity, and
#         is fatal even with best effort when refused.
st="$work/pd.json"
mkdir -m 0777 "$work/pub"; chmod 0711 "$work"
OPENSHELL_STANDIN_STATUS_FILE=$st "$SB" --run-as 65534:65534 -- sh -c 'echo $(id -u):$(id -g) > '"$work"'/pub/id' 2>/dev/null
[ "$(cat "$work/pub/id" 2>/dev/null)" = "65534:65534" ] && [ "$(step_result "$st" privdrop)" = "ok:None" ] \
    && ok "privdrop to 65534:65534" || fail "privdrop: $(cat "$work/pub/id" 2>/dev/null) $(step_result "$st" privdrop)"
st="$work/pds.json"
OPENSHELL_STANDIN_RUN_AS=0:0 OPENSHELL_STANDIN_STATUS_FILE=$st "$SB" -- true 2>/dev/null
[ "$(step_result "$st" privdrop)" = "skipped:None" ] && ok "privdrop skipped when already 0:0" || fail "privdrop skip: $(step_result "$st" privdrop)"
st="$work/pdf.json"
OPENSHELL_BEST_EFFORT_FAILURES=1 OPENSHELL_STANDIN_STATUS_FILE=$st "$INJ" setresuid:EPERM,setuid:EPERM,setresgid:EPERM,setgid:EPERM -- \
    "$SB" --run-as 65534:65534 -- touch "$work/ran2" 2>/dev/null
rc=$?
[ $rc = 1 ] && [ ! -e "$work/ran2" ] && [ "$(step_result "$st" privdrop)" = "fatal:EPERM" ] \
    && ok "privdrop refused: fatal even with best effort" || fail "privdrop refused: rc=$rc $(step_result "$st" privdrop)"
[ -z "$(leftovers "$st")" ] || fail "privdrop failure left: $(leftovers "$st")"

# ---- control: the injector really injects (a plain unshare fails under it).
"$INJ" unshare:EPERM -- unshare -n true 2>/dev/null && fail "control: injector did not inject" \
    || ok "control: injector makes unshare fail"

[ $fails = 0 ] && { echo PASS; exit 0; }
echo "$fails failure(s)"; exit 1
