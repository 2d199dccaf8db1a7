"""The pure formatting of a message's context: quotes cut to length, embeds' text, polls, forwards,
and the prompt keeping the person's own words last."""

from __future__ import annotations

from kimaki_tui.bot.message_context import (
    QUOTE_LIMIT,
    embed_text,
    forwarded_text,
    poll_text,
    quoted,
    reply_text,
    with_context,
)


def test_quotes_are_cut_and_keep_blank_lines() -> None:
    assert quoted("a\n\nb") == "> a\n>\n> b"
    long = quoted("x" * (QUOTE_LIMIT + 50))
    assert long.endswith(" …") and len(long) == len("> ") + QUOTE_LIMIT + 2


def test_embed_text_reads_every_part_but_kimakis_marker() -> None:
    embed = {
        "author": {"name": "CI"},
        "title": "Build failed",
        "url": "https://ci.example/1",
        "description": "3 tests",
        "fields": [{"name": "branch", "value": "main"}],
        "footer": {"text": "run 12"},
    }
    assert embed_text(embed) == "CI\nBuild failed (https://ci.example/1)\n3 tests\nbranch: main\nrun 12"
    assert embed_text({"footer": {"text": 'kimaki-cli {"start":true}'}}) == ""
    assert embed_text({"type": "image"}) == ""


def test_polls_forwards_and_replies() -> None:
    assert poll_text("Lunch?", ["Pizza", "Soup"], True) == (
        "Poll (several answers may be chosen): Lunch?\n1. Pizza\n2. Soup"
    )
    assert forwarded_text("", [], []) == "Forwarded message:\n> (nothing readable)"
    assert forwarded_text("look", [{"title": "T"}], ["a.png"]) == (
        "Forwarded message:\n> look\n>\n> T\n>\n> Files: a.png"
    )
    assert reply_text("ann", "") == "In reply to ann:\n> (a message without text)"


def test_the_persons_words_stay_last() -> None:
    assert with_context("do it. queue", ["In reply to ann:\n> x"]) == "In reply to ann:\n> x\n\ndo it. queue"
    poll = "Poll (one answer may be chosen): Q\n1. a"
    assert with_context("", [poll]) == poll
    assert with_context("plain", []) == "plain"
