"""The demo script format and the chat box's slash-command syntax (pure parsing, no servers)."""

from __future__ import annotations

import pytest

from kimaki_tui.demo.script import ScriptError, Step, parse_script
from kimaki_tui.screens.chat_model import SlashCommand, SlashOption, bind_slash, parse_slash


def test_a_script_is_parsed_line_by_line() -> None:
    steps = parse_script("# a comment\n\nsay: RUN_BASH: ls -la\n  click: Accept Always  \nwait: idle\n")
    assert steps == [
        Step("say", "RUN_BASH: ls -la", 3),
        Step("click", "Accept Always", 4),
        Step("wait", "idle", 5),
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("press: Accept", "line 1: expected one of say, new, click, select, slash, wait"),
        ("say hello", "line 1: expected one of"),
        ("say: hi\nclick:   ", "line 2: click: needs an argument"),
    ],
)
def test_bad_lines_are_named(text: str, error: str) -> None:
    with pytest.raises(ScriptError, match=error):
        parse_script(text)


def test_slash_values_run_to_the_next_option() -> None:
    assert parse_slash("/queue message=REPLY: hi there") == ("queue", {"message": "REPLY: hi there"})
    assert parse_slash("/clear-queue position=2") == ("clear-queue", {"position": "2"})
    assert parse_slash("/abort") == ("abort", {})
    assert parse_slash("/x a=1 b=two words") == ("x", {"a": "1", "b": "two words"})


def test_a_bare_value_fills_the_first_option() -> None:
    queue = SlashCommand("queue", options=(SlashOption("message", required=True),))
    name, options = parse_slash("/queue hello there")
    assert name == "queue"
    assert bind_slash(queue, options) == {"message": "hello there"}
    assert bind_slash(SlashCommand("abort"), parse_slash("/abort now")[1]) == {}
