#!/bin/bash
# netns/ under gVisor: the supervisor's sequence run as the container
# process of `runsc --network=none`.  With all capabilities it must fail
# cleanly at the veth step with EOPNOTSUPP (docs/platform/gvisor.md,
# "Refusals during the supervisor's bootstrap"); with Substrate's
# three capabilities at ns_create with EPERM.  Either way the error names
# the step.
set -u
TOOL="$OSS_BUILD_DIR/tests/netns/netns_tool"
command -v runsc >/dev/null || { echo "SKIP: runsc not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: runsc needs root here"; exit 77; }
[ -x "$TOOL" ] || { echo "FAIL: $TOOL not built"; exit 1; }
if [ "${OSS_SANITIZE:-0}" = 1 ]; then
    # ASan's shadow mapping and LeakSanitizer's ptrace do not run in gVisor.
    echo "SKIP: sanitizer build; the runsc check runs on the plain build"; exit 77
fi

work=$(mktemp -d /tmp/oss-netns-runsc.XXXXXX)
root="$work/root"
ids=()
cleanup() {
    for id in "${ids[@]}"; do runsc --root "$root" delete -force "$id" >/dev/null 2>&1; done
    rm -rf "$work"
}
trap cleanup EXIT

source "$OSS_SOURCE_DIR/tests/netns/oci_bundle.sh"

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# run_case NAME CAPS... : runs the tool's ensure in a fresh sandbox, prints
# its output.
run_case() {
    local name=$1; shift
    local id="oss-netns-$$-$name"
    ids+=("$id")
    mkdir -p "$work/$name"
    oci_bundle_config "$work/$name/config.json" "$*" \
        "$TOOL" ensure sandbox-0badcafe veth-h-0badcafe veth-s-0badcafe \
        10.200.0.1/24 10.200.0.2/24 10.200.0.1
    timeout 120 runsc --root "$root" --network=none run -bundle "$work/$name" "$id" 2>"$work/$name.stderr"
    echo "rc=$?"
}

out=$(run_case allcaps "$OCI_ALL_CAPS")
echo "all caps: $out"
grep -q '"step":"veth"' <<<"$out" && grep -q '"errno":"EOPNOTSUPP"' <<<"$out" \
    && grep -q 'netns step veth' <<<"$out" && grep -q 'rc=1' <<<"$out" \
    || fail "all caps: expected a clean failure at veth with EOPNOTSUPP"
# Rolled back inside the sandbox: the namespace this call made is gone.
grep -q '"left_ns":false,"left_host_if":false,"left_peer_if":false' <<<"$out" \
    || fail "all caps: something was left behind in the sandbox"

out=$(run_case substrate "CAP_AUDIT_WRITE CAP_KILL CAP_NET_BIND_SERVICE")
echo "substrate caps: $out"
grep -q '"step":"ns_create"' <<<"$out" && grep -q '"errno":"EPERM"' <<<"$out" \
    && grep -q 'netns step ns_create' <<<"$out" && grep -q 'rc=1' <<<"$out" \
    || fail "substrate caps: expected a clean failure at ns_create with EPERM"

# Control for the left_* checks: inside gVisor, netns_exists() does see a
# namespace it made, and stops seeing it after deletion.
id="oss-netns-$$-nscycle"; ids+=("$id"); mkdir -p "$work/nscycle"
oci_bundle_config "$work/nscycle/config.json" "$OCI_ALL_CAPS" "$TOOL" nscycle ossnscycle
out=$(timeout 120 runsc --root "$root" --network=none run -bundle "$work/nscycle" "$id" 2>&1)
echo "nscycle: $out"
grep -q "before=0 during=1 after=0" <<<"$out" || fail "control: netns_exists() cannot see namespaces in gVisor"

# Snapshots work through gVisor's netlink (dumps need the sequence check
# off): --network=none shows lo with 127.0.0.1/8.
id="oss-netns-$$-snap"; ids+=("$id"); mkdir -p "$work/snap"
oci_bundle_config "$work/snap/config.json" "$OCI_ALL_CAPS" "$TOOL" snapshot
out=$(timeout 120 runsc --root "$root" --network=none run -bundle "$work/snap" "$id" 2>&1)
echo "snapshot: $out"
/usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert any(l["name"] == "lo" for l in d["links"]), "no lo"
assert any(a["ifname"] == "lo" and a["cidr"] == "127.0.0.1/8" for a in d["addrs"]), "no 127.0.0.1/8"
' "$out" || fail "snapshot under gVisor"

# Control: the harness really runs the program and passes its verdict
# through (a usage error must come back as rc=2, not as a pass).
id="oss-netns-$$-control"; ids+=("$id"); mkdir -p "$work/control"
oci_bundle_config "$work/control/config.json" "$OCI_ALL_CAPS" "$TOOL" bogus
timeout 120 runsc --root "$root" --network=none run -bundle "$work/control" "$id" >/dev/null 2>&1
rc=$?
[ $rc = 2 ] || fail "control: a usage error in the sandbox gave rc=$rc, expected 2"

[ $fails = 0 ] && { echo "PASS"; exit 0; }
for f in "$work"/*.stderr; do echo "--- $f"; tail -5 "$f"; done
exit 1
