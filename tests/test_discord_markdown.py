"""Markdown Discord cannot show: tables become aligned code blocks, deep headings become `###`,
code blocks stay as written — and a long answer full of both still splits into valid messages."""

from __future__ import annotations

from kimaki_tui.core.events import PartCompleted
from kimaki_tui.presentation.discord_markdown import for_discord
from kimaki_tui.presentation.render import render_event

TABLE = """| Name | Count | Notes |
|------|------:|-------|
| **alpha** | 3 | first |
| beta | 12345 | with `code` |"""


def test_a_table_becomes_an_aligned_code_block() -> None:
    assert for_discord(f"Results:\n\n{TABLE}\n\nDone.") == "\n".join(
        [
            "Results:",
            "",
            "```",
            "Name  | Count | Notes",
            "------+-------+----------",
            "alpha |     3 | first",
            "beta  | 12345 | with code",
            "```",
            "",
            "Done.",
        ]
    )


def test_ragged_rows_and_escaped_pipes_follow_github() -> None:
    # A short row is padded, extra cells are dropped (as GitHub does), `\\|` is a pipe in a cell.
    table = "a | b\n--- | ---:\none |\nx \\| y | 22 | extra"
    shown = ["```", "a     |  b", "------+---", "one   |", "x | y | 22", "```"]
    assert for_discord(table).splitlines() == shown


def test_what_is_not_a_table_or_is_code_stays() -> None:
    plain = "a | b without a separator row\nnext line"
    code = f"```md\n{TABLE}\n#### inside code\n```"
    assert for_discord(plain) == plain
    assert for_discord(code) == code
    nested = "````\n```\n| a | b |\n|---|---|\n```\n````"
    assert for_discord(nested) == nested


def test_deep_headings_are_clamped() -> None:
    clamped = for_discord("#### Four\n###### Six\n### Three\n#hashtag")
    assert clamped == "### Four\n### Six\n### Three\n#hashtag"


def test_a_long_answer_with_tables_and_code_splits_into_whole_messages() -> None:
    block = f"#### Part\n\n{TABLE}\n\n```python\nprint('|x|')\n```\n\nSome prose about it.\n"
    messages = render_event(PartCompleted("ses_1", "prt_1", "msg_1", "text", text=block * 120))
    assert len(messages) >= 10 and all(len(m) <= 2000 for m in messages)
    for message in messages:
        fences = [line for line in message.splitlines() if line.startswith("```")]
        assert len(fences) % 2 == 0, message  # every code block closes in its own message
        assert "|------|" not in message and "####" not in message
