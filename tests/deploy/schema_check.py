#!/usr/bin/python3
"""Offline schema check of the built-in kinds deploy/kubernetes renders.

No API server and no OpenAPI document are available offline (Debian ships
neither kubeconform nor the Kubernetes OpenAPI schemas), so this is a small
schema of its own, written from the Kubernetes API reference for exactly the
kinds and fields the deployment uses: Namespace, ConfigMap, Role,
RoleBinding, Deployment/StatefulSet (the pod template in depth).  It checks
apiVersion/kind pairs, required fields, value types, enums, DNS names,
unknown fields in every modelled object, and references inside a pod
(each volumeMount names a volume, each volume has exactly one source, each
projected source exactly one kind).  Objects it does not model fail: the
check never passes what it did not look at.

Not checked: fields the chart renders that the patch does not touch are
accepted as they come only where marked OPEN below (probes, resources,
affinity...), and nothing about admission (quotas, pod security).

Usage: schema_check.py RENDERED.yaml [--controls]
"""
import copy
import re
import sys

import yaml

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_SUB = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
OPEN = object()  # a field whose inside is not modelled (kept as is)


class Bad(Exception):
    pass


def S(**fields):
    """An object schema: name -> (type-or-schema, required)."""
    return ("obj", fields)


def req(t):
    return (t, True)


def opt(t):
    return (t, False)


def L(t):
    return ("list", t)


def E(*vals):
    return ("enum", vals)


STR, INT, BOOL, MAP = "str", "int", "bool", "map"
DNSL, DNSS = "dnslabel", "dnssub"

META = S(name=req(DNSS), namespace=opt(DNSL), labels=opt(MAP), annotations=opt(MAP))
KEY_TO_PATH = S(key=req(STR), path=req(STR), mode=opt(INT))
ENV = S(name=req(STR), value=opt(STR), valueFrom=opt(OPEN))
MOUNT = S(name=req(DNSL), mountPath=req(STR), readOnly=opt(BOOL), subPath=opt(STR))
SECCTX = S(runAsNonRoot=opt(BOOL), runAsUser=opt(INT), runAsGroup=opt(INT),
           allowPrivilegeEscalation=opt(BOOL), readOnlyRootFilesystem=opt(BOOL),
           privileged=opt(BOOL),
           capabilities=opt(S(add=opt(L(STR)), drop=opt(L(STR)))),
           seccompProfile=opt(S(type=req(E("RuntimeDefault", "Localhost", "Unconfined")),
                                localhostProfile=opt(STR))))
CONTAINER = S(name=req(DNSL), image=req(STR), imagePullPolicy=opt(E("Always", "IfNotPresent", "Never")),
              command=opt(L(STR)), args=opt(L(STR)), env=opt(L(ENV)), ports=opt(OPEN),
              volumeMounts=opt(L(MOUNT)), securityContext=opt(SECCTX), resources=opt(OPEN),
              startupProbe=opt(OPEN), livenessProbe=opt(OPEN), readinessProbe=opt(OPEN))
PROJ_SOURCE = S(
    serviceAccountToken=opt(S(audience=opt(STR), expirationSeconds=opt(INT), path=req(STR))),
    clusterTrustBundle=opt(S(name=opt(STR), signerName=opt(STR), path=req(STR), optional=opt(BOOL),
                             labelSelector=opt(S(matchLabels=opt(MAP), matchExpressions=opt(OPEN))))),
    configMap=opt(S(name=req(STR), items=opt(L(KEY_TO_PATH)), optional=opt(BOOL))),
    secret=opt(S(name=req(STR), items=opt(L(KEY_TO_PATH)), optional=opt(BOOL))),
    downwardAPI=opt(OPEN))
VOLUME_SOURCES = {
    "emptyDir": S(medium=opt(E("", "Memory")), sizeLimit=opt(STR)),
    "configMap": S(name=req(STR), items=opt(L(KEY_TO_PATH)), defaultMode=opt(INT), optional=opt(BOOL)),
    "secret": S(secretName=req(STR), items=opt(L(KEY_TO_PATH)), defaultMode=opt(INT), optional=opt(BOOL)),
    "projected": S(sources=req(L(PROJ_SOURCE)), defaultMode=opt(INT)),
    "persistentVolumeClaim": S(claimName=req(STR), readOnly=opt(BOOL)),
}
VOLUME = S(name=req(DNSL), **{k: opt(v) for k, v in VOLUME_SOURCES.items()})
POD_SPEC = S(containers=req(L(CONTAINER)), initContainers=opt(L(CONTAINER)), volumes=opt(L(VOLUME)),
             serviceAccountName=opt(DNSS), securityContext=opt(OPEN), terminationGracePeriodSeconds=opt(INT),
             imagePullSecrets=opt(OPEN), hostAliases=opt(OPEN), nodeSelector=opt(MAP), affinity=opt(OPEN),
             tolerations=opt(OPEN), automountServiceAccountToken=opt(BOOL))
TEMPLATE = S(metadata=opt(S(labels=opt(MAP), annotations=opt(MAP))), spec=req(POD_SPEC))
SELECTOR = S(matchLabels=opt(MAP), matchExpressions=opt(OPEN))
RULE = S(apiGroups=req(L(STR)), resources=req(L(STR)), verbs=req(L(STR)), resourceNames=opt(L(STR)))
KINDS = {
    ("v1", "Namespace"): S(metadata=req(META)),
    ("v1", "ConfigMap"): S(metadata=req(META), data=opt(MAP), binaryData=opt(MAP), immutable=opt(BOOL)),
    ("rbac.authorization.k8s.io/v1", "Role"): S(metadata=req(META), rules=opt(L(RULE))),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): S(
        metadata=req(META),
        roleRef=req(S(apiGroup=req(E("rbac.authorization.k8s.io")), kind=req(E("Role", "ClusterRole")),
                      name=req(DNSS))),
        subjects=opt(L(S(kind=req(E("ServiceAccount", "User", "Group")), name=req(STR),
                         namespace=opt(DNSL), apiGroup=opt(STR))))),
    ("apps/v1", "Deployment"): S(metadata=req(META), spec=req(S(
        replicas=opt(INT), selector=req(SELECTOR), template=req(TEMPLATE), strategy=opt(OPEN),
        revisionHistoryLimit=opt(INT)))),
    ("apps/v1", "StatefulSet"): S(metadata=req(META), spec=req(S(
        replicas=opt(INT), serviceName=opt(STR), selector=req(SELECTOR), template=req(TEMPLATE),
        volumeClaimTemplates=opt(OPEN), updateStrategy=opt(OPEN)))),
}


def check(schema, v, path):
    if schema is OPEN:
        return
    if schema == STR or schema == DNSL or schema == DNSS:
        if not isinstance(v, str):
            raise Bad("%s: must be a string" % path)
        if schema == DNSL and not (DNS_LABEL.match(v) and len(v) <= 63):
            raise Bad("%s: %r is not a DNS-1123 label" % (path, v))
        if schema == DNSS and not (DNS_SUB.match(v) and len(v) <= 253):
            raise Bad("%s: %r is not a DNS-1123 subdomain" % (path, v))
    elif schema == INT:
        if not isinstance(v, int) or isinstance(v, bool):
            raise Bad("%s: must be an integer" % path)
    elif schema == BOOL:
        if not isinstance(v, bool):
            raise Bad("%s: must be a boolean" % path)
    elif schema == MAP:
        if not isinstance(v, dict) or not all(isinstance(x, str) for x in list(v) + list(v.values())):
            raise Bad("%s: must be a map of strings" % path)
    elif schema[0] == "enum":
        if v not in schema[1]:
            raise Bad("%s: %r is not one of %s" % (path, v, list(schema[1])))
    elif schema[0] == "list":
        if not isinstance(v, list):
            raise Bad("%s: must be a list" % path)
        for i, x in enumerate(v):
            check(schema[1], x, "%s[%d]" % (path, i))
    elif schema[0] == "obj":
        if not isinstance(v, dict):
            raise Bad("%s: must be an object" % path)
        fields = schema[1]
        for k in v:
            if k not in fields:
                raise Bad('%s: unknown field "%s"' % (path, k))
        for k, (t, required) in fields.items():
            if k in v:
                check(t, v[k], "%s.%s" % (path, k))
            elif required:
                raise Bad("%s.%s: Required value" % (path, k))
    else:
        raise Bad("%s: schema error" % path)


def pod_refs(spec, path):
    vols = [x["name"] for x in spec.get("volumes") or []]
    if len(set(vols)) != len(vols):
        raise Bad("%s.volumes: duplicate names" % path)
    for x in spec.get("volumes") or []:
        n = [k for k in x if k in VOLUME_SOURCES]
        if len(n) != 1:
            raise Bad("%s.volumes[%s]: exactly one volume source, got %s" % (path, x["name"], n))
        for s in (x.get("projected") or {}).get("sources", []):
            if len(s) != 1:
                raise Bad("%s.volumes[%s]: a projected source has exactly one kind" % (path, x["name"]))
            ctb = s.get("clusterTrustBundle")
            if ctb is not None and ("name" in ctb) == ("signerName" in ctb):
                raise Bad("%s.volumes[%s]: clusterTrustBundle needs name or signerName" % (path, x["name"]))
    names = [c["name"] for c in spec["containers"]]
    if len(set(names)) != len(names):
        raise Bad("%s.containers: duplicate names" % path)
    for c in spec["containers"]:
        for m in c.get("volumeMounts") or []:
            if m["name"] not in vols:
                raise Bad("%s.containers[%s]: volumeMount %s names no volume" % (path, c["name"], m["name"]))
        envs = [e["name"] for e in c.get("env") or []]
        if len(set(envs)) != len(envs):
            raise Bad("%s.containers[%s].env: duplicate names" % (path, c["name"]))


def check_doc(d):
    key = (d.get("apiVersion"), d.get("kind"))
    if key not in KINDS:
        raise Bad("%s: not a kind this check models" % (key,))
    body = {k: v for k, v in d.items() if k not in ("apiVersion", "kind")}
    name = "%s/%s" % (d.get("kind"), (d.get("metadata") or {}).get("name"))
    check(KINDS[key], body, name)
    if d["kind"] in ("Deployment", "StatefulSet"):
        spec = d["spec"]
        pod_refs(spec["template"]["spec"], name + ".spec.template.spec")
        sel = spec["selector"].get("matchLabels") or {}
        labels = (spec["template"].get("metadata") or {}).get("labels") or {}
        if any(labels.get(k) != v for k, v in sel.items()):
            raise Bad("%s: selector does not match the template's labels" % name)


def check_all(docs):
    errs = []
    for d in docs:
        try:
            check_doc(d)
        except Bad as e:
            errs.append(str(e))
    return errs


def main():
    docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
    errs = check_all(docs)
    for e in errs:
        print("FAIL schema: " + e)
    if not errs:
        print("PASS schema: %d objects (%s)" % (len(docs), ", ".join(sorted({d["kind"] for d in docs}))))
    if errs or "--controls" not in sys.argv:
        return 1 if errs else 0
    # controls: each mutation must be refused
    dep = next(i for i, d in enumerate(docs) if d["kind"] in ("Deployment", "StatefulSet"))
    muts = {
        "a container without image": lambda ds: ds[dep]["spec"]["template"]["spec"]["containers"][-1].pop("image"),
        "an unknown container field": lambda ds: ds[dep]["spec"]["template"]["spec"]["containers"][-1]
        .__setitem__("securityContxt", {}),
        "a mount naming no volume": lambda ds: ds[dep]["spec"]["template"]["spec"]["volumes"].pop(),
        "a string where an integer goes": lambda ds: ds[dep]["spec"].__setitem__("replicas", "1"),
        "an unknown kind": lambda ds: ds.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}),
    }
    bad = 0
    for what, f in muts.items():
        ds = copy.deepcopy(docs)
        f(ds)
        if not check_all(ds):
            print("FAIL schema control: %s passed" % what)
            bad = 1
    if not bad:
        print("PASS schema controls: %d mutations refused" % len(muts))
    return bad


if __name__ == "__main__":
    sys.exit(main())
