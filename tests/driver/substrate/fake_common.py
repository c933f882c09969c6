"""FAKE test peers' shared helpers (not production code).

Generates Python message and service code at test time from the proto the
fake is given (tests/lib/protos.py picks upstream's or the project's copy and
generates the code), and runs the tiny loopback control server the fakes are
steered through.
"""
import http.server
import json
import os
import sys
import threading


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
import protos  # noqa: E402


def generate(proto_path, out_dir):
    """Compile one proto into out_dir and put it on sys.path."""
    protos.generate([proto_path], out_dir)


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
