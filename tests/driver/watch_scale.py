#!/usr/bin/python3
"""WatchSandboxes at scale against the driver built with the in-memory test
double (OSS_TESTMEM_SEED pre-populates N running sandboxes).

A new stream must receive the whole current state however many sandboxes
exist, paced by its own reader, and keep receiving live events meanwhile;
only a stream that leaves earlier changes unread is cut.

  watch_scale.py --reference DIR --driver BIN --n N [--pace EV_PER_S]
                 [--bench RUNS]

Checks (exit 0/1, 77 = cannot run):
  * a stream opened at once (usually before the driver's first listing) and
    one opened later each get all N sandboxes and are not cut, while 20 Stops
    happen during their snapshot; every Stop's event arrives;
  * CONTROL: a stream that does not read at all is cut with
    RESOURCE_EXHAUSTED once more than watch_queue_max changes pile up behind
    it, while the reading stream next to it is not.
--bench RUNS: prints a markdown row: time to the last initial event, median
of RUNS, for an unpaced and a paced reader.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gateway_client as gc  # noqa: E402
from gateway_client import Failed, check, log  # noqa: E402


class PacedWatch:
    """Reads a stream at `pace` events/s at most (0 = as fast as it can),
    as a gateway that writes each event to its store does."""

    def __init__(self, drv, n, pace, stub=None):
        import compute_driver_pb2 as pb
        self.n, self.pace = n, pace
        self.ids = set()
        self.stopped = set()
        self.error = None
        self.t0 = time.monotonic()
        self.t_initial = None
        self.events = 0
        self.call = (stub or drv.stub).WatchSandboxes(pb.WatchSandboxesRequest())
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            for ev in self.call:
                self.events += 1
                if ev.WhichOneof("payload") == "sandbox":
                    sb = ev.sandbox.sandbox
                    self.ids.add(sb.id)
                    if gc.gateway_phase(sb) == "Stopped":
                        self.stopped.add(sb.id)
                    if self.t_initial is None and len(self.ids) >= self.n:
                        self.t_initial = time.monotonic() - self.t0
                if self.pace and self.events % 100 == 0:
                    ahead = self.t0 + self.events / self.pace - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)
        except Exception as e:  # grpc.RpcError when the stream ends
            self.error = e

    def wait_initial(self, timeout):
        deadline = time.monotonic() + timeout
        while self.t_initial is None and time.monotonic() < deadline and self.t.is_alive():
            time.sleep(0.02)
        return self.t_initial


def start(args, tmp, n, extra_args=()):
    env = {"OSS_TESTMEM_SEED": str(n), "OSS_TESTMEM_LIST_DELAY_MS": "300"}
    return gc.Driver(argparse.Namespace(socket=os.path.join(tmp, "run", "d.sock"),
                                        driver=args.driver), tmp, extra_env=env,
                     extra_args=["--watch-interval-ms", "250", *extra_args])


def churn(drv, ids, gap_s):
    import compute_driver_pb2 as pb
    for sid in ids:
        drv.stub.StopSandbox(pb.StopSandboxRequest(sandbox_id=sid), timeout=30)
        time.sleep(gap_s)


def run_check(args, tmp):
    import grpc
    n = args.n
    budget = 60 + 2 * n / max(args.pace, 1000)
    drv = start(args, tmp, n)
    try:
        first = PacedWatch(drv, n, args.pace)  # usually before the first listing
        stops = [f"seed-{i:06d}" for i in range(0, n, max(1, n // 20))][:20]
        churn(drv, stops[:10], 0.05)  # during the first stream's snapshot
        t = first.wait_initial(budget)
        check(t is not None, f"a stream opened at start got all {n:,} sandboxes "
                             f"({len(first.ids):,} seen, {t if t is None else round(t, 2)} s, "
                             f"error {first.error})")
        second = PacedWatch(drv, n, args.pace)  # after the first listing
        churn(drv, stops[10:], 0.05)
        t2 = second.wait_initial(budget)
        check(t2 is not None, f"a stream opened later got all {n:,} sandboxes "
                              f"({len(second.ids):,} seen, error {second.error})")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (set(stops) <= first.stopped and
                                                   set(stops[10:]) <= second.stopped):
            time.sleep(0.05)
        check(set(stops) <= first.stopped, "the first stream saw every Stop made during and "
                                           "after its snapshot")
        check(set(stops[10:]) <= second.stopped,
              "the second stream saw every Stop made during its snapshot")
        check(first.error is None and second.error is None and first.t.is_alive() and
              second.t.is_alive(), f"neither reading stream was cut ({first.error}, "
                                   f"{second.error})")
        log(f"time to the last initial event at {n:,}: {t:.2f} s (opened at start), "
            f"{t2:.2f} s (opened later), reader pace {args.pace or 'unpaced'} events/s")

        # CONTROL: a stream that never reads is still cut once more than
        # watch_queue_max (default 256) changes pile up behind it
        import compute_driver_pb2 as pb
        import compute_driver_pb2_grpc as g
        small = grpc.insecure_channel(f"unix:{drv.socket}", options=[
            ("grpc.http2.lookahead_bytes", 1024), ("grpc.http2.bdp_probe", 0)])
        stalled = g.ComputeDriverStub(small).WatchSandboxes(pb.WatchSandboxesRequest())
        rounds = 0
        for rounds in range(1, 1201):
            sid = f"seed-{rounds % n:06d}"
            req = (pb.StartSandboxRequest if rounds % 2 else pb.StopSandboxRequest)(
                sandbox_id=sid)
            (drv.stub.StartSandbox if rounds % 2 else drv.stub.StopSandbox)(req, timeout=30)
            if rounds % 50 == 0 and "watch stream cut" in drv.logtext():
                break
        code = None
        try:
            for _ in stalled:
                pass
        except grpc.RpcError as e:
            code = e.code()
        check(code == grpc.StatusCode.RESOURCE_EXHAUSTED,
              f"control: a stream that never reads was cut after {rounds} changes ({code})")
        check(first.error is None and first.t.is_alive(),
              "control: the reading stream next to it was not cut")
        small.close()
        first.call.cancel()
        second.call.cancel()
    finally:
        rc = drv.stop()
    check(rc == 0, f"driver exited 0 (got {rc})")


def run_bench(args, tmp):
    out = []
    for pace in (0, args.pace):
        times = []
        for _ in range(args.bench):
            drv = start(args, tmp, args.n)
            try:
                time.sleep(1.0)  # primed: measure the snapshot, not the first listing
                w = PacedWatch(drv, args.n, pace)
                t = w.wait_initial(600)
                if t is None:
                    raise Failed(f"no complete snapshot ({len(w.ids)} seen, {w.error})")
                times.append(t)
                w.call.cancel()
            finally:
                drv.stop()
        out.append(f"{statistics.median(times)*1000:.0f} ms "
                   f"({'unpaced' if not pace else f'{pace:,} events/s'} reader)")
    print(f"| WatchSandboxes: time to the last initial event, {args.n:,} sandboxes "
          f"(median of {args.bench}) | {'; '.join(out)} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True)
    ap.add_argument("--driver", required=True)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--pace", type=int, default=10000,
                    help="events/s the reader takes at most (0: unpaced)")
    ap.add_argument("--bench", type=int, default=0)
    args = ap.parse_args()
    if not os.path.isfile(os.path.join(args.reference, "compute_driver.proto")):
        log(f"SKIP: no reference protos in {args.reference}")
        return gc.SKIP
    tmp = tempfile.mkdtemp(prefix="wscale-")
    try:
        gc.generate_stubs(args.reference, tmp)
        (run_bench if args.bench else run_check)(args, tmp)
    except Failed as e:
        log(f"FAIL: {e}")
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
