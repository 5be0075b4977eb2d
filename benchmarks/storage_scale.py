"""How many workers a study storage serves: simulated workers that ask, report and tell.

Each simulated worker does what an ``automl worker`` does with the storage, without
training: ``ask`` a trial (random sampler, one parameter), ``report`` a few intermediate
values (the epochs), ``tell`` the result, and again, for ``--seconds`` seconds. Every
worker opens its own storage with automl's ``open_storage`` (its own database connection,
journal reader or gRPC channel), as a worker process does.

Workers are threads inside a few processes (``--processes``, default 4 per CPU core, at
most one per worker): 128 Python processes do not fit 2 cores and 24 GiB, and a thread
that waits on the storage releases the GIL. On a small machine the client side itself
can be the limit; the table says how busy the machine was (load average).

Storages: ``postgres`` (``--postgres URL``, default the test server at 127.0.0.1:5432,
database ``test``), ``journal`` (a journal file in a temporary folder), ``grpc-journal``
and ``grpc-postgres`` (``automl serve-storage`` in front of either, started by this
script on 127.0.0.1). It prints, per storage and worker count, trials per second and the
p50 / p95 latency of ``ask`` and ``tell`` (milliseconds), then where each storage
saturates: the first worker count past which four times the workers give less than
1.25 times the trials per second. The last line is ``storage scale: ...``.

Each configuration runs ``--repeat`` times (3 by default); the table shows the run with
the median trials per second, and every run's figure after it.

Usage: ``python benchmarks/storage_scale.py [--workers 8,32,128] [--seconds 20]
[--repeat 3] [--steps 5] [--storages postgres,journal,grpc-journal,grpc-postgres]``
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import Table

PG_URL = os.environ.get("AUTOML_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
STORAGES = ("postgres", "journal", "grpc-journal", "grpc-postgres")


@dataclass
class Result:
    """What one configuration measured."""

    storage: str
    workers: int
    trials: int = 0
    seconds: float = 0.0
    errors: int = 0
    ask_ms: list[float] = field(default_factory=list)
    tell_ms: list[float] = field(default_factory=list)
    first_error: str = ""
    load: float = 0.0

    @property
    def rate(self) -> float:
        return self.trials / self.seconds if self.seconds else 0.0


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def _worker(url: str, name: str, steps: int, opened: Any, go: threading.Event, end: list[float]):
    """One simulated worker: open the storage, wait for the start, then loop until the end."""
    import optuna

    from automl.store.storage import open_storage

    out: dict[str, Any] = {"trials": 0, "errors": 0, "ask": [], "tell": [], "error": ""}
    try:
        storage = open_storage(url)
        study = optuna.load_study(
            study_name=name, storage=storage, sampler=optuna.samplers.RandomSampler()
        )
    except Exception as exc:  # noqa: BLE001 - counted: a worker that cannot even start
        out["errors"] += 1
        out["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
        opened.wait()
        go.wait()
        return out
    opened.wait()
    go.wait()
    while time.time() < end[0]:
        try:
            t0 = time.perf_counter()
            trial = study.ask()
            t1 = time.perf_counter()
            x = trial.suggest_float("x", 0.0, 1.0)
            for step in range(steps):
                trial.report(x * step, step)
            t2 = time.perf_counter()
            study.tell(trial, x)
            t3 = time.perf_counter()
        except Exception as exc:  # noqa: BLE001 - counted: a storage that fails under load
            out["errors"] += 1
            out["error"] = out["error"] or f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
            time.sleep(0.05)
            continue
        out["trials"] += 1
        out["ask"].append((t1 - t0) * 1000)
        out["tell"].append((t3 - t2) * 1000)
    return out


def _process(url: str, name: str, steps: int, threads: int, seconds: float, sync: Any, q: Any):
    """A process of ``threads`` workers; all processes start together (``sync``)."""
    go = threading.Event()
    opened = threading.Barrier(threads + 1)
    end = [0.0]
    results: list[dict] = []

    def run() -> None:
        results.append(_worker(url, name, steps, opened, go, end))

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for t in pool:
        t.start()
    opened.wait()  # every worker of this process has opened its storage
    sync.wait()  # and every worker of every process
    start = time.time()
    end[0] = start + seconds
    go.set()
    for t in pool:
        t.join()
    q.put((start, time.time(), results))


def measure(url: str, label: str, workers: int, processes: int, args: Any) -> Result:
    """Run ``workers`` simulated workers against a new study in ``url``."""
    import optuna

    from automl.store.storage import open_storage

    name = f"scale-{uuid.uuid4().hex[:8]}"
    optuna.create_study(study_name=name, storage=open_storage(url))
    n = max(1, min(processes, workers))
    shares = [workers // n + (1 if i < workers % n else 0) for i in range(n)]
    ctx = mp.get_context("spawn")
    sync = ctx.Barrier(n)
    q = ctx.Queue()
    procs = [
        ctx.Process(target=_process, args=(url, name, args.steps, k, args.seconds, sync, q))
        for k in shares
    ]
    for p in procs:
        p.start()
    got = _collect(procs, q)
    for p in procs:
        p.join(timeout=60)
    result = Result(label, workers, load=os.getloadavg()[0])
    starts, ends = [g[0] for g in got], [g[1] for g in got]
    result.seconds = max(ends) - min(starts)
    for _, _, outs in got:
        for o in outs:
            result.trials += o["trials"]
            result.errors += o["errors"]
            result.ask_ms += o["ask"]
            result.tell_ms += o["tell"]
            result.first_error = result.first_error or o["error"]
    _cleanup(url, name)
    return result


def _collect(procs: list[Any], q: Any) -> list[Any]:
    """Every process's results; an error when one died without any."""
    import queue

    got: list[Any] = []
    while len(got) < len(procs):
        try:
            got.append(q.get(timeout=1.0))
        except queue.Empty:
            dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if dead:
                for p in procs:
                    p.kill()
                raise RuntimeError(f"a worker process died (exit codes {dead})") from None
    return got


def _cleanup(url: str, name: str) -> None:
    import optuna

    from automl.store.storage import open_storage

    # A temporary journal goes with its folder anyway.
    with contextlib.suppress(Exception):
        optuna.delete_study(study_name=name, storage=open_storage(url))


@contextmanager
def proxy(target: str, threads: int) -> Any:
    """``automl serve-storage`` in front of ``target``: its grpc:// URL."""
    cmd = [sys.executable, "-m", "automl", "serve-storage", "--storage", target]
    cmd += ["--port", "0", "--threads", str(threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "grpc://" not in line:
            raise RuntimeError(f"serve-storage did not start: {line}{proc.stdout.read()}")
        yield "grpc://" + line.split("grpc://")[1].split()[0]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _postgres_ok(url: str) -> str:
    try:
        import sqlalchemy

        sqlalchemy.create_engine(url).connect().close()
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return ""


def run_storage(label: str, args: Any, tmp: Path) -> list[Result]:
    if label.endswith("postgres") and (why := _postgres_ok(args.postgres)):
        print(f"{label}: skipped, PostgreSQL not reachable ({why})", flush=True)
        return []
    results = []
    for workers in args.workers:
        runs = []
        for i in range(args.repeat):
            # A new journal file each run: every worker reads the whole file when it opens
            # it, so one that kept every earlier run's trials would slow the later runs.
            journal = str(tmp / f"{label}-{workers}-{i}.log")
            backend = args.postgres if label.endswith("postgres") else journal
            if label.startswith("grpc"):
                with proxy(backend, args.proxy_threads) as url:
                    runs.append(measure(url, label, workers, args.processes, args))
            else:
                runs.append(measure(backend, label, workers, args.processes, args))
        results.append(median_run(runs))
        _print_row(results[-1], runs)
    return results


def median_run(runs: list[Result]) -> Result:
    """The run whose trials per second is the median (the lower one of an even count)."""
    ordered = sorted(runs, key=lambda r: r.rate)
    return ordered[(len(ordered) - 1) // 2]


TABLE = Table(
    ("storage", "<14"),
    ("workers", ">8"),
    ("trials/s", ">10.1f"),
    ("ask p50", ">9.1f"),
    ("ask p95", ">9.1f"),
    ("tell p50", ">9.1f"),
    ("tell p95", ">9.1f"),
    ("errors", ">7"),
    ("load", ">6.1f"),
)


def _print_row(r: Result, runs: list[Result]) -> None:
    rates = " ".join(f"{x.rate:.1f}" for x in runs)
    print(
        TABLE.row(
            r.storage,
            r.workers,
            r.rate,
            _quantile(r.ask_ms, 0.5),
            _quantile(r.ask_ms, 0.95),
            _quantile(r.tell_ms, 0.5),
            _quantile(r.tell_ms, 0.95),
            r.errors,
            r.load,
        )
        + (f"   runs: {rates}" if len(runs) > 1 else ""),
        flush=True,
    )
    if r.first_error:
        print(f"    first error: {r.first_error[:150]}", flush=True)


def saturation(results: list[Result]) -> str:
    """Where a storage stops growing: the first worker count past which the next count
    (four times as many by default) gives under 1.25 times the trials per second, or errors."""
    ordered = sorted(results, key=lambda r: r.workers)
    if ordered[0].errors:
        return f"errors already at {ordered[0].workers} workers"
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.errors:
            return f"errors from {b.workers} workers; {a.rate:.0f} trials/s at {a.workers}"
        if b.rate < 1.25 * a.rate:
            return f"saturated by {a.workers} workers, at about {max(a.rate, b.rate):.0f} trials/s"
    top = ordered[-1]
    return f"not saturated up to {top.workers} workers ({top.rate:.0f} trials/s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="8,32,128", help="worker counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds each")
    parser.add_argument("--steps", type=int, default=5, help="intermediate values a trial")
    parser.add_argument("--storages", default=",".join(STORAGES))
    parser.add_argument("--processes", type=int, default=4 * (os.cpu_count() or 1))
    parser.add_argument("--proxy-threads", type=int, default=16)
    parser.add_argument("--postgres", default=PG_URL)
    parser.add_argument("--repeat", type=int, default=3, help="runs each; the median is shown")
    args = parser.parse_args()
    args.workers = [int(w) for w in args.workers.split(",")]
    labels = [s.strip() for s in args.storages.split(",") if s.strip()]
    unknown = set(labels) - set(STORAGES)
    if unknown:
        parser.error(f"unknown storages {sorted(unknown)}; valid: {', '.join(STORAGES)}")
    print(
        f"{os.cpu_count()} CPUs, {args.processes} worker processes at most, "
        f"{args.seconds:g} s each, {args.steps} reports a trial, median of {args.repeat} "
        "runs by trials/s; latencies in ms",
        flush=True,
    )
    print(TABLE.header(), flush=True)
    found: dict[str, list[Result]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label in labels:
            found[label] = run_storage(label, args, Path(tmp))
    print()
    summary = []
    for label, results in found.items():
        if results:
            line = saturation(results)
            print(f"{label}: {line}")
            best = max(r.rate for r in results)
            summary.append(f"{label} {best:.0f}/s")
    print(f"storage scale: best trials/s: {', '.join(summary)}")


if __name__ == "__main__":
    main()
