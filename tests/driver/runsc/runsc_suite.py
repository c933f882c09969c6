#!/usr/bin/python3
"""Suites of the runsc backend, driven through the driver's gRPC socket by
the gateway model (tests/driver/gateway_model.py: creates, stops, starts and
deletes as the upstream gateway does, and applies every snapshot by its
rules; stubs from the protos tests/lib/protos.py picks, via
tests/driver/gateway_client.py).  Run by runsc_backend.sh, which prepares
the driver command, the root filesystems and the cleanup.

  runsc_suite.py --reference DIR --socket PATH --driver CMD --state-dir DIR SUITE

Suites: cycles (stop/start N times, memory intact, new address each time),
two (two sandboxes at once), restart (restore after the driver restarted),
crash (SIGKILL at every step of create/stop/start/delete, then recovery),
killpoints (SIGKILL at random moments inside a running checkpoint and a
running restore), badinput (clear errors, nothing created), hostfiles (a
caller trying to read host files: another sandbox's token, /etc/shadow),
connections (TCP connections held open across a Stop), golden (a
golden-style first boot).  Each ends with a leak check.
"""

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import gateway_client as gc  # noqa: E402
import gateway_model as gm  # noqa: E402
from gateway_client import Failed, check, log  # noqa: E402

WORKLOAD_PORT = 9090
FREEZE_S = 2.5  # above the shim's freeze threshold (2 s)


def state_tag(state_dir):
    """drv_runsc_state_tag: FNV-1a of the state dir, 5 hex digits."""
    h = 2166136261
    for b in state_dir.encode():
        h = ((h ^ b) * 16777619) & 0xffffffff
    return "%05x" % (h & 0xfffff)


def host_of(sb):
    m = re.match(r"http://([0-9.]+):(\d+)", sb.status.sandbox_fd)
    if not m:
        raise Failed(f"sandbox {sb.id} has no address ({sb.status.sandbox_fd!r})")
    return m.group(1), int(m.group(2))


def counter(host, timeout=5.0):
    """oss-counter's line; the client closes first (docs/platform/gvisor.md,
    "Checkpoint and restore")."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            s = socket.create_connection((host, WORKLOAD_PORT), timeout=1)
            line = s.makefile("rb").readline().decode().strip()
            s.close()
            m = re.search(r"token=([0-9a-f]+) count=(\d+)", line)
            if m:
                return m.group(1), int(m.group(2))
            last = line
        except OSError as e:
            last = e
        time.sleep(0.05)
    raise Failed(f"workload at {host}:{WORKLOAD_PORT} does not answer ({last})")


def status(host, port):
    with urllib.request.urlopen(f"http://{host}:{port}/status", timeout=5) as r:
        return json.load(r)


class Ctx:
    def __init__(self, args, tmp):
        self.args = args
        self.tmp = tmp
        self.tag = state_tag(args.state_dir)
        import compute_driver_pb2 as pb
        import grpc
        self.pb = pb
        self.grpc = grpc
        self.drv = None
        self.model = None

    def start(self, extra_env=None, extra_args=()):
        self.drv = gc.Driver(self.args, self.tmp, extra_env=extra_env, extra_args=extra_args)
        # The gateway model is the peer for every lifecycle call; like a
        # gateway it outlives driver restarts and re-opens its watch on the
        # new driver (2 s after the old stream failed).
        if self.model is None:
            self.model = gm.GatewayModel(self.drv.stub, self.pb, log=log)
            self.model.start_watch()
        else:
            self.model.stub = self.drv.stub
        return self.drv

    def wait_phase(self, sid, phase, timeout=120):
        m = self.model
        if not m.wait_phase(sid, phase, timeout):
            raise Failed(f"gateway model: {sid} never became {phase} (is {m.phase(sid)}; "
                         f"apply errors {m.apply_errors[-3:]})")

    def close_model(self):
        """The model's verdict on the whole suite: every snapshot applied."""
        m = self.model
        if m is None:
            return
        m.close()
        if m.lock_holds:
            log(f"gateway model: CreateSandbox held the global lock up to "
                f"{m.max_lock_hold() * 1000:.0f} ms over {len(m.lock_holds)} creates "
                f"(goal < 200 ms)")
        check(not m.apply_errors,
              f"gateway model: every driver snapshot applied ({m.apply_errors[:3]})")

    def stub(self):
        return self.drv.stub

    def create(self, sid, image=None, timeout=120, command=None, token="", env=None):
        """As a gateway user: create (a name distinct from the id), then wait
        until the gateway shows the sandbox Ready."""
        # the gateway refuses a user's name over 19 bytes (see gateway_model.validate_name)
        name = f"{sid}-name" if len(sid) <= 14 else \
            "n-" + hashlib.sha256(sid.encode()).hexdigest()[:12]
        envs = dict(json.loads(self.args.env_json or "{}"))
        envs.update(env or {})
        sb = gc.make_sandbox(self.pb, sid, image or self.args.image, name=name, token=token,
                             env=envs)
        if command:
            sb.spec.command[:] = command
        elif self.args.workload:
            # a gateway never sends an empty command (it fills in a login
            # shell): name the workload as a user would
            sb.spec.command[:] = json.loads(self.args.workload)
        self.model.create(sb, timeout=timeout)
        self.wait_phase(sid, gm.READY, timeout)
        return self.get(sid)

    def sbdir(self, sid):
        return os.path.join(self.args.state_dir, "runsc", "sandboxes", sid)

    def console(self, sid, marker, timeout=20):
        """The sandbox's console log once it shows marker."""
        path = os.path.join(self.sbdir(sid), "console.log")
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            try:
                with open(path, errors="replace") as f:
                    text = f.read()
            except OSError:
                text = ""
            if marker in text:
                return text
            time.sleep(0.1)
        raise Failed(f"{sid}: console never showed {marker!r}: {text[-800:]!r}")

    def runsc_cli(self):
        """runsc commands (not sandboxes or gofers) running on this root."""
        root = os.path.join(self.args.state_dir, "runsc", "root")
        found = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
                with open(f"/proc/{p}/stat") as f:
                    zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
            except OSError:
                continue
            if zombie or f"--root={root}" not in argv:
                continue
            if not ({"boot", "gofer"} & set(argv)):
                found.append(" ".join(argv)[:160])
        return found

    def container_state(self, sid):
        root = os.path.join(self.args.state_dir, "runsc", "root")
        cid = f"ossr{self.tag}-{sid}"
        out = subprocess.run([self.args.runsc, f"--root={root}", "state", cid],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            return "missing"
        return json.loads(out.stdout[out.stdout.index("{"):])["status"]

    def start_and_watch(self, extra_env=None):
        """start(), then wait (bounded) until the gateway model's watch is
        open on the new driver, as a gateway's is 2 s after the old stream
        failed: a Deleted event sent before would reach no model."""
        had_model = self.model is not None
        drv = self.start(extra_env)
        if not had_model:
            return drv
        m = self.model
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            # an open made after the new stub was in place, and still open
            # half a second later (not one more failure since)
            opens, fails = len(m.watch_opens), len(m.watch_failures)
            while len(m.watch_opens) == opens and time.monotonic() < deadline:
                time.sleep(0.05)
            fails = len(m.watch_failures)
            time.sleep(0.5)
            if len(m.watch_failures) == fails:
                return drv
        raise Failed("gateway model: its watch did not re-open on the new driver")

    def create_nowait(self, sid, image=None, name=None, timeout=30):
        """CreateSandbox through the gateway model: it answers once the
        sandbox is recorded; Ready comes later through the watch."""
        sb = gc.make_sandbox(self.pb, sid, image or self.args.image, name=name or f"{sid}-name")
        if self.args.workload:
            sb.spec.command[:] = json.loads(self.args.workload)
        self.model.create(sb, timeout=timeout)

    def create_direct(self, sid, image=None, timeout=30):
        """CreateSandbox straight to the driver (a contract check no gateway
        would make: the same id twice)."""
        sb = gc.make_sandbox(self.pb, sid, image or self.args.image, name=f"{sid}-name")
        self.stub().CreateSandbox(self.pb.CreateSandboxRequest(sandbox=sb), timeout=timeout)

    def wait_get_phase(self, sid, want="Ready", timeout=120):
        """Polls Get (bounded) until the phase is `want`; Error is final."""
        deadline = time.monotonic() + timeout
        while True:
            sb = self.get(sid)
            ph = gc.gateway_phase(sb)
            if ph == want:
                return sb
            if (ph == "Error" and want != "Error") or time.monotonic() > deadline:
                raise Failed(f"{sid}: {ph} instead of {want} "
                             f"({[(c.type, c.reason, c.message) for c in sb.status.conditions]})")
            time.sleep(0.05)

    def get(self, sid):
        return self.stub().GetSandbox(self.pb.GetSandboxRequest(sandbox_id=sid), timeout=10).sandbox

    def code_of_get(self, sid):
        return gc.code_of(lambda: self.get(sid))[0]

    def stop(self, sid):
        # the gateway stops only a Ready sandbox (mod.rs:1033): wait for it
        # as a user would, after a driver restart too
        # (a Stopping row is retried as it is, mod.rs:1039-1042: after a
        # driver died mid-stop the row stays Stopping while the sandbox runs)
        if self.model.phase(sid) not in (gm.STOPPED, gm.STOPPING):
            self.wait_phase(sid, gm.READY, 60)
        self.model.stop(sid)
        self.wait_phase(sid, gm.STOPPED, 60)

    def startsb(self, sid):
        # the gateway starts only what it has as Stopped (mod.rs:1185) and
        # treats a Start of a Ready row as done: wait until its store agrees
        # (after a driver restart its watch re-opens 2 s later)
        if self.model.phase(sid) not in (gm.STOPPED, gm.STARTING):
            self.wait_phase(sid, gm.STOPPED, 60)
        self.model.start(sid)
        self.wait_phase(sid, gm.READY, 120)

    def delete(self, sid):
        deleted = self.model.delete(sid)
        if deleted and not self.model.wait_gone(sid, 60):
            raise Failed(f"gateway model: no Deleted event for {sid}")
        return deleted

    def list_ids(self):
        return sorted(x.id for x in self.stub().ListSandboxes(
            self.pb.ListSandboxesRequest(), timeout=10).sandboxes)

    def leaks(self):
        """What this driver's state dir still owns outside the driver."""
        found = []
        root = os.path.join(self.args.state_dir, "runsc", "root")
        out = subprocess.run([self.args.runsc, f"--root={root}", "list", "-quiet"],
                             capture_output=True, text=True, timeout=60)
        found += [f"container {x}" for x in out.stdout.split() if x]
        if os.path.isdir("/run/netns"):
            found += [f"netns {x}" for x in os.listdir("/run/netns")
                      if x.startswith(f"ossr-{self.tag}-")]
        found += [f"link {x}" for x in os.listdir("/sys/class/net")
                  if x.startswith(f"orh{self.tag}") or x.startswith(f"ors{self.tag}")]
        sbdir = os.path.join(self.args.state_dir, "runsc", "sandboxes")
        if os.path.isdir(sbdir):
            found += [f"state dir {x}" for x in os.listdir(sbdir)]
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if root in cmd:
                found.append(f"process {p}: {cmd[:120]}")
        with open("/proc/self/mountinfo") as f:
            found += [f"mount {ln.split()[4]}" for ln in f if self.args.state_dir in ln]
        return found

    def check_no_leaks(self, what):
        deadline = time.monotonic() + 10
        left = self.leaks()
        while left and time.monotonic() < deadline:  # runsc processes exit asynchronously
            time.sleep(0.2)
            left = self.leaks()
        check(not left, f"{what}: nothing leaked ({left})")


def suite_cycles(ctx, n):
    ctx.start()
    sid = "cyc"
    sb = ctx.create(sid)
    host, port = host_of(sb)
    token, count = counter(host)
    log(f"created {sid} at {host}: token {token} count {count}")
    stops, starts, addrs = [], [], {host}
    for i in range(n):
        t0 = time.monotonic()
        ctx.stop(sid)
        t1 = time.monotonic()
        check(gc.gateway_phase(ctx.get(sid)) == "Stopped", f"cycle {i + 1}: Stopped")
        # suspended for a while, as on Substrate: the identity file holds the
        # same name after every restore (as Substrate writes it), so the shim
        # tells a restore by the freeze (its 2 s threshold), as it must there
        time.sleep(FREEZE_S)
        ts = time.monotonic()
        ctx.startsb(sid)
        t2 = time.monotonic()
        stops.append((t1 - t0) * 1000)
        starts.append((t2 - ts) * 1000)
        sb = ctx.get(sid)
        check(gc.gateway_phase(sb) == "Ready", f"cycle {i + 1}: Ready again")
        nhost, _ = host_of(sb)
        check(nhost != host, f"cycle {i + 1}: restored on a new address ({host} -> {nhost})")
        t, c = counter(nhost)
        check(t == token and c >= count,
              f"cycle {i + 1}: memory intact (token {t}, count {count} -> {c})")
        st = status(nhost, port)
        check(st.get("generation") == i + 1,
              f"cycle {i + 1}: the shim saw restore number {st.get('generation')}")
        addrs.add(nhost)
        host, count = nhost, c
    last = status(host, port)["restore"]["last"]
    check(last["network"]["changes"] > 0 and last["reason"] in ("timer", "readyz"),
          f"the shim's last restore record shows the freeze ({last['reason']}) and the "
          "network change")
    # the identity as Substrate writes it: the actor's name, raw, no newline
    # (docs/platform/substrate.md, the identity file), unchanged by restores
    with open(os.path.join(ctx.sbdir(sid), "ate", "actor-id"), "rb") as f:
        check(f.read() == sid.encode(), "/run/ate/actor-id holds the raw actor name")
    check(not last["identity_changed"] and last["identity_after"]["id"] == sid,
          f"the shim read the same identity after the restore ({last['identity_after']})")
    # CONTROL: a cold start (delete + create) does not keep memory: the
    # token check above can fail
    check(ctx.delete(sid), "delete")
    sb = ctx.create(sid)
    t, _ = counter(host_of(sb)[0])
    check(t != token, f"control: a re-created sandbox has a new token ({t} != {token})")
    check(ctx.delete(sid), "delete again")
    rc = ctx.drv.stop()
    check(rc == 0, f"driver exited 0 ({rc})")
    ctx.check_no_leaks("after the cycles")
    print(f"bench.stop_ms_median={statistics.median(stops):.0f}")
    print(f"bench.start_ms_median={statistics.median(starts):.0f}")
    print(f"bench.cycles={n} addresses_used={len(addrs)}")


def suite_two(ctx):
    ctx.start()
    res = {}

    def mk(sid):
        try:
            res[sid] = ctx.create(sid)
        except Exception as e:  # noqa: BLE001
            res[sid] = e
    ts = [threading.Thread(target=mk, args=(s,)) for s in ("twa", "twb")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for s in ("twa", "twb"):
        if isinstance(res[s], Exception):
            raise Failed(f"concurrent create of {s}: {res[s]}")
    ha, hb = host_of(res["twa"])[0], host_of(res["twb"])[0]
    check(ha != hb, f"two sandboxes, two addresses ({ha}, {hb})")
    ta, tb = counter(ha)[0], counter(hb)[0]
    check(ta != tb, "two sandboxes, two workloads (different tokens)")
    ctx.stop("twa")
    check(counter(hb)[0] == tb, "stopping one leaves the other serving")
    check(ctx.list_ids() == ["twa", "twb"], "List shows both")
    ctx.startsb("twa")
    check(counter(host_of(ctx.get("twa"))[0])[0] == ta, "the restarted one kept its memory")
    check(ctx.delete("twa") and ctx.delete("twb"), "both deleted")
    check(ctx.drv.stop() == 0, "driver exited 0")
    ctx.check_no_leaks("after two sandboxes")


def suite_tty(ctx):
    """The gateway's default main process, "/bin/bash -l" with tty, stays up:
    the container's stdin is /dev/null, and pull request 1549 hands its own
    stdin to the workload, so only the shim's --hold-stdin (which the driver
    asks for when tty is set) keeps the shell waiting (docs/shim.md, "As
    init").  The shim's /status says whether its child (the supervisor,
    which ends with its workload) still runs.  Control: the same shell
    without tty reads EOF and ends, and the supervisor with it."""
    ctx.start()
    m = ctx.model

    def settled(sid, timeout=30):
        """Waits until the gateway has sid as Ready or Error; returns the
        phase and the Ready condition's message."""
        deadline = time.monotonic() + timeout
        while m.phase(sid) not in (gm.READY, gm.ERROR) and time.monotonic() < deadline:
            time.sleep(0.05)
        cond = [c for c in ctx.get(sid).status.conditions if c.type == "Ready"]
        return m.phase(sid), (cond[0].message if cond else "")

    def supervisor_after_3s(sid):
        time.sleep(3)
        return status(*host_of(ctx.get(sid)))["supervisor"]

    # as the gateway sends it: no command, so the gateway's model fills in
    # ["/bin/bash", "-l"] with tty = true (sandbox.rs:226-229)
    sb = gc.make_sandbox(ctx.pb, "tty", ctx.args.image, name="tty-name")
    m.create(sb, timeout=120)
    ctx.wait_phase("tty", gm.READY, 120)
    sup = supervisor_after_3s("tty")
    check(m.phase("tty") == gm.READY and sup["state"] == "running",
          f"the login shell is still up 3 s after create (phase {m.phase('tty')}, "
          f"supervisor {sup})")
    ctx.stop("tty")
    ctx.startsb("tty")
    sup = supervisor_after_3s("tty")
    check(m.phase("tty") == gm.READY and sup["state"] == "running",
          f"the login shell is still up 3 s after a stop and start (phase {m.phase('tty')}, "
          f"supervisor {sup})")
    check(ctx.delete("tty"), "deleted")

    # control: the same shell without a terminal ends at EOF
    sb = gc.make_sandbox(ctx.pb, "notty", ctx.args.image, name="notty-name")
    sb.spec.command[:] = ["/bin/bash", "-l"]
    sb.spec.tty = False
    # The shell may end before the shim's readyz ever said 200: then readyz
    # says "supervisor gone" and the create fails at once with that reason;
    # or it ends just after, and the shim's /status says so.
    m.create(sb, timeout=30)
    phase, msg = settled("notty")
    if phase == gm.READY:
        sup = supervisor_after_3s("notty")
        check(sup["state"] != "running",
              f"control: without tty the shell read EOF and the supervisor ended ({sup})")
    else:
        check(phase == gm.ERROR and "supervisor gone" in msg,
              f"control: without tty the shell read EOF and the create failed at once "
              f"({phase}: {msg[:300]})")
    ctx.delete("notty")

    # A supervisor that ends before it is ever ready: the shim's readyz says
    # "supervisor gone" and the create fails with that reason at once, not
    # after the 60 s readyz deadline (docs/runsc-backend.md, readiness).  An
    # unknown OPENSHELL_SKIP_BOOTSTRAP token makes pull request 1549 exit 1
    # at start, before its proxy listens (the shim's ready condition), and
    # the shim never overrides the operator's value; a workload that merely
    # ends at once would race the readyz probe (its proxy listens first).
    sb = gc.make_sandbox(ctx.pb, "gone", ctx.args.image, name="gone-name",
                         env={"OPENSHELL_SKIP_BOOTSTRAP": "no-such-step"})
    sb.spec.command[:] = ["/bin/true"]
    t0 = time.monotonic()
    m.create(sb, timeout=30)
    phase, msg = settled("gone")
    took = time.monotonic() - t0
    check(phase == gm.ERROR and "supervisor gone" in msg and took < 15,
          f"a supervisor that ends at start fails the create in {took:.1f} s with the shim's "
          f"reason ({phase}: {msg[:300]})")
    ctx.delete("gone")
    check(ctx.drv.stop() == 0, "driver exited 0")
    ctx.check_no_leaks("after the tty sandboxes")


def suite_restart(ctx):
    ctx.start()
    ctx.create("rsa")
    ctx.create("rsb")
    ta = counter(host_of(ctx.get("rsa"))[0])[0]
    host_of_addr_cache = {"rsb": host_of(ctx.get("rsb"))[0]}
    tb = counter(host_of_addr_cache["rsb"])[0]
    ctx.stop("rsa")
    rc = ctx.drv.stop()  # SIGTERM: sandboxes outlive the driver
    check(rc == 0, "driver stopped with SIGTERM")
    check(counter(host_of_addr_cache["rsb"])[0] == tb,
          "with the driver stopped, the running sandbox still serves")
    ctx.start()
    ph = {x: gc.gateway_phase(ctx.get(x)) for x in ("rsa", "rsb")}
    check(ph == {"rsa": "Stopped", "rsb": "Ready"},
          f"after a driver restart: List/Get tell the truth ({ph})")
    check(counter(host_of(ctx.get("rsb"))[0])[0] == tb,
          "the running sandbox kept running across the driver restart")
    ctx.startsb("rsa")
    check(counter(host_of(ctx.get("rsa"))[0])[0] == ta,
          "restore after the driver restarted: memory intact")
    # and once more with SIGKILL
    ctx.drv.stop(signal.SIGKILL)
    ctx.start()
    check(gc.gateway_phase(ctx.get("rsa")) == "Ready", "after SIGKILL: still Ready")
    ctx.stop("rsa")
    ctx.startsb("rsa")
    check(counter(host_of(ctx.get("rsa"))[0])[0] == ta, "stop/start after SIGKILL: memory intact")
    check(ctx.delete("rsa") and ctx.delete("rsb"), "deleted")
    check(ctx.drv.stop() == 0, "driver exited 0")
    ctx.check_no_leaks("after the restarts")


STEPS = ["create:after-record", "create:after-netns", "create:after-run",
         "stop:after-record", "stop:after-checkpoint",
         "start:after-record", "start:after-restore",
         "delete:after-record", "delete:after-kill"]


def swallow(call):
    """Runs a call the test kills the driver under; its failure is expected."""
    import grpc
    try:
        call()
    except (gm.GatewayError, Failed, grpc.RpcError):
        pass


def suite_crash(ctx, steps):
    marker = os.path.join(ctx.args.state_dir, "runsc", "test-paused")
    for step in steps:
        op = step.split(":")[0]
        sid = "cr-" + step.replace(":", "-").replace("after-", "")
        log(f"--- SIGKILL at {step}")
        ctx.start(extra_env={"OSS_RUNSC_TEST_PAUSE": step})
        token = None
        if op != "create":
            ctx.create(sid)
            token = counter(host_of(ctx.get(sid))[0])[0]
            if op == "start":
                ctx.stop(sid)
        call = {"create": lambda: ctx.create(sid), "stop": lambda: ctx.stop(sid),
                "start": lambda: ctx.startsb(sid), "delete": lambda: ctx.delete(sid)}[op]
        t = threading.Thread(target=lambda: swallow(call), daemon=True)
        t.start()
        deadline = time.monotonic() + 60
        while not os.path.exists(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        check(os.path.exists(marker), f"{step}: the backend paused there")
        ph = gc.gateway_phase(ctx.get(sid))
        # a stop never shows Stopped before its checkpoint is whole (it can
        # still be refused): running, or busy (Ready only when free); every
        # other step shows the transition
        want_paused = (("Ready", "Provisioning") if step == "stop:after-record" else
                       ("Provisioning", "Stopped"))
        check(ph in want_paused, f"{step}: while paused the sandbox is {ph}")
        ctx.drv.stop(signal.SIGKILL)
        t.join(5)
        if step in ("create:after-netns", "create:after-run"):
            # CONTROL: the leak check sees what a dead driver left behind
            left = ctx.leaks()
            check(any(x.startswith("netns") for x in left),
                  f"control: before recovery the leak check finds leftovers ({left})")
        ctx.start_and_watch()
        code = ctx.code_of_get(sid)
        C = ctx.grpc.StatusCode
        if step == "create:after-record":
            # CreateSandbox never answered (the gateway drops its row when the
            # call fails): the restarted driver removes it
            check(code == C.NOT_FOUND, f"{step}: the unanswered create is gone ({code.name})")
            check(sid not in ctx.list_ids(), f"{step}: List agrees")
        elif op == "create":
            # the create answered OK: the sandbox stays, as a failed create
            # the gateway shows as Error, until Delete removes it
            sb = ctx.get(sid)
            ready = [c for c in sb.status.conditions if c.type == "Ready"]
            check(gc.gateway_phase(sb) == "Error" and ready and
                  ready[0].reason == "CreateFailed" and "create failed while" in ready[0].message,
                  f"{step}: after the restart a failed create "
                  f"({[(c.type, c.reason, c.message) for c in sb.status.conditions]})")
            check(sid in ctx.list_ids(), f"{step}: List agrees")
            check(not [x for x in ctx.leaks() if not x.startswith("state dir")],
                  f"{step}: only the record is left before Delete ({ctx.leaks()})")
            check(ctx.delete(sid), f"{step}: Delete of the failed create")
            check(ctx.code_of_get(sid) == C.NOT_FOUND, f"{step}: gone after Delete")
        elif op == "delete":
            check(code == C.NOT_FOUND, f"{step}: after the restart the sandbox is gone "
                                       f"({code.name})")
            check(sid not in ctx.list_ids(), f"{step}: List agrees")
        else:
            want = {"stop:after-record": "Ready", "stop:after-checkpoint": "Stopped",
                    "start:after-record": "Stopped", "start:after-restore": "Ready"}[step]
            ph = gc.gateway_phase(ctx.get(sid))
            check(ph == want, f"{step}: after the restart Get says {ph} (want {want})")
            check(sid in ctx.list_ids(), f"{step}: List agrees")
            if want == "Ready":
                check(counter(host_of(ctx.get(sid))[0])[0] == token,
                      f"{step}: the running sandbox answers with its memory")
                ctx.stop(sid)
            ctx.startsb(sid)
            check(counter(host_of(ctx.get(sid))[0])[0] == token,
                  f"{step}: Stop/Start after recovery: memory intact")
            ctx.stop(sid)
            ctx.startsb(sid)
            check(ctx.delete(sid), f"{step}: Delete after recovery")
        rc = ctx.drv.stop()
        check(rc == 0, f"{step}: the recovered driver exited 0 on SIGTERM ({rc})")
        ctx.check_no_leaks(f"{step}")


def conds(sb):
    return [(c.type, c.status, c.reason) for c in sb.status.conditions]


def attempt(fn):
    """"OK", or what went wrong (a gRPC status or the gateway model's error)."""
    try:
        fn()
        return "OK"
    except Exception as e:  # noqa: BLE001 -- RpcError or gm.GatewayError
        return f"{type(e).__name__}: {e}"


def suite_async(ctx, stops):
    """Create answers at once and progress goes through the watch; names are
    kept; Delete during a create; a repeated create in flight; Stop on the
    first Ready event; the shim's refusal ends a create at once."""
    C = ctx.grpc.StatusCode
    drv = ctx.start()
    w = gc.Watch(drv)
    name = "asy-box-7q"  # the user's name, not the id (at most 19 bytes for a gateway)
    t0 = time.monotonic()
    ctx.create_nowait("asy", name=name)
    dt = (time.monotonic() - t0) * 1000
    sb = ctx.get("asy")
    check(sb.name == name and sb.status.sandbox_name == name, f"Get keeps the name ({sb.name!r})")
    check(gc.gateway_phase(sb) == "Provisioning", f"right after Create: {conds(sb)}")
    code, msg = gc.code_of(lambda: ctx.create_direct("asy"))
    check(code == C.ALREADY_EXISTS, f"a repeated create in flight: {code.name} {msg}")
    seq = []
    ev = w.wait_for(lambda e: (gc.is_sandbox("asy")(e) and
                               (seq.append(conds(e.sandbox.sandbox)) or True) and
                               gc.gateway_phase(e.sandbox.sandbox) in ("Ready", "Error")),
                    120, "asy Ready")
    check(gc.gateway_phase(ev.sandbox.sandbox) == "Ready", f"asy Ready ({seq})")
    check(all(e.sandbox.sandbox.name == name for e in [ev]), "watch events keep the name")
    check(not any(t == "Suspended" and st == "True" for c in seq for (t, st, _) in c),
          f"never Suspended before the first Ready ({seq})")
    log(f"create answered in {dt:.0f} ms; lifecycle seen: {seq}")
    ctx.stop("asy")
    w.wait_for(gc.is_sandbox("asy", "Stopped"), 60, "asy Stopped")
    check(ctx.get("asy").name == name, "a stopped sandbox keeps its name")
    w.cancel()
    check(ctx.drv.stop() == 0, "driver stopped")
    drv = ctx.start_and_watch()
    check(ctx.get("asy").name == name, "the name survives a driver restart")
    check(any(x.id == "asy" and x.name == name for x in ctx.stub().ListSandboxes(
        ctx.pb.ListSandboxesRequest(), timeout=10).sandboxes), "List after restart: the name")
    check(ctx.delete("asy"), "deleted")

    # Delete during a create: at once, and a moment later (runsc run / readyz)
    for delay in (0.0, 0.4, 1.0):
        ctx.create_nowait("ddc")
        time.sleep(delay)
        outcome = attempt(lambda: ctx.delete("ddc"))
        check(outcome == "OK", f"delete {delay}s into a create answers OK ({outcome})")
        check(ctx.code_of_get("ddc") == C.NOT_FOUND, f"gone after delete ({delay}s)")
        ctx.check_no_leaks(f"delete {delay}s into a create")

    # Ready means free: Stop sent on the first Ready succeeds, whether the
    # Ready came as a watch event (even rounds) or from a tight Get poll (odd
    # rounds: it sees every moment the driver shows)
    ok = 0
    returns = []
    w = gc.Watch(drv)
    for i in range(stops):
        sid = f"sor{i}"
        t0 = time.monotonic()
        ctx.create_nowait(sid)
        returns.append((time.monotonic() - t0) * 1000)
        if i % 2 == 0:
            # the gateway's way: its model applies the watch's first Ready
            # and the user's Stop follows at once
            ctx.wait_phase(sid, gm.READY, 120)
            outcome = attempt(lambda: ctx.model.stop(sid))
        else:
            deadline = time.monotonic() + 120
            while gc.gateway_phase(ctx.get(sid)) != "Ready" and time.monotonic() < deadline:
                time.sleep(0.002)
            code, msg = gc.code_of(lambda: ctx.stub().StopSandbox(
                ctx.pb.StopSandboxRequest(sandbox_id=sid), timeout=120))
            outcome = "OK" if code == C.OK else f"{code.name} {msg}"
        if outcome == "OK":
            ok += 1
        else:
            log(f"{sid}: Stop on the first Ready: {outcome}")
        if i < 4 and outcome == "OK":
            # a Start after the create's thread was reaped must not inherit
            # its cancellation (its readyz wait would end at the first miss)
            outcome = attempt(lambda: ctx.startsb(sid))
            check(outcome == "OK" and gc.gateway_phase(ctx.get(sid)) == "Ready",
                  f"{sid}: Start after the first Stop ({outcome})")
        check(ctx.delete(sid), f"{sid} deleted")
    w.cancel()
    check(ok == stops, f"Stop on the first Ready event: {ok} of {stops} succeeded")
    if returns:
        print(f"bench.create_return_ms_median={statistics.median(returns):.1f} "
              f"(min {min(returns):.1f}, max {max(returns):.1f}, {len(returns)} creates)")
    check(ctx.drv.stop() == 0, "driver stopped")
    ctx.check_no_leaks("after the async suite")

    # The shim refuses to start (no degradation allowed, a protection this
    # machine's gVisor lacks): the create fails at once with its reason
    strict = ctx.args.driver.replace("--shim-degrade all", "--shim-degrade none")
    if strict == ctx.args.driver:
        raise Failed("cannot make the strict driver command")
    saved, ctx.args.driver = ctx.args.driver, strict
    try:
        # the watch open on the new driver first: a Delete now takes ~0.2 s,
        # less than the 2 s a gateway waits to re-open its watch
        ctx.start_and_watch()
        t0 = time.monotonic()
        ctx.create_nowait("ref")
        deadline = time.monotonic() + 60
        while gc.gateway_phase(ctx.get("ref")) == "Provisioning" and time.monotonic() < deadline:
            time.sleep(0.05)
        dt = time.monotonic() - t0
        sb = ctx.get("ref")
        ready = [c for c in sb.status.conditions if c.type == "Ready"]
        check(gc.gateway_phase(sb) == "Error" and ready and "refused" in ready[0].message,
              f"a refusing shim fails the create ({conds(sb)}: "
              f"{ready[0].message if ready else ''})")
        check(dt < 30, f"... well before the 60 s readiness deadline ({dt:.1f} s)")
        log(f"refusal reported after {dt:.1f} s: {ready[0].message if ready else ''}")
        check(ctx.delete("ref"), "deleted")
        check(ctx.drv.stop() == 0, "driver stopped")
    finally:
        ctx.args.driver = saved
    ctx.check_no_leaks("after the refusal")


def suite_badinput(ctx):
    ctx.start()
    C = ctx.grpc.StatusCode
    pb = ctx.pb
    cases = [
        ("unknown image", "bad1", "registry.example/nope:1", C.FAILED_PRECONDITION, "not available"),
        ("missing rootfs (dangling entry in rootfs_dir)", "bad2", "broken/rootfs",
         C.FAILED_PRECONDITION, "not available"),
        ("an id that is not a DNS label", "Bad_Id", ctx.args.image, C.INVALID_ARGUMENT,
         "DNS-1123"),
        ("a hidden rootfs name", "bad3", ".hidden", C.INVALID_ARGUMENT, "hidden"),
    ]
    for what, sid, image, want, text in cases:
        for rpc in ("ValidateSandboxCreate", "CreateSandbox"):
            sb = gc.make_sandbox(pb, sid, image)
            req = (pb.ValidateSandboxCreateRequest if rpc.startswith("Validate")
                   else pb.CreateSandboxRequest)(sandbox=sb)
            code, msg = gc.code_of(lambda: getattr(ctx.stub(), rpc)(req, timeout=30))
            check(code == want and text in msg, f"{rpc} refuses {what}: {code.name} \"{msg}\"")
        check(ctx.list_ids() == [], f"{what}: nothing created")
        ctx.check_no_leaks(what)
    # CONTROL: the same path accepts a good request
    ctx.create("good")
    check(ctx.list_ids() == ["good"], "control: a good create succeeds")
    check(ctx.delete("good"), "deleted")
    check(ctx.drv.stop() == 0, "driver exited 0")
    ctx.check_no_leaks("after bad input")


def code_of(fn):
    """(status code name, message) of a call through the gateway model or
    the driver's stub; ("OK", "") when it succeeds."""
    try:
        fn()
    except gm.GatewayError as e:
        return e.code, e.message
    except Exception as e:  # noqa: BLE001 -- grpc.RpcError
        if hasattr(e, "code") and callable(e.code):
            return e.code().name, e.details()
        raise
    return "OK", ""


def suite_hostfiles(ctx):
    """The red-team run: a caller of the driver's socket trying to read host
    files from inside its sandbox (another sandbox's token, /etc/shadow)."""
    with open("/etc/shadow", "rb") as f:
        shadow = hashlib.sha256(f.read()).hexdigest()
    ctx.start()
    secret = os.urandom(16).hex()
    ctx.create("victim", token=secret)
    tokpath = os.path.join(ctx.sbdir("victim"), "secrets", "sandbox-token")
    with open(tokpath) as f:
        check(f.read() == secret, "control: the victim's token is on the host at " + tokpath)
    # the measured attack: the word after "--" was taken for an executable
    # and its directory (under /tmp) bound into the sandbox
    attack = ["sh", "-c", 'cat "$1"; echo; sha256sum /etc/shadow; echo ATTACK-RAN; exec sleep 600',
              "--", tokpath]
    for what, image in (("the host's /", "local/host"),):
        code, msg = code_of(lambda: ctx.create("thief", image=image, command=attack))
        check(code == "FAILED_PRECONDITION" and "--runsc-host-rootfs" in msg,
              f"{what} is refused without the operator's flag: {code} \"{msg}\"")
        check(ctx.list_ids() == ["victim"], f"{what}: nothing created")
    # the same command in a root filesystem of its own runs, and sees neither
    ctx.create("thief", command=attack)
    out = ctx.console("thief", "ATTACK-RAN")
    check(secret not in out, "the thief does not read the victim's token")
    check(shadow not in out, "the thief does not hash the host's /etc/shadow")
    check("sandbox-token" in out or "No such file" in out,
          "the attack ran and cat found nothing (control that the command ran)")
    check(ctx.delete("thief"), "thief deleted")
    check(ctx.drv.stop() == 0, "driver exited 0")
    # CONTROL: the operator's flag (trusted single-user machines only) gives
    # the host's / -- the test sees the host's /etc/passwd, so it can fail --
    # but still binds nothing from the caller's command and hides the state
    # dir.  The supervisor as the suites' host configuration runs it (pull
    # request 1549's stand-in, as uid 65534).
    b = os.environ["OSS_BUILD_DIR"]
    src = os.environ["OSS_SOURCE_DIR"]
    with open("/etc/passwd", "rb") as f:
        passwd = hashlib.sha256(f.read()).hexdigest()
    ctx.start(extra_args=["--runsc-host-rootfs", "--shim-path", f"{b}/shim/openshell-shim",
                          "--supervisor-path", f"{b}/tests/standin/openshell-sandbox-standin",
                          "--runsc-user", "65534:65534"])
    statedir = ctx.args.state_dir
    look = ["sh", "-c", 'cat "$1"; echo; sha256sum /etc/passwd; ls -d "$2/runsc" 2>&1; '
            'echo ATTACK-RAN; exec sleep 600', "--", tokpath, statedir]
    # the policy files staged outside /tmp and /run, which the bundle's tmpfs
    # mounts hide (a checkout under /tmp), as runsc_backend.sh stages its own
    pol = tempfile.mkdtemp(prefix="oss-hostfiles-policy.", dir="/var/tmp")
    try:
        os.chmod(pol, 0o755)
        for f in ("sandbox.rego", "policy.yaml"):
            shutil.copy(f"{src}/tests/standin/policy/{f}", pol)
            os.chmod(os.path.join(pol, f), 0o644)
        ctx.create("thief2", image="local/host", command=look, env={
            "OPENSHELL_STANDIN_VARIANT": "pr1549", "OPENSHELL_STANDIN_RUN_AS": "65534:65534",
            "OPENSHELL_POLICY_RULES": f"{pol}/sandbox.rego",
            "OPENSHELL_POLICY_DATA": f"{pol}/policy.yaml"})
    finally:
        shutil.rmtree(pol, ignore_errors=True)
    out = ctx.console("thief2", "ATTACK-RAN")
    check(passwd in out, "control: with --runsc-host-rootfs the host's files are visible "
                         "(the flag's documented risk; the checks above can fail)")
    check(secret not in out and "No such file" in out.split("ATTACK-RAN")[0],
          "with --runsc-host-rootfs the driver's state dir (tokens) stays hidden")
    check(ctx.delete("thief2") and ctx.delete("victim"), "deleted")
    check(ctx.drv.stop() == 0, "driver exited 0")
    ctx.check_no_leaks("after the red-team run")


UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def golden_order(st):
    """(index of the first supervisor start event, index of the first
    restore event) in the shim's report, -1 where absent."""
    kinds = [e.get("kind") for e in st.get("events", [])]
    first = lambda k: kinds.index(k) if k in kinds else -1
    return first("start"), first("restore")


def suite_golden(ctx):
    """--runsc-golden-boot: the first boot holds a fresh UUID in
    /run/ate/actor-id, then a checkpoint and a restore under the actor's
    name, as a Substrate template's golden boot and its actor's first resume
    (docs/platform/substrate.md, the identity file).  Twice: with
    --runsc-shim-actor false the supervisor runs through the golden boot (the
    control); with the default (true) the shim holds the supervisor until the
    file names its actor (docs/readyz.md, the golden boot)."""
    seen = set()
    for hold in (False, True):
        ctx.start(extra_args=["--runsc-golden-boot", "--runsc-shim-actor=" + ("true" if hold else "false")])
        for sid in (("goldh1", "goldh2") if hold else ("gold1", "gold2")):
            sb = ctx.create(sid)
            host, port = host_of(sb)
            st = status(host, port)
            last = st["restore"]["last"]
            before, after = last["identity_before"]["id"], last["identity_after"]["id"]
            check(UUID_RE.match(before or "") is not None,
                  f"{sid}: the golden boot held a fresh UUID ({before})")
            check(after == sid and last["identity_changed"],
                  f"{sid}: restored under its own name ({before} -> {after})")
            with open(os.path.join(ctx.sbdir(sid), "ate", "actor-id"), "rb") as f:
                check(f.read() == sid.encode(), f"{sid}: actor-id holds the raw name now")
            start, restore = golden_order(st)
            if hold:
                g = st.get("golden") or {}
                check(g.get("mode") == "hold" and g.get("actor") == sid and not g.get("holding"),
                      f"{sid}: the shim held for its actor and let go ({g})")
                check(0 <= restore < start,
                      f"{sid}: the supervisor started only after the restore (events {start}, {restore})")
            else:
                check(0 <= start < restore,
                      f"{sid}: control: without --actor the supervisor ran in the golden boot "
                      f"(events {start}, {restore})")
            seen.add(before)
            token = counter(host)[0]
            ctx.stop(sid)
            ctx.startsb(sid)
            check(counter(host_of(ctx.get(sid))[0])[0] == token, f"{sid}: stop/start keeps memory")
            check(ctx.delete(sid), f"{sid}: deleted")
        check(ctx.drv.stop() == 0, "driver exited 0")
    check(len(seen) == 4, f"a fresh UUID per golden boot ({seen})")
    # CONTROL: without the flag the first boot is the actor's own: no restore
    ctx.start()
    sb = ctx.create("plain")
    st = status(*host_of(sb))
    check(st.get("generation") == 0, f"control: no golden boot, no restore ({st.get('generation')})")
    with open(os.path.join(ctx.sbdir("plain"), "ate", "actor-id"), "rb") as f:
        check(f.read() == b"plain", "control: actor-id holds the raw name from the start")
    check(ctx.delete("plain"), "deleted")
    check(ctx.drv.stop() == 0, "driver exited 0")
    ctx.check_no_leaks("after the golden boots")


def _stop_code(ctx, sid):
    return code_of(lambda: ctx.stop(sid))


def suite_connections(ctx):
    """A Stop never loses a sandbox to a TCP connection held open."""
    ctx.start()
    counter_cmd = ["/usr/local/bin/oss-counter", "--file", "/tmp/count", "--period-ms", "50",
                   "--port", str(WORKLOAD_PORT), "--bind", "0.0.0.0"]
    # 1. the workload holds a connection OUT, to a listener of this test on
    # the host end of its veth (slot 1 of a fresh driver: gateway .5)
    net = ctx.args.subnet.split("/")[0].rsplit(".", 1)[0]
    gw = f"{net}.5"
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("0.0.0.0", 0))
    lst.listen(4)
    lport = lst.getsockname()[1]
    sb = ctx.create("out", command=counter_cmd + ["--connect", f"{gw}:{lport}"])
    check(host_of(sb)[0] == f"{net}.6", f"the first sandbox has slot 1 ({host_of(sb)[0]})")
    lst.settimeout(20)
    peer, _ = lst.accept()
    token = counter(host_of(sb)[0])[0]
    t0 = time.monotonic()
    code, msg = _stop_code(ctx, "out")
    log(f"stop with the workload's connection out: {code} \"{msg}\" "
        f"({(time.monotonic() - t0) * 1000:.0f} ms)")
    check(code == "FAILED_PRECONDITION" and "an open TCP connection blocks the checkpoint" in msg
          and f"remote {gw}:{lport}" in msg, "the stop is refused, naming the connection")
    check(gc.gateway_phase(ctx.get("out")) == "Ready", "the sandbox stays Ready")
    check(counter(host_of(ctx.get("out"))[0])[0] == token, "and keeps serving with its memory")
    peer.close()
    lst.close()
    check(ctx.delete("out"), "deleted")

    # 2. the attack: an outside client holding a connection the workload
    # keeps open (a keep-alive server)
    sb = ctx.create("keep", command=counter_cmd + ["--client-hold-ms", "600000"])
    host = host_of(sb)[0]
    token = counter(host)[0]
    held = socket.create_connection((host, WORKLOAD_PORT), timeout=5)
    line = held.recv(128)
    log(f"holding a connection to {host}:{WORKLOAD_PORT} ({line!r}); phase "
        f"{ctx.model.phase('keep')}")
    code, msg = _stop_code(ctx, "keep")
    check(code == "FAILED_PRECONDITION" and "an open TCP connection blocks the checkpoint" in msg
          and f"local {host}:{WORKLOAD_PORT}" in msg,
          f"an outside client holding a connection: the stop is refused: \"{msg}\"")
    check(gc.gateway_phase(ctx.get("keep")) == "Ready", "the sandbox stays Ready")
    check(counter(host)[0] == token, "and keeps its memory")
    held.close()  # the client closes first: the workload's side closes at once
    ctx.stop("keep")
    check(gc.gateway_phase(ctx.get("keep")) == "Stopped", "with the connection closed, Stop works")
    ctx.startsb("keep")
    host = host_of(ctx.get("keep"))[0]
    check(counter(host)[0] == token, "and Start brings the memory back")

    # 3. a client holding the SHIM's readyz connection (after a request, and
    # without sending one): the shim closes it itself (RST), so it is never
    # the reason a stop fails
    port = host_of(ctx.get("keep"))[1]
    for what, send in (("after a request", True), ("sending nothing", False)):
        c = socket.create_connection((host, port), timeout=5)
        if send:
            c.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
            check(c.recv(64).startswith(b"HTTP/1.1 200"), "readyz answered")
        t0 = time.monotonic()
        ctx.stop("keep")
        log(f"stop with a readyz client holding its connection ({what}): "
            f"{(time.monotonic() - t0) * 1000:.0f} ms")
        check(gc.gateway_phase(ctx.get("keep")) == "Stopped",
              f"a readyz client holding its connection ({what}) does not block the stop")
        c.close()
        ctx.startsb("keep")
        host, port = host_of(ctx.get("keep"))
        check(counter(host)[0] == token, f"memory intact ({what})")

    # 4. CONTROL: loopback connections inside the sandbox are saved, so a
    # workload talking to itself is no reason to refuse
    sb = ctx.create("loop", command=counter_cmd + ["--client-hold-ms", "600000", "--connect",
                                                   f"127.0.0.1:{WORKLOAD_PORT}"])
    time.sleep(0.5)
    ctx.stop("loop")
    check(gc.gateway_phase(ctx.get("loop")) == "Stopped", "a loopback connection does not block")
    ctx.startsb("loop")
    check(ctx.delete("loop") and ctx.delete("keep"), "deleted")
    check(ctx.drv.stop() == 0, "driver exited 0")
    ctx.check_no_leaks("after the connection cases")


def _settled_truth(ctx, sid, token, what):
    """After a restart: the reported phase is what runs, and it stays so."""
    ph = gc.gateway_phase(ctx.get(sid))
    check(ph in ("Ready", "Stopped"), f"{what}: after the restart the sandbox is {ph}")
    check(not ctx.runsc_cli(), f"{what}: no runsc command of the dead driver still runs "
                               f"({ctx.runsc_cli()})")
    st = ctx.container_state(sid)
    img = os.path.isdir(os.path.join(ctx.sbdir(sid), "image"))
    if ph == "Ready":
        check(st == "running", f"{what}: Ready and the container runs ({st})")
        check(counter(host_of(ctx.get(sid))[0])[0] == token, f"{what}: Ready with its memory")
    else:
        check(st != "running", f"{what}: Stopped and no container runs ({st})")
        check(img, f"{what}: Stopped and the checkpoint image is there")
    time.sleep(1)
    ph2 = gc.gateway_phase(ctx.get(sid))
    check(ph2 == ph, f"{what}: the phase holds ({ph} -> {ph2})")
    nets = [x for x in os.listdir("/run/netns") if x.startswith(f"ossr-{ctx.tag}-")] \
        if os.path.isdir("/run/netns") else []
    check(len(nets) == (1 if ph == "Ready" else 0), f"{what}: namespaces {nets}")
    return ph


def _wait_for_cli(ctx, word, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(f" {word} " in f" {c} " for c in ctx.runsc_cli()):
            return True
        time.sleep(0.002)
    return False


def suite_killpoints(ctx, n):
    """SIGKILL of the driver at random moments while runsc checkpoints
    (Stop) and restores (Start): every time, the restarted driver tells the
    truth and nothing leaks."""
    rnd = random.Random(int(os.environ.get("OSS_KILL_SEED", str(os.getpid()))))
    sid = "kp"
    ctx.start()
    token = counter(host_of(ctx.create(sid))[0])[0]
    seen = {"Ready": 0, "Stopped": 0}
    for op in ("stop", "start"):
        for i in range(n):
            what = f"{op} kill {i + 1}/{n}"
            ph = gc.gateway_phase(ctx.get(sid))
            if op == "stop" and ph != "Ready":
                ctx.startsb(sid)
            if op == "start" and ph != "Stopped":
                ctx.stop(sid)
            call = ctx.stop if op == "stop" else ctx.startsb
            t = threading.Thread(target=lambda: code_of(lambda: call(sid)), daemon=True)
            t.start()
            word = "checkpoint" if op == "stop" else "restore"
            check(_wait_for_cli(ctx, word), f"{what}: runsc {word} started")
            delay = rnd.uniform(0, 0.25 if op == "stop" else 0.4)
            time.sleep(delay)
            ctx.drv.stop(signal.SIGKILL)
            t.join(5)
            ctx.start()
            ph = _settled_truth(ctx, sid, token, f"{what} ({delay * 1000:.0f} ms in)")
            seen[ph] += 1
            log(f"{what}: killed {delay * 1000:.0f} ms into runsc {word}: {ph}")
    log(f"outcomes: {seen}")
    if gc.gateway_phase(ctx.get(sid)) == "Stopped":
        ctx.startsb(sid)
    check(counter(host_of(ctx.get(sid))[0])[0] == token, "after every kill: memory intact")
    check(ctx.delete(sid), "deleted")
    check(ctx.drv.stop() == 0, "driver exited 0")
    ctx.check_no_leaks("after the random kill points")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", required=True)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--driver", required=True)
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--runsc", default="runsc")
    ap.add_argument("--image", default="openshell/demo:local")
    ap.add_argument("--subnet", default="")
    ap.add_argument("--env-json", default="{}", help="environment of every sandbox, a JSON object")
    ap.add_argument("--random-kills", type=int, default=20)
    ap.add_argument("--workload", help="the sandboxes' command, a JSON argv")
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--ready-stops", type=int, default=50)
    ap.add_argument("suite", choices=["cycles", "two", "tty", "restart", "crash", "badinput", "async",
                                      "hostfiles", "connections", "killpoints", "golden"])
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="rsuite-")
    gc.generate_stubs(args.reference, tmp)
    ctx = Ctx(args, tmp)
    try:
        if args.suite == "cycles":
            suite_cycles(ctx, args.cycles)
        elif args.suite == "two":
            suite_two(ctx)
        elif args.suite == "tty":
            suite_tty(ctx)
        elif args.suite == "restart":
            suite_restart(ctx)
        elif args.suite == "crash":
            suite_crash(ctx, args.steps.split(","))
        elif args.suite == "killpoints":
            suite_killpoints(ctx, args.random_kills)
        elif args.suite == "hostfiles":
            suite_hostfiles(ctx)
        elif args.suite == "connections":
            suite_connections(ctx)
        elif args.suite == "golden":
            suite_golden(ctx)
        elif args.suite == "async":
            suite_async(ctx, args.ready_stops)
        else:
            suite_badinput(ctx)
        ctx.close_model()
    except (Failed, Exception) as e:  # noqa: BLE001 -- an RpcError is a failure too
        log(f"FAIL: {type(e).__name__}: {e}")
        if ctx.drv is not None:
            log("driver log tail:\n" + ctx.drv.logtext()[-3000:])
            ctx.drv.stop(signal.SIGKILL)
        return 1
    finally:
        if os.environ.get("OSS_KEEP_TMP") != "1":
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    log("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
