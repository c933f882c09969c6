#!/usr/bin/python3
"""Test helper: does a TLS server keep talking HTTP/2 to a client that
offers no ALPN?  Prints "served" or "rejected" for `--alpn h2|none`.
grpc-go (the real ate-api-server) and grpc core (the fake) both drop a
client without h2; the C client must therefore offer it."""
import socket
import ssl
import sys

host, port, ca, alpn = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
if alpn != "none":
    ctx.set_alpn_protocols([alpn])
try:
    s = ctx.wrap_socket(socket.create_connection((host, port), timeout=5),
                        server_hostname="api.ate-system.svc")
    # HTTP/2 connection preface and an empty SETTINGS frame
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]))
    data = s.recv(64)
    print("served" if len(data) >= 9 and data[3] == 4 else "rejected")
except (OSError, ssl.SSLError):
    print("rejected")
