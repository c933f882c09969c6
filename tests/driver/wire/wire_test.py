#!/usr/bin/python3
"""Wire compatibility: the project's protobuf-c code vs the REFERENCE protos.

1. Static: every field the project declares (names from wire_tool schema)
   exists in the reference message with the same number, type and
   cardinality.
2. Reference -> project: a fully populated message encoded by Python classes
   generated from the reference decodes in C to the same values.
3. Project -> reference: what C re-encodes (only the fields it understood)
   decodes with the reference classes to the same values.

Run with --expect-mismatch against a scratch reference with a wrong field
number: that run must FAIL, or the comparison proves nothing (the control).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

from google.protobuf.descriptor import FieldDescriptor as FD


class Mismatch(Exception):
    pass


PB_TYPES = {FD.TYPE_INT32: "int32", FD.TYPE_SINT32: "sint32", FD.TYPE_SFIXED32: "sfixed32",
            FD.TYPE_INT64: "int64", FD.TYPE_SINT64: "sint64", FD.TYPE_SFIXED64: "sfixed64",
            FD.TYPE_UINT32: "uint32", FD.TYPE_FIXED32: "fixed32", FD.TYPE_UINT64: "uint64",
            FD.TYPE_FIXED64: "fixed64", FD.TYPE_FLOAT: "float", FD.TYPE_DOUBLE: "double",
            FD.TYPE_BOOL: "bool", FD.TYPE_ENUM: "enum", FD.TYPE_STRING: "string",
            FD.TYPE_BYTES: "bytes", FD.TYPE_MESSAGE: "message"}


def check_schema(schema, pb):
    from google.protobuf import descriptor_pool
    pool = descriptor_pool.Default()
    for full, fields in schema.items():
        try:
            d = pool.FindMessageTypeByName(full)
        except KeyError:
            raise Mismatch(f"{full}: not in the reference")
        for name, f in fields.items():
            rf = d.fields_by_name.get(name)
            if rf is None:
                raise Mismatch(f"{full}.{name}: not in the reference")
            if rf.number != f["number"]:
                raise Mismatch(f"{full}.{name}: number {f['number']} vs reference {rf.number}")
            if PB_TYPES[rf.type] != f["type"]:
                raise Mismatch(f"{full}.{name}: type {f['type']} vs {PB_TYPES[rf.type]}")
            if (rf.label == FD.LABEL_REPEATED) != f["repeated"]:
                raise Mismatch(f"{full}.{name}: cardinality differs")
            if f["type"] == "message" and rf.message_type.full_name != f["message"]:
                raise Mismatch(f"{full}.{name}: message {f['message']} vs "
                               f"{rf.message_type.full_name}")


def norm(msg, schema):
    """The reference message restricted to the fields the project declares,
    shaped like wire_tool's dump."""
    d = msg.DESCRIPTOR
    out = {}
    for name in schema[d.full_name]:
        f = d.fields_by_name[name]
        if f.containing_oneof is not None and msg.WhichOneof(f.containing_oneof.name) != name:
            continue
        v = getattr(msg, name)
        if f.label == FD.LABEL_REPEATED:
            if f.message_type is not None and f.message_type.GetOptions().map_entry:
                vf = f.message_type.fields_by_name["value"]
                out[name] = sorted(({"key": k, "value": norm(v[k], schema) if vf.message_type
                                     else scalar(v[k], vf)} for k in v), key=lambda e: e["key"])
            elif f.message_type is not None:
                out[name] = [norm(x, schema) for x in v]
            else:
                out[name] = [scalar(x, f) for x in v]
        elif f.message_type is not None:
            out[name] = norm(v, schema) if msg.HasField(name) else None
        else:
            out[name] = scalar(v, f)
    return out


def scalar(v, f):
    if f.type == FD.TYPE_BYTES:
        return v.hex()
    return v


def sort_maps(x, schema, full):
    """C dumps map entries in wire order; sort them like norm() does."""
    if x is None:
        return None
    for name, f in schema[full].items():
        if name not in x or f["type"] != "message":
            continue
        sub = f["message"]
        if f["repeated"]:
            items = [sort_maps(e, schema, sub) for e in x[name]]
            if sub.endswith("Entry") and set(schema[sub]) == {"key", "value"}:
                items.sort(key=lambda e: e["key"])
            x[name] = items
        else:
            x[name] = sort_maps(x[name], schema, sub)
    return x


def samples(pb):
    """Every message the driver receives or sends, with every field the
    project declares set to a non-default value, plus reference-only fields
    (which the project must tolerate)."""
    from google.protobuf import struct_pb2
    pc = struct_pb2.Struct()
    pc.update({"annotations": {"substrate_actor_template": "tpl-1", "team": "a"},
               "runtime_class_name": "gvisor", "host_users": False, "resources_raw": 2.5,
               "list": [1, "x", None]})
    spec = pb.DriverSandboxSpec(
        log_level="debug", environment={"A": "1", "B": "2"}, sandbox_token="jwt.x.y",
        command=["python3", "-c", "print(1)"], tty=True,
        resource_requirements=pb.ResourceRequirements(gpu=pb.GpuResourceRequirements(count=2)),
        template=pb.DriverSandboxTemplate(
            image="reg/img@sha256:" + "a" * 64, agent_socket_path="/run/agent.sock",
            labels={"l1": "v1"}, environment={"T": "t"},
            resources=pb.DriverResourceRequirements(cpu_limit="2"),
            platform_config=pc, driver_config=struct_pb2.Struct(fields={
                "k": struct_pb2.Value(string_value="v")})))
    status = pb.DriverSandboxStatus(
        sandbox_name="sb", instance_id="inst", agent_fd="a", sandbox_fd="s", deleting=True,
        conditions=[pb.DriverCondition(type="Ready", status="False", reason="Starting",
                                       message="m", last_transition_time="2026-01-01T00:00:00Z"),
                    pb.DriverCondition(type="Suspended", status="True", reason="Suspended")])
    sb = pb.DriverSandbox(id="sb-1", name="one", namespace="ns", spec=spec, status=status,
                          workspace="ws")
    ids = dict(sandbox_id="sb-1", sandbox_name="one")
    return [
        pb.GetCapabilitiesRequest(),
        pb.GetCapabilitiesResponse(driver_name="substrate", driver_version="0.1.0",
                                   default_image="img", gateway_manages_lifecycle=True),
        pb.GetGatewayListenerRequirementsRequest(),
        pb.GetGatewayListenerRequirementsResponse(requirements=[
            pb.GatewayListenerRequirement(reason="r", exact_bind_address="127.0.0.1:1")]),
        pb.ValidateSandboxCreateRequest(sandbox=sb),
        pb.ValidateSandboxCreateResponse(),
        pb.GetSandboxRequest(**ids),
        pb.GetSandboxResponse(sandbox=sb),
        pb.ListSandboxesRequest(),
        pb.ListSandboxesResponse(sandboxes=[sb, pb.DriverSandbox(id="sb-2")]),
        pb.CreateSandboxRequest(sandbox=sb),
        pb.CreateSandboxResponse(),
        pb.StopSandboxRequest(**ids),
        pb.StopSandboxResponse(),
        pb.StartSandboxRequest(**ids),
        pb.StartSandboxResponse(),
        pb.DeleteSandboxRequest(**ids),
        pb.DeleteSandboxResponse(deleted=True),
        pb.WatchSandboxesRequest(),
        pb.WatchSandboxesEvent(sandbox=pb.WatchSandboxesSandboxEvent(sandbox=sb)),
        pb.WatchSandboxesEvent(deleted=pb.WatchSandboxesDeletedEvent(sandbox_id="sb-1")),
        pb.EnsureWorkspaceRequest(workspace="w"),
        pb.EnsureWorkspaceResponse(),
        pb.DeleteWorkspaceRequest(workspace="w"),
        pb.DeleteWorkspaceResponse(),
    ]


def run(tool, refdir, tmp, static=True):
    gen = os.path.join(tmp, "gen")
    os.makedirs(gen)
    subprocess.run(["/usr/bin/protoc", f"-I{refdir}", "-I/usr/include", f"--python_out={gen}",
                    "compute_driver.proto", "options.proto"], check=True)
    sys.path.insert(0, gen)
    import compute_driver_pb2 as pb

    schema_full = json.loads(subprocess.run([tool, "schema"], check=True, capture_output=True,
                                            text=True).stdout)
    if static:
        check_schema(schema_full, pb)
        print(f"wire: {len(schema_full)} message types, field numbers/types match the reference")
    schema = {k: list(v) for k, v in schema_full.items()}

    msgs = samples(pb)
    covered = set()
    for i, m in enumerate(msgs):
        full = m.DESCRIPTOR.full_name
        covered.add(full)
        if full not in schema:
            raise Mismatch(f"{full}: the project does not declare it")
        src = os.path.join(tmp, f"{i}.in")
        dst = os.path.join(tmp, f"{i}.out")
        with open(src, "wb") as f:
            f.write(m.SerializeToString())
        r = subprocess.run([tool, "roundtrip", full, src, dst], capture_output=True, text=True)
        if r.returncode != 0:
            raise Mismatch(f"{full}: project cannot decode the reference encoding: {r.stderr}")
        want = norm(m, schema)
        got = sort_maps(json.loads(r.stdout), schema_full, full)
        if got != want:
            raise Mismatch(f"{full}: reference -> project differs\n  want {want}\n  got  {got}")
        with open(dst, "rb") as f:
            back = type(m).FromString(f.read())
        if norm(back, schema) != want:
            raise Mismatch(f"{full}: project -> reference differs\n  want {want}\n"
                           f"  got  {norm(back, schema)}")
    missing = {k for k in schema if k.startswith("openshell.compute.v1.") and
               (k.endswith("Request") or k.endswith("Response"))} - covered
    if missing:
        raise Mismatch(f"no sample for {sorted(missing)}")
    print(f"wire: {len(msgs)} messages round-trip reference -> project -> reference")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--reference", required=True)
    ap.add_argument("--expect-mismatch", action="store_true")
    ap.add_argument("--skip-static", action="store_true",
                    help="only the round trips (to show they catch a bad number alone)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            run(a.tool, a.reference, tmp, static=not a.skip_static)
        except Mismatch as e:
            print(f"wire: MISMATCH: {e}")
            return 0 if a.expect_mismatch else 1
    if a.expect_mismatch:
        print("wire: control FAILED: a wrong field number went unnoticed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
