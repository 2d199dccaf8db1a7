"""Turns cut off by kimaki's end: a turn is recorded from its prompt until it finishes, aborts or
fails; one still recorded at start was interrupted by a crash, a kill or a restart, and its
thread is told so (by whichever front end shows it) instead of going silent."""

from __future__ import annotations

from kimaki_tui.core.bus import EventBus
from kimaki_tui.core.events import PromptDispatched, SessionFailed, TurnAborted, TurnFinished
from kimaki_tui.store.repo import Store
from kimaki_tui.store.retry import WriteBehind

_TURN_ENDS = (TurnFinished, TurnAborted, SessionFailed)


class TurnLedger:
    def __init__(self, store: Store, bus: EventBus) -> None:
        self._store = store
        self._bus = bus
        self._interrupted: list[str] = []
        self._writes = WriteBehind("the record of open turns")  # a locked database delays them

    def start(self) -> None:
        """Collect the turns a previous run left open, then follow this run's turns."""
        self._interrupted = self._store.take_open_turns()
        self._bus.add_callback(self._on_event)

    def _on_event(self, event: object) -> None:
        if isinstance(event, PromptDispatched) and event.thread_id:
            thread_id, session_id = event.thread_id, event.session_id
            self._writes.write(lambda: self._store.open_turn(thread_id, session_id))
        elif isinstance(event, _TURN_ENDS) and event.thread_id:
            ended = event.thread_id
            self._writes.write(lambda: self._store.close_turn(ended))

    def close(self) -> None:
        self._writes.close()

    def take_interrupted(self) -> list[str]:
        """Threads whose turn the previous run left unfinished (each handed out once)."""
        taken, self._interrupted = self._interrupted, []
        return taken
