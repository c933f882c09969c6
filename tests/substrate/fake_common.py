"""FAKE test peers' shared helpers (not production code).

Generates Python message and service code from the REFERENCE protos in
$OSS_SOURCE_DIR/../shared/reference at test time (FACTS.md section 7: the
system protoc for messages, grpc_tools.protoc only for service stubs, from a
scratch copy without proto3 `optional`), and runs the tiny loopback control
server the fakes are steered through.
"""
import http.server
import json
import os
import re
import subprocess
import sys
import threading


def generate(proto_path, out_dir):
    """Compile one reference proto into out_dir and put it on sys.path."""
    os.makedirs(out_dir, exist_ok=True)
    src_dir, name = os.path.split(os.path.abspath(proto_path))
    subprocess.run(["/usr/bin/protoc", "-I", src_dir, "--python_out=" + out_dir, name],
                   check=True)
    scratch = os.path.join(out_dir, "scratch")
    os.makedirs(scratch, exist_ok=True)
    with open(proto_path) as f:
        text = f.read()
    # grpc_tools bundles protoc 3.5, which cannot parse proto3 `optional`;
    # the service stubs only name the messages, so dropping it is harmless.
    text = re.sub(r"^(\s*)optional\s+", r"\1", text, flags=re.M)
    with open(os.path.join(scratch, name), "w") as f:
        f.write(text)
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", scratch,
                    "--grpc_python_out=" + out_dir, name], check=True)
    if out_dir not in sys.path:
        sys.path.insert(0, out_dir)


class ControlServer:
    """Loopback-only HTTP/1.1 server: POST /<verb> with a JSON body, or GET
    /<verb>; handler(verb, body_dict) returns a JSON-serializable value."""

    def __init__(self, handler):
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def _reply(self, code, obj):
                data = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _do(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}") if n else {}
                try:
                    self._reply(200, handler(self.path.strip("/"), body))
                except KeyError as e:
                    self._reply(404, {"error": "unknown: %s" % e})
                except Exception as e:  # a broken control call must be visible
                    self._reply(500, {"error": repr(e)})

            do_GET = _do
            do_POST = _do

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def write_ready(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.rename(tmp, path)
