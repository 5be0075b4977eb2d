"""Huge studies: figures draw a sample, the leaderboard lists the best rows, importances fork."""

from __future__ import annotations

import pickle

import pytest

from automl.reports import analysis, sampling, write_report
from automl.reports.collect import collect_study


def test_thin_keeps_the_best_and_the_fronts(make_sweep):
    sweep = make_sweep("big", n_trials=120)
    s = collect_study(sweep.record())
    small = sampling.thin(s, max_drawn=30, max_rows=10)
    numbers = {t.number for t in small.trials}
    assert len(small.leaderboard.rows) == 10
    assert small.leaderboard.rows == s.leaderboard.rows[:10]  # the best rows, best first
    assert set(s.best) <= numbers
    assert all(set(front) <= numbers for front in s.fronts.values())
    assert len(numbers) <= 30 + len(s.best) + sum(len(f) for f in s.fronts.values())
    assert small.sampled == len(small.trials) < len(s.trials)
    assert small.best_so_far == s.best_so_far and small.counts == s.counts  # every trial


def test_small_study_is_drawn_whole(make_sweep):
    s = collect_study(make_sweep("small", n_trials=20).record())
    same = sampling.thin(s)
    assert same.trials == s.trials and same.sampled == 0


def test_report_says_what_it_sampled(make_sweep, tmp_path, monkeypatch):
    monkeypatch.setattr(sampling, "MAX_DRAWN", 25)
    monkeypatch.setattr(sampling, "MAX_ROWS", 15)
    sweep = make_sweep("big", n_trials=80)
    page = write_report([sweep.record()], tmp_path / "r.html").read_text()
    assert "per-trial figures draw" in page and "of 80 trials" in page
    assert "the best 15 of 80 trials" in page


def test_forked_importance_equals_inline(make_sweep, monkeypatch):
    monkeypatch.setattr(analysis, "FORK_MIN_TRIALS", 10)
    sweep = make_sweep("imp", n_trials=40)
    record = sweep.record()
    n = len(record.complete)
    soon = analysis.importance_soon(record.study, record.objectives, n)
    assert isinstance(soon, analysis.Later)  # computed in a child process
    inline = analysis.importance(record.study, record.objectives, n)
    assert soon.values == pytest.approx(inline.values) and soon.method == inline.method


def test_failed_child_falls_back_to_inline(make_sweep, monkeypatch):
    monkeypatch.setattr(analysis, "FORK_MIN_TRIALS", 10)

    def broken(obj):
        raise RuntimeError("child cannot send")

    sweep = make_sweep("imp", n_trials=40)
    record = sweep.record()
    n = len(record.complete)
    monkeypatch.setattr(analysis.pickle, "dumps", broken)  # the child inherits this
    soon = analysis.importance_soon(record.study, record.objectives, n)
    monkeypatch.setattr(analysis.pickle, "dumps", pickle.dumps)
    assert isinstance(soon, analysis.Later)
    inline = analysis.importance(record.study, record.objectives, n)
    assert soon.values and soon.values == inline.values
