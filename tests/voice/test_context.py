"""The project tree sent with the audio: git's file list (tracked and untracked, not ignored) as an
indented tree, trimmed to the budget by collapsing deep folders, then cutting."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kimaki_tui.voice.context import PER_FOLDER, project_tree, render_tree
from tests.harness import git_init


def test_a_tree_lists_folders_before_files() -> None:
    paths = ["src/app/parser.py", "src/app/__init__.py", "src/main.py", "README.md", "tests/test_parser.py"]
    assert render_tree(paths).splitlines() == [
        "src/",
        "  app/",
        "    __init__.py",
        "    parser.py",
        "  main.py",
        "tests/",
        "  test_parser.py",
        "README.md",
    ]


def test_deep_folders_collapse_to_counts_when_over_budget() -> None:
    paths = [f"src/pkg{i}/module_{j}.py" for i in range(10) for j in range(20)] + ["setup.py"]
    full = render_tree(paths, budget=100_000)
    assert "module_19.py" in full
    trimmed = render_tree(paths, budget=400)
    assert len(trimmed) <= 400
    assert trimmed.splitlines()[:3] == ["src/", "  pkg0/ (20 files)", "  pkg1/ (20 files)"]
    assert trimmed.splitlines()[-1] == "setup.py"
    tiny = render_tree(paths, budget=30)
    assert tiny == "src/ (200 files)\nsetup.py"


def test_a_listing_too_long_even_at_the_top_is_cut_with_a_count() -> None:
    paths = [f"folder_{i:03d}/x.txt" for i in range(200)]
    text = render_tree(paths, budget=500)
    assert len(text) <= 500
    last = text.splitlines()[-1]
    assert last.startswith("… (") and last.endswith(" more entries)")


def test_huge_folders_show_their_first_entries_and_a_count() -> None:
    text = render_tree([f"assets/img_{i:04d}.png" for i in range(500)], budget=100_000)
    lines = text.splitlines()
    assert lines[0] == "assets/" and len(lines) == PER_FOLDER + 2
    assert lines[-1] == f"  … {500 - PER_FOLDER} more files"


def test_empty_projects_give_no_tree() -> None:
    assert render_tree([]) == ""


def repo_with_ignored_files(path: Path) -> Path:
    repo = git_init(path)
    (repo / "src").mkdir()
    (repo / "src" / "settings_loader.py").write_text("x = 1\n")
    (repo / ".gitignore").write_text("secret.env\nbuild/\n")
    (repo / "secret.env").write_text("TOKEN=1\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.bin").write_text("")
    subprocess.run(["git", "add", ".gitignore"], cwd=repo, check=True)
    return repo


async def test_git_lists_tracked_and_untracked_files_but_not_ignored_ones(tmp_path: Path) -> None:
    tree = await project_tree(repo_with_ignored_files(tmp_path / "repo"))
    assert tree.splitlines() == ["src/", "  settings_loader.py", ".gitignore", "README.md"]


async def test_outside_git_the_folder_is_walked_without_hidden_or_vendored_folders(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text("")
    for skipped in ("node_modules", ".venv", "__pycache__"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "junk.js").write_text("")
    (tmp_path / "package.json").write_text("{}")
    tree = await project_tree(tmp_path)
    assert tree.splitlines() == ["app/", "  views.py", "package.json"]
