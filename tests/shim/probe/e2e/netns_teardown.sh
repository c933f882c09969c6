#!/usr/bin/env bash
# The netns probe answers before it tears its namespace and veth down (the
# teardown waits for RCU in the kernel); the shim must still reap that child
# and nothing may be left behind:
#   - doctor --probes=netns: nothing left the moment it exits;
#   - the shim with a short child (/bin/true): nothing left when it exits;
#   - the shim with a longer child: the teardown ends while the supervisor
#     runs, no zombie stays, and the report does not count the teardown
#     child as a reaped orphan (it is the shim's own, dispatched by pid);
#   - the probe still says "supported" with the teardown off its path.
# Runs in a private network + mount namespace (a tmpfs on /run/netns), so
# other tests probing at the same time cannot confuse the leftover checks.
# CONTROL: the leftover check sees a hand-made osp veth and namespace file.
source "$OSS_SOURCE_DIR/tests/shim/probe/e2e/lib.sh"
oss_require_root
oss_require_cmd unshare ip ps
unshare -n true 2>/dev/null || oss_skip "cannot make a network namespace here"
mkdir -p /run/netns

export SHIM OSS_TMP
# shellcheck disable=SC2016 # the script runs in the inner bash
unshare -m -n --propagation private bash -euo pipefail -c '
mount -t tmpfs -o mode=0755 e2e-netns /run/netns
ip link set lo up
left() { { ip -o link show | awk -F": " "{print \$2}" | sed "s/@.*//" | grep -E "^osp[hs][0-9a-f]+\$" | sort || true; ls /run/netns | grep "^osp-" || true; } | xargs | tr " " ","; }
wait_none() { for ((i = 0; i < 300; i++)); do [[ -z $(left) ]] && return 0; sleep 0.01; done; return 1; }

# CONTROL first: the check sees a veth and a namespace file of the probe'"'"'s shape
ip link add osphc0ffee type veth peer name ospsc0ffee
touch /run/netns/osp-c0ffee
echo "control.left=$(left)"
ip link del osphc0ffee
rm /run/netns/osp-c0ffee
echo "control.after=$(left)"

rc=0; "$SHIM" doctor --probes=netns >"$OSS_TMP/doctor.out" 2>&1 || rc=$?
echo "doctor.rc=$rc"
echo "doctor.left=$(left)"
echo "doctor.netns=$(grep -oE "^netns +[a-z]+" "$OSS_TMP/doctor.out" | awk "{print \$2}")"

rc=0; "$SHIM" --probes=netns --report="$OSS_TMP/short.json" -- /bin/true 2>"$OSS_TMP/short.err" || rc=$?
echo "short.rc=$rc"
echo "short.left=$(left)"

"$SHIM" --probes=netns --report="$OSS_TMP/long.json" -- sleep 1.5 2>"$OSS_TMP/long.err" &
pid=$!
for ((i = 0; i < 300; i++)); do grep -q "\"state\":\"running\"" "$OSS_TMP/long.json" 2>/dev/null && break; sleep 0.01; done
if wait_none; then echo "long.teardown_while_running=$(kill -0 $pid 2>/dev/null && echo yes || echo no)"; else echo "long.teardown_while_running=timeout:$(left)"; fi
sleep 0.2
echo "long.zombies=$(ps -o stat= --ppid $pid | grep -c Z || true)"
rc=0; wait $pid || rc=$?
echo "long.rc=$rc"
echo "long.left=$(left)"
' >"$OSS_TMP/res" 2>"$OSS_TMP/res.err" || { cat "$OSS_TMP/res" "$OSS_TMP/res.err"; oss_fail "the namespace script failed"; }
cat "$OSS_TMP/res"
r() { oss_kv "$OSS_TMP/res" "$1"; }
e2e_check "control: hand-made leftovers are seen" "osphc0ffee,ospsc0ffee,osp-c0ffee" "$(r control.left)"
e2e_check "control: and gone after removal" "" "$(r control.after)"
e2e_check "doctor exit" 0 "$(r doctor.rc)"
e2e_check "doctor: netns supported (verdict before teardown)" supported "$(r doctor.netns)"
e2e_check "doctor: nothing left at exit" "" "$(r doctor.left)"
e2e_check "short child: exit" 0 "$(r short.rc)"
e2e_check "short child: nothing left at exit" "" "$(r short.left)"
e2e_check "short child: netns probe" "supported - -" "$(probe_sig "$OSS_TMP/short.json" netns)"
e2e_check "long child: teardown done while the supervisor runs" yes "$(r long.teardown_while_running)"
e2e_check "long child: no zombie under the shim" 0 "$(r long.zombies)"
e2e_check "long child: exit" 0 "$(r long.rc)"
e2e_check "long child: nothing left" "" "$(r long.left)"
e2e_check "long child: teardown child not counted as an orphan" 0 "$(jget "$OSS_TMP/long.json" supervisor.reaped_orphans)"
e2e_check "long child: no teardown warning" "" "$(grep -i teardown "$OSS_TMP/long.err" || true)"
e2e_finish
