"""OpenCode's instances of idle projects are released (each holds one of the user's 128 inotify
instances), busy or waiting ones are kept, and a released project answers its next message."""

from __future__ import annotations

from pathlib import Path

import pytest

from kimaki_tui.core.events import PartCompleted, PermissionAskedEvent, TurnFinished
from kimaki_tui.core.instances import InstanceKeeper
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from tests.core_rig import CoreRig
from tests.harness import git_init, wait_until
from tests.test_opencode_client import inotify_instances

pytestmark = pytest.mark.opencode


class Clock:
    """The keeper's clock, moved by hand: `later()` jumps past the idle time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def later(self) -> None:
        self.now += 120


async def test_an_idle_project_is_released_once_and_answers_again(
    opencode_server: OpenCodeSupervisor, project_dir: Path, tmp_path: Path
) -> None:
    client, pid = opencode_server.client, opencode_server.pid
    assert pid is not None
    await client.dispose_all_instances()
    baseline = inotify_instances(pid)
    async with CoreRig(client, tmp_path / "db.sqlite") as rig:
        thread = rig.thread(project_dir)
        clock = Clock()
        keeper = InstanceKeeper(client, rig.core.sessions.all, idle_seconds=60, clock=clock)
        rig.core.subscribe(keeper.on_event)
        await rig.core.conversations.submit(thread.thread_id, rig.prompt("REPLY: first"))
        await rig.wait_count(TurnFinished, 1)
        await wait_until(lambda: inotify_instances(pid) > baseline, 10, message="the project's watcher")
        assert await keeper.sweep() == []  # used just now

        clock.later()
        assert await keeper.sweep() == [str(project_dir)]
        await wait_until(lambda: inotify_instances(pid) == baseline, 10, message="the watcher to close")
        clock.later()
        assert await keeper.sweep() == []  # once per spell of disuse, whatever OpenCode still says

        await rig.core.conversations.submit(thread.thread_id, rig.prompt("REPLY: second"))
        finished = await rig.wait_count(TurnFinished, 2)
        assert finished[-1].session_id == thread.session_id
        answers = [e.text for e in rig.of_type(PartCompleted) if e.kind == "text"]
        assert answers == ["first", "second"]


async def test_busy_and_waiting_projects_are_kept(
    opencode_client: OpenCodeClient, tmp_path: Path
) -> None:
    busy_dir, waiting_dir = git_init(tmp_path / "busy"), git_init(tmp_path / "waiting")
    async with CoreRig(opencode_client, tmp_path / "db.sqlite") as rig:
        busy, waiting = rig.thread(busy_dir, "1"), rig.thread(waiting_dir, "2")
        clock = Clock()
        keeper = InstanceKeeper(opencode_client, rig.core.sessions.all, idle_seconds=60, clock=clock)
        rig.core.subscribe(keeper.on_event)
        await rig.core.conversations.submit(waiting.thread_id, rig.prompt("RUN_BASH: echo hi"))
        await rig.wait_for(PermissionAskedEvent)
        await rig.core.conversations.submit(busy.thread_id, rig.prompt("SLOW:5 busy"))
        await wait_until(lambda: busy.busy and waiting.waiting(), 30, message="one busy, one waiting")
        clock.later()

        assert keeper.idle_directories() == []
        assert await keeper.sweep() == []
        await rig.core.conversations.abort(busy.thread_id, by="test", origin="test")
