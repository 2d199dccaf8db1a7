"""How the Discord view renders Discord's markdown: code fences become a barred block."""

from __future__ import annotations

from kimaki_tui.screens.widgets.chat_message import discord_text


def test_code_fences_are_not_shown_raw() -> None:
    text = discord_text("Here:\n```python\nprint('hi')\n```\n-# done")
    assert "```" not in text.plain
    assert text.plain == "Here:\n▏python\n▏print('hi')\ndone"


def test_a_fence_without_language_leaves_only_the_code() -> None:
    assert discord_text("```\nls -la\n```").plain == "▏ls -la"
