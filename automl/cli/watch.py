"""``automl watch``: a live view of a running sweep from any machine that reaches its storage.

It reads what workers record: finished trials, and for each running trial its worker and
the epoch it reached (``records.EPOCH``, written at every epoch end).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from automl import ranking
from automl.run import budget
from automl.store import records, storage


@dataclass
class Snapshot:
    """A sweep at one moment."""

    study: str
    metric: str
    direction: str
    target: int | None  # trials the sweep runs to; None: until its timeout
    done: int  # trials that count toward the target
    states: dict[str, int]
    running: list[dict[str, Any]] = field(default_factory=list)
    best: float | None = None
    best_trial: int | None = None
    failures: dict[str, int] = field(default_factory=dict)
    stopped: dict[str, int] = field(default_factory=dict)  # pruned by a rule, by reason
    eta_s: float | None = None

    @property
    def finished(self) -> bool:
        return not self.running and self.target is not None and self.done >= self.target


def snapshot(name: str, url: str) -> Snapshot:
    """Read the study once and summarise it."""
    study = storage.load_study(name, storage.open_storage(url), url)
    record = records.read_study(study, url, models=False)
    frozen = {t.number: t for t in study.get_trials(deepcopy=False)}
    counted = [t for t in record.trials if budget.counts(frozen[t.number])]
    found = ranking.best(record.complete, record.objectives)
    max_epochs = (record.spec.get("training") or {}).get("max_epochs")
    now = time.time()
    running = [
        {
            "trial": t.number,
            "worker": t.worker or "-",
            "device": t.placement.get("device") or "-",
            "ray_node": t.placement.get("ray_node") or None,
            "epoch": t.epochs or 0,
            "max_epochs": max_epochs,
            "seconds": round(now - t.start.timestamp(), 1) if t.start else None,
        }
        for t in record.trials
        if t.state == "RUNNING"
    ]
    target = record.target_trials
    return Snapshot(
        study=name,
        metric=record.objectives[0].metric,
        direction=record.objectives[0].direction,
        target=target,
        done=len(counted),
        states=dict(Counter(t.state for t in record.trials)),
        running=running,
        best=found[0].value if found else None,
        best_trial=found[0].number if found else None,
        failures=records.reason_counts(record.trials, "FAIL"),
        stopped=records.reason_counts(record.trials, "PRUNED"),
        eta_s=_eta(counted, target, len(running)),
    )


def _eta(counted: list[records.TrialRecord], target: int | None, parallel: int) -> float | None:
    """Seconds left: trials still owed times their mean duration, over the running workers."""
    if target is None or not counted:
        return None
    left = max(target - len(counted), 0)
    mean = sum(t.duration_s for t in counted) / len(counted)
    return round(left * mean / max(parallel, 1), 1)


def as_doc(snap: Snapshot) -> dict[str, Any]:
    """``automl watch --once --json``."""
    return {**asdict(snap), "finished": snap.finished}


def render(snap: Snapshot) -> Group:
    """The header lines and a table of the running trials."""
    target = f" of {snap.target}" if snap.target is not None else ""
    s = snap.states
    head = f"study {snap.study}: {snap.done}{target} trials done, {len(snap.running)} running"
    counts = (
        f"{s.get('COMPLETE', 0)} complete, {s.get('PRUNED', 0)} pruned, {s.get('FAIL', 0)} failed"
    )
    best = "-" if snap.best is None else f"{snap.best:.4g} (trial {snap.best_trial})"
    lines = [Text(head), Text(counts), Text(f"best {snap.metric} ({snap.direction}): {best}")]
    if snap.failures:
        lines.append(Text("failures: " + ", ".join(f"{k} {n}" for k, n in snap.failures.items())))
    if snap.stopped:
        lines.append(Text("pruned: " + ", ".join(f"{k} {n}" for k, n in snap.stopped.items())))
    lines.append(Text(f"eta: {_duration(snap.eta_s)}" + (" (finished)" if snap.finished else "")))
    table = Table(title="running trials")
    for col in ("trial", "worker", "device", "epoch", "running for"):
        table.add_column(col, no_wrap=col in ("worker", "device"))
    for r in snap.running:
        epoch = f"{r['epoch']}/{r['max_epochs']}" if r["max_epochs"] else str(r["epoch"])
        # A Ray node id is 56 hex digits; its first 8 tell nodes apart, as `ray status` does.
        node = f" @ {r['ray_node'][:8]}" if r.get("ray_node") else ""
        where = Text(r["device"] + node)
        table.add_row(str(r["trial"]), Text(r["worker"]), where, epoch, _duration(r["seconds"]))
    return Group(*lines, table) if snap.running else Group(*lines)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {sec:02d}s"


def follow(console: Console, name: str, url: str, interval: float) -> None:
    """Refresh the view every ``interval`` seconds until the sweep ends (or Ctrl-C)."""
    from rich.live import Live

    snap = snapshot(name, url)
    with Live(render(snap), console=console, auto_refresh=False) as live:
        while not snap.finished:
            time.sleep(interval)
            snap = snapshot(name, url)
            live.update(render(snap), refresh=True)
    if not console.is_terminal:
        console.print()  # rich leaves the last line of a non-terminal view unended
