"""Thinking levels (model variants) end to end: /model's level step, /model-variant, and the level
OpenCode really sent to the scripted model (`reasoning_effort` in its request body).

The project's own opencode.json adds "fake-thinker", a fake model with two variants, so the shared
OpenCode server is not reconfigured for anyone else.
"""

from __future__ import annotations

import json
import uuid

import pytest

from kimaki_tui.testing.scripted_model import ScriptedModel, latest_user_text
from tests.bot.rig import BotRig, is_footer
from tests.commands.test_prefs import ask, option_values, pick, request_for

pytestmark = pytest.mark.opencode

THINKER = {
    "name": "Fake Thinker",
    "tool_call": True,
    "limit": {"context": 64000, "output": 2048},
    "variants": {"low": {"reasoningEffort": "low"}, "high": {"reasoningEffort": "high"}},
}


async def add_thinker(rig: BotRig) -> None:
    config = {"provider": {"fake": {"models": {"fake-thinker": THINKER}}}}
    (rig.project_dir / "opencode.json").write_text(json.dumps(config))
    await rig.core.client.dispose_instance(rig.project_dir)


async def test_model_without_levels_says_so(bot_rig: BotRig) -> None:
    await add_thinker(bot_rig)
    reply = await (await bot_rig.users.owner.slash(bot_rig.channel, "model-variant")).wait_response(15)
    assert reply.ephemeral
    assert reply.content == (
        "OpenCode's default model has no thinking levels (variants) to choose from in this OpenCode."
    )


async def test_levels_from_model_and_model_variant(bot_rig: BotRig, scripted_model: ScriptedModel) -> None:
    marker = uuid.uuid4().hex[:8]
    await add_thinker(bot_rig)
    # /model: a model with levels asks for one, then for the scope of both.
    reply = await (await bot_rig.users.owner.slash(bot_rig.channel, "model")).wait_response(15)
    assert reply.message is not None
    menu = await pick(bot_rig, reply.message, "kimaki:model:p", "fake")
    menu = await pick(bot_rig, menu, "kimaki:model:m:fake", "fake/fake-thinker")
    assert menu.content == "Model `fake/fake-thinker` has thinking levels — pick one:"
    assert option_values(menu) == ["-", "low", "high"]
    menu = await pick(bot_rig, menu, "kimaki:model:v:fake/fake-thinker", "high")
    assert option_values(menu) == ["channel", "global"]
    done = await pick(bot_rig, menu, "kimaki:model:vs:high:fake/fake-thinker", "channel")
    assert done.content.startswith("✅ Model `fake/fake-thinker` (thinking `high`) for <#")
    await ask(bot_rig, bot_rig.channel, f"REPLY: deep-{marker}")
    sent = request_for(scripted_model, f"REPLY: deep-{marker}")
    assert (sent["model"], sent.get("reasoning_effort")) == ("fake-thinker", "high")

    # /model-variant in the thread: a level for this session only.
    thread = await bot_rig.wait_thread(predicate=lambda t: t.name == f"REPLY: deep-{marker}")
    reply = await (await bot_rig.users.owner.slash(thread, "model-variant")).wait_response(15)
    assert reply.message is not None
    assert reply.content == "Model `fake/fake-thinker`, thinking level: `high`. Pick a level:"
    scope = await pick(bot_rig, reply.message, "kimaki:variant:v", "low")
    assert option_values(scope) == ["session", "channel", "global"]
    done = await pick(bot_rig, scope, "kimaki:variant:scope:low", "session")
    assert done.content == "✅ Thinking level `low` for this session — the next message uses it."
    await ask(bot_rig, thread, f"REPLY: light-{marker}")
    assert request_for(scripted_model, f"REPLY: light-{marker}").get("reasoning_effort") == "low"
    # The channel keeps its own level for new threads.
    await ask(bot_rig, bot_rig.channel, f"REPLY: again-{marker}")
    assert request_for(scripted_model, f"REPLY: again-{marker}").get("reasoning_effort") == "high"

    # Back to the model's default in the session: no level is sent.
    reply = await (await bot_rig.users.owner.slash(thread, "model-variant")).wait_response(15)
    assert reply.message is not None
    scope = await pick(bot_rig, reply.message, "kimaki:variant:v", "-")
    done = await pick(bot_rig, scope, "kimaki:variant:scope:-", "session")
    assert done.content.startswith("✅ Thinking level the model's default for this session")
    await ask(bot_rig, thread, f"REPLY: plain-{marker}")
    assert "reasoning_effort" not in request_for(scripted_model, f"REPLY: plain-{marker}")


def efforts(model: ScriptedModel, text: str) -> list[str | None]:
    """The levels of the turns (tool-carrying requests) whose newest user text is `text`."""
    return [
        b.get("reasoning_effort")
        for b in model.requests
        if b.get("tools") and latest_user_text(b.get("messages", [])) == text
    ]


async def test_a_level_chosen_while_a_turn_runs_reruns_its_prompt(
    bot_rig: BotRig, scripted_model: ScriptedModel
) -> None:
    marker = uuid.uuid4().hex[:8]
    await add_thinker(bot_rig)
    reply = await (await bot_rig.users.owner.slash(bot_rig.channel, "model")).wait_response(15)
    assert reply.message is not None
    menu = await pick(bot_rig, reply.message, "kimaki:model:p", "fake")
    menu = await pick(bot_rig, menu, "kimaki:model:m:fake", "fake/fake-thinker")
    menu = await pick(bot_rig, menu, "kimaki:model:v:fake/fake-thinker", "low")
    await pick(bot_rig, menu, "kimaki:model:vs:low:fake/fake-thinker", "channel")

    slow = f"SLOW:8 long-{marker}"
    await bot_rig.user_says("owner", slow)
    thread = await bot_rig.wait_thread(predicate=lambda t: t.name == slow)
    await bot_rig.twin.wait_until(lambda: efforts(scripted_model, slow) == ["low"], 30, "the slow turn")
    reply = await (await bot_rig.users.owner.slash(thread, "model-variant")).wait_response(15)
    assert reply.message is not None
    scope = await pick(bot_rig, reply.message, "kimaki:variant:v", "high")
    done = await pick(bot_rig, scope, "kimaki:variant:scope:high", "session")
    assert done.content == (
        "✅ Thinking level `high` for this session.\n"
        "⏩ The running answer was stopped; its prompt runs again at this level."
    )
    await bot_rig.twin.wait_until(
        lambda: efforts(scripted_model, slow) == ["low", "high"], 30, "the rerun at the new level"
    )
    await bot_rig.wait_bot_message(thread, is_footer, timeout=60)
