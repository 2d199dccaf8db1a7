"""/context-usage, /session-id and /last-sessions, as a user sees them in Discord."""

from __future__ import annotations

import pytest

from kimaki_tui.bot.commands.insight import NO_SESSIONS_TEXT
from tests.bot.rig import BotRig, is_footer

pytestmark = pytest.mark.opencode


async def test_last_sessions_before_any(bot_rig: BotRig) -> None:
    reply = await (await bot_rig.users.owner.slash(bot_rig.channel, "last-sessions")).wait_response(15)
    assert reply.ephemeral and reply.content == NO_SESSIONS_TEXT


async def test_usage_id_and_recent_sessions(bot_rig: BotRig) -> None:
    owner = bot_rig.users.owner
    await bot_rig.user_says("owner", "REPLY: counted")
    thread = await bot_rig.wait_thread()
    await bot_rig.wait_bot_message(thread, is_footer)
    view = bot_rig.core.conversations.get(str(thread.id))
    assert view is not None and view.session_id is not None
    answer = [m.info for m in await bot_rig.core.history.messages(str(thread.id)) if m.info.is_assistant][-1]
    used = answer.tokens.input + answer.tokens.cache_read + answer.tokens.cache_write + answer.tokens.output

    usage = await (await owner.slash(thread, "context-usage")).wait_response(15)
    assert usage.ephemeral
    assert f"**Context**: {used:,} of 128,000 tokens ({round(100 * used / 128_000)}%)" in usage.content
    assert f"{answer.tokens.total:,} tokens over 1 answer(s), $0.0000" in usage.content
    assert "**Model**: fake/fake-model" in usage.content

    ident = await (await owner.slash(thread, "session-id")).wait_response(15)
    assert f"Session `{view.session_id}` in `{view.directory}`" in ident.content

    recent = await (await owner.slash(bot_rig.channel, "last-sessions")).wait_response(15)
    assert recent.content.splitlines()[0] == "**Recent sessions**"
    assert recent.content.splitlines()[1].startswith(f"<#{thread.id}> · {bot_rig.project_dir.name} · idle · ")
