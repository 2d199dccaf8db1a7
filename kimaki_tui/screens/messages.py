"""The Textual messages the bridge posts to the app: batches of core events and of log lines."""

from __future__ import annotations

from textual.message import Message


class CoreEvents(Message, bubble=False):
    """Domain events published since the last batch, in order, with token deltas merged."""

    def __init__(self, events: tuple[object, ...]) -> None:
        super().__init__()
        self.events = events


class LogLines(Message, bubble=False):
    """Log records written since the last batch (one formatted record each)."""

    def __init__(self, lines: tuple[str, ...]) -> None:
        super().__init__()
        self.lines = lines


class OpenSession(Message):
    """Asks the app to show a session's screen (posted by the dashboard and the palette)."""

    def __init__(self, thread_id: str) -> None:
        super().__init__()
        self.thread_id = thread_id


class AbortSession(Message):
    """Asks the app to abort a session's running turn (dashboard, session screen, palette)."""

    def __init__(self, thread_id: str) -> None:
        super().__init__()
        self.thread_id = thread_id
