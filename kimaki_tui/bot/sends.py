"""A send request (`kimaki send`, a scheduled task) acted on once its starter message is posted.

In a project channel the starter message starts a thread (named from the prompt or `--name`, in
a new git worktree with `--worktree`, or in a subfolder with `--cwd`) and a session with the
request's agent, model, permission rules and parent session; with
`--notify-only` only the thread is made, and the first reply there starts the session. In a
thread the starter is the next prompt of that thread's session. Both the marked messages the CLI
posts over REST (cli_ingress) and the scheduler's in-process tasks (scheduled) end up here.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import discord

from kimaki_tui.bot.errors import explain
from kimaki_tui.bot.threads import thread_name
from kimaki_tui.core.api import SessionSetup, SetupError
from kimaki_tui.core.prompts import FileInput, PromptInput
from kimaki_tui.errors import KimakiError, one_line
from kimaki_tui.opencode.errors import OpenCodeError
from kimaki_tui.presentation.notices import submit_notice
from kimaki_tui.presentation.split import MESSAGE_LIMIT

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot
    from kimaki_tui.scheduling.request import SendRequest

log = logging.getLogger(__name__)

CLI_AUTHOR = "kimaki-cli"


class SendFailed(KimakiError):
    """The request could not be acted on; the message says why, for the user."""


async def start_thread(
    bot: KimakiBot,
    starter: discord.Message,
    channel: discord.TextChannel,
    directory: str,
    request: SendRequest,
    *,
    text: str | None = None,
    files: tuple[FileInput, ...] = (),
) -> str:
    """Start the request's thread from `starter` and (unless notify-only) its session; the thread id.
    `text` and `files` (the prompt with attachments prepared) replace the request's bare prompt."""
    setup = await _setup(starter, request)
    name = thread_name(request.name or request.prompt)
    if request.worktree is not None or request.cwd:
        await _not_sandboxed(bot, starter, channel)
    if request.worktree is not None:
        directory, mark = await _worktree(bot, starter, directory, request.worktree or name)
        name = thread_name(mark + name)
    elif request.cwd:
        directory = await _subfolder(starter, directory, request.cwd)
    else:
        directory = await _placed(bot, starter, channel, directory)
    try:
        thread = await starter.create_thread(name=name, auto_archive_duration=1440)
    except discord.HTTPException as exc:
        raise SendFailed(f"could not start a thread in #{channel.name}: {exc.text or exc}") from None
    thread_id = str(thread.id)
    bot.core.conversations.open(thread_id, str(channel.id), directory, setup=setup)
    if not request.name and bot.output is not None:
        bot.output.titles.follow(thread_id)  # named from its prompt: the session's title wins
    if request.user_id:
        await _add_member(thread, request.user_id)
    if not request.notify_only:
        await submit(bot, starter, thread_id, request, remember=True, text=text, files=files)
    return thread_id


async def _not_sandboxed(bot: KimakiBot, starter: discord.Message, channel: discord.TextChannel) -> None:
    """--worktree and --cwd pick a folder themselves: not in a channel whose threads each get a
    sandbox over a worktree of their own (they would run outside it)."""
    sandboxes = bot.core.sandboxes
    if sandboxes.available and sandboxes.mode(str(channel.id)) != "none":
        problem = (
            f"#{channel.name} runs each new thread in its own sandbox over its own worktree: "
            "--worktree and --cwd cannot be used there"
        )
        await _refuse(starter, problem)
        raise SendFailed(problem)


async def _placed(
    bot: KimakiBot, starter: discord.Message, channel: discord.TextChannel, directory: str
) -> str:
    """Where the thread runs: `directory`, or (a sandboxed channel) its sandbox's worktree. A
    thread started from a message has the message's id."""
    try:
        return await bot.core.sandboxes.place(str(starter.id), str(channel.id), directory)
    except KimakiError as exc:
        problem = f"could not start a sandbox for this thread: {one_line(exc)}"
        await _refuse(starter, problem)
        raise SendFailed(problem) from None


async def _setup(starter: discord.Message, request: SendRequest) -> SessionSetup:
    """The session's permission rules, parent and guard (checked again: a task may be old)."""
    try:
        return SessionSetup.parse(request.permissions, request.parent_session, request.injection_guard)
    except SetupError as exc:
        await _refuse(starter, str(exc))
        raise SendFailed(str(exc)) from None


async def _subfolder(starter: discord.Message, project: str, cwd: str) -> str:
    """`--cwd`, checked again here: it must still be a folder inside the project."""
    folder = _inside(project, cwd)
    if folder is not None:
        return folder
    problem = f"`{cwd}` is not a folder inside the project `{project}`"
    await _refuse(starter, problem)
    raise SendFailed(problem)


def _inside(project: str, cwd: str) -> str | None:
    folder, root = Path(cwd).resolve(), Path(project).resolve()
    return str(folder) if folder.is_dir() and (folder == root or root in folder.parents) else None


async def _refuse(starter: discord.Message, problem: str) -> None:
    await starter.reply(f"⚠️ {problem}"[:MESSAGE_LIMIT], mention_author=False)


async def submit(
    bot: KimakiBot,
    starter: discord.Message,
    thread_id: str,
    request: SendRequest,
    *,
    remember: bool,
    text: str | None = None,
    files: tuple[FileInput, ...] = (),
) -> None:
    """The request's prompt (or `text`, with `files`) to the thread's session (`starter` is the
    message showing it)."""
    author = await _author_name(starter.guild, request.user_id)
    prompt = PromptInput(
        request.prompt if text is None else text,
        files=files,
        author_id=request.user_id or str(starter.author.id),
        author_name=author,
        # "discord": the prompt is already visible there (the starter message), no » echo needed.
        origin="discord",
        agent=request.agent,
        model=request.model,
        external_message_id=str(starter.id),
    )
    core = bot.core
    try:
        result = await core.conversations.submit(thread_id, prompt)
    except OpenCodeError as exc:
        _say(bot, thread_id, explain(exc) or str(exc))
        return
    view = core.conversations.get(thread_id)
    if remember and view is not None and view.session_id:
        # The session keeps the sender's choice for the replies that follow.
        channel_id = view.channel_id
        if request.model:
            await core.preferences.choose(
                "model", request.model, "session", channel_id=channel_id, thread_id=thread_id
            )
        if request.agent:
            await core.preferences.choose(
                "agent", request.agent, "session", channel_id=channel_id, thread_id=thread_id
            )
    notice = submit_notice(result.outcome, result.position)
    if notice:
        _say(bot, thread_id, notice)


async def _worktree(bot: KimakiBot, starter: discord.Message, directory: str, name: str) -> tuple[str, str]:
    """(worktree directory, thread name mark); SendFailed after saying why in the channel."""
    from kimaki_tui.bot.commands.worktrees import WORKTREE_MARK
    from kimaki_tui.core.worktrees import WorktreeError, create_worktree

    try:
        worktree = await create_worktree(directory, name, bot.settings.data_dir)
    except WorktreeError as exc:
        await _refuse(starter, str(exc))
        raise SendFailed(str(exc)) from None
    return str(worktree.path), WORKTREE_MARK


async def _author_name(guild: discord.Guild | None, user_id: str | None) -> str:
    if guild is None or not user_id:
        return CLI_AUTHOR
    member = guild.get_member(int(user_id))
    if member is None:
        try:
            member = await guild.fetch_member(int(user_id))
        except discord.HTTPException:
            return CLI_AUTHOR
    return member.display_name or member.name


async def _add_member(thread: discord.Thread, user_id: str) -> None:
    try:
        await thread.add_user(discord.Object(int(user_id)))
    except discord.HTTPException as exc:
        log.warning("could not add user %s to thread %s: %s", user_id, thread.id, exc)


def _say(bot: KimakiBot, thread_id: str, text: str) -> None:
    if bot.output is not None:
        bot.output.say(thread_id, text[:MESSAGE_LIMIT])
