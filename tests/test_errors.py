"""The one error root: every error kimaki raises on purpose is a KimakiError, and `describe` gives the
message and hint that the bot, the control center and the command line show."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import kimaki_tui
from kimaki_tui.discord_rest import DiscordApiError
from kimaki_tui.errors import UNEXPECTED, KimakiError, describe, one_line
from kimaki_tui.instance import AlreadyRunning
from kimaki_tui.opencode.errors import OpenCodeNotInstalled, OpenCodeUnavailable
from kimaki_tui.settings import SettingsError
from kimaki_tui.store.db import EmptyDatabaseError
from kimaki_tui.voice.errors import NoSpeech


def test_describe_gives_the_message_and_the_hint() -> None:
    both = KimakiError("the thing broke.", "Fix the thing.")
    assert describe(both) == ("the thing broke.", "Fix the thing.")
    assert describe(KimakiError("no hint here.")) == ("no hint here.", None)
    assert describe(NoSpeech()) == ("No speech was recognised in the voice message.", None)
    assert describe(OpenCodeUnavailable("down")) == ("down", OpenCodeUnavailable.hint)  # a hint per class
    empty = EmptyDatabaseError(Path("/d/discord-sessions.db"))
    message, hint = describe(empty)
    assert message.startswith("the database /d/discord-sessions.db is empty")
    assert hint and "--reset-database" in hint
    assert one_line(empty) == f"{message} {hint}"
    api = DiscordApiError("GET /x: HTTP 404 Unknown Channel", 404)
    assert describe(api) == ("GET /x: HTTP 404 Unknown Channel", api.hint) and "Check the id" in api.hint
    running = AlreadyRunning(123, 29988)
    assert describe(running) == (str(running), None) and "pid 123" in str(running)


def test_a_bug_is_described_as_one_and_keeps_no_detail() -> None:
    message, hint = describe(RuntimeError("internal detail /secret/path"))
    assert message == UNEXPECTED and hint and "logged" in hint
    assert "secret" not in one_line(RuntimeError("internal detail /secret/path"))


def test_messages_are_unchanged_by_the_common_root() -> None:
    missing = OpenCodeNotInstalled()
    assert str(missing).startswith("opencode was not found on PATH.") and "OPENCODE_PATH" in str(missing)
    assert isinstance(SettingsError("x"), KimakiError)


def test_every_error_class_of_kimaki_derives_from_the_root() -> None:
    """Walks every module (the test helpers excepted) for exception classes defined there."""
    strays = []
    for module_info in pkgutil.walk_packages(kimaki_tui.__path__, "kimaki_tui."):
        if module_info.name.startswith("kimaki_tui.testing") or module_info.name.endswith("__main__"):
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            defined_here = isinstance(value, type) and value.__module__ == module.__name__
            if defined_here and issubclass(value, Exception) and not issubclass(value, KimakiError):
                strays.append(f"{module.__name__}.{value.__name__}")
    assert strays == []
