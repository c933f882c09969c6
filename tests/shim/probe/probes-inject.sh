# Fault injection on the host (docs/platform/gvisor.md,
# "Emulating the refusals on the host"): probe-run installs a seccomp
# errno filter on itself that emulates gVisor with Substrate's three caps,
# then every strict/degrade combination must give the right verdicts,
# refusal line and environment.  Controls: no injection gives all ok, and
# each single injection fails exactly its own subsystem.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need_root

# clone3 -> ENOSYS so glibc falls back to clone(2), whose flags seccomp can see
I_NETNS='unshare@a0&0x40000000:EPERM,clone@a0&0x40000000:EPERM,clone3:ENOSYS'
I_SECCOMP='seccomp@a1&0x1:EINVAL,seccomp@a1&0x2:EINVAL,seccomp@a1&0x8:EINVAL'
I_LANDLOCK='landlock_create_ruleset:ENOSYS'
I_PRIVDROP='setgroups:EPERM,setresgid:EPERM,setresuid:EPERM'
G="$I_NETNS,$I_SECCOMP,$I_LANDLOCK,$I_PRIVDROP"
ALL=(netns seccomp landlock privdrop)


# Control 1: without injection everything is available (netns only with the library).
probes=all
out=$("$PR" --probes $probes)
for s in "${ALL[@]}"; do
    [[ $probes == all || $s != netns ]] || continue
    expect "$out" verdict.$s ok "control(no injection)"
done
expect "$out" refused 0 "control(no injection)"

# Control 2: each injection alone fails exactly its own subsystem.
for s in "${ALL[@]}"; do
    [[ $probes == all || $s != netns ]] || continue
    var="I_${s^^}"
    out=$("$PR" --probes $probes --inject "${!var}")
    for t in "${ALL[@]}"; do
        [[ $probes == all || $t != netns ]] || continue
        if [[ $t == "$s" ]]; then expect "$out" verdict.$t fatal "inject($s)"
        else expect "$out" verdict.$t ok "inject($s)"; fi
    done
done

# Every --degrade subset under the full gVisor emulation.
for mask in $(seq 0 15); do
    list=()
    for i in 0 1 2 3; do (( mask >> i & 1 )) && list+=("${ALL[$i]}"); done
    d=$(IFS=,; echo "${list[*]:-none}")
    out=$("$PR" --inject "$G" --degrade "$d")
    fatal=()
    for i in 0 1 2 3; do
        s=${ALL[$i]}
        if (( mask >> i & 1 )); then expect "$out" verdict.$s degraded "degrade=$d"
        else expect "$out" verdict.$s fatal "degrade=$d"; fatal+=("$s"); fi
    done
    refusal=$(kv "$out" refusal)
    if ((${#fatal[@]})); then
        expect "$out" refused 1 "degrade=$d"
        for s in "${fatal[@]}"; do
            grep -qE "(^|; )$s (unavailable|probe failed) \(step " <<<"$refusal" || fail "degrade=$d: refusal lacks $s: $refusal"
        done
        grep -q -- "allow with --degrade=netns,seccomp,landlock,privdrop\$" <<<"$refusal" \
            && ok "degrade=$d refusal names the flag" || fail "degrade=$d: flag missing: $refusal"
        [[ -z $(kv "$out" env.OPENSHELL_BEST_EFFORT_FAILURES) ]] && ok "degrade=$d no BEST_EFFORT" \
            || fail "degrade=$d: BEST_EFFORT set while refusing"
    else
        expect "$out" refused 0 "degrade=$d"
        expect "$out" env.OPENSHELL_BEST_EFFORT_FAILURES "set 1" "degrade=$d"
    fi
    if (( mask & 1 )); then
        expect "$out" env.HTTPS_PROXY "set http://127.0.0.1:3128" "degrade=$d"
        expect "$out" env.NO_PROXY "set 127.0.0.1,localhost,::1" "degrade=$d"
        expect "$out" env.NODE_USE_ENV_PROXY "set 1" "degrade=$d"
    else
        [[ -z $(kv "$out" env.HTTP_PROXY) ]] && ok "degrade=$d no proxy env" || fail "degrade=$d: proxy env without netns degraded"
    fi
    # auto fallback: the supervisor's TSYNC filter fails, a plain one loads, LOG refused
    expect "$out" fallback.active 1 "degrade=$d"
    expect "$out" fallback.flags 0 "degrade=$d (LOG refused, so not used)"
done

# The refusal names step and errno.
out=$("$PR" --inject "$G" --degrade none)
r=$(kv "$out" refusal)
for want in "seccomp unavailable (step load_tsync: EINVAL" "landlock unavailable (step abi_version: ENOSYS" \
            "privdrop unavailable (step setgroups: EPERM"; do
    grep -qF "$want" <<<"$r" && ok "refusal has '$want'" || fail "refusal lacks '$want': $r"
done
{ grep -qE "netns unavailable \(step [a-z_]+: EPERM" <<<"$r" && ok "refusal names netns step" || fail "netns step: $r"; }

# The supervisor's environment: contract added, operator values kept.
envout=$(HTTP_PROXY=http://operator:9 "$PR" --inject "$G" --degrade all --exec -- /usr/bin/env)
grep -qx "HTTP_PROXY=http://operator:9" <<<"$envout" && ok "operator HTTP_PROXY kept" || fail "operator HTTP_PROXY overridden"
[[ $(grep -c '^HTTP_PROXY=' <<<"$envout") == 1 ]] && ok "HTTP_PROXY once" || fail "HTTP_PROXY duplicated"
for want in HTTPS_PROXY=http://127.0.0.1:3128 ALL_PROXY=http://127.0.0.1:3128 grpc_proxy=http://127.0.0.1:3128 \
            no_proxy=127.0.0.1,localhost,::1 NODE_USE_ENV_PROXY=1 OPENSHELL_BEST_EFFORT_FAILURES=1 \
            OPENSHELL_SHIM_REPORT=/run/openshell/bootstrap.json; do
    grep -qx "$want" <<<"$envout" && ok "child env $want" || fail "child env lacks $want"
done
out=$(HTTP_PROXY=http://operator:9 "$PR" --inject "$G" --degrade all)
expect "$out" env.HTTP_PROXY "operator http://127.0.0.1:3128" "operator value reported"

# Fallback filter active in the exec'd child; control: --fallback=off.
o=$("$PR" --inject "$G" --degrade all --exec -- "$SYSTRY" umount2 ptrace execveat-empty getpid)
expect "$o" umount2 EPERM "fallback auto(prelude)"
expect "$o" ptrace ESRCH "fallback auto(prelude) leaves ptrace"
expect "$o" getpid OK "fallback auto(prelude)"
# (LeakSanitizer needs ptrace, which the workload list denies: off for the helper.)
o=$(ASAN_OPTIONS=detect_leaks=0 "$PR" --inject "$G" --degrade all --fallback workload --exec -- "$SYSTRY" umount2 ptrace execveat-empty getpid)
expect "$o" umount2 EPERM "fallback workload"
expect "$o" ptrace EPERM "fallback workload"
expect "$o" execveat-empty EPERM "fallback workload"
expect "$o" getpid OK "fallback workload"
o=$("$PR" --inject "$G" --degrade all --fallback off --exec -- "$SYSTRY" umount2 ptrace)
expect "$o" umount2 ENOENT "control(fallback off)"
expect "$o" ptrace ESRCH "control(fallback off)"
# refused: nothing is exec'd
"$PR" --inject "$G" --degrade seccomp --exec -- /bin/true 2>/dev/null; rc=$?
[[ $rc == 124 ]] && ok "refused run exits 124 without exec" || fail "refused run exit $rc"

# Findings: one valid OCSF line per degraded subsystem.
"$PR" --inject "$G" --degrade landlock,privdrop --probes landlock,privdrop --findings | "$PY" -c '
import json, sys
lines = [json.loads(l) for l in sys.stdin if l.strip()]
assert [l["finding_info"]["uid"] for l in lines] == ["landlock-unavailable", "privdrop-unavailable"], lines
for l in lines:
    assert l["class_uid"] == 2004 and l["type_uid"] == 200401 and l["severity_id"] == 4
    assert l["is_alert"] is True and l["metadata"]["version"] == "1.8.0"
    want = {"landlock-unavailable": "nothing replaces it",
            "privdrop-unavailable": "the workload cannot start here"}[l["finding_info"]["uid"]]
    assert want in l["message"], l["message"]
' && ok "findings" || fail "findings"

finish
