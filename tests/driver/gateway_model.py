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
  validation.rs = crates/openshell-server/src/grpc/validation.rs
  grpc/mod.rs, grpc/workspace.rs under crates/openshell-server/src/

The model is strict on purpose: it has no leniency upstream lacks.  It
connects as the gateway does (GetCapabilities, listener requirements), and
creates only what the gateway's CreateSandbox handler would let through,
shaped as the gateway shapes it, after the driver's ValidateSandboxCreate.
What it leaves out (the SQL store, auth and workspaces' own objects,
policies, providers' contents, SSH sessions, CAS retry loops, per-id
lifecycle gates, startup/shutdown lifecycle, main-process exit reports)
does not change what this driver sees in the lifecycle suites.  The
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


def _lower(s):
    """str::to_ascii_lowercase: only A-Z fold.  Python's str.lower() also
    folds non-ASCII letters (U+212A KELVIN SIGN becomes "k"), which would
    make a reason upstream calls terminal look transient."""
    return s.translate(_ASCII_FOLD)


_ASCII_FOLD = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _eq(a, b):
    """str::eq_ignore_ascii_case."""
    return _lower(a) == _lower(b)


def is_terminal_failure_reason(reason):
    """mod.rs:4049-4062 (to_ascii_lowercase, then the list)."""
    return _lower(reason) not in TRANSIENT_REASONS


def derive_phase(status):
    """mod.rs:3978-4010: the backend phase of a DriverSandboxStatus (None =
    no status).  Suspended is matched case-insensitively in type and status;
    the FIRST condition whose type is exactly "Ready" decides the rest."""
    if status is None:
        return UNKNOWN
    if status.deleting:
        return DELETING
    if any(_eq(c.type, "suspended") and _eq(c.status, "true") for c in status.conditions):
        return STOPPED
    for c in status.conditions:
        if c.type == "Ready":
            if _eq(c.status, "true"):
                return READY
            if _eq(c.status, "false"):
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
        _eq(c.status, "false") and _lower(c.reason) in ("containerexited", "containerstopped")
        for c in incoming.status.conditions)


def _confirms_stopping(incoming):
    """mod.rs:3834-3845."""
    return incoming.HasField("status") and any(
        _eq(c.type, "suspended") and _eq(c.status, "false") and
        _lower(c.reason) in ("podterminating", "podnotterminated")
        for c in incoming.status.conditions)


class Row:
    """One sandbox row of the gateway's store."""

    def __init__(self, sid, name, phase, now):
        self.id, self.name, self.phase = sid, name, phase
        self.status = None  # the last applied DriverSandboxStatus
        self.created = self.updated = now
        self.version = 0    # resource_version: every write bumps it (persist.rs:875-890)
        self.workspace = DEFAULT_WORKSPACE

    def copy(self):
        r = Row(self.id, self.name, self.phase, self.created)
        r.status, r.updated, r.version = self.status, self.updated, self.version
        r.workspace = self.workspace
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


# validation.rs = crates/openshell-server/src/grpc/validation.rs
MAX_NAME_LEN = 253              # grpc/mod.rs:126
MAX_ROUTABLE_NAME_LEN = 19      # grpc/mod.rs:130: a sandbox name the user gives
MAX_MAIN_PROCESS_ARGS = 256     # validation.rs:37
MAX_MAIN_PROCESS_ARGV_SIZE = 256 * 1024  # validation.rs:39
MAX_EXEC_ARG_LEN = 32 * 1024    # validation.rs:33
DEFAULT_WORKSPACE = "default"   # grpc/workspace.rs:36


def _invalid(msg):
    return GatewayError("INVALID_ARGUMENT", msg)


def validate_name(name):
    """validation.rs:158-164 + 115-143: a non-empty name is at most 19
    bytes and a DNS-1123 label (ASCII lowercase, digits, hyphens; no hyphen
    at either end, none doubled)."""
    if not name:
        return
    if len(name.encode()) > MAX_ROUTABLE_NAME_LEN:
        raise _invalid(f"name exceeds maximum length ({len(name.encode())} > "
                       f"{MAX_ROUTABLE_NAME_LEN})")
    if not all(c in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in name):
        raise _invalid("name must contain only lowercase alphanumeric characters or hyphens")
    if name.startswith("-") or name.endswith("-"):
        raise _invalid("name must not start or end with a hyphen")
    if "--" in name:
        raise _invalid("name must not contain consecutive hyphens")


def validate_command(command):
    """validation.rs:218-245 validate_main_process_command (NUL: validation.rs:87-93)."""
    if len(command) > MAX_MAIN_PROCESS_ARGS:
        raise _invalid(f"spec.command exceeds {MAX_MAIN_PROCESS_ARGS} argument limit")
    if not command[0]:
        raise _invalid("spec.command[0] must not be empty")
    if sum(len(a.encode()) for a in command) > MAX_MAIN_PROCESS_ARGV_SIZE:
        raise _invalid(f"spec.command total size exceeds {MAX_MAIN_PROCESS_ARGV_SIZE} byte limit")
    for i, a in enumerate(command):
        if len(a.encode()) > MAX_EXEC_ARG_LEN:
            raise _invalid(f"spec.command[{i}] exceeds {MAX_EXEC_ARG_LEN} byte limit")
        if "\0" in a:
            raise _invalid(f"spec.command[{i}] contains null bytes")


def gateway_request(sandbox, default_image, name_source=None):
    """The DriverSandbox the gateway really sends, built from what a user
    asked for (`sandbox`: id = the gateway's id, the user's name, spec).
    Returns (for ValidateSandboxCreate, for CreateSandbox); raises
    GatewayError for what the gateway refuses before any driver call.

      sandbox.rs:219-221  no spec: INVALID_ARGUMENT
      sandbox.rs:226-229  no command: /bin/bash -l with a terminal
      sandbox.rs:232      name and command validated (validate_name,
                          validate_command)
      sandbox.rs:281-284  the template always exists; an empty image is
                          the driver's GetCapabilities default_image
      sandbox.rs:300-305  an empty name is generated (a routable name)
      sandbox.rs:321      a new row has no status
      mod.rs:3400         namespace is always "" (the driver picks it)
      mod.rs:3407         workspace: the resolved workspace's name
                          ("default", grpc/workspace.rs:36)
      mod.rs:3431 + 943-946  the spec conversion clears sandbox_token:
                          ValidateSandboxCreate never sees it; only
                          CreateSandbox carries the minted token
    """
    if not sandbox.HasField("spec"):
        raise _invalid("spec is required")
    sb = type(sandbox)()
    sb.CopyFrom(sandbox)
    if not sb.spec.command:
        sb.spec.command[:] = ["/bin/bash", "-l"]
        sb.spec.tty = True
    validate_name(sb.name)
    validate_command(list(sb.spec.command))
    if not sb.spec.template.image:  # touching .template creates it, as get_or_insert_with
        sb.spec.template.image = default_image
    if not sb.name:
        sb.name = (name_source or _routable_name)()
    sb.namespace = ""
    sb.ClearField("status")
    if not sb.workspace:
        sb.workspace = DEFAULT_WORKSPACE
    token = sb.spec.sandbox_token
    sb.spec.sandbox_token = ""
    validate = type(sb)()
    validate.CopyFrom(sb)
    sb.spec.sandbox_token = token
    return validate, sb


def _routable_name():
    """sandbox.rs:144-149 generate_routable_name: a petname cut to 19
    bytes; the model uses a random DNS label of that length."""
    import os
    return "sandbox-" + os.urandom(5).hex()[:10]


def _is_socket_addr(text):
    """Rust's SocketAddr::from_str: "a.b.c.d:port" or "[v6]:port"."""
    import ipaddress
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        kind = ipaddress.IPv6Address
    else:
        host, sep, port = text.rpartition(":")
        kind = ipaddress.IPv4Address
    if not sep or not port.isdigit() or not port.isascii() or int(port) > 65535:
        return False
    try:
        kind(host)
    except ValueError:
        return False
    return "%" not in host or host.rpartition("%")[2].isdigit()  # scope ids are numeric


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
                 log=None, driver_name="substrate"):
        self.stub, self.pb = stub, pb
        self.driver_name = driver_name
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
        self._connect()

    def _connect(self):
        """mod.rs:590-677 from_driver: the runtime does not exist unless
        GetCapabilities answers (any error is fatal, mod.rs:600-607); its
        default_image fills every create without an image (mod.rs:621,
        sandbox.rs:281-284).  GetGatewayListenerRequirements may be
        UNIMPLEMENTED (mod.rs:666-672); any other error, or a requirement
        without a selector, stops the gateway (mod.rs:633-637, 673)."""
        pb = self.pb
        try:
            caps = self.stub.GetCapabilities(pb.GetCapabilitiesRequest(), timeout=30)
        except Exception as e:
            raise GatewayError(_code(e), f"compute driver GetCapabilities failed: "
                               f"{_details(e)}") from None
        self.default_image = caps.default_image
        self.gateway_manages_lifecycle = caps.gateway_manages_lifecycle
        try:
            reqs = self.stub.GetGatewayListenerRequirements(
                pb.GetGatewayListenerRequirementsRequest(), timeout=30).requirements
        except Exception as e:
            if _code(e) != "UNIMPLEMENTED":
                raise GatewayError(_code(e), "compute driver GetGatewayListenerRequirements "
                                   f"failed: {_details(e)}") from None
            reqs = []
        for r in reqs:
            if r.WhichOneof("selector") is None:
                raise GatewayError("INTERNAL", f"compute driver '{self.driver_name}' returned "
                                   "a gateway listener requirement without a selector")
            if r.WhichOneof("selector") == "exact_bind_address" and \
                    not _is_socket_addr(r.exact_bind_address):  # mod.rs:639-644
                raise GatewayError("INTERNAL", f"compute driver '{self.driver_name}' returned "
                                   "invalid gateway listener address "
                                   f"'{r.exact_bind_address}'")

    # ---- the store, always under self.lock -------------------------------

    def _write(self, new):
        new.updated = self.clock()
        new.version = self.rows[new.id].version + 1 if new.id in self.rows else 1
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
        """sandbox.rs:213-368 + mod.rs:895-997.  `sandbox` is what the user
        asked for, with the gateway's id: gateway_request turns it into the
        DriverSandbox the gateway sends.  With providers the global lock is
        held from sandbox.rs:253-257 until create_sandbox returns
        (sandbox.rs:368): across ValidateSandboxCreate, the row's write and
        CreateSandbox; the time it was held is recorded in lock_holds.
        Returns the DriverSandbox sent to CreateSandbox."""
        pb = self.pb
        validate, sandbox = gateway_request(sandbox, self.default_image)
        held = None
        if providers:
            self.lock.acquire()
            held = self.clock()
        try:
            # sandbox.rs:339-346: the driver's validation, before any row;
            # its status goes back to the user as it is
            try:
                self.stub.ValidateSandboxCreate(pb.ValidateSandboxCreateRequest(sandbox=validate),
                                                timeout=timeout)
            except Exception as e:
                raise GatewayError(_code(e), _details(e)) from None
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
            return sandbox
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
        """mod.rs:916-940 put_if(MustCreate): the id, and the name within
        its workspace (migrations/sqlite/006_add_workspace_column.sql:13-15),
        are unique; sandbox.rs:323: the row starts Provisioning."""
        if sandbox.id in self.rows:
            raise GatewayError("ALREADY_EXISTS", f"sandbox '{sandbox.name}' already exists")
        row = Row(sandbox.id, sandbox.name, PROVISIONING, self.clock())
        row.workspace = sandbox.workspace
        if any(r.name == row.name and r.workspace == row.workspace for r in self.rows.values()):
            raise GatewayError("ALREADY_EXISTS", f"sandbox '{sandbox.name}' already exists")
        self._write(row)

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
        """mod.rs:999-1152: Ready -> Stopping (a Stopping row is retried as
        it is, mod.rs:1039-1042), the driver call outside the lock, then
        Stopped and the supervisor session ended (mod.rs:1121-1147); a
        failed call is recovered (recover_failed_lifecycle)."""
        with self.lock:
            cur = self._row(sid)
            if cur.phase == STOPPED:  # mod.rs:1027-1032: done; sessions cleaned again
                self.sessions.discard(sid)
                return cur
            if cur.phase not in (READY, STOPPING):  # mod.rs:1033-1037
                raise GatewayError("FAILED_PRECONDITION",
                                   f"sandbox must be Ready to stop (current phase: {cur.phase})")
            previous = cur
            if cur.phase == STOPPING:
                stopping = cur
            else:
                stopping = cur.copy()
                stopping.phase = STOPPING
                self._write(stopping)
        try:
            self.stub.StopSandbox(self.pb.StopSandboxRequest(sandbox_id=sid, sandbox_name=cur.name),
                                  timeout=120)
        except Exception as e:
            self._recover(sid, stopping, previous, expected_stopped=True)
            raise GatewayError(_code(e), f"stop sandbox failed: {_details(e)}") from None
        with self.lock:
            latest = self._row(sid)
            if latest.phase == STOPPING:  # mod.rs:1121-1135
                latest = latest.copy()
                latest.phase = STOPPED
                self._write(latest)
            elif latest.phase != STOPPED:
                raise GatewayError("ABORTED", "sandbox lifecycle changed while stop completed")
            self.sessions.discard(sid)  # mod.rs:1136-1138 cleanup_stopped_sandbox_sessions
            return latest

    def start(self, sid):
        """mod.rs:1154-1287: Stopped -> Starting (a Starting row is retried
        as it is, mod.rs:1191-1194); snapshots and the supervisor session
        take it on from there."""
        with self.lock:
            cur = self._row(sid)
            if cur.phase == READY:
                return cur
            if cur.phase not in (STOPPED, STARTING):  # mod.rs:1185-1189
                raise GatewayError("FAILED_PRECONDITION",
                                   f"sandbox must be Stopped to start (current phase: {cur.phase})")
            previous = cur
            if cur.phase == STARTING:
                starting = cur
            else:
                starting = cur.copy()
                starting.phase = STARTING
                self._write(starting)
        try:
            self.stub.StartSandbox(self.pb.StartSandboxRequest(sandbox_id=sid,
                                                               sandbox_name=cur.name), timeout=120)
        except Exception as e:
            self._recover(sid, starting, previous, expected_stopped=False)
            raise GatewayError(_code(e), f"start sandbox failed: {_details(e)}") from None
        with self.lock:
            return self._row(sid)

    def _recover(self, sid, transition, previous, expected_stopped):
        """mod.rs:1289-1344 recover_failed_lifecycle.  The driver's Get
        (outside the lock) decides:
          - no answer, an error, or no status: the row STAYS in its
            transition (Stopping/Starting), mod.rs:1333-1342;
          - a stop the driver still progresses (Suspended=False
            PodTerminating/PodNotTerminated): stays Stopping, 1306-1313;
          - backend Error, or the driver's stopped/running state is the
            one the call wanted: the snapshot is applied to the transition
            row, 1314-1328;
          - otherwise the row before the call is restored, 1329-1331.
        Both writes are CAS on the transition's version (1346-1375,
        1418-1437): a row that changed meanwhile is left alone, and a
        snapshot the store refuses (a changed name) is skipped."""
        try:
            snap, failed = self._get_driver_sandbox(sid, transition.name), False
        except ApplyError:
            snap, failed = None, True
        with self.lock:
            if failed or snap is None or not snap.HasField("status"):
                return
            cur = self.rows.get(sid)
            if cur is None or cur.version != transition.version:
                return
            backend = derive_phase(snap.status)
            observed_stopped = backend == STOPPED or _confirms_stopped(snap)
            if expected_stopped and _confirms_stopping(snap):
                return
            if backend == ERROR or observed_stopped == expected_stopped:
                new = apply_driver_snapshot(cur, snap, sid in self.sessions)
                try:
                    store_update(cur, new)
                except ApplyError as e:
                    self.apply_errors.append((sid, str(e)))
                    return
                self._write(new)
                if new.phase == STOPPED:
                    self.sessions.discard(sid)
            else:
                self._write(previous.copy())

    def delete(self, sid):
        """mod.rs:1440-1578 + sandbox.rs:767-797: an id the store lacks is
        NOT_FOUND (mod.rs:1448-1453); a Deleting row answers deleted=true
        at once (mod.rs:1598-1602); otherwise the row becomes Deleting and
        the driver call runs outside the lock.  deleted=true leaves the row
        for the watch's Deleted event; deleted=false removes it at once,
        and an INTERNAL error if it is no longer Deleting (1651-1716).  A
        failed call is recovered from GetSandbox (1785-1838): a snapshot
        with status is applied to the Deleting row, NOT_FOUND drops the
        row, anything else restores the row before the call; a recovery
        the store refuses leaves the row Deleting (1840-1928)."""
        with self.lock:
            cur = self.rows.get(sid)
            if cur is None:
                raise GatewayError("NOT_FOUND", "sandbox not found")
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
                snap, failed = self._get_driver_sandbox(sid, cur.name), False
            except ApplyError:
                snap, failed = None, True
            with self.lock:
                now = self.rows.get(sid)
                if now is not None and now.version == deleting.version:
                    if snap is None and not failed:
                        self._drop(sid)  # mod.rs:1809-1821
                    elif snap is not None and snap.HasField("status"):
                        new = apply_driver_snapshot(deleting, snap, sid in self.sessions)
                        try:
                            store_update(deleting, new)
                            self._write(new)
                        except ApplyError as err:  # the row remains Deleting
                            self.apply_errors.append((sid, str(err)))
                    else:
                        self._write(previous.copy())
            raise GatewayError("INTERNAL", f"delete sandbox failed: {_details(e)}") from None
        if not r.deleted:
            with self.lock:
                now = self.rows.get(sid)
                if now is not None:
                    if now.phase != DELETING:
                        raise GatewayError("INTERNAL", "compute resource was absent, but "
                                           "gateway cleanup did not complete")
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
                version = cur.version
            current = self._get_driver_sandbox(snap.id, snap.name)  # raises: the pass stops
            if current is None:
                continue
            with self.lock:
                cur = self.rows.get(snap.id)  # mod.rs:3151-3164: changed meanwhile: skipped
                if cur is None or cur.version != version or cur.updated > started:
                    continue
                self._apply_locked(current)  # raises: the pass stops
        with self.lock:
            missing = [r.copy() for r in self.rows.values() if r.id not in ids]
        for row in missing:  # mod.rs:3170-3277 prune_missing_sandbox
            if row.updated > started or self.clock() - row.created < grace_s:
                continue
            current = self._get_driver_sandbox(row.id, row.name)  # raises: the pass stops
            with self.lock:
                cur = self.rows.get(row.id)  # mod.rs:3208-3221: changed meanwhile: skipped
                if cur is None or cur.version != row.version or cur.updated > started:
                    continue
                if current is not None:
                    self._apply_locked(current)
                elif cur.phase in (STOPPING, STOPPED, STARTING):  # mod.rs:3229-3267
                    err = cur.copy()
                    err.phase = ERROR  # reason ComputeResourceMissing
                    self._write(err)
                else:
                    self._drop(row.id)  # mod.rs:3269-3276

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
