#!/usr/bin/python3
"""Wire compatibility of proto/ateapi.proto (the project's subset) with the
REFERENCE ateapi.proto, in both directions:

1. every message the subset encodes (ateapi_wire encode, all fields set)
   decodes with the reference, has no unknown fields there, and carries
   every field the subset sets, same names and numbers;
2. the reference re-encodes it, adding fields the subset does not know
   (e.g. Actor.latest_snapshot_info, worker_selector), and the subset
   decodes it back to the same values (ateapi_wire decode), skipping the
   extras.

Usage: wire_compat.py ATEAPI_WIRE_BIN REFERENCE_DIR WORKDIR
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_common  # noqa: E402

wire, ref, work = sys.argv[1:4]
fake_common.generate(os.path.join(ref, "ateapi.proto"), os.path.join(work, "gen"))
from google.protobuf import json_format  # noqa: E402
import ateapi_pb2 as pb  # noqa: E402

enc = os.path.join(work, "enc")
os.makedirs(enc, exist_ok=True)
subprocess.run([wire, "encode", enc], check=True)
failed = 0
expect = {}
for fn in sorted(os.listdir(enc)):
    name = fn[:-4].split(".")[-1]
    data = open(os.path.join(enc, fn), "rb").read()
    cls = getattr(pb, name)
    m = cls()
    m.ParseFromString(data)
    unknown = m.UnknownFields() if hasattr(m, "UnknownFields") else []
    if len(unknown):
        print("FAIL %s: the reference sees %d unknown fields" % (name, len(unknown)))
        failed += 1
    d = json_format.MessageToDict(m, preserving_proto_field_name=True,
                                  use_integers_for_enums=True)
    if not d and data:
        print("FAIL %s: decoded empty" % name)
        failed += 1
    expect[name] = d
    # the reference adds what the subset does not know, then re-encodes
    def extras(msg):
        if isinstance(msg, pb.Actor):
            msg.worker_pool_name = "extra-pool"
            msg.latest_snapshot_info.type = 1
            msg.worker_selector.match_labels["k"] = "v"
            msg.in_progress_snapshot = "snap"
        for f, v in msg.ListFields():
            if f.type == f.TYPE_MESSAGE and not f.message_type.GetOptions().map_entry:
                for sub in (v if f.label == f.LABEL_REPEATED else [v]):
                    extras(sub)
    extras(m)
    with open(os.path.join(enc, fn), "wb") as f:
        f.write(m.SerializeToString())

out = subprocess.run([wire, "decode", enc], check=True, capture_output=True, text=True).stdout
seen = 0
for line in out.splitlines():
    j = json.loads(line)
    name = j["message"].split(".")[-1]
    if j["value"] != expect[name]:
        print("FAIL %s: round trip differs\n  ref:    %s\n  subset: %s" % (name, expect[name], j["value"]))
        failed += 1
    seen += 1
if seen != len(expect):
    print("FAIL: decoded %d of %d messages" % (seen, len(expect)))
    failed += 1
print("%s wire compatibility of %d messages with the reference ateapi.proto"
      % ("FAIL" if failed else "PASS", len(expect)))
sys.exit(1 if failed else 0)
