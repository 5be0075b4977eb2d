"""Moved to ``tests.helpers.sample_study``; kept for ``benchmarks/report_scale.py`` until it
imports from there. Test modules import ``tests.helpers.sample_study``."""

from tests.helpers.sample_study import make_study

__all__ = ["make_study"]
