"""The command surface's pure parts and the git/file work behind it, without Discord or OpenCode:
project names, worktree create/merge on real repositories, history selection (undo/redo/fork),
menu pages, MEMORY.md parts with a fake clock."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kimaki_tui.bot.commands.history import diff_block
from kimaki_tui.bot.commands.picker import Choice, page_options, turned_page
from kimaki_tui.bot.commands.worktrees import unmarked
from kimaki_tui.core.history import redo_target, undo_target, user_turns, visible
from kimaki_tui.core.memory import MemoryNotes, intro_text, outline
from kimaki_tui.core.projects import ProjectNameError, create_project, project_slug
from kimaki_tui.core.worktrees import (
    DirtyWorktree,
    NotAWorktree,
    NothingToMerge,
    RebaseConflict,
    TargetDirty,
    WorktreeError,
    conflict_prompt,
    create_worktree,
    merge_worktree,
    worktree_path,
    worktree_slug,
)
from kimaki_tui.opencode.models import Message
from kimaki_tui.opencode.schema import Revert
from tests.harness import git_init


def run_git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def commit(cwd: Path, name: str, content: str, message: str) -> None:
    (cwd / name).write_text(content)
    run_git(cwd, "add", name)
    run_git(cwd, "commit", "-q", "-m", message)


# ---- project names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"), [("My App", "my-app"), ("  api_v2!! ", "api-v2"), ("Ünïcode--x", "n-code-x")]
)
def test_project_slug_cleans_plain_names(name: str, slug: str) -> None:
    assert project_slug(name) == slug


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../evil", "not a plain name"),
        ("a/../../b", "not a plain name"),
        ("..", "not a plain name"),
        ("/etc/passwd", "is a path"),
        ("C:\\Windows", "is a path"),
        ("~/x", "is a path"),
        ("sub/dir", "not a plain name"),
        ("!!!", "no letters or digits"),
    ],
)
def test_project_slug_refuses_paths(name: str, message: str) -> None:
    with pytest.raises(ProjectNameError, match=message):
        project_slug(name)


async def test_create_project_inits_git_and_refuses_existing(tmp_path: Path) -> None:
    made = await create_project(tmp_path / "projects", "Shiny Thing")
    assert made == (tmp_path / "projects" / "shiny-thing").resolve()
    assert (made / ".git").is_dir()
    with pytest.raises(ProjectNameError, match="already exists"):
        await create_project(tmp_path / "projects", "shiny-thing")


# ---- worktrees on real repositories --------------------------------------------------------------


async def test_worktree_create_and_merge(tmp_path: Path) -> None:
    project = git_init(tmp_path / "repo")
    main = run_git(project, "symbolic-ref", "--short", "HEAD").strip()
    worktree = await create_worktree(project, "Add Feature", tmp_path / "data")
    assert worktree.branch == "kimaki/add-feature"
    assert worktree.path == worktree_path(tmp_path / "data", project.resolve(), "add-feature")
    assert run_git(worktree.path, "symbolic-ref", "--short", "HEAD").strip() == "kimaki/add-feature"
    with pytest.raises(WorktreeError, match="exists already"):
        await create_worktree(project, "add-feature", tmp_path / "data")

    with pytest.raises(NothingToMerge):
        await merge_worktree(worktree.path)
    (worktree.path / "feature.txt").write_text("wip")
    with pytest.raises(DirtyWorktree, match=r"feature\.txt"):
        await merge_worktree(worktree.path)
    run_git(worktree.path, "add", "feature.txt")
    run_git(worktree.path, "commit", "-q", "-m", "feature")
    # Meanwhile the project moved on: the merge rebases onto it, keeping both.
    commit(project, "other.txt", "other", "other work")
    (project / "README.md").write_text("uncommitted edit")
    with pytest.raises(TargetDirty, match="uncommitted changes"):
        await merge_worktree(worktree.path)
    run_git(project, "checkout", "-q", "README.md")

    merged = await merge_worktree(worktree.path)
    assert (merged.branch, merged.target, merged.commits) == ("kimaki/add-feature", main, 1)
    assert (project / "feature.txt").read_text() == "wip" and (project / "other.txt").exists()
    log = run_git(project, "log", "--format=%s", main).splitlines()
    assert log == ["feature", "other work", "init"]  # linear: rebased, then fast-forwarded
    with pytest.raises(NotAWorktree):
        await merge_worktree(project)


async def test_worktree_merge_conflict_leaves_the_rebase_for_the_agent(tmp_path: Path) -> None:
    project = git_init(tmp_path / "repo")
    worktree = await create_worktree(project, "clash", tmp_path / "data")
    commit(worktree.path, "README.md", "theirs\n", "worktree edit")
    commit(project, "README.md", "ours\n", "main edit")
    with pytest.raises(RebaseConflict) as caught:
        await merge_worktree(worktree.path)
    assert caught.value.files == ["README.md"]
    prompt = conflict_prompt(caught.value)
    assert "- README.md" in prompt and "/merge-worktree again" in prompt
    with pytest.raises(WorktreeError, match="rebase is still in progress"):
        await merge_worktree(worktree.path)


async def test_worktree_needs_a_git_repository_with_commits(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(WorktreeError, match="not a git repository"):
        await create_worktree(plain, "x", tmp_path / "data")
    run_git(plain, "init", "-q")
    with pytest.raises(WorktreeError, match="no commits yet"):
        await create_worktree(plain, "x", tmp_path / "data")
    assert worktree_slug(" Fix: the Bug! ") == "fix-the-bug"
    assert unmarked("⬦ worktree: x") == "worktree: x" and unmarked("plain") == "plain"


# ---- history ---------------------------------------------------------------------------------


def _msg(mid: str, role: str, *texts: str, synthetic: bool = False) -> Message:
    parts = [{"type": "text", "text": t, "synthetic": synthetic} for t in texts]
    return Message.from_json({"info": {"id": mid, "role": role}, "parts": parts})


def _at(message_id: str) -> Revert | None:
    return Revert.from_json({"messageID": message_id})


MESSAGES = [
    _msg("m1", "user", "first"),
    _msg("m2", "assistant", "a1"),
    _msg("m3", "user", "<system-reminder>x</system-reminder>", synthetic=True),
    _msg("m4", "assistant", "a2"),
    _msg("m5", "user", "second"),
    _msg("m6", "assistant", "a3"),
]


def test_undo_redo_walk_user_turns() -> None:
    assert undo_target(MESSAGES, None) == "m5"
    assert undo_target(MESSAGES, _at("m5")) == "m3"
    assert undo_target(MESSAGES, _at("m1")) is None
    assert redo_target(MESSAGES, None) is None
    assert redo_target(MESSAGES, _at("m3")) == "m5"
    assert redo_target(MESSAGES, _at("m5")) is None  # the end: unrevert
    assert [m.id for m in visible(MESSAGES, _at("m5"))] == ["m1", "m2", "m3", "m4"]


def test_fork_choices_skip_synthetic_and_reverted_messages() -> None:
    assert [(t.message_id, t.text) for t in user_turns(MESSAGES, None)] == [("m1", "first"), ("m5", "second")]
    assert [t.message_id for t in user_turns(MESSAGES, _at("m5"))] == ["m1"]
    many = [_msg(f"u{i}", "user", f"q{i}") for i in range(30)]
    turns = user_turns(many, None)
    assert len(turns) == 25 and turns[0].text == "q5" and turns[-1].text == "q29"


def test_diff_block_is_capped() -> None:
    assert diff_block("") == ""
    block = diff_block("-x\n" * 1000)
    assert block.startswith("\n```diff\n") and block.endswith("\n```") and len(block) < 1600


# ---- menus ---------------------------------------------------------------------------------------


def test_pages_of_options() -> None:
    few = [Choice(f"m{i}", f"v{i}") for i in range(25)]
    assert [o.value for o in page_options(few, 0)] == [f"v{i}" for i in range(25)]
    many = [Choice(f"m{i}", f"v{i}", "d" * 200) for i in range(50)]
    first = page_options(many, 0)
    assert len(first) == 24 and first[-1].value == "page:1" and first[0].value == "v0"
    assert all(len(o.description or "") <= 100 for o in first)
    middle = page_options(many, 1)
    assert [middle[0].value, middle[1].value, middle[-1].value] == ["page:0", "v23", "page:2"]
    last = page_options(many, 2)
    assert [o.value for o in last] == ["page:1", *(f"v{i}" for i in range(46, 50))]
    assert turned_page("page:2") == 2 and turned_page("v1") is None and turned_page("page:x") is None


# ---- MEMORY.md -------------------------------------------------------------------------------


def test_memory_outline_and_intro(tmp_path: Path) -> None:
    text = "# Notes\nintro\nmore\n## Build\n```\n# not a heading\n```\n## Deploy\n"
    assert outline(text) == "1: # Notes\n...\n4: ## Build\n...\n8: ## Deploy"
    short = intro_text(tmp_path, "# Notes\nkeep this")
    assert "keep this" in short and str(tmp_path / "MEMORY.md") in short
    long = intro_text(tmp_path, "# Big\n" + "line\n" * 2000)
    assert "1: # Big" in long and "line\nline" not in long


def test_memory_parts_follow_the_clock(tmp_path: Path) -> None:
    now = [1000.0]
    notes = MemoryNotes(lambda: now[0], idle_gap=600)
    notes.session_created()
    assert notes.prompt_parts(tmp_path) == []  # no MEMORY.md: nothing
    (tmp_path / "MEMORY.md").write_text("# Notes\nuse tabs")
    notes.session_created()
    first = notes.prompt_parts(tmp_path)
    assert len(first) == 1 and first[0]["synthetic"] and "use tabs" in first[0]["text"]
    assert notes.prompt_parts(tmp_path) == first  # not sent yet: still due
    notes.sent()
    assert notes.prompt_parts(tmp_path) == []
    now[0] += 300
    notes.touch()
    now[0] += 599
    assert notes.prompt_parts(tmp_path) == []
    now[0] += 61
    reminder = notes.prompt_parts(tmp_path)
    assert len(reminder) == 1 and "About 11 minutes" in reminder[0]["text"]
    assert "MEMORY.md" in reminder[0]["text"]
    notes.sent()
    assert notes.prompt_parts(tmp_path) == []
