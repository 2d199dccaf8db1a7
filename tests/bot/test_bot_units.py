"""Small pure parts of the bot: discord URL overrides, attachment kinds, error texts, question drafts."""

from __future__ import annotations

import discord
import discord.gateway
import discord.http
import pytest
import yarl
from discord import app_commands

from kimaki_tui.bot.attachments import kind_of
from kimaki_tui.bot.discord_env import apply_discord_overrides
from kimaki_tui.bot.errors import NO_SESSION_TEXT, UNREACHABLE_TEXT, explain, unwrap
from kimaki_tui.core.api import UnknownThread
from kimaki_tui.core.approval_service import QuestionDrafts
from kimaki_tui.core.events import QuestionRequest
from kimaki_tui.opencode.errors import OpenCodeBadRequest, OpenCodeTimeout, OpenCodeUnavailable


def test_discord_overrides_apply_and_restore() -> None:
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    restore = apply_discord_overrides("http://127.0.0.1:9/api/v10/", "ws://127.0.0.1:9/gateway")
    try:
        assert discord.http.Route.BASE == "http://127.0.0.1:9/api/v10"
        assert yarl.URL("ws://127.0.0.1:9/gateway") == discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        assert discord.http.Route("GET", "/users/@me").url == "http://127.0.0.1:9/api/v10/users/@me"
    finally:
        restore()
    assert base == discord.http.Route.BASE
    assert gateway == discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


def test_no_overrides_change_nothing() -> None:
    base = discord.http.Route.BASE
    apply_discord_overrides(None, None)()
    assert base == discord.http.Route.BASE


@pytest.mark.parametrize(
    ("name", "content_type", "kind"),
    [
        ("a.png", "image/png", "image"),
        ("a.JPG", "application/octet-stream", "image"),  # discord.py uploads everything as octet-stream
        ("scan.pdf", None, "pdf"),
        ("notes.txt", "text/plain; charset=utf-8", "text"),
        ("Dockerfile", None, "text"),
        ("data.json", "application/json", "text"),
        ("main.rs", "application/octet-stream", "text"),
        ("tool.zip", "application/zip", "other"),
        ("a.out", "application/octet-stream", "other"),
    ],
)
def test_attachment_kinds(name: str, content_type: str | None, kind: str) -> None:
    assert kind_of(name, content_type) == kind


def test_error_texts() -> None:
    assert explain(OpenCodeUnavailable("down")) == UNREACHABLE_TEXT
    assert explain(OpenCodeTimeout("slow")) == UNREACHABLE_TEXT
    assert (
        explain(OpenCodeBadRequest(400, "BadRequest", "no such model")) == "OpenCode refused: no such model"
    )
    assert explain(UnknownThread("x")) == NO_SESSION_TEXT
    assert explain(RuntimeError("bug")) is None
    wrapped = app_commands.CommandInvokeError.__new__(app_commands.CommandInvokeError)
    wrapped.original = UnknownThread("x")
    assert isinstance(unwrap(wrapped), UnknownThread)


def test_question_drafts_collect_every_part() -> None:
    request = QuestionRequest("que_1", "ses_1", ({"question": "a"}, {"question": "b"}), 0.0)
    drafts = QuestionDrafts()
    assert drafts.choose(request, 1, ["B"]) is None
    assert drafts.typed(request, "typed") == [["typed"], ["B"]]
    assert drafts.choose(request, 0, ["A"]) == [["A"], ["B"]]
    drafts.forget("que_1")
    assert drafts.typed(request, "t") == [["t"], ["t"]]
