"""Find GPUs without importing a deep-learning framework, and plan worker slots.

GPUs come from ``CUDA_VISIBLE_DEVICES`` when it is set, else from ``nvidia-smi``. A plan
is a list of slots, one worker process each: one slot per GPU (several with
``trials_per_gpu``), or CPU workers that split the cores between them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from automl.errors import AutoMLError


@dataclass(frozen=True)
class GPU:
    index: str
    name: str = ""
    memory_mb: int | None = None


@dataclass(frozen=True)
class Slot:
    """One worker: the GPU it sees (None on the CPU) and its CPU threads."""

    number: int
    gpu: str | None
    threads: int

    def env(self) -> dict[str, str]:
        """Environment for the worker process of this slot."""
        env = {
            "OMP_NUM_THREADS": str(self.threads),
            "TF_NUM_INTRAOP_THREADS": str(self.threads),
            "TF_NUM_INTEROP_THREADS": "1" if self.threads < 4 else "2",
            # TensorFlow otherwise reserves the whole GPU for the first process on it.
            "TF_FORCE_GPU_ALLOW_GROWTH": "true",
            "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
        }
        env["CUDA_VISIBLE_DEVICES"] = self.gpu if self.gpu is not None else "-1"
        return env


def detect_gpus() -> list[GPU]:
    """GPUs visible to this process, by CUDA_VISIBLE_DEVICES or nvidia-smi."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    listed = _nvidia_smi()
    if visible is not None:
        ids = [v.strip() for v in visible.split(",") if v.strip()]
        if not ids or ids == ["-1"] or ids[0].lower() in ("none", "nodevfiles"):
            return []
        by_index = {g.index: g for g in listed}
        return [by_index.get(i, GPU(i)) for i in ids]
    return listed


def _nvidia_smi() -> list[GPU]:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, "--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    gpus = []
    for line in out.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if not parts or not parts[0]:
            continue
        memory = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
        gpus.append(GPU(parts[0], parts[1] if len(parts) > 1 else "", memory))
    return gpus


def plan(gpus: str = "auto", trials_per_gpu: int = 1, workers: int | None = None) -> list[Slot]:
    """Worker slots for ``--gpus``, ``--trials-per-gpu`` and ``--workers``.

    Args:
        gpus: ``auto`` (every visible GPU, else the CPU), ``none`` (CPU only), or GPU ids
            such as ``0,2``.
        trials_per_gpu: workers sharing each GPU.
        workers: CPU workers when no GPU is used (default 1: one trial already uses
            every core).
    """
    if trials_per_gpu < 1:
        raise AutoMLError(f"--trials-per-gpu must be >= 1; got {trials_per_gpu}")
    if workers is not None and workers < 1:
        raise AutoMLError(f"--workers must be >= 1; got {workers}")
    chosen = _choose(gpus)
    cores = os.cpu_count() or 1
    if chosen:
        slots = [g for g in chosen for _ in range(trials_per_gpu)]
        threads = max(1, cores // len(slots))
        return [Slot(i, g, threads) for i, g in enumerate(slots)]
    n = workers or 1
    return [Slot(i, None, max(1, cores // n)) for i in range(n)]


def _choose(gpus: str) -> list[str]:
    text = gpus.strip().lower()
    if text in ("none", "cpu", ""):
        return []
    found = [g.index for g in detect_gpus()]
    if text == "auto":
        return found
    wanted = [g.strip() for g in gpus.split(",") if g.strip()]
    bad = [g for g in wanted if not g.isdigit()]
    if bad:
        raise AutoMLError(f"--gpus: expected auto, none or ids like 0,2; got {gpus!r}")
    missing = [g for g in wanted if g not in found]
    if missing:
        hint = (
            ""
            if found
            else " (nvidia-smi and CUDA_VISIBLE_DEVICES show none; --gpus none runs on the CPU)"
        )
        raise AutoMLError(
            f"--gpus: no GPU {', '.join(missing)}; visible: {', '.join(found) or 'none'}{hint}"
        )
    return wanted
