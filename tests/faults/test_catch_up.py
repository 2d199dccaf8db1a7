"""Messages sent while kimaki was down, or while its gateway session was lost for good, are found at
the next session (from the persisted per-channel watermark) and answered once, in order, with a
word in the thread that they were picked up late."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.presentation.notices import LATE_NOTICE
from kimaki_tui.settings.tree import SessionSettings
from kimaki_tui.testing.discord_twin.model import Channel
from tests.bot.rig import BotRig
from tests.core_rig import CoreRig
from tests.faults.restart import after_a_crash

pytestmark = pytest.mark.opencode

QUEUE = SessionSettings(busy_policy="queue")


def answers(rig: BotRig, thread: Channel) -> list[str]:
    return [m.content for m in rig.bot_messages(thread) if m.content.startswith("⬥ ")]


def late_notices(rig: BotRig, thread: Channel) -> int:
    return sum(m.content == LATE_NOTICE for m in rig.bot_messages(thread))


async def answered_thread(rig: BotRig, text: str) -> Channel:
    await rig.user_says("owner", f"REPLY: {text}")
    thread = await rig.wait_thread(predicate=lambda c: c.name == f"REPLY: {text}")
    await rig.wait_bot_message(thread, lambda m: m.content == f"⬥ {text}", timeout=60)
    await rig.wait_idle(thread, timeout=60)
    return thread


async def test_messages_sent_while_kimaki_was_down_are_answered_once_in_order_after_a_restart(
    make_bot_rig: Callable[..., AbstractAsyncContextManager[BotRig]], opencode_client: OpenCodeClient
) -> None:
    async with make_bot_rig(sessions=QUEUE) as rig:
        thread = await answered_thread(rig, "before")

        async def users_post_meanwhile() -> None:
            await rig.user_says("owner", "REPLY: missed 1", thread)
            await rig.user_says("owner", "REPLY: missed 2", thread)
            await rig.user_says("owner", "REPLY: a new thread while down")

        async with after_a_crash(rig, opencode_client, users_post_meanwhile, options=QUEUE):
            new = await rig.wait_thread(predicate=lambda c: c.name == "REPLY: a new thread while down")
            await rig.wait_bot_message(new, lambda m: m.content == "⬥ a new thread while down", timeout=60)
            await rig.wait_bot_message(thread, lambda m: m.content == "⬥ missed 2", timeout=60)
            await rig.wait_idle(thread, timeout=60)
            await rig.wait_idle(new, timeout=60)
            assert answers(rig, thread) == ["⬥ before", "⬥ missed 1", "⬥ missed 2"]
            assert late_notices(rig, thread) == 1 and late_notices(rig, new) == 1
        # Another start reads nothing again: the next message is the next answer (a message read
        # twice would be answered before it: a thread's messages are handled in order).
        async with after_a_crash(rig, opencode_client, options=QUEUE):
            await rig.user_says("owner", "REPLY: after", thread)
            await rig.wait_bot_message(thread, lambda m: m.content == "⬥ after", timeout=60)
            await rig.wait_idle(thread, timeout=60)
        assert answers(rig, thread) == ["⬥ before", "⬥ missed 1", "⬥ missed 2", "⬥ after"]
        assert len(rig.twin.threads(rig.channel)) == 2


async def test_a_thread_archived_while_kimaki_was_down_is_caught_up(
    make_bot_rig: Callable[..., AbstractAsyncContextManager[BotRig]], opencode_client: OpenCodeClient
) -> None:
    async with make_bot_rig(sessions=QUEUE) as rig:
        thread = await answered_thread(rig, "before")
        other = await answered_thread(rig, "archived long ago")
        rig.guild.archive_thread(other)

        async def user_posts_then_discord_archives_the_thread() -> None:
            await rig.user_says("owner", "REPLY: missed before archiving", thread)
            rig.guild.archive_thread(thread)  # a day without activity, or a moderator

        async with after_a_crash(
            rig, opencode_client, user_posts_then_discord_archives_the_thread, options=QUEUE
        ):
            await rig.wait_bot_message(thread, lambda m: m.content == "⬥ missed before archiving", timeout=60)
            await rig.wait_idle(thread, timeout=60)
            assert answers(rig, thread) == ["⬥ before", "⬥ missed before archiving"]
            assert late_notices(rig, thread) == 1
            assert not thread.archived  # answering brought it back
        assert answers(rig, other) == ["⬥ archived long ago"] and other.archived


async def test_messages_lost_with_a_gateway_session_that_could_not_resume_are_answered(
    make_bot_rig: Callable[..., AbstractAsyncContextManager[BotRig]],
) -> None:
    async with make_bot_rig(sessions=QUEUE) as rig:
        thread = await answered_thread(rig, "before")
        identified = sum(c.kind == "identify" for c in rig.twin.gateway_connections)
        async with rig.twin.gateway_outage(resumable=False):
            await rig.user_says("owner", "REPLY: in the gap", thread)
        await rig.wait_bot_message(thread, lambda m: m.content == "⬥ in the gap", timeout=60)
        await rig.user_says("owner", "REPLY: after the gap", thread)
        await rig.wait_bot_message(thread, lambda m: m.content == "⬥ after the gap", timeout=60)
        await rig.wait_idle(thread, timeout=60)
        assert answers(rig, thread) == ["⬥ before", "⬥ in the gap", "⬥ after the gap"]
        assert late_notices(rig, thread) == 1
        assert sum(c.kind == "identify" for c in rig.twin.gateway_connections) == identified + 1


async def test_catch_up_answers_only_the_newest_messages_it_is_allowed(
    make_bot_rig: Callable[..., AbstractAsyncContextManager[BotRig]], opencode_client: OpenCodeClient
) -> None:
    async with make_bot_rig(sessions=QUEUE, catch_up_messages=2) as rig:
        thread = await answered_thread(rig, "before")

        async def users_post_meanwhile() -> None:
            for n in range(1, 4):
                await rig.user_says("owner", f"REPLY: missed {n}", thread)

        async with after_a_crash(rig, opencode_client, users_post_meanwhile, options=QUEUE):
            await rig.wait_bot_message(thread, lambda m: m.content == "⬥ missed 3", timeout=60)
            await rig.wait_idle(thread, timeout=60)
        assert answers(rig, thread) == ["⬥ before", "⬥ missed 2", "⬥ missed 3"]


async def test_threads_from_before_watermarks_existed_are_not_answered_again(
    make_bot_rig: Callable[..., AbstractAsyncContextManager[BotRig]], opencode_client: OpenCodeClient
) -> None:
    async with make_bot_rig(sessions=QUEUE) as rig:
        thread = await answered_thread(rig, "before")
        await rig.user_says("owner", "REPLY: in the thread", thread)
        await rig.wait_bot_message(thread, lambda m: m.content == "⬥ in the thread", timeout=60)
        await rig.wait_idle(thread, timeout=60)
        path = rig.core.store.path

        async def upgrade_from_an_older_kimaki() -> None:
            with contextlib.closing(sqlite3.connect(path)) as db, db:
                db.execute("DELETE FROM watermarks")

        async with after_a_crash(rig, opencode_client, upgrade_from_an_older_kimaki, options=QUEUE):
            await rig.user_says("owner", "REPLY: after", thread)
            await rig.wait_bot_message(thread, lambda m: m.content == "⬥ after", timeout=60)
            await rig.wait_idle(thread, timeout=60)
        assert answers(rig, thread) == ["⬥ before", "⬥ in the thread", "⬥ after"]
        assert late_notices(rig, thread) == 0


async def test_a_message_in_a_channel_linked_while_the_bot_was_away_is_answered_when_it_connects(
    make_bot_rig: Callable[..., AbstractAsyncContextManager[BotRig]], opencode_client: OpenCodeClient
) -> None:
    """`kimaki add-channel` (or the wizard, or the demo) links a channel before the bot connects,
    and someone posts there at once: the first connection reads the channel from its link on."""
    async with make_bot_rig(sessions=QUEUE) as rig:
        await answered_thread(rig, "before")
        new = rig.guild.add_text_channel("linked-later", category=rig.category)

        async def link_then_post(core: CoreRig) -> None:
            core.core.projects.link(str(new.id), str(rig.guild.id), str(rig.project_dir))
            await rig.user_says("owner", "REPLY: sent right after the link", new)

        async with after_a_crash(rig, opencode_client, options=QUEUE, before_the_bot=link_then_post):
            thread = await rig.wait_thread(
                new, predicate=lambda c: c.name == "REPLY: sent right after the link"
            )
            await rig.wait_bot_message(
                thread, lambda m: m.content == "⬥ sent right after the link", timeout=60
            )
            await rig.wait_idle(thread, timeout=60)
            assert late_notices(rig, thread) == 1
