"""`kimaki send`: post a prompt as the bot (over REST, with only the bot token) for the running kimaki
to pick up; `--wait` prints the answer. With `--send-at` the request is stored as a scheduled task
instead, which the running kimaki's bot sends itself when it falls due.

In a project channel the message starts a thread and a session; in a thread (or the thread of a
`--session`) it is the session's next prompt. The message carries the CLI marker
(bot/cli_marker.py), which is how the running bot tells it from its own replies.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimaki_tui.cli.local import CliError, add_data_dir, discord_rest, out, run, settings_of
from kimaki_tui.cli.send_flags import MAX_FILES, USER_REF, add_send_flags, check_flags
from kimaki_tui.root.offline import open_core

if TYPE_CHECKING:
    from kimaki_tui.control_api import ControlClient
    from kimaki_tui.discord_rest import DiscordRest
    from kimaki_tui.scheduling.request import PostedStarter, SendRequest
    from kimaki_tui.scheduling.when import Schedule
    from kimaki_tui.settings import Settings

PICKUP_WAIT = 15.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "send",
        help="send a prompt to a project channel, thread or session (the running kimaki answers)",
        description="Post a prompt as the bot for the running kimaki to pick up: in a project channel it "
        "starts a thread and a session, in a thread it is the session's next prompt. Needs only the "
        "bot token (KIMAKI_BOT_TOKEN in CI). With --send-at the send is scheduled instead.",
    )
    add_send_flags(parser)
    add_data_dir(parser)
    parser.set_defaults(handler=run_send)


def run_send(args: argparse.Namespace) -> int:
    return run(lambda: send(args))


@dataclass(frozen=True, slots=True)
class Target:
    kind: str  # "channel" or "thread"
    target_id: str
    channel_id: str  # the project channel (a thread's parent)
    guild_id: str | None


async def send(args: argparse.Namespace) -> int:
    from kimaki_tui.scheduling.request import SendRequest

    problem = check_flags(args)
    if problem:
        raise CliError(problem, 2)
    prompt = _prompt_text(args.prompt)
    schedule = _schedule(args.send_at) if args.send_at else None
    settings = settings_of(args)
    async with discord_rest(settings) as rest:
        target = await resolve_target(args, settings, rest)
        if (args.worktree is not None or args.cwd) and target.kind == "channel":
            flag = "--worktree" if args.worktree is not None else "--cwd"
            _check_not_sandboxed(settings, target.channel_id, flag)
        user = USER_REF.match(args.user.strip()) if args.user else None
        request = SendRequest(
            target.kind,  # type: ignore[arg-type]
            target.target_id,
            prompt,
            name=args.name,
            agent=args.agent,
            model=args.model,
            worktree=args.worktree,
            user_id=user["id"] if user else None,
            notify_only=args.notify_only,
            cwd=_working_folder(settings, args.cwd, target) if args.cwd else None,
            permissions=tuple(args.permissions),
            injection_guard=tuple(args.injection_guard),
            parent_session=args.parent_session,
            pre_run=args.pre_run,
            allow_concurrency=args.allow_concurrency,
        )
        files = read_files(args.files, request)
        if schedule is not None:
            return await _add_task(settings, schedule, request, target)
        return await _post(args, settings, rest, request, target, files)


def _prompt_text(value: str) -> str:
    text = sys.stdin.read() if value == "-" else value
    if not text.strip():
        raise CliError("the prompt is empty", 2)
    return text


def read_files(paths: list[str], request: SendRequest) -> tuple[tuple[str, bytes], ...]:
    """The `--file`s as (name, bytes): at most MAX_FILES with the prompt file, regular files only."""
    from kimaki_tui.bot.cli_marker import PROMPT_FILE, prompt_is_a_file

    room = MAX_FILES - (1 if prompt_is_a_file(request) else 0)
    if len(paths) > room:
        why = f" (the long prompt travels as {PROMPT_FILE} and takes one)" if room < MAX_FILES else ""
        raise CliError(f"--file: at most {room} files per send{why}, got {len(paths)}", 2)
    files: list[tuple[str, bytes]] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.is_file():
            what = "does not exist" if not path.exists() else "is not a regular file"
            raise CliError(f"--file {raw}: {what}", 2)
        if path.name == PROMPT_FILE and prompt_is_a_file(request):
            raise CliError(f"--file {raw}: {PROMPT_FILE} is the name the long prompt travels under", 2)
        try:
            files.append((path.name, path.read_bytes()))
        except OSError as exc:
            raise CliError(f"--file {raw}: {exc.strerror or exc}", 2) from None
    return tuple(files)


def _check_not_sandboxed(settings: Settings, channel_id: str, flag: str) -> None:
    """--worktree and --cwd choose a folder themselves; a sandboxed channel gives each thread its own.
    Checked here when the channel's choice is known on this machine (/sandbox, config); the running
    bot refuses the rest (a `--sandbox` flag given to it)."""
    with open_core(settings) as core:
        mode = core.sandbox_mode(channel_id, settings.sandbox.mode)
    if mode != "none":
        raise CliError(
            f"{flag} cannot be used in channel {channel_id}: it runs each new thread in its own {mode} "
            "sandbox over its own worktree (send without it, or use /sandbox none in that channel)",
            2,
        )


def _working_folder(settings: Settings, cwd: str, target: Target) -> str:
    """`--cwd` as an absolute folder inside the target channel's project."""
    with open_core(settings) as core:
        project = core.projects.directory_of(target.channel_id)
    if project is None:
        raise CliError(
            f"--cwd needs the project folder of channel {target.channel_id}, which is not linked here", 2
        )
    folder = Path(cwd).expanduser().resolve()
    root = Path(project).resolve()
    if not folder.is_dir():
        raise CliError(f"--cwd {cwd}: not a folder", 2)
    if folder != root and root not in folder.parents:
        raise CliError(f"--cwd {cwd}: not inside the project folder {root}", 2)
    return str(folder)


def _schedule(when: str) -> Schedule:
    from datetime import UTC, datetime

    from kimaki_tui.scheduling.when import WhenError, parse_when

    try:
        return parse_when(when, now=datetime.now(UTC))
    except WhenError as exc:
        raise CliError(str(exc), 2) from None


async def resolve_target(args: argparse.Namespace, settings: Settings, rest: DiscordRest) -> Target:
    from kimaki_tui.discord_rest import THREAD_TYPES

    if args.thread or args.session:
        thread_id = args.thread or _thread_of_session(settings, args.session)
        info = await rest.channel(thread_id)
        if info.get("type") not in THREAD_TYPES:
            raise CliError(f"{thread_id} is not a thread; use --channel to start a thread in a channel", 2)
        return Target("thread", thread_id, str(info.get("parent_id")), _guild(info))
    channel_id = args.channel or _channel_of_project(settings, args.project or os.getcwd(), args.app_id)
    info = await rest.channel(channel_id)
    if info.get("type") in THREAD_TYPES:
        raise CliError(f"{channel_id} is a thread; use --thread to prompt its session", 2)
    return Target("channel", channel_id, channel_id, _guild(info))


def _guild(info: dict[str, Any]) -> str | None:
    guild = info.get("guild_id")
    return str(guild) if guild else None


def _thread_of_session(settings: Settings, session_id: str) -> str:
    with open_core(settings) as core:
        row = core.thread_of_session(session_id)
    if row is None:
        raise CliError(
            f"no thread shows session {session_id} here (`kimaki session list` shows the known ones)"
        )
    return row.thread_id


def _channel_of_project(settings: Settings, directory: str, app_id: str | None) -> str:
    """The channel linked to `directory` or the nearest folder above it."""
    path = Path(directory).expanduser().resolve()
    if not path.is_dir():
        raise CliError(f"{directory} is not a folder", 2)
    with open_core(settings) as core:
        for candidate in (path, *path.parents):
            links = [
                c for c in core.projects.links_for(str(candidate)) if not app_id or c.app_id in (None, app_id)
            ]
            if links:
                return links[0].channel_id
    raise CliError(
        f"no channel is linked to {path} or a folder above it: "
        f"run `kimaki project add {path}` or pass --channel"
    )


async def _add_task(settings: Settings, schedule: Schedule, request: SendRequest, target: Target) -> int:
    from kimaki_tui.cli.local import running_control
    from kimaki_tui.control_api import ControlError

    data_dir = settings.data_dir
    with open_core(settings) as core:
        task = core.tasks.add(schedule, request, channel_id=target.channel_id)
    local = schedule.first_run.astimezone()
    out(f"Scheduled task {task.id}: {schedule.describe()}; next run {local:%Y-%m-%d %H:%M %Z}.")
    control = await running_control(settings)
    if control is None:
        out(f"No kimaki is running for {data_dir}: the task runs once it is started.")
        return 0
    try:
        await control.tasks_changed()
    except ControlError:
        pass  # the running kimaki re-reads its tasks every few seconds anyway
    return 0


async def _post(
    args: argparse.Namespace,
    settings: Settings,
    rest: DiscordRest,
    request: SendRequest,
    target: Target,
    files: tuple[tuple[str, bytes], ...],
) -> int:
    from kimaki_tui.cli.local import running_control

    control = await running_control(settings)
    if args.wait:
        if control is None:
            raise CliError(f"--wait needs kimaki running on this machine for {settings.data_dir}")
        return await _post_and_wait(control, rest, request, target, files)
    posted = await post_starter(rest, request, files)
    _report(posted, target, request)
    if control is not None and target.kind == "channel" and not request.notify_only:
        await _report_session(control, posted.thread_id)
    return 0


def _report(posted: PostedStarter, target: Target, request: SendRequest) -> None:
    from kimaki_tui.discord_rest import message_url

    thread_url = message_url(target.guild_id, posted.thread_id)
    if target.kind == "thread":
        url = message_url(target.guild_id, posted.thread_id, posted.message_id)
        out(f"Sent to thread {posted.thread_id}: {url}")
    elif request.notify_only:
        out(f"Thread {posted.thread_id} (notify only; a reply starts the session): {thread_url}")
    else:
        out(f"Thread {posted.thread_id}: {thread_url}")


async def _report_session(control: ControlClient, thread_id: str) -> None:
    from kimaki_tui.cli.waiting import wait_for_session

    try:
        state = await wait_for_session(control, thread_id, PICKUP_WAIT)
    except CliError as exc:
        out(f"Session: not started yet ({exc})")
        return
    out(f"Session: {state.session_id}")


async def _post_and_wait(
    control: ControlClient,
    rest: DiscordRest,
    request: SendRequest,
    target: Target,
    files: tuple[tuple[str, bytes], ...],
) -> int:
    from kimaki_tui.cli.local import running_opencode
    from kimaki_tui.cli.session_markdown import render
    from kimaki_tui.cli.waiting import thread_state, user_messages, wait_for_answer

    async with await running_opencode(control) as opencode:
        before = 0
        if target.kind == "thread":
            before = await user_messages(opencode, await thread_state(control, target.target_id))
        posted = await post_starter(rest, request, files)
        _report(posted, target, request)
        answer = await wait_for_answer(control, opencode, posted.thread_id, before)
    out(f"Session: {answer.session_id}")
    out()
    out(render(answer.messages, assistant_only=True).rstrip())
    return 1 if answer.failed else 0


async def post_starter(
    rest: DiscordRest, request: SendRequest, files: tuple[tuple[str, bytes], ...] = ()
) -> PostedStarter:
    """Post the marked starter message of `request` with `files` (the running bot takes it from there)."""
    from kimaki_tui.bot.cli_marker import build_starter
    from kimaki_tui.scheduling.request import PostedStarter

    starter = build_starter(request, files)
    message = await rest.send_message(request.target_id, starter.payload(), starter.files)
    message_id = str(message["id"])
    # A thread started from a message has the message's id.
    thread_id = message_id if request.target == "channel" else request.target_id
    guild = message.get("guild_id")
    return PostedStarter(request.target_id, message_id, thread_id, str(guild) if guild else None)
