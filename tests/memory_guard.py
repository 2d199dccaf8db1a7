"""Stops a test process whose memory runs away, saying which test and where it was.

Once a two-worker run lost a worker that grew to 21 GB: for a quarter of an hour the machine
thrashed, then the kernel killed it and pytest-xdist hung, with nothing telling which test or
loop it was. Past the limit (`KIMAKI_TEST_MEMORY_LIMIT_MB`, 4,096 by default) the guard writes
the running test's name and every thread's stack to stderr and to a file under the temporary
directory, then ends the process.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import tempfile
import threading
from pathlib import Path

import psutil

LIMIT_ENV = "KIMAKI_TEST_MEMORY_LIMIT_MB"


class MemoryGuard:
    """A daemon thread sampling this process's resident memory once a second."""

    def __init__(self, limit_mb: float, interval: float = 1.0) -> None:
        self.limit_mb = limit_mb
        self.interval = interval
        self.report = Path(tempfile.gettempdir()) / f"kimaki-test-memory-{os.getpid()}.txt"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="kimaki-memory-guard", daemon=True)
        self._process = psutil.Process()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            used = self._process.memory_info().rss / 2**20
            if used > self.limit_mb:
                self._give_up(used)

    def _give_up(self, used: float) -> None:
        test = os.environ.get("PYTEST_CURRENT_TEST", "(between tests)")
        headline = f"memory guard: {used:.0f} MB resident (limit {self.limit_mb:.0f}) during {test}\n"
        with self.report.open("w") as report:
            report.write(headline)
            faulthandler.dump_traceback(file=report, all_threads=True)
        sys.stderr.write(headline + f"every thread's stack is in {self.report}\n")
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        sys.stderr.flush()
        os._exit(70)


def from_environment() -> MemoryGuard | None:
    limit = float(os.environ.get(LIMIT_ENV, "4096"))
    return MemoryGuard(limit) if limit > 0 else None
