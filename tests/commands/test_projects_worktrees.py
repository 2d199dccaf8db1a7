"""/create-new-project, /new-worktree and /merge-worktree end to end: the twin (real discord.py
client) + real OpenCode + scripted model, on real git repositories."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from kimaki_tui.bot.commands.new_project import INIT_PROMPT
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.testing.discord_twin import Channel
from kimaki_tui.testing.scripted_model import ScriptedModel, latest_user_text
from tests.bot.rig import BotRig, bot_rig_context, custom_ids, is_footer

pytestmark = pytest.mark.opencode


def run_git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def commit_all(cwd: Path, message: str) -> None:
    run_git(cwd, "add", "-A")
    run_git(cwd, "commit", "-q", "-m", message)


async def say_and_wait(rig: BotRig, thread: Channel, text: str) -> None:
    """Send a message in the thread and wait until its turn's footer is posted."""
    before = rig.twin.messages(thread)[-1] if rig.twin.messages(thread) else None
    await rig.user_says("owner", text, thread)
    await rig.wait_bot_message(thread, is_footer, timeout=60, after=before)


async def test_create_new_project(bot_rig: BotRig, tmp_path: Path) -> None:
    owner = bot_rig.users.owner
    elsewhere = bot_rig.guild.add_text_channel("general")  # works from any channel, like /add-project
    reply = await (await owner.slash(elsewhere, "create-new-project", name="Rocket App")).wait_response(20)
    folder = (tmp_path / "rocket-app").resolve()
    channel = next(c for c in bot_rig.guild.channels if c.name == "rocket-app")
    thread = await bot_rig.wait_thread(channel)
    assert reply.ephemeral and reply.content == (
        f"Created `{folder}`, its channel <#{channel.id}> and <#{thread.id}>."
    )
    assert (folder / ".git").is_dir() and channel.parent_id == bot_rig.category.id
    assert bot_rig.core.projects.directory_of(str(channel.id)) == str(folder)
    assert thread.name == "Init: rocket-app" and owner.id in thread.thread_members
    starter = next(m for m in bot_rig.twin.messages(channel) if m.id == thread.id)
    assert starter.content == f"🚀 **New project initialized** — `{folder}`"
    answer = await bot_rig.wait_bot_message(thread, lambda m: f"Echo: {INIT_PROMPT}" in m.content, 60)
    await bot_rig.wait_bot_message(thread, is_footer, after=answer)
    assert bot_rig.core.conversations.runtime(str(thread.id)).directory == str(folder)

    channels = len(bot_rig.guild.channels)
    for name, expected in [
        ("../escape", "not a plain name"),
        ("/tmp/absolute", "is a path"),
        ("Rocket App", "already exists"),
        ("project", "already exists"),  # the rig's own project folder
    ]:
        inter = await owner.slash(bot_rig.channel, "create-new-project", name=name)
        refused = await inter.wait_response(15)
        assert refused.ephemeral and expected in refused.content, (name, refused.content)
    assert len(bot_rig.guild.channels) == channels and not (tmp_path.parent / "escape").exists()
    inter = await bot_rig.users.member.slash(elsewhere, "create-new-project", name="x")
    member = await inter.wait_response()
    assert member.ephemeral and "role" in member.content and not (tmp_path / "x").exists()


async def test_worktree_work_then_merge(bot_rig: BotRig, scripted_model: ScriptedModel) -> None:
    owner, project = bot_rig.users.owner, bot_rig.project_dir
    main = run_git(project, "symbolic-ref", "--short", "HEAD")
    reply = await (await owner.slash(bot_rig.channel, "new-worktree", name="Fast Path")).wait_response(20)
    thread = await bot_rig.wait_thread(predicate=lambda t: t.name.startswith("⬦"))
    assert thread.name == "⬦ worktree: fast-path"
    assert reply.content == f"Created <#{thread.id}> on branch `kimaki/fast-path`."
    worktree = Path(bot_rig.core.conversations.runtime(str(thread.id)).directory)
    assert worktree.parent.parent == bot_rig.settings.data_dir / "worktrees"
    intro = bot_rig.bot_messages(thread)[0].content
    assert intro.startswith("🌳 **Worktree ready** — branch `kimaki/fast-path`")

    await say_and_wait(bot_rig, thread, "WRITE_FILE: speed.txt vroom")
    assert (worktree / "speed.txt").read_text() == "vroom" and not (project / "speed.txt").exists()

    refused = await (await owner.slash(thread, "merge-worktree")).wait_response(20)
    assert "uncommitted changes (`speed.txt`)" in refused.content
    commit_all(worktree, "go faster")
    merged = await (await owner.slash(thread, "merge-worktree")).wait_response(20)
    assert merged.content == f"✅ Merged `kimaki/fast-path` into `{main}` (1 commit) in `{project}`."
    assert (project / "speed.txt").read_text() == "vroom"
    assert run_git(project, "log", "-1", "--format=%s", main) == "go faster"
    # The ⬦ mark is gone (the thread may carry OpenCode's title for the session by now).
    assert thread.name in ("worktree: fast-path", "WRITE_FILE: speed.txt vroom")
    again = await (await owner.slash(thread, "merge-worktree")).wait_response(20)
    assert "nothing to merge" in again.content

    outside = await (await owner.slash(bot_rig.channel, "merge-worktree")).wait_response()
    assert outside.ephemeral and outside.content == "Use this command inside a kimaki session thread."
    plain = await (await owner.slash(bot_rig.channel, "session", prompt="a plain thread")).wait_response(15)
    assert plain.content.startswith("Started")
    plain_thread = await bot_rig.wait_thread(predicate=lambda t: t.name == "a plain thread")
    await bot_rig.wait_bot_message(plain_thread, is_footer, timeout=60)
    not_wt = await (await owner.slash(plain_thread, "merge-worktree")).wait_response(20)
    assert "does not run in a worktree" in not_wt.content


async def test_worktree_conflict_asks_the_agent(bot_rig: BotRig, scripted_model: ScriptedModel) -> None:
    owner, project = bot_rig.users.owner, bot_rig.project_dir
    marker = uuid.uuid4().hex[:8]
    await (await owner.slash(bot_rig.channel, "new-worktree", name=f"clash {marker}")).wait_response(20)
    thread = await bot_rig.wait_thread(predicate=lambda t: t.name.startswith("⬦"))
    worktree = Path(bot_rig.core.conversations.runtime(str(thread.id)).directory)
    (worktree / "README.md").write_text("the worktree's version\n")
    commit_all(worktree, "worktree edit")
    (project / "README.md").write_text("the project's version\n")
    commit_all(project, "project edit")

    reply = await (await owner.slash(thread, "merge-worktree")).wait_response(20)
    assert reply.content.startswith(f"⚠️ Rebasing `kimaki/clash-{marker}` onto")
    assert "conflicts in `README.md`" in reply.content and not reply.ephemeral
    asked = await bot_rig.wait_bot_message(thread, lambda m: "Echo: I tried to merge" in m.content, 60)
    await bot_rig.wait_bot_message(thread, is_footer, after=asked, timeout=60)
    requests = [b for b in scripted_model.requests if b.get("tools") and b.get("messages")]
    prompts = [latest_user_text(b["messages"]) for b in requests]
    resolve = next(p for p in prompts if f"kimaki/clash-{marker}" in p)
    assert "- README.md" in resolve and "git rebase --continue" in resolve
    assert thread.name.startswith("⬦")
    still = await (await owner.slash(thread, "merge-worktree")).wait_response(20)
    assert "rebase is still in progress" in still.content


async def test_new_worktree_from_a_base_branch_with_autocomplete(bot_rig: BotRig) -> None:
    owner, project = bot_rig.users.owner, bot_rig.project_dir
    main = run_git(project, "symbolic-ref", "--short", "HEAD")
    run_git(project, "checkout", "-q", "-b", "feature-x")
    (project / "feature.txt").write_text("only on feature-x")
    commit_all(project, "feature work")
    run_git(project, "checkout", "-q", main)

    choices = await owner.autocomplete(bot_rig.channel, "new-worktree", "base-branch", "feat", name="x")
    assert [c["value"] for c in choices] == ["feature-x"]
    every = await owner.autocomplete(bot_rig.channel, "new-worktree", "base-branch", "", name="x")
    assert {c["value"] for c in every} == {"feature-x", main}

    options = {"name": "On Feature", "base-branch": "feature-x"}
    reply = await (await owner.slash(bot_rig.channel, "new-worktree", **options)).wait_response(20)
    thread = await bot_rig.wait_thread(predicate=lambda t: t.name.startswith("⬦"))
    assert reply.content == f"Created <#{thread.id}> on branch `kimaki/on-feature`."
    intro = bot_rig.bot_messages(thread)[0].content
    assert intro.startswith("🌳 **Worktree ready** — branch `kimaki/on-feature` (from `feature-x`)")
    worktree = Path(bot_rig.core.conversations.runtime(str(thread.id)).directory)
    assert (worktree / "feature.txt").read_text() == "only on feature-x"
    assert not (project / "feature.txt").exists()

    bad = {"name": "nowhere", "base-branch": "no-such"}
    refused = await (await owner.slash(bot_rig.channel, "new-worktree", **bad)).wait_response(20)
    assert refused.content == "The project has no branch `no-such`; pick one of its branches."
    assert run_git(project, "branch", "--list", "kimaki/nowhere") == ""


def named(name: str) -> Callable[[Channel], bool]:
    return lambda thread: thread.name == name


async def test_worktrees_lists_state_and_deletes_only_what_holds_no_work(bot_rig: BotRig) -> None:
    owner, project = bot_rig.users.owner, bot_rig.project_dir
    paths: dict[str, Path] = {}
    for name in ("clean", "busy", "ahead"):
        await (await owner.slash(bot_rig.channel, "new-worktree", name=name)).wait_response(20)
        thread = await bot_rig.wait_thread(predicate=named(f"⬦ worktree: {name}"))
        paths[name] = Path(bot_rig.core.conversations.runtime(str(thread.id)).directory)
    (paths["busy"] / "draft.txt").write_text("not committed")
    (paths["ahead"] / "done.txt").write_text("committed")
    commit_all(paths["ahead"], "work on ahead")

    await (await owner.slash(bot_rig.channel, "worktrees")).wait_response(20)
    listing = await bot_rig.wait_bot_message(
        bot_rig.channel, lambda m: m.content.startswith("🌳 **Worktrees**")
    )
    assert listing.content.splitlines() == [
        "🌳 **Worktrees** (3)",
        "- `ahead` — branch `kimaki/ahead`, clean, 1 unmerged commit",
        "- `busy` — branch `kimaki/busy`, ✏️ 1 uncommitted file",
        "- `clean` — branch `kimaki/clean`, clean",
    ]
    assert custom_ids(listing) == [f"kimaki:wtdel:{n}" for n in ("ahead", "busy", "clean")]

    busy = await (await owner.click(listing, "kimaki:wtdel:busy")).wait_response()
    assert busy.ephemeral and busy.content.startswith(
        "⚠️ Not deleted: worktree `busy` has uncommitted changes (`draft.txt`)."
    )
    ahead = await (await owner.click(listing, "kimaki:wtdel:ahead")).wait_response()
    assert ahead.content.startswith(
        "⚠️ Not deleted: branch `kimaki/ahead` has 1 commit the project does not have."
    )
    assert (paths["busy"] / "draft.txt").exists() and (paths["ahead"] / "done.txt").exists()

    clean = await (await owner.click(listing, "kimaki:wtdel:clean")).wait_response()
    assert clean.content == (
        f"🗑️ Deleted worktree `clean` (`{paths['clean']}`) and its branch `kimaki/clean`."
    )
    assert not paths["clean"].exists() and run_git(project, "branch", "--list", "kimaki/clean") == ""
    await bot_rig.twin.wait_until(lambda: "(2)" in listing.content, 10, "the list to be redrawn")
    assert custom_ids(listing) == ["kimaki:wtdel:ahead", "kimaki:wtdel:busy"]


async def test_new_worktree_in_a_thread_forks_its_session_there(
    bot_rig: BotRig, scripted_model: ScriptedModel
) -> None:
    owner, project, marker = bot_rig.users.owner, bot_rig.project_dir, uuid.uuid4().hex[:8]
    said = f"REPLY: the password is PINEAPPLE-{marker}"
    await bot_rig.user_says("owner", said)
    source = await bot_rig.wait_thread(predicate=lambda t: t.name == said)
    await bot_rig.wait_bot_message(source, is_footer, timeout=60)
    source_session = bot_rig.core.conversations.runtime(str(source.id)).session_id

    reply = await (await owner.slash(source, "new-worktree", name=f"side {marker}")).wait_response(20)
    thread = await bot_rig.wait_thread(predicate=lambda t: t.name == f"⬦ worktree: side-{marker}")
    assert reply.content == f"Created <#{thread.id}> on branch `kimaki/side-{marker}`."
    runtime = bot_rig.core.conversations.runtime(str(thread.id))
    worktree = Path(runtime.directory)
    assert worktree.parent.parent == bot_rig.settings.data_dir / "worktrees"
    assert runtime.session_id not in (None, source_session)
    intro = bot_rig.bot_messages(thread)[0].content
    assert f"Forked from <#{source.id}>" in intro

    # The agent there sees the earlier conversation, and what it writes lands in the worktree.
    await say_and_wait(bot_rig, thread, f"WRITE_FILE: fork-{marker}.txt forked")
    asked = [
        b
        for b in scripted_model.requests
        if b.get("tools")
        and latest_user_text(b.get("messages", [])) == f"WRITE_FILE: fork-{marker}.txt forked"
    ]
    assert asked and f"PINEAPPLE-{marker}" in str(asked[0]["messages"])
    assert (worktree / f"fork-{marker}.txt").read_text() == "forked"
    assert not (project / f"fork-{marker}.txt").exists()
    # The source thread goes on in the project, in its own session.
    assert bot_rig.core.conversations.runtime(str(source.id)).session_id == source_session
    assert bot_rig.core.conversations.runtime(str(source.id)).directory == str(project)


async def test_new_worktree_in_a_thread_on_the_oldest_opencode_says_why_not(
    old_opencode_server: OpenCodeSupervisor, project_dir: Path, tmp_path: Path
) -> None:
    """OpenCode 1.2 has no move-session route: the thread is told so, and nothing is left behind
    (no new thread, no worktree, the source thread goes on)."""
    async with bot_rig_context(old_opencode_server.client, project_dir, tmp_path) as rig:
        said = "REPLY: on the oldest"
        await rig.user_says("owner", said)
        source = await rig.wait_thread(predicate=lambda t: t.name == said)
        await rig.wait_bot_message(source, is_footer, timeout=60)
        reply = await (await rig.users.owner.slash(source, "new-worktree", name="side")).wait_response(30)
        assert "cannot move a session into a worktree" in reply.content, reply.content
        assert "1.18" in reply.content
        assert [t.name for t in rig.twin.threads(rig.channel)] == [said]
        assert not any((rig.settings.data_dir / "worktrees").rglob("side*"))
        await say_and_wait(rig, source, "REPLY: still here")
        assert rig.bot_messages(source)[-2].content == "⬥ still here"
