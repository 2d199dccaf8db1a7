"""OpenCodeClient against the real `opencode serve` driven by the scripted model."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from kimaki_tui.opencode.client import ModelRef, OpenCodeClient, file_part, text_part
from kimaki_tui.opencode.errors import (
    OpenCodeAuthError,
    OpenCodeBadRequest,
    OpenCodeBusy,
    OpenCodeNotFound,
    OpenCodeServerError,
    OpenCodeTimeout,
    OpenCodeUnavailable,
    SessionNotFound,
    error_from_response,
)
from kimaki_tui.opencode.pending import PendingPermission, PendingQuestion
from kimaki_tui.opencode.supervisor import OpenCodeSupervisor
from kimaki_tui.testing.scripted_model import ScriptedModel
from tests.harness import assistant_text, texts, tool_parts, wait_turn_done, wait_until

pytestmark = pytest.mark.opencode


async def test_health(opencode_client: OpenCodeClient) -> None:
    health = await opencode_client.health()
    assert health.healthy is True
    assert health.version


async def test_session_crud(opencode_client: OpenCodeClient, project_dir: Path) -> None:
    created = await opencode_client.create_session(project_dir, title="first title")
    assert created.id.startswith("ses") and created.title == "first title"
    assert Path(created.directory) == project_dir and created.parent_id is None and created.revert is None
    fetched = await opencode_client.get_session(created.id)
    assert fetched.id == created.id and fetched.created == created.created
    other = await opencode_client.create_session(project_dir)
    listed = await opencode_client.list_sessions(project_dir)
    assert {s.id for s in listed} == {created.id, other.id}
    assert [s.id for s in await opencode_client.list_sessions(project_dir, limit=1)] == [other.id]
    assert [s.id for s in await opencode_client.list_sessions(project_dir, search="first")] == [created.id]
    renamed = await opencode_client.update_session(created.id, project_dir, title="renamed")
    assert renamed.title == "renamed" and (await opencode_client.get_session(created.id)).title == "renamed"
    assert await opencode_client.delete_session(created.id, project_dir) is True
    with pytest.raises(SessionNotFound):
        await opencode_client.get_session(created.id)
    assert [s.id for s in await opencode_client.list_sessions(project_dir)] == [other.id]


async def test_prompt_async_then_messages(opencode_client: OpenCodeClient, project_dir: Path) -> None:
    session = await opencode_client.create_session(project_dir)
    await opencode_client.prompt_async(session.id, project_dir, [text_part("hello async")])
    messages = await wait_turn_done(opencode_client, session.id, project_dir)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert texts(messages[0]) == ["hello async"]
    assert assistant_text(messages) == "Echo: hello async"
    assert messages[1].info.tokens.output > 0
    title = await wait_until(
        lambda: _title_if_set(opencode_client, session.id), 15, 0.2, "the generated title"
    )
    assert title == "hello async"


async def _title_if_set(client: OpenCodeClient, session_id: str) -> str | None:
    title = (await client.get_session(session_id)).title
    return None if title.startswith("New session") else title


async def test_sync_prompt_passes_model_agent_system(
    opencode_client: OpenCodeClient, project_dir: Path, scripted_model: ScriptedModel
) -> None:
    session = await opencode_client.create_session(project_dir)
    reply = await opencode_client.prompt(
        session.id,
        project_dir,
        [text_part("REPLY: synced")],
        agent="plan",
        model=ModelRef.parse("fake/fake-model"),
        system="SYSTEM-MARKER-42",
        timeout=30,
    )
    assert texts(reply) == ["synced"]
    assert reply.info.agent == "plan" and reply.info.model_id == "fake-model"
    sent = [r for r in scripted_model.requests if "SYSTEM-MARKER-42" in str(r.get("messages"))]
    assert sent and sent[-1]["model"] == "fake-model"


async def test_file_part_is_read(opencode_client: OpenCodeClient, project_dir: Path) -> None:
    (project_dir / "notes.txt").write_text("the secret word is pumpkin\n")
    session = await opencode_client.create_session(project_dir)
    parts = [text_part("see file"), file_part(project_dir / "notes.txt", "text/plain")]
    await opencode_client.prompt(session.id, project_dir, parts, timeout=30)
    user = (await opencode_client.messages(session.id, project_dir))[0]
    assert any("pumpkin" in p.text for p in user.text_parts())  # OpenCode's synthetic "read" part


async def test_abort_busy_and_timeout(opencode_client: OpenCodeClient, project_dir: Path) -> None:
    slow = await opencode_client.create_session(project_dir)
    with pytest.raises(OpenCodeTimeout):
        await opencode_client.prompt(slow.id, project_dir, [text_part("SLOW:30")], timeout=1.0)
    await opencode_client.abort(slow.id, project_dir)
    # OpenCode may or may not cancel a sync prompt whose client went away: busy is tested on its own.
    session = await opencode_client.create_session(project_dir)
    await opencode_client.prompt_async(session.id, project_dir, [text_part("SLOW:30")])
    await wait_until(
        lambda: _busy(opencode_client, session.id, project_dir), 15, 0.1, "the session to be busy"
    )
    messages = await opencode_client.messages(session.id, project_dir)
    with pytest.raises(OpenCodeBusy) as busy:
        await opencode_client.revert(session.id, project_dir, messages[0].id)
    assert busy.value.status == 409 and busy.value.name == "SessionBusyError"
    assert await opencode_client.abort(session.id, project_dir) is True
    messages = await wait_turn_done(opencode_client, session.id, project_dir, timeout=15)
    error = messages[-1].info.error
    assert error is not None and error.name == "MessageAbortedError"
    assert session.id not in await opencode_client.session_status(project_dir)


async def _busy(client: OpenCodeClient, session_id: str, directory: Path) -> bool:
    status = await client.session_status(directory)
    return session_id in status and status[session_id].type == "busy"


async def test_fork(opencode_client: OpenCodeClient, project_dir: Path) -> None:
    session = await opencode_client.create_session(project_dir, title="orig")
    await opencode_client.prompt(session.id, project_dir, [text_part("REPLY: one")], timeout=30)
    await opencode_client.prompt(session.id, project_dir, [text_part("REPLY: two")], timeout=30)
    messages = await opencode_client.messages(session.id, project_dir)
    second_user = messages[2].id
    partial = await opencode_client.fork(session.id, project_dir, second_user)
    assert partial.id != session.id and partial.title.startswith("orig (fork")
    assert assistant_text(await opencode_client.messages(partial.id, project_dir)) == "one"
    full = await opencode_client.fork(session.id, project_dir)
    assert assistant_text(await opencode_client.messages(full.id, project_dir)) == "one\ntwo"


async def test_revert_and_unrevert_restore_files(opencode_client: OpenCodeClient, project_dir: Path) -> None:
    target = project_dir / "written.txt"
    session = await opencode_client.create_session(project_dir)
    await opencode_client.prompt(
        session.id, project_dir, [text_part(f"WRITE_FILE: {target} hello from the model")], timeout=30
    )
    assert target.read_text() == "hello from the model"
    messages = await opencode_client.messages(session.id, project_dir)
    assert tool_parts(messages, "write")[0].state.status == "completed"
    reverted = await opencode_client.revert(session.id, project_dir, messages[0].id)
    assert reverted.revert is not None and reverted.revert.message_id == messages[0].id
    assert not target.exists()
    restored = await opencode_client.unrevert(session.id, project_dir)
    assert restored.revert is None
    assert target.read_text() == "hello from the model"


async def test_shell_runs_without_model(
    opencode_client: OpenCodeClient, project_dir: Path, scripted_model: ScriptedModel
) -> None:
    session = await opencode_client.create_session(project_dir)
    before = len(scripted_model.requests)
    result = await opencode_client.shell(session.id, project_dir, "echo shell-ok")
    assert result.role == "assistant"
    messages = await opencode_client.messages(session.id, project_dir)
    bash = tool_parts(messages, "bash")
    assert bash and "shell-ok" in bash[0].state.output
    assert len(scripted_model.requests) == before


async def test_catalogue_endpoints(opencode_client: OpenCodeClient, project_dir: Path) -> None:
    commands = {c.name for c in await opencode_client.commands(project_dir)}
    assert {"init", "review"} <= commands
    agents = {a.name: a for a in await opencode_client.agents(project_dir)}
    assert agents["build"].mode == "primary" and agents["plan"].mode == "primary"
    providers = await opencode_client.providers(project_dir)
    assert [p.id for p in providers.providers] == ["fake"]
    assert "fake-model" in [m.id for m in providers.providers[0].models]
    assert providers.defaults == {"fake": "fake-model"}
    config = await opencode_client.config(project_dir)
    assert str(config.model) == "fake/fake-model"
    vcs = await opencode_client.vcs(project_dir)
    assert vcs.branch in ("main", "master")
    projects = await opencode_client.projects()
    assert any(Path(p.worktree) == project_dir for p in projects)


async def test_command_runs_a_template(opencode_client: OpenCodeClient, project_dir: Path) -> None:
    session = await opencode_client.create_session(project_dir)
    reply = await opencode_client.command(session.id, project_dir, "review", "the README", timeout=30)
    assert texts(reply)[0].startswith("Echo: ")


async def test_summarize_compacts(opencode_client: OpenCodeClient, project_dir: Path) -> None:
    session = await opencode_client.create_session(project_dir)
    await opencode_client.prompt(
        session.id, project_dir, [text_part("REPLY: something to compact")], timeout=30
    )
    assert await opencode_client.summarize(session.id, project_dir, "fake", "fake-model") is True
    messages = await opencode_client.messages(session.id, project_dir)
    assert any(p.type == "compaction" for m in messages for p in m.parts)
    assert any(m.info.summary for m in messages)


async def test_unknown_session_ids(opencode_client: OpenCodeClient) -> None:
    with pytest.raises(SessionNotFound):
        await opencode_client.get_session("not-a-session")
    with pytest.raises(SessionNotFound) as server_side:
        await opencode_client.get_session("ses_000000000000000000000000")
    assert server_side.value.status == 404
    with pytest.raises(SessionNotFound):
        await opencode_client.messages("ses_000000000000000000000000")


async def test_http_errors_are_typed(opencode_client: OpenCodeClient, project_dir: Path) -> None:
    with pytest.raises(OpenCodeNotFound) as missing:
        await opencode_client.reply_permission("per_000000000000000000000000", "once")
    assert not isinstance(missing.value, SessionNotFound) and missing.value.name == "PermissionNotFoundError"
    with pytest.raises(OpenCodeBadRequest):
        await opencode_client.reply_permission("per_000000000000000000000000", "sometimes")  # type: ignore[arg-type]
    session = await opencode_client.create_session(project_dir)
    with pytest.raises(OpenCodeServerError) as disabled:  # "share": "disabled" in the test config
        await opencode_client.share(session.id, project_dir)
    assert disabled.value.status == 500


async def test_auth_and_unreachable(opencode_server: OpenCodeSupervisor, project_dir: Path) -> None:
    async with OpenCodeClient(str(opencode_server.base_url), "wrong-password") as wrong:
        with pytest.raises(OpenCodeAuthError) as denied:
            await wrong.list_sessions(project_dir)
        assert denied.value.status == 401 and denied.value.hint
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        async with OpenCodeClient(f"http://127.0.0.1:{port}") as nowhere:
            with pytest.raises(OpenCodeUnavailable):
                await nowhere.health()


def test_error_body_shapes() -> None:
    named = error_from_response(
        404, {"name": "NotFoundError", "data": {"message": "Session not found"}}, "/session/x"
    )
    assert isinstance(named, SessionNotFound) and named.message == "Session not found"
    tagged = error_from_response(409, {"_tag": "SessionBusyError", "message": "busy"}, "/session/x/revert")
    assert isinstance(tagged, OpenCodeBusy) and tagged.name == "SessionBusyError" and tagged.message == "busy"
    assert isinstance(error_from_response(502, "Bad gateway"), OpenCodeServerError)


def test_parts_and_model_refs(tmp_path: Path) -> None:
    assert text_part("hi") == {"type": "text", "text": "hi"}
    assert text_part("hi", synthetic=True)["synthetic"] is True
    (tmp_path / "a.png").write_bytes(b"x")
    assert file_part(tmp_path / "a.png", "image/png") == {
        "type": "file", "mime": "image/png", "url": (tmp_path / "a.png").as_uri(), "filename": "a.png",
    }  # fmt: skip
    assert file_part(b"hi", "text/plain", "b.txt")["url"] == "data:text/plain;base64,aGk="
    ref = ModelRef.parse("openrouter/anthropic/claude")
    assert (ref.provider_id, ref.model_id, str(ref)) == (
        "openrouter",
        "anthropic/claude",
        "openrouter/anthropic/claude",
    )
    with pytest.raises(ValueError):
        ModelRef.parse("no-slash")


async def _ask_bash(client: OpenCodeClient, directory: Path, command: str) -> tuple[str, PendingPermission]:
    """Start a turn that runs `command` through bash and return (session id, the pending request)."""
    session = await client.create_session(directory)
    await client.prompt_async(session.id, directory, [text_part(f"RUN_BASH: {command}")])

    async def pending() -> PendingPermission | None:
        requests = [r for r in await client.list_permissions(directory) if r.session_id == session.id]
        return requests[0] if requests else None

    return session.id, await wait_until(pending, 20, 0.1, "the bash permission request")


async def test_permission_once(opencode_client: OpenCodeClient, project_dir: Path) -> None:
    sid, request = await _ask_bash(opencode_client, project_dir, "echo once-ok | tee once.txt")
    assert request.permission == "bash" and request.metadata == {
        "command": "echo once-ok | tee once.txt"
    }
    assert await opencode_client.list_permissions() == []  # listed per directory only
    with pytest.raises(OpenCodeNotFound):  # and only found with the directory
        await opencode_client.reply_permission(request.id, "once")
    assert await opencode_client.reply_permission(request.id, "once", directory=project_dir) is True
    messages = await wait_turn_done(opencode_client, sid, project_dir)
    assert (project_dir / "once.txt").read_text() == "once-ok\n"
    assert "Tool said: once-ok" in assistant_text(messages)
    assert await opencode_client.list_permissions(project_dir) == []
    with pytest.raises(OpenCodeNotFound):  # already answered
        await opencode_client.reply_permission(request.id, "once", directory=project_dir)


async def test_permission_always_covers_new_sessions(
    opencode_client: OpenCodeClient, project_dir: Path
) -> None:
    sid, request = await _ask_bash(opencode_client, project_dir, "echo first > always1.txt")
    assert "echo *" in request.always
    await opencode_client.reply_permission(request.id, "always", directory=project_dir)
    await wait_turn_done(opencode_client, sid, project_dir)
    assert (project_dir / "always1.txt").exists()
    second = await opencode_client.create_session(project_dir)
    # Blocks until the turn ends: it would time out if bash asked again.
    await opencode_client.prompt(
        second.id, project_dir, [text_part("RUN_BASH: echo second > always2.txt")], timeout=20
    )
    assert (project_dir / "always2.txt").read_text() == "second\n"
    assert await opencode_client.list_permissions(project_dir) == []


async def test_permission_reject_stops_the_turn(
    opencode_client: OpenCodeClient, project_dir: Path, scripted_model: ScriptedModel
) -> None:
    sid, request = await _ask_bash(opencode_client, project_dir, "echo no > rejected.txt")
    calls_before = len(scripted_model.requests)
    await opencode_client.reply_permission(request.id, "reject", directory=project_dir)
    messages = await wait_turn_done(opencode_client, sid, project_dir)
    assert not (project_dir / "rejected.txt").exists()
    state = tool_parts(messages, "bash")[0].state
    assert state.status == "error" and "rejected" in state.error
    assert "Tool said" not in assistant_text(messages)
    assert len(scripted_model.requests) == calls_before  # the model was not called again


async def test_permission_reject_with_feedback_continues(
    opencode_client: OpenCodeClient, project_dir: Path
) -> None:
    sid, request = await _ask_bash(opencode_client, project_dir, "echo no > feedback.txt")
    await opencode_client.reply_permission(
        request.id, "reject", message="use python instead", directory=project_dir
    )
    messages = await wait_turn_done(opencode_client, sid, project_dir)
    assert not (project_dir / "feedback.txt").exists()
    assert "Tool said:" in assistant_text(messages)
    assert "use python instead" in tool_parts(messages, "bash")[0].state.error


async def _ask_question(client: OpenCodeClient, directory: Path) -> tuple[str, PendingQuestion]:
    session = await client.create_session(directory)
    await client.prompt_async(session.id, directory, [text_part("ASK_QUESTION")])

    async def pending() -> PendingQuestion | None:
        requests = [r for r in await client.list_questions(directory) if r.session_id == session.id]
        return requests[0] if requests else None

    return session.id, await wait_until(pending, 20, 0.1, "the question request")


async def test_question_reply(opencode_client: OpenCodeClient, project_dir: Path) -> None:
    sid, request = await _ask_question(opencode_client, project_dir)
    question = request.questions[0]
    assert question.header == "Color" and [o.label for o in question.options] == [
        "Red",
        "Green",
        "Blue",
    ]
    assert await opencode_client.reply_question(request.id, [["Blue"]], project_dir) is True
    messages = await wait_turn_done(opencode_client, sid, project_dir)
    assert (
        'Tool said: User has answered your questions: "Which color do you prefer?"="Blue"'
        in assistant_text(messages)
    )
    assert await opencode_client.list_questions(project_dir) == []


async def test_question_reject(opencode_client: OpenCodeClient, project_dir: Path) -> None:
    sid, request = await _ask_question(opencode_client, project_dir)
    assert await opencode_client.reject_question(request.id, project_dir) is True
    messages = await wait_turn_done(opencode_client, sid, project_dir)
    state = tool_parts(messages, "question")[0].state
    assert state.status == "error" and "dismissed" in state.error
    assert "Tool said" not in assistant_text(messages)


def inotify_instances(pid: int) -> int:
    fds = Path(f"/proc/{pid}/fd")
    return sum(1 for fd in fds.iterdir() if "inotify" in _link(fd))


def _link(path: Path) -> str:
    try:
        return str(path.readlink())
    except OSError:  # closed between the listing and the look
        return ""


async def test_a_disposed_instance_lets_go_of_its_watcher_and_keeps_its_sessions(
    opencode_server: OpenCodeSupervisor, project_dir: Path
) -> None:
    """Each project instance holds an inotify instance (Linux allows 128 per user): disposing
    gives it back, and the project's sessions go on in a fresh instance."""
    client, pid = opencode_server.client, opencode_server.pid
    assert pid is not None
    await client.dispose_all_instances()
    baseline = inotify_instances(pid)
    session = await client.create_session(project_dir)
    await client.prompt(session.id, project_dir, [text_part("REPLY: watched")], timeout=60)
    await wait_until(lambda: inotify_instances(pid) > baseline, 10, message="the project's watcher")

    assert await client.dispose_instance(project_dir) is True
    await wait_until(lambda: inotify_instances(pid) == baseline, 10, message="the watcher to close")
    await client.prompt(session.id, project_dir, [text_part("REPLY: still here")], timeout=60)
    answers = assistant_text(await client.messages(session.id, project_dir))
    assert answers.splitlines() == ["watched", "still here"]
