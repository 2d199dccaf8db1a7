"""The agent's Discord tools wired as a run wires them (root/agent_tools.py), with the real bot on the
Discord twin and real OpenCode: the scripted model calls a kimaki tool, the thread shows the
buttons / upload prompt / file, a person answers in Discord, and the model gets the answer back.
`kimaki_sleep` is a scheduled task in the database that a new scheduler (a restarted kimaki) fires.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.widgets import Input

from kimaki_tui.agent_tools.opencode_config import server_entry
from kimaki_tui.agent_tools.server import AgentToolServer
from kimaki_tui.agent_tools.toolkit import SERVER_NAME, ToolLimits
from kimaki_tui.bot.scheduled import BotTaskSubmitter
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.stream import EventStream
from kimaki_tui.root.agent_tools import WAKE_TASK_NAME, AgentEndpoint, build_agent_tools, wake_prompt
from kimaki_tui.scheduling.scheduler import TaskScheduler
from kimaki_tui.screens.app import KimakiApp
from kimaki_tui.screens.model import ControlCenterModel
from kimaki_tui.testing.discord_twin import Channel, Message
from kimaki_tui.testing.scripted_model import ScriptedModel
from tests.bot.rig import BotRig, custom_ids, is_footer
from tests.harness import wait_until
from tests.screens.conftest import SIZE, until
from tests.screens.test_approvals import rows

pytestmark = pytest.mark.opencode

LIMITS = ToolLimits(upload_timeout=60, buttons_timeout=60)


@dataclass
class Tools:
    rig: BotRig
    server: AgentToolServer
    scheduler: TaskScheduler
    discord_up: bool = True  # False: the tools find no connected bot, as while Discord is down

    async def call(self, tool: str, arguments: Mapping[str, object]) -> Channel:
        """A new thread whose first prompt makes the scripted model call `tool`."""
        starter = await self.rig.user_says("owner", f"CALL_TOOL: {tool} {json.dumps(arguments)}")
        return await self.rig.wait_thread(predicate=lambda t: t.id == starter.id)

    async def tool_message(self, thread: Channel, prefix: str) -> Message:
        return await self.rig.wait_bot_message(thread, lambda m: m.content.startswith(prefix))

    async def answer(self, thread: Channel) -> str:
        """What the model said after the tool returned (it repeats the tool's first line)."""
        reply = await self.rig.wait_bot_message(thread, lambda m: "Tool said:" in m.content, timeout=60)
        return reply.content.split("Tool said: ", 1)[1]


@pytest.fixture
async def tools(bot_rig: BotRig, opencode_client: OpenCodeClient) -> AsyncIterator[Tools]:
    scheduler = TaskScheduler(bot_rig.core_rig.store, BotTaskSubmitter(lambda: bot_rig.bot))
    bot_rig.core.tasks.use_timers(scheduler)
    tools: Tools | None = None
    server, tracker = build_agent_tools(
        bot_rig.core,
        scheduler,
        lambda: bot_rig.bot if tools is None or tools.discord_up else None,
        AgentEndpoint.reserve(),
        LIMITS,
    )
    stream = EventStream(opencode_client, tracker.observe)
    streaming = asyncio.create_task(stream.run())
    await server.start()
    try:
        assert await stream.wait_connected(20)
        # The shared server cannot be respawned with the MCP server in its config (a run does that,
        # see test_agent_tools_spawn.py): add it to this project's instance instead.
        entry = server_entry(server.url, server.headers, LIMITS)
        await opencode_client.add_mcp_server(SERVER_NAME, entry, bot_rig.project_dir)
        tools = Tools(bot_rig, server, scheduler)
        yield tools
    finally:
        await scheduler.stop()
        await server.stop()
        streaming.cancel()
        await asyncio.gather(streaming, return_exceptions=True)


async def test_buttons_appear_in_the_thread_and_the_click_is_the_tool_result(tools: Tools) -> None:
    rig = tools.rig
    thread = await tools.call("kimaki_action_buttons", {"prompt": "Deploy now?", "buttons": ["Yes", "No"]})
    shown = await tools.tool_message(thread, "Deploy now?")
    ids = custom_ids(shown)
    assert len(ids) == 2 and all(i.startswith("kimaki:tool:") for i in ids)
    assert [c["label"] for row in shown.components for c in row["components"]] == ["Yes", "No"]
    # Someone without the Kimaki role cannot answer for the owner.
    refused = await (await rig.users.member.click(shown, ids[0])).wait_response()
    assert refused.ephemeral and "You need the **Kimaki** role" in refused.content
    assert shown.components  # still waiting for someone allowed
    await rig.users.owner.click(shown, ids[0])
    assert await tools.answer(thread) == "The user clicked: Yes"
    assert shown.components == [] and "chose **Yes**" in shown.content
    await rig.wait_bot_message(thread, is_footer)


async def test_a_subagents_buttons_show_in_its_parents_thread(tools: Tools) -> None:
    rig = tools.rig
    call = json.dumps({"prompt": "Ship it?", "buttons": ["Ship", "Wait"]})
    starter = await rig.user_says("owner", f"DELEGATE: CALL_TOOL: kimaki_action_buttons {call}")
    thread = await rig.wait_thread(predicate=lambda t: t.id == starter.id)
    shown = await tools.tool_message(thread, "Ship it?")  # asked by the task tool's child session
    await rig.users.owner.click(shown, custom_ids(shown)[1])
    # The subagent got the click as its tool result, and the parent the subagent's answer.
    assert await tools.answer(thread) == "Tool said: The user clicked: Wait"
    await rig.wait_bot_message(thread, is_footer)


async def test_a_file_from_the_project_is_posted_to_the_thread(tools: Tools) -> None:
    (tools.rig.project_dir / "report.txt").write_text("all green\n")
    thread = await tools.call("kimaki_send_file", {"path": "report.txt", "caption": "The report"})
    posted = await tools.tool_message(thread, "The report")
    assert [a.filename for a in posted.attachments] == ["report.txt"]
    assert posted.attachments[0].data == b"all green\n"
    assert (await tools.answer(thread)).startswith("Posted report.txt")


async def test_sleep_is_a_stored_wake_that_a_restarted_scheduler_fires(
    tools: Tools, scripted_model: ScriptedModel
) -> None:
    rig = tools.rig
    thread = await tools.call("kimaki_sleep", {"duration": "1h", "reason": "check the deploy"})
    assert (await tools.answer(thread)).startswith("Sleeping until")
    (task,) = [t for t in rig.core.tasks.all() if t.payload.get("name") == WAKE_TASK_NAME]
    assert task.payload["target_id"] == str(thread.id) and task.kind == "at"
    assert task.run_at is not None and task.run_at > datetime.now(UTC) + timedelta(minutes=59)
    await rig.wait_idle(thread)
    # kimaki restarts: a new bot and a new scheduler on the same database fire the wake when due.
    await tools.scheduler.stop()
    await rig.restart_bot()
    later = TaskScheduler(rig.core_rig.store, BotTaskSubmitter(lambda: rig.bot))
    later.online = True
    assert await later.run_due(task.run_at + timedelta(seconds=1)) == [task.id]
    wake = wake_prompt("check the deploy")
    await rig.twin.wait_for_message(thread, lambda m: m.content.endswith(wake), 10)

    def model_got_it() -> bool:
        return any(wake in json.dumps(r.get("messages"), ensure_ascii=False) for r in scripted_model.requests)

    await wait_until(model_got_it, 60, 0.1, "the model to get the wake prompt")


async def test_an_upload_prompt_opens_a_modal_and_the_files_land_in_the_project(tools: Tools) -> None:
    rig = tools.rig
    thread = await tools.call("kimaki_file_upload", {"prompt": "Send the logs", "max_files": 2})
    shown = await tools.tool_message(thread, "📎 Send the logs")
    (button,) = custom_ids(shown)
    click = await rig.users.owner.click(shown, button)
    files = [("app.log", b"boom\n", "text/plain"), ("my notes.txt", b"x", "text/plain")]
    await rig.users.owner.submit_modal(click, values={"files": files})
    assert await tools.answer(thread) == "The user uploaded 2 file(s), saved at:"
    uploads = rig.project_dir / "uploads"
    assert (uploads / "app.log").read_bytes() == b"boom\n"
    assert (uploads / "my_notes.txt").read_bytes() == b"x"
    assert shown.components == [] and "uploaded app.log, my_notes.txt" in shown.content


async def test_send_starts_a_session_in_another_project_channel_of_the_server(
    tools: Tools, tmp_path: Path
) -> None:
    rig = tools.rig
    other_dir = tmp_path / "other-project"
    other_dir.mkdir()
    other = rig.guild.add_text_channel("other-project", category=rig.category)
    rig.core.projects.link(str(other.id), str(rig.guild.id), str(other_dir))
    ask = {"channel": "#other-project", "prompt": "REPLY: hello from afar"}
    thread = await tools.call("kimaki_send", ask)
    assert (await tools.answer(thread)).startswith("Started a session in #other-project")
    started = await rig.wait_thread(other)
    await rig.wait_bot_message(started, lambda m: m.content == "⬥ hello from afar")
    missing = await tools.call("kimaki_send", {"channel": "nowhere", "prompt": "hi"})
    assert (await tools.answer(missing)).startswith("No project channel 'nowhere' in this server")


async def test_buttons_answered_in_the_control_center_settle_the_thread(tools: Tools) -> None:
    """The same request shows in Approvals; a click there is the tool result, and the thread's
    message loses its buttons and says who chose what, from where."""
    rig = tools.rig
    app = KimakiApp(ControlCenterModel(core=rig.core, settings=rig.settings))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        ship = {"prompt": "Ship it?", "buttons": ["Ship", "Wait"]}
        thread = await tools.call("kimaki_action_buttons", ship)
        shown = await tools.tool_message(thread, "Ship it?")
        await until(pilot, lambda: len(rows(app)) == 1, "the request in Approvals")
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.screen.query("#tool-choice-1")), "the request's buttons")
        await pilot.click("#tool-choice-1")
        assert await tools.answer(thread) == "The user clicked: Wait"
        await rig.twin.wait_until(lambda: shown.components == [], 10, "the thread's buttons to go")
        assert "chose **Wait** (from the kimaki control center)" in shown.content
        await until(pilot, lambda: rows(app) == [], "the row to go")
        await rig.wait_bot_message(thread, is_footer)


async def test_buttons_answered_in_discord_leave_the_control_center(tools: Tools) -> None:
    rig = tools.rig
    app = KimakiApp(ControlCenterModel(core=rig.core, settings=rig.settings))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        thread = await tools.call("kimaki_action_buttons", {"prompt": "Deploy?", "buttons": ["Yes", "No"]})
        shown = await tools.tool_message(thread, "Deploy?")
        await until(pilot, lambda: len(rows(app)) == 1, "the request in Approvals")
        await rig.users.owner.click(shown, custom_ids(shown)[0])
        assert await tools.answer(thread) == "The user clicked: Yes"
        await until(pilot, lambda: rows(app) == [], "the row to go after the Discord click")
        assert rig.core.tool_requests.pending() == []
        await rig.wait_bot_message(thread, is_footer)


async def test_buttons_show_and_are_answered_on_the_session_screen(tools: Tools) -> None:
    rig = tools.rig
    app = KimakiApp(ControlCenterModel(core=rig.core, settings=rig.settings))
    async with app.run_test(size=SIZE) as pilot:
        thread = await tools.call("kimaki_action_buttons", {"prompt": "Merge?", "buttons": ["Merge", "Hold"]})
        shown = await tools.tool_message(thread, "Merge?")
        await app.open_session(str(thread.id))
        await until(
            pilot, lambda: bool(app.screen.query("#tool-choice-0")), "the buttons on the Session screen"
        )
        await pilot.click("#tool-choice-0")
        assert await tools.answer(thread) == "The user clicked: Merge"
        await rig.twin.wait_until(lambda: shown.components == [], 10, "the thread's buttons to go")
        assert "chose **Merge** (from the kimaki control center)" in shown.content
        await until(pilot, lambda: not app.screen.query("#tool-choice-0"), "the buttons to go")
        await rig.wait_bot_message(thread, is_footer)


async def test_files_typed_as_local_paths_in_the_control_center_are_the_upload(
    tools: Tools, tmp_path: Path
) -> None:
    rig = tools.rig
    local = tmp_path / "notes.txt"
    local.write_text("from the terminal\n")
    app = KimakiApp(ControlCenterModel(core=rig.core, settings=rig.settings))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        thread = await tools.call("kimaki_file_upload", {"prompt": "Send the notes", "max_files": 1})
        shown = await tools.tool_message(thread, "📎 Send the notes")
        await until(pilot, lambda: len(rows(app)) == 1, "the request in Approvals")
        await pilot.press("enter")
        # A path that is no file is refused; the request keeps waiting.
        await pilot.press(*str(tmp_path / "missing.txt"), "enter")
        await until(
            pilot, lambda: any("Not a file" in str(n.message) for n in app._notifications), "the refusal"
        )
        assert len(rig.core.tool_requests.pending()) == 1 and shown.components
        app.screen.query_one("#tool-paths", Input).value = str(local)
        await pilot.press("enter")
        saved = rig.project_dir / "uploads" / "notes.txt"
        answer = await tools.answer(thread)
        assert answer.startswith("The user uploaded 1 file(s)")
        assert saved.read_text() == "from the terminal\n"
        await rig.twin.wait_until(lambda: shown.components == [], 10, "the upload button to go")
        assert "uploaded notes.txt (from the kimaki control center)" in shown.content
        await rig.wait_bot_message(thread, is_footer)


async def test_while_discord_is_down_the_control_center_alone_answers_the_buttons(tools: Tools) -> None:
    rig = tools.rig
    tools.discord_up = False
    app = KimakiApp(ControlCenterModel(core=rig.core, settings=rig.settings))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        thread = await tools.call("kimaki_action_buttons", {"prompt": "Roll back?", "buttons": ["Yes", "No"]})
        await until(pilot, lambda: len(rows(app)) == 1, "the request in Approvals")
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.screen.query("#tool-choice-0")), "the request's buttons")
        await pilot.click("#tool-choice-0")
        assert await tools.answer(thread) == "The user clicked: Yes"
        await until(pilot, lambda: rows(app) == [], "the row to go")
        await rig.wait_bot_message(thread, is_footer)
    # The thread never showed the request: the bot was not there to post it.
    assert not [m for m in rig.bot_messages(thread) if m.content.startswith("Roll back?")]


async def test_with_discord_down_and_no_control_center_the_agent_is_told(tools: Tools) -> None:
    tools.discord_up = False
    thread = await tools.call("kimaki_action_buttons", {"prompt": "Roll back?", "buttons": ["Yes", "No"]})
    assert await tools.answer(thread) == "Discord is not connected right now; try again later."
    assert tools.rig.core.tool_requests.pending() == []
    await tools.rig.wait_bot_message(thread, is_footer)
