#!/usr/bin/python3
"""The rendered deployment holds together: what the driver's ConfigMap says
matches what the pod gives it.

  - the gateway container selects the driver (OPENSHELL_DRIVERS=substrate)
    and dials the socket the driver's config names;
  - both containers mount one emptyDir at the same place, and the socket
    sits in a subdirectory of it (the driver creates that 0700 itself; the
    emptyDir root is group-writable and would be refused);
  - the driver runs as the gateway's uid (it accepts only its own uid as a
    peer), non-root, without privilege escalation, all capabilities dropped;
  - the config file, the ate-api token (projected, audience
    api.ate-system.svc) and CA (ClusterTrustBundle) are where the config
    says, each from the right kind of volume;
  - every container image and the config's pause_image are pinned by
    sha256 digest, or are placeholders listed in the README's Placeholders
    section.

Usage: wiring_check.py RENDERED.yaml README.md [--controls]
"""
import copy
import json
import os
import re
import sys

import yaml

PINNED = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")
AUDIENCE = "api.ate-system.svc"


def placeholders(readme):
    out, on = set(), False
    for line in open(readme):
        if line.startswith("## "):
            on = line.strip().lower() == "## placeholders"
        elif on:
            out |= set(re.findall(r"`([^`]+)`", line))
    return out


def under(path, mount):
    return path.startswith(mount.rstrip("/") + "/")


def check(docs, ph):
    errs = []
    dep = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet")]
    cms = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
    if len(dep) != 1:
        return ["expected one gateway workload, got %d" % len(dep)]
    pod = dep[0]["spec"]["template"]["spec"]
    cs = {c["name"]: c for c in pod["containers"]}
    vols = {v["name"]: v for v in pod.get("volumes") or []}
    gw, drv = cs.get("openshell-gateway"), cs.get("openshell-driver-substrate")
    if gw is None or drv is None:
        return ["the pod lacks the gateway or the driver container: %s" % sorted(cs)]

    args = drv.get("args") or []
    if "--config" not in args or args.index("--config") + 1 >= len(args):
        return ["the driver is not given --config"]
    cfg_path = args[args.index("--config") + 1]
    mounts = {m["mountPath"]: m for m in drv.get("volumeMounts") or []}

    def volume_for(container, path):
        best = None
        for m in container.get("volumeMounts") or []:
            if under(path, m["mountPath"]) and (best is None or len(m["mountPath"]) > len(best["mountPath"])):
                best = m
        return best

    m = volume_for(drv, cfg_path)
    cfg = None
    if m is None or "configMap" not in vols.get(m["name"], {}):
        errs.append("the driver's %s is not on a ConfigMap volume" % cfg_path)
    else:
        cm = cms.get(vols[m["name"]]["configMap"]["name"])
        key = os.path.relpath(cfg_path, m["mountPath"])
        if cm is None or key not in (cm.get("data") or {}):
            errs.append("ConfigMap %s has no key %s" % (vols[m["name"]]["configMap"]["name"], key))
        else:
            cfg = json.loads(cm["data"][key])
    if cfg is None:
        return errs

    env = {e["name"]: e.get("value") for e in gw.get("env") or []}
    sock = cfg.get("socket")
    if env.get("OPENSHELL_DRIVERS") != "substrate":
        errs.append("the gateway's OPENSHELL_DRIVERS is %r, not substrate" % env.get("OPENSHELL_DRIVERS"))
    if env.get("OPENSHELL_COMPUTE_DRIVER_SOCKET") != sock:
        errs.append("the gateway dials %r, the driver listens on %r"
                    % (env.get("OPENSHELL_COMPUTE_DRIVER_SOCKET"), sock))
    gm, dm = volume_for(gw, sock or "/"), volume_for(drv, sock or "/")
    if gm is None or dm is None or gm["name"] != dm["name"] or gm["mountPath"] != dm["mountPath"]:
        errs.append("the socket %s is not on one volume mounted at the same place in both containers" % sock)
    elif "emptyDir" not in vols[gm["name"]]:
        errs.append("the socket volume %s is not an emptyDir" % gm["name"])
    elif os.path.dirname(sock) == gm["mountPath"].rstrip("/"):
        errs.append("the socket sits in the emptyDir root (group-writable): use a subdirectory")

    pod_sc = pod.get("securityContext") or {}
    gsc, dsc = gw.get("securityContext") or {}, drv.get("securityContext") or {}
    guid = gsc.get("runAsUser", pod_sc.get("runAsUser"))
    duid = dsc.get("runAsUser", pod_sc.get("runAsUser"))
    if guid is None or duid != guid:
        errs.append("the driver's uid %s is not the gateway's %s (SO_PEERCRED)" % (duid, guid))
    if duid == 0 or not dsc.get("runAsNonRoot") or dsc.get("allowPrivilegeEscalation") is not False \
            or "ALL" not in ((dsc.get("capabilities") or {}).get("drop") or []):
        errs.append("the driver is not non-root, no-escalation, all capabilities dropped")

    for key, kind in (("api_bearer_token_path", "serviceAccountToken"), ("api_tls_ca_path", "clusterTrustBundle")):
        p = cfg.get(key)
        m = volume_for(drv, p or "/")
        srcs = ((vols.get(m["name"]) or {}).get("projected") or {}).get("sources", []) if m else []
        rel = os.path.relpath(p, m["mountPath"]) if m else None
        hit = [s[kind] for s in srcs if kind in s and s[kind].get("path") == rel]
        if not hit:
            errs.append("%s %s is not a projected %s" % (key, p, kind))
        elif kind == "serviceAccountToken" and hit[0].get("audience") != AUDIENCE:
            errs.append("the ate-api token's audience is %r, not %s" % (hit[0].get("audience"), AUDIENCE))

    refs = [c["image"] for c in pod["containers"] + (pod.get("initContainers") or [])]
    refs.append(cfg.get("pause_image", ""))
    for r in refs:
        if not PINNED.match(r) and r not in ph:
            errs.append("image %s is neither pinned by digest nor a placeholder the README names" % r)
    for r in refs:
        if PINNED.match(r) and r.endswith("0" * 64) and r not in ph:
            errs.append("image %s has the all-zero digest but is not listed as a placeholder" % r)
    return errs


def main():
    docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
    ph = placeholders(sys.argv[2])
    errs = check(docs, ph)
    for e in errs:
        print("FAIL wiring: " + e)
    if not errs:
        print("PASS wiring: socket, uid, config, ate-api token and CA, images (%d placeholders named)" % len(ph))
    if errs or "--controls" not in sys.argv:
        return 1 if errs else 0
    i = next(i for i, d in enumerate(docs) if d["kind"] in ("Deployment", "StatefulSet"))

    def cont(ds, n):
        return next(c for c in ds[i]["spec"]["template"]["spec"]["containers"] if c["name"] == n)

    muts = {
        "the gateway's socket variable removed": lambda ds: cont(ds, "openshell-gateway")["env"].pop(),
        "the driver as another uid": lambda ds: cont(ds, "openshell-driver-substrate")["securityContext"]
        .__setitem__("runAsUser", 1001),
        "the token audience changed": lambda ds: [s["serviceAccountToken"].__setitem__("audience", "x")
                                                  for v in ds[i]["spec"]["template"]["spec"]["volumes"]
                                                  for s in (v.get("projected") or {}).get("sources", [])
                                                  if "serviceAccountToken" in s],
        "an image by tag": lambda ds: cont(ds, "openshell-driver-substrate").__setitem__("image", "x/driver:1.0"),
    }
    bad = 0
    for what, f in muts.items():
        ds = copy.deepcopy(docs)
        f(ds)
        if not check(ds, ph):
            print("FAIL wiring control: %s passed" % what)
            bad = 1
    if not bad:
        print("PASS wiring controls: %d mutations refused" % len(muts))
    return bad


if __name__ == "__main__":
    sys.exit(main())
