"""The `!` shortcut's rule: run a shell command in a conversation's session without the model.

OpenCode's shell route runs it in the session's directory (the project or its worktree) and keeps
it in the session's history, as the agent's `bash` tool would; what comes back here is the output
and the exit code, cut to a size a chat message can hold. A command still running after the
timeout is aborted. A busy session refuses: the command would race the agent's own turn.

OpenCode's shell route reports no exit code, so for POSIX-like shells (OpenCode runs the command
with $SHELL) the command is wrapped to print whether it succeeded, a line taken off the output
again. Only success or failure can be told: OpenCode expands `$` in the command once before it
runs it, so `$?` would read the status of the command before. With another shell (fish, nu)
the outcome is "unknown".
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from dataclasses import dataclass

from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.errors import OpenCodeError
from kimaki_tui.opencode.models import Message
from kimaki_tui.opencode.parts import ToolPart

SHELL_TIMEOUT = 60.0
SHELL_BUSY = "The agent is working in this thread: wait for its answer (or /abort), then run the command."
MAX_OUTPUT = 1800  # characters: the fenced output and its notes fit one Discord message


_POSIX_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "ash"})
_OUTCOME_LINE = re.compile(r"\n?\[kimaki-(ok|failed)\]\s*$")


@dataclass(frozen=True, slots=True)
class ShellResult:
    """`refused` says why nothing ran; otherwise `output` (possibly cut: `truncated`), the exit
    code when OpenCode reported one, and `timed_out` when the command was stopped."""

    output: str = ""
    succeeded: bool | None = None  # exit code 0 or not; None when it could not be told
    truncated: bool = False
    timed_out: bool = False
    refused: str = ""


def with_exit_line(command: str, shell: str | None = None) -> str:
    """`command` in a subshell (an `exit` in it ends only that), then a line saying whether it
    succeeded, when the shell that runs it is POSIX-like. One line: OpenCode cannot eval newlines."""
    name = os.path.basename(shell if shell is not None else os.environ.get("SHELL", "/bin/sh"))
    if name not in _POSIX_SHELLS:
        return command
    return f"if ( {command} ); then echo; echo '[kimaki-ok]'; else echo; echo '[kimaki-failed]'; fi"


def shell_result(message: Message) -> ShellResult:
    """The output and exit code of the bash part OpenCode's shell route answered with."""
    part = next((p for p in message.parts if isinstance(p, ToolPart) and p.tool == "bash"), None)
    if part is None:
        return ShellResult(refused="OpenCode ran nothing (its answer had no shell output).")
    state = part.state
    text = state.output or str(state.metadata.get("output") or "") or state.error
    found = _OUTCOME_LINE.search(text)
    if found is None:
        return _result(text, None)
    return _result(text[: found.start()], found.group(1) == "ok")


def _result(text: str, succeeded: bool | None) -> ShellResult:
    cut = len(text) > MAX_OUTPUT
    shown = text[-MAX_OUTPUT:] if cut else text  # the end says how it went
    return ShellResult(shown, succeeded, truncated=cut)


async def run_shell(
    client: OpenCodeClient, session_id: str, directory: str, command: str, timeout: float
) -> ShellResult:
    try:
        async with asyncio.timeout(timeout):
            message = await client.shell(session_id, directory, with_exit_line(command))
    except TimeoutError:
        with contextlib.suppress(OpenCodeError):
            await client.abort(session_id, directory)
        return ShellResult(timed_out=True)
    return shell_result(message)
