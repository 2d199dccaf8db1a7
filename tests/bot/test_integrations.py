"""/mcp and /login with real OpenCode, the real bot and the Discord twin: the project's MCP server is
listed with its status and disconnected / connected again from its button (OpenCode's status
follows); an admin saves a provider's API key through the modal (OpenCode stores it; the key is
never shown or logged) or logs in through a provider's OAuth "code" or "auto" flow (offered by a test
plugin: offline OpenCode has no OAuth provider); people without the rights get a private "no"."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.testing.discord_twin import Message
from tests.bot.rig import BotRig, bot_rig_context, custom_ids
from tests.harness import FIXTURES

pytestmark = pytest.mark.opencode


@pytest.fixture
async def rig(
    project_dir: Path, make_bot_rig: Callable[..., AbstractAsyncContextManager[BotRig]]
) -> AsyncIterator[BotRig]:
    server = [sys.executable, str(FIXTURES / "mcp/prompt_server.py")]
    config = {"mcp": {"wizard": {"type": "local", "command": server}}}
    (project_dir / "opencode.json").write_text(json.dumps(config))
    async with make_bot_rig() as started:
        yield started


async def _statuses(rig: BotRig) -> dict[str, str]:
    return {s.name: s.status for s in await rig.core.client.mcp_servers(rig.project_dir)}


async def test_mcp_lists_the_servers_and_toggles_them(rig: BotRig) -> None:
    inter = await rig.users.owner.slash(rig.channel, "mcp")
    listing = await inter.wait_response(timeout=30)
    assert listing.ephemeral and "`wizard` — 🟢 connected" in listing.content
    message = listing.message
    assert message is not None and custom_ids(message) == ["kimaki:mcp:off:wizard"]
    await (await rig.users.owner.click(message, "kimaki:mcp:off:wizard")).wait_callback(30)
    await rig.twin.wait_until(lambda: "disconnected" in _content(rig, message), 30, "the edited list")
    assert await _statuses(rig) == {"wizard": "disabled"}
    assert custom_ids(_fresh(rig, message)) == ["kimaki:mcp:on:wizard"]
    await (await rig.users.owner.click(_fresh(rig, message), "kimaki:mcp:on:wizard")).wait_callback(30)
    await rig.twin.wait_until(lambda: "🟢 connected" in _content(rig, message), 30, "the server back")
    assert await _statuses(rig) == {"wizard": "connected"}


async def test_mcp_needs_access(rig: BotRig) -> None:
    refused = await (await rig.users.member.slash(rig.channel, "mcp")).wait_response(timeout=30)
    assert refused.ephemeral and "Kimaki" in refused.content and "wizard" not in refused.content


def _fresh(rig: BotRig, message: Message) -> Message:
    return next(m for m in rig.twin.messages(message.channel_id) if m.id == message.id)


def _content(rig: BotRig, message: Message) -> str:
    return _fresh(rig, message).content


@pytest.fixture
async def own_server(
    opencode_binary: str, spare_opencode_env: dict[str, str], tmp_path: Path
) -> AsyncIterator[OpenCodeSupervisor]:
    """A server of its own: a saved key must not reach the shared server's credentials."""
    supervisor = OpenCodeSupervisor(
        binary=opencode_binary, env=spare_opencode_env, cwd=tmp_path, health_timeout=60.0
    )
    await supervisor.start()
    yield supervisor
    await supervisor.aclose()


async def test_an_admin_saves_an_api_key_that_opencode_keeps(
    own_server: OpenCodeSupervisor,
    spare_opencode_env: dict[str, str],
    project_dir: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "sk-test-" + "x" * 12
    async with bot_rig_context(own_server.client, project_dir, tmp_path) as rig:
        refused = await (await rig.users.kimaki_user.slash(rig.channel, "login")).wait_response(timeout=30)
        assert refused.ephemeral and "Manage Server" in refused.content
        picker = (await (await rig.users.admin.slash(rig.channel, "login")).wait_response(timeout=30)).message
        assert picker is not None and custom_ids(picker) == ["kimaki:login:p"]
        await (await rig.users.admin.select(picker, "kimaki:login:p", ["fake"])).wait_callback(30)
        await rig.twin.wait_until(
            lambda: "kimaki:login:key:fake" in custom_ids(_fresh(rig, picker)), 30, "methods"
        )
        with caplog.at_level(logging.INFO):  # kimaki logs at INFO unless asked for DEBUG
            click = await rig.users.admin.click(_fresh(rig, picker), "kimaki:login:key:fake")
            submitted = await rig.users.admin.submit_modal(click, values={"key": secret})
            done = await submitted.wait_response(timeout=30)
        assert done.ephemeral and done.content.startswith("✅ API key saved for `fake`")
        stored = Path(spare_opencode_env["XDG_DATA_HOME"]) / "opencode/auth.json"
        assert json.loads(stored.read_text())["fake"] == {"type": "api", "key": secret}
        assert secret not in caplog.text
        assert all(secret not in m.content for m in rig.twin.messages(rig.channel))


@contextlib.contextmanager
def restored(stored: Path) -> Iterator[str | None]:
    """OpenCode's credentials file as it was before (the spare servers share it), put back after."""
    before = stored.read_text() if stored.exists() else None
    try:
        yield before
    finally:
        if before is None:
            stored.unlink(missing_ok=True)
        else:
            stored.write_text(before)


async def _pick_provider(rig: BotRig, provider: str) -> Message:
    picker = (await (await rig.users.admin.slash(rig.channel, "login")).wait_response(timeout=30)).message
    assert picker is not None
    await (await rig.users.admin.select(picker, "kimaki:login:p", [provider])).wait_callback(30)
    await rig.twin.wait_until(
        lambda: f"kimaki:login:key:{provider}" in custom_ids(_fresh(rig, picker)), 30, "methods"
    )
    return _fresh(rig, picker)


async def test_an_admin_logs_in_through_a_providers_oauth_code_flow(
    own_server: OpenCodeSupervisor, spare_opencode_env: dict[str, str], project_dir: Path, tmp_path: Path
) -> None:
    # A project plugin offers the OAuth method (offline OpenCode has no provider with one).
    (project_dir / ".opencode/plugin").mkdir(parents=True)
    shutil.copy(FIXTURES / "plugins/fake_login.js", project_dir / ".opencode/plugin/fake_login.js")
    async with bot_rig_context(own_server.client, project_dir, tmp_path) as rig:
        methods = await _pick_provider(rig, "fake")
        assert custom_ids(methods) == [
            "kimaki:login:oauth:0:fake",
            "kimaki:login:oauth:1:fake",
            "kimaki:login:key:fake",
        ]
        assert "Log in with Fake" in str(methods.components)
        started = await (await rig.users.admin.click(methods, "kimaki:login:oauth:0:fake")).wait_response(30)
        assert started.ephemeral
        assert "<http://127.0.0.1:9/fake/authorize?client=kimaki-test>" in started.content
        assert "Paste the code the Fake page shows" in started.content
        link = started.message
        assert link is not None and custom_ids(link) == ["kimaki:login:code:0:fake"]

        async def paste(code: str) -> str:
            click = await rig.users.admin.click(link, "kimaki:login:code:0:fake")
            submitted = await rig.users.admin.submit_modal(click, values={"code": code})
            return str((await submitted.wait_response(timeout=30)).content)

        stored = Path(spare_opencode_env["XDG_DATA_HOME"]) / "opencode/auth.json"
        with restored(stored) as before:
            assert await paste("wrong-code") == "OpenCode refused that code."
            assert (stored.read_text() if stored.exists() else None) == before  # nothing saved
            assert await paste("good-code") == "✅ Logged in to `fake`."  # the flow stayed open
            saved = json.loads(stored.read_text())["fake"]
            assert saved["type"] == "oauth" and saved["access"] == "fake-access"


async def test_an_admin_logs_in_through_a_providers_oauth_auto_flow(
    own_server: OpenCodeSupervisor, spare_opencode_env: dict[str, str], project_dir: Path, tmp_path: Path
) -> None:
    """The "auto" flow: kimaki shows the link, then waits for OpenCode to hear back from the browser
    (the test plugin waits for a file the test writes) and says when the login is stored."""
    (project_dir / ".opencode/plugin").mkdir(parents=True)
    shutil.copy(FIXTURES / "plugins/fake_login.js", project_dir / ".opencode/plugin/fake_login.js")
    stored = Path(spare_opencode_env["XDG_DATA_HOME"]) / "opencode/auth.json"
    async with bot_rig_context(own_server.client, project_dir, tmp_path) as rig:
        methods = await _pick_provider(rig, "fake")
        assert "Log in with Fake in the browser" in str(methods.components)
        click = await rig.users.admin.click(methods, "kimaki:login:oauth:1:fake")
        started = await click.wait_response(30)
        assert started.ephemeral and "<http://127.0.0.1:9/fake/device?client=kimaki-test>" in started.content
        assert "Approve kimaki on the Fake page" in started.content
        assert started.message is not None and custom_ids(started.message) == []  # nothing to paste
        assert not stored.exists() or "fake-auto-access" not in stored.read_text()  # kimaki waits
        with restored(stored):
            (project_dir / ".fake-login-approved").touch()  # the user approved in the browser
            finished = lambda: next((m for m in click.followups if m.content.startswith("✅")), None)  # noqa: E731
            done = await rig.twin.wait_until(finished, 60, "the login to finish")
            assert done.content == "✅ Logged in to `fake`." and done.ephemeral
            saved = json.loads(stored.read_text())["fake"]
            assert saved["type"] == "oauth" and saved["access"] == "fake-auto-access"
