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
        self.caps = pb.GetCapabilitiesResponse(driver_name="fake", default_image="img:default")
        self.caps_error = None
        self.listener = None      # a GetGatewayListenerRequirementsResponse; None: UNIMPLEMENTED
        self.listener_error = None
        self.validate_error = None
        self.validated, self.created = [], []   # the DriverSandbox each call received
        self.get_hook = None      # runs inside GetSandbox
        self.get_error = None
        self.stop_error = self.start_error = None
        self.delete_answer = True

    def GetCapabilities(self, req, timeout=None):
        if self.caps_error:
            raise self.caps_error
        return self.caps

    def GetGatewayListenerRequirements(self, req, timeout=None):
        if self.listener_error:
            raise self.listener_error
        if self.listener is None:
            raise RpcError("UNIMPLEMENTED", "")
        return self.listener

    def ValidateSandboxCreate(self, req, timeout=None):
        self.validated.append(req.sandbox)
        if self.validate_error:
            raise self.validate_error
        return self.pb.ValidateSandboxCreateResponse()

    def CreateSandbox(self, req, timeout=None):
        self.created.append(req.sandbox)
        if self.create_hook:
            self.create_hook()
        if self.create_error:
            raise self.create_error
        return self.pb.CreateSandboxResponse()

    def GetSandbox(self, req, timeout=None):
        self.get_calls.append(req.sandbox_id)
        if self.get_hook:
            self.get_hook()
        if self.get_error:
            raise self.get_error
        if req.sandbox_id not in self.sandboxes:
            raise RpcError("NOT_FOUND", "no such sandbox")
        return self.pb.GetSandboxResponse(sandbox=self.sandboxes[req.sandbox_id])

    def ListSandboxes(self, req, timeout=None):
        return self.pb.ListSandboxesResponse(sandboxes=list(self.sandboxes.values()))

    def StopSandbox(self, req, timeout=None):
        if self.stop_error:
            raise self.stop_error
        return self.pb.StopSandboxResponse()

    def StartSandbox(self, req, timeout=None):
        if self.start_error:
            raise self.start_error
        return self.pb.StartSandboxResponse()

    def DeleteSandbox(self, req, timeout=None):
        if self.delete_error:
            raise self.delete_error
        return self.pb.DeleteSandboxResponse(deleted=self.delete_answer)

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


def box(pb, sid, name):
    """What a user asks for: a name and an empty spec (the gateway's id)."""
    return pb.DriverSandbox(id=sid, name=name, spec=pb.DriverSandboxSpec())


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
    m.create(box(pb, "sb-1", "my-box"), providers=False)
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
    m.create(box(pb, "a", "a-name"), providers=False)
    seq = [(STARTING,), (SUSPENDED,), (READY,), (READY,)]
    got = []
    for conds in seq:
        m.apply_snapshot(snap(pb, "a", "a-name", *conds))
        got.append(m.phase("a"))
    check(got == [gm.PROVISIONING, gm.STOPPED, gm.STOPPED, gm.STOPPED],
          f"Provisioning -> Stopped for good on one Suspended=True ({got})")
    # CONTROL: the same sequence without the Suspended snapshot ends Ready
    m.create(box(pb, "b", "b-name"), providers=False)
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
    m.create(box(pb, "s", "s-name"), providers=False)
    m.apply_snapshot(snap(pb, "s", "s-name", READY))
    check(m.phase("s") == gm.PROVISIONING, "Ready=True without a supervisor session: Provisioning")
    m.supervisor_connected("s")
    check(m.phase("s") == gm.READY, "a supervisor session makes it Ready")
    try:
        m.stop("s")
        check(m.phase("s") == gm.STOPPED, "stop: Ready -> Stopped")
    except gm.GatewayError as e:
        raise Failed(f"stop of a Ready sandbox failed: {e}")
    m.create(box(pb, "p", "p-name"), providers=False)
    try:
        m.stop("p")
        raise Failed("stop of a Provisioning sandbox was accepted")
    except gm.GatewayError as e:
        check(e.code == "FAILED_PRECONDITION", f"stop needs Ready ({e})")


def t_error_terminal(pb):
    m = model_with(pb)
    m.create(box(pb, "e", "e-name"), providers=False)
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
        m.create(box(pb, sid, sid + "-n"), providers=False)
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
    m.create(box(pb, "d", "d-n"), providers=False)
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
    m.create(box(pb, "k", "k-n"), providers=False)
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
        m.create(box(pb, sid, sid + "-n"), providers=False)
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
    m.create(box(pb, "w", "w-n"), providers=False)
    order = []
    inside, release = threading.Event(), threading.Event()

    def hook():
        inside.set()
        release.wait(10)
        order.append("create returned")
    drv.create_hook = hook
    t = threading.Thread(target=lambda: m.create(box(pb, "c", "c-n")))
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
    t = threading.Thread(target=lambda: m.create(box(pb, "c2", "c2-n"),
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
            m.create(box(pb, "x", "x-n"))
            raise Failed("a failed create succeeded")
        except gm.GatewayError as e:
            check(e.code == want and m.phase("x") is None,
                  f"create: driver {code} -> gateway {e.code} \"{e.message}\", row removed")
    drv.create_error = None
    m.create(box(pb, "x", "x-n"))
    try:
        m.create(box(pb, "x", "x-n"))
        raise Failed("a second create of the same id went through")
    except gm.GatewayError as e:
        check(e.code == "ALREADY_EXISTS", "create: the store refuses an id it has (MustCreate)")


def t_watch_reopen(pb):
    drv = FakeDriver(pb)
    m = model_with(pb, drv)
    m.create(box(pb, "r", "r-n"), providers=False)
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
    m.create(box(pb, "del", "del-n"), providers=False)
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
    m.create(box(pb, "c1", "c1-n"))
    check(list(sent[0].spec.command) == ["/bin/bash", "-l"] and sent[0].spec.tty,
          "create: no command -> the gateway sends /bin/bash -l with tty")
    # CONTROL: a command the user gave goes through unchanged, tty unset
    m.create(pb.DriverSandbox(id="c2", name="c2-n", spec=pb.DriverSandboxSpec(command=["sleep"])))
    check(list(sent[1].spec.command) == ["sleep"] and not sent[1].spec.tty,
          "control: a given command is sent as it is")


def expect_gw(fn, code, what):
    try:
        fn()
    except gm.GatewayError as e:
        check(e.code == code, f"{what}: {e.code} \"{e.message}\"")
        return e
    raise Failed(f"{what}: accepted")


def t_ascii_case_folding(pb):
    d = lambda *c: gm.derive_phase(snap(pb, "x", "x", *c).status)  # noqa: E731
    # U+212A KELVIN SIGN: Python's str.lower() makes it "k", Rust's
    # to_ascii_lowercase leaves it: upstream calls this reason terminal
    check(d(("Ready", "False", "HealthChec\u212aStarting")) == gm.ERROR,
          "a reason that matches a transient one only under Unicode folding is terminal")
    check(d(("Ready", "False", "HEALTHCHECKSTARTING")) == gm.PROVISIONING,
          "control: ASCII case differences still fold")
    check(d(("Ready", "\u0074rue", "x")) == gm.READY, "control: plain true is Ready")
    check(d(("Suspended", "TRUE", "x")) == gm.STOPPED, "control: Suspended folds ASCII case")


def t_connect(pb):
    drv = FakeDriver(pb)
    m = model_with(pb, drv)
    check(m.default_image == "img:default", "GetCapabilities: default_image kept")
    drv.caps_error = RpcError("UNAVAILABLE", "down")
    expect_gw(lambda: model_with(pb, drv), "UNAVAILABLE",
              "no runtime without GetCapabilities")
    drv.caps_error = None
    drv.listener_error = RpcError("INTERNAL", "boom")
    expect_gw(lambda: model_with(pb, drv), "INTERNAL",
              "a listener-requirements error other than UNIMPLEMENTED is fatal")
    drv.listener_error = None
    R = pb.GatewayListenerRequirement
    for bad, what in ((R(reason="r"), "no selector"),
                      (R(exact_bind_address="localhost:80"), "a host name, not an address"),
                      (R(exact_bind_address="127.0.0.1"), "no port")):
        drv.listener = pb.GetGatewayListenerRequirementsResponse(requirements=[bad])
        expect_gw(lambda: model_with(pb, drv), "INTERNAL", f"listener requirement: {what}")
    # CONTROL: well-formed requirements connect
    drv.listener = pb.GetGatewayListenerRequirementsResponse(requirements=[
        R(exact_bind_address="127.0.0.1:8080"), R(exact_bind_address="[::1]:8080")])
    model_with(pb, drv)
    check(True, "control: exact addresses IPv4 and IPv6 with a port connect")


def t_create_request(pb):
    drv = FakeDriver(pb)
    m = model_with(pb, drv)
    sb = pb.DriverSandbox(
        id="q1", name="q-box", namespace="chosen-by-user",
        spec=pb.DriverSandboxSpec(sandbox_token="tok", command=["sleep", "1"]),
        status=pb.DriverSandboxStatus(sandbox_name="stale"))
    m.create(sb, providers=False)
    v, c = drv.validated[-1], drv.created[-1]
    check(c.namespace == "" and v.namespace == "", "create: namespace is always \"\"")
    check(not c.HasField("status") and not v.HasField("status"), "create: a new row has no status")
    check(c.spec.template.image == "img:default" and v.spec.template.image == "img:default",
          "create: an empty image is the driver's default_image")
    check(c.workspace == "default", f"create: workspace is the resolved one ({c.workspace!r})")
    check(c.spec.sandbox_token == "tok" and v.spec.sandbox_token == "",
          "create: only CreateSandbox carries the token, ValidateSandboxCreate never")
    # CONTROL: an image the user chose is kept
    m.create(pb.DriverSandbox(id="q2", name="q-two", spec=pb.DriverSandboxSpec(
        template=pb.DriverSandboxTemplate(image="mine:1"))), providers=False)
    check(drv.created[-1].spec.template.image == "mine:1", "control: a given image is kept")
    n = len(drv.validated)
    expect_gw(lambda: m.create(pb.DriverSandbox(id="q3", name="q3")), "INVALID_ARGUMENT",
              "create without a spec")
    for name in ("a" * 20, "Upper", "-lead", "trail-", "dou--ble", "under_score", "d\u00e9j\u00e0"):
        expect_gw(lambda: m.create(box(pb, "q3", name)),
                  "INVALID_ARGUMENT", f"create with name {name!r}")
    for cmd in ([""], ["a\0b"], ["x"] * 257):
        expect_gw(lambda: m.create(pb.DriverSandbox(id="q3", name="q3", spec=pb.DriverSandboxSpec(
            command=cmd))), "INVALID_ARGUMENT", f"create with command {cmd[:2]!r}")
    check(len(drv.validated) == n and m.phase("q3") is None,
          "refused requests never reach the driver nor the store")
    # CONTROL: 19 bytes is the limit; an empty name is generated
    m.create(box(pb, "q4", "a" * 19), providers=False)
    got = m.create(box(pb, "q5", ""), providers=False)
    check(got.name and len(got.name) <= 19 and m.name("q5") == got.name,
          f"control: a 19-byte name is accepted; an empty one is generated ({got.name!r})")
    gm.validate_name(got.name)


def t_validate_first(pb):
    drv = FakeDriver(pb)
    m = model_with(pb, drv)
    drv.validate_error = RpcError("INVALID_ARGUMENT", "no such image")
    e = expect_gw(lambda: m.create(box(pb, "v1", "v1")),
                  "INVALID_ARGUMENT", "ValidateSandboxCreate's refusal goes back as it is")
    check(e.message == "no such image" and not drv.created and m.phase("v1") is None,
          "a refused validation writes no row and never calls CreateSandbox")
    drv.validate_error = RpcError("UNIMPLEMENTED", "")
    expect_gw(lambda: m.create(box(pb, "v1", "v1")),
              "UNIMPLEMENTED", "a driver without ValidateSandboxCreate cannot create at all")
    drv.validate_error = None
    m.create(box(pb, "v1", "v1"))
    check(len(drv.created) == 1 and m.phase("v1") == gm.PROVISIONING,
          "control: validation passed, the create goes on")
    # the store refuses a second row with the same name in a workspace
    expect_gw(lambda: m.create(box(pb, "v2", "v1")),
              "ALREADY_EXISTS", "a second sandbox with the same name")
    m.create(pb.DriverSandbox(id="v2", name="v1", workspace="other", spec=pb.DriverSandboxSpec()))
    check(m.phase("v2") == gm.PROVISIONING, "control: the same name in another workspace")


def ready_row(pb, m, sid):
    m.create(box(pb, sid, sid + "-n"), providers=False)
    m.apply_snapshot(snap(pb, sid, sid + "-n", READY))
    check(m.phase(sid) == gm.READY, f"{sid} Ready")


def t_lifecycle_recovery(pb):
    drv = FakeDriver(pb)
    m = model_with(pb, drv)
    drv.stop_error = RpcError("UNAVAILABLE", "lost")
    # the driver cannot say: the row stays Stopping (the old model restored Ready)
    ready_row(pb, m, "r1")
    drv.get_error = RpcError("UNAVAILABLE", "lost")
    expect_gw(lambda: m.stop("r1"), "UNAVAILABLE", "a failed stop answers the driver's code")
    check(m.phase("r1") == gm.STOPPING, "no authoritative answer: the row stays Stopping")
    drv.get_error = None
    ready_row(pb, m, "r2")   # NOT_FOUND (no entry in drv.sandboxes): also retained
    expect_gw(lambda: m.stop("r2"), "UNAVAILABLE", "stop r2")
    check(m.phase("r2") == gm.STOPPING, "Get NOT_FOUND: the row stays Stopping")
    # CONTROL: the driver says it is still running: the row before the call returns
    ready_row(pb, m, "r3")
    drv.sandboxes["r3"] = snap(pb, "r3", "r3-n", READY)
    expect_gw(lambda: m.stop("r3"), "UNAVAILABLE", "stop r3")
    check(m.phase("r3") == gm.READY, "control: the driver still runs it: restored to Ready")
    # CONTROL: the driver did stop it: Stopped
    ready_row(pb, m, "r4")
    drv.sandboxes["r4"] = snap(pb, "r4", "r4-n", SUSPENDED)
    expect_gw(lambda: m.stop("r4"), "UNAVAILABLE", "stop r4")
    check(m.phase("r4") == gm.STOPPED and "r4" not in m.sessions,
          "control: the driver did stop it: Stopped, the session ended")
    # a stop the driver still progresses stays Stopping
    ready_row(pb, m, "r5")
    drv.sandboxes["r5"] = snap(pb, "r5", "r5-n", ("Suspended", "False", "PodTerminating"))
    expect_gw(lambda: m.stop("r5"), "UNAVAILABLE", "stop r5")
    check(m.phase("r5") == gm.STOPPING, "a stop still progressing keeps Stopping")
    # a retried stop of a Stopping row succeeds and completes it
    drv.stop_error = None
    m.stop("r1")
    check(m.phase("r1") == gm.STOPPED, "a retried stop from Stopping completes")
    # start: a failed start without an answer stays Starting
    drv.start_error = RpcError("UNAVAILABLE", "lost")
    expect_gw(lambda: m.start("r1"), "UNAVAILABLE", "start r1")
    check(m.phase("r1") == gm.STARTING, "a failed start without an answer stays Starting")
    # a recovery snapshot with a changed name is skipped (the transition stays)
    drv.sandboxes["r1"] = snap(pb, "r1", "r1", READY)
    m.apply_errors.clear()
    expect_gw(lambda: m.start("r1"), "UNAVAILABLE", "start r1 again")
    check(m.phase("r1") == gm.STARTING and m.apply_errors and
          "cannot be changed" in m.apply_errors[0][1],
          "a recovery snapshot with a changed name is refused, recorded, the row kept")


def t_delete_rules(pb):
    drv = FakeDriver(pb)
    m = model_with(pb, drv)
    expect_gw(lambda: m.delete("nobody"), "NOT_FOUND", "delete of a sandbox the store lacks")
    m.create(box(pb, "x1", "x1"), providers=False)
    drv.delete_answer = False
    check(m.delete("x1") is False and m.phase("x1") is None,
          "deleted=false: the row is removed at once")
    m.create(box(pb, "x2", "x2"), providers=False)
    drv.delete_answer = True
    check(m.delete("x2") is True and m.phase("x2") == gm.DELETING,
          "control: deleted=true keeps the row Deleting for the watch")
    drv.delete_error = RpcError("INTERNAL", "must not be called")
    check(m.delete("x2") is True, "a Deleting row answers deleted=true without a driver call")
    # a failed delete whose recovery snapshot renames the sandbox stays Deleting
    m.create(box(pb, "x3", "x3"), providers=False)
    drv.delete_error = RpcError("UNAVAILABLE", "lost")
    drv.sandboxes["x3"] = snap(pb, "x3", "renamed", READY)
    expect_gw(lambda: m.delete("x3"), "INTERNAL", "failed delete x3")
    check(m.phase("x3") == gm.DELETING and m.apply_errors[-1][0] == "x3",
          "a recovery the store refuses leaves the row Deleting and is recorded")
    # CONTROL: Get answers without status: the row before the call returns
    m.create(box(pb, "x4", "x4"), providers=False)
    drv.sandboxes["x4"] = pb.DriverSandbox(id="x4", name="x4")
    expect_gw(lambda: m.delete("x4"), "INTERNAL", "failed delete x4")
    check(m.phase("x4") == gm.PROVISIONING, "control: no status in the answer: restored")


def t_reconcile_cas(pb):
    drv = FakeDriver(pb)
    m = model_with(pb, drv)
    m.create(box(pb, "c1", "c1"), providers=False)
    drv.sandboxes["c1"] = snap(pb, "c1", "c1", SUSPENDED)
    # while the pass waits for GetSandbox, a watch event changes the row
    drv.get_hook = lambda: m.apply_snapshot(snap(pb, "c1", "c1", STARTING))
    v0 = m.rows["c1"].version
    m.reconcile()
    check(m.phase("c1") == gm.PROVISIONING and m.rows["c1"].version == v0 + 1,
          "reconcile: a row that changed during the Get is not overwritten")
    # CONTROL: without the concurrent write the pass applies the snapshot
    drv.get_hook = None
    m.reconcile()
    check(m.phase("c1") == gm.STOPPED, "control: an unchanged row takes the Get answer")


TESTS = [t_derive_phase, t_name_kept, t_provisioning_stopped_for_good, t_ready_needs_session,
         t_error_terminal, t_not_found_drops_row, t_reconcile_stops_at_first_failure,
         t_lock_across_create, t_create_errors, t_watch_reopen, t_unknown_and_deleting,
         t_create_defaults, t_ascii_case_folding, t_connect, t_create_request, t_validate_first,
         t_lifecycle_recovery, t_delete_rules, t_reconcile_cas]


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
