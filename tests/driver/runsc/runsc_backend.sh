#!/usr/bin/env bash
# The runsc backend end to end: the driver (openshell-driver-substrate
# --backend=runsc) driven over its gRPC socket by the gateway-like client.
#   runsc_backend.sh lifecycle|cycles|two|restart|crash|badinput|async|hostfiles|connections|killpoints|golden
# The suites of the operator's single-user set-up (lifecycle, cycles, two,
# restart, crash, badinput) run on the host's / (--runsc-host-rootfs, image
# local/host, the build's binaries); hostfiles, connections, killpoints and
# golden run in a root filesystem of their own (scripts/make-demo-rootfs.sh,
# plus sh, cat, sha256sum and sleep for the red-team suite), as the driver's
# default configuration requires.
# Each run gets its own state dir and a free /24 of runsc_subnet, so the
# suites can run in parallel; the EXIT trap removes whatever a failure left
# (containers of this state dir's runsc root, its namespaces and veths).
source "$OSS_SOURCE_DIR/tests/lib/common.sh"
source "$OSS_SOURCE_DIR/tests/lib/runsc.sh"
suite=${1:?suite}
oss_runsc_require
oss_require_cmd ip
ref=$("$OSS_PYTHON" "$OSS_SOURCE_DIR/tests/lib/protos.py" peer openshell)
"$OSS_PYTHON" -c 'import grpc, grpc_tools' 2>/dev/null ||
    oss_skip "$OSS_PYTHON lacks grpcio/grpc_tools (python3-grpcio python3-grpc-tools)"

B="$OSS_BUILD_DIR"
drv="$B/driver/openshell-driver-substrate"
[[ -x $drv ]] || oss_fail "missing $drv"
case $suite in
lifecycle | cycles | two | tty | restart | crash | badinput | async | hostfiles | connections | killpoints | golden) ;;
*) oss_fail "unknown suite $suite" ;;
esac
# a /24 of 10.244.0.0/16 no route of this machine uses yet, picked at random
# per run: suites of other checkouts on the same machine (and what a failed
# run of theirs left) must not share addresses with this one
subnet=
for _ in $(seq 1 64); do
    o=$((16 + RANDOM % 224))
    if ! ip -4 route | grep -q "^10\.244\.$o\."; then
        subnet="10.244.$o.0/24"
        break
    fi
done
[[ -n $subnet ]] || oss_fail "no free /24 in 10.244.0.0/16"

state="$OSS_TMP/state"
rootfs="$OSS_TMP/rootfs"
mkdir -p "$rootfs"
ln -s /nonexistent/rootfs "$rootfs/broken_rootfs" # "broken/rootfs": a missing rootfs
image=openshell/demo:local
OSS_ROOTFS_EXTRA="$(readlink -f /bin/sh):/bin/sh /usr/bin/cat /usr/bin/sha256sum /usr/bin/sleep" \
    bash "$OSS_SOURCE_DIR/scripts/make-demo-rootfs.sh" "$rootfs" "$image" >/dev/null
runsc_bin=$(command -v runsc)

tag=$("$OSS_PYTHON" -c 'import sys
h = 2166136261
for b in sys.argv[1].encode():
    h = ((h ^ b) * 16777619) & 0xffffffff
print("%05x" % (h & 0xfffff))' "$state")
cleanup() {
    local root="$state/runsc/root" id n p
    # a driver or runsc process of this suite that outlived a failure: the
    # state path is unique to this run, so only ours can match it
    for p in $(_oss_pids_naming "$state"); do kill -KILL "$p" 2>/dev/null || true; done
    if [[ -d $root ]]; then
        for id in $("$runsc_bin" --root="$root" list -quiet 2>/dev/null); do
            "$runsc_bin" --root="$root" kill "$id" KILL >/dev/null 2>&1 || true
            "$runsc_bin" --root="$root" delete -force "$id" >/dev/null 2>&1 || true
        done
    fi
    # only ours: names carry the tag hashed from this run's state dir
    # (drv_runsc_state_tag); runsc's netstack owns the sandbox's addresses,
    # so they cannot tell whose a namespace is
    for n in /run/netns/ossr-"$tag"-*; do
        [[ -e $n ]] && ip netns del "${n#/run/netns/}" 2>/dev/null
    done
    for n in /sys/class/net/orh"$tag"*; do
        [[ -e $n ]] && ip link del "${n##*/}" 2>/dev/null
    done
    return 0
}
oss_on_exit cleanup

if [[ $suite == hostfiles || $suite == connections || $suite == killpoints || $suite == golden ]]; then
    # a root filesystem of its own (the default configuration: the host's /
    # is refused), binaries at its paths
    workload='["/usr/local/bin/oss-counter","--file","/tmp/count","--period-ms","50","--port","9090","--bind","0.0.0.0"]'
    cmd="$drv --backend runsc --log-level debug --state-dir $state --rootfs-dir $rootfs"
    cmd+=" --runsc-subnet $subnet --shim-path /usr/local/bin/openshell-shim"
    cmd+=" --supervisor-path /usr/local/bin/openshell-sandbox --shim-degrade all"
    # the stand-in as pull request 1549 with the image's local policy, as
    # the image's "sandbox" user (the demo's configuration)
    cmd+=" --runsc-user 1000:1000"
    envjson='{"OPENSHELL_STANDIN_VARIANT":"pr1549","OPENSHELL_POLICY_RULES":"/etc/openshell/policy.rego","OPENSHELL_POLICY_DATA":"/etc/openshell/policy.yaml"}'
else
envjson='{}'
image=local/host
# The supervisor: the stand-in in pull request 1549's mode, with a local
# policy file (no gateway here), dropping to 65534 -- which the sandbox
# already is (--runsc-user, the runAsUser shape): the one configuration in
# which an upstream supervisor starts a workload under Substrate's three
# capabilities (docs/probes.md).  main would exit 1 at its network
# namespace, any variant as uid 0 at its privilege drop.
# The binaries and policy are staged outside /tmp and /run: the bundle mounts
# a tmpfs over both (as a Kubernetes runtime does), and the driver binds
# back only the shim's and the supervisor's own directories, so a build
# tree under /tmp would be hidden from the sandbox.
stage=$(mktemp -d /var/tmp/oss-runsc-backend.XXXXXX)
oss_on_exit "rm -rf '$stage'"
chmod 0755 "$stage"
cp "$B/shim/openshell-shim" "$B/tests/standin/openshell-sandbox-standin" \
    "$B/tests/helpers/oss-counter" "$stage/"
cp -r "$OSS_SOURCE_DIR/tests/standin/policy" "$stage/policy"
chmod -R a+rX "$stage"
sup="$stage/supervisor-pr1549"
cat >"$sup" <<SUP
#!/bin/sh
# generated by tests/driver/runsc/runsc_backend.sh: the stand-in as pull request 1549
export OPENSHELL_STANDIN_VARIANT=pr1549 OPENSHELL_STANDIN_RUN_AS=65534:65534
export OPENSHELL_POLICY_RULES=$stage/policy/sandbox.rego
export OPENSHELL_POLICY_DATA=$stage/policy/policy.yaml
# pull request 1549 hands its own stdin to the workload; the gateway's
# default command, "/bin/bash -l" with tty, stays up only because the
# driver asks the shim for --hold-stdin (docs/shim.md, "As init"): nothing
# here keeps stdin open
exec $stage/openshell-sandbox-standin "\$@"
SUP
chmod 0755 "$sup"

workload=$(printf '["%s","--file","/tmp/count","--period-ms","50","--port","9090","--bind","0.0.0.0"]' \
    "$stage/oss-counter")
cmd="$drv --backend runsc --log-level debug --state-dir $state --rootfs-dir $rootfs"
cmd+=" --runsc-subnet $subnet --shim-path $stage/openshell-shim"
cmd+=" --supervisor-path $sup --shim-degrade all --runsc-user 65534:65534"
# these sandboxes see the host's / (image local/host): the operator's flag
cmd+=" --runsc-host-rootfs"
fi
cmd+=" --default-workload '$workload'"
sock="$OSS_TMP/run/driver.sock"

if [[ $suite == lifecycle ]]; then
    # the same backend-neutral suite the in-memory double passes
    # (not exec: the EXIT trap must still clean up after a failure)
    "$OSS_PYTHON" "$OSS_SOURCE_DIR/tests/driver/gateway_client.py" --reference "$ref" \
        --socket "$sock" --driver "$cmd" --image "$image" --suite lifecycle --suite nulstrings \
        --create-timeout 120 --event-timeout 20
    exit $?
fi
"$OSS_PYTHON" "$OSS_SOURCE_DIR/tests/driver/runsc/runsc_suite.py" --reference "$ref" \
    --socket "$sock" --driver "$cmd" --state-dir "$state" --runsc "$runsc_bin" --image "$image" \
    --subnet "$subnet" --workload "$workload" --env-json "$envjson" \
    --cycles "${OSS_RUNSC_CYCLES:-20}" ${OSS_RUNSC_CRASH_STEPS:+--steps "$OSS_RUNSC_CRASH_STEPS"} \
    --random-kills "${OSS_RUNSC_RANDOM_KILLS:-20}" \
    --ready-stops "${OSS_RUNSC_READY_STOPS:-50}" "$suite"
exit $?
