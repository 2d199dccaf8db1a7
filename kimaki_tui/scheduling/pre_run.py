"""`--pre-run CMD`: a scheduled send's shell command, run in the project folder before each send.

Exit 0: the send goes ahead with the command's output appended to the prompt. Anything else (a
non-zero exit, a timeout, a command that cannot start) skips that run; the reason, with the end
of the command's output, is what the task records.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass

TAIL = 300  # characters of output kept in a skip reason


@dataclass(frozen=True, slots=True)
class PreRunResult:
    ok: bool
    output: str  # stdout when ok, else why the run is skipped


async def run_pre(command: str, directory: str, timeout: float) -> PreRunResult:
    """Run `command` with the shell in `directory`, at most `timeout` seconds."""
    try:
        process = await asyncio.create_subprocess_shell(
            command,
            cwd=directory,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # a timeout ends the command's children too
        )
    except OSError as exc:
        return PreRunResult(False, f"pre-run command could not start: {exc.strerror or exc}")
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        _kill_group(process.pid)
        await process.wait()
        return PreRunResult(False, f"pre-run command took longer than {timeout:g}s")
    stdout, stderr = out.decode(errors="replace"), err.decode(errors="replace")
    if process.returncode != 0:
        detail = (stderr.strip() or stdout.strip())[-TAIL:]
        return PreRunResult(
            False, f"pre-run command exited {process.returncode}" + (f": {detail}" if detail else "")
        )
    return PreRunResult(True, stdout)


def _kill_group(pid: int) -> None:
    import signal

    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def with_output(prompt: str, output: str) -> str:
    """The prompt a send carries after a successful pre-run."""
    text = output.strip()
    return f"{prompt}\n\n{text}" if text else prompt
