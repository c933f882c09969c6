#!/usr/bin/python3
"""Unit tests of the gateway model (gateway_model.py) on its own: synthetic
driver snapshot sequences and a scripted driver stub, each rule with a
control that shows the rule is what made the difference.

  test_gateway_model.py --reference DIR     (exit 0 / 1, 77 = cannot run)
"""
import argparse
import os
import shutil
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gateway_client as gc  # noqa: E402
import gateway_model as gm  # noqa: E402
from gateway_client import Failed, check, log  # noqa: E402


class RpcError(Exception):
    """Shaped like grpc.RpcError (code() with .name, details())."""

    class _Code:
        def __init__(self, name):
            self.name = name

    def __init__(self, code, details=""):
        super().__init__(f"{code}: {details}")
        self._code, self._details = RpcError._Code(code), details

    def code(self):
        return self._code

    def details(self):
        return self._details


class FakeDriver:
    """A scripted ComputeDriver stub."""

    def __init__(self, pb):
        self.pb = pb
        self.sandboxes = {}       # id -> DriverSandbox that Get/List answer
        self.get_calls = []
        self.create_hook = None   # runs inside CreateSandbox
        self.create_error = None
        self.delete_error = None
        self.watch_script = []    # per open: a list of events, or an RpcError

    def CreateSandbox(self, req, timeout=None):
        if self.create_hook:
            self.create_hook()
        if self.create_error:
            raise self.create_error
        return self.pb.CreateSandboxResponse()

    def GetSandbox(self, req, timeout=None):
        self.get_calls.append(req.sandbox_id)
        if req.sandbox_id not in self.sandboxes:
            raise RpcError("NOT_FOUND", "no such sandbox")
        return self.pb.GetSandboxResponse(sandbox=self.sandboxes[req.sandbox_id])

    def ListSandboxes(self, req, timeout=None):
        return self.pb.ListSandboxesResponse(sandboxes=list(self.sandboxes.values()))

    def StopSandbox(self, req, timeout=None):
        return self.pb.StopSandboxResponse()

    def StartSandbox(self, req, timeout=None):
        return self.pb.StartSandboxResponse()

    def DeleteSandbox(self, req, timeout=None):
        if self.delete_error:
            raise self.delete_error
        return self.pb.DeleteSandboxResponse(deleted=True)

    def WatchSandboxes(self, req):
        step = self.watch_script.pop(0) if self.watch_script else []
        if isinstance(step, Exception):
            raise step
        return iter(step)


def snap(pb, sid, name, *conds, deleting=False):
    return pb.DriverSandbox(id=sid, name=name, status=pb.DriverSandboxStatus(
        sandbox_name=name, deleting=deleting,
        conditions=[pb.DriverCondition(type=t, status=s, reason=r) for t, s, r in conds]))


READY = ("Ready", "True", "Running")
STARTING = ("Ready", "False", "Starting")
SUSPENDED = ("Suspended", "True", "Suspended")


def model_with(pb, drv=None, **kw):
    m = gm.GatewayModel(drv or FakeDriver(pb), pb, **kw)
    return m


def t_derive_phase(pb):
    d = lambda *c, **k: gm.derive_phase(snap(pb, "x", "x", *c, **k).status)  # noqa: E731
    check(d(READY) == gm.READY, "derive: Ready=True is Ready")
    check(d(SUSPENDED, READY) == gm.STOPPED, "derive: Suspended=True wins over Ready=True")
    check(d(("suspended", "TRUE", "x")) == gm.STOPPED,
          "derive: Suspended type and status compare case-insensitively")
    for reason in ("Starting", "starting", "DEPENDENCIESNOTREADY", "SupervisorNotConnected",
                   "ContainerCreated", "InspectFailed", "ReconcilerError",
                   "HealthCheckStarting", "ContainerStarting"):
        check(d(("Ready", "False", reason)) == gm.PROVISIONING,
              f"derive: Ready=False/{reason} is transient")
    # CONTROL: a reason outside the list is a terminal Error
    for reason in ("Resuming", "CreateFailed", ""):
        check(d(("Ready", "False", reason)) == gm.ERROR,
              f"derive control: Ready=False/{reason!r} is Error")
    check(d(STARTING, READY) == gm.PROVISIONING, "derive: the FIRST Ready condition decides")
    check(d(("ready", "True", "x")) == gm.PROVISIONING,
          "derive: the Ready type is matched exactly (\"ready\" is not it)")
    check(d(("Ready", "Unknown", "x")) == gm.PROVISIONING, "derive: Ready=Unknown is Provisioning")
    check(d(READY, deleting=True) == gm.DELETING, "derive: deleting wins")
    check(gm.derive_phase(None) == gm.UNKNOWN, "derive: no status is Unknown")


def t_name_kept(pb):
    m = model_with(pb)
    m.create(pb.DriverSandbox(id="sb-1", name="my-box"), providers=False)
    m.apply_snapshot(snap(pb, "sb-1", "my-box", STARTING))
    check(m.phase("sb-1") == gm.PROVISIONING, "name kept: a snapshot with the created name applies")
    try:
        m.apply_snapshot(snap(pb, "sb-1", "sb-1", READY))
        raise Failed("a snapshot naming the sandbox by its id was applied")
    except gm.ApplyError as e:
        check("cannot be changed" in str(e), f"name kept: a changed name is refused ({e})")
    check(m.name("sb-1") == "my-box" and m.phase("sb-1") == gm.PROVISIONING,
          "name kept: the refused snapshot changed nothing")
    # the same rule holds for a row already in Error (mod.rs copies the name there too)
    m.apply_snapshot(snap(pb, "sb-1", "my-box", ("Ready", "False", "Boom")))
    try:
        m.apply_snapshot(snap(pb, "sb-1", "other", READY))
        raise Failed("an Error row took a changed name")
    except gm.ApplyError:
        check(True, "name kept: also for a row in Error")
    # through the watch: recorded, the stream goes on
    ev = pb.WatchSandboxesEvent(sandbox=pb.WatchSandboxesSandboxEvent(
        sandbox=snap(pb, "sb-1", "renamed", READY)))
    m.apply_event(ev)
    check(len(m.apply_errors) == 1 and m.apply_errors[0][0] == "sb-1",
          "name kept: a watch event with a changed name is recorded as an apply error")


def t_provisioning_stopped_for_good(pb):
    m = model_with(pb)
    m.create(pb.DriverSandbox(id="a", name="a-name"), providers=False)
    seq = [(STARTING,), (SUSPENDED,), (READY,), (READY,)]
    got = []
    for conds in seq:
        m.apply_snapshot(snap(pb, "a", "a-name", *conds))
        got.append(m.phase("a"))
    check(got == [gm.PROVISIONING, gm.STOPPED, gm.STOPPED, gm.STOPPED],
          f"Provisioning -> Stopped for good on one Suspended=True ({got})")
    # CONTROL: the same sequence without the Suspended snapshot ends Ready
    m.create(pb.DriverSandbox(id="b", name="b-name"), providers=False)
    for conds in [(STARTING,), (READY,)]:
        m.apply_snapshot(snap(pb, "b", "b-name", *conds))
    check(m.phase("b") == gm.READY, "control: without Suspended=True it becomes Ready")
    # supervisor sessions do not revive a Stopped row either
    m.supervisor_connected("a")
    check(m.phase("a") == gm.STOPPED, "a supervisor session leaves a Stopped row Stopped")
    # only an explicit start leaves Stopped (the supervisor has gone meanwhile)
    m.supervisor_connected("a", False)
    m.start("a")
    check(m.phase("a") == gm.STARTING, "start: Stopped -> Starting")
    m.apply_snapshot(snap(pb, "a", "a-name", STARTING))
    check(m.phase("a") == gm.STARTING, "Starting holds through a transient snapshot")
    m.apply_snapshot(snap(pb, "a", "a-name", READY))
    check(m.phase("a") == gm.READY, "Starting -> Ready on Ready=True (with the session)")


def t_ready_needs_session(pb):
    m = model_with(pb, auto_session=False)
    m.create(pb.DriverSandbox(id="s", name="s-name"), providers=False)
    m.apply_snapshot(snap(pb, "s", "s-name", READY))
    check(m.phase("s") == gm.PROVISIONING, "Ready=True without a supervisor session: Provisioning")
    m.supervisor_connected("s")
    check(m.phase("s") == gm.READY, "a supervisor session makes it Ready")
    try:
        m.stop("s")
        check(m.phase("s") == gm.STOPPED, "stop: Ready -> Stopped")
    except gm.GatewayError as e:
        raise Failed(f"stop of a Ready sandbox failed: {e}")
    m.create(pb.DriverSandbox(id="p", name="p-name"), providers=False)
    try:
        m.stop("p")
        raise Failed("stop of a Provisioning sandbox was accepted")
    except gm.GatewayError as e:
        check(e.code == "FAILED_PRECONDITION", f"stop needs Ready ({e})")


def t_error_terminal(pb):
    m = model_with(pb)
    m.create(pb.DriverSandbox(id="e", name="e-name"), providers=False)
    m.apply_snapshot(snap(pb, "e", "e-name", ("Ready", "False", "ImagePullFailed")))
    check(m.phase("e") == gm.ERROR, "a terminal reason makes Error")
    for conds in [(READY,), (STARTING,), (SUSPENDED,)]:
        m.apply_snapshot(snap(pb, "e", "e-name", *conds))
        check(m.phase("e") == gm.ERROR, f"Error stays Error after {conds[0][0]}={conds[0][1]}")


def t_not_found_drops_row(pb):
    drv = FakeDriver(pb)
    now = [1000.0]
    m = model_with(pb, drv, clock=lambda: now[0])
    for sid in ("gone", "stopped"):
        m.create(pb.DriverSandbox(id=sid, name=sid + "-n"), providers=False)
    m.apply_snapshot(snap(pb, "stopped", "stopped-n", SUSPENDED))
    now[0] += 10
    m.reconcile(grace_s=300)
    check(m.phase("gone") == gm.PROVISIONING and not drv.get_calls,
          "control: within the grace period a missing row is left alone")
    now[0] += 300
    m.reconcile(grace_s=300)
    check(m.phase("gone") is None, "reconcile: a missing row whose Get is NOT_FOUND is dropped")
    check(m.phase("stopped") == gm.ERROR,
          "reconcile: a missing Stopped row whose Get is NOT_FOUND becomes Error")
    # a delete that fails and whose Get answers NOT_FOUND drops the row too
    m.create(pb.DriverSandbox(id="d", name="d-n"), providers=False)
    drv.sandboxes["d"] = snap(pb, "d", "d-n", STARTING)
    drv.delete_error = RpcError("ABORTED", "busy")
    del drv.sandboxes["d"]
    try:
        m.delete("d")
        raise Failed("a failed delete was reported as done")
    except gm.GatewayError as e:
        check(e.code == "INTERNAL" and "delete sandbox failed" in e.message, f"delete: {e}")
    check(m.phase("d") is None, "a failed delete whose Get is NOT_FOUND drops the row")
    # CONTROL: when Get still finds it, the row stays
    m.create(pb.DriverSandbox(id="k", name="k-n"), providers=False)
    drv.sandboxes["k"] = snap(pb, "k", "k-n", STARTING)
    try:
        m.delete("k")
    except gm.GatewayError:
        pass
    check(m.phase("k") == gm.PROVISIONING, "control: a failed delete the driver still has "
                                           "keeps its row (from the driver's snapshot)")


def t_reconcile_stops_at_first_failure(pb):
    drv = FakeDriver(pb)
    m = model_with(pb, drv)
    for sid in ("a1", "b2"):
        m.create(pb.DriverSandbox(id=sid, name=sid + "-n"), providers=False)
    # the driver reports a1 by its id as the name (changed), b2 correctly
    drv.sandboxes = {"a1": snap(pb, "a1", "a1", READY), "b2": snap(pb, "b2", "b2-n", READY)}
    try:
        m.reconcile()
        raise Failed("the pass did not fail")
    except gm.ApplyError as e:
        check("cannot be changed" in str(e), f"reconcile: the first failure ends the pass ({e})")
    check(m.phase("b2") == gm.PROVISIONING, "reconcile: the row after the failure was not touched")
    # CONTROL: with a1 named right, the same pass reaches b2
    drv.sandboxes["a1"] = snap(pb, "a1", "a1-n", READY)
    m.reconcile()
    check(m.phase("b2") == gm.READY, "control: a clean pass reconciles every row")


def t_lock_across_create(pb):
    drv = FakeDriver(pb)
    m = model_with(pb, drv)
    m.create(pb.DriverSandbox(id="w", name="w-n"), providers=False)
    order = []
    inside, release = threading.Event(), threading.Event()

    def hook():
        inside.set()
        release.wait(10)
        order.append("create returned")
    drv.create_hook = hook
    t = threading.Thread(target=lambda: m.create(pb.DriverSandbox(id="c", name="c-n")))
    t.start()
    inside.wait(10)
    ev = pb.WatchSandboxesEvent(sandbox=pb.WatchSandboxesSandboxEvent(
        sandbox=snap(pb, "w", "w-n", READY)))
    a = threading.Thread(target=lambda: (m.apply_event(ev), order.append("event applied")))
    a.start()
    a.join(0.5)
    blocked = a.is_alive()
    release.set()
    t.join(10)
    a.join(10)
    check(blocked and order == ["create returned", "event applied"],
          f"with providers a watch event waits for the whole CreateSandbox ({order})")
    check(len(m.lock_holds) == 1 and m.lock_holds[0][0] == "c" and m.lock_holds[0][1] >= 0.4,
          f"the model measured the hold ({m.lock_holds})")
    # CONTROL: without providers the lock is not held across the call
    order.clear()
    inside.clear()
    release.clear()
    t = threading.Thread(target=lambda: m.create(pb.DriverSandbox(id="c2", name="c2-n"),
                                                 providers=False))
    t.start()
    inside.wait(10)
    a = threading.Thread(target=lambda: (m.apply_event(ev), order.append("event applied")))
    a.start()
    a.join(5)
    release.set()
    t.join(10)
    check(order == ["event applied", "create returned"],
          f"control: without providers the event is applied during the create ({order})")


def t_create_errors(pb):
    drv = FakeDriver(pb)
    m = model_with(pb, drv)
    for code, want in (("UNAVAILABLE", "INTERNAL"), ("ABORTED", "INTERNAL"),
                       ("FAILED_PRECONDITION", "FAILED_PRECONDITION"),
                       ("ALREADY_EXISTS", "ALREADY_EXISTS")):
        drv.create_error = RpcError(code, "why")
        try:
            m.create(pb.DriverSandbox(id="x", name="x-n"))
            raise Failed("a failed create succeeded")
        except gm.GatewayError as e:
            check(e.code == want and m.phase("x") is None,
                  f"create: driver {code} -> gateway {e.code} \"{e.message}\", row removed")
    drv.create_error = None
    m.create(pb.DriverSandbox(id="x", name="x-n"))
    try:
        m.create(pb.DriverSandbox(id="x", name="x-n"))
        raise Failed("a second create of the same id went through")
    except gm.GatewayError as e:
        check(e.code == "ALREADY_EXISTS", "create: the store refuses an id it has (MustCreate)")


def t_watch_reopen(pb):
    drv = FakeDriver(pb)
    m = model_with(pb, drv)
    m.create(pb.DriverSandbox(id="r", name="r-n"), providers=False)
    ev = pb.WatchSandboxesEvent(sandbox=pb.WatchSandboxesSandboxEvent(
        sandbox=snap(pb, "r", "r-n", STARTING)))
    drv.watch_script = [RpcError("RESOURCE_EXHAUSTED", "fell behind"), [ev]]

    def sleep(s):  # instead of waiting: end the loop after its second pause
        if len(m.sleeps) >= 2:
            m._stop.set()
    m.sleep = sleep
    m._watch_loop()
    check(m.sleeps[:2] == [gm.WATCH_REOPEN_DELAY_S] * 2 and len(m.watch_opens) == 2,
          f"watch: re-opened after {m.sleeps[0]} s, after an error and after an end")
    check(m.watch_failures[0][1].startswith("RESOURCE_EXHAUSTED") and
          m.watch_failures[1][1] == "ended", f"watch failures recorded ({m.watch_failures})")
    check(m.phase("r") == gm.PROVISIONING and m.rows["r"].status is not None,
          "the re-opened stream's events were applied")


def t_unknown_and_deleting(pb):
    m = model_with(pb)
    m.apply_snapshot(snap(pb, "stranger", "s", READY))
    check(m.phase("stranger") is None, "a snapshot of an id the store lacks is ignored")
    drv = m.stub
    m.create(pb.DriverSandbox(id="del", name="del-n"), providers=False)
    drv.sandboxes["del"] = snap(pb, "del", "del-n", READY)
    check(m.delete("del") is True and m.phase("del") == gm.DELETING,
          "deleted=true leaves the row Deleting until the watch says Deleted")
    m.apply_snapshot(snap(pb, "del", "del-n", READY))
    check(m.phase("del") == gm.DELETING, "a Deleting row ignores snapshots")
    m.apply_deleted("del")
    check(m.phase("del") is None, "the Deleted event removes it")


def t_create_defaults(pb):
    sent = []
    drv = FakeDriver(pb)
    drv.create_hook = None
    orig = drv.CreateSandbox
    drv.CreateSandbox = lambda req, timeout=None: (sent.append(req.sandbox), orig(req))[1]
    m = model_with(pb, drv)
    m.create(pb.DriverSandbox(id="c1", name="c1-n", spec=pb.DriverSandboxSpec()))
    check(list(sent[0].spec.command) == ["/bin/bash", "-l"] and sent[0].spec.tty,
          "create: no command -> the gateway sends /bin/bash -l with tty")
    # CONTROL: a command the user gave goes through unchanged, tty unset
    m.create(pb.DriverSandbox(id="c2", name="c2-n", spec=pb.DriverSandboxSpec(command=["sleep"])))
    check(list(sent[1].spec.command) == ["sleep"] and not sent[1].spec.tty,
          "control: a given command is sent as it is")


TESTS = [t_derive_phase, t_name_kept, t_provisioning_stopped_for_good, t_ready_needs_session,
         t_error_terminal, t_not_found_drops_row, t_reconcile_stops_at_first_failure,
         t_lock_across_create, t_create_errors, t_watch_reopen, t_unknown_and_deleting,
         t_create_defaults]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", required=True)
    a = ap.parse_args()
    if not os.path.isfile(os.path.join(a.reference, "compute_driver.proto")):
        log(f"SKIP: no reference protos in {a.reference}")
        return gc.SKIP
    tmp = tempfile.mkdtemp(prefix="gwmodel-")
    try:
        gc.generate_stubs(a.reference, tmp)
        import compute_driver_pb2 as pb
        for t in TESTS:
            log(f"--- {t.__name__}")
            t(pb)
    except Failed as e:
        log(f"FAIL: {e}")
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
