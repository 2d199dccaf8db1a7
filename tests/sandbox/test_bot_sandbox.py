"""`--sandbox bwrap` end to end: a Discord message (the twin) starts a thread whose session runs in
its own bubblewrap sandbox over its own worktree; idle, the sandbox is paused; the next message
resumes it with the history intact; paused past its TTL, it is destroyed with its worktree.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kimaki_tui.bot.commands.channel_settings import SandboxChoice, sandbox_refusal
from kimaki_tui.core.api import SandboxRow
from kimaki_tui.core.events import SandboxResuming, TurnFinished
from kimaki_tui.core.sandboxes import SandboxService
from kimaki_tui.errors import KimakiError
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.presentation.render import RESUMING_NOTICE
from kimaki_tui.root.build import Services
from kimaki_tui.root.offline import open_secrets
from kimaki_tui.sandbox.api import SandboxState
from kimaki_tui.sandbox.bwrap import BwrapBackend
from kimaki_tui.settings import SandboxSettings, Settings
from kimaki_tui.testing.discord_twin import Channel
from tests.bot.rig import BotRig, bot_rig_context, custom_ids, is_footer
from tests.core_rig import CoreRig
from tests.harness import git_init, tool_parts, wait_until
from tests.sandbox.conftest import git

pytestmark = pytest.mark.opencode


@pytest.fixture
def backend(bwrap_binary: str, opencode_binary: str, sandbox_env: dict[str, str]) -> BwrapBackend:
    return BwrapBackend(
        bwrap=bwrap_binary, binary=opencode_binary, env=sandbox_env, home_template=Path(sandbox_env["HOME"])
    )


async def wait_state(sandboxes: SandboxService, state: SandboxState) -> SandboxRow:
    async def reached() -> SandboxRow | None:
        rows = await sandboxes.rows()
        return rows[0] if rows and rows[0].state == state else None

    return await wait_until(reached, 60, 0.05, f"the sandbox to be {state}")


async def say_and_wait_answer(rig: BotRig, thread: Channel, text: str) -> None:
    """Send `text` in the thread and wait for its answer's footer (a resume can take a while)."""
    footers = len([m for m in rig.bot_messages(thread) if is_footer(m)])
    await rig.user_says("owner", text, thread)
    more = lambda: len([m for m in rig.bot_messages(thread) if is_footer(m)]) > footers  # noqa: E731
    await rig.twin.wait_until(more, 90, f"the answer to {text!r}")


async def user_messages(rig: BotRig, thread_id: str) -> list[str]:
    runtime = rig.core.conversations.runtime(thread_id)
    assert runtime.session_id is not None
    messages = await rig.core.client.messages(runtime.session_id, runtime.directory)
    return [" ".join(p.text for p in m.text_parts()) for m in messages if m.info.role == "user"]


async def test_a_sandboxed_thread_runs_pauses_resumes_and_expires(
    opencode_client: OpenCodeClient, tmp_path: Path, backend: BwrapBackend
) -> None:
    project = git_init(tmp_path / "repo")
    # Idle 1.2 s, then paused; destroyed 2.4 s after pausing.
    settings = SandboxSettings(mode="bwrap", idle_minutes=0.02, ttl_minutes=0.04)
    async with bot_rig_context(opencode_client, project, tmp_path, sandbox=(settings, backend)) as rig:
        sandboxes = rig.core_rig.sandboxes
        assert sandboxes is not None
        await rig.user_says("owner", "REPLY: hello from the sandbox")
        thread = await rig.wait_thread()
        # The first sandbox of the pass starts OpenCode cold inside bwrap: a loaded machine once
        # took longer than the default 30 s here.
        await rig.wait_bot_message(thread, is_footer, timeout=90)
        await rig.wait_idle(thread)
        assert "hello from the sandbox" in rig.transcript(thread)
        runtime = rig.core.conversations.runtime(str(thread.id))
        worktree = Path(runtime.directory)
        assert worktree != project and (worktree / "README.md").is_file()
        assert runtime.session_id is not None
        # The session lives on the sandbox's server, not on the shared one.
        shared_ids = {s.id for s in await opencode_client.list_sessions(project)}
        assert runtime.session_id not in shared_ids

        await wait_state(sandboxes, SandboxState.PAUSED)
        await say_and_wait_answer(rig, thread, "REPLY: back again")
        await rig.wait_idle(thread)
        assert "back again" in rig.transcript(thread)
        assert rig.transcript(thread).count(RESUMING_NOTICE) == 1, rig.transcript(thread)
        said = await user_messages(rig, str(thread.id))
        assert any("hello from the sandbox" in text for text in said)
        assert any("back again" in text for text in said)

        await wait_state(sandboxes, SandboxState.PAUSED)
        outcome = await wait_until(lambda: next(iter(sandboxes.destroyed), None), 60, 0.05, "the TTL")
        row = await wait_state(sandboxes, SandboxState.DESTROYED)
        assert row.directory == str(worktree)
        assert outcome.data_removed
        assert outcome.worktree_removed or outcome.kept_reason

        # A message after that is refused in the thread: the shared server never takes it over.
        shared_before = {s.id for s in await opencode_client.list_sessions(worktree)}
        await rig.user_says("owner", "REPLY: anyone there?", thread)
        gone = await rig.wait_bot_message(thread, lambda m: "sandbox was removed" in m.content)
        assert "Start a new thread" in gone.content
        assert {s.id for s in await opencode_client.list_sessions(worktree)} == shared_before


async def test_typing_in_a_paused_thread_resumes_its_sandbox_before_the_message(
    opencode_client: OpenCodeClient, tmp_path: Path, backend: BwrapBackend
) -> None:
    project = git_init(tmp_path / "repo")
    # Idle 6 s: long enough that the sandbox resumed by typing is not paused again before the message.
    settings = SandboxSettings(mode="bwrap", idle_minutes=0.1, ttl_minutes=60)
    async with bot_rig_context(opencode_client, project, tmp_path, sandbox=(settings, backend)) as rig:
        sandboxes = rig.core_rig.sandboxes
        assert sandboxes is not None
        await rig.user_says("owner", "REPLY: before the pause")
        thread = await rig.wait_thread()
        await rig.wait_bot_message(thread, is_footer)
        await rig.wait_idle(thread)
        await wait_state(sandboxes, SandboxState.PAUSED)

        await rig.users.owner.start_typing(thread)  # no message yet
        await wait_state(sandboxes, SandboxState.RUNNING)
        await rig.wait_bot_message(thread, lambda m: RESUMING_NOTICE in m.content, 60)

        await say_and_wait_answer(rig, thread, "REPLY: after typing")
        assert "after typing" in rig.transcript(thread)
        assert rig.transcript(thread).count(RESUMING_NOTICE) == 1, rig.transcript(thread)


async def test_a_channel_can_keep_its_new_threads_on_the_shared_server(
    opencode_client: OpenCodeClient, tmp_path: Path, backend: BwrapBackend
) -> None:
    project = git_init(tmp_path / "repo")
    sandbox = (SandboxSettings(mode="bwrap"), backend)
    async with bot_rig_context(opencode_client, project, tmp_path, sandbox=sandbox) as rig:
        sandboxes = rig.core_rig.sandboxes
        assert sandboxes is not None
        owner, channel = rig.users.owner, rig.channel
        reply = await (await owner.slash(channel, "sandbox", mode="none")).wait_response(15)
        assert "on the shared OpenCode server" in reply.content
        await rig.user_says("owner", "REPLY: on the shared server")
        thread = await rig.wait_thread()
        await rig.wait_bot_message(thread, is_footer)
        await rig.wait_idle(thread)
        assert rig.core.conversations.runtime(str(thread.id)).directory == str(project)
        assert await sandboxes.rows() == []

        back = await (await owner.slash(channel, "sandbox", mode="default")).wait_response(15)
        assert "each in its own bwrap sandbox** (the global default)" in back.content


async def test_new_worktree_and_other_sandbox_kinds_are_refused_in_a_sandboxed_channel(
    opencode_client: OpenCodeClient, tmp_path: Path, backend: BwrapBackend
) -> None:
    project = git_init(tmp_path / "repo")
    sandbox = (SandboxSettings(mode="bwrap"), backend)
    async with bot_rig_context(opencode_client, project, tmp_path, sandbox=sandbox) as rig:
        owner, channel = rig.users.owner, rig.channel
        refused = await (await owner.slash(channel, "new-worktree", name="outside")).wait_response(15)
        assert "would run outside one" in refused.content and "/sandbox none" in refused.content
        branches = git(project, "branch", "--list", "kimaki/*")
        assert "kimaki/outside" not in branches and rig.twin.threads(channel) == []

        other = await (await owner.slash(channel, "sandbox", mode="podman")).wait_response(15)
        assert "sandboxes threads with bwrap; start it with `--sandbox podman`" in other.content
        assert rig.core.sandboxes.mode(str(channel.id)) == "bwrap"  # unchanged

        await (await owner.slash(channel, "sandbox", mode="none")).wait_response(15)
        await (await owner.slash(channel, "new-worktree", name="outside")).wait_response(15)
        thread = await rig.wait_thread(predicate=lambda t: "outside" in t.name)
        assert "kimaki/outside" in git(project, "branch", "--list", "kimaki/*")
        assert rig.core.conversations.get(str(thread.id)) is not None  # a thread on the worktree


async def test_one_channel_sandboxes_its_threads_while_the_default_is_the_shared_server(
    opencode_client: OpenCodeClient, tmp_path: Path, backend: BwrapBackend
) -> None:
    project = git_init(tmp_path / "repo")
    sandbox = (SandboxSettings(mode="none"), backend)
    async with bot_rig_context(opencode_client, project, tmp_path, sandbox=sandbox) as rig:
        sandboxes = rig.core_rig.sandboxes
        assert sandboxes is not None
        reply = await (await rig.users.owner.slash(rig.channel, "sandbox", mode="bwrap")).wait_response(15)
        assert "each in its own bwrap sandbox**" in reply.content
        await rig.user_says("owner", "REPLY: in this channel's sandbox")
        thread = await rig.wait_thread()
        await rig.wait_bot_message(thread, is_footer)
        await rig.wait_idle(thread)
        runtime = rig.core.conversations.runtime(str(thread.id))
        assert Path(runtime.directory).name == f"sandbox-{thread.id}"
        assert [row.state for row in await sandboxes.rows()] == [SandboxState.RUNNING]


def test_the_root_can_sandbox_a_channel_where_bubblewrap_is_installed(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")  # --sandbox none, the default
    supervisor = OpenCodeSupervisor(binary="/bin/true")
    services = Services(settings, open_secrets(settings, env={}), supervisor)
    try:
        assert services.core.sandboxes.available == (shutil.which("bwrap") is not None)
    finally:
        services.store.close()


def test_the_root_runs_podman_sandboxes_or_says_podman_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "data", sandbox=SandboxSettings(mode="podman"))
    supervisor = OpenCodeSupervisor(binary="/bin/true")
    if shutil.which("podman") is not None:
        services = Services(settings, open_secrets(settings, env={}), supervisor)
        try:
            assert services.core.sandboxes.backend == "podman"
        finally:
            services.store.close()
        monkeypatch.setenv("PATH", str(tmp_path))  # then check the refusal too, without podman
    with pytest.raises(KimakiError) as raised:
        Services(settings, open_secrets(settings, env={}), supervisor)
    assert "--sandbox podman needs podman" in str(raised.value)
    assert "podman build -t localhost/kimaki-opencode:1.18.33" in (raised.value.hint or "")


@pytest.mark.parametrize(
    ("mode", "backend", "refused"),
    [
        ("bwrap", "bwrap", None),
        ("none", None, None),
        ("default", "podman", None),
        ("podman", "bwrap", "This kimaki sandboxes threads with bwrap; start it with `--sandbox podman`"),
        ("bwrap", None, "Sandboxes need bubblewrap on the machine"),
        ("podman", None, "Podman sandboxes need kimaki started with `--sandbox podman`"),
    ],
)
def test_a_channel_asks_for_a_sandbox_this_run_has_or_is_told_why_not(
    mode: SandboxChoice, backend: str | None, refused: str | None
) -> None:
    said = sandbox_refusal(mode, backend)
    assert said is None if refused is None else said is not None and said.startswith(refused)


async def run_bash_approving(rig: BotRig, command: str) -> Channel:
    """A new thread whose agent runs `command`, each permission it asks for accepted once."""
    await rig.user_says("owner", f"RUN_BASH: {command}")
    thread = await rig.wait_thread(predicate=lambda c: c.name.startswith("RUN_BASH"))
    clicked: set[str] = set()

    async def finished() -> bool:
        for message in rig.bot_messages(thread):
            ids = [i for i in custom_ids(message) if i.startswith("kimaki:perm:once:")]
            if ids and ids[0] not in clicked:
                clicked.add(ids[0])
                await rig.users.owner.click(message, ids[0])
        return any(is_footer(m) for m in rig.bot_messages(thread))

    await wait_until(finished, 90, 0.1, "the agent's bash call to finish")
    await rig.wait_idle(thread)
    return thread


async def test_two_sandboxed_threads_cannot_reach_each_other_or_the_project(
    opencode_client: OpenCodeClient, tmp_path: Path, backend: BwrapBackend
) -> None:
    project = git_init(tmp_path / "repo")
    sandbox = (SandboxSettings(mode="bwrap"), backend)
    async with bot_rig_context(opencode_client, project, tmp_path, sandbox=sandbox) as rig:
        await rig.user_says("owner", "REPLY: the other thread")
        other = await rig.wait_thread()
        await rig.wait_bot_message(other, is_footer)
        await rig.wait_idle(other)
        other_worktree = Path(rig.core.conversations.runtime(str(other.id)).directory)

        command = (
            f"cat {other_worktree}/README.md; echo x > {other_worktree}/from-a.txt; "
            f"echo x > {project}/escape.txt; echo ok > inside.txt"
        )
        thread = await run_bash_approving(rig, command)
        runtime = rig.core.conversations.runtime(str(thread.id))
        assert runtime.session_id is not None
        messages = await rig.core.client.messages(runtime.session_id, runtime.directory)
        output = str(tool_parts(messages, "bash")[-1].state.output)
        assert (Path(runtime.directory) / "inside.txt").read_text() == "ok\n"  # the command ran
        assert "test project" not in output and "No such file" in output, output  # not visible
        assert not (other_worktree / "from-a.txt").exists()
        assert not (project / "escape.txt").exists()


async def test_a_sandboxed_thread_resumes_after_kimaki_restarts(
    opencode_client: OpenCodeClient,
    tmp_path: Path,
    bwrap_binary: str,
    opencode_binary: str,
    sandbox_env: dict[str, str],
) -> None:
    project = git_init(tmp_path / "repo")
    settings = SandboxSettings(mode="bwrap")
    home = Path(sandbox_env["HOME"])

    def backend() -> BwrapBackend:  # one per run of kimaki
        return BwrapBackend(bwrap=bwrap_binary, binary=opencode_binary, env=sandbox_env, home_template=home)

    database = tmp_path / "bot.sqlite"
    async with CoreRig(opencode_client, database, sandbox=(settings, backend())) as first:
        assert first.sandboxes is not None
        directory = await first.sandboxes.place("1000", "900", str(project))
        first.thread(Path(directory))
        await first.core.conversations.submit("1000", first.prompt("REPLY: before the restart"))
        await first.wait_for(TurnFinished)
    async with CoreRig(opencode_client, database, sandbox=(settings, backend())) as second:
        assert second.sandboxes is not None
        assert [row.state for row in await second.sandboxes.rows()] == [SandboxState.PAUSED]
        await second.core.conversations.submit("1000", second.prompt("REPLY: after the restart"))
        await second.wait_for(TurnFinished)
        await second.wait_for(SandboxResuming)
        runtime = second.core.conversations.runtime("1000")
        assert runtime.directory == directory
        assert runtime.session_id is not None
        messages = await second.core.client.messages(runtime.session_id, directory)
        said = [" ".join(p.text for p in m.text_parts()) for m in messages if m.info.role == "user"]
        assert any("before the restart" in text for text in said)
        assert any("after the restart" in text for text in said)
