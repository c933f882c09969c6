#!/usr/bin/python3
"""Load on the driver, bounded and on a Unix socket only.

1,000 unary calls in flight at once (Get, List, Validate over 50 sandboxes)
while 5 watch streams are open and one slow create is in progress.  Every
call must end OK or RESOURCE_EXHAUSTED (the bounded worker queues say no
rather than grow); nothing else.  Afterwards the driver still answers at once,
the watch streams still deliver, and its open fds and resident memory have not
grown beyond a small margin when the same load is run a second time (a leak
per call would show there).

  load_client.py --reference DIR --socket PATH --driver CMD
"""
import argparse
import os
import sys
import tempfile
import shutil
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gateway_client as gc  # noqa: E402

N_CALLS = 1000
N_SANDBOXES = 50


def proc_stats(pid):
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return fds, rss


def burst(drv, pb, grpc, image):
    """Fires N_CALLS calls without waiting for any, then collects them."""
    futures = []
    t0 = time.monotonic()
    for i in range(N_CALLS):
        sid = f"ld{i % N_SANDBOXES}"
        k = i % 3
        if k == 0:
            f = drv.stub.GetSandbox.future(pb.GetSandboxRequest(sandbox_id=sid), timeout=60)
        elif k == 1:
            f = drv.stub.ListSandboxes.future(pb.ListSandboxesRequest(), timeout=60)
        else:
            f = drv.stub.ValidateSandboxCreate.future(pb.ValidateSandboxCreateRequest(
                sandbox=gc.make_sandbox(pb, f"v{i}", image)), timeout=60)
        futures.append(f)
    codes = {}
    for f in futures:
        try:
            f.result()
            c = grpc.StatusCode.OK
        except grpc.RpcError as e:
            c = e.code()
        codes[c] = codes.get(c, 0) + 1
    return codes, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", required=True)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--driver", required=True)
    ap.add_argument("--image", default="registry.example/sandbox@sha256:" + "0" * 64)
    args = ap.parse_args()
    if not os.path.isfile(os.path.join(args.reference, "compute_driver.proto")):
        gc.log(f"SKIP: no compute_driver.proto in {args.reference}")
        return gc.SKIP
    tmp = tempfile.mkdtemp(prefix="load-")
    drv = None
    try:
        gc.generate_stubs(args.reference, tmp)
        import grpc
        import compute_driver_pb2 as pb
        # creates take 3 s in the test double: one stays in flight meanwhile
        drv = gc.Driver(args, tmp, extra_env={"OSS_TESTMEM_SLOW_MS": "3000"})
        for i in range(N_SANDBOXES):
            drv.stub.CreateSandbox(pb.CreateSandboxRequest(
                sandbox=gc.make_sandbox(pb, f"ld{i}", args.image)), timeout=30)
        watches = [gc.Watch(drv) for _ in range(5)]
        slow = drv.stub.CreateSandbox.future(pb.CreateSandboxRequest(
            sandbox=gc.make_sandbox(pb, "slow-create", "x/slow@sha256:1")), timeout=60)

        codes1, dt1 = burst(drv, pb, grpc, args.image)
        fds1, rss1 = proc_stats(drv.proc.pid)
        gc.log(f"burst 1: {N_CALLS} calls in {dt1*1000:.0f} ms: "
               f"{ {c.name: n for c, n in codes1.items()} }; fds {fds1}, rss {rss1} KiB")
        allowed = {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}
        gc.check(set(codes1) <= allowed, f"every call OK or RESOURCE_EXHAUSTED ({codes1})")
        gc.check(codes1.get(grpc.StatusCode.OK, 0) >= N_CALLS // 2,
                 "at least half of the burst was served")

        codes2, dt2 = burst(drv, pb, grpc, args.image)
        fds2, rss2 = proc_stats(drv.proc.pid)
        gc.log(f"burst 2: {N_CALLS} calls in {dt2*1000:.0f} ms; fds {fds2}, rss {rss2} KiB")
        gc.check(set(codes2) <= allowed, f"second burst: OK or RESOURCE_EXHAUSTED ({codes2})")
        gc.check(fds2 <= fds1 + 8, f"no fd growth between bursts ({fds1} -> {fds2})")
        if os.environ.get("OSS_SANITIZE") == "1":
            # ASan's quarantine keeps freed memory resident on purpose; LSan
            # checks for leaks at the driver's exit instead
            gc.log(f"sanitizer build: RSS {rss1} -> {rss2} KiB not compared")
        else:
            gc.check(rss2 <= rss1 + 8 * 1024,
                     f"no memory growth between bursts ({rss1} -> {rss2} KiB)")

        t0 = time.monotonic()
        drv.stub.GetSandbox(pb.GetSandboxRequest(sandbox_id="ld0"), timeout=5)
        gc.check(time.monotonic() - t0 < 1.0, "a Get right after the load answers within 1 s")
        drv.stub.StopSandbox(pb.StopSandboxRequest(sandbox_id="ld1"), timeout=10)
        for w in watches:
            w.wait_for(gc.is_sandbox("ld1", "Stopped"), 10, "ld1 stopped, after the load")
        gc.check(not slow.done() or slow.exception() is None,
                 "the slow create in flight was not disturbed")
        slow.result()
        for w in watches:
            w.cancel()
        gc.check(drv.stop() == 0, "driver drains and exits 0 after the load")
        drv = None
        print(f"load: {N_CALLS} concurrent calls x2: 1 passed, 0 failed")
    except gc.Failed as e:
        gc.log(f"FAIL: {e}")
        if drv is not None:
            gc.log(drv.logtext()[-2000:])
        return 1
    finally:
        if drv is not None and drv.proc is not None and drv.proc.poll() is None:
            drv.proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
