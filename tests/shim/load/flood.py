"""readyz flood client: N requests from C concurrent threads against
127.0.0.1:PORT [STOPFILE], each on its own connection (a reset connection is retried
up to 3 times).  Prints one JSON object:
{"sent":N,"status":{"200":k,...},"errors":e,"shed_resets":r,"max_ms":..,"p50_ms":..}."""
import http.client
import os
import json
import sys
import threading
import time

port, total, conc = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
lock = threading.Lock()
status, lat, errors = {}, [], []
left = [total]
shed = [0]
RETRIES = 3


def one():
    # Like a kubelet probe: read the response by its Content-Length, then
    # close first (the server waits for our FIN so the TIME_WAIT is ours).
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("GET", "/readyz")
        r = c.getresponse()
        r.read()
        code = str(r.status)
    finally:
        c.close()
    return code, (time.monotonic() - t0) * 1000


def worker():
    while True:
        with lock:
            if left[0] == 0:
                return
            left[0] -= 1
        # With all SHIM_READYZ_MAX_CONNS connections being written to, the
        # server resets a newcomer (docs/readyz.md, "Limits"); a client
        # retries, as a probe would.
        for attempt in range(RETRIES + 1):
            try:
                code, ms = one()
                with lock:
                    status[code] = status.get(code, 0) + 1
                    lat.append(ms)
                break
            except ConnectionResetError as e:
                with lock:
                    shed[0] += 1
                if attempt == RETRIES:
                    with lock:
                        errors.append(repr(e))
                time.sleep(0.005)
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    errors.append(repr(e))
                break


# Rounds of `total` requests, until STOPFILE exists (the caller is done
# measuring), at least one and at most 30 rounds.
stopfile = sys.argv[4] if len(sys.argv) > 4 else None
rounds = 0
while True:
    left[0] = total
    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rounds += 1
    if stopfile is None or os.path.exists(stopfile) or rounds == 30:
        break
lat.sort()
print(json.dumps({"sent": total * rounds, "rounds": rounds, "status": status, "errors": len(errors), "shed_resets": shed[0],
                  "first_errors": errors[:3],
                  "p50_ms": round(lat[len(lat) // 2], 2) if lat else None,
                  "max_ms": round(lat[-1], 2) if lat else None}))
