"""Huge studies: draw a sample of trials and list the best rows, so a report stays fast.

Above :data:`MAX_DRAWN` trials, the per-trial figures (slices, parallel coordinates,
learning curves, cost plots) draw an evenly spread sample that always holds the best
trials and both cost fronts; the best-so-far curves and the counts use every trial. The
leaderboard lists the :data:`MAX_ROWS` best rows.
"""

from __future__ import annotations

from dataclasses import replace

from automl.reports.analysis import Table
from automl.reports.collect import StudyData

MAX_DRAWN = 2000
MAX_ROWS = 1000


def thin(s: StudyData, max_drawn: int | None = None, max_rows: int | None = None) -> StudyData:
    """``s`` with at most ``max_drawn`` trials to draw and ``max_rows`` leaderboard rows."""
    max_drawn = MAX_DRAWN if max_drawn is None else max_drawn
    max_rows = MAX_ROWS if max_rows is None else max_rows
    board = s.leaderboard
    if len(board.rows) > max_rows:
        board = Table(board.columns, board.rows[:max_rows])
    if len(s.trials) <= max_drawn:
        return replace(s, leaderboard=board, sampled=0)
    must = {*s.best, *(n for front in s.fronts.values() for n in front)}
    step = len(s.trials) / max(max_drawn - len(must), 1)
    picked = {s.trials[int(i * step)].number for i in range(max_drawn - len(must))}
    trials = [t for t in s.trials if t.number in picked or t.number in must]
    return replace(s, trials=trials, leaderboard=board, sampled=len(trials))
