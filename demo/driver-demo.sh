#!/usr/bin/env bash
# The end-to-end demo on one machine: openshell-driver-substrate with its
# local runsc backend, driven over its gRPC socket exactly as the OpenShell
# gateway drives it (tests/driver/runsc/drvctl.py, stubs generated from the
# reference compute_driver.proto).  One sandbox, shaped like an Agent
# Substrate actor (openshell-shim as PID 1 around the stand-in supervisor and
# a workload that counts in memory), goes through:
#   create (runsc run, wait for readyz) -> the shim's bootstrap report ->
#   stop (runsc checkpoint) -> start (runsc restore into a NEW network
#   namespace with a new address) -> memory intact, restore seen by the shim
#   -> delete (nothing left)
# Each step says what happened and how long it took.
# Run as root on Debian 12 after `bash scripts/install-deps.sh` and a build:
#   bash demo/driver-demo.sh   (scripts/demo.sh does all of it)
set -euo pipefail
export OSS_SOURCE_DIR="${OSS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
export OSS_BUILD_DIR="${OSS_BUILD_DIR:-$OSS_SOURCE_DIR/build}"
# shellcheck disable=SC2034 # read by common.sh
OSS_TEST_NAME=driver-demo
source "$OSS_SOURCE_DIR/tests/lib/common.sh"
source "$OSS_SOURCE_DIR/tests/lib/runsc.sh"
oss_runsc_require

B="$OSS_BUILD_DIR"
DRV="$B/driver/openshell-driver-substrate"
[[ -x $DRV ]] || oss_fail "missing $DRV: build first (cmake -S . -B build && make -C build)"
# The client's stubs come from upstream's protos when OSS_REFERENCE_DIR
# names them, else from the project's own copy (same package, names and
# field numbers; tests/driver/wire checks that): tests/lib/protos.py decides.
REF=$("$OSS_PYTHON" "$OSS_SOURCE_DIR/tests/lib/protos.py" peer openshell)
"$OSS_PYTHON" -c 'import grpc, grpc_tools' 2>/dev/null ||
    oss_fail "$OSS_PYTHON lacks grpcio/grpc_tools: run scripts/install-deps.sh"

T0=$(oss_now_ms)
say() { printf '\n\033[1m[%6.2fs] %s\033[0m\n' "$(awk -v a="$(oss_now_ms)" -v b="$T0" 'BEGIN{print (a-b)/1000}')" "$*"; }
STATE="$OSS_TMP/state"
# a sandbox outlives its driver by design: a demo that fails half-way must
# still remove its containers, namespaces and links (runs last)
oss_on_exit "oss_runsc_driver_cleanup '$STATE'"
SOCK="$OSS_TMP/run/driver.sock"
IMAGE=openshell/demo:local
ID=demo
ctl() { "$OSS_PYTHON" "$OSS_SOURCE_DIR/tests/driver/runsc/drvctl.py" --reference "$REF" \
    --socket "$SOCK" --stubs "$OSS_TMP/stubs" "$@"; }
field() { "$OSS_PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2], {}, d))' "$1" "$2"; }
counter() { oss_tcp_line "$1" 9090 3; }
fetch() { "$OSS_PYTHON" -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1"; }

say "0. a root filesystem for the image $IMAGE (scripts/make-demo-rootfs.sh)"
ROOTFS=$(bash "$OSS_SOURCE_DIR/scripts/make-demo-rootfs.sh" "$OSS_TMP/rootfs" "$IMAGE")
echo "    $ROOTFS: $(du -sh "$ROOTFS" | cut -f1) (static shim, stand-in supervisor, oss-counter)"

say "1. start openshell-driver-substrate (backend runsc) on a private socket"
"$DRV" --socket "$SOCK" --backend runsc --state-dir "$STATE" --rootfs-dir "$OSS_TMP/rootfs" \
    --shim-path /usr/local/bin/openshell-shim --supervisor-path /usr/local/bin/openshell-sandbox \
    --shim-degrade all --runsc-subnet 10.243.0.0/16 --runsc-user 1000:1000 >"$OSS_TMP/driver.log" 2>&1 &
DPID=$!
oss_on_exit "kill -TERM $DPID 2>/dev/null; sleep 1; kill -KILL $DPID 2>/dev/null"
oss_wait_for "[[ -S $SOCK ]]" 15 || oss_fail "driver did not start: $(cat "$OSS_TMP/driver.log")"
out=$(ctl caps)
echo "    socket $SOCK (dir 0700, socket 0600); GetCapabilities: $(field "$out" 'driver + " " + version')"
echo "    (client stubs from $REF)"

say "2. CreateSandbox $ID: runsc run in a network namespace of its own, then readyz 200"
# The stand-in as OpenShell pull request 1549 with the image's local policy,
# the sandbox running as the image's "sandbox" user (--runsc-user 1000:1000,
# the runAsUser shape): the configuration in which an upstream supervisor
# starts a workload under Substrate's three capabilities.  As uid 0 every
# variant exits at its privilege drop; main also at its network namespace
# (step 3 shows the shim's per-variant table).
out=$(ctl create "$ID" "$IMAGE" --env DEMO=1 --env OPENSHELL_STANDIN_VARIANT=pr1549 \
    --env OPENSHELL_POLICY_RULES=/etc/openshell/policy.rego \
    --env OPENSHELL_POLICY_DATA=/etc/openshell/policy.yaml -- /usr/local/bin/oss-counter --file /tmp/count \
    --port 9090 --bind 0.0.0.0 --period-ms 100) || oss_fail "create failed: $out"
ADDR=$(field "$out" 'sandbox["address"]')
HOST=$(sed -E 's#http://([0-9.]+):.*#\1#' <<<"$ADDR")
echo "    phase $(field "$out" 'sandbox["phase"]'), shim readyz/status at $ADDR"
echo "    took $(field "$out" 'rpc_ms') ms (runsc run + shim bootstrap + readyz)"

say "3. the shim's bootstrap report (GET $ADDR/status): what gVisor refused and why"
fetch "$ADDR/status" >"$OSS_TMP/status1.json"
"$OSS_PYTHON" - "$OSS_TMP/status1.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
b = r["bootstrap"]
print("    runtime: gvisor=%s" % b["runtime"]["gvisor"])
for name, d in b["decisions"].items():
    p = b["probes"].get(name, {})
    why = "%s: %s" % (p.get("step"), p.get("errno_name", p.get("errno"))) if p.get("step") else ""
    print("    %-9s %-9s %s" % (name, d, why))
fb = b["fallback_seccomp"]
print("    fallback seccomp: mode %s, active %s (%s)" % (fb["mode"], fb["active"], fb["reason"]))
print("    supervisor switches set: " + ", ".join("%s=%s" % (e["name"], e.get("value", "")) for e in b["env"]
      if e["name"] in ("OPENSHELL_SKIP_BOOTSTRAP", "OPENSHELL_BEST_EFFORT_FAILURES")))
for v, o in b["supervisor_variants"].items():
    print("    %-7s %s -> %s" % (v, " ".join("%s=%s" % kv for kv in o["steps"].items()),
          "workload starts" if o["workload_starts"] else "CANNOT START (stops at %s)" % o["stops_at"]))
PY
sleep 1 # let the workload count a little
line=$(counter "$HOST")
echo "    workload (oss-counter, memory only): $line"
TOKEN=$(sed -n 's/.*token=\([0-9a-f]*\).*/\1/p' <<<"$line")

say "4. StopSandbox: runsc checkpoint into the sandbox's image directory"
out=$(ctl stop "$ID") || oss_fail "stop failed: $out"
size=$("$OSS_PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["image_bytes"])' \
    "$STATE/runsc/sandboxes/$ID/record.json")
echo "    phase $(field "$out" 'sandbox["phase"]'), took $(field "$out" 'rpc_ms') ms, checkpoint image $((size / 1024)) KiB"
# the spent container is removed in the background (runsc delete takes ~1 s)
oss_wait_for "[[ \$(runsc --root=$STATE/runsc/root list -quiet | wc -l) == 0 ]]" 10 || true
echo "    the container is gone ($(runsc --root="$STATE/runsc/root" list -quiet | wc -l) left), its network namespace too; the memory is in the image"
sleep 2 # frozen time, as on a real worker

say "5. StartSandbox: rewrite /run/ate/actor-id, runsc restore into a NEW namespace, readyz 200"
out=$(ctl start "$ID") || oss_fail "start failed: $out"
ADDR2=$(field "$out" 'sandbox["address"]')
HOST2=$(sed -E 's#http://([0-9.]+):.*#\1#' <<<"$ADDR2")
echo "    phase $(field "$out" 'sandbox["phase"]'), took $(field "$out" 'rpc_ms') ms, moved $HOST -> $HOST2"
line2=$(counter "$HOST2")
echo "    before: $line"
echo "    after:  $line2"
[[ $(sed -n 's/.*token=\([0-9a-f]*\).*/\1/p' <<<"$line2") == "$TOKEN" ]] ||
    oss_fail "the workload's memory did not survive"
echo "    same token, count continued: the memory came back"
fetch "$ADDR2/status" >"$OSS_TMP/status2.json"
"$OSS_PYTHON" - "$OSS_TMP/status2.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
last = r["restore"]["last"]
if last is None:
    sys.exit("FAIL: the shim recorded no restore (status: %s)" % json.dumps(r["restore"]))
d = last["network"]["delta"]
inet = lambda xs: ", ".join(a["cidr"] for a in xs if a["family"] == "inet") or "-"
frozen = "%s ms" % last["frozen_ms"] if last["frozen_ms"] is not None else "not measured"
print("    the shim saw restore #%d (detected by %s, frozen %s), identity %s -> %s" % (
    r["generation"], last["reason"], frozen, last["identity_before"]["id"],
    last["identity_after"]["id"]))
print("    network change: %d differences; address %s -> %s; default route via %s" % (
    last["network"]["changes"], inet(d["addrs_removed"]), inet(d["addrs_added"]),
    ", ".join(x["gateway"] for x in d["routes_added"] if x["dst"] == "default") or "-"))
PY

say "6. DeleteSandbox: container, checkpoint images, namespace and state removed"
out=$(ctl delete "$ID") || oss_fail "delete failed: $out"
echo "    deleted=$(field "$out" 'deleted'), took $(field "$out" 'rpc_ms') ms"
left=$(runsc --root="$STATE/runsc/root" list -quiet | wc -l)
nets=$(find /run/netns -maxdepth 1 -name 'ossr-*' 2>/dev/null | wc -l)
echo "    left behind: $left containers, $(find "$STATE/runsc/sandboxes" -mindepth 1 | wc -l) state files, $nets namespaces of this driver's kind"
kill -TERM "$DPID"
wait "$DPID" || true
say "done (driver log: $(grep -c . "$OSS_TMP/driver.log") lines, kept with OSS_KEEP_TMP=1)"
