"""/model and /agent end to end: menus (paged beyond 25 models), scopes, and the next prompt really
using the choice — as seen by the scripted model (`body["model"]`, the agent's system prompt).

The project's own opencode.json adds 31 models to the fake provider and a "reviewer" agent, so the
shared OpenCode server is not reconfigured for anyone else.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import pytest

from kimaki_tui.testing.discord_twin import Channel, Message
from kimaki_tui.testing.scripted_model import ScriptedModel, latest_user_text, message_text
from tests.bot.rig import BotRig, is_footer
from tests.harness import texts

pytestmark = pytest.mark.opencode

MODEL = {"tool_call": True, "limit": {"context": 64000, "output": 2048}}


async def project_config(rig: BotRig, marker: str) -> None:
    """Write the project's opencode.json; OpenCode reads it again once its instance is dropped (the
    bot read the project's agents and commands at start, so the instance exists already)."""
    directory = rig.project_dir
    models = {f"extra-{i:02d}": {"name": f"Extra {i:02d}", **MODEL} for i in range(30)}
    models["fake-model-2"] = {"name": "Fake Two", **MODEL}
    config = {
        "provider": {"fake": {"models": models}},
        "agent": {
            "reviewer": {"mode": "primary", "description": "Reviews", "prompt": f"You are REVIEWER-{marker}."}
        },
    }
    (directory / "opencode.json").write_text(json.dumps(config))
    await rig.core.client.dispose_instance(directory)


def request_for(model: ScriptedModel, text: str) -> Mapping[str, Any]:
    for body in model.requests:
        if body.get("tools") and latest_user_text(body.get("messages", [])) == text:
            return body
    raise AssertionError(f"the model never got {text!r}")


def system_prompt(body: Mapping[str, Any]) -> str:
    return "\n".join(message_text(m) for m in body.get("messages", []) if m.get("role") == "system")


def option_values(message: Message) -> list[str]:
    return [o["value"] for row in message.components for c in row["components"] for o in c.get("options", [])]


async def ask(rig: BotRig, where: Channel, text: str) -> None:
    """A message in a thread (or a channel: a new thread), answered with its footer."""
    await rig.user_says("owner", text, where)
    thread = where if where.is_thread else await rig.wait_thread(where, lambda t: t.name == text)
    got = await rig.wait_bot_message(thread, lambda m: text.removeprefix("REPLY: ") in m.content, 60)
    await rig.wait_bot_message(thread, is_footer, after=got, timeout=60)


async def pick(rig: BotRig, message: Message, custom_id: str, value: str) -> Message:
    """Choose in a menu; returns the message once the bot edited it (at once or after a defer)."""
    before = (message.content, message.components)
    inter = await rig.users.owner.select(message, custom_id, [value])
    await inter.wait_callback(15)
    await rig.twin.wait_until(lambda: (message.content, message.components) != before, 15, "a menu change")
    return message


def button_ids(message: Message) -> list[str]:
    return [c["custom_id"] for row in message.components for c in row["components"] if c["type"] == 2]


async def choose_model(rig: BotRig, where: Channel, model: str, scope: str) -> Message:
    """/model there: provider fake → `model` → `scope`; the confirmation."""
    reply = await (await rig.users.owner.slash(where, "model")).wait_response(15)
    assert reply.message is not None
    menu = await pick(rig, reply.message, "kimaki:model:p", "fake")
    menu = await pick(rig, menu, "kimaki:model:m:fake", model)
    return await pick(rig, menu, f"kimaki:model:scope:{model}", scope)


async def clear(rig: BotRig, done: Message, scope: str) -> Message:
    before = done.content
    inter = await rig.users.owner.click(done, f"kimaki:model:clear:{scope}")
    await inter.wait_callback(15)
    await rig.twin.wait_until(lambda: done.content != before, 15, "the cleared confirmation")
    return done


async def test_a_global_default_model_and_clearing_overrides(
    bot_rig: BotRig, scripted_model: ScriptedModel
) -> None:
    marker = uuid.uuid4().hex[:8]
    await project_config(bot_rig, marker)
    # From the channel: the scopes are this channel or every channel.
    reply = await (await bot_rig.users.owner.slash(bot_rig.channel, "model")).wait_response(15)
    assert reply.message is not None
    menu = await pick(bot_rig, reply.message, "kimaki:model:p", "fake")
    menu = await pick(bot_rig, menu, "kimaki:model:m:fake", "fake/extra-00")
    assert option_values(menu) == ["channel", "global"]
    global_done = await pick(bot_rig, menu, "kimaki:model:scope:fake/extra-00", "global")
    assert global_done.content.startswith("✅ Model `fake/extra-00` by default in every channel")
    assert button_ids(global_done) == ["kimaki:model:clear:global"]
    await ask(bot_rig, bot_rig.channel, f"REPLY: global-{marker}")
    assert request_for(scripted_model, f"REPLY: global-{marker}")["model"] == "extra-00"

    # A session's own model wins over the global default until its override is cleared.
    thread = await bot_rig.wait_thread(predicate=lambda t: t.name == f"REPLY: global-{marker}")
    session_done = await choose_model(bot_rig, thread, "fake/fake-model", "session")
    await ask(bot_rig, thread, f"REPLY: own-{marker}")
    assert request_for(scripted_model, f"REPLY: own-{marker}")["model"] == "fake-model"
    cleared = await clear(bot_rig, session_done, "session")
    assert cleared.content == "🧹 Cleared session override — the model now: `fake/extra-00`."
    assert cleared.components == []
    await ask(bot_rig, thread, f"REPLY: back-{marker}")
    assert request_for(scripted_model, f"REPLY: back-{marker}")["model"] == "extra-00"

    # Clearing the global default: new threads use OpenCode's default again.
    cleared = await clear(bot_rig, global_done, "global")
    assert cleared.content == "🧹 Cleared global default — the model now: OpenCode's default."
    await ask(bot_rig, bot_rig.channel, f"REPLY: default-{marker}")
    assert request_for(scripted_model, f"REPLY: default-{marker}")["model"] == "fake-model"


async def test_model_for_this_session(bot_rig: BotRig, scripted_model: ScriptedModel) -> None:
    marker = uuid.uuid4().hex[:8]
    await project_config(bot_rig, marker)
    await ask(bot_rig, bot_rig.channel, f"REPLY: before-{marker}")
    thread = await bot_rig.wait_thread(predicate=lambda t: t.name == f"REPLY: before-{marker}")
    assert request_for(scripted_model, f"REPLY: before-{marker}")["model"] == "fake-model"

    reply = await (await bot_rig.users.owner.slash(thread, "model")).wait_response(15)
    assert reply.ephemeral and reply.content == "Current model: OpenCode's default. Pick a provider:"
    assert reply.message is not None and option_values(reply.message) == ["fake"]
    menu = await pick(bot_rig, reply.message, "kimaki:model:p", "fake")
    assert menu.content == "Provider **fake** — pick a model:"
    first_page = option_values(menu)
    assert len(first_page) == 24 and first_page[-1] == "page:1" and "fake/fake-model" in first_page
    menu = await pick(bot_rig, menu, "kimaki:model:m:fake", "page:1")
    assert option_values(menu)[0] == "page:0" and "fake/fake-model-2" in option_values(menu)
    menu = await pick(bot_rig, menu, "kimaki:model:m:fake", "fake/fake-model-2")
    assert option_values(menu) == ["session", "channel", "global"]
    done = await pick(bot_rig, menu, "kimaki:model:scope:fake/fake-model-2", "session")
    assert done.content == "✅ Model `fake/fake-model-2` for this session — the next message uses it."
    assert button_ids(done) == ["kimaki:model:clear:session"]

    await ask(bot_rig, thread, f"REPLY: after-{marker}")
    assert request_for(scripted_model, f"REPLY: after-{marker}")["model"] == "fake-model-2"
    # Only this session: a new thread in the channel keeps the default.
    await ask(bot_rig, bot_rig.channel, f"REPLY: elsewhere-{marker}")
    assert request_for(scripted_model, f"REPLY: elsewhere-{marker}")["model"] == "fake-model"
    again = await (await bot_rig.users.owner.slash(thread, "model")).wait_response(15)
    assert again.content.startswith("Current model: `fake/fake-model-2`.")


async def test_agent_for_this_channel(bot_rig: BotRig, scripted_model: ScriptedModel) -> None:
    marker = uuid.uuid4().hex[:8]
    await project_config(bot_rig, marker)
    reply = await (await bot_rig.users.owner.slash(bot_rig.channel, "agent")).wait_response(15)
    assert reply.message is not None and reply.content == "Current agent: OpenCode's default. Pick an agent:"
    agents = option_values(reply.message)
    assert {"build", "plan", "reviewer"} <= set(agents)
    assert not {"compaction", "summary", "title", "general", "explore"} & set(agents)
    done = await pick(bot_rig, reply.message, "kimaki:agent:a", "reviewer")
    assert done.content.startswith(f"✅ Agent `reviewer` for <#{bot_rig.channel.id}>")
    assert bot_rig.core.store.get_channel_pref(str(bot_rig.channel.id)).agent == "reviewer"

    await ask(bot_rig, bot_rig.channel, f"REPLY: reviewed-{marker}")
    reviewed = request_for(scripted_model, f"REPLY: reviewed-{marker}")
    assert f"You are REVIEWER-{marker}." in system_prompt(reviewed)

    # In a thread the scope is asked; "This session" overrides the channel's agent there.
    thread = await bot_rig.wait_thread(predicate=lambda t: t.name == f"REPLY: reviewed-{marker}")
    reply = await (await bot_rig.users.owner.slash(thread, "agent")).wait_response(15)
    assert reply.message is not None and reply.content.startswith("Current agent: `reviewer`.")
    scope = await pick(bot_rig, reply.message, "kimaki:agent:a", "build")
    done = await pick(bot_rig, scope, "kimaki:agent:scope:build", "session")
    assert done.content == "✅ Agent `build` for this session — the next message uses it."
    await ask(bot_rig, thread, f"REPLY: built-{marker}")
    assert "REVIEWER-" not in system_prompt(request_for(scripted_model, f"REPLY: built-{marker}"))


def model_runs(model: ScriptedModel, text: str) -> list[str]:
    """The models of the turns (tool-carrying requests) whose newest user text is `text`."""
    return [
        str(b["model"])
        for b in model.requests
        if b.get("tools") and latest_user_text(b.get("messages", [])) == text
    ]


async def test_a_model_chosen_while_a_turn_runs_reruns_its_prompt(
    bot_rig: BotRig, scripted_model: ScriptedModel
) -> None:
    marker = uuid.uuid4().hex[:8]
    await project_config(bot_rig, marker)
    slow = f"SLOW:8 long-{marker}"
    await bot_rig.user_says("owner", slow)
    thread = await bot_rig.wait_thread(predicate=lambda t: t.name == slow)
    runtime = bot_rig.core.conversations.runtime(str(thread.id))
    await bot_rig.twin.wait_until(
        lambda: model_runs(scripted_model, slow) == ["fake-model"], 30, "the slow turn"
    )

    done = await choose_model(bot_rig, thread, "fake/extra-00", "session")
    assert done.content == (
        "✅ Model `fake/extra-00` for this session.\n"
        "⏩ The running answer was stopped; its prompt runs again with this model."
    )
    # The same prompt ran again, now on the chosen model, to its end.
    await bot_rig.twin.wait_until(
        lambda: model_runs(scripted_model, slow) == ["fake-model", "extra-00"],
        30,
        "the rerun on the new model",
    )
    await bot_rig.wait_bot_message(thread, is_footer, timeout=60)
    await bot_rig.wait_idle(thread)
    assert runtime.session_id is not None
    received = await bot_rig.core.client.messages(runtime.session_id, runtime.directory)
    users = [m for m in received if m.role == "user"]
    assert [(m.info.model_id, " ".join(texts(m))) for m in users][-1] == ("extra-00", slow)
