#!/usr/bin/env bash
# The shim demo: openshell-shim as PID 1 of a gVisor sandbox shaped like an
# Agent Substrate actor (uid 0, three capabilities, NOFILE 1024), around the
# stand-in supervisor (a test double of openshell-sandbox) and a workload
# that counts in memory.  It shows, step by step with timings:
#   1. doctor: what gVisor refuses here, and what the strict policy says
#   2. strict start: the shim refuses and says why (exit 124)
#   3. degraded start (--degrade=all) as Substrate runs it (uid 0): what each
#      upstream supervisor variant does here (none starts its workload) and
#      the stand-in's honest exit; then the configuration in which one does:
#      OpenShell pull request 1549 in a container running as the sandbox
#      user (runAsUser): OCSF findings, report, readiness
#   4. a burst of orphans reaped (no zombie left)
#   5. checkpoint + restore with a new actor id: memory intact, restore seen
#   6. SIGTERM: forwarded to the supervisor, and the exit status
# Run as root on Debian 12: bash demo/shim-demo.sh  (expects a build in build/)
set -euo pipefail
export OSS_SOURCE_DIR="${OSS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
export OSS_BUILD_DIR="${OSS_BUILD_DIR:-$OSS_SOURCE_DIR/build}"
OSS_TEST_NAME=shim-demo
source "$OSS_SOURCE_DIR/tests/lib/common.sh"
source "$OSS_SOURCE_DIR/tests/lib/runsc.sh"
oss_runsc_require

SHIM="$OSS_BUILD_DIR/shim/openshell-shim"
STANDIN="$OSS_BUILD_DIR/tests/standin/openshell-sandbox-standin"
H="$OSS_BUILD_DIR/tests/helpers"
OUT="$OSS_TMP/out"
mkdir -p "$OUT" "$OSS_TMP/ate"
chmod 0777 "$OUT"
# the stand-in reads a local policy, as upstream's local-file mode requires one
POL=(--env "OPENSHELL_POLICY_RULES=$OSS_SOURCE_DIR/tests/standin/policy/sandbox.rego"
    --env "OPENSHELL_POLICY_DATA=$OSS_SOURCE_DIR/tests/standin/policy/policy.yaml")
T0=$(oss_now_ms)
say() { printf '\n\033[1m[%6.2fs] %s\033[0m\n' "$(awk -v a="$(oss_now_ms)" -v b="$T0" 'BEGIN{print (a-b)/1000}')" "$*"; }
took() { printf '    (%s ms)\n' "$(($(oss_now_ms) - $1))"; }
bundle() { # DIR [BUNDLE OPTIONS] -- ARGV...
    local d=$1
    shift
    local -a o=()
    while [[ $1 != -- ]]; do o+=("$1") && shift; done
    shift
    oss_bundle_make "$d" --bind "$OUT:/out" --bind "$OSS_BUILD_DIR:$OSS_BUILD_DIR:ro" \
        --bind "$OSS_TMP/ate:/run/ate:ro" "${POL[@]}" "${o[@]}" -- "$@"
}
echo "ate-golden/3f1c" >"$OSS_TMP/ate/actor-id"

say "1. openshell-shim doctor inside gVisor (Substrate's capabilities)"
t=$(oss_now_ms)
bundle "$OSS_TMP/b-doctor" -- "$SHIM" doctor
rc=0
oss_runsc_run_fg doctor "$OSS_TMP/b-doctor" || rc=$?
sed 's/^/    /' "$(oss_runsc_out doctor)"
echo "    exit status $rc (124 = the strict policy would refuse)"
took "$t"

say "2. strict start (--degrade=none, the default): the supervisor is never started"
t=$(oss_now_ms)
bundle "$OSS_TMP/b-strict" -- "$SHIM" --report=/out/strict.json -- "$STANDIN" -- /bin/true
rc=0
oss_runsc_run_fg strict "$OSS_TMP/b-strict" || rc=$?
grep -v '"class_uid"' "$(oss_runsc_err strict)" | sed 's/^/    /'
echo "    exit status $rc"
took "$t"

say "3. degraded start (--degrade=all) as Substrate runs it: uid 0, three capabilities"
for V in main pr1549 pr1548; do
    bundle "$OSS_TMP/b-uid0-$V" --env "OPENSHELL_STANDIN_VARIANT=$V" -- "$SHIM" --degrade=all \
        --run-as=65534:65534 --report="/out/uid0-$V.json" -- "$STANDIN" --run-as 65534:65534 -- /bin/true
    rc=0
    oss_runsc_run_fg "uid0-$V" "$OSS_TMP/b-uid0-$V" || rc=$?
    fatal=$(grep -o '"standin":"step","step":"[a-z_]*","result":"fatal","errno":[^,]*' "$(oss_runsc_err "uid0-$V")" | head -n 1 |
        sed 's/.*"step":"\([a-z_]*\)".*"errno":\(.*\)/\1 (\2)/')
    echo "    stand-in as $V: exit $rc, stopped at ${fatal:-?}"
done
"$OSS_PYTHON" - "$OUT/uid0-pr1549.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))["bootstrap"]
print("    the shim set: " + ", ".join("%s=%s" % (e["name"], e.get("value")) for e in b["env"]
      if e["name"] in ("OPENSHELL_SKIP_BOOTSTRAP", "OPENSHELL_BEST_EFFORT_FAILURES")))
print("    and predicted (report bootstrap.supervisor_variants):")
for v, o in b["supervisor_variants"].items():
    print("      %-7s %s -> %s" % (v, " ".join("%s=%s" % kv for kv in o["steps"].items()),
          "starts" if o["workload_starts"] else "CANNOT START HERE (%s)" % o["stops_at"]))
PY

say "   the same as the sandbox user (runAsUser 65534), pull request 1549: the workload starts"
t=$(oss_now_ms)
bundle "$OSS_TMP/b-run" --user 65534:65534 --env OPENSHELL_STANDIN_VARIANT=pr1549 -- \
    "$SHIM" -v -g --degrade=all --run-as=65534:65534 --readyz-port=8080 --ready-tcp=none \
    --report=/out/bootstrap.json --state-dir=/out/state --freeze-threshold=2s \
    --on-restore-exec='echo "restored: gen=$OPENSHELL_RESTORE_GENERATION id=$OPENSHELL_RESTORE_ACTOR_ID_OLD -> $OPENSHELL_RESTORE_ACTOR_ID_NEW" > /out/hook.txt' \
    -- "$STANDIN" --run-as 65534:65534 -- /bin/sh -c "setsid '$H/oss-counter' --file /out/count --period-ms 100 & exec '$H/oss-sigdump' --wait --out /out/signals --exit-on SIGTERM:0 --timeout 0"
oss_runsc_run demo "$OSS_TMP/b-run"
oss_wait_for "[[ -s $OUT/count && -s $OUT/signals ]]" 20 || oss_fail "sandbox did not come up: $(tail -5 "$(oss_runsc_err demo)")"
took "$t"
echo "    OCSF findings on the shim's stderr:"
grep '"class_uid":2004' "$(oss_runsc_err demo)" | "$OSS_PYTHON" -c '
import json, sys
for l in sys.stdin:
    f = json.loads(l)
    print("     -", f["finding_info"]["uid"], "|", f["severity"], "|", f["message"])'
echo "    bootstrap report (/out/bootstrap.json):"
"$OSS_PYTHON" - "$OUT/bootstrap.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
b = r["bootstrap"]
print("     runtime: gvisor=%s" % b["runtime"]["gvisor"])
for name, d in b["decisions"].items():
    p = b["probes"].get(name, {})
    why = "%s: %s" % (p.get("step"), p.get("errno_name", p.get("errno"))) if p.get("step") else ""
    print("     %-9s %-9s %s" % (name, d, why))
fb = b["fallback_seccomp"]
print("     fallback seccomp: mode %s, active %s (%s)" % (fb["mode"], fb["active"], fb["reason"]))
for v, o in b["supervisor_variants"].items():
    print("     %-7s -> %s" % (v, "starts" if o["workload_starts"] else "cannot start (%s)" % o["stops_at"]))
print("     env contract: " + ", ".join("%s=%s" % (e["name"], e.get("value", "")) if e["action"] == "set"
      else "%s=%s (workload only)" % (e["name"], e.get("value", "")) if e["action"] == "workload"
      else "%s kept (%s)" % (e["name"], e["action"]) for e in b["env"]))
PY
echo "    workload: $(cat "$OUT/count")"

# Upstream supervisors handle no signal but SIGTERM (main) or none (pull
# requests 1549/1548): a SIGUSR1 or SIGHUP forwarded to them ends them.
say "4. 500 orphans, re-parented to PID 1, are reaped"
t=$(oss_now_ms)
oss_runsc exec demo "$H/oss-orphans" 500 | sed 's/^/    /'
oss_wait_for "grep -q '\"reaped_orphans\":[1-9]' $OUT/bootstrap.json || true" 1 || true
zombies=$(oss_runsc exec demo /bin/sh -c 'grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l')
echo "    zombies left in the sandbox: $zombies"
took "$t"

say "5. checkpoint (suspend) and restore (resume) with a new actor id"
before=$(cat "$OUT/count")
t=$(oss_now_ms)
oss_runsc_checkpoint demo "$OSS_TMP/image"
echo "    checkpoint: $(($(oss_now_ms) - t)) ms, image $(du -sh "$OSS_TMP/image" | cut -f1)"
echo "actor-7b2d" >"$OSS_TMP/ate/actor-id" # Substrate rewrites it on every resume
sleep 2.5                                   # frozen time, as on a real worker
t=$(oss_now_ms)
oss_runsc_restore demo "$OSS_TMP/b-run" "$OSS_TMP/image"
echo "    restore: $(($(oss_now_ms) - t)) ms"
oss_wait_for "[[ -s $OUT/hook.txt ]] && grep -q '\"generation\":1' $OUT/bootstrap.json" 15 ||
    oss_fail "restore not recorded: $(tail -3 "$(oss_runsc_err demo)")"
sleep 0.3
echo "    before: $before"
echo "    after:  $(cat "$OUT/count")   (same token: the memory came back)"
echo "    hook:   $(cat "$OUT/hook.txt")"
"$OSS_PYTHON" - "$OUT/bootstrap.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
last = r["restore"]["last"]
print("    report: generation %d, reason %s, frozen %s ms, identity %s -> %s" % (
    r["generation"], last["reason"], last["frozen_ms"], last["identity_before"]["id"],
    last["identity_after"]["id"]))
PY

say "6. SIGTERM: forwarded to the supervisor (pull request 1549 has no handler: it ends, 143)"
t=$(oss_now_ms)
oss_runsc wait demo >"$OUT/wait.json" 2>"$OUT/wait.err" &
w=$!
oss_runsc_kill demo TERM >/dev/null
wait "$w" || true
echo "    $(cat "$OUT/wait.json" "$OUT/wait.err")"
took "$t"
say "done"
