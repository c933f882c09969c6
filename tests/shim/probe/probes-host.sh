# On the host kernel as root every probe answers "supported"; the report and
# doctor output are well-formed; a control (an identity switch that cannot
# work) shows the probes can say no.
# In a network and mount namespace of its own (tests/lib/private_netns.sh),
# so its leftover check cannot see another test's probe.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need_root
. "$(dirname "$0")/../../lib/private_netns.sh"
oss_in_private_netns "$0" "$@"

probes=all
subs="netns seccomp landlock privdrop"

out=$("$PR" --probes $probes) || fail "probe-run exited $?"
for s in $subs; do
    expect "$out" probe.$s supported host
    expect "$out" verdict.$s ok host
done
expect "$out" refused 0 host
expect "$out" fallback.active 0 "host (auto: supervisor filter loads)"
expect "$out" seccomp.flags_ok 15 "host accepts flags 0,TSYNC,LOG,NEW_LISTENER"
abi=$(kv "$out" landlock.abi)
[[ "$abi" -ge 1 ]] && ok "landlock abi $abi" || fail "landlock abi '$abi' (errno $(kv "$out" errno.landlock))"
expect "$out" env.OPENSHELL_SHIM_REPORT "set /run/openshell/bootstrap.json" host
[[ -z $(kv "$out" env.OPENSHELL_BEST_EFFORT_FAILURES) ]] && ok "no BEST_EFFORT when nothing degraded" \
    || fail "BEST_EFFORT set with nothing degraded"

# netns probe leaves nothing behind
if [[ $probes == all ]]; then
    left=$( (ip netns list; ip -o link) 2>/dev/null | grep -E 'osp-|osph|osps' || true)
    [[ -z "$left" ]] && ok "netns probe cleaned up" || fail "netns probe left: $left"
fi

# report JSON: written atomically where asked, keys and types as documented
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$PR" --probes $probes --report "$tmp/x/y/bootstrap.json" --write-report || fail "write-report"
"$PY" - "$tmp/x/y/bootstrap.json" "$probes" <<'PYEOF' && ok "report schema" || fail "report schema"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "openshell-shim.bootstrap/v1"
assert isinstance(r["shim_version"], str) and r["generation"] == 1
b = r["bootstrap"]
for k in ("policy", "runtime", "probes", "decisions", "outcome", "refusal", "fallback_seccomp", "env", "timings_us"):
    assert k in b, k
assert b["outcome"] == "ok" and b["refusal"] is None
subs = ["netns", "seccomp", "landlock", "privdrop"] if sys.argv[2] == "all" else sys.argv[2].split(",")
for s in subs:
    assert b["probes"][s]["status"] == "supported", (s, b["probes"][s])
    assert b["decisions"][s] == "ok"
    assert isinstance(b["timings_us"][s], int) and b["timings_us"][s] > 0
assert b["probes"]["seccomp"]["flags"] == {"none": "accepted", "tsync": "accepted", "log": "accepted", "new_listener": "accepted"}
assert b["probes"]["landlock"]["abi"] >= 1
# --netns-probe=auto on a Linux kernel: the peer is created inside
assert b["policy"]["netns_probe"] == "auto"
if "netns" in subs:
    assert b["probes"]["netns"]["peer"] == "created_inside", b["probes"]["netns"]
assert b["runtime"]["gvisor"] is False and b["runtime"]["uid"] == 0
assert set(b["runtime"]["nofile"]) == {"soft", "hard"}
fb = b["fallback_seccomp"]
assert fb["mode"] == "auto" and fb["active"] is False and fb["syscalls"] == 0
assert [e["name"] for e in b["env"]] == ["OPENSHELL_SHIM_REPORT"]
kinds = [e["kind"] for e in r["events"]]
assert kinds == ["test", "reprobe"], kinds
rp = r["events"][1]["data"]
assert rp["changed"] == [], rp["changed"]
assert "netns" not in rp["probes"] and "seccomp" in rp["probes"]
PYEOF
[[ $(stat -c %a "$tmp/x/y/bootstrap.json") == 644 ]] && ok "report mode 0644" || fail "report mode"

# doctor
# (--run-as: a CI host has no "sandbox" user, without which every upstream
# supervisor exits at its user check and the verdict says so)
d=$("$PR" --probes $probes --run-as 65534:65534 --doctor); rc=$?
[[ $rc == 0 ]] && ok "doctor exit 0" || fail "doctor exit $rc"
grep -q "would start with every probed protection" <<<"$d" && ok "doctor verdict line" || fail "doctor: $d"
"$PR" --probes $probes --run-as 65534:65534 --doctor-json | "$PY" -c 'import json,sys; r=json.load(sys.stdin); assert r["bootstrap"]["outcome"]=="ok"' \
    && ok "doctor --json parses" || fail "doctor --json"

# Reprobe sees what changed after bootstrap (here: a filter that appears
# after prepare, as a restore into another runtime would show).
"$PR" --probes seccomp,landlock,privdrop --reprobe --inject-after 'landlock_create_ruleset:ENOSYS,seccomp@a1&0x2:EINVAL' \
  | "$PY" -c '
import json, sys
r = json.load(sys.stdin)
ch = r["changed"]
assert "landlock" in ch and "seccomp" in ch and "runtime.seccomp" in ch and "runtime.no_new_privs" in ch, ch
assert "privdrop" not in ch, ch
assert r["probes"]["landlock"]["errno_name"] == "ENOSYS"
assert r["probes"]["seccomp"]["flags"]["log"] == "EINVAL"
' && ok "reprobe reports what changed" || fail "reprobe changes"

# Explicit fallback on the host: LOG is accepted here, so it is used; the
# filter installs and denies the prelude list in the exec'd program.
out=$("$PR" --probes seccomp --fallback prelude)
expect "$out" fallback.active 1 "fallback=prelude on host"
expect "$out" fallback.flags 2 "fallback=prelude on host uses LOG"
o=$("$PR" --probes seccomp --fallback prelude --exec -- "$SYSTRY" umount2 getpid)
expect "$o" umount2 EPERM "fallback=prelude on host"
expect "$o" getpid OK "fallback=prelude on host"
o=$("$PR" --probes seccomp --exec -- "$SYSTRY" umount2)
expect "$o" umount2 ENOENT "control(auto on host: no filter)"

# Control: the probes can say no on this host.  As uid 65534 a switch to
# 1234:1234 must fail at setgroups with EPERM, and strict policy refuses.
if command -v setpriv >/dev/null; then
    out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$PR" --probes privdrop --run-as 1234:1234)
    expect "$out" probe.privdrop unsupported "control(non-root)"
    expect "$out" step.privdrop setgroups "control(non-root)"
    expect "$out" errno.privdrop EPERM "control(non-root)"
    expect "$out" verdict.privdrop fatal "control(non-root)"
    grep -q -- "--degrade=privdrop" <<<"$(kv "$out" refusal)" && ok "refusal names the flag" || fail "refusal: $(kv "$out" refusal)"
    setpriv --reuid 65534 --regid 65534 --clear-groups "$PR" --probes privdrop --run-as 1234:1234 --doctor >/dev/null
    rc=$?; [[ $rc == 124 ]] && ok "doctor exits 124 when refused" || fail "doctor exit $rc, want 124"
    # already that identity: nothing to switch, supported
    out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$PR" --probes privdrop)
    expect "$out" probe.privdrop supported "already 65534"
else
    fail "setpriv missing (util-linux)"
fi
finish
