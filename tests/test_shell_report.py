"""The `!` shortcut's words: which messages are commands, the report, the wrapper per shell."""

from __future__ import annotations

from kimaki_tui.core.shell import ShellResult, with_exit_line
from kimaki_tui.presentation.shell import shell_command, shell_report


def test_only_a_leading_bang_with_something_after_it_is_a_command() -> None:
    assert shell_command("!ls -la") == "ls -la"
    assert shell_command("  ! git status ") == "git status"
    assert shell_command("!") is None and shell_command("hello !ls") is None


def test_the_report_fences_the_output_and_cannot_be_broken_out_of() -> None:
    text = shell_report("cat x", ShellResult("a\n```\nb\n", succeeded=True))
    assert text.startswith("`$ cat x`\n```\n") and text.endswith("\n```\n-# ✓ exit code 0")
    assert text.count("```") == 2
    assert shell_report("x", ShellResult(refused="busy")) == "⚠️ busy"
    assert "Stopped after 60 s" in shell_report("sleep 99", ShellResult(timed_out=True))
    assert "(no output)" in shell_report("true", ShellResult("", succeeded=None))


def test_posix_shells_get_the_outcome_line_and_others_run_the_command_as_is() -> None:
    assert with_exit_line("ls", "/bin/bash").startswith("if ( ls ); then")
    assert with_exit_line("ls", "/usr/bin/fish") == "ls"
