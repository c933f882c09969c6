#!/usr/bin/python3
"""A gateway-like client for an OpenShell compute driver.

It talks to the driver exactly as the OpenShell gateway does (docs/platform/gateway.md):
plaintext HTTP/2 gRPC on a Unix socket, stubs generated at run time from the
REFERENCE compute_driver.proto (not the project's copy), and the gateway's
phase rules applied to every observation.  The driver command and socket are
parameters, so the same lifecycle suite can run against any backend:

  gateway_client.py --reference DIR --socket PATH [--driver CMD ...] [--suite S]

Suites: lifecycle (backend-neutral), nulstrings (backend-neutral), testmem (needs
the in-memory test double:
latency and failure injection), perms, sigterm, slowstream.  Exit 0 = all
passed, 1 = a check failed, 77 = cannot run here.
"""

import argparse
import os
import queue
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77


def log(msg):
    print(f"[gateway-client] {msg}", flush=True)


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)
    log(f"ok: {what}")


# --------------------------------------------------------------------------
# stubs from the reference protos (messages with the system
# protoc, which knows proto3 `optional`; service stubs with grpc_tools from
# a scratch copy without `optional`, since its bundled protoc 3.5 cannot
# parse it and the stubs only name the messages)


def generate_stubs(reference, outdir):
    scratch = os.path.join(outdir, "scratch")
    os.makedirs(scratch)
    for f in ("compute_driver.proto", "options.proto"):
        shutil.copy(os.path.join(reference, f), scratch)
    subprocess.run(["/usr/bin/protoc", f"-I{reference}", "-I/usr/include",
                    f"--python_out={outdir}", "compute_driver.proto", "options.proto"],
                   check=True)
    path = os.path.join(scratch, "compute_driver.proto")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace("optional ", ""))
    subprocess.run(["/usr/bin/python3", "-m", "grpc_tools.protoc", f"-I{scratch}",
                    "-I/usr/include", f"--grpc_python_out={outdir}", path], check=True)
    sys.path.insert(0, outdir)


# --------------------------------------------------------------------------
# the gateway's phase derivation, applied client-side (gateway_model.py)

def gateway_phase(sandbox):
    """Provisioning | Ready | Stopped | Error | Deleting | Unknown: the
    backend phase the gateway derives from one DriverSandbox.  The rule
    lives in gateway_model.derive_phase (with its upstream citation); this
    is the shorthand the suites use for a single answer."""
    import gateway_model as gm
    return gm.derive_phase(sandbox.status if sandbox.HasField("status") else None)


def selftest_phase(pb):
    """The helper must itself be able to fail: known-bad conditions -> Error."""
    def sb(*conds):
        return pb.DriverSandbox(status=pb.DriverSandboxStatus(conditions=[
            pb.DriverCondition(type=t, status=s, reason=r) for t, s, r in conds]))
    check(gateway_phase(sb(("Ready", "True", "Running"))) == "Ready", "phase helper: Ready=True")
    check(gateway_phase(sb(("Ready", "False", "starting"))) == "Provisioning",
          "phase helper: Starting is case-insensitively transient")
    # CONTROL: the older drivers' reason; the gateway turns it into Error
    check(gateway_phase(sb(("Ready", "False", "Resuming"))) == "Error",
          "phase helper control: Ready=False/Resuming is a terminal Error")
    check(gateway_phase(sb(("Ready", "False", "Resuming"), ("Suspended", "True", "x"))) ==
          "Stopped", "phase helper: Suspended=True wins")
    check(gateway_phase(sb(("Ready", "Unknown", "x"))) == "Provisioning",
          "phase helper: Ready=Unknown is not terminal")


# --------------------------------------------------------------------------


class Driver:
    """Runs (optionally) the driver and keeps a stub connected to it."""

    def __init__(self, args, tmp, extra_env=None, extra_args=()):
        import grpc
        self.grpc = grpc
        self.socket = args.socket
        self.proc = None
        self.log_path = os.path.join(tmp, f"driver-{int(time.time()*1000)}.log")
        if args.driver:
            env = dict(os.environ)
            env.update(extra_env or {})
            cmd = shlex.split(args.driver) + ["--socket", self.socket] + list(extra_args)
            self.logf = open(self.log_path, "w")
            self.proc = subprocess.Popen(cmd, env=env, stdout=self.logf, stderr=self.logf)
        # Reconnect every 250 ms at most, as the gateway retries.
        self.channel = grpc.insecure_channel(f"unix:{self.socket}", options=[
            ("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 250)])
        import compute_driver_pb2_grpc as g
        self.stub = g.ComputeDriverStub(self.channel)
        # as the gateway does: retry every 250 ms for up to 30 s
        import compute_driver_pb2 as pb
        deadline = time.monotonic() + 30
        while True:
            try:
                # wait_for_ready: a fail-fast call on a channel in
                # TRANSIENT_FAILURE (dialled before the socket existed)
                # returns at once without polling, and Python's gRPC then
                # only notices the new connection's SETTINGS at its 5 s
                # backup poll: measured 5.0 s per start, all client-side.
                self.stub.GetCapabilities(pb.GetCapabilitiesRequest(), timeout=2,
                                          wait_for_ready=True)
                break
            except grpc.RpcError:
                if self.proc is not None and self.proc.poll() is not None:
                    raise Failed(f"driver exited with {self.proc.returncode}: {self.logtext()}")
                if time.monotonic() > deadline:
                    raise Failed("driver did not answer GetCapabilities within 30 s")
                time.sleep(0.25)

    def logtext(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=40):
        self.channel.close()
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failed("driver did not exit after SIGTERM")


class Watch:
    """One WatchSandboxes stream read on a thread into a queue."""

    def __init__(self, drv, read=True, stub=None):
        import compute_driver_pb2 as pb
        self.q = queue.Queue()
        self.call = (stub or drv.stub).WatchSandboxes(pb.WatchSandboxesRequest())
        self.error = None
        if read:
            self.t = threading.Thread(target=self._run, daemon=True)
            self.t.start()

    def _run(self):
        try:
            for ev in self.call:
                self.q.put(ev)
        except Exception as e:  # grpc.RpcError at stream end
            self.error = e
        self.q.put(None)

    def wait_for(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                ev = self.q.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if ev is None:
                raise Failed(f"watch ended while waiting for {what}: {self.error}")
            seen.append(ev)
            if pred(ev):
                return ev
        raise Failed(f"no watch event for {what} within {timeout}s "
                     f"(saw {[self.describe(e) for e in seen]})")

    @staticmethod
    def describe(ev):
        k = ev.WhichOneof("payload")
        if k == "sandbox":
            return f"sandbox {ev.sandbox.sandbox.id} {gateway_phase(ev.sandbox.sandbox)}"
        if k == "deleted":
            return f"deleted {ev.deleted.sandbox_id}"
        return k

    def cancel(self):
        self.call.cancel()


def is_sandbox(sid, phase=None):
    def p(ev):
        return (ev.WhichOneof("payload") == "sandbox" and ev.sandbox.sandbox.id == sid and
                (phase is None or gateway_phase(ev.sandbox.sandbox) == phase))
    return p


def is_deleted(sid):
    return lambda ev: ev.WhichOneof("payload") == "deleted" and ev.deleted.sandbox_id == sid


def code_of(fn):
    import grpc
    try:
        fn()
    except grpc.RpcError as e:
        return e.code(), e.details()
    return grpc.StatusCode.OK, ""


# --------------------------------------------------------------------------
# suites


def make_sandbox(pb, sid, image, env=None, token="", namespace="", name=None):
    return pb.DriverSandbox(
        id=sid, name=name or sid, namespace=namespace,
        spec=pb.DriverSandboxSpec(
            environment=env or {}, sandbox_token=token,
            template=pb.DriverSandboxTemplate(image=image)))


def suite_lifecycle(args, tmp):
    import grpc
    import compute_driver_pb2 as pb
    import gateway_model as gm
    selftest_phase(pb)
    drv = Driver(args, tmp, extra_env={"OSS_TESTMEM_REQUIRE_DIGEST": "1"})
    C = grpc.StatusCode
    s = drv.stub
    model = None
    try:
        caps = s.GetCapabilities(pb.GetCapabilitiesRequest(), timeout=5)
        check(caps.driver_name == "substrate" and caps.driver_version != "",
              f"GetCapabilities: {caps.driver_name} {caps.driver_version}")
        for name, req in (("GetGatewayListenerRequirements",
                           pb.GetGatewayListenerRequirementsRequest()),
                          ("EnsureWorkspace", pb.EnsureWorkspaceRequest(workspace="w")),
                          ("DeleteWorkspace", pb.DeleteWorkspaceRequest(workspace="w"))):
            code, _ = code_of(lambda: getattr(s, name)(req, timeout=5))
            check(code == C.UNIMPLEMENTED, f"{name} answers UNIMPLEMENTED")

        img = args.image
        sid = f"{args.prefix}-life"
        # the gateway's id is its own; the name is the user's (sandbox.rs:300-312)
        good = make_sandbox(pb, sid, img, env={"FOO": "bar"}, token=args.token,
                            name=f"{args.prefix}-box-{os.urandom(3).hex()}")
        check(code_of(lambda: s.ValidateSandboxCreate(
            pb.ValidateSandboxCreateRequest(sandbox=good), timeout=10))[0] == C.OK,
            "ValidateSandboxCreate accepts a good sandbox")
        bad_cases = [
            ("no spec", pb.DriverSandbox(id=sid, name=sid), C.INVALID_ARGUMENT),
            ("no template", pb.DriverSandbox(id=sid, name=sid, spec=pb.DriverSandboxSpec()),
             C.INVALID_ARGUMENT),
            ("id not a DNS-1123 label", make_sandbox(pb, "Bad_Id", img), C.INVALID_ARGUMENT),
            ("41 env entries", make_sandbox(pb, sid, img, env={f"V{i}": "x" for i in range(41)}),
             C.INVALID_ARGUMENT),
        ]
        if args.expect_digest:
            bad_cases.append(("image not pinned by digest",
                              make_sandbox(pb, sid, "docker.io/library/busybox:latest"),
                              C.FAILED_PRECONDITION))
        for what, sb, want in bad_cases:
            for rpc in ("ValidateSandboxCreate", "CreateSandbox"):
                req = (pb.ValidateSandboxCreateRequest if rpc.startswith("Validate")
                       else pb.CreateSandboxRequest)(sandbox=sb)
                code, msg = code_of(lambda: getattr(s, rpc)(req, timeout=10))
                check(code == want and msg, f"{rpc} refuses {what}: {code.name} \"{msg}\"")

        # From here the gateway model is the peer: it creates, stops, starts
        # and deletes as the upstream gateway does, applies every watch event
        # and Get/List answer to its store by the upstream rules, and records
        # each one it could not apply (gateway_model.py).
        model = gm.GatewayModel(s, pb, log=log)
        model.start_watch()
        w = Watch(drv)
        name = good.name
        t0 = time.monotonic()
        model.create(good, providers=True, timeout=args.create_timeout)
        log(f"gateway model: CreateSandbox held the global lock "
            f"{model.lock_holds[-1][1] * 1000:.0f} ms (goal < 200 ms)")
        ev = w.wait_for(is_sandbox(sid, "Ready"), args.event_timeout, f"{sid} Ready")
        check(ev.sandbox.sandbox.namespace != "",
              f"driver chose the namespace ({ev.sandbox.sandbox.namespace!r}) for the gateway's \"\"")
        check(ev.sandbox.sandbox.name == name and ev.sandbox.sandbox.status.sandbox_name == name,
              f"the watch reports the name the gateway sent ({ev.sandbox.sandbox.name!r}, "
              f"{ev.sandbox.sandbox.status.sandbox_name!r}; sent {name!r})")
        check(model.wait_phase(sid, gm.READY, args.event_timeout),
              f"gateway model: {sid} Ready {time.monotonic() - t0:.1f} s after the create "
              f"(is {model.phase(sid)}; apply errors {model.apply_errors})")
        got = s.GetSandbox(pb.GetSandboxRequest(sandbox_id=sid, sandbox_name=name), timeout=10)
        check(gateway_phase(got.sandbox) == "Ready", "GetSandbox after create: Ready")
        check(got.sandbox.name == name, f"GetSandbox reports the created name ({got.sandbox.name!r})")
        code, msg = code_of(lambda: s.CreateSandbox(pb.CreateSandboxRequest(sandbox=good),
                                                    timeout=args.create_timeout))
        check(code == C.ALREADY_EXISTS and msg, f"second create: ALREADY_EXISTS \"{msg}\"")
        model.reconcile()
        check(not model.apply_errors, "gateway model: a reconcile pass applies every snapshot")

        model.stop(sid)
        w.wait_for(is_sandbox(sid, "Stopped"), args.event_timeout, f"{sid} Stopped")
        check(model.wait_phase(sid, gm.STOPPED, args.event_timeout),
              f"gateway model: {sid} Stopped (is {model.phase(sid)})")
        got = s.GetSandbox(pb.GetSandboxRequest(sandbox_id=sid, sandbox_name=name), timeout=10)
        check(gateway_phase(got.sandbox) == "Stopped",
              "a stopped sandbox is Stopped for the gateway, not Error")
        lst = s.ListSandboxes(pb.ListSandboxesRequest(), timeout=10)
        check(any(x.id == sid and gateway_phase(x) == "Stopped" and x.name == name
                  for x in lst.sandboxes),
              "a stopped sandbox keeps appearing in ListSandboxes, under its name")
        model.reconcile()

        w2 = Watch(drv)
        w2.wait_for(is_sandbox(sid, "Stopped"), 5, "a new stream's initial state")
        w2.cancel()

        model.start(sid)
        w.wait_for(is_sandbox(sid, "Ready"), args.event_timeout, f"{sid} Ready again")
        check(model.wait_phase(sid, gm.READY, args.event_timeout),
              f"gateway model: {sid} Ready again (is {model.phase(sid)})")

        check(model.delete(sid) is True, "DeleteSandbox answers deleted=true")
        w.wait_for(is_deleted(sid), args.event_timeout, f"Deleted event for {sid}")
        check(model.wait_gone(sid, args.event_timeout), "gateway model: the row is gone")
        code, _ = code_of(lambda: s.GetSandbox(pb.GetSandboxRequest(sandbox_id=sid), timeout=10))
        check(code == C.NOT_FOUND, "GetSandbox after delete: NOT_FOUND")
        d = s.DeleteSandbox(pb.DeleteSandboxRequest(sandbox_id=sid), timeout=60)
        check(not d.deleted, "deleting again answers deleted=false")
        for rpc in ("StopSandbox", "StartSandbox"):
            req = getattr(pb, rpc + "Request")(sandbox_id=sid)
            code, _ = code_of(lambda: getattr(s, rpc)(req, timeout=10))
            check(code == C.NOT_FOUND, f"{rpc} of a deleted sandbox: NOT_FOUND")
        model.reconcile()
        check(not model.apply_errors,
              f"gateway model: every driver snapshot applied ({model.apply_errors[:3]})")
        check(not model.watch_failures,
              f"gateway model: the watch never failed ({model.watch_failures})")
        w.cancel()
    except (gm.GatewayError, gm.ApplyError) as e:
        raise Failed(f"gateway model: {type(e).__name__}: {e}") from None
    finally:
        if model is not None:
            model.close()
        rc = drv.stop()
    if args.token:
        check(args.token not in drv.logtext(), "the sandbox token appears in no log line")
    if rc is not None:
        check(rc == 0, f"driver exited 0 on SIGTERM (got {rc})")


def suite_testmem(args, tmp):
    """Latency and failure injection; needs openshell-driver-substrate-testmem."""
    import grpc
    import compute_driver_pb2 as pb
    C = grpc.StatusCode
    drv = Driver(args, tmp, extra_env={"OSS_TESTMEM_RESUME_DELAY_MS": "2000",
                                       "OSS_TESTMEM_SLOW_MS": "5000",
                                       "OSS_TESTMEM_REQUIRE_DIGEST": "1"})
    s = drv.stub
    try:
        # pass-through of FAILED_PRECONDITION with an actionable message
        code, msg = code_of(lambda: s.CreateSandbox(pb.CreateSandboxRequest(
            sandbox=make_sandbox(pb, "unpinned", "busybox:latest")), timeout=10))
        check(code == C.FAILED_PRECONDITION and "digest" in msg,
              f"unpinned image: FAILED_PRECONDITION \"{msg}\"")
        code, msg = code_of(lambda: s.CreateSandbox(pb.CreateSandboxRequest(
            sandbox=make_sandbox(pb, "fp", "x/fail-precondition@sha256:1")), timeout=10))
        check(code == C.FAILED_PRECONDITION, "backend FAILED_PRECONDITION passes through")
        code, _ = code_of(lambda: s.GetSandbox(pb.GetSandboxRequest(sandbox_id="fp"), timeout=5))
        check(code == C.NOT_FOUND, "a failed create leaves nothing behind")

        # resuming is not terminal
        s.CreateSandbox(pb.CreateSandboxRequest(sandbox=make_sandbox(pb, "res", "i@sha256:1")),
                        timeout=10)
        s.StopSandbox(pb.StopSandboxRequest(sandbox_id="res"), timeout=10)
        t = threading.Thread(target=lambda: s.StartSandbox(
            pb.StartSandboxRequest(sandbox_id="res"), timeout=30))
        t.start()
        time.sleep(0.5)
        got = s.GetSandbox(pb.GetSandboxRequest(sandbox_id="res"), timeout=5)
        ph = gateway_phase(got.sandbox)
        check(ph == "Provisioning", f"a resuming sandbox is {ph} for the gateway (not terminal)")
        t.join()
        got = s.GetSandbox(pb.GetSandboxRequest(sandbox_id="res"), timeout=5)
        check(gateway_phase(got.sandbox) == "Ready", "after the resume: Ready")

        # concurrency: a create held 5 s blocks neither Get/List nor the watch
        w = Watch(drv)
        w.wait_for(is_sandbox("res", "Ready"), 5, "initial state")
        slow_done = {}

        def slow():
            t0 = time.monotonic()
            s.CreateSandbox(pb.CreateSandboxRequest(
                sandbox=make_sandbox(pb, "slow", "x/slow-create@sha256:1")), timeout=30)
            slow_done["secs"] = time.monotonic() - t0
        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.3)
        t0 = time.monotonic()
        s.GetSandbox(pb.GetSandboxRequest(sandbox_id="res"), timeout=5)
        s.ListSandboxes(pb.ListSandboxesRequest(), timeout=5)
        get_secs = time.monotonic() - t0
        t0 = time.monotonic()
        s.StopSandbox(pb.StopSandboxRequest(sandbox_id="res"), timeout=5)
        w.wait_for(is_sandbox("res", "Stopped"), 3, "watch event during the slow create")
        ev_secs = time.monotonic() - t0
        still_running = t.is_alive()
        t.join()
        check(still_running and slow_done.get("secs", 0) >= 4.5,
              f"control: the create really was held ({slow_done.get('secs', 0):.1f} s)")
        check(get_secs < 1.0, f"Get+List during the slow create took {get_secs*1000:.0f} ms")
        check(ev_secs < 2.5, f"a watch event arrived {ev_secs*1000:.0f} ms after a Stop "
                             "during the slow create")
        w.cancel()

        # A client that keeps its connection alive with frequent HTTP/2
        # pings (as an HTTP/2 client of the gateway may) keeps its watch.
        import compute_driver_pb2_grpc as g
        pinger = grpc.insecure_channel(f"unix:{args.socket}", options=[
            ("grpc.keepalive_time_ms", 500), ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.max_pings_without_data", 0),
            ("grpc.http2.min_time_between_pings_ms", 500)])
        pw = Watch(drv, stub=g.ComputeDriverStub(pinger))
        pw.wait_for(is_sandbox("res"), 5, "initial state on the pinging connection")
        time.sleep(4)
        s.StartSandbox(pb.StartSandboxRequest(sandbox_id="res"), timeout=10)
        pw.wait_for(is_sandbox("res", "Ready"), 5, "an event after 4 s of pings every 500 ms")
        check(pw.error is None, "frequent client pings do not cost the watch (no too_many_pings)")
        pw.cancel()
        pinger.close()
    finally:
        rc = drv.stop()
    check(rc == 0, f"driver exited 0 (got {rc})")


def suite_perms(args, tmp):
    """Directory 0700, socket 0600, a peer of another uid is refused."""
    import compute_driver_pb2 as pb
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        raise SystemExit(SKIP)
    drv = Driver(args, tmp)
    try:
        d = os.path.dirname(args.socket)
        check(stat.S_IMODE(os.stat(d).st_mode) == 0o700, "socket directory is 0700")
        check(stat.S_IMODE(os.stat(args.socket).st_mode) == 0o600, "socket is 0600")
        # Open the file permissions on purpose so the uid check is what is
        # tested, not the mode bits.
        os.chmod(d, 0o755)
        os.chmod(args.socket, 0o666)
        p = os.path.dirname(d)
        while p != "/" and not os.stat(p).st_mode & 0o001:  # dirs mkdir -p made 0700
            os.chmod(p, os.stat(p).st_mode | 0o005)
            p = os.path.dirname(p)
        os.chmod(tmp, 0o755)
        for root, dirs, files in os.walk(tmp):
            for x in dirs:
                os.chmod(os.path.join(root, x), 0o755)
            for x in files:
                os.chmod(os.path.join(root, x), 0o644)
        probe = ("import sys, grpc; sys.path.insert(0, %r)\n"
                 "import compute_driver_pb2 as pb, compute_driver_pb2_grpc as g\n"
                 "s = g.ComputeDriverStub(grpc.insecure_channel('unix:%s'))\n"
                 "try:\n"
                 "    s.GetCapabilities(pb.GetCapabilitiesRequest(), timeout=3); print('ANSWERED')\n"
                 "except grpc.RpcError as e:\n"
                 "    print('REFUSED', e.code().name)\n") % (tmp, args.socket)
        other = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534",
                                "--clear-groups", "/usr/bin/python3", "-c", probe],
                               capture_output=True, text=True, timeout=30)
        same = subprocess.run(["/usr/bin/python3", "-c", probe], capture_output=True, text=True,
                              timeout=30)
        check("ANSWERED" in same.stdout, f"control: the driver's own uid is answered "
                                         f"({same.stdout.strip()})")
        check("REFUSED" in other.stdout, f"uid 65534 is refused although the socket is 0666 "
                                         f"({other.stdout.strip()} {other.stderr.strip()[-200:]})")
        time.sleep(0.2)
        check("refused connection from uid 65534" in drv.logtext(),
              "the driver logged the refused peer")

        if args.driver:
            # a second driver on a live socket must refuse, not steal it
            second = subprocess.run(shlex.split(args.driver) + ["--socket", args.socket],
                                    capture_output=True, text=True, timeout=30)
            check(second.returncode != 0 and "another process is serving" in second.stderr,
                  f"a second driver refuses a live socket (exit {second.returncode})")
            check(drv.stub.GetCapabilities(pb.GetCapabilitiesRequest(), timeout=5).driver_name,
                  "the first driver still answers")
            # a driver killed with SIGKILL leaves its socket behind: stale
            drv.stop(signal.SIGKILL)
            check(os.path.exists(args.socket), "SIGKILL left the socket file behind")
            drv = Driver(args, tmp)
            check(stat.S_IMODE(os.stat(args.socket).st_mode) == 0o600,
                  "a new driver replaced the stale socket (0600 again)")
    finally:
        drv.stop()


def suite_sigterm(args, tmp):
    """SIGTERM drains: an in-flight create completes, streams end, exit 0."""
    import grpc
    import compute_driver_pb2 as pb
    drv = Driver(args, tmp, extra_env={"OSS_TESTMEM_SLOW_MS": "3000"})
    s = drv.stub
    w = Watch(drv)
    result = {}

    def slow():
        try:
            s.CreateSandbox(pb.CreateSandboxRequest(
                sandbox=make_sandbox(pb, "drain", "x/slow-create@sha256:1")), timeout=30)
            result["code"] = grpc.StatusCode.OK
        except grpc.RpcError as e:
            result["code"] = e.code()
    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    drv.proc.send_signal(signal.SIGTERM)
    rc = drv.proc.wait(40)
    secs = time.monotonic() - t0
    t.join()
    check(result.get("code") == grpc.StatusCode.OK,
          f"the create in flight at SIGTERM completed ({result.get('code')})")
    check(secs >= 2.0, f"control: the driver waited for it ({secs:.1f} s)")
    check(rc == 0, f"driver exited 0 after draining (got {rc})")
    ev = w.q.get(timeout=5)
    while ev is not None:
        ev = w.q.get(timeout=5)
    check(w.error is not None and w.error.code() == grpc.StatusCode.UNAVAILABLE,
          f"the watch stream ended with UNAVAILABLE ({w.error.code() if w.error else None})")
    check(not os.path.exists(args.socket), "the socket was removed")
    drv.channel.close()


def suite_slowstream(args, tmp):
    """A stream that does not read is cut with RESOURCE_EXHAUSTED."""
    import grpc
    import compute_driver_pb2 as pb
    drv = Driver(args, tmp, extra_args=["--watch-queue-max", "8", "--watch-interval-ms", "50"])
    s = drv.stub
    try:
        # The initial snapshot is the number of sandboxes, not lag: 20
        # sandboxes must reach a new stream whole even with a limit of 8.
        for i in range(20):
            s.CreateSandbox(pb.CreateSandboxRequest(
                sandbox=make_sandbox(pb, f"snap-{i}", "i@sha256:1")), timeout=5)
        time.sleep(0.2)
        first = Watch(drv)
        seen = set()
        first.wait_for(lambda ev: (ev.WhichOneof("payload") == "sandbox" and
                                   seen.add(ev.sandbox.sandbox.id) is None and len(seen) == 20),
                       10, "a 20-sandbox snapshot through a queue limit of 8")
        check(first.error is None, "a snapshot larger than watch_queue_max is not cut")
        first.cancel()
        for i in range(20):
            s.DeleteSandbox(pb.DeleteSandboxRequest(sandbox_id=f"snap-{i}"), timeout=5)
        import compute_driver_pb2_grpc as g
        # A small receive window and no BDP probing, so a reader that stops
        # reading pushes back on the driver within a few hundred events.
        small = grpc.insecure_channel(f"unix:{args.socket}", options=[
            ("grpc.http2.lookahead_bytes", 1024), ("grpc.http2.bdp_probe", 0)])
        stalled = Watch(drv, read=False, stub=g.ComputeDriverStub(small))
        reader = Watch(drv)
        n = 0
        deadline = time.monotonic() + 60
        # churn until the driver's queue for the stalled stream overflows
        while time.monotonic() < deadline:
            sid = f"churn-{n % 50}-" + "n" * 40
            try:
                s.CreateSandbox(pb.CreateSandboxRequest(
                    sandbox=make_sandbox(pb, sid, "i@sha256:1")), timeout=5)
            except grpc.RpcError:
                pass
            s.StopSandbox(pb.StopSandboxRequest(sandbox_id=sid), timeout=5)
            s.DeleteSandbox(pb.DeleteSandboxRequest(sandbox_id=sid), timeout=5)
            n += 1
            if n % 10 == 0 and ("watch stream cut" in drv.logtext() or stalled.call.done()):
                break
        code = None
        try:
            for _ in stalled.call:
                pass
        except grpc.RpcError as e:
            code = e.code()
        check(code == grpc.StatusCode.RESOURCE_EXHAUSTED,
              f"the stalled stream was cut with RESOURCE_EXHAUSTED after {n} churn rounds "
              f"({code})")
        check(reader.error is None and reader.t.is_alive(),
              "control: the stream that reads was not cut")
        reader.cancel()
    finally:
        rc = drv.stop()
    check(rc == 0, f"driver exited 0 (got {rc})")


def suite_nulstrings(args, tmp):
    """A NUL inside any string that reaches a path, a name or a document is
    refused with INVALID_ARGUMENT naming the field, for every RPC that takes
    one; protobuf-c would otherwise cut the value at the NUL and validate
    the shorter string."""
    import grpc
    import compute_driver_pb2 as pb
    from google.protobuf import struct_pb2
    C = grpc.StatusCode
    drv = Driver(args, tmp)
    s = drv.stub

    def full(**over):
        """A create request with every such string set; `over` replaces one."""
        v = {"id": "nul-ok", "name": "nul-ok", "namespace": "", "log_level": "info",
             "env_key": "FOO", "env_value": "bar", "token": "tok", "command": "sleep",
             "image": args.image, "label_key": "team", "label_value": "a",
             "tenv_key": "TFOO", "tenv_value": "b", "annotation": "v", "driver_cfg": ""}
        v.update(over)
        pc = struct_pb2.Struct()
        pc.update({"annotations": {"example.com/a": v["annotation"]}})
        dc = struct_pb2.Struct()
        # the gateway forwards only this driver's own block of the public
        # template.driver_config (NVIDIA/OpenShell:crates/openshell-server/
        # src/compute/mod.rs@2f7fb65 select_driver_config ~3452-3470); an
        # empty actor_template means "synthesize one"
        dc.update({"actor_template": v["driver_cfg"]})
        return pb.DriverSandbox(
            id=v["id"], name=v["name"], namespace=v["namespace"],
            spec=pb.DriverSandboxSpec(
                log_level=v["log_level"], environment={v["env_key"]: v["env_value"]},
                sandbox_token=v["token"], command=[v["command"], "1"],
                template=pb.DriverSandboxTemplate(
                    image=v["image"], labels={v["label_key"]: v["label_value"]},
                    environment={v["tenv_key"]: v["tenv_value"]},
                    platform_config=pc, driver_config=dc)))

    cases = [  # (override, the field the driver must name)
        ({"id": "nul\0/../etc"}, "sandbox.id"),
        ({"name": "nul-ok\0x"}, "sandbox.name"),
        ({"namespace": "ns\0x"}, "sandbox.namespace"),
        ({"log_level": "info\0x"}, "sandbox.spec.log_level"),
        ({"env_key": "FOO\0X"}, "sandbox.spec.environment.key"),
        ({"env_value": "bar\0x"}, "sandbox.spec.environment.value"),
        ({"token": "tok\0x"}, "sandbox.spec.sandbox_token"),
        ({"command": "/bin/sh\0-c"}, "sandbox.spec.command"),
        ({"image": args.image + "\0x"}, "sandbox.spec.template.image"),
        ({"label_key": "te\0am"}, "sandbox.spec.template.labels.key"),
        ({"label_value": "a\0b"}, "sandbox.spec.template.labels.value"),
        ({"tenv_key": "T\0FOO"}, "sandbox.spec.template.environment.key"),
        ({"tenv_value": "b\0c"}, "sandbox.spec.template.environment.value"),
        ({"annotation": "v\0w"},
         "sandbox.spec.template.platform_config.fields.value.struct_value.fields.value"),
        ({"driver_cfg": "x\0y"}, "sandbox.spec.template.driver_config.fields.value"),
    ]
    try:
        # CONTROL: the same request without a NUL passes validation, so a
        # refusal below is the NUL's doing
        code, msg = code_of(lambda: s.ValidateSandboxCreate(
            pb.ValidateSandboxCreateRequest(sandbox=full()), timeout=10))
        check(code == C.OK, f"control: the request without a NUL is valid ({code.name} {msg})")
        for over, field in cases:
            for rpc in ("ValidateSandboxCreate", "CreateSandbox"):
                req = (pb.ValidateSandboxCreateRequest if rpc.startswith("Validate")
                       else pb.CreateSandboxRequest)(sandbox=full(**over))
                code, msg = code_of(lambda: getattr(s, rpc)(req, timeout=10))
                check(code == C.INVALID_ARGUMENT and field in msg and "NUL" in msg,
                      f"{rpc} with a NUL in {field}: {code.name} \"{msg}\"")
        for sid in ("nul-ok", "nul"):  # what a cut value would have named
            code, _ = code_of(lambda: s.GetSandbox(pb.GetSandboxRequest(sandbox_id=sid),
                                                   timeout=5))
            check(code == C.NOT_FOUND, f"nothing was created as {sid!r}")
        s.CreateSandbox(pb.CreateSandboxRequest(sandbox=full(id="x", name="x")), timeout=10)
        for rpc in ("GetSandbox", "StopSandbox", "StartSandbox", "DeleteSandbox"):
            mk = getattr(pb, rpc + "Request")
            for field, req in (("sandbox_id", mk(sandbox_id="x\0other", sandbox_name="x")),
                               ("sandbox_name", mk(sandbox_id="x", sandbox_name="x\0other"))):
                code, msg = code_of(lambda: getattr(s, rpc)(req, timeout=10))
                check(code == C.INVALID_ARGUMENT and field in msg and "NUL" in msg,
                      f"{rpc} with a NUL in {field}: {code.name} \"{msg}\"")
        # CONTROL: "x" itself exists and is answered
        got = s.GetSandbox(pb.GetSandboxRequest(sandbox_id="x", sandbox_name="x"), timeout=5)
        check(got.sandbox.id == "x", "control: GetSandbox(\"x\") answers")
        s.DeleteSandbox(pb.DeleteSandboxRequest(sandbox_id="x"), timeout=10)
    finally:
        rc = drv.stop()
    check(rc == 0, f"driver exited 0 (got {rc})")


SUITES = {"lifecycle": suite_lifecycle, "testmem": suite_testmem, "perms": suite_perms,
          "sigterm": suite_sigterm, "slowstream": suite_slowstream,
          "nulstrings": suite_nulstrings}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True, help="directory with the reference protos")
    ap.add_argument("--socket", required=True)
    ap.add_argument("--driver", help="command that starts the driver (--socket is appended); "
                                     "omit to test an already running driver")
    ap.add_argument("--suite", action="append", choices=sorted(SUITES))
    ap.add_argument("--image", default="registry.example/sandbox@sha256:" + "0" * 64)
    ap.add_argument("--prefix", default="gwc")
    ap.add_argument("--token", default="tok-SECRET-" + os.urandom(6).hex())
    ap.add_argument("--expect-digest", action="store_true",
                    help="the backend must refuse images without a digest")
    ap.add_argument("--create-timeout", type=float, default=60)
    ap.add_argument("--event-timeout", type=float, default=10)
    args = ap.parse_args()
    if not os.path.isfile(os.path.join(args.reference, "compute_driver.proto")):
        log(f"SKIP: no reference protos in {args.reference}")
        return SKIP
    try:
        import grpc  # noqa: F401
        import grpc_tools  # noqa: F401
    except ImportError as e:
        log(f"SKIP: {e} (install python3-grpcio python3-grpc-tools)")
        return SKIP
    tmp = tempfile.mkdtemp(prefix="gwc-")
    try:
        generate_stubs(args.reference, tmp)
        for name in args.suite or ["lifecycle"]:
            log(f"=== suite {name}")
            try:
                SUITES[name](args, tmp)
            except SystemExit as e:
                if e.code == SKIP:
                    log(f"SKIP suite {name}: needs root and setpriv")
                    continue
                raise
    except Failed as e:
        log(f"FAIL: {e}")
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
