"""Shared bits of the benchmarks: the RESULT line format and where the venv's programs are."""

from __future__ import annotations

import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def venv_bin(name: str) -> Path:
    """A program installed next to the running interpreter (the venv's console scripts)."""
    return Path(sys.executable).parent / name


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def result(metric: str, value: float, unit: str, target: str) -> None:
    """The line the benchmark harness reads: `RESULT <metric> <value> <unit> target=<target>`."""
    shown = f"{value:.0f}" if value >= 100 else f"{value:.4g}"
    print(f"RESULT {metric} {shown} {unit} target={target}", flush=True)
