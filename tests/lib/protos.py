#!/usr/bin/python3
"""Where the test peers and fakes get their protos and the ActorTemplate CRD
schema from, and how Python stubs are generated from them.  The one place
that decides; every test, benchmark and the demo goes through it.

Two sources:

- the project's own copies (the default, always present in a clone):
  proto/compute_driver.proto, proto/options.proto, proto/ateapi.proto and
  tests/driver/substrate/crd/ate.dev_actortemplates.yaml;
- upstream's reference copies, only when OSS_REFERENCE_DIR names a directory
  holding them as openshell/{compute_driver,options}.proto and
  substrate/{ateapi.proto,ate.dev_actortemplates.yaml} (.ci/run sets it to
  ../shared/reference when that exists).

Peers use the reference when it is there (a stronger check: the driver is
then driven through upstream's own definitions) and the project's copies
otherwise.  Conformance checks (the project's copy against upstream's) need
the reference and skip with one line without it.

Command line, for the shell scripts:
  protos.py peer openshell|ateapi|crd     path the peers use (always succeeds)
  protos.py reference openshell|ateapi|crd
      upstream's path, or "SKIP: ..." on stdout and exit 77
"""
import os
import re
import shutil
import subprocess
import sys

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))

# what each kind is: (subdirectory of OSS_REFERENCE_DIR, file that must exist,
# the project's own copy relative to the source tree)
KINDS = {
    "openshell": ("openshell", "compute_driver.proto", "proto"),
    "ateapi": ("substrate", "ateapi.proto", "proto/ateapi.proto"),
    "crd": ("substrate", "ate.dev_actortemplates.yaml",
            "tests/driver/substrate/crd/ate.dev_actortemplates.yaml"),
}


def source_dir():
    return os.environ.get("OSS_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))


def project(kind):
    """The project's own copy: a directory for openshell, a file otherwise."""
    return os.path.join(source_dir(), KINDS[kind][2])


def reference(kind):
    """Upstream's copy under OSS_REFERENCE_DIR, or None when it is not there.
    A directory for openshell (compute_driver.proto + options.proto), a file
    otherwise."""
    root = os.environ.get("OSS_REFERENCE_DIR")
    if not root:
        return None
    sub, name, _ = KINDS[kind]
    d = os.path.join(os.path.abspath(root), sub)
    if not os.path.isfile(os.path.join(d, name)):
        return None
    return d if kind == "openshell" else os.path.join(d, name)


def peer(kind):
    """What a test peer or fake uses: the reference if present, else ours."""
    return reference(kind) or project(kind)


def why_no_reference(kind):
    root = os.environ.get("OSS_REFERENCE_DIR")
    sub, name, _ = KINDS[kind]
    if not root:
        return "SKIP: upstream's %s not available (set OSS_REFERENCE_DIR)" % name
    return "SKIP: %s not found under OSS_REFERENCE_DIR=%s" % (os.path.join(sub, name), root)


def generate(protos, out_dir):
    """Compile .proto files (paths, all in one directory) into out_dir and put
    it on sys.path.  Messages come from the system protoc, which knows proto3
    `optional`; service stubs from grpc_tools, whose bundled protoc 3.5 does
    not, so it reads a scratch copy without `optional` (the stubs only name
    the message types, so dropping it changes nothing they contain)."""
    os.makedirs(out_dir, exist_ok=True)
    src = os.path.dirname(os.path.abspath(protos[0]))
    names = [os.path.basename(p) for p in protos]
    subprocess.run(["/usr/bin/protoc", "-I" + src, "-I/usr/include",
                    "--python_out=" + out_dir] + names, check=True)
    scratch = os.path.join(out_dir, "scratch")
    os.makedirs(scratch, exist_ok=True)
    for n in names:
        with open(os.path.join(src, n)) as f:
            text = f.read()
        with open(os.path.join(scratch, n), "w") as f:
            f.write(re.sub(r"^(\s*)optional\s+", r"\1", text, flags=re.M))
    services = [n for n in names if re.search(r"^service\s", open(os.path.join(src, n)).read(), re.M)]
    if services:
        subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I" + scratch,
                        "-I/usr/include", "--grpc_python_out=" + out_dir] + services, check=True)
    if out_dir not in sys.path:
        sys.path.insert(0, out_dir)


def generate_openshell(proto_dir, out_dir):
    """compute_driver_pb2(_grpc) and options_pb2 from a directory."""
    generate([os.path.join(proto_dir, "compute_driver.proto"),
              os.path.join(proto_dir, "options.proto")], out_dir)


def main(argv):
    if len(argv) != 3 or argv[1] not in ("peer", "reference") or argv[2] not in KINDS:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "peer":
        print(peer(argv[2]))
        return 0
    path = reference(argv[2])
    if path is None:
        print(why_no_reference(argv[2]))
        return SKIP
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
