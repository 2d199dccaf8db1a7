"""The agent tools' argument rules and the file reader behind `kimaki_send_file`."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kimaki_tui.agent_tools import arguments as args
from kimaki_tui.agent_tools.arguments import ToolArgumentError
from kimaki_tui.agent_tools.files import read_project_file

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
MONTH = timedelta(days=30)


def refused(parse: Any, raw: dict[str, Any]) -> str:
    with pytest.raises(ToolArgumentError) as error:
        parse(raw)
    return str(error.value)


def test_buttons_take_one_to_five_distinct_single_line_labels() -> None:
    assert args.buttons_args({"buttons": [" Yes ", "No"], "prompt": "Ship?"}) == args.ButtonsArgs(
        ("Yes", "No"), "Ship?"
    )
    assert args.buttons_args({"buttons": ["x" * 80]}).labels == ("x" * 80,)
    assert refused(args.buttons_args, {"buttons": []}) == "`buttons` has 0 labels; give 1 to 5."
    assert refused(args.buttons_args, {"buttons": list("abcdef")}) == "`buttons` has 6 labels; give 1 to 5."
    assert "is 81 characters; the limit is 80" in refused(args.buttons_args, {"buttons": ["x" * 81]})
    assert refused(args.buttons_args, {"buttons": ["  "]}) == "a button label is empty."
    assert "same label" in refused(args.buttons_args, {"buttons": ["Go", "Go "]})
    assert "single line" in refused(args.buttons_args, {"buttons": ["a\nb"]})
    assert "list of button labels" in refused(args.buttons_args, {"buttons": "Yes"})
    assert "list of button labels" in refused(args.buttons_args, {"buttons": [1, 2]})
    assert "list of button labels" in refused(args.buttons_args, {})


def test_unknown_arguments_are_named() -> None:
    message = refused(args.buttons_args, {"buttons": ["A"], "colour": "red"})
    assert message == "unknown argument(s) colour; this tool takes buttons, prompt."


def test_file_upload_needs_a_prompt_and_one_to_ten_files() -> None:
    assert args.file_upload_args({"prompt": "Logo"}) == args.FileUploadArgs("Logo", 5)
    assert args.file_upload_args({"prompt": "Logo", "max_files": 10}).max_files == 10
    assert refused(args.file_upload_args, {}) == "`prompt` must be a string."
    assert refused(args.file_upload_args, {"prompt": " "}) == "`prompt` must not be empty."
    assert "the limit is 1500" in refused(args.file_upload_args, {"prompt": "x" * 1501})
    for count in (0, 11):
        assert refused(args.file_upload_args, {"prompt": "p", "max_files": count}).endswith("from 1 to 10.")
    for wrong in (True, "3", 2.5):
        assert "whole number" in refused(args.file_upload_args, {"prompt": "p", "max_files": wrong})


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("1 H 5 M", 3900)],
)
def test_durations(text: str, seconds: int) -> None:
    assert args.parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["soon", "10", "-5m", "5x", "m5", "1h junk", ""])
def test_bad_durations_say_what_is_expected(text: str) -> None:
    with pytest.raises(ToolArgumentError, match="is not like 30s, 10m, 2h, 1d or 1h30m"):
        args.parse_duration(text)


def sleep(raw: dict[str, Any]) -> args.SleepArgs:
    return args.sleep_args(raw, now=NOW, longest=MONTH)


def test_sleep_takes_a_duration_or_a_utc_time() -> None:
    assert sleep({"duration": "2h", "reason": "CI"}) == args.SleepArgs(NOW + timedelta(hours=2), "CI")
    until = sleep({"until": "2030-01-02T09:30:00Z", "reason": "r"}).at
    assert until == datetime(2030, 1, 2, 9, 30, tzinfo=UTC)
    assert sleep({"until": "2030-01-02T10:30:00+01:00", "reason": "r"}).at == until


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"reason": "r"}, "give exactly one of `duration`"),
        (
            {"duration": "1h", "until": "2030-01-02T00:00:00Z", "reason": "r"},
            "give exactly one of `duration`",
        ),
        ({"duration": "1h"}, "`reason` must be a string."),
        ({"until": "2030-01-02T00:00:00", "reason": "r"}, "has no time zone; end it with Z for UTC."),
        ({"until": "tomorrow", "reason": "r"}, "is not an ISO 8601 time like 2030-01-31T09:00:00Z."),
        ({"until": "2029-12-31T00:00:00Z", "reason": "r"}, "is not in the future."),
        ({"duration": "0s", "reason": "r"}, "is not in the future."),
        ({"duration": "31d", "reason": "r"}, "the longest sleep is 30 days."),
    ],
)
def test_bad_sleeps(raw: dict[str, Any], message: str) -> None:
    assert message in refused(sleep, raw)


def test_send_needs_a_channel_and_a_prompt() -> None:
    assert args.send_args({"channel": " #web ", "prompt": "Hi"}) == args.SendArgs("#web", "Hi")
    assert refused(args.send_args, {"channel": "a\nb", "prompt": "Hi"}) == "`channel` must be a single line."
    assert refused(args.send_args, {"channel": "web"}) == "`prompt` must be a string."


def test_every_tool_has_a_strict_schema() -> None:
    assert set(args.SCHEMAS) == {"file_upload", "action_buttons", "send_file", "sleep", "send"}
    for schema in args.SCHEMAS.values():
        assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert args.SCHEMAS["action_buttons"]["properties"]["buttons"]["maxItems"] == 5


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "docs").mkdir(parents=True)
    (root / "docs/a.txt").write_text("hello")
    (tmp_path / "outside.txt").write_text("secret")
    return root


def test_a_project_file_is_read_whole(project: Path) -> None:
    file = read_project_file(project, "docs/a.txt", caption="c")
    assert (file.name, file.relative_path, file.data, file.caption) == ("a.txt", "docs/a.txt", b"hello", "c")
    assert read_project_file(project, str(project / "docs/a.txt")).relative_path == "docs/a.txt"
    (project / "alias.txt").symlink_to(project / "docs/a.txt")
    assert read_project_file(project, "alias.txt").relative_path == "docs/a.txt"


def test_paths_that_leave_the_project_are_refused(project: Path) -> None:
    (project / "escape.txt").symlink_to(project.parent / "outside.txt")
    (project / "escape-dir").symlink_to(project.parent)
    for path in (
        "../outside.txt",
        str(project.parent / "outside.txt"),
        "escape.txt",
        "escape-dir/outside.txt",
        "docs/../../outside.txt",
        "~/outside.txt",
    ):
        with pytest.raises(ToolArgumentError, match="is outside the project directory"):
            read_project_file(project, path)


def test_only_existing_regular_files_within_the_limit(project: Path) -> None:
    with pytest.raises(ToolArgumentError, match="does not exist"):
        read_project_file(project, "nope.txt")
    with pytest.raises(ToolArgumentError, match="is not a regular file"):
        read_project_file(project, "docs")
    os.mkfifo(project / "pipe")
    with pytest.raises(ToolArgumentError, match="is not a regular file"):
        read_project_file(project, "pipe")
    with pytest.raises(ToolArgumentError, match=r"is 5 bytes \(0.0 MB\); the limit is 4 bytes"):
        read_project_file(project, "docs/a.txt", limit=4)
