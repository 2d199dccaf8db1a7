"""The context block, with the real bot, real OpenCode and the scripted model: the first prompt of
a session tells the agent who writes (Discord name and id), in which thread and channel, what the
Discord tools do and how to hand work on with `kimaki send`; a later prompt says who writes only
when the author changed; none of it shows in the thread. A session started by one of OpenCode's
commands gets the same context as a message of its own stored just before the command."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from kimaki_tui.testing.discord_twin import Channel
from kimaki_tui.testing.scripted_model import ScriptedModel, message_text
from tests.bot.rig import BotRig, is_footer
from tests.bot.test_workflow_commands import add_workflows

pytestmark = pytest.mark.opencode


def sent_with(model: ScriptedModel, prompt: str) -> str:
    """The whole text (synthetic parts included) of the user message that carried `prompt`."""
    for body in reversed(model.requests):
        if not body.get("tools"):
            continue  # the title request
        messages: Sequence[Mapping[str, Any]] = body.get("messages") or []
        users = [message_text(m) for m in messages if m.get("role") == "user"]
        if users and prompt in users[-1]:
            return users[-1]
    raise AssertionError(f"the model never got {prompt!r}")


async def _say(rig: BotRig, user: str, text: str, thread: Channel) -> None:
    said = await rig.user_says(user, text, thread)
    await rig.wait_bot_message(thread, lambda m: m.content == f"⬥ {text.removeprefix('REPLY: ')}", after=said)
    await rig.wait_idle(thread)


async def test_the_agent_knows_who_writes_where_and_what_it_can_do(
    bot_rig: BotRig, scripted_model: ScriptedModel
) -> None:
    rig = bot_rig
    await rig.user_says("owner", "REPLY: first")
    thread = await rig.wait_thread()
    await rig.wait_bot_message(thread, is_footer)
    await rig.wait_idle(thread)
    intro = sent_with(scripted_model, "REPLY: first")
    owner = rig.users.owner
    assert f"This message is from owner (Discord user id {owner.id}), in thread {thread.id}" in intro
    assert f"project channel {rig.channel.id}" in intro
    for tool in ("kimaki_file_upload", "kimaki_send_file", "kimaki_action_buttons", "kimaki_sleep"):
        assert tool in intro
    assert f"kimaki send --channel {rig.channel.id}" in intro

    await _say(rig, "owner", "REPLY: second", thread)
    assert "system-reminder" not in sent_with(scripted_model, "REPLY: second")  # same author: nothing
    await _say(rig, "kimaki_user", "REPLY: third", thread)
    changed = sent_with(scripted_model, "REPLY: third")
    assert f"The next message is from kimaki-user (Discord user id {rig.users.kimaki_user.id})" in changed
    assert "kimaki_file_upload" not in changed  # the block itself comes once

    shown = rig.transcript(thread)
    assert "system-reminder" not in shown and "kimaki_file_upload" not in shown and "user id" not in shown


def context_before(model: ScriptedModel, prompt: str) -> str:
    """The user message stored just before the one that carried `prompt` (a command's context)."""
    for body in reversed(model.requests):
        if not body.get("tools"):
            continue
        messages: Sequence[Mapping[str, Any]] = body.get("messages") or []
        users = [message_text(m) for m in messages if m.get("role") == "user"]
        if users and prompt in users[-1]:
            return users[-2] if len(users) > 1 else ""
    raise AssertionError(f"the model never got {prompt!r}")


async def test_a_command_that_starts_a_session_carries_the_context_too(
    project_dir: Path,
    make_bot_rig: Callable[..., AbstractAsyncContextManager[BotRig]],
    scripted_model: ScriptedModel,
) -> None:
    add_workflows(project_dir)
    async with make_bot_rig() as rig:
        starter = await rig.user_says("owner", "/greet Carol")  # OpenCode's command route
        thread = await rig.wait_thread(predicate=lambda t: t.id == starter.id)
        await rig.wait_bot_message(thread, lambda m: m.content == "⬥ greeted Carol", timeout=60)
        await rig.wait_idle(thread)
        intro = context_before(scripted_model, "REPLY: greeted Carol")
        assert (
            f"This message is from owner (Discord user id {rig.users.owner.id}), in thread {thread.id}"
            in intro
        )
        assert "kimaki_action_buttons" in intro and f"kimaki send --channel {rig.channel.id}" in intro

        said = await rig.user_says("kimaki_user", "/greet Dan", thread)
        await rig.wait_bot_message(thread, lambda m: m.content == "⬥ greeted Dan", timeout=60, after=said)
        await rig.wait_idle(thread)
        changed = context_before(scripted_model, "REPLY: greeted Dan")
        assert f"The next message is from kimaki-user (Discord user id {rig.users.kimaki_user.id})" in changed
        assert "kimaki_file_upload" not in changed  # the block itself came once

        said = await rig.user_says("kimaki_user", "/greet Eve", thread)  # same author: no reminder
        await rig.wait_bot_message(thread, lambda m: m.content == "⬥ greeted Eve", timeout=60, after=said)
        await rig.wait_idle(thread)
        assert "system-reminder" not in context_before(scripted_model, "REPLY: greeted Eve")

        shown = rig.transcript(thread)
        assert "system-reminder" not in shown and "user id" not in shown
