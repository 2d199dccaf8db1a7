"""The `!` shortcut in words: which messages are shell commands, and how a run is reported
(the command, its output fenced, then the exit code and any note on one small line)."""

from __future__ import annotations

from kimaki_tui.core.shell import MAX_OUTPUT, SHELL_TIMEOUT, ShellResult

PREFIX = "!"
_FENCE = "```"
_OUTCOMES = {True: "✓ exit code 0", False: "✗ failed (non-zero exit code)", None: "exit code unknown"}


def shell_command(text: str) -> str | None:
    """The command of a message written `!command`, or None for any other message."""
    stripped = text.strip()
    if not stripped.startswith(PREFIX):
        return None
    command = stripped[len(PREFIX) :].strip()
    return command or None


def shell_report(command: str, result: ShellResult) -> str:
    if result.refused:
        return f"⚠️ {result.refused}"
    head = f"`$ {_one_line(command)}`"
    if result.timed_out:
        return f"{head}\n⏱️ Stopped after {SHELL_TIMEOUT:g} s without finishing."
    # A fence inside the output would close ours: break it with a zero-width space.
    body = result.output.rstrip("\n").replace(_FENCE, "`\u200b`\u200b`") or "(no output)"
    notes = [_OUTCOMES[result.succeeded]]
    if result.truncated:
        notes.append(f"output cut to its last {MAX_OUTPUT} characters")
    return f"{head}\n{_FENCE}\n{body}\n{_FENCE}\n-# {' · '.join(notes)}"


def _one_line(command: str) -> str:
    line = command.replace("`", "ˋ").splitlines()[0] if command else ""
    return line if len(line) <= 200 else line[:199] + "…"
