"""Richer prompts through the real bot, the Discord twin and real OpenCode: a reply carries the
message it answers, a forward the forwarded message, a link preview its text and a poll its
question and answers — what the scripted model received is checked, not just what was posted."""

from __future__ import annotations

import uuid

from kimaki_tui.testing.discord_twin import Channel
from kimaki_tui.testing.scripted_model import ScriptedModel, latest_user_text
from tests.bot.rig import BotRig, is_footer


def received(model: ScriptedModel, needle: str) -> list[str]:
    """The latest user texts of the model's requests that contain `needle`."""
    texts = [latest_user_text(r.get("messages", [])) for r in model.requests if r.get("tools")]
    return [t for t in texts if needle in t]


async def first_turn(rig: BotRig, text: str) -> Channel:
    await rig.user_says("owner", text)
    thread = await rig.wait_thread(predicate=lambda t: t.name == text)
    await rig.wait_bot_message(thread, is_footer, timeout=60)
    return thread


async def test_a_reply_carries_the_message_it_answers(bot_rig: BotRig, scripted_model: ScriptedModel) -> None:
    marker = uuid.uuid4().hex[:8]
    thread = await first_turn(bot_rig, f"REPLY: use the blue theme {marker}")
    answer = await bot_rig.wait_bot_message(thread, lambda m: m.content.startswith("⬥ use the blue"))
    footer = bot_rig.bot_messages(thread)[-1]
    await bot_rig.users.owner.send(thread, f"and for the docs too {marker}", reply_to=answer)
    await bot_rig.wait_bot_message(thread, is_footer, timeout=60, after=footer)
    [text] = received(scripted_model, f"and for the docs too {marker}")
    assert text == f"In reply to Kimaki:\n> ⬥ use the blue theme {marker}\n\nand for the docs too {marker}"


async def test_a_forward_starts_a_thread_with_the_forwarded_text(
    bot_rig: BotRig, scripted_model: ScriptedModel
) -> None:
    marker = uuid.uuid4().hex[:8]
    elsewhere = bot_rig.guild.add_text_channel(f"general-{marker}")
    original = await bot_rig.users.admin.send(elsewhere, f"The build on main fails since {marker}")
    await bot_rig.users.owner.forward(bot_rig.channel, original)
    thread = await bot_rig.wait_thread(predicate=lambda t: "Forwarded message" in t.name)
    await bot_rig.wait_bot_message(thread, is_footer, timeout=60)
    [text] = received(scripted_model, marker)
    assert text == f"Forwarded message:\n> The build on main fails since {marker}"


async def test_a_poll_and_a_link_preview_are_described(
    bot_rig: BotRig, scripted_model: ScriptedModel
) -> None:
    marker = uuid.uuid4().hex[:8]
    thread = await first_turn(bot_rig, f"REPLY: ready {marker}")
    footer = bot_rig.bot_messages(thread)[-1]
    await bot_rig.users.owner.send_poll(thread, f"Which database {marker}?", ["SQLite", "Postgres"])
    footer_2 = await bot_rig.wait_bot_message(thread, is_footer, timeout=60, after=footer)
    [poll] = received(scripted_model, f"Which database {marker}?")
    assert poll == f"Poll (one answer may be chosen): Which database {marker}?\n1. SQLite\n2. Postgres"

    url = "https://example.com/r"
    preview = {"type": "article", "title": "Release notes", "url": url, "description": "v2"}
    await bot_rig.users.owner.send(thread, f"see https://example.com/r {marker}", link_previews=[preview])
    await bot_rig.wait_bot_message(thread, is_footer, timeout=60, after=footer_2)
    [text] = received(scripted_model, f"see https://example.com/r {marker}")
    assert text == (
        f"Link preview:\n> Release notes (https://example.com/r)\n> v2\n\nsee https://example.com/r {marker}"
    )
