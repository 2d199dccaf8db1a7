"""How transcript entries are rendered: a long answer costs a bounded render while it streams."""

from __future__ import annotations

from rich.console import Console
from rich.markdown import Markdown
from rich.text import Text

from kimaki_tui.screens.format import Palette
from kimaki_tui.screens.transcript import Entry
from kimaki_tui.screens.widgets.transcript_view import MARKDOWN_LIMIT, STREAM_TAIL, render_entry

LINE = "| case | 12 ms | passed |\n"


def test_a_streaming_answer_shows_only_its_tail_from_a_line_start() -> None:
    """Re-rendered on every batch, so its size must not grow with the answer (200,000 chars)."""
    text = LINE * (200_000 // len(LINE)) + "last words"
    rendered = render_entry(Entry("prt_1", "text", text, done=False), Palette())
    assert isinstance(rendered, Text)
    shown = rendered.plain
    assert len(shown) <= STREAM_TAIL + 40
    first, rest = shown.split("\n", 1)
    assert first.startswith("… ") and first.endswith(" characters above")
    assert rest.startswith("| case") and shown.endswith("last words▍")
    assert text.endswith(rest[:-1])
    lines = Console(width=100, file=None).render_lines(rendered)
    assert len(lines) <= STREAM_TAIL // len(LINE) + 2


def test_short_streaming_text_is_shown_whole_and_finished_text_as_markdown() -> None:
    assert render_entry(Entry("p", "text", "so far", done=False), Palette()).plain == "so far▍"  # type: ignore[union-attr]
    assert isinstance(render_entry(Entry("p", "text", "# Done\n\nok"), Palette()), Markdown)


def test_a_finished_answer_too_long_for_markdown_is_plain_text() -> None:
    text = LINE * (MARKDOWN_LIMIT // len(LINE) + 1)
    rendered = render_entry(Entry("p", "text", text), Palette())
    assert isinstance(rendered, Text) and rendered.plain == text
