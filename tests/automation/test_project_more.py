"""`kimaki project list --json|--all|--prune` and `kimaki project create NAME`, through the real
CLI, the running kimaki's database and the Discord twin."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.automation.rig import AutomationRig

pytestmark = pytest.mark.opencode


def by_channel(rows: list[dict[str, Any]]) -> dict[str | None, dict[str, Any]]:
    return {row["channel_id"]: row for row in rows}


async def test_list_json_all_and_prune(auto_rig: AutomationRig, tmp_path: Path) -> None:
    rig = auto_rig
    guild, category = rig.bot.guild, rig.bot.category
    other = guild.add_text_channel(
        "their-app", category=category, topic="<kimaki><directory>/srv/their &amp; app</directory></kimaki>"
    )
    gone_folder = tmp_path / "gone"
    gone_folder.mkdir()
    stale = guild.add_text_channel("gone", category=category)
    rig.bot.core.projects.link(str(stale.id), str(guild.id), str(gone_folder))
    shutil.rmtree(gone_folder)
    deleted = guild.add_text_channel("deleted", category=category)
    rig.bot.core.projects.link(str(deleted.id), str(guild.id), str(rig.bot.project_dir))
    deleted.deleted = True

    local = await rig.cli("project", "list", "--json")
    assert local.code == 0, local.err
    rows = by_channel(json.loads(local.out))
    mine = rows[str(rig.bot.channel.id)]
    assert mine["directory"] == str(rig.bot.project_dir) and mine["linked"] and mine["folder_exists"]
    assert mine["channel_exists"] is None and str(other.id) not in rows
    assert rows[str(stale.id)]["folder_exists"] is False

    every = await rig.cli("project", "list", "--all", "--json")
    assert every.code == 0, every.err
    rows = by_channel(json.loads(every.out))
    theirs = rows[str(other.id)]
    assert theirs["directory"] == "/srv/their & app" and theirs["linked"] is False
    assert rows[str(deleted.id)]["channel_exists"] is False
    assert rows[str(rig.bot.channel.id)]["channel_exists"] is True

    text = await rig.cli("project", "list", "--all")
    assert "other machine" in text.out and "channel gone" in text.out and "folder gone" in text.out

    pruned = await rig.cli("project", "list", "--all", "--prune")
    assert pruned.code == 0, pruned.err
    assert f"Pruned {gone_folder} (channel {stale.id}, folder gone)." in pruned.out
    assert f"(channel {deleted.id}, channel gone)." in pruned.out
    assert rig.bot.core.projects.directory_of(str(stale.id)) is None
    assert rig.bot.core.projects.directory_of(str(deleted.id)) is None
    assert rig.bot.core.projects.directory_of(str(rig.bot.channel.id)) == str(rig.bot.project_dir)

    bad = await rig.cli("project", "list", "--guild", str(guild.id))
    assert bad.code == 2 and "--guild only applies with --all" in bad.err


async def test_create_makes_a_git_folder_and_links_a_channel(auto_rig: AutomationRig, tmp_path: Path) -> None:
    rig = auto_rig
    projects = tmp_path / "projects"
    made = await rig.cli("project", "create", "Shiny App", "--projects-dir", str(projects))
    assert made.code == 0, made.err
    folder = projects / "shiny-app"
    assert (folder / ".git").is_dir()
    channel = next(c for c in rig.bot.guild.channels if c.name == "shiny-app")
    assert channel.parent_id == rig.bot.category.id
    assert rig.bot.core.projects.directory_of(str(channel.id)) == str(folder)
    assert f"Created {folder}" in made.out and f"Linked {folder} to #shiny-app" in made.out

    again = await rig.cli("project", "create", "shiny-app", "--projects-dir", str(projects))
    assert again.code == 1 and "already exists" in again.err
    path = await rig.cli("project", "create", "../escape", "--projects-dir", str(projects))
    assert path.code == 2 and "not a plain name" in path.err
    assert sorted(p.name for p in projects.iterdir()) == ["shiny-app"]
