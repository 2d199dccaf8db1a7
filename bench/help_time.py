"""Wall time of `kimaki --help` through the venv's console script (median of N runs).

It bounds what every CLI start pays before doing anything: interpreter start-up plus our
module-level imports, which must stay free of Discord, Textual, httpx and peewee.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from _common import median, result, venv_bin

RUNS = 15


def time_help(program: Path) -> float:
    start = time.perf_counter()
    subprocess.run([str(program), "--help"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    program = venv_bin("kimaki")
    if not program.exists():
        sys.exit(f"{program} not found: install the package into this venv first (pip install -e .)")
    time_help(program)  # warm the OS file cache; the first run is not what users see twice
    times = [time_help(program) for _ in range(RUNS)]
    print(f"{RUNS} runs of {program} --help: min {min(times):.3f}s, max {max(times):.3f}s")
    result("help_wall_time", median(times), "s", "<=0.3")


if __name__ == "__main__":
    main()
