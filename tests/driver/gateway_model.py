"""An executable model of the OpenShell gateway's compute runtime: how the
upstream gateway stores what a compute driver tells it, and when it calls
the driver.  The driver suites use it as their peer, so a driver that the
real gateway would mishandle fails here.

Every rule cites the upstream code it mirrors, all at NVIDIA/OpenShell
main 2f7fb65 (see docs/platform/gateway.md, "The gateway's compute-runtime
rules"):
  mod.rs      = crates/openshell-server/src/compute/mod.rs
  persist.rs  = crates/openshell-server/src/persistence/mod.rs
  sandbox.rs  = crates/openshell-server/src/grpc/sandbox.rs

The model is strict on purpose: it has no leniency upstream lacks.  What it
leaves out (the SQL store, policies, providers' contents, SSH sessions,
object-version CAS retries) does not change what a driver sees.  The
supervisor is simulated: when `auto_session` is on, a sandbox whose driver
snapshot says Ready=True gets a supervisor session, as the real supervisor
dials in once its sandbox runs; a stop ends it.

Protobuf messages are the caller's: the model needs only the generated
`compute_driver_pb2` module the suites already load (gateway_client.py's
generate_stubs), so proto loading stays in one place.
"""

import threading
import time

# SandboxPhase names (openshell.datamodel.v1), as the gateway stores them
UNKNOWN, PROVISIONING, READY, ERROR = "Unknown", "Provisioning", "Ready", "Error"
DELETING, STOPPING, STOPPED, STARTING = "Deleting", "Stopping", "Stopped", "Starting"

# mod.rs:4049-4062 is_terminal_failure_reason: every Ready=False reason is
# terminal except these, compared case-insensitively.
TRANSIENT_REASONS = frozenset((
    "reconcilererror", "dependenciesnotready", "supervisornotconnected", "starting",
    "containerstarting", "containercreated", "healthcheckstarting", "inspectfailed"))

WATCH_REOPEN_DELAY_S = 2.0      # mod.rs:2537, 2570: sleep 2 s after a failed/ended watch
RECONCILE_INTERVAL_S = 60.0     # mod.rs:286
ORPHAN_GRACE_PERIOD_S = 300.0   # mod.rs:290


class GatewayError(Exception):
    """What the gateway answers its own client (a grpc status code name)."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ApplyError(Exception):
    """A driver snapshot the gateway could not apply (logged upstream)."""


def is_terminal_failure_reason(reason):
    """mod.rs:4049-4062."""
    return reason.lower() not in TRANSIENT_REASONS


def derive_phase(status):
    """mod.rs:3978-4010: the backend phase of a DriverSandboxStatus (None =
    no status).  Suspended is matched case-insensitively in type and status;
    the FIRST condition whose type is exactly "Ready" decides the rest."""
    if status is None:
        return UNKNOWN
    if status.deleting:
        return DELETING
    if any(c.type.lower() == "suspended" and c.status.lower() == "true"
           for c in status.conditions):
        return STOPPED
    for c in status.conditions:
        if c.type == "Ready":
            if c.status.lower() == "true":
                return READY
            if c.status.lower() == "false":
                return ERROR if is_terminal_failure_reason(c.reason) else PROVISIONING
            return PROVISIONING
    return PROVISIONING


def composed_phase(status, session_connected):
    """mod.rs:3873-3891 ComposedPhase::new: Ready needs a supervisor session;
    a live session makes any non-terminal backend phase Ready."""
    backend = derive_phase(status)
    if backend in (ERROR, DELETING, STOPPED):
        return backend
    return READY if session_connected else PROVISIONING


def _confirms_stopped(incoming):
    """mod.rs:3822-3832."""
    return incoming.HasField("status") and any(
        c.status.lower() == "false" and c.reason.lower() in ("containerexited", "containerstopped")
        for c in incoming.status.conditions)


def _confirms_stopping(incoming):
    """mod.rs:3834-3845."""
    return incoming.HasField("status") and any(
        c.type.lower() == "suspended" and c.status.lower() == "false" and
        c.reason.lower() in ("podterminating", "podnotterminated")
        for c in incoming.status.conditions)


class Row:
    """One sandbox row of the gateway's store."""

    def __init__(self, sid, name, phase, now):
        self.id, self.name, self.phase = sid, name, phase
        self.status = None  # the last applied DriverSandboxStatus
        self.created = self.updated = now

    def copy(self):
        r = Row(self.id, self.name, self.phase, self.created)
        r.status, r.updated = self.status, self.updated
        return r


def apply_driver_snapshot(row, incoming, session_connected):
    """mod.rs:3710-3820 apply_driver_snapshot: returns the row as the
    gateway would write it.  The store then refuses a changed name
    (store_update)."""
    new = row.copy()
    if row.phase == ERROR:  # mod.rs:3714-3722: Error is terminal; only the name is copied
        new.name = incoming.name
        return new
    if incoming.HasField("status"):
        phase = composed_phase(incoming.status, session_connected)
        new.status = incoming.status
    else:  # mod.rs:3727-3741: no status keeps the phase, a session promotes it
        phase = row.phase
        if session_connected and phase in (PROVISIONING, UNKNOWN):
            phase = READY
    old = row.phase
    if old == STOPPING:  # mod.rs:3753-3762
        if phase == STOPPED or _confirms_stopped(incoming):
            phase = STOPPED
        elif _confirms_stopping(incoming) or phase != ERROR:
            phase = STOPPING
    elif old == STOPPED:  # mod.rs:3763: never changed by a later snapshot
        phase = STOPPED
    elif old == STARTING and phase not in (READY, ERROR):  # mod.rs:3764-3766
        phase = STARTING
    new.phase = phase
    new.name = incoming.name  # mod.rs:3814-3816: metadata.name = DriverSandbox.name
    return new


def store_update(current, updated):
    """persist.rs:861-866: a changed name is refused."""
    if updated.name != current.name:
        raise ApplyError("sandbox name cannot be changed after creation "
                         f"(stored {current.name!r}, driver reported {updated.name!r})")


def gateway_defaults(sandbox):
    """sandbox.rs:226-229: a sandbox created without a command gets the
    login shell with a terminal; the driver never sees an empty command
    from the gateway.  Returns a copy."""
    sb = type(sandbox)()
    sb.CopyFrom(sandbox)
    if sb.HasField("spec") and not sb.spec.command:
        sb.spec.command[:] = ["/bin/bash", "-l"]
        if "tty" in type(sb.spec).DESCRIPTOR.fields_by_name:
            sb.spec.tty = True
    return sb


def _code(e):
    try:
        return e.code().name
    except Exception:  # not a grpc error
        return "UNKNOWN"


def _details(e):
    try:
        return e.details() or ""
    except Exception:
        return str(e)


class GatewayModel:
    """The gateway's compute runtime against one driver stub.

    stub: a ComputeDriverStub (or a test double with the same methods);
    pb: the compute_driver_pb2 module.  `sleep` is injectable so the unit
    tests can see the watch re-open delay without waiting for it."""

    def __init__(self, stub, pb, auto_session=True, sleep=time.sleep, clock=time.monotonic,
                 log=None):
        self.stub, self.pb = stub, pb
        self.auto_session = auto_session
        self.sleep, self.clock = sleep, clock
        self.log = log or (lambda msg: None)
        # mod.rs:698-700 sync_lock: ONE process-wide lock for watch events,
        # reconcile, supervisor sessions, lifecycle calls and (with
        # providers) the whole CreateSandbox call
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.rows = {}
        self.sessions = set()
        self.apply_errors = []     # (sandbox id, message): each one a driver bug
        self.lock_holds = []       # (sandbox id, seconds the create held the lock)
        self.watch_opens = []      # clock() at each WatchSandboxes open
        self.watch_failures = []   # (clock(), "CODE: details") of ended streams
        self.sleeps = []           # delays the watch loop asked for
        self._stop = threading.Event()
        self._call = None
        self._thread = None

    # ---- the store, always under self.lock -------------------------------

    def _write(self, new):
        new.updated = self.clock()
        self.rows[new.id] = new
        self.changed.notify_all()

    def _drop(self, sid):
        self.rows.pop(sid, None)
        self.sessions.discard(sid)
        self.changed.notify_all()

    def _apply_locked(self, incoming):
        """mod.rs:2730-2762 apply_sandbox_update_locked + 2766-2798."""
        cur = self.rows.get(incoming.id)
        if cur is None:  # mod.rs:2735-2745: the store is authoritative; unknown ids are ignored
            return
        if cur.phase == DELETING:  # mod.rs:2748-2754
            return
        session = incoming.id in self.sessions
        new = apply_driver_snapshot(cur, incoming, session)
        store_update(cur, new)
        self._write(new)
        if cur.phase != STOPPED and new.phase == STOPPED:  # mod.rs:2792-2796
            self.sessions.discard(incoming.id)
        if (self.auto_session and incoming.HasField("status") and
                derive_phase(incoming.status) == READY):
            self._session_locked(incoming.id, True)

    def _session_locked(self, sid, connected):
        """mod.rs:2814-2870 set_supervisor_session_state."""
        cur = self.rows.get(sid)
        if cur is None:
            return
        if connected:
            self.sessions.add(sid)
        else:
            self.sessions.discard(sid)
        # mod.rs:2831-2841: ignored while Deleting, Error, Stopping or Stopped
        if cur.phase in (DELETING, ERROR, STOPPING, STOPPED):
            return
        if not connected and cur.phase != READY:
            return
        new = cur.copy()
        new.phase = READY if connected else PROVISIONING  # mod.rs:2856, 2859
        self._write(new)

    # ---- driver snapshots ------------------------------------------------

    def apply_snapshot(self, incoming):
        """mod.rs:2720-2728: one watch Sandbox event (raises ApplyError)."""
        with self.lock:
            self._apply_locked(incoming)

    def apply_deleted(self, sid):
        """mod.rs:2964-2986: a watch Deleted event removes the row."""
        with self.lock:
            self._drop(sid)

    def apply_event(self, ev):
        """mod.rs:2655-2718; a failure is logged upstream and the stream goes
        on (mod.rs:2549-2551): the model records it in apply_errors."""
        kind = ev.WhichOneof("payload")
        try:
            if kind == "sandbox":
                self.apply_snapshot(ev.sandbox.sandbox)
            elif kind == "deleted":
                self.apply_deleted(ev.deleted.sandbox_id)
        except ApplyError as e:
            sid = ev.sandbox.sandbox.id if kind == "sandbox" else ev.deleted.sandbox_id
            self.apply_errors.append((sid, str(e)))
            self.log(f"gateway model: failed to apply a driver event for {sid}: {e}")

    def supervisor_connected(self, sid, connected=True):
        with self.lock:
            self._session_locked(sid, connected)

    # ---- the watch loop --------------------------------------------------

    def start_watch(self):
        self._thread = threading.Thread(target=self._watch_loop, daemon=True)
        self._thread.start()

    def _watch_loop(self):
        """mod.rs:2520-2574: open, apply every event, and after an error or
        an end wait 2 s and open again."""
        pb = self.pb
        while not self._stop.is_set():
            self.watch_opens.append(self.clock())
            try:
                self._call = self.stub.WatchSandboxes(pb.WatchSandboxesRequest())
                for ev in self._call:
                    if self._stop.is_set():
                        return
                    self.apply_event(ev)
                self.watch_failures.append((self.clock(), "ended"))
            except Exception as e:  # grpc.RpcError
                if self._stop.is_set():
                    return
                self.watch_failures.append((self.clock(), f"{_code(e)}: {_details(e)}"))
                self.log(f"gateway model: watch stream failed ({_code(e)}: {_details(e)})")
            self.sleeps.append(WATCH_REOPEN_DELAY_S)
            self.sleep(WATCH_REOPEN_DELAY_S)

    def close(self):
        self._stop.set()
        if self._call is not None:
            try:
                self._call.cancel()
            except Exception:
                pass
        if self._thread is not None:
            self._thread.join(5)

    # ---- the gateway's own RPCs ------------------------------------------

    def create(self, sandbox, providers=True, timeout=120):
        """sandbox.rs:213-368 + mod.rs:895-997.  `sandbox` is the
        DriverSandbox the gateway sends (id and the user's name).  With
        providers the global lock is held from before the row is written
        until the driver answers (sandbox.rs:253-257 .. 368); the time it
        was held is recorded in lock_holds."""
        pb = self.pb
        sandbox = gateway_defaults(sandbox)
        held = None
        if providers:
            self.lock.acquire()
            held = self.clock()
        try:
            if providers:
                self._create_row_locked(sandbox)
            else:
                with self.lock:
                    self._create_row_locked(sandbox)
            try:
                self.stub.CreateSandbox(pb.CreateSandboxRequest(sandbox=sandbox), timeout=timeout)
            except Exception as e:
                code, msg = _code(e), _details(e)
                self._locked_or_held(providers, lambda: self._drop(sandbox.id))
                if code == "ALREADY_EXISTS":  # mod.rs:969-976
                    raise GatewayError("ALREADY_EXISTS", "sandbox already exists") from None
                if code == "FAILED_PRECONDITION":  # mod.rs:977-984
                    raise GatewayError("FAILED_PRECONDITION", msg) from None
                raise GatewayError("INTERNAL", f"create sandbox failed: {msg}") from None
        finally:
            if providers:
                self.lock_holds.append((sandbox.id, self.clock() - held))
                self.lock.release()

    def _locked_or_held(self, held, fn):
        if held:
            fn()
        else:
            with self.lock:
                fn()

    def _create_row_locked(self, sandbox):
        # mod.rs:914-938 put_if(MustCreate); sandbox.rs:337 phase Provisioning
        if sandbox.id in self.rows:
            raise GatewayError("ALREADY_EXISTS", f"sandbox '{sandbox.name}' already exists")
        self._write(Row(sandbox.id, sandbox.name, PROVISIONING, self.clock()))

    def _get_driver_sandbox(self, sid, name):
        """mod.rs:3279-3315: NOT_FOUND is None; another id is an error."""
        try:
            got = self.stub.GetSandbox(self.pb.GetSandboxRequest(sandbox_id=sid,
                                                                 sandbox_name=name), timeout=30)
        except Exception as e:
            if _code(e) == "NOT_FOUND":
                return None
            raise ApplyError(f"{_code(e)}: {_details(e)}") from None
        if got.HasField("sandbox") and got.sandbox.id != sid:
            raise ApplyError(f"compute driver returned sandbox '{got.sandbox.id}' for "
                             f"requested id '{sid}'")
        return got.sandbox if got.HasField("sandbox") else None

    def stop(self, sid):
        """mod.rs:999-1152: Ready (or Stopping) -> Stopping, the driver call
        outside the lock, then Stopped; a failed call restores the row."""
        with self.lock:
            cur = self._row(sid)
            if cur.phase == STOPPED:
                return cur
            if cur.phase not in (READY, STOPPING):  # mod.rs:1033-1037
                raise GatewayError("FAILED_PRECONDITION",
                                   f"sandbox must be Ready to stop (current phase: {cur.phase})")
            previous = cur
            stopping = cur.copy()
            stopping.phase = STOPPING
            self._write(stopping)
        try:
            self.stub.StopSandbox(self.pb.StopSandboxRequest(sandbox_id=sid, sandbox_name=cur.name),
                                  timeout=120)
        except Exception as e:
            self._recover(sid, previous)
            raise GatewayError(_code(e), f"stop sandbox failed: {_details(e)}") from None
        with self.lock:
            latest = self._row(sid)
            if latest.phase == STOPPING:  # mod.rs:1121-1135
                latest = latest.copy()
                latest.phase = STOPPED
                self._write(latest)
            elif latest.phase != STOPPED:
                raise GatewayError("ABORTED", "sandbox lifecycle changed while stop completed")
            self.sessions.discard(sid)
            return latest

    def start(self, sid):
        """mod.rs:1154-1287: Stopped (or Starting) -> Starting; snapshots and
        the supervisor session take it on from there."""
        with self.lock:
            cur = self._row(sid)
            if cur.phase == READY:
                return cur
            if cur.phase not in (STOPPED, STARTING):  # mod.rs:1185-1189
                raise GatewayError("FAILED_PRECONDITION",
                                   f"sandbox must be Stopped to start (current phase: {cur.phase})")
            previous = cur
            starting = cur.copy()
            starting.phase = STARTING
            self._write(starting)
        try:
            self.stub.StartSandbox(self.pb.StartSandboxRequest(sandbox_id=sid,
                                                               sandbox_name=cur.name), timeout=120)
        except Exception as e:
            self._recover(sid, previous)
            raise GatewayError(_code(e), f"start sandbox failed: {_details(e)}") from None
        with self.lock:
            return self._row(sid)

    def _recover(self, sid, previous):
        """mod.rs:1289-1344, reduced: the driver's own snapshot if it has
        one, else the row as it was before the call."""
        try:
            snap = self._get_driver_sandbox(sid, previous.name)
        except ApplyError:
            snap = None
        with self.lock:
            if sid not in self.rows:
                return
            if snap is not None and snap.HasField("status"):
                new = apply_driver_snapshot(previous, snap, sid in self.sessions)
                store_update(previous, new)
                self._write(new)
            else:
                self._write(previous.copy())

    def delete(self, sid):
        """mod.rs:1440-1578: the row becomes Deleting, the driver call runs
        outside the lock; deleted=true leaves the row for the watch's
        Deleted event, deleted=false removes it at once; a failed call is
        recovered from GetSandbox, where NOT_FOUND drops the row
        (mod.rs:1809-1821) whatever the driver still holds."""
        with self.lock:
            cur = self.rows.get(sid)
            if cur is None:
                return True
            if cur.phase == DELETING:
                return True
            previous = cur
            deleting = cur.copy()
            deleting.phase = DELETING
            self._write(deleting)
        try:
            r = self.stub.DeleteSandbox(self.pb.DeleteSandboxRequest(
                sandbox_id=sid, sandbox_name=cur.name), timeout=120)
        except Exception as e:
            try:
                snap = self._get_driver_sandbox(sid, cur.name)
                failed = False
            except ApplyError:
                snap, failed = None, True
            with self.lock:
                if snap is None and not failed:
                    self._drop(sid)  # mod.rs:1809-1821
                elif snap is not None and snap.HasField("status"):
                    new = apply_driver_snapshot(deleting, snap, sid in self.sessions)
                    store_update(deleting, new)
                    self._write(new)
                else:
                    self._write(previous.copy())
            raise GatewayError("INTERNAL", f"delete sandbox failed: {_details(e)}") from None
        if not r.deleted:
            with self.lock:
                self._drop(sid)
        return r.deleted

    def reconcile(self, grace_s=ORPHAN_GRACE_PERIOD_S):
        """mod.rs:2598-2653, one pass.  Every listed sandbox the store has is
        fetched again and applied; rows the listing lacks and older than the
        grace period are fetched: NOT_FOUND drops them, except Stopping,
        Stopped and Starting rows, which become Error (mod.rs:3170-3277).
        The pass STOPS at the first failure (the `?` at mod.rs:2619-2621)
        and raises it: the rows after it are not reconciled."""
        started = self.clock()
        listed = self.stub.ListSandboxes(self.pb.ListSandboxesRequest(), timeout=60).sandboxes
        ids = {s.id for s in listed}
        for snap in listed:  # mod.rs:3122-3168 reconcile_snapshot_sandbox
            with self.lock:
                cur = self.rows.get(snap.id)
                if cur is None or cur.updated > started:
                    continue
            current = self._get_driver_sandbox(snap.id, snap.name)  # raises: the pass stops
            if current is None:
                continue
            with self.lock:
                self._apply_locked(current)  # raises: the pass stops
        with self.lock:
            missing = [r.copy() for r in self.rows.values() if r.id not in ids]
        for row in missing:  # mod.rs:3170-3277 prune_missing_sandbox
            if row.updated > started or self.clock() - row.created < grace_s:
                continue
            current = self._get_driver_sandbox(row.id, row.name)
            with self.lock:
                if row.id not in self.rows:
                    continue
                if current is not None:
                    self._apply_locked(current)
                elif self.rows[row.id].phase in (STOPPING, STOPPED, STARTING):
                    err = self.rows[row.id].copy()
                    err.phase = ERROR  # reason ComputeResourceMissing
                    self._write(err)
                else:
                    self._drop(row.id)

    # ---- what the suites ask ---------------------------------------------

    def _row(self, sid):
        cur = self.rows.get(sid)
        if cur is None:
            raise GatewayError("NOT_FOUND", "sandbox not found")
        return cur

    def phase(self, sid):
        with self.lock:
            r = self.rows.get(sid)
            return r.phase if r is not None else None

    def name(self, sid):
        with self.lock:
            r = self.rows.get(sid)
            return r.name if r is not None else None

    def wait(self, pred, timeout):
        """Waits until pred(rows) holds; returns whether it did."""
        deadline = self.clock() + timeout
        with self.lock:
            while not pred(self.rows):
                left = deadline - self.clock()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 0.25))
            return True

    def wait_phase(self, sid, phase, timeout):
        return self.wait(lambda rows: sid in rows and rows[sid].phase == phase, timeout)

    def wait_gone(self, sid, timeout):
        return self.wait(lambda rows: sid not in rows, timeout)

    def max_lock_hold(self):
        return max((s for _, s in self.lock_holds), default=0.0)
