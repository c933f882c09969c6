#!/usr/bin/python3
"""Benchmark (not a test) of the driver's server side with the in-memory
test double: N sandboxes, ListSandboxes time, 100 concurrent GetSandbox,
watch latency from a StopSandbox to its event, resident memory.

  bench_server.py --reference DIR --driver PATH [--n 10000]
"""
import argparse
import concurrent.futures as cf
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gateway_client as gc  # noqa: E402


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", required=True)
    ap.add_argument("--driver", required=True)
    ap.add_argument("--n", type=int, default=10000)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="drvbench-")
    gc.generate_stubs(a.reference, tmp)
    import compute_driver_pb2 as pb
    args = argparse.Namespace(socket=os.path.join(tmp, "run", "d.sock"), driver=a.driver)
    drv = gc.Driver(args, tmp)
    s = drv.stub
    rss0 = rss_kb(drv.proc.pid)
    t0 = time.monotonic()
    with cf.ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda i: s.CreateSandbox(pb.CreateSandboxRequest(
            sandbox=gc.make_sandbox(pb, f"sb-{i}", "i@sha256:1")), timeout=30), range(a.n)))
    create_s = time.monotonic() - t0
    time.sleep(1.5)  # let the poller see everything
    lat = []
    for _ in range(5):
        t0 = time.monotonic()
        r = s.ListSandboxes(pb.ListSandboxesRequest(), timeout=60)
        lat.append(time.monotonic() - t0)
    assert len(r.sandboxes) == a.n
    t0 = time.monotonic()
    with cf.ThreadPoolExecutor(100) as ex:
        gets = list(ex.map(lambda i: (lambda t: (s.GetSandbox(pb.GetSandboxRequest(
            sandbox_id=f"sb-{i}"), timeout=30), time.monotonic() - t)[1])(time.monotonic()),
            range(100)))
    get_wall = time.monotonic() - t0
    w = gc.Watch(drv)
    w.wait_for(gc.is_sandbox(f"sb-{a.n - 1}"), 60, "initial state")
    wl = []
    for i in range(5):
        t0 = time.monotonic()
        s.StopSandbox(pb.StopSandboxRequest(sandbox_id=f"sb-{i}"), timeout=10)
        w.wait_for(gc.is_sandbox(f"sb-{i}", "Stopped"), 10, "stop event")
        wl.append(time.monotonic() - t0)
    w.cancel()
    rss1 = rss_kb(drv.proc.pid)
    drv.stop()
    print(f"sandboxes: {a.n} (created in {create_s:.1f} s over 8 client threads)")
    print(f"ListSandboxes over {a.n}: median {sorted(lat)[2]*1000:.0f} ms")
    print(f"100 concurrent GetSandbox: wall {get_wall*1000:.0f} ms, "
          f"max {max(gets)*1000:.0f} ms")
    print(f"StopSandbox -> watch event: median {sorted(wl)[2]*1000:.1f} ms")
    print(f"driver RSS: {rss0} kB idle, {rss1} kB with {a.n} sandboxes and a watch")


if __name__ == "__main__":
    main()
