# shellcheck shell=bash
# Shared by runsc_e2e.sh and host_e2e.sh: paths, JSON reading (Debian's
# python3: jq is not a dependency) and the assertions on what the real shim
# wrote (report, OCSF findings on stderr, the stand-in's status file, the
# workload's environment and syscall results).
source "$OSS_SOURCE_DIR/tests/lib/common.sh" || { echo "FAIL: cannot load tests/lib/common.sh" >&2; exit 1; }

SHIM="$OSS_BUILD_DIR/shim/openshell-shim"
STANDIN="$OSS_BUILD_DIR/tests/standin/openshell-sandbox-standin"
SYSCALLS="$OSS_BUILD_DIR/tests/shim/probe/e2e/e2e-syscalls"
for b in "$SHIM" "$STANDIN" "$SYSCALLS"; do
    [[ -x "$b" ]] || oss_fail "not built: $b"
done
# shellcheck disable=SC2034 # FI, SUBS and WL_PY are used by the sourcing scripts
FI=$(oss_helper oss-faultinject)
# shellcheck disable=SC2034
SUBS=(netns seccomp landlock privdrop)
E2E_FAILS=0

e2e_ok() { echo "ok: $*"; }
# Soft failure: the script goes on so one run shows every difference.
e2e_bad() {
    echo "FAIL: $*" >&2
    E2E_FAILS=$((E2E_FAILS + 1))
}
e2e_check() { # e2e_check WHAT EXPECTED ACTUAL
    if [[ "$2" == "$3" ]]; then e2e_ok "$1 = $3"; else e2e_bad "$1: expected '$2', got '$3'"; fi
}
e2e_check_re() { # e2e_check_re WHAT EREGEX ACTUAL
    if [[ "$3" =~ $2 ]]; then e2e_ok "$1 ~ /$2/"; else e2e_bad "$1: '$3' does not match /$2/"; fi
}
e2e_finish() {
    ((E2E_FAILS == 0)) || oss_fail "$E2E_FAILS check(s) failed"
    echo PASS
}

# jget FILE PATH: a value of a JSON file by a dotted path (numbers index
# arrays); prints "null" for null/absent, JSON for objects and lists,
# true/false for booleans.
jget() {
    "$OSS_PYTHON" - "$1" "$2" <<'PY'
import json, sys
try:
    v = json.load(open(sys.argv[1]))
except Exception as e:
    print("<unparsable: %s>" % e); sys.exit(0)
for k in sys.argv[2].split(".") if sys.argv[2] else []:
    if isinstance(v, list) and k.isdigit() and int(k) < len(v): v = v[int(k)]
    elif isinstance(v, dict) and k in v: v = v[k]
    else: v = None; break
if v is None: print("null")
elif isinstance(v, bool): print("true" if v else "false")
elif isinstance(v, (dict, list)): print(json.dumps(v, sort_keys=True))
else: print(v)
PY
}

# probe_sig REPORT SUB: "status step errno_name" of one probe in a report.
probe_sig() {
    "$OSS_PYTHON" - "$1" "$2" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["bootstrap"]["probes"][sys.argv[2]]
print(p["status"], p.get("step", "-"), p.get("errno_name", "-"))
PY
}

# decisions REPORT: "netns=degraded seccomp=ok ..." in a fixed order.
decisions() {
    "$OSS_PYTHON" - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["bootstrap"]["decisions"]
print(" ".join("%s=%s" % (s, d[s]) for s in ("netns", "seccomp", "landlock", "privdrop")))
PY
}

# findings STDERR_FILE: parses every line that is a JSON object with
# class_uid; checks the OCSF shape of each; prints one line per finding:
# "uid severity_id is_alert message".  Non-conforming lines print BAD.
findings() {
    "$OSS_PYTHON" - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1], errors="replace"):
    line = line.strip()
    if not line.startswith("{") or '"class_uid"' not in line:
        continue
    try:
        f = json.loads(line)
    except Exception as e:
        print("BAD unparsable", e); continue
    shape = (f.get("class_uid") == 2004 and f.get("category_uid") == 2 and f.get("activity_id") == 1
             and f.get("type_uid") == 200401 and f.get("severity") == "High"
             and f.get("metadata", {}).get("version") == "1.8.0"
             and f.get("metadata", {}).get("product", {}).get("vendor_name") == "OpenShell"
             and f.get("confidence_id") == 3 and "finding_info" in f)
    print("%s %s %s %s%s" % (f.get("finding_info", {}).get("uid"), f.get("severity_id"),
                            str(f.get("is_alert")).lower(), "" if shape else "BADSHAPE ",
                            f.get("message")))
PY
}

# log_lines STDERR_FILE: the shim's own log lines (not JSON, not the
# stand-in's), i.e. what an operator reads.
log_lines() {
    grep -v '^{' "$1" | grep 'openshell-shim\[' || true
}

# kv FILE KEY: the value of KEY=... (e2e-syscalls and env dumps).
kv() { oss_kv "$1" "$2"; }

# The stand-in's modes: one per upstream supervisor variant, and the policy
# files its local-file mode needs (it reads them, as upstream requires them).
# shellcheck disable=SC2034
VARIANTS=(main pr1549 pr1548)
export OPENSHELL_POLICY_RULES="$OSS_SOURCE_DIR/tests/standin/policy/sandbox.rego"
export OPENSHELL_POLICY_DATA="$OSS_SOURCE_DIR/tests/standin/policy/policy.yaml"
# shellcheck disable=SC2034
POLICY_ENV=(--env "OPENSHELL_POLICY_RULES=$OPENSHELL_POLICY_RULES" --env "OPENSHELL_POLICY_DATA=$OPENSHELL_POLICY_DATA")
# The identity the stand-in drops to (no "sandbox" user on a CI host).
# shellcheck disable=SC2034
SB_RUNAS=(--run-as 65534:65534)

# standin_stop STATUS_FILE: the first step the stand-in found fatal, in the
# report's names (supervisor-seccomp, ...), or null when its workload ran.
standin_stop() {
    "$OSS_PYTHON" - "$1" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    print("no-status"); sys.exit(0)
f = [s["step"] for s in d["steps"] if s["result"] == "fatal"]
print(f[0].replace("_", "-") if f else "null")
PY
}

# check_variant DIR TAG VARIANT: the report's prediction for VARIANT
# (bootstrap.supervisor_variants) is what the stand-in in that mode did.
check_variant() {
    local d=$1 tag=$2 v=$3
    e2e_check "$tag $v: the stand-in stops where the report says" \
        "$(jget "$d/report.json" "bootstrap.supervisor_variants.$v.stops_at")" "$(standin_stop "$d/standin.json")"
    e2e_check "$tag $v: stand-in variant" "$v" "$(jget "$d/standin.json" variant)"
}

# check_degraded_report DIR TAG: the --degrade=all report and findings
# under Substrate's shape (uid 0, three caps), whatever the runtime, and
# the switches the shim set for the supervisor.
check_degraded_report() {
    local d=$1 tag=$2 f n
    e2e_check "$tag outcome" degraded "$(jget "$d/report.json" bootstrap.outcome)"
    e2e_check "$tag decisions" "netns=degraded seccomp=ok landlock=degraded privdrop=degraded" \
        "$(decisions "$d/report.json")"
    f=$(findings "$d/stderr")
    echo "$tag findings:"
    sed 's/^/    /' <<<"$f"
    n=$(grep -c . <<<"$f" || true)
    e2e_check "$tag number of OCSF findings" 3 "$n"
    e2e_check "$tag finding uids" "landlock-unavailable netns-unavailable privdrop-unavailable" \
        "$(awk '{print $1}' <<<"$f" | sort | xargs)"
    e2e_check "$tag findings High + alert + OCSF shape" 0 "$(grep -vc '^[a-z-]* 4 true [^B]' <<<"$f" || true)"
    e2e_check_re "$tag netns finding names step+errno" 'netns-unavailable .*\(ns_create: EPERM\)' "$(grep '^netns' <<<"$f")"
    e2e_check_re "$tag landlock finding names step+errno" 'landlock-unavailable .*\(abi_version: ENOSYS\)' "$(grep '^landlock' <<<"$f")"
    e2e_check_re "$tag privdrop finding: the workload cannot start" 'privdrop-unavailable .*\(setgroups: EPERM\).*the workload cannot start here' "$(grep '^privdrop' <<<"$f")"
    e2e_check "$tag env OPENSHELL_SKIP_BOOTSTRAP" "netns set" \
        "$(env_entry "$d/report.json" OPENSHELL_SKIP_BOOTSTRAP)"
    e2e_check "$tag env OPENSHELL_BEST_EFFORT_FAILURES" "1 set" \
        "$(env_entry "$d/report.json" OPENSHELL_BEST_EFFORT_FAILURES)"
    # what each upstream variant does here: none starts its workload
    e2e_check "$tag variants" "main:netns pr1549:privdrop pr1548:privdrop" "$(variant_stops "$d/report.json")"
    e2e_check "$tag main steps" \
        "netns=fatal supervisor-seccomp=attempt privdrop=fatal landlock=degrade workload-seccomp=attempt" \
        "$(variant_steps "$d/report.json" main)"
    e2e_check "$tag pr1549 steps" \
        "netns=skip supervisor-seccomp=attempt privdrop=fatal landlock=degrade workload-seccomp=attempt" \
        "$(variant_steps "$d/report.json" pr1549)"
    e2e_check "$tag pr1548 steps" \
        "netns=degrade supervisor-seccomp=attempt privdrop=fatal landlock=degrade workload-seccomp=attempt" \
        "$(variant_steps "$d/report.json" pr1548)"
}

# env_entry REPORT NAME: "value action" of an env contract entry.
env_entry() {
    "$OSS_PYTHON" - "$1" "$2" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1]))["bootstrap"]["env"]:
    if e["name"] == sys.argv[2]:
        print(e.get("value"), e["action"]); break
else:
    print("absent")
PY
}

# variant_stops REPORT: "main:STEP pr1549:STEP pr1548:STEP" (STEP "starts").
variant_stops() {
    "$OSS_PYTHON" - "$1" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))["bootstrap"]["supervisor_variants"]
print(" ".join("%s:%s" % (k, v[k]["stops_at"] or "starts") for k in ("main", "pr1549", "pr1548")))
PY
}

# variant_steps REPORT VARIANT: "netns=... supervisor-seccomp=... ..."
variant_steps() {
    "$OSS_PYTHON" - "$1" "$2" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["bootstrap"]["supervisor_variants"][sys.argv[2]]["steps"]
print(" ".join("%s=%s" % (k, s[k]) for k in ("netns", "supervisor-seccomp", "privdrop", "landlock", "workload-seccomp")))
PY
}

# check_runasuser_run DIR TAG: the run where the container already is the
# sandbox identity (runAsUser) and the stand-in runs as pull request 1549:
# the workload starts, without a namespace, with the proxy variables the
# shim set (cooperating clients reach the proxy; control: bypassed, not).
check_runasuser_run() {
    local d=$1 tag=$2 v
    e2e_check "$tag decisions" "netns=degraded seccomp=ok landlock=degraded privdrop=ok" "$(decisions "$d/report.json")"
    e2e_check "$tag privdrop probe: already the identity" true "$(jget "$d/report.json" bootstrap.probes.privdrop.already)"
    e2e_check "$tag variants" "main:netns pr1549:starts pr1548:starts" "$(variant_stops "$d/report.json")"
    check_variant "$d" "$tag" pr1549
    e2e_check "$tag stand-in phase" exited "$(jget "$d/standin.json" phase)"
    e2e_check "$tag stand-in netns step" "skipped null" \
        "$(jget "$d/standin.json" steps.1.result) $(jget "$d/standin.json" steps.1.errno)"
    e2e_check "$tag workload OPENSHELL_SKIP_BOOTSTRAP" netns "$(kv "$d/wl.env" OPENSHELL_SKIP_BOOTSTRAP)"
    e2e_check "$tag workload OPENSHELL_SANDBOX" 1 "$(kv "$d/wl.env" OPENSHELL_SANDBOX)"
    for v in ALL_PROXY HTTP_PROXY HTTPS_PROXY http_proxy https_proxy grpc_proxy; do
        e2e_check "$tag workload $v" http://127.0.0.1:3128 "$(kv "$d/wl.env" "$v")"
    done
    e2e_check "$tag workload NO_PROXY" "127.0.0.1,localhost,::1" "$(kv "$d/wl.env" NO_PROXY)"
    e2e_check "$tag workload NODE_USE_ENV_PROXY" 1 "$(kv "$d/wl.env" NODE_USE_ENV_PROXY)"
    e2e_check "$tag workload OPENSHELL_SHIM_REPORT" "$(jget "$d/report.json" report_path)" \
        "$(kv "$d/wl.env" OPENSHELL_SHIM_REPORT)"
    e2e_check "$tag stand-in proxy answers via HTTP_PROXY" "via-proxy=200" "$(grep '^via-proxy=' "$d/proxy" || echo missing)"
    e2e_check_re "$tag control: same request without the proxy fails" '^direct=ERR' "$(grep '^direct=' "$d/proxy" || echo missing)"
    e2e_check "$tag no proxy variable in the supervisor's own environment" "sup_proxy=0" "$(grep '^sup_proxy=' "$d/proxy" || echo missing)"
    e2e_check "$tag report: proxy variables on the workload only" "http://127.0.0.1:3128 workload" "$(env_entry "$d/report.json" HTTP_PROXY)"
}

# The workload of the degraded run: dump the environment, then fetch a
# made-up URL through the proxy variables (Python's urllib honours them, as
# cooperating clients do), and without them (control).
# shellcheck disable=SC2034
WL_PY='
import os, sys, urllib.request
out = sys.argv[1]
with open(out + "/wl.env", "w") as f:
    for k in sorted(os.environ): f.write("%s=%s\n" % (k, os.environ[k]))
res = []
try:
    r = urllib.request.urlopen("http://e2e-probe.invalid/", timeout=5)
    res.append("via-proxy=%d" % r.status)
except Exception as e:
    res.append("via-proxy=ERR %s" % e)
try:
    op = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    r = op.open("http://e2e-probe.invalid/", timeout=5)
    res.append("direct=%d" % r.status)
except Exception as e:
    res.append("direct=ERR %s" % type(e).__name__)
# the supervisor own environment (the parent): proxy variables in it?
try:
    penv = open("/proc/%d/environ" % os.getppid(), "rb").read().split(b"\0")
    res.append("sup_proxy=%d" % sum(1 for e in penv if e.split(b"=")[0].upper().endswith(b"_PROXY")))
except Exception as e:
    res.append("sup_proxy=ERR %s" % type(e).__name__)
open(out + "/proxy", "w").write("\n".join(res) + "\n")
'
