"""Immutable values that grow in O(1): the reducer's id sets and streamed text.

A frozen state that grows by copying (`frozenset | {id}`, `text + delta`) costs O(size) per event,
so a turn with thousands of parts or a 200,000-character answer gets slower with every event.
These values share their storage with the value they grew from: each one remembers how much of
the shared storage is its own, so older values keep answering as before. Growing an older value
again (rare: only when a caller keeps and reuses an old state) first copies its own part.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from itertools import islice

_ABSENT = sys.maxsize  # the position of an id a set does not hold


class IdSet:
    """An immutable, insertion-ordered set of ids (strings) that only grows; `with_ids` is O(1)
    per new id."""

    __slots__ = ("_items", "_positions", "_size")

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._items: list[str] = []
        self._positions: dict[str, int] = {}
        self._size = 0
        self._append(ids)

    def _append(self, ids: Iterable[str]) -> None:
        for item in ids:
            if item not in self._positions:
                self._positions[item] = len(self._items)
                self._items.append(item)
        self._size = len(self._items)

    def __contains__(self, item: object) -> bool:
        position: int = self._positions.get(item, _ABSENT)  # type: ignore[call-overload]
        return position < self._size

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[str]:
        return islice(self._items, self._size)

    @property
    def last(self) -> str | None:
        """The id added last (None when empty)."""
        return self._items[self._size - 1] if self._size else None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IdSet | frozenset | set):
            return len(self) == len(other) and all(item in other for item in self)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self))

    def __repr__(self) -> str:
        return f"IdSet({list(self)!r})"

    def with_ids(self, ids: Iterable[str]) -> IdSet:
        """This set plus `ids` (itself when nothing is new)."""
        fresh = [item for item in ids if item not in self]
        return self._grown(fresh) if fresh else self

    def _grown(self, fresh: list[str]) -> IdSet:
        grown = IdSet.__new__(IdSet)
        if self._size and len(self._items) == self._size:
            grown._items, grown._positions = self._items, self._positions  # share: O(1)
        else:
            # Empty (maybe a shared default), or a larger set already grew from this one: copy.
            grown._items = self._items[: self._size]
            grown._positions = {item: n for n, item in enumerate(grown._items)}
        grown._append(fresh)
        return grown

    def with_id(self, item: str) -> IdSet:
        if self._positions.get(item, _ABSENT) < self._size:
            return self
        return self._grown([item])


class GrowingText:
    """Immutable text that grows by appending pieces; `plus` is O(1), `str()` joins once."""

    __slots__ = ("_count", "_length", "_pieces")

    def __init__(self, text: str = "") -> None:
        self._pieces: list[str] = [text] if text else []
        self._count = len(self._pieces)
        self._length = len(text)

    def plus(self, piece: str) -> GrowingText:
        if not piece:
            return self
        pieces = self._pieces
        if not self._count:
            pieces = []  # never grow the storage of an empty text: it may be a shared default
        elif len(pieces) != self._count:  # a longer text already grew from this one: branch off
            pieces = pieces[: self._count]
        pieces.append(piece)
        grown = GrowingText.__new__(GrowingText)
        grown._pieces, grown._count, grown._length = pieces, len(pieces), self._length + len(piece)
        return grown

    def __len__(self) -> int:
        return self._length

    def __str__(self) -> str:
        if self._count == 1:
            return self._pieces[0]
        return "".join(islice(self._pieces, self._count))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, GrowingText | str):
            return len(self) == len(other) and str(self) == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))

    def __repr__(self) -> str:
        return f"GrowingText({str(self)!r})"
