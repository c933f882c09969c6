#!/usr/bin/env bash
# oss-orphans N creates N orphans that are re-parented to the nearest child
# subreaper: a Python subreaper runs it and finds exactly N children it did not
# fork (alive while --linger-ms holds them, then zombies), and reaps exactly N.
# The zombie count before reaping is the control a reaping test relies on:
# a parent that does not reap is left with N zombies.
source "$OSS_SOURCE_DIR/tests/lib/common.sh"
orph=$(oss_helper oss-orphans)

run() { # run N LINGER_MS -> "printed alive_after zombies_before reaped"
    "$OSS_PYTHON" - "$orph" "$1" "$2" <<'PY'
import ctypes, os, subprocess, sys, time
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_CHILD_SUBREAPER = 36
assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
me = os.getpid()
out = subprocess.run([sys.argv[1], sys.argv[2], "--linger-ms", sys.argv[3]],
                     capture_output=True, text=True, timeout=60).stdout.strip()

def children(state=None):
    n = 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            stat = open("/proc/%s/stat" % p).read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == me and (state is None or fields[0] == state):
            n += 1
    return n

alive = children() - children("Z")
deadline = time.monotonic() + 30
want = int(sys.argv[2])
while children("Z") < want and time.monotonic() < deadline:
    time.sleep(0.05)
zombies = children("Z")
reaped = 0
while True:
    try:
        pid, _ = os.waitpid(-1, 0)
    except ChildProcessError:
        break
    reaped += 1
print(out, alive, zombies, reaped)
PY
}

read -r printed alive zombies reaped < <(run 200 1000)
oss_assert_eq orphans=200 "$printed" "printed count"
oss_assert_eq 200 "$alive" "orphans alive and re-parented while lingering"
oss_assert_eq 200 "$zombies" "zombies left to a non-reaping subreaper (control)"
oss_assert_eq 200 "$reaped" "orphans reaped by the subreaper"

read -r printed alive zombies reaped < <(run 1000 0)
oss_assert_eq orphans=1000 "$printed" "printed count (1000)"
oss_assert_eq 1000 "$reaped" "1000 orphans reaped"

rc=0
"$orph" >/dev/null 2>&1 || rc=$?
oss_assert_eq 125 "$rc" "no N"
rc=0
"$orph" 5 --linger-ms x >/dev/null 2>&1 || rc=$?
oss_assert_eq 125 "$rc" "bad --linger-ms"
echo PASS
