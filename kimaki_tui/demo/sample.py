"""The sample project `kimaki demo` opens when no directory is given: a small git repository."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

FILES = {
    "README.md": "# sample-project\n\nA tiny project for trying kimaki. Ask the agent about it.\n",
    "hello.py": (
        '"""Greets people."""\n\n\ndef greet(name: str) -> str:\n    return f"Hello, {name}!"\n\n\n'
        'if __name__ == "__main__":\n    print(greet("kimaki"))\n'
    ),
    "notes.txt": "Ideas: add a farewell function; write a test for greet().\n",
}


def create_sample_project(path: Path) -> Path:
    """Write the sample files under `path` and commit them (skipped with a warning without git)."""
    path.mkdir(parents=True, exist_ok=True)
    for name, text in FILES.items():
        (path / name).write_text(text)
    if shutil.which("git") is None:
        log.warning("git is not installed: the sample project is not a repository")
        return path
    for args in (
        ["init", "-q"],
        ["config", "user.email", "demo@kimaki.invalid"],
        ["config", "user.name", "Kimaki Demo"],
        ["add", "."],
        ["commit", "-q", "-m", "Sample project"],
    ):
        subprocess.run(["git", *args], cwd=path, check=True, capture_output=True)
    return path
