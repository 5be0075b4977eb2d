"""GPU discovery and the worker plan, with a stand-in nvidia-smi."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from automl.cli.main import app
from automl.errors import AutoMLError
from automl.run.devices import detect_gpus, plan

FAKE_SMI = """#!/bin/sh
echo "0, NVIDIA H100 80GB HBM3, 81559"
echo "1, NVIDIA H100 80GB HBM3, 81559"
"""


@pytest.fixture
def two_gpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = tmp_path / "bin" / "nvidia-smi"
    exe.parent.mkdir()
    exe.write_text(FAKE_SMI)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{exe.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)


def test_devices_plan_with_two_gpus_and_two_trials_each(two_gpus: None) -> None:
    result = CliRunner().invoke(app, ["devices", "--trials-per-gpu", "2"])
    assert result.exit_code == 0, result.output
    assert "GPU 0: NVIDIA H100 80GB HBM3, 81559 MiB" in result.output
    assert "4 slot(s)" in result.output
    rows = [line for line in result.output.splitlines() if "GPU " in line and "│" in line]
    assert [r.split("│")[2].strip() for r in rows] == ["GPU 0", "GPU 0", "GPU 1", "GPU 1"]


def test_slots_set_cuda_visible_devices(two_gpus: None) -> None:
    slots = plan("auto", trials_per_gpu=2)
    assert [s.env()["CUDA_VISIBLE_DEVICES"] for s in slots] == ["0", "0", "1", "1"]
    assert all(s.env()["TF_FORCE_GPU_ALLOW_GROWTH"] == "true" for s in slots)
    assert [s.gpu for s in plan("1")] == ["1"]
    with pytest.raises(AutoMLError, match="no GPU 5; visible: 0, 1"):
        plan("5")


def test_cuda_visible_devices_wins(two_gpus: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert [g.index for g in detect_gpus()] == ["1"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert detect_gpus() == []


def test_cpu_workers_split_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    slots = plan("auto", workers=4)
    assert [s.gpu for s in slots] == [None] * 4
    assert [s.threads for s in slots] == [2] * 4
    assert slots[0].env()["CUDA_VISIBLE_DEVICES"] == "-1"
    with pytest.raises(AutoMLError, match="--gpus: expected auto, none or ids"):
        plan("first")
    # GPU ids asked for on a machine with none: one line, not a sweep on the CPU.
    with pytest.raises(AutoMLError, match="no GPU 7; visible: none"):
        plan("7")
    result = CliRunner().invoke(app, ["devices", "--gpus", "7"])
    assert result.exit_code == 1 and "--gpus none runs on the CPU" in result.output
