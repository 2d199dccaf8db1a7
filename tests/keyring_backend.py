"""An in-memory keyring backend for tests, installed with `keyring.set_keyring()`.

The real `keyring` API stays in the path; the user's keyring is never touched. Its priority
raises, so keyring's own detection never picks it by accident. Test modules wrap `use_keyring`
in an autouse fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import keyring
from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import InitError, PasswordDeleteError

B = TypeVar("B", bound=KeyringBackend)


class MemoryKeyring(KeyringBackend):
    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring's base is untyped
        self.values: dict[tuple[str, str], str] = {}

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("test backend: installed explicitly with keyring.set_keyring()")

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.values.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


class LockedKeyring(MemoryKeyring):
    """A Secret Service whose keyring was never unlocked: every call fails like gnome-keyring's."""

    def get_password(self, service: str, username: str) -> str | None:
        raise InitError("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise InitError("Failed to unlock the collection!")


@contextmanager
def use_keyring(backend: B) -> Iterator[B]:
    """Install `backend` for the block, then restore the previous one."""
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
