#!/usr/bin/python3
"""End to end: the REAL openshell-driver-substrate binary (--backend=substrate,
JSON config file) between the gateway-like client (tests/driver/gateway_client.py,
stubs from the compute_driver.proto tests/lib/protos.py picks) and the FAKE ate-api-server and
FAKE Kubernetes API of tests/driver/substrate (TLS with a test CA, bearer tokens).

Run by e2e.sh / tests/bench/driver.sh after tests/driver/substrate/fakes_lib.sh has
started the fakes and exported OSS_IT_*:

  e2e.py --driver-bin BIN --reference DIR --fake-logs DIR            (tests)
  e2e.py --driver-bin BIN --reference DIR --fake-logs DIR --bench    (benchmark)

Nothing here talks to a real cluster: every peer is a fake on loopback.
"""
import argparse
import base64
import json
import os
import signal
import sys
import tempfile
import threading
import time
import types
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import gateway_client as gc  # noqa: E402
import e2e_bench  # noqa: E402
from gateway_client import Failed, check, code_of, gateway_phase, is_deleted, is_sandbox  # noqa: E402

ATESPACE = "e2e"
NAMESPACE = "e2e-ns"
SHIM = "/opt/oss/bin/openshell-shim"
SUPERVISOR = "/opt/oss/bin/openshell-sandbox"
READYZ_PORT = 8181
GATEWAY = "https://gateway.e2e.example:8080"
SSH_SOCKET = "/run/openshell/e2e-ssh.sock"
IMAGE = "registry.example/sandbox@sha256:" + "a" * 64
ENV = os.environ


def log(msg):
    print(f"[e2e] {msg}", flush=True)


# --------------------------------------------------------------------------
# the fakes' loopback control channels


def ctl(base, verb, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{base}/{verb}", data=data,
                                 method="POST" if data is not None else "GET")
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)


def ate(verb, body=None):
    return ctl(ENV["OSS_IT_ATE_CTL"], verb, body)


def kube(verb, body=None):
    return ctl(ENV["OSS_IT_KUBE_CTL"], verb, body)


def ate_actor(name):
    for a in ate("state")["actors"]:
        if a["atespace"] == ATESPACE and a["name"] == name:
            return a
    return None


def kube_objects(sid):
    """Objects the fake Kubernetes API holds for sandbox sid."""
    out = []
    for o in kube("state")["objects"]:
        if o["namespace"] == NAMESPACE and o["name"] in (f"osb-{sid}", f"osb-{sid}-token"):
            out.append(f"{o['kind']}/{o['name']}")
    return out


def kube_records(sid, method=None, kind=None):
    return [r for r in kube("all_records")["records"]
            if f"/namespaces/{NAMESPACE}/" in r["path"] and
            r["path"].rsplit("/", 1)[1] in (f"osb-{sid}", f"osb-{sid}-token") and
            (method is None or r["method"] == method) and (kind is None or r["kind"] == kind)]


def poll(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise Failed(f"timed out waiting for {what}")


def write_atomic(path, text):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.rename(tmp, path)


# --------------------------------------------------------------------------
# the driver under test


def write_config(tmp):
    cfg = {
        "api_endpoint": ENV["OSS_IT_ATEAPI"],
        "api_tls_ca_path": ENV["OSS_IT_CA"],
        "api_tls_server_name": "api.ate-system.svc",
        "api_bearer_token_path": ENV["OSS_IT_ATE_TOKEN"],
        "atespace": ATESPACE,
        "api_timeout_ms": 3000,
        "kube_api_url": ENV["OSS_IT_KUBE_URL"],
        "kube_ca_path": ENV["OSS_IT_CA"],
        "kube_token_path": ENV["OSS_IT_KUBE_TOKEN"],
        "default_namespace": NAMESPACE,
        "pause_image": "registry.example/pause@sha256:" + "1" * 64,
        "snapshots_location": "gs://e2e-bucket/snapshots",
        "gateway_endpoint": GATEWAY,
        "gateway_tls_secret": "openshell-client-tls",
        "ssh_socket_path": SSH_SOCKET,
        "template_ready_timeout_secs": 30,
        "shim_path": SHIM,
        "supervisor_path": SUPERVISOR,
        "shim_readyz_port": READYZ_PORT,
        "default_workload": ["/bin/sleep", "infinity"],
        "watch_interval_ms": 250,
    }
    path = os.path.join(tmp, "driver.json")
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)
    return path


class Ctx:
    def __init__(self, a, tmp):
        self.bin = a.driver_bin
        self.tmp = tmp
        self.config = write_config(tmp)
        self.token = ENV["OSS_IT_SANDBOX_TOKEN"]
        self.n = 0

    def args(self, **kw):
        """An argparse-like namespace for gateway_client's Driver/suites."""
        self.n += 1
        sock = os.path.join(self.tmp, f"run{self.n}", "driver.sock")
        ns = types.SimpleNamespace(
            driver=f"{self.bin} --backend=substrate --config {self.config} --log-level debug",
            socket=sock, image=IMAGE, prefix="e2e", token=self.token, expect_digest=True,
            create_timeout=60, event_timeout=15)
        for k, v in kw.items():
            setattr(ns, k, v)
        return ns

    def driver(self, env=None, args=None):
        return gc.Driver(args or self.args(), self.tmp, extra_env=env)


def sandbox(pb, sid, token):
    return gc.make_sandbox(pb, sid, IMAGE, env={"E2E": "1"}, token=token)


def create_answer(drv, pb, sid, token, timeout=60):
    """CreateSandbox only: it answers once the sandbox is recorded."""
    return drv.stub.CreateSandbox(pb.CreateSandboxRequest(sandbox=sandbox(pb, sid, token)),
                                  timeout=timeout)


def wait_phase(drv, pb, sid, want, timeout=30):
    """Polls GetSandbox (bounded) until the phase is `want`; returns the sandbox."""
    deadline = time.monotonic() + timeout
    while True:
        sb = drv.stub.GetSandbox(pb.GetSandboxRequest(sandbox_id=sid), timeout=10).sandbox
        ph = gateway_phase(sb)
        if ph == want:
            return sb
        if (ph == "Error" and want != "Error") or time.monotonic() > deadline:
            raise Failed(f"{sid}: {ph} instead of {want} "
                         f"({[(x.type, x.reason, x.message) for x in sb.status.conditions]})")
        time.sleep(0.05)


def create(drv, pb, sid, token, timeout=60):
    """CreateSandbox, then wait for Ready as the gateway's watch would."""
    create_answer(drv, pb, sid, token, timeout)
    return wait_phase(drv, pb, sid, "Ready", timeout)


def ready_cond(sb):
    r = [x for x in sb.status.conditions if x.type == "Ready"]
    return r[0] if r else None


def delete_clean(drv, pb, sid):
    d = drv.stub.DeleteSandbox(pb.DeleteSandboxRequest(sandbox_id=sid), timeout=120)
    check(d.deleted, f"{sid}: DeleteSandbox answers deleted=true")
    check(ate_actor(sid) is None and kube_objects(sid) == [],
          f"{sid}: nothing left in the fakes after the delete")


# --------------------------------------------------------------------------
# tests


def t_lifecycle(c):
    """gateway_client's backend-neutral lifecycle suite against the real driver."""
    gc.suite_lifecycle(c.args(prefix="e2e"), c.tmp)
    check(ate_actor("e2e-life") is None and kube_objects("e2e-life") == [],
          "lifecycle: the deleted sandbox left nothing in the fake ate-api or Kubernetes")


def t_template_shape(c):
    """The ActorTemplate the driver applied for the lifecycle sandbox."""
    recs = kube_records("e2e-life", "PATCH", "actortemplates")
    check(len(recs) >= 1, f"the fake recorded {len(recs)} template apply for e2e-life")
    t = json.loads(recs[0]["body"])
    spec = t["spec"]
    check(len(spec["containers"]) == 1, "one container")
    ct = spec["containers"][0]
    cmd = ct["command"]
    check(cmd[0] == SHIM, f"command[0] is the shim ({cmd[0]})")
    seps = [i for i, x in enumerate(cmd) if x == "--"]
    check(len(seps) == 2, f"two `--` separators (shim -- supervisor -- workload): {cmd}")
    check(cmd[seps[0] + 1] == SUPERVISOR, "the supervisor follows the first `--`")
    # a gateway always sends a command (its default is a login shell:
    # gateway_model.gateway_request), so default_workload does not apply
    check(cmd[seps[1] + 1:] == ["/bin/bash", "-l"],
          f"the gateway's command follows the second `--` ({cmd[seps[1] + 1:]})")
    sup = cmd[seps[0] + 1:seps[1]]
    check("--sandbox-id" in sup and sup[sup.index("--sandbox-id") + 1] == "e2e-life",
          "supervisor gets --sandbox-id")
    check(f"--readyz-port={READYZ_PORT}" in cmd[:seps[0]] or
          str(READYZ_PORT) in cmd[:seps[0]], "the shim gets the configured readyz port")
    hg = ct.get("readyz", {}).get("httpGet", {})
    check(hg.get("port") == READYZ_PORT, f"readyz.httpGet on the shim's port ({hg})")
    env = {e["name"]: e for e in ct["env"]}
    check(env.get("OPENSHELL_SANDBOX_ID", {}).get("value") == "e2e-life", "OPENSHELL_SANDBOX_ID")
    check(env.get("OPENSHELL_ENDPOINT", {}).get("value") == GATEWAY, "OPENSHELL_ENDPOINT")
    check(env.get("OPENSHELL_SSH_SOCKET_PATH", {}).get("value") == SSH_SOCKET,
          "OPENSHELL_SSH_SOCKET_PATH")
    tok = env.get("OPENSHELL_SANDBOX_TOKEN", {})
    ref = tok.get("valueFrom", {}).get("secretKeyRef", {})
    check("value" not in tok and ref.get("name") == "osb-e2e-life-token" and ref.get("key"),
          f"OPENSHELL_SANDBOX_TOKEN via valueFrom.secretKeyRef ({ref})")
    check(env.get("FOO", {}).get("value") == "bar", "the caller's environment is passed")
    check(spec["pauseImage"].startswith("registry.example/pause@sha256:") and
          spec["snapshotsConfig"]["location"] == "gs://e2e-bucket/snapshots",
          "pauseImage and snapshotsConfig from the config file")
    sec = kube_records("e2e-life", "PATCH", "secrets")
    check(len(sec) >= 1 and json.loads(sec[0]["body"])["metadata"]["name"] == "osb-e2e-life-token",
          "the Secret the reference names was applied")
    dels = kube_records("e2e-life", "DELETE")
    check({r["kind"] for r in dels} == {"actortemplates", "secrets"},
          "the delete removed both the template and the Secret")


def t_resuming(c, pb, drv, w):
    sid = "e2e-res"
    create(drv, pb, sid, c.token)
    w.wait_for(is_sandbox(sid, "Ready"), 15, f"{sid} Ready")
    drv.stub.StopSandbox(pb.StopSandboxRequest(sandbox_id=sid), timeout=60)
    w.wait_for(is_sandbox(sid, "Stopped"), 15, f"{sid} Stopped")
    ate("faults", {"latency_ms": {"ResumeActor": 2500}})
    try:
        res = {}
        t = threading.Thread(target=lambda: res.setdefault("r", code_of(
            lambda: drv.stub.StartSandbox(pb.StartSandboxRequest(sandbox_id=sid), timeout=60))))
        t.start()
        poll(lambda: (ate_actor(sid) or {}).get("status") == 1, 5, "the actor RESUMING")
        got = drv.stub.GetSandbox(pb.GetSandboxRequest(sandbox_id=sid), timeout=10)
        ready = [x for x in got.sandbox.status.conditions if x.type == "Ready"]
        check(gateway_phase(got.sandbox) == "Provisioning" and ready and
              ready[0].status == "False" and ready[0].reason == "Starting",
              f"a RESUMING actor is Provisioning (Ready=False/{ready[0].reason if ready else '-'}),"
              " not a terminal Error")
        phases = []

        def note(phase):
            def p(ev):
                if is_sandbox(sid)(ev):
                    phases.append(gateway_phase(ev.sandbox.sandbox))
                return is_sandbox(sid, phase)(ev)
            return p
        w.wait_for(note("Provisioning"), 5, "a Provisioning watch event while resuming")
        t.join()
        check(res["r"][0].name == "OK", f"StartSandbox completed ({res['r']})")
    finally:
        ate("faults", {})
    w.wait_for(note("Ready"), 15, f"{sid} Ready after the resume")
    check("Error" not in phases, f"the watch showed the resume as {phases}, never Error")
    delete_clean(drv, pb, sid)


def t_aborted_storm(c, pb, drv):
    sid = "e2e-abort"
    ate("faults", {"fail": {"CreateActor": [{"code": "ABORTED", "count": 3}],
                            "ResumeActor": [{"code": "ABORTED", "count": 4}],
                            "CreateAtespace": [{"code": "UNAVAILABLE", "count": 2}]}})
    before = ate("state")["counters"]
    try:
        create(drv, pb, sid, c.token)
    finally:
        ate("faults", {})
    after = ate("state")["counters"]
    injected = after.get("injected.ABORTED", 0) - before.get("injected.ABORTED", 0)
    check(injected == 7, f"control: the fake really answered ABORTED {injected} times")
    got = drv.stub.GetSandbox(pb.GetSandboxRequest(sandbox_id=sid), timeout=10)
    check(gateway_phase(got.sandbox) == "Ready", "an ABORTED storm was retried: create succeeded")
    delete_clean(drv, pb, sid)


def t_same_id_concurrently(c, pb, drv):
    """Two creates of one id at once, and a delete during the create."""
    sid = "e2e-twice"
    ate("faults", {"latency_ms": {"ResumeActor": 1500}})
    res = []
    try:
        ts = [threading.Thread(target=lambda: res.append(code_of(
            lambda: create_answer(drv, pb, sid, c.token))))
              for _ in range(2)]
        for t in ts:
            t.start()
        poll(lambda: (ate_actor(sid) or {}).get("status") == 1, 10, f"{sid} RESUMING")
        dcode, dmsg = code_of(lambda: drv.stub.DeleteSandbox(
            pb.DeleteSandboxRequest(sandbox_id=sid), timeout=30))
        for t in ts:
            t.join()
    finally:
        ate("faults", {})
    codes = sorted(r[0].name for r in res)
    check(codes == ["ALREADY_EXISTS", "OK"],
          f"two concurrent creates of one id: one is accepted, the other ALREADY_EXISTS "
          f"({[(r[0].name, r[1][:60]) for r in res]})")
    check(dcode.name == "OK",
          f"a delete during the create (in ResumeActor) answers normally ({dcode.name} \"{dmsg}\")")
    code, _ = code_of(lambda: drv.stub.GetSandbox(pb.GetSandboxRequest(sandbox_id=sid), timeout=10))
    check(code.name == "NOT_FOUND", "the cancelled create's sandbox is gone")
    check(ate_actor(sid) is None and kube_objects(sid) == [],
          f"nothing the cancelled create made is left ({kube_objects(sid)})")
    # control: the id is free again and a create of it completes
    create(drv, pb, sid, c.token)
    delete_clean(drv, pb, sid)


def t_preprovisioned(c, pb, drv):
    """platform_config names a template: used as is, the way the gateway sends it."""
    kube("put", {"kind": "actortemplates", "namespace": NAMESPACE, "name": "team-golden",
                 "object": {"apiVersion": "ate.dev/v1alpha1", "kind": "ActorTemplate",
                            "metadata": {"name": "team-golden", "namespace": NAMESPACE},
                            "status": {"phase": "Ready"}}})
    for sid, pc in (("e2e-pre-a", {"annotations": {"substrate_actor_template": "team-golden"}}),
                    ("e2e-pre-t", {"substrate_actor_template": "team-golden"})):
        sb = sandbox(pb, sid, c.token)
        sb.spec.template.platform_config.update(pc)
        drv.stub.CreateSandbox(pb.CreateSandboxRequest(sandbox=sb), timeout=60)
        got = wait_phase(drv, pb, sid, "Ready")
        a = ate_actor(sid)
        check(a is not None and a["template"] == "team-golden",
              f"platform_config {json.dumps(pc)}: the actor uses the named template "
              f"({a and a['template']})")
        check(got.name == sid and got.status.sandbox_name == sid, "... and keeps the name")
        check(kube_records(sid, "PATCH", "actortemplates") == [],
              "... the driver applied no template for it")
        recs = kube_records(sid, "PATCH", "secrets")
        check(recs and all(c.token not in r["body"] and '"data"' not in r["body"] for r in recs),
              f"... only its record Secret, without the token ({len(recs)} PATCHes)")
        d = drv.stub.DeleteSandbox(pb.DeleteSandboxRequest(sandbox_id=sid), timeout=120)
        check(d.deleted and ate_actor(sid) is None, f"{sid} deleted")
    check(any(o["name"] == "team-golden" for o in kube("state")["objects"]),
          "the pre-provisioned template survives the deletes")
    # control: without the annotation the driver does synthesize a template
    check(len(kube_records("e2e-res", "PATCH", "actortemplates")) == 1,
          "control: a sandbox without it got its own template")


def t_foreign_status(c, pb, drv, w):
    """Statuses the driver did not cause: PAUSED (Stopped; delete resumes it
    first, since Substrate deletes only SUSPENDED actors) and an unknown
    value (7, CRASHED in an open upstream change): not terminal."""
    sid = "e2e-paused"
    create(drv, pb, sid, c.token)
    ate("set_status", {"atespace": ATESPACE, "name": sid, "status": 6})
    w.wait_for(is_sandbox(sid, "Stopped"), 15, "a PAUSED actor seen by the poller as Stopped")
    got = drv.stub.GetSandbox(pb.GetSandboxRequest(sandbox_id=sid), timeout=10)
    check(gateway_phase(got.sandbox) == "Stopped", "a PAUSED actor is Stopped in Get")
    ate("set_status", {"atespace": ATESPACE, "name": sid, "status": 7})
    ev = w.wait_for(is_sandbox(sid), 15, "an event for the unknown status")
    ph = gateway_phase(ev.sandbox.sandbox)
    check(ph == "Provisioning", f"an unknown actor status (7) is {ph}, not a terminal Error")
    ate("set_status", {"atespace": ATESPACE, "name": sid, "status": 6})
    w.wait_for(is_sandbox(sid, "Stopped"), 15, "PAUSED again")
    before = ate("state")["counters"].get("calls.ResumeActor", 0)
    delete_clean(drv, pb, sid)
    check(ate("state")["counters"].get("calls.ResumeActor", 0) > before,
          "control: deleting the PAUSED actor went through ResumeActor first")


def t_token_rotation(c, pb, drv, w):
    sid = "e2e-rot"
    create(drv, pb, sid, c.token)
    expected = ENV["OSS_IT_FAKE_EXPECTED_TOKEN"]
    old = open(expected).read()
    write_atomic(expected, "rotated-2\n")  # the server now wants the new token
    code, msg = code_of(lambda: drv.stub.GetSandbox(pb.GetSandboxRequest(sandbox_id=sid), timeout=10))
    check(code.name != "OK", f"control: with the old token the fake refuses ({code.name} \"{msg}\")")
    time.sleep(0.6)  # a few watch polls fail meanwhile
    write_atomic(ENV["OSS_IT_ATE_TOKEN"], "rotated-2\n")  # the kubelet rotates the file
    got = drv.stub.GetSandbox(pb.GetSandboxRequest(sandbox_id=sid), timeout=10)
    check(gateway_phase(got.sandbox) == "Ready",
          "after the token file was rotated the next RPC works (no restart)")
    drv.stub.StopSandbox(pb.StopSandboxRequest(sandbox_id=sid), timeout=60)
    deleted = []

    def stopped(ev):
        deleted.append(is_deleted(sid)(ev))
        return is_sandbox(sid, "Stopped")(ev)
    w.wait_for(stopped, 15, "watch events flow again after the rotation")
    check(not any(deleted), f"failed listings during the outage were not reported as deletions "
                            f"({len(deleted)} events read)")
    delete_clean(drv, pb, sid)
    check(old.strip() != "rotated-2", "control: the token really changed")


def t_create_actor_fails(c, pb, drv):
    """A create that fails in the background: CreateSandbox answered OK, the
    sandbox turns Error (CreateFailed, the step in the message), what it made
    is removed but its record, and Delete removes that."""
    for method, sid, step in (("CreateActor", "e2e-cafail", "creating the actor"),
                              ("ResumeActor", "e2e-rsfail", "resuming the actor")):
        ate("faults", {"fail": {method: [{"code": "INTERNAL", "count": 1}]}})
        try:
            code, msg = code_of(lambda: create_answer(drv, pb, sid, c.token))
            check(code.name == "OK", f"{method} failing: CreateSandbox still answers OK ({code.name})")
            sb = wait_phase(drv, pb, sid, "Error")
        finally:
            ate("faults", {})
        rc = ready_cond(sb)
        check(rc.reason == "CreateFailed" and step in rc.message and "INTERNAL" in rc.message,
              f"{method} failing: Error with the step and the cause ({rc.reason}: {rc.message})")
        check(len(kube_records(sid, "PATCH", "actortemplates")) >= 1 and
              len(kube_records(sid, "PATCH", "secrets")) >= 1,
              f"control: the template and Secret for {sid} had been applied")
        check(kube_objects(sid) == [f"secrets/osb-{sid}-token"],
              f"{method} failing: template removed, only the record left ({kube_objects(sid)})")
        rec = [o for o in kube("state")["objects"] if o["name"] == f"osb-{sid}-token"][0]
        check("data" not in rec["object"], f"{method} failing: the record keeps no token")
        check(ate_actor(sid) is None, f"{method} failing: no actor left behind")
        d = drv.stub.DeleteSandbox(pb.DeleteSandboxRequest(sandbox_id=sid), timeout=60)
        check(d.deleted and kube_objects(sid) == [], f"{method} failing: Delete removes the record")
        code, _ = code_of(lambda: drv.stub.GetSandbox(pb.GetSandboxRequest(sandbox_id=sid), timeout=10))
        check(code.name == "NOT_FOUND", f"{method} failing: GetSandbox says NOT_FOUND after Delete")


def t_never_ready(c, pb):
    drv = c.driver(env={"OPENSHELL_SUBSTRATE_TEMPLATE_READY_TIMEOUT_SECS": "2"})
    sid = "e2e-never"
    try:
        kube("faults", {"never_ready": True})
        t0 = time.monotonic()
        code, msg = code_of(lambda: create_answer(drv, pb, sid, c.token))
        check(code.name == "OK", f"template never Ready: CreateSandbox answers at once ({code.name})")
        sb = wait_phase(drv, pb, sid, "Error", timeout=20)
        secs = time.monotonic() - t0
        rc_ = ready_cond(sb)
        check(rc_.reason == "CreateFailed" and "not Ready after 2 s" in rc_.message,
              f"template never Ready: Error naming the wait ({rc_.reason}: {rc_.message})")
        check(2.0 <= secs < 8.0, f"... after template_ready_timeout_secs=2 ({secs:.1f} s)")
        check(len(kube_records(sid, "PATCH", "actortemplates")) == 1,
              "control: the template had been applied")
        check(kube_objects(sid) == [f"secrets/osb-{sid}-token"],
              f"template removed, the record kept ({kube_objects(sid)})")
        check(ate_actor(sid) is None, "no actor was created")
        d = drv.stub.DeleteSandbox(pb.DeleteSandboxRequest(sandbox_id=sid), timeout=60)
        check(d.deleted and kube_objects(sid) == [], "Delete removes the record")
    finally:
        kube("faults", {})
        rc = drv.stop()
    check(rc == 0, f"driver exited 0 on SIGTERM ({rc})")


def t_ate_down(c, pb):
    drv = c.driver(env={"OPENSHELL_SUBSTRATE_API_ENDPOINT": ENV["OSS_IT_DEAD_ENDPOINT"]})
    sid = "e2e-down"
    try:
        check(drv.stub.GetCapabilities(gc_pb().GetCapabilitiesRequest(), timeout=5).driver_name ==
              "substrate", "a driver whose ate-api is down still answers GetCapabilities")
        t0 = time.monotonic()
        code, msg = code_of(lambda: create(drv, pb, sid, c.token))
        secs = time.monotonic() - t0
        lcode, lmsg = code_of(lambda: drv.stub.ListSandboxes(pb.ListSandboxesRequest(), timeout=15))
    finally:
        rc = drv.stop()
    check(rc == 0, f"driver exited 0 on SIGTERM with its ate-api down ({rc})")
    check(code.name in ("UNAVAILABLE", "DEADLINE_EXCEEDED") and msg,
          f"ate-api down: CreateSandbox fails clearly ({code.name} \"{msg}\", {secs:.1f} s)")
    check(secs < 15, "... within the configured api deadline")
    check(lcode.name != "OK", f"ListSandboxes reports the outage ({lcode.name} \"{lmsg}\")")
    check(kube_records(sid) == [] and kube_objects(sid) == [],
          "nothing was applied to (or left in) the fake Kubernetes API")


def t_crash(c, pb):
    # 1. killed inside ResumeActor: the actor exists and the fake finishes the resume
    a = c.args()
    drv = c.driver(args=a)
    sid = "e2e-crash-r"
    ate("faults", {"latency_ms": {"ResumeActor": 3000}})
    create_answer(drv, pb, sid, c.token)
    try:
        poll(lambda: (ate_actor(sid) or {}).get("status") == 1, 20, f"{sid} RESUMING")
        drv.stop(signal.SIGKILL)
    finally:
        ate("faults", {})
    check(os.path.exists(a.socket), "control: SIGKILL left the socket behind (no cleanup ran)")
    drv = c.driver(args=a)  # restarted on the same (stale) socket
    try:
        # the restarted driver takes the create up from its record and finishes it
        got = wait_phase(drv, pb, sid, "Ready", timeout=20)
        check(got.name == sid, "after the restart the create finished: Ready, name kept")
        lst = drv.stub.ListSandboxes(pb.ListSandboxesRequest(), timeout=10)
        check(any(x.id == sid and x.name == sid for x in lst.sandboxes),
              "... and ListSandboxes shows it")
        delete_clean(drv, pb, sid)
    finally:
        rc = drv.stop()
    check(rc == 0, f"the restarted driver exits 0 on SIGTERM ({rc})")

    # 2. killed while waiting for the template: no actor yet, a template and the record
    sid = "e2e-crash-t"
    drv2 = c.driver()
    kube("faults", {"never_ready": True})
    try:
        create_answer(drv2, pb, sid, c.token)
        poll(lambda: len(kube_objects(sid)) == 2, 20, f"{sid}'s template and Secret")
        drv2.stop(signal.SIGKILL)
    finally:
        kube("faults", {})
    check(sorted(kube_objects(sid)) == [f"actortemplates/osb-{sid}", f"secrets/osb-{sid}-token"],
          "control: the killed create left a template and a Secret behind")
    check(ate_actor(sid) is None, "control: no actor had been made")
    drv = c.driver()
    try:
        got = wait_phase(drv, pb, sid, "Ready", timeout=20)
        check(got.name == sid, "a restarted driver finished the create cut in the template wait")
        code, msg = code_of(lambda: create_answer(drv, pb, sid, c.token))
        check(code.name == "ALREADY_EXISTS", f"... and a repeated create is ALREADY_EXISTS ({code.name})")
        delete_clean(drv, pb, sid)
        # the same id can be created afresh afterwards
        create(drv, pb, sid, c.token)
        delete_clean(drv, pb, sid)
    finally:
        rc = drv.stop()
    check(rc == 0, f"the restarted driver exits 0 on SIGTERM ({rc})")


def t_grpc_trace(c, pb):
    """gRPC core's own trace (GRPC_TRACE=http) prints request headers, the
    ate-api bearer token's among them: the driver must redact it.  The
    log is scanned by t_no_token_leak, which runs after this."""
    drv = c.driver(env={"GRPC_TRACE": "http", "GRPC_VERBOSITY": "DEBUG"})
    sid = "e2e-trace"
    try:
        create(drv, pb, sid, c.token)
        delete_clean(drv, pb, sid)
    finally:
        rc = drv.stop()
    check(rc == 0, f"the traced driver exits 0 on SIGTERM ({rc})")
    with open(drv.log_path, errors="replace") as f:
        text = f.read()
    check("authorization" in text,
          "control: the trace printed the authorization header (so its value would be there)")
    check("ate-token-1" not in text and "authorization: Bearer ***" in text,
          "the bearer token is redacted in gRPC's own trace")


def t_no_token_leak(c, fake_logs):
    token = c.token
    b64 = base64.b64encode(token.encode()).decode()
    recs = [r for r in kube("all_records")["records"] if f"/namespaces/{NAMESPACE}/" in r["path"]]
    tmpl = [r for r in recs if r["kind"] == "actortemplates" and r["method"] == "PATCH"]
    secr = [r for r in recs if r["kind"] == "secrets" and r["method"] == "PATCH"]
    bad = sorted({r["path"] for r in recs if token in r["body"]})
    check(len(tmpl) >= 5 and not bad,
          f"the sandbox token is in none of the {len(tmpl)} templates (or other bodies) the fake "
          f"recorded ({bad or 'none'})")
    applied = [json.loads(r["body"]) for r in secr if '"kind":"Secret"' in r["body"]]
    with_data = [x for x in applied if "data" in x]
    check(with_data and all(x["data"].get("token") == b64 for x in with_data),
          f"control: its base64 form is in every one of the {len(with_data)} Secrets applied "
          f"with data")
    check(all(b64 not in r["body"] for r in secr if '"kind":"Secret"' not in r["body"]),
          "the record's state patches carry no token")
    logs = [os.path.join(c.tmp, f) for f in os.listdir(c.tmp) if f.startswith("driver-")]
    logs += [os.path.join(fake_logs, f) for f in os.listdir(fake_logs) if f.endswith(".log")]
    lines = 0
    warn = 0
    for p in logs:
        with open(p, errors="replace") as f:
            for line in f:
                lines += 1
                warn += "warn" in line or "error" in line
                if token in line or b64 in line or "rotated-2" in line or "ate-token-1" in line:
                    raise Failed(f"a secret appears in {os.path.basename(p)}: {line[:80]}...")
    check(len(logs) >= 6 and lines > 50 and warn > 0,
          f"no sandbox or bearer token in {lines} log lines of {len(logs)} logs "
          f"(control: {warn} warn/error lines were captured, so failures were logged)")


_pb = None


def gc_pb():
    return _pb


def run_tests(c, fake_logs):
    global _pb
    import compute_driver_pb2 as pb
    _pb = pb
    steps = [("lifecycle (gateway_client suite)", lambda: t_lifecycle(c)),
             ("template shape", lambda: t_template_shape(c))]
    for name, fn in steps:
        log(f"=== {name}")
        fn()
    drv = c.driver()
    w = gc.Watch(drv)
    try:
        for name, fn in (("resuming is not terminal", lambda: t_resuming(c, pb, drv, w)),
                         ("ABORTED storm", lambda: t_aborted_storm(c, pb, drv)),
                         ("CreateActor/ResumeActor failing", lambda: t_create_actor_fails(c, pb, drv)),
                         ("one id, concurrent calls", lambda: t_same_id_concurrently(c, pb, drv)),
                         ("pre-provisioned template", lambda: t_preprovisioned(c, pb, drv)),
                         ("PAUSED and unknown statuses", lambda: t_foreign_status(c, pb, drv, w)),
                         ("token file rotated", lambda: t_token_rotation(c, pb, drv, w))):
            log(f"=== {name}")
            fn()
        w.cancel()
    finally:
        rc = drv.stop()
    check(rc == 0, f"driver exited 0 on SIGTERM ({rc})")
    for name, fn in (("template never Ready", lambda: t_never_ready(c, pb)),
                     ("ate-api down", lambda: t_ate_down(c, pb)),
                     ("SIGKILL mid-create, restart", lambda: t_crash(c, pb)),
                     ("gRPC trace on", lambda: t_grpc_trace(c, pb)),
                     ("no token leak", lambda: t_no_token_leak(c, fake_logs))):
        log(f"=== {name}")
        fn()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--driver-bin", required=True)
    ap.add_argument("--reference", required=True, help="dir with compute_driver.proto (tests/lib/protos.py)")
    ap.add_argument("--fake-logs", required=True, help="dir with the fakes' logs (token check)")
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--actors", type=int, default=10000)
    ap.add_argument("--flips", type=int, default=20)
    ap.add_argument("--interval-ms", type=int, action="append")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="drv-e2e-")
    os.chmod(tmp, 0o700)
    try:
        gc.generate_stubs(a.reference, os.path.join(tmp, "stubs"))
        c = Ctx(a, tmp)
        if a.bench:
            rows = []
            for i, iv in enumerate(a.interval_ms or [1000]):
                rows += e2e_bench.bench(c, a.actors, a.flips, iv, ate, ATESPACE, full=(i == 0),
                                        image=IMAGE)
            print("| figure (openshell-driver-substrate, real binary, fake ate-api) | value |")
            print("|---|---|")
            for k, v in rows:
                print(f"| {k} | {v} |")
            return 0
        run_tests(c, a.fake_logs)
    except Failed as e:
        log(f"FAIL: {e}")
        for f in sorted(os.listdir(tmp)):
            if f.startswith("driver-"):
                log(f"---- {f} (last 15 lines)")
                with open(os.path.join(tmp, f), errors="replace") as fh:
                    for line in fh.readlines()[-15:]:
                        print("   " + line.rstrip())
        return 1
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    log("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
