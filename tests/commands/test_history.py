"""/fork, /undo, /redo, /compact and /share end to end (twin + real OpenCode + scripted model)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from kimaki_tui.bot.commands.history import NOTHING_TO_REDO, NOTHING_TO_UNDO
from kimaki_tui.testing.discord_twin import Channel
from kimaki_tui.testing.scripted_model import ScriptedModel
from tests.bot.rig import BotRig, is_footer
from tests.harness import texts

pytestmark = pytest.mark.opencode


async def ask(rig: BotRig, where: Channel, text: str, expect: str) -> Channel:
    """Send `text` (in a channel: a new thread) and wait for `expect` and the turn's footer."""
    await rig.user_says("owner", text, where)
    thread = where if where.is_thread else await rig.wait_thread(where, lambda t: t.name == text)
    got = await rig.wait_bot_message(thread, lambda m: expect in m.content, 60)
    await rig.wait_bot_message(thread, is_footer, after=got, timeout=60)
    return thread


async def command(rig: BotRig, thread: Channel, name: str) -> str:
    return (await (await rig.users.owner.slash(thread, name)).wait_response(30)).content


async def test_fork_from_a_chosen_message(bot_rig: BotRig) -> None:
    m = uuid.uuid4().hex[:8]
    thread = await ask(bot_rig, bot_rig.channel, f"REPLY: alpha-{m}", f"alpha-{m}")
    for word in ("beta", "gamma"):
        await ask(bot_rig, thread, f"REPLY: {word}-{m}", f"{word}-{m}")
    runtime = bot_rig.core.conversations.runtime(str(thread.id))
    assert runtime.session_id is not None
    reply = await (await bot_rig.users.owner.slash(thread, "fork")).wait_response(15)
    assert reply.ephemeral and reply.message is not None
    options = reply.message.components[0]["components"][0]["options"]
    assert [o["label"] for o in options] == [f"REPLY: {w}-{m}" for w in ("gamma", "beta", "alpha")]
    beta = options[1]["value"]
    menu = reply.message

    picked = await bot_rig.users.owner.select(menu, f"kimaki:fork:{runtime.session_id}", [beta])
    await picked.wait_callback(15)
    fork = await bot_rig.wait_thread(predicate=lambda t: t.name.startswith("Fork:"))
    await bot_rig.twin.wait_until(lambda: "Forked into" in menu.content, 15, "the menu to close")
    assert reply.message.content == f"Forked into <#{fork.id}>." and reply.message.components == []
    forked = bot_rig.core.conversations.runtime(str(fork.id))
    assert forked.session_id not in (None, runtime.session_id) and forked.directory == runtime.directory
    messages = await bot_rig.core.client.messages(forked.session_id or "", runtime.directory)
    shown = [t for msg in messages for t in texts(msg)]
    assert shown == [f"REPLY: alpha-{m}", f"alpha-{m}"]  # everything before the chosen message
    posted = [msg.content for msg in bot_rig.bot_messages(fork)]
    assert posted[0].startswith(f"**Forked** from <#{thread.id}>") and posted[1] == f"alpha-{m}"
    assert bot_rig.users.owner.id in fork.thread_members

    await ask(bot_rig, fork, f"REPLY: delta-{m}", f"delta-{m}")
    original = await bot_rig.core.client.messages(runtime.session_id, runtime.directory)
    assert f"REPLY: delta-{m}" not in [t for msg in original for t in texts(msg)]


async def test_undo_and_redo_restore_files(bot_rig: BotRig) -> None:
    m = uuid.uuid4().hex[:8]
    target = bot_rig.project_dir / f"undo-{m}.txt"
    thread = await ask(bot_rig, bot_rig.channel, f"WRITE_FILE: undo-{m}.txt hello", "Tool said")
    assert target.read_text() == "hello"
    assert await command(bot_rig, thread, "redo") == NOTHING_TO_REDO

    undone = await command(bot_rig, thread, "undo")
    assert undone.startswith("↩️ **Undone**: the last turn and its file changes by owner.")
    assert "```diff" in undone and f"undo-{m}.txt" in undone
    assert not target.exists()
    assert await command(bot_rig, thread, "undo") == NOTHING_TO_UNDO

    redone = await command(bot_rig, thread, "redo")
    assert redone == "↪️ **Redone** by owner — the session is back to its latest state."
    assert target.read_text() == "hello"
    assert await command(bot_rig, thread, "redo") == NOTHING_TO_REDO

    # Undo, then a new message: the undone turn is gone for good and the file stays deleted.
    await command(bot_rig, thread, "undo")
    await ask(bot_rig, thread, f"REPLY: instead-{m}", f"instead-{m}")
    assert not target.exists()
    runtime = bot_rig.core.conversations.runtime(str(thread.id))
    messages = await bot_rig.core.client.messages(runtime.session_id or "", runtime.directory)
    assert [t for msg in messages for t in texts(msg)] == [f"REPLY: instead-{m}", f"instead-{m}"]


async def test_share_compact_and_places(bot_rig: BotRig, scripted_model: ScriptedModel) -> None:
    m = uuid.uuid4().hex[:8]
    thread = await ask(bot_rig, bot_rig.channel, f"REPLY: shareable-{m}", f"shareable-{m}")
    shared = await command(bot_rig, thread, "share")
    assert shared.startswith("Sharing is turned off in OpenCode's configuration (`\"share\": \"disabled\"`)")

    compacted = await command(bot_rig, thread, "compact")
    assert compacted == "📦 Session **compacted** (summarized with `fake/fake-model`)."
    runtime = bot_rig.core.conversations.runtime(str(thread.id))
    messages = await bot_rig.core.client.messages(runtime.session_id or "", runtime.directory)
    assert any(msg.info.summary for msg in messages if msg.info.is_assistant)
    await ask(bot_rig, thread, f"REPLY: still-{m}", f"still-{m}")

    for name in ("fork", "undo", "redo", "share", "compact"):
        outside = await (await bot_rig.users.owner.slash(bot_rig.channel, name)).wait_response()
        assert outside.ephemeral and outside.content == "Use this command inside a kimaki session thread."
    elsewhere = bot_rig.guild.add_text_channel("not-ours")
    owner = bot_rig.users.owner
    pending = [
        await owner.slash(elsewhere, "undo"),
        await owner.slash(elsewhere, "model"),
        await owner.slash(elsewhere, "new-worktree", name="x"),
    ]
    refused = await (await bot_rig.users.member.slash(thread, "undo")).wait_response()
    assert refused.ephemeral and "role" in refused.content
    await asyncio.sleep(1.0)
    assert all(inter.callback_type is None for inter in pending)  # not ours: no answer at all


async def test_commands_fit_discord(bot_rig: BotRig) -> None:
    synced = bot_rig.twin.commands(bot_rig.guild)
    names = {c.name for c in synced}
    assert {
        "create-new-project", "new-worktree", "merge-worktree", "model", "agent", "share", "fork",
        "undo", "redo", "restart-opencode-server", "compact", "upgrade-and-restart",
    } <= names
    assert len(synced) < 100 and all(len(c.schema["description"]) <= 100 for c in synced)
