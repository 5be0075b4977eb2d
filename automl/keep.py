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


def _dominates(a: Candidate, b: Candidate, directions: Sequence[str]) -> bool:
    ka = (_key(a, directions), a.params_count, a.latency_ms)
    kb = (_key(b, directions), b.params_count, b.latency_ms)
    return all(x <= y for x, y in zip(ka, kb, strict=True)) and ka != kb


def kept(candidates: Sequence[Candidate], directions: Sequence[str], k: int) -> set[int]:
    """Numbers of the trials whose models are kept."""
    ranked = sorted(candidates, key=lambda c: (_key(c, directions), c.number))
    top = {c.number for c in ranked[:k]}
    front = {
        c.number
        for c in candidates
        if not any(_dominates(o, c, directions) for o in candidates if o is not c)
    }
    return top | front


def ranked(candidates: Sequence[Candidate], directions: Sequence[str]) -> list[Candidate]:
    """Best first by the first objective."""
    return sorted(candidates, key=lambda c: (_key(c, directions), c.number))
