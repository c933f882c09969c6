#!/usr/bin/python3
"""Least privilege, proven: the driver's Role grants exactly the (API group,
resource, verb) triples the driver's requests need.

Inputs: the rendered deployment (`kubectl kustomize deploy/kubernetes`) and
the request logs the FAKE Kubernetes API wrote during the Substrate suites
(tests/driver/substrate/fake_kube.py --request-log).  Only the driver's requests
count: it names itself in User-Agent (driver/substrate/kube.c); the test
tools' requests (crd_check.py) do not.

Each request becomes the authorization attributes the API server would
check, as its request-info resolver derives them (kubernetes/kubernetes
staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go):
  GET on a name = get; GET on a collection = list, or watch with ?watch;
  POST = create; PUT = update; PATCH = patch; DELETE on a name = delete, on
  a collection = deletecollection; a subresource is "resource/sub".
A server-side apply (PATCH, application/apply-patch+yaml) that created its
object (201) is authorized as create as well (staging/src/k8s.io/apiserver/
pkg/endpoints/handlers/patch.go, the apply branch).  A request outside a
namespace cannot be granted by a Role at all and fails the check.

Then: needed == granted, nothing missing, nothing extra, no wildcards, and
the RoleBinding gives the Role to the ServiceAccount of the pod that runs
the driver.  Controls (--controls): every granted triple removed in turn
must be reported missing, and an added one (watch) reported extra, so the
comparison is known to bite.

Usage: rbac_check.py RENDERED.yaml LOG.jsonl... [--controls]
"""
import json
import re
import sys

import yaml

DRIVER_UA = "openshell-driver-substrate/"
CORE = re.compile(r"^/api/v1/(?:namespaces/([^/]+)/)?([^/]+)(?:/([^/]+))?(?:/([^/]+))?$")
GROUP = re.compile(r"^/apis/([^/]+)/([^/]+)/(?:namespaces/([^/]+)/)?([^/]+)(?:/([^/]+))?(?:/([^/]+))?$")


def attributes(rec):
    """One logged request -> (namespace, {(group, resource, verb)}) or an error string."""
    path = rec["path"]
    m = CORE.match(path)
    if m:
        group, (ns, res, name, sub) = "", m.groups()
    else:
        m = GROUP.match(path)
        if not m:
            return None, "not a resource path: %s %s" % (rec["method"], path)
        group, _version, ns, res, name, sub = m.groups()
    if ns is None:
        return None, "cluster-scoped request (a Role cannot grant it): %s %s" % (rec["method"], path)
    if res == "namespaces":
        return None, "request on a namespace object: %s %s" % (rec["method"], path)
    resource = res + ("/" + sub if sub else "")
    method = rec["method"]
    q = rec.get("query") or {}
    if method == "GET":
        verbs = {"get"} if name else ({"watch"} if q.get("watch") in ("true", "1") else {"list"})
    elif method == "POST":
        verbs = {"create"}
    elif method == "PUT":
        verbs = {"update"}
    elif method == "PATCH":
        verbs = {"patch"}
        if rec.get("content_type") == "application/apply-patch+yaml" and rec.get("status") == 201:
            verbs.add("create")
    elif method == "DELETE":
        verbs = {"delete"} if name else {"deletecollection"}
    else:
        return None, "unexpected method %s %s" % (method, path)
    return ns, {(group, resource, v) for v in verbs}


def needed(logs):
    need, errors, namespaces, n = set(), [], set(), 0
    for log in logs:
        with open(log) as f:
            for line in f:
                rec = json.loads(line)
                if not rec.get("user_agent", "").startswith(DRIVER_UA):
                    continue
                n += 1
                ns, triples = attributes(rec)
                if ns is None:
                    errors.append(triples)
                else:
                    namespaces.add(ns)
                    need |= triples
    return need, errors, namespaces, n


def granted(role):
    out, errors = set(), []
    for rule in role.get("rules") or []:
        for bad in ("resourceNames", "nonResourceURLs"):
            if bad in rule:
                errors.append("rule uses %s: %s" % (bad, rule))
        for g in rule.get("apiGroups") or []:
            for r in rule.get("resources") or []:
                for v in rule.get("verbs") or []:
                    if "*" in (g, r, v):
                        errors.append("wildcard in rule: %s" % rule)
                    out.add((g, r, v))
    return out, errors


def compare(need, have):
    return sorted(need - have), sorted(have - need)


def fmt(t):
    return "%s %s%s" % (t[2], (t[0] + "/") if t[0] else "", t[1])


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    controls = "--controls" in sys.argv
    rendered, logs = args[0], args[1:]
    docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
    roles = [d for d in docs if d["kind"] == "Role" and d["metadata"]["name"] == "openshell-driver-substrate"]
    binds = [d for d in docs if d["kind"] == "RoleBinding" and d["roleRef"]["name"] == "openshell-driver-substrate"]
    deps = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet") and any(
        c["name"] == "openshell-driver-substrate" for c in d["spec"]["template"]["spec"]["containers"])]
    cms = [d for d in docs if d["kind"] == "ConfigMap" and "config.json" in (d.get("data") or {})]
    fail = []
    if len(roles) != 1 or len(binds) != 1 or len(deps) != 1 or len(cms) != 1:
        print("FAIL rbac: expected one Role, RoleBinding, driver workload and driver ConfigMap; got %d %d %d %d"
              % (len(roles), len(binds), len(deps), len(cms)))
        return 1
    role, bind, dep, cfg = roles[0], binds[0], deps[0], json.loads(cms[0]["data"]["config.json"])

    need, errors, namespaces, n = needed(logs)
    fail += errors
    if n == 0:
        fail.append("no request from the driver in %s: nothing to compare" % " ".join(logs))
    have, errors = granted(role)
    fail += errors
    missing, extra = compare(need, have)
    fail += ["missing from the Role: " + fmt(t) for t in missing]
    fail += ["granted but never used: " + fmt(t) for t in extra]

    # the Role reaches the driver's namespace and the driver's pod
    ns = cfg.get("default_namespace", "openshell")
    if role["metadata"].get("namespace") != ns or bind["metadata"].get("namespace") != ns:
        fail.append("Role/RoleBinding namespace %s/%s is not the driver's default_namespace %s"
                    % (role["metadata"].get("namespace"), bind["metadata"].get("namespace"), ns))
    sa = dep["spec"]["template"]["spec"].get("serviceAccountName", "default")
    want = {"kind": "ServiceAccount", "name": sa, "namespace": dep["metadata"].get("namespace")}
    if bind.get("subjects") != [want]:
        fail.append("RoleBinding subjects %s are not exactly the pod's %s" % (bind.get("subjects"), want))
    if bind["roleRef"].get("kind") != "Role":
        fail.append("RoleBinding refers to a %s" % bind["roleRef"].get("kind"))

    for f in fail:
        print("FAIL rbac: " + f)
    if not fail:
        print("PASS rbac: the Role grants exactly what %d driver requests needed (namespaces %s): %s"
              % (n, ",".join(sorted(namespaces)), ", ".join(fmt(t) for t in sorted(have))))
    rc = 1 if fail else 0

    if controls and not fail:
        bad = 0
        for t in sorted(have):
            m, e = compare(need, have - {t})
            if m != [t] or e:
                print("FAIL control: removing %s from the Role went unnoticed" % fmt(t))
                bad = 1
        extra_t = ("", "secrets", "watch")
        m, e = compare(need, have | {extra_t})
        if e != [extra_t]:
            print("FAIL control: an added %s went unnoticed" % fmt(extra_t))
            bad = 1
        if not bad:
            print("PASS rbac controls: each of the %d granted triples removed is reported missing; "
                  "an added one is reported extra" % len(have))
        rc = bad
    return rc


if __name__ == "__main__":
    sys.exit(main())
