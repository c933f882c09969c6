#!/usr/bin/python3
"""drvctl: a small command-line client of an OpenShell compute driver socket,
speaking the gateway's protocol (stubs generated at run time from the
compute_driver.proto tests/lib/protos.py picks, as tests/driver/gateway_client.py does).

  drvctl.py --reference DIR --socket PATH CMD [ARGS]
    create ID IMAGE [--env K=V]... [--token T] [-- ARGV...]
    get ID | list | stop ID | start ID | delete ID | caps | validate ID IMAGE

Prints one JSON object per command on stdout: {"ok":true,...} or
{"ok":false,"code":"NOT_FOUND","message":"..."}; exit 0 / 1.  create returns
once the sandbox is Ready (or its create failed: code CREATE_FAILED), with
create_return_ms (when CreateSandbox answered) and rpc_ms (until Ready).
Used by demo/driver-demo.sh and the runsc-backend tests.
"""

import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import gateway_client as gc  # noqa: E402


def sandbox_json(sb):
    return {"id": sb.id, "name": sb.name, "namespace": sb.namespace,
            "phase": gc.gateway_phase(sb), "address": sb.status.sandbox_fd,
            "conditions": [{"type": c.type, "status": c.status, "reason": c.reason,
                            "message": c.message} for c in sb.status.conditions]}


def main(argv):
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", required=True)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--stubs", help="directory to keep generated stubs in (reused)")
    ap.add_argument("--timeout", type=float, default=180)
    ap.add_argument("cmd")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    stubs = a.stubs or tempfile.mkdtemp(prefix="drvctl-")
    if not os.path.exists(os.path.join(stubs, "compute_driver_pb2_grpc.py")):
        os.makedirs(stubs, exist_ok=True)
        import shutil
        shutil.rmtree(os.path.join(stubs, "scratch"), ignore_errors=True)
        gc.generate_stubs(a.reference, stubs)
    else:
        sys.path.insert(0, stubs)
    import grpc
    import compute_driver_pb2 as pb
    import compute_driver_pb2_grpc as g
    ch = grpc.insecure_channel(f"unix:{a.socket}")
    s = g.ComputeDriverStub(ch)
    out = {"ok": True}
    import time
    t0 = time.monotonic()
    try:
        c, args = a.cmd, a.args
        if c in ("create", "validate"):
            sid, image = args[0], args[1]
            env, token, cmd = {}, "", []
            rest = args[2:]
            while rest:
                x = rest.pop(0)
                if x == "--env":
                    k, _, v = rest.pop(0).partition("=")
                    env[k] = v
                elif x == "--token":
                    token = rest.pop(0)
                elif x == "--":
                    cmd = rest
                    rest = []
            tpl = pb.DriverSandboxTemplate(image=image)
            sb = pb.DriverSandbox(id=sid, name=sid, spec=pb.DriverSandboxSpec(
                environment=env, sandbox_token=token, template=tpl))
            if cmd:
                # DriverSandboxSpec.command if the reference has it, else template
                for holder in (sb.spec, tpl):
                    if "command" in holder.DESCRIPTOR.fields_by_name:
                        holder.command.extend(cmd)
                        break
            if c == "validate":
                s.ValidateSandboxCreate(pb.ValidateSandboxCreateRequest(sandbox=sb),
                                        timeout=a.timeout)
            else:
                s.CreateSandbox(pb.CreateSandboxRequest(sandbox=sb), timeout=a.timeout)
                # CreateSandbox answers once the sandbox is recorded; ready
                # (or failed) comes later, as Get shows it
                out["create_return_ms"] = round((time.monotonic() - t0) * 1000)
                deadline = t0 + a.timeout
                while True:
                    got = s.GetSandbox(pb.GetSandboxRequest(sandbox_id=sid), timeout=10).sandbox
                    ready = [x for x in got.status.conditions if x.type == "Ready"]
                    if ready and ready[0].status == "True":
                        break
                    if (ready and ready[0].reason == "CreateFailed") or time.monotonic() > deadline:
                        out = {"ok": False, "code": "CREATE_FAILED",
                               "message": ready[0].message if ready else "not ready in time",
                               "sandbox": sandbox_json(got)}
                        break
                    time.sleep(0.01)
                out["sandbox"] = sandbox_json(got)
        elif c == "get":
            out["sandbox"] = sandbox_json(s.GetSandbox(
                pb.GetSandboxRequest(sandbox_id=args[0]), timeout=10).sandbox)
        elif c == "list":
            out["sandboxes"] = [sandbox_json(x) for x in s.ListSandboxes(
                pb.ListSandboxesRequest(), timeout=10).sandboxes]
        elif c in ("stop", "start"):
            req = (pb.StopSandboxRequest if c == "stop" else pb.StartSandboxRequest)(
                sandbox_id=args[0], sandbox_name=args[0])
            (s.StopSandbox if c == "stop" else s.StartSandbox)(req, timeout=a.timeout)
            out["sandbox"] = sandbox_json(s.GetSandbox(
                pb.GetSandboxRequest(sandbox_id=args[0]), timeout=10).sandbox)
        elif c == "delete":
            r = s.DeleteSandbox(pb.DeleteSandboxRequest(sandbox_id=args[0],
                                                        sandbox_name=args[0]),
                                timeout=a.timeout)
            out["deleted"] = r.deleted
        elif c == "caps":
            r = s.GetCapabilities(pb.GetCapabilitiesRequest(), timeout=10)
            out["driver"] = r.driver_name
            out["version"] = r.driver_version
        else:
            raise SystemExit(f"unknown command {c}")
    except grpc.RpcError as e:
        out = {"ok": False, "code": e.code().name, "message": e.details()}
    finally:
        ch.close()
    out["rpc_ms"] = round((time.monotonic() - t0) * 1000)
    print(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
