"""Which trained models to keep: the best K, plus the front that ``pick()`` can need.

Keeping the non-dominated set over (objective, parameter count, latency) next to the top K
means ``Sweep.pick(max_params=..., max_latency_ms=...)`` always finds its answer on disk:
the best trial under any such limits is never dominated on all three.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    number: int
    values: tuple[float, ...]
    params_count: float
    latency_ms: float


def _key(c: Candidate, directions: Sequence[str]) -> float:
    return -c.values[0] if directions[0] == "maximize" else c.values[0]


def _rank(c: Candidate, directions: Sequence[str]) -> tuple[float, float, float, int]:
    """Best objective first; on a tie the smaller, then the faster model (as pick() does)."""
    return (_key(c, directions), c.params_count, c.latency_ms, c.number)


def _dominates(a: Candidate, b: Candidate, directions: Sequence[str]) -> bool:
    ka = (_key(a, directions), a.params_count, a.latency_ms)
    kb = (_key(b, directions), b.params_count, b.latency_ms)
    return all(x <= y for x, y in zip(ka, kb, strict=True)) and ka != kb


def kept(candidates: Sequence[Candidate], directions: Sequence[str], k: int) -> set[int]:
    """Numbers of the trials whose models are kept."""
    top = {c.number for c in sorted(candidates, key=lambda c: _rank(c, directions))[:k]}
    front = {
        c.number
        for c in candidates
        if not any(_dominates(o, c, directions) for o in candidates if o is not c)
    }
    return top | front


def ranked(candidates: Sequence[Candidate], directions: Sequence[str]) -> list[Candidate]:
    """Best first by the first objective (ties: fewer parameters, lower latency)."""
    return sorted(candidates, key=lambda c: _rank(c, directions))
