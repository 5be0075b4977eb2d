"""Which models are kept on disk."""

from __future__ import annotations

from automl.keep import Candidate, kept, ranked


def c(n: int, value: float, params: int, latency: float = 1.0) -> Candidate:
    return Candidate(n, (value,), params, latency)


def test_top_k_by_objective_plus_the_size_front() -> None:
    cands = [
        c(0, 0.90, 1000),
        c(1, 0.95, 5000),
        c(2, 0.97, 9000),
        c(3, 0.80, 100),
        c(4, 0.85, 8000),
    ]
    keep = kept(cands, ["maximize"], k=2)
    assert {1, 2} <= keep  # best two
    assert 3 in keep and 0 in keep  # smallest and a trade-off are on the front
    assert 4 not in keep  # worse and bigger than trial 1


def test_minimize_direction_and_ranking() -> None:
    cands = [c(0, 3.0, 10), c(1, 1.0, 10), c(2, 2.0, 10)]
    assert [x.number for x in ranked(cands, ["minimize"])] == [1, 2, 0]
    assert kept(cands, ["minimize"], k=1) == {1}


def test_ties_prefer_the_smaller_model_so_pick_finds_a_kept_one() -> None:
    cands = [c(0, 0.99, 5000), c(1, 0.95, 1000), c(2, 0.95, 900)]
    keep = kept(cands, ["maximize"], k=1)
    fits = [x for x in cands if x.params_count <= 1000]
    assert ranked(fits, ["maximize"])[0].number == 2
    assert 2 in keep and 1 not in keep
