#!/usr/bin/python3
"""FAKE Kubernetes API server for tests: NOT Kubernetes, NOT production code.

Serves over HTTPS (the test CA's server certificate) the subset the
Substrate backend uses:

  PATCH/GET/DELETE /apis/ate.dev/v1alpha1/namespaces/NS/actortemplates/NAME
  PATCH/GET/DELETE /api/v1/namespaces/NS/secrets/NAME
  GET /api/v1/namespaces/NS/secrets?labelSelector=k=v,...  (a SecretList)

PATCH is a server-side apply (Content-Type application/apply-patch+yaml,
fieldManager set) or a JSON merge patch (application/merge-patch+json,
RFC 7386: null removes a key) of an existing object (404 otherwise); the
result is validated as an apply would be.  ActorTemplates are checked against the openAPIV3Schema
of the CRD given (--crd: the project's copy or upstream's, tests/lib/protos.py): types, required fields,
maxItems/maxLength/minLength/pattern/enum/min/max, unknown fields refused
with 422 (as fieldValidation=Strict does), the CEL rules the driver can hit
(pinned images, DNS labels, exactly one of value/valueFrom) and spec
immutability.  A new template's status.phase moves "" -> ResumeGoldenActor
-> WaitGoldenActor -> Ready, at most one step per GET, made in the
background after the GET answered (the real controller never reports
Failed).

Each step plays the ActorTemplate controller of agent-substrate/substrate@86e138f
(cmd/atecontroller/internal/controllers/actortemplate_controller.go, "ctl")
against the fake ate-api-server (control verb `config` gives its control URL):
- "" -> ResumeGoldenActor: a golden actor ate-golden/<uuid> is created
  SUSPENDED and its name stored in status.goldenActorID (ctl:83-105);
- -> WaitGoldenActor: the golden actor is resumed, a cold boot (ctl:120-126);
  when that fails (the golden actor was deleted, its template is gone) the
  phase stays and the next pass retries, as the controller's requeue does;
- -> Ready: it is suspended (the golden snapshot), status.goldenSnapshot is
  set (ctl:146-170), and from then on it stays SUSPENDED in ate-golden;
- deleting a template does nothing to its golden actor (ctl:69-79: NotFound
  and a deletion timestamp both return at once; no finalizer, no Owns).
Without the ate-api-server peer no golden actor can be made, so the phase
stays "" (as the controller's CreateActor would keep failing).

With --request-log FILE every request is appended to FILE as one JSON
line (method, path, query, content type, user agent, status answered; never
the body or the token), for the RBAC test (tests/deploy/rbac_check.py),
which derives from it the (verb, resource) pairs the driver needs.

With `golden_boot_ms` set (control `faults`), the step to Ready waits until
that long has passed since the template was created, as a golden actor's
boot would take.

Steered through a loopback control port: `faults` (fail the next N
requests matching method/kind with a status; never_ready), `state` (every
stored object but the seeds), `seed` (an operator's object, e.g. the
gateway TLS Secret, kept across resets), `resolve_env` / `template_exists`
(asked by the fake ate-api-server), `records` / `all_records` (every request body received since the
last reset / ever, for the token-leak checks), `put` (seed an object, e.g. a pre-provisioned template),
`reset`.  The bearer token is checked but never printed.
"""
import argparse
import base64
import binascii
import copy
import http.server
import json
import os
import re
import ssl
import sys
import threading
import time
import urllib.parse
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_common  # noqa: E402

PHASES = ["", "ResumeGoldenActor", "WaitGoldenActor", "Ready"]
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
ROUTE = re.compile(r"^/(?:api/v1|apis/ate\.dev/v1alpha1)/namespaces/([^/]+)/(secrets|actortemplates)/([^/]+)$")
LIST_ROUTE = re.compile(r"^/api/v1/namespaces/([^/]+)/secrets$")


def parse_selector(sel):
    """Equality-based label selectors (k=v, k==v, comma-separated), as
    apimachinery's labels.Parse reads them; anything else is refused."""
    want = {}
    for term in (sel or "").split(","):
        if not term:
            continue
        m = re.match(r"^([A-Za-z0-9./_-]+)\s*==?\s*([A-Za-z0-9._-]*)$", term.strip())
        if not m:
            raise Invalid("unable to parse requirement: %r" % term)
        want[m.group(1)] = m.group(2)
    return want


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


class Invalid(Exception):
    pass


def cel(rule, value, path):
    """The CRD's x-kubernetes-validations that a synthesized template can
    trip; other rules (volumes) are not modelled and pass."""
    if "self.contains('@')" in rule:
        if "@" not in value:
            raise Invalid("%s: All images must be pinned (changing the image invalidates snapshots)" % path)
    elif "dns1123Label" in rule:
        if not DNS_LABEL.match(value) or len(value) > 63:
            raise Invalid("%s: Name must be a valid DNS label" % path)
    elif "dns1123Subdomain" in rule:
        if not DNS_SUBDOMAIN.match(value) or len(value) > 253:
            raise Invalid("%s: Name must be a valid DNS subdomain" % path)
    elif "[has(self.value),has(self.valueFrom)]" in rule:
        if ("value" in value) == ("valueFrom" in value):
            raise Invalid("%s: exactly one of the fields in [value valueFrom] must be set" % path)


def validate(schema, value, path):
    t = schema.get("type")
    if t == "object":
        if not isinstance(value, dict):
            raise Invalid("%s: must be an object" % path)
        props = schema.get("properties")
        addl = schema.get("additionalProperties")
        for k in schema.get("required", []):
            if k not in value:
                raise Invalid("%s.%s: Required value" % (path, k))
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            raise Invalid("%s: too many properties" % path)
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            raise Invalid("%s: too few properties" % path)
        for k, v in value.items():
            if props is not None and k in props:
                validate(props[k], v, "%s.%s" % (path, k))
            elif addl is not None:
                validate(addl, v, "%s.%s" % (path, k))
            elif props is not None or schema.get("x-kubernetes-preserve-unknown-fields"):
                if not schema.get("x-kubernetes-preserve-unknown-fields"):
                    raise Invalid('%s: unknown field "%s"' % (path, k))
            # type: object without properties (metadata) takes anything
    elif t == "array":
        if not isinstance(value, list):
            raise Invalid("%s: must be an array" % path)
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise Invalid("%s: Too many: %d: must have at most %d items"
                          % (path, len(value), schema["maxItems"]))
        for i, v in enumerate(value):
            validate(schema.get("items", {}), v, "%s[%d]" % (path, i))
    elif t == "string":
        if not isinstance(value, str):
            raise Invalid("%s: must be a string" % path)
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise Invalid("%s: Too long" % path)
        if "minLength" in schema and len(value) < schema["minLength"]:
            raise Invalid("%s: Too short" % path)
        if "pattern" in schema and not re.search(schema["pattern"], value):
            raise Invalid("%s: does not match %s" % (path, schema["pattern"]))
        if "enum" in schema and value not in schema["enum"]:
            raise Invalid("%s: Unsupported value %r" % (path, value))
    elif t == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            raise Invalid("%s: must be an integer" % path)
        if "maximum" in schema and value > schema["maximum"]:
            raise Invalid("%s: too large" % path)
        if "minimum" in schema and value < schema["minimum"]:
            raise Invalid("%s: too small" % path)
    elif t == "boolean":
        if not isinstance(value, bool):
            raise Invalid("%s: must be a boolean" % path)
    for v in schema.get("x-kubernetes-validations", []):
        if v.get("rule", "").startswith("self == oldSelf"):
            continue  # immutability is checked against the stored object
        cel(v.get("rule", ""), value, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--crd", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--token-file")
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--request-log")
    args = ap.parse_args()
    log_lock = threading.Lock()

    def log_request(method, path, query, headers, code):
        if not args.request_log:
            return
        line = json.dumps({"method": method, "path": path, "query": query,
                           "content_type": headers.get("Content-Type") or "",
                           "user_agent": headers.get("User-Agent") or "", "status": code})
        with log_lock, open(args.request_log, "a") as f:
            f.write(line + "\n")

    with open(args.crd) as f:
        crd = yaml.safe_load(f)
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]

    lock = threading.Lock()
    objs = {}  # (kind, ns, name) -> object
    gets = {}  # (kind, ns, name) -> GETs seen since creation
    records = []  # since the last reset
    all_records = []  # never cleared: the token-leak check reads every body ever sent
    faults = {"fail": [], "never_ready": False, "golden_boot_ms": 0}
    created = {}  # (kind, ns, name) -> monotonic time of creation
    peers = {"ateapi_control": None}
    seeds = {}  # (kind, ns, name) -> object, restored by every reset

    def ate(verb, body):
        """One call of the controller into the fake ate-api-server; never made
        under `lock` (the ate-api-server asks back whether templates exist).
        Returns the reply, or None when the call failed."""
        url = peers["ateapi_control"]
        if not url:
            return None
        req = urllib.request.Request("%s/%s" % (url, verb), method="POST",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.load(r)
        except Exception as e:  # the controller logs and requeues
            sys.stderr.write("fake_kube: controller %s failed: %s\n" % (verb, e))
            return None

    def controller_step(key):
        """Moves one managed template one phase on, as one reconcile pass."""
        with lock:
            o = objs.get(key)
            if o is None or o.get("_stepping"):
                return
            st = o.setdefault("status", {})
            phase = st.get("phase", "")
            top = PHASES.index("WaitGoldenActor") if faults["never_ready"] else len(PHASES) - 1
            if PHASES.index(phase) >= top:
                return
            booted = (time.monotonic() - created.get(key, 0)) * 1000 >= faults["golden_boot_ms"]
            if phase == "WaitGoldenActor" and not booted:
                return  # the golden actor is still booting
            o["_stepping"] = True
            gid = st.get("goldenActorID")
            ns, name = key[1], key[2]
            location = o["spec"]["snapshotsConfig"]["location"]
        ok, upd = False, {}
        if phase == "":
            r = ate("golden_create", {"namespace": ns, "name": name})  # ctl:83-99
            if r is not None:
                ok, upd = True, {"phase": "ResumeGoldenActor", "goldenActorID": r["id"]}
        elif phase == "ResumeGoldenActor":
            ok = ate("golden_resume", {"id": gid}) is not None  # ctl:120-126
            upd = {"phase": "WaitGoldenActor"}
        elif phase == "WaitGoldenActor":
            ok = ate("golden_suspend", {"id": gid}) is not None  # ctl:146-156
            upd = {"phase": "Ready",  # ctl:159-170
                   "goldenSnapshot": "%s/%s/%s-fake" % (location.rstrip("/"), gid,
                                                        time.strftime("%Y-%m-%dT%H:%M:%SZ")),
                   "conditions": [{"type": "Ready", "status": "True", "reason": "Ready",
                                   "message": "Actor template is ready for use"}]}
        with lock:
            o = objs.get(key)
            if o is None:
                return  # deleted meanwhile: the controller's Get is NotFound (ctl:69-71)
            o.pop("_stepping", None)
            if ok:
                o["status"].update(upd)

    def status(code, reason, msg):
        return code, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                      "message": msg, "reason": reason, "code": code}

    def handle(method, path, query, headers, body):
        m = ROUTE.match(path)
        lm = LIST_ROUTE.match(path)
        if lm and method == "GET":
            return handle_list(lm.group(1), query, headers)
        if not m:
            return status(404, "NotFound", "no such path")
        ns, kind, name = m.groups()
        with lock:
            rec = {"method": method, "path": path, "kind": kind,
                   "body": body.decode("utf-8", "replace")}
            records.append(rec)
            all_records.append(rec)
            for f in faults["fail"]:
                if f["count"] > 0 and f.get("method", method) == method and \
                        f.get("kind", kind) == kind:
                    f["count"] -= 1
                    return status(f["status"], "Injected", "injected failure %d" % f["status"])
        if args.token_file:
            with open(args.token_file) as f:
                want = f.read().strip()
            if headers.get("Authorization") != "Bearer " + want:
                return status(401, "Unauthorized", "Unauthorized")
        key = (kind, ns, name)
        if method == "GET":
            with lock:
                o = objs.get(key)
                managed = o is not None and kind == "actortemplates" and o.get("_managed", True)
            if managed:
                # the controller runs beside the API server: a GET never
                # waits for a golden boot (a slow ResumeActor included)
                threading.Thread(target=controller_step, args=(key,), daemon=True).start()
            with lock:
                o = objs.get(key)
                if o is None:
                    return status(404, "NotFound", '%s "%s" not found' % (kind, name))
                out = copy.deepcopy({k: v for k, v in o.items() if not k.startswith("_")})
                return 200, out
        if method == "DELETE":
            with lock:
                if objs.pop(key, None) is None:
                    return status(404, "NotFound", '%s "%s" not found' % (kind, name))
                gets.pop(key, None)
            return 200, {"kind": "Status", "status": "Success"}
        if method != "PATCH":
            return status(405, "MethodNotAllowed", method)
        ctype = headers.get("Content-Type")
        if ctype not in ("application/apply-patch+yaml", "application/merge-patch+json"):
            return status(415, "UnsupportedMediaType", "apply or merge patch expected")
        if ctype == "application/apply-patch+yaml" and not query.get("fieldManager"):
            return status(422, "Invalid", "fieldManager is required for apply patch")
        try:
            obj = json.loads(body)
        except ValueError:
            return status(400, "BadRequest", "body is not JSON")
        if ctype == "application/merge-patch+json":
            with lock:
                old = objs.get(key)
                if old is None:
                    return status(404, "NotFound", '%s "%s" not found' % (kind, name))
                base = {k: v for k, v in old.items() if not k.startswith("_") and k != "status"}
            obj = merge_patch(base, obj)
            if not isinstance(obj, dict):
                return status(400, "BadRequest", "merge patch must be an object")
        meta = obj.get("metadata") or {}
        if meta.get("name") != name or meta.get("namespace", ns) != ns:
            return status(400, "BadRequest", "metadata.name/namespace do not match the URL")
        try:
            if kind == "actortemplates":
                if obj.get("apiVersion") != "ate.dev/v1alpha1" or obj.get("kind") != "ActorTemplate":
                    raise Invalid("apiVersion/kind must be ate.dev/v1alpha1 ActorTemplate")
                validate(schema, obj, "")
            else:
                if obj.get("apiVersion") != "v1" or obj.get("kind") != "Secret":
                    raise Invalid("apiVersion/kind must be v1 Secret")
                extra = set(obj) - {"apiVersion", "kind", "metadata", "type", "data", "stringData"}
                if extra:
                    raise Invalid('unknown field "%s"' % sorted(extra)[0])
                for k, v in (obj.get("data") or {}).items():
                    base64.b64decode(v, validate=True)
        except (Invalid, binascii.Error) as e:
            return status(422, "Invalid", "%s %s is invalid: %s" % (kind, name, e))
        with lock:
            old = objs.get(key)
            if old is not None and kind == "actortemplates" and old.get("spec") != obj.get("spec"):
                return status(422, "Invalid", "spec: Invalid value: Spec is immutable")
            new = copy.deepcopy(obj)
            new.pop("status", None)  # the status subresource is the controller's
            if old is not None:
                new["status"] = old.get("status", {})
            else:
                new["status"] = {"phase": ""} if kind == "actortemplates" else None
                if new["status"] is None:
                    del new["status"]
                gets[key] = 0
                created[key] = time.monotonic()
            objs[key] = new
            return (200 if old else 201), {k: v for k, v in new.items() if not k.startswith("_")}

    def handle_list(ns, query, headers):
        if args.token_file:
            with open(args.token_file) as f:
                want = f.read().strip()
            if headers.get("Authorization") != "Bearer " + want:
                return status(401, "Unauthorized", "Unauthorized")
        try:
            want = parse_selector(query.get("labelSelector"))
        except Invalid as e:
            return status(400, "BadRequest", str(e))
        with lock:
            rec = {"method": "GET", "path": "/api/v1/namespaces/%s/secrets" % ns,
                   "kind": "secrets", "body": ""}
            records.append(rec)
            all_records.append(rec)
            for f in faults["fail"]:
                if f["count"] > 0 and f.get("method", "LIST") == "LIST" and \
                        f.get("kind", "secrets") == "secrets":
                    f["count"] -= 1
                    return status(f["status"], "Injected", "injected failure %d" % f["status"])
            items = []
            for (k, n_, nm), o in sorted(objs.items()):
                labels = (o.get("metadata") or {}).get("labels") or {}
                if k == "secrets" and n_ == ns and all(labels.get(a) == b for a, b in want.items()):
                    items.append({x: v for x, v in o.items() if not x.startswith("_")})
        return 200, {"kind": "SecretList", "apiVersion": "v1", "metadata": {}, "items": items}

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _do(self):
            u = urllib.parse.urlsplit(self.path)
            q = dict(urllib.parse.parse_qsl(u.query))
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            code, obj = handle(self.command, u.path, q, self.headers, body)
            log_request(self.command, u.path, q, self.headers, code)
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PATCH = do_DELETE = do_PUT = do_POST = _do

        def log_message(self, fmt, *a):
            # paths only: bodies and headers (the token) are never logged
            sys.stderr.write("fake_kube: %s\n" % (fmt % a))

    def control(verb, body):
        with lock:
            if verb == "config":
                peers["ateapi_control"] = body.get("ateapi_control")
                return {"ok": True}
            if verb == "template_exists":  # the ate-api-server's template lister
                o = objs.get(("actortemplates", body["namespace"], body["name"]))
                return {"exists": o is not None}
            if verb == "resolve_env":
                # What the ate-api-server does on every run and restore
                # (agent-substrate/substrate@86e138f
                # cmd/ateapi/internal/controlapi/workflow_resume.go:257,
                # workload_spec.go:79-101,158-190): each secretKeyRef is read
                # from the template's namespace; a missing Secret or key is
                # FailedPrecondition unless the ref is optional.  Only the
                # outcome is returned, never a value.
                ns = body["namespace"]
                o = objs.get(("actortemplates", ns, body["name"]))
                if o is None:
                    return {"exists": False, "missing": None}
                for c in o.get("spec", {}).get("containers", []):
                    for e in c.get("env", []):
                        ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                        if not ref:
                            continue
                        sec = objs.get(("secrets", ns, ref["name"]))
                        env_id = "container %s env %s" % (c.get("name"), e.get("name"))
                        if sec is None:
                            if not ref.get("optional"):
                                return {"exists": True, "missing": "%s references missing secret %s/%s"
                                        % (env_id, ns, ref["name"])}
                            continue
                        keys = set((sec.get("data") or {})) | set((sec.get("stringData") or {}))
                        if ref["key"] not in keys and not ref.get("optional"):
                            return {"exists": True, "missing": '%s references missing key "%s" in secret %s/%s'
                                    % (env_id, ref["key"], ns, ref["name"])}
                return {"exists": True, "missing": None}
            if verb == "faults":
                faults["fail"] = [dict(x) for x in body.get("fail", [])]
                faults["never_ready"] = bool(body.get("never_ready"))
                faults["golden_boot_ms"] = int(body.get("golden_boot_ms", 0))
                return {"ok": True}
            if verb == "state":  # what was made since the last reset (seeds left out)
                return {"objects": [{"kind": k[0], "namespace": k[1], "name": k[2], "object": v}
                                    for k, v in objs.items() if not v.get("_seeded")]}
            if verb == "seed":
                # an object the operator provides (the gateway TLS Secret):
                # stored now and again after every reset, not in `state`
                o = copy.deepcopy(body["object"])
                o["_seeded"] = True
                o["_managed"] = False
                key = (body["kind"], body["namespace"], body["name"])
                seeds[key] = o
                objs[key] = copy.deepcopy(o)
                return {"ok": True}
            if verb == "records":
                return {"records": records}
            if verb == "all_records":
                return {"records": all_records}
            if verb == "put":
                o = copy.deepcopy(body["object"])
                o["_managed"] = False  # seeded objects keep the status they came with
                objs[(body["kind"], body["namespace"], body["name"])] = o
                return {"ok": True}
            if verb == "reset":
                objs.clear()
                objs.update({k: copy.deepcopy(v) for k, v in seeds.items()})
                gets.clear()
                records.clear()
                faults["fail"] = []
                faults["never_ready"] = False
                faults["golden_boot_ms"] = 0
                created.clear()
                return {"ok": True}
        raise KeyError(verb)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    ctl = fake_common.ControlServer(control)
    fake_common.write_ready(args.ready_file, {"port": httpd.server_address[1],
                                              "control_port": ctl.port, "pid": os.getpid()})
    print("fake_kube: serving on https://127.0.0.1:%d, control on %d"
          % (httpd.server_address[1], ctl.port), file=sys.stderr, flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
