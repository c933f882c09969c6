"""Socket helpers for the readyz script tests (no curl: raw requests, so
malformed ones can be sent, and so who closes first is observable)."""
import json
import socket
import subprocess
import sys
import time


def connect(port, timeout=3.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


def read_response(s, timeout=3.0, head=False):
    """Reads one response (head + Content-Length body) without waiting for EOF."""
    s.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/1.1 ") else 0
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    n = 0 if head else int(hdrs.get("content-length", "0"))
    while len(body) < n:
        chunk = s.recv(4096)
        if not chunk:
            break
        body += chunk
    return status, hdrs, body


def request(port, raw, read_timeout=3.0, head=False):
    s = connect(port)
    try:
        s.sendall(raw)
        return read_response(s, read_timeout, head)
    finally:
        s.close()


def get(port, path, method="GET"):
    return request(port, f"{method} {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode(), head=(method == "HEAD"))


def time_wait_on(port):
    """TIME_WAIT sockets whose LOCAL port is `port` (the server side)."""
    out = subprocess.run(["ss", "-Htan", "state", "time-wait", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    return [l for l in out.splitlines() if l.strip()]


def server_closes_first(s, wait):
    """True when the peer sent FIN/RST within `wait` seconds."""
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok:", msg)


def events(path):
    try:
        with open(path) as f:
            return [json.loads(l)["event"] for l in f if l.strip()]
    except FileNotFoundError:
        return []


def wait_events(path, n, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ev = events(path)
        if len(ev) >= n:
            return ev
        time.sleep(0.05)
    return events(path)


def read_env(path):
    env = {}
    with open(path) as f:
        for l in f:
            k, _, v = l.rstrip("\n").partition("=")
            env[k] = v
    return env
