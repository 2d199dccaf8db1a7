"""core.catchup.HandledMessages on a real store: a message is claimed once, and the persisted
watermark never passes a message still being handled (a restart would otherwise skip it)."""

from __future__ import annotations

from pathlib import Path

from kimaki_tui.core.catchup import HandledMessages
from kimaki_tui.store.repo import Store


def test_a_message_is_claimed_once_live_or_late(tmp_path: Path) -> None:
    with Store.open(tmp_path / "db.sqlite") as store:
        handled = HandledMessages(store)
        assert handled.claim("c", 10)
        assert not handled.claim("c", 10)  # the catch-up found it while it was being handled
        handled.handled("c", 10)
        assert not handled.claim("c", 10)
        assert handled.watermark("c") == 10 == store.watermark("c")


def test_the_watermark_waits_for_an_earlier_message_still_being_handled(tmp_path: Path) -> None:
    with Store.open(tmp_path / "db.sqlite") as store:
        handled = HandledMessages(store)
        assert handled.claim("c", 10) and handled.claim("c", 11)
        handled.handled("c", 11)
        assert store.watermark("c") is None and not handled.claim("c", 11)
        handled.handled("c", 10)
        assert store.watermark("c") == 11
        # A new run (a restart) starts from the stored watermark.
        again = HandledMessages(store)
        assert not again.claim("c", 11) and again.claim("c", 12)


def test_a_channel_never_read_starts_where_it_is_told(tmp_path: Path) -> None:
    with Store.open(tmp_path / "db.sqlite") as store:
        handled = HandledMessages(store)
        handled.start_from("c", 50)
        assert not handled.claim("c", 49) and handled.claim("c", 51)
        handled.start_from("c", 20)  # never moves back
        assert store.watermark("c") == 50
