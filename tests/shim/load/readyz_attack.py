"""Attacks on a readyz port and a prober that measures what gets through.
Loopback only.

  readyz_attack.py slowloris PORT SECONDS [CONNS=200]
      CONNS connections, each trickling one byte of a never-ending request
      head per second; a connection the server resets or closes is opened
      again at once (an attacker does).  Prints {"opened":..,"resets":..}.
  readyz_attack.py burst PORT SECONDS [CONNS=1000] [HOLD_MS=1000]
      bursts of CONNS connections opened as fast as possible, held idle for
      HOLD_MS, then closed; repeated until SECONDS.  Prints {"bursts":..}.
  readyz_attack.py probe PORT SECONDS [BUDGET_MS=250] [INTERVAL_MS=50]
      like Substrate's prober (docs/platform/substrate.md): a new connection
      per request, GET /readyz, the whole request -- connect, send, status
      line and headers, body -- within BUDGET_MS; only 200 counts.  Prints
      {"attempts":..,"ok":..,"rate":..,"p50_ms":..,"p99_ms":..,"errors":{..}}.
"""
import errno
import json
import resource
import selectors
import socket
import sys
import time

REQ = b"GET /readyz HTTP/1.1\r\nHost: 169.254.17.2\r\nUser-Agent: Go-http-client/1.1\r\n\r\n"


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def nb_connect(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        return None
    return s


def slowloris(port, seconds, conns=200):
    raise_nofile()
    head = b"GET /readyz HTTP/1.1\r\nHost: x\r\n" + b"X-a: b\r\n" * 10000
    sel = selectors.DefaultSelector()
    state = {}  # sock -> bytes sent
    opened = resets = 0
    end = time.monotonic() + seconds

    def open_one():
        nonlocal opened
        s = nb_connect(port)
        if s is not None:
            state[s] = 0
            sel.register(s, selectors.EVENT_READ)
            opened += 1

    for _ in range(conns):
        open_one()
    next_tick = time.monotonic()
    while time.monotonic() < end:
        timeout = max(0.0, next_tick - time.monotonic())
        for key, _ in sel.select(timeout):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:  # reset or closed by the server: come back at once
                sel.unregister(s)
                del state[s]
                s.close()
                resets += 1
                open_one()
        if time.monotonic() >= next_tick:
            next_tick += 1.0
            for s in list(state):
                try:
                    s.send(head[state[s]:state[s] + 1])
                    state[s] += 1
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.ENOTCONN):
                        sel.unregister(s)
                        del state[s]
                        s.close()
                        resets += 1
                        open_one()
            while len(state) < conns and time.monotonic() < end:
                before = len(state)
                open_one()
                if len(state) == before:
                    break
    for s in state:
        s.close()
    return {"attack": "slowloris", "conns": conns, "opened": opened, "resets": resets}


def burst(port, seconds, conns=1000, hold_ms=1000):
    raise_nofile()
    end = time.monotonic() + seconds
    bursts = opened = 0
    while time.monotonic() < end:
        socks = [s for s in (nb_connect(port) for _ in range(conns)) if s is not None]
        opened += len(socks)
        bursts += 1
        time.sleep(hold_ms / 1000)
        for s in socks:
            s.close()
    return {"attack": "burst", "conns": conns, "bursts": bursts, "opened": opened}


def probe_once(port, budget):
    t0 = time.monotonic()
    deadline = t0 + budget
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(budget)
        s.connect(("127.0.0.1", port))
        s.settimeout(max(0.001, deadline - time.monotonic()))
        s.sendall(REQ)
        buf = b""
        while True:
            s.settimeout(max(0.001, deadline - time.monotonic()))
            d = s.recv(4096)
            if not d:
                break
            buf += d
            head, sep, body = buf.partition(b"\r\n\r\n")
            if sep:
                clen = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        clen = int(v.strip())
                if len(body) >= clen:
                    break
        status = buf.split(b" ", 2)[1].decode() if buf.startswith(b"HTTP/1.") else "none"
        ms = (time.monotonic() - t0) * 1000
        if ms > budget * 1000:
            return "late", ms
        return status, ms
    except socket.timeout:
        return "timeout", (time.monotonic() - t0) * 1000
    except ConnectionResetError:
        return "reset", (time.monotonic() - t0) * 1000
    except OSError as e:
        return errno.errorcode.get(e.errno, "oserror"), (time.monotonic() - t0) * 1000
    finally:
        s.close()  # the client closes first, as Go's client does after the body


def probe(port, seconds, budget_ms=250, interval_ms=50):
    end = time.monotonic() + seconds
    lat, errors = [], {}
    attempts = ok = 0
    while attempts == 0 or time.monotonic() < end:  # at least one (SECONDS 0: exactly one)
        t = time.monotonic()
        status, ms = probe_once(port, budget_ms / 1000)
        attempts += 1
        if status == "200":
            ok += 1
            lat.append(ms)
        else:
            errors[status] = errors.get(status, 0) + 1
        if time.monotonic() >= end:
            break
        time.sleep(max(0.0, interval_ms / 1000 - (time.monotonic() - t)))
    lat.sort()
    pct = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 2) if lat else None
    return {"attempts": attempts, "ok": ok, "rate": round(ok / attempts, 4) if attempts else 0,
            "p50_ms": pct(0.5), "p99_ms": pct(0.99), "errors": errors}


if __name__ == "__main__":
    mode, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    extra = [int(a) for a in sys.argv[4:]]
    fn = {"slowloris": slowloris, "burst": burst, "probe": probe}[mode]
    print(json.dumps(fn(port, seconds, *extra)))
