"""`--log-format json`: one JSON object per line with time, level, logger and message, plus the
thread, session and request ids of the conversation a record concerns; secrets masked; the Logs
screen's ring stays text."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kimaki_tui.core.events import PermissionAskedEvent, TurnFinished
from kimaki_tui.logs import log_context, setup_logging
from kimaki_tui.opencode.client import OpenCodeClient
from kimaki_tui.settings import load_settings
from tests.core_rig import CoreRig

TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0Mw.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"


@pytest.fixture
def json_log(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "kimaki.log"
    setup_logging(path, logging.INFO, file_format="json")
    yield path
    setup_logging(tmp_path / "after.log", logging.INFO)  # back to text for the tests that follow


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_each_line_is_a_json_record_with_the_bound_ids(json_log: Path) -> None:
    log = logging.getLogger("kimaki_tui.test")
    with log_context(thread_id="1001", session_id="ses_1"):
        with log_context(request_id="per_1"):
            log.warning("token %s leaked?", TOKEN)
        log.info("outside the request")
    log.info("no conversation")
    first, second, third = records(json_log)
    assert first["level"] == "WARNING" and first["logger"] == "kimaki_tui.test" and first["time"]
    assert first["message"] == "token [redacted] leaked?"
    assert (first["thread_id"], first["session_id"], first["request_id"]) == ("1001", "ses_1", "per_1")
    assert second["thread_id"] == "1001" and "request_id" not in second
    assert "thread_id" not in third


def test_the_setting_reaches_the_log_file_and_the_ring_stays_text(tmp_path: Path) -> None:
    settings = load_settings({"log_format": "json"}, env={"KIMAKI_DATA_DIR": str(tmp_path)})
    ring = setup_logging(settings.log_path, logging.INFO, file_format=settings.log_format)
    try:
        logging.getLogger("kimaki_tui.test").info("hello")
        assert records(settings.log_path)[-1]["message"] == "hello"
        assert ring.lines()[-1].endswith("kimaki_tui.test: hello")
    finally:
        setup_logging(tmp_path / "after.log", logging.INFO)


@pytest.mark.opencode
async def test_a_turn_logs_its_thread_session_and_request(
    json_log: Path, opencode_client: OpenCodeClient, project_dir: Path, tmp_path: Path
) -> None:
    async with CoreRig(opencode_client, tmp_path / "db.sqlite") as rig:
        thread = rig.thread(project_dir, thread_id="4242")
        await rig.core.conversations.submit(thread.thread_id, rig.prompt("RUN_BASH: echo hi"))
        asked = await rig.wait_for(PermissionAskedEvent)
        request_id = asked.request.request_id
        await rig.core.approvals.answer_permission(request_id, "once", by="alice", origin="test")
        await rig.wait_for(TurnFinished)
    sent = next(r for r in records(json_log) if r["message"].startswith("sent alice's prompt"))
    assert (sent["thread_id"], sent["session_id"]) == ("4242", thread.session_id)
    answered = next(r for r in records(json_log) if r["message"] == f"permission {request_id} answered")
    assert answered["request_id"] == request_id
