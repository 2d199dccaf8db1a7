"""What was handled, per channel and thread, so nothing is answered twice or missed: each incoming
message is claimed before it is handled and marked when done; the persisted watermark (the newest
message with every earlier claimed one done) is where a start after downtime, or after a gateway
session that could not resume, begins reading what it missed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kimaki_tui.store.db import StoreError
from kimaki_tui.store.repo import Store

log = logging.getLogger(__name__)

_DISCORD_EPOCH = datetime.fromisoformat("2015-01-01T00:00:00+00:00")
# A linked channel is read from a little before the link: this machine's clock may run ahead of
# Discord's, and a message sent right after linking must not count as read.
LINK_CLOCK_ALLOWANCE = timedelta(seconds=60)


def snowflake_at(when: datetime) -> int:
    """The smallest Discord id of a message sent at `when` (ids start with their time in ms)."""
    return int((when - _DISCORD_EPOCH) / timedelta(milliseconds=1)) << 22


@dataclass
class _Channel:
    watermark: int | None
    in_flight: set[int] = field(default_factory=set)
    done: set[int] = field(default_factory=set)  # handled, newer than the watermark


class HandledMessages:
    """Front ends claim the messages of the channels they answer in (linked channels, their threads)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._channels: dict[str, _Channel] = {}

    def watermark(self, channel_id: str) -> int | None:
        """The newest message handled in the channel with none before it left; None: none ever was."""
        return self._channel(channel_id).watermark

    def claim(self, channel_id: str, message_id: int) -> bool:
        """True for the first claim of a message; False when it is being or was handled already."""
        channel = self._channel(channel_id)
        seen = channel.watermark is not None and message_id <= channel.watermark
        if seen or message_id in channel.in_flight or message_id in channel.done:
            return False
        channel.in_flight.add(message_id)
        return True

    def handled(self, channel_id: str, message_id: int) -> None:
        """A claimed message is done; the watermark moves up to the newest with no claim open before it."""
        channel = self._channel(channel_id)
        channel.in_flight.discard(message_id)
        channel.done.add(message_id)
        limit = min(channel.in_flight, default=None)
        finished = [m for m in channel.done if limit is None or m < limit]
        if not finished:
            return
        newest = max(finished)
        channel.done.difference_update(finished)
        if channel.watermark is None or newest > channel.watermark:
            channel.watermark = newest
            self._persist(channel_id, newest)

    def start_from(self, channel_id: str, message_id: int) -> None:
        """A channel seen for the first time: count everything up to `message_id` as handled."""
        channel = self._channel(channel_id)
        if channel.watermark is None or message_id > channel.watermark:
            channel.watermark = message_id
            self._persist(channel_id, message_id)

    def _persist(self, channel_id: str, message_id: int) -> None:
        try:
            self._store.raise_watermark(channel_id, message_id)
        except StoreError as exc:
            # Kept in memory: the next message handled there writes a newer one. Only if kimaki
            # stops before that would a restart read these messages again.
            log.warning("could not record the watermark of %s: %s", channel_id, exc)

    def _channel(self, channel_id: str) -> _Channel:
        channel = self._channels.get(channel_id)
        if channel is None:
            channel = self._channels[channel_id] = _Channel(self._store.watermark(channel_id))
        return channel
