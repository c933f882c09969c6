#!/usr/bin/python3
"""Applies every golden ActorTemplate (tests/driver/substrate/golden) to the FAKE
Kubernetes API, which checks it against the CRD schema it was given: each must
be accepted.  Controls: mutated copies (a field the CRD lacks, 33 env
entries, 65 command entries, an unpinned image, value + valueFrom together)
must be refused with 422, so the schema check is known to bite.

Usage: crd_check.py GOLDEN_DIR KUBE_URL CA TOKEN_FILE
"""
import copy
import glob
import json
import os
import ssl
import sys
import urllib.request

golden, url, ca, token_file = sys.argv[1:5]
token = open(token_file).read().strip()
ctx = ssl.create_default_context(cafile=ca)


def apply(obj, ns):
    obj = copy.deepcopy(obj)
    obj["metadata"]["namespace"] = ns
    path = "%s/apis/ate.dev/v1alpha1/namespaces/%s/actortemplates/%s?fieldManager=crd-check" % (
        url, ns, obj["metadata"]["name"])
    req = urllib.request.Request(path, data=json.dumps(obj).encode(), method="PATCH", headers={
        "Content-Type": "application/apply-patch+yaml", "Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, context=ctx) as r:
            return r.status, ""
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}").get("message", "")


failed = 0
n = 0
templates = []
for i, f in enumerate(sorted(glob.glob(os.path.join(golden, "*.json")))):
    obj = json.load(open(f))
    if obj.get("kind") != "ActorTemplate":
        continue
    templates.append(obj)
    code, msg = apply(obj, "golden-%d" % i)
    n += 1
    if code not in (200, 201):
        print("FAIL %s refused by the CRD schema: %d %s" % (os.path.basename(f), code, msg))
        failed += 1


# the ActorTemplates `render` printed for the render golden specs
for i, f in enumerate(sorted(glob.glob(os.path.join(golden, "render", "*.out")))):
    first = open(f).readline()
    if not first.startswith("{"):
        continue
    for obj in json.loads(first)["items"]:
        if obj.get("kind") != "ActorTemplate":
            continue
        code, msg = apply(obj, "render-%d" % i)
        n += 1
        if code not in (200, 201):
            print("FAIL render/%s refused by the CRD schema: %d %s" % (os.path.basename(f), code, msg))
            failed += 1


def mutate(fn):
    o = copy.deepcopy(templates[0])
    fn(o["spec"]["containers"][0], o)
    return o


controls = {
    "securityContext": mutate(lambda c, o: c.update(securityContext={"privileged": True})),
    "args": mutate(lambda c, o: c.update(args=["x"])),
    "workerPoolRef": mutate(lambda c, o: o["spec"].update(workerPoolRef={"name": "p"})),
    "33 env": mutate(lambda c, o: c.update(env=[{"name": "V%d" % i, "value": "x"} for i in range(33)])),
    "65 command": mutate(lambda c, o: c.update(command=["x"] * 65)),
    "unpinned image": mutate(lambda c, o: c.update(image="busybox:latest")),
    "value and valueFrom": mutate(lambda c, o: c["env"].append(
        {"name": "T", "value": "v", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}})),
    "no snapshotsConfig": mutate(lambda c, o: o["spec"].pop("snapshotsConfig")),
}
for i, (name, obj) in enumerate(controls.items()):
    code, msg = apply(obj, "control-%d" % i)
    if code != 422:
        print("FAIL control '%s' was not refused (%d)" % (name, code))
        failed += 1
print("%s %d golden templates accepted by the CRD schema, %d controls refused"
      % ("FAIL" if failed else "PASS", n, len(controls)))
sys.exit(1 if failed else 0)
