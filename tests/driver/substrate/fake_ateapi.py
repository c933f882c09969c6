#!/usr/bin/python3
"""FAKE ate-api-server for tests: NOT Agent Substrate, NOT production code.

Implements the state machine of ateapi.Control as docs/platform/substrate.md
("ateapi.Control", "Deleting actors, templates and snapshots") and
ateapi.proto describe it, with stubs generated at test time from the proto
tests/lib/protos.py picks (upstream's with OSS_REFERENCE_DIR, else proto/):

- atespaces must exist before CreateActor; `ate-golden` is reserved;
- CreateActor stores the actor SUSPENDED, version 1;
- ResumeActor is synchronous (RESUMING, then RUNNING); Suspend and Pause go
  through SUSPENDING / PAUSING; every transition bumps the version;
- DeleteActor only for SUSPENDED actors (FAILED_PRECONDITION otherwise);
- a second operation on an actor that is mid-transition gets ABORTED;
- ListActors is paginated (page size capped at 1000, opaque page tokens);
- TLS with the test CA's server certificate, ALPN h2 required (grpc core
  refuses a TLS client that does not offer h2), `authorization: Bearer`
  checked on every RPC against --token-file, re-read each time (rotation).

Golden actors (agent-substrate/substrate@86e138f, citations path:line):
- the fake Kubernetes API plays the ActorTemplate controller and drives a
  template's golden actor through the control verbs golden_create /
  golden_resume / golden_suspend, which apply the same rules as the RPCs:
  atespace `ate-golden`, a UUID name, created SUSPENDED
  (cmd/atecontroller/internal/controllers/actortemplate_controller.go:83-99),
  resumed (:120-126) and suspended when the snapshot is cut (:146-170);
- ResumeActor, SuspendActor and PauseActor load the actor's template first
  and fail without it (cmd/ateapi/internal/controlapi/workflow_resume.go:75-78,
  workflow_suspend.go:63-66, workflow_pause.go:62-65): a plain error, which
  the interceptors turn into INTERNAL; the fake asks the fake Kubernetes API
  (control verb `config` gives its control URL);
- DeleteActor checks only existence and SUSPENDED, no template, and does not
  refuse `ate-golden` (delete_actor.go:29-65): nothing else protects a golden
  actor, and nothing deletes one when its template goes.

Faults are injected through a loopback control port (see control()):
latency per method, ABORTED/UNAVAILABLE/any code for the next N calls of a
method, a raw status value for an actor, bulk seeding for benchmarks.
The token is never printed.
"""
import argparse
import base64
import json
import os
import re
import sys
import threading
import time
import urllib.request
import uuid
from concurrent import futures

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_common  # noqa: E402

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", required=True, help="dir holding ateapi.proto (tests/lib/protos.py)")
    ap.add_argument("--gen-dir", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--plaintext", action="store_true")
    ap.add_argument("--client-ca", help="require client certificates signed by this CA")
    ap.add_argument("--token-file", help="expected bearer token (re-read per RPC)")
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()

    fake_common.generate(os.path.join(args.reference, "ateapi.proto"), args.gen_dir)
    import grpc
    import ateapi_pb2 as pb
    import ateapi_pb2_grpc as pbg

    S = pb.Actor  # status enum values live on Actor
    lock = threading.Lock()
    atespaces = set()
    actors = {}  # (atespace, name) -> dict
    busy = set()
    # ignore_atespace: behave like a server that ignores ListActors.atespace
    faults = {"latency_ms": {}, "fail": {}, "ignore_atespace": False}
    counters = {}
    peers = {"kube_control": None}  # the fake Kubernetes API's control URL
    GOLDEN = "ate-golden"  # internal/resources/actor.go:29-31

    def count(key):
        counters[key] = counters.get(key, 0) + 1

    def check(ctx, method):
        """Auth and injected faults, run first in every RPC."""
        with lock:
            count("calls." + method)
            q = faults["fail"].get(method) or []
            inj = None
            if q:
                inj = q[0]
                inj["count"] -= 1
                if inj["count"] <= 0:
                    q.pop(0)
        if args.token_file:
            with open(args.token_file) as f:
                want = f.read().strip()
            md = dict(ctx.invocation_metadata())
            if md.get("authorization") != "Bearer " + want:
                with lock:
                    count("unauthenticated")
                ctx.abort(grpc.StatusCode.UNAUTHENTICATED, "bad or missing bearer token")
        if inj is not None:
            with lock:
                count("injected." + inj["code"])
            ctx.abort(getattr(grpc.StatusCode, inj["code"]), "injected " + inj["code"])

    def latency(method):
        ms = faults["latency_ms"].get(method, 0)
        if ms:
            time.sleep(ms / 1000.0)

    def to_pb(a):
        return pb.Actor(actor_id=a["name"], version=a["version"],
                        actor_template_namespace=a["tns"], actor_template_name=a["tname"],
                        status=a["status"], atespace=a["atespace"],
                        ateom_pod_ip=a.get("ip", ""))

    def ref_of(ctx, ref):
        if not ref.atespace or not ref.name:
            ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, "actor_ref needs atespace and name")
        return (ref.atespace, ref.name)

    def get(ctx, key):
        a = actors.get(key)
        if a is None:
            ctx.abort(grpc.StatusCode.NOT_FOUND, "actor %s/%s not found" % key)
        return a

    def ask_kube(verb, tns, tname):
        """Asks the fake Kubernetes API (never under `lock`: it may call
        back).  Without a peer configured there is no template anywhere."""
        url = peers["kube_control"]
        if not url:
            return {"exists": False}
        req = urllib.request.Request("%s/%s" % (url, verb), method="POST",
                                     data=json.dumps({"namespace": tns, "name": tname}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.load(r)

    def need_template(ctx, method, key):
        """workflow_resume.go:75-78, workflow_suspend.go:63-66,
        workflow_pause.go:62-65: the template is loaded before anything else
        (after the actor lookup, :66-70), and its absence is a plain error
        that reaches the client as INTERNAL.  A resume (run or restore)
        then resolves the template's secretKeyRefs (workflow_resume.go:257,
        workload_spec.go:158-190): a missing Secret or key is
        FAILED_PRECONDITION."""
        with lock:
            a = get(ctx, key)
            tns, tname = a["tns"], a["tname"]
        r = ask_kube("resolve_env" if method == "ResumeActor" else "template_exists", tns, tname)
        if not r.get("exists"):
            with lock:
                count("no_template." + method)
            ctx.abort(grpc.StatusCode.INTERNAL,
                      'while getting ActorTemplate: actortemplate.ate.dev "%s" not found' % tname)
        if r.get("missing"):
            with lock:
                count("missing_secret." + method)
            ctx.abort(grpc.StatusCode.FAILED_PRECONDITION, r["missing"])

    def transition(ctx, method, ref, allowed, mid, final):
        key = ref_of(ctx, ref)
        need_template(ctx, method, key)
        with lock:
            a = get(ctx, key)
            if key in busy:
                count("aborted.busy")
                ctx.abort(grpc.StatusCode.ABORTED, "another operation is in progress")
            if a["status"] not in allowed:
                ctx.abort(grpc.StatusCode.FAILED_PRECONDITION,
                          "%s: actor is %s" % (method, S.Status.Name(a["status"])))
            busy.add(key)
            a["status"] = mid
            a["version"] += 1
        try:
            latency(method)
        finally:
            with lock:
                a["status"] = final
                a["version"] += 1
                if final == S.STATUS_RUNNING:
                    a["ip"] = "10.64.0.%d" % (1 + len(actors) % 250)
                busy.discard(key)
        return to_pb(a)

    class Control(pbg.ControlServicer):
        def CreateAtespace(self, req, ctx):
            check(ctx, "CreateAtespace")
            if not DNS_LABEL.match(req.name) or req.name == "ate-golden":
                ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid or reserved atespace")
            with lock:
                if req.name in atespaces:
                    ctx.abort(grpc.StatusCode.ALREADY_EXISTS, "atespace exists")
                atespaces.add(req.name)
            return pb.CreateAtespaceResponse(atespace=pb.Atespace(name=req.name))

        def CreateActor(self, req, ctx):
            check(ctx, "CreateActor")
            key = ref_of(ctx, req.actor_ref)
            if not DNS_LABEL.match(key[1]):
                ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, "actor id is not a DNS-1123 label")
            if not req.actor_template_name or not req.actor_template_namespace:
                ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, "template name and namespace needed")
            latency("CreateActor")
            with lock:
                if key[0] not in atespaces:
                    ctx.abort(grpc.StatusCode.FAILED_PRECONDITION,
                              "atespace %s does not exist" % key[0])
                if key in actors:
                    ctx.abort(grpc.StatusCode.ALREADY_EXISTS, "actor exists")
                a = {"atespace": key[0], "name": key[1], "version": 1,
                     "status": S.STATUS_SUSPENDED, "tns": req.actor_template_namespace,
                     "tname": req.actor_template_name}
                actors[key] = a
                return pb.CreateActorResponse(actor=to_pb(a))

        def GetActor(self, req, ctx):
            check(ctx, "GetActor")
            key = ref_of(ctx, req.actor_ref)
            latency("GetActor")
            with lock:
                return pb.GetActorResponse(actor=to_pb(get(ctx, key)))

        def ResumeActor(self, req, ctx):
            check(ctx, "ResumeActor")
            return pb.ResumeActorResponse(actor=transition(
                ctx, "ResumeActor", req.actor_ref, (S.STATUS_SUSPENDED, S.STATUS_PAUSED),
                S.STATUS_RESUMING, S.STATUS_RUNNING))

        def SuspendActor(self, req, ctx):
            check(ctx, "SuspendActor")
            return pb.SuspendActorResponse(actor=transition(
                ctx, "SuspendActor", req.actor_ref, (S.STATUS_RUNNING,),
                S.STATUS_SUSPENDING, S.STATUS_SUSPENDED))

        def PauseActor(self, req, ctx):
            check(ctx, "PauseActor")
            return pb.PauseActorResponse(actor=transition(
                ctx, "PauseActor", req.actor_ref, (S.STATUS_RUNNING,),
                S.STATUS_PAUSING, S.STATUS_PAUSED))

        def DeleteActor(self, req, ctx):
            check(ctx, "DeleteActor")
            key = ref_of(ctx, req.actor_ref)
            latency("DeleteActor")
            with lock:
                a = get(ctx, key)
                if key in busy:
                    ctx.abort(grpc.StatusCode.ABORTED, "another operation is in progress")
                if a["status"] != S.STATUS_SUSPENDED:
                    ctx.abort(grpc.StatusCode.FAILED_PRECONDITION,
                              "only SUSPENDED actors can be deleted (actor is %s)"
                              % S.Status.Name(a["status"]) if a["status"] in S.Status.values()
                              else "only SUSPENDED actors can be deleted")
                del actors[key]
            return pb.DeleteActorResponse()

        def ListActors(self, req, ctx):
            check(ctx, "ListActors")
            latency("ListActors")
            size = req.page_size if 0 < req.page_size <= 1000 else (100 if req.page_size <= 0 else 1000)
            start = 0
            if req.page_token:
                try:
                    start = int(base64.urlsafe_b64decode(req.page_token.encode()).decode()[4:])
                except Exception:
                    ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad page token")
            with lock:
                scoped = req.atespace and not faults["ignore_atespace"]
                keys = sorted(k for k in actors if not scoped or k[0] == req.atespace)
                page = keys[start:start + size]
                resp = pb.ListActorsResponse(actors=[to_pb(actors[k]) for k in page])
                count("list.pages")
            if start + size < len(keys):
                resp.next_page_token = base64.urlsafe_b64encode(
                    ("off:%d" % (start + size)).encode()).decode()
            return resp

    class Ctx:
        """What the control verbs hand transition(): the controller's calls
        go through the same rules as a client's RPCs."""
        def abort(self, code, msg):
            raise KeyError("%s: %s" % (code.name, msg))

    def golden(verb, body):
        if verb == "golden_create":
            # actortemplate_controller.go:83-99: a fresh UUID in ate-golden
            # (CreateAtespace AlreadyExists is fine, :85-89), no worker selector
            name = str(uuid.uuid4())
            with lock:
                atespaces.add(GOLDEN)
                actors[(GOLDEN, name)] = {"atespace": GOLDEN, "name": name, "version": 1,
                                          "status": S.STATUS_SUSPENDED,
                                          "tns": body["namespace"], "tname": body["name"]}
            return {"id": name}
        ref = pb.ActorRef(atespace=GOLDEN, name=body["id"])
        if verb == "golden_resume":  # :120-126, a cold boot (no golden snapshot yet)
            transition(Ctx(), "ResumeActor", ref, (S.STATUS_SUSPENDED, S.STATUS_PAUSED),
                       S.STATUS_RESUMING, S.STATUS_RUNNING)
            return {"ok": True}
        if verb == "golden_suspend":  # :146-170, the golden snapshot
            transition(Ctx(), "SuspendActor", ref, (S.STATUS_RUNNING,),
                       S.STATUS_SUSPENDING, S.STATUS_SUSPENDED)
            return {"ok": True}
        raise KeyError(verb)

    def control(verb, body):
        if verb.startswith("golden_"):
            return golden(verb, body)
        if verb == "config":
            peers["kube_control"] = body.get("kube_control")
            return {"ok": True}
        with lock:
            if verb == "state":
                return {"atespaces": sorted(atespaces),
                        "actors": [dict(atespace=a["atespace"], name=a["name"],
                                        status=a["status"], version=a["version"],
                                        template=a["tname"]) for a in actors.values()],
                        "counters": dict(counters)}
            if verb == "faults":
                # {"latency_ms": {"ResumeActor": 300}, "fail": {"GetActor": [{"code": "ABORTED", "count": 3}]}}
                faults["latency_ms"] = body.get("latency_ms", {})
                faults["fail"] = {m: [dict(x) for x in v] for m, v in body.get("fail", {}).items()}
                faults["ignore_atespace"] = bool(body.get("ignore_atespace"))
                return {"ok": True}
            if verb == "set_status":
                actors[(body["atespace"], body["name"])]["status"] = int(body["status"])
                return {"ok": True}
            if verb == "seed":
                atespaces.add(body["atespace"])
                for i in range(int(body["count"])):
                    n = "%s-%05d" % (body.get("prefix", "bench"), i)
                    actors[(body["atespace"], n)] = {
                        "atespace": body["atespace"], "name": n, "version": 1,
                        "status": S.STATUS_SUSPENDED, "tns": "openshell", "tname": "osb-" + n}
                # noise in another atespace, which the client must filter out
                atespaces.add("other")
                for i in range(int(body.get("other", 0))):
                    n = "x-%05d" % i
                    actors[("other", n)] = {"atespace": "other", "name": n, "version": 1,
                                            "status": S.STATUS_RUNNING, "tns": "o", "tname": "t"}
                return {"ok": True, "actors": len(actors)}
            if verb == "reset":
                atespaces.clear()
                actors.clear()
                busy.clear()
                counters.clear()
                faults["latency_ms"] = {}
                faults["fail"] = {}
                return {"ok": True}
        raise KeyError(verb)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    pbg.add_ControlServicer_to_server(Control(), server)
    if args.plaintext:
        port = server.add_insecure_port("127.0.0.1:%d" % args.port)
    else:
        with open(args.key, "rb") as f:
            key = f.read()
        with open(args.cert, "rb") as f:
            cert = f.read()
        if args.client_ca:
            with open(args.client_ca, "rb") as f:
                creds = grpc.ssl_server_credentials([(key, cert)], root_certificates=f.read(),
                                                    require_client_auth=True)
        else:
            creds = grpc.ssl_server_credentials([(key, cert)])
        port = server.add_secure_port("127.0.0.1:%d" % args.port, creds)
    server.start()
    ctl = fake_common.ControlServer(control)
    fake_common.write_ready(args.ready_file, {"port": port, "control_port": ctl.port,
                                              "pid": os.getpid()})
    print("fake_ateapi: serving on 127.0.0.1:%d (%s), control on %d"
          % (port, "plaintext" if args.plaintext else "TLS", ctl.port), file=sys.stderr, flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
