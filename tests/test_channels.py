"""Pure parts of project-channel management: the channel plan (category, name, topic), path checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kimaki_tui.bot.channels import ProjectChannelError, resolve_project_dir
from kimaki_tui.setup.channel_plan import (
    CATEGORY_NAME,
    ChannelPlan,
    ExistingChannel,
    channel_topic,
    plan_project_channel,
    sanitize_channel_name,
)


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("my-project", "my-project"),
        ("My Project", "my-project"),
        ("kimaki_tui", "kimaki-tui"),
        ("foo.bar.baz", "foo-bar-baz"),
        ("  --Weird__Name!!--  ", "weird-name"),
        ("a - b", "a-b"),
        ("Café Crème", "cafe-creme"),
        ("日本語", "project"),
        ("...", "project"),
        ("", "project"),
        ("v2.0", "v2-0"),
    ],
)
def test_sanitize_channel_name(folder: str, expected: str) -> None:
    assert sanitize_channel_name(folder) == expected


def test_sanitize_channel_name_is_capped_without_trailing_dash() -> None:
    name = sanitize_channel_name("x" * 99 + " tail")
    assert len(name) <= 100 and name == "x" * 99
    assert len(sanitize_channel_name("ab" * 300)) == 100


def test_channel_topic_is_xml_and_escaped() -> None:
    assert channel_topic("/srv/app", 42) == "<kimaki><directory>/srv/app</directory><app>42</app></kimaki>"
    assert (
        channel_topic("/srv/a&b<c>", None) == "<kimaki><directory>/srv/a&amp;b&lt;c&gt;</directory></kimaki>"
    )
    assert channel_topic("/" + "d" * 1100, 1) is None


def test_the_plan_reuses_the_kimaki_category_whatever_its_case() -> None:
    existing = [
        ExistingChannel("1", "general", is_category=False),
        ExistingChannel("2", "kimaki", is_category=False),  # a text channel of that name is no category
        ExistingChannel("3", "Projects", is_category=True),
        ExistingChannel("4", "KIMAKI", is_category=True),
    ]
    plan = plan_project_channel(existing, "/srv/My App", "42")
    assert plan == ChannelPlan(
        category_id="4",
        name="my-app",
        topic="<kimaki><directory>/srv/My App</directory><app>42</app></kimaki>",
        reason="Kimaki project /srv/My App",
    )


def test_the_plan_asks_for_a_category_when_the_guild_has_none() -> None:
    existing = [ExistingChannel("1", "general", is_category=False), ExistingChannel("2", "Other", True)]
    plan = plan_project_channel(existing, "/" + "d" * 1100, None)
    assert plan.category_id is None and CATEGORY_NAME == "Kimaki"
    assert plan.name == "d" * 100 and plan.topic is None  # too long a path: no topic rather than a cut one


def test_resolve_project_dir_accepts_absolute_existing_directories(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    link = tmp_path / "link"
    link.symlink_to(project)
    assert resolve_project_dir(f"  {project}  ") == str(project.resolve())
    assert resolve_project_dir(str(link)) == str(project.resolve())  # symlinks resolve to the real dir


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "absolute path"),
        ("relative/dir", "not an absolute path"),
        ("./proj", "not an absolute path"),
        ("{tmp}/proj/../proj", "contains `..`"),
        ("{tmp}/missing", "does not exist"),
        ("{tmp}/file.txt", "is not a directory"),
    ],
)
def test_resolve_project_dir_refusals(tmp_path: Path, typed: str, message: str) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ProjectChannelError, match=message.replace("(", r"\(")):
        resolve_project_dir(typed.format(tmp=tmp_path))


def test_resolve_project_dir_expands_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "code").mkdir()
    assert resolve_project_dir("~/code") == str((tmp_path / "code").resolve())
    assert os.path.isabs(resolve_project_dir("~"))
