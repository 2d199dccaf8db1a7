"""Messages in → core commands. A message in a linked project channel starts a thread (from that
message) and a session; a message in a session thread is the next prompt, or answers the question
waiting there (the core's rule, shared with the control center). A thread's messages are handled
one at a time in arrival order, also while its first message is still creating the session. Each
message is claimed once (core.handled); messages sent while kimaki was down come from bot/catchup.py.
Channels and threads this instance does not know are ignored silently (a mention of the bot gets
how to link the channel), since several machines can share one server. Mention mode and the other
routing rules are the core's (core.routing).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from kimaki_tui.bot import attachments, cli_ingress, voice
from kimaki_tui.bot.access import check, display_name, in_scope
from kimaki_tui.bot.catchup import CatchUp
from kimaki_tui.bot.commands import btw
from kimaki_tui.bot.commands.worktrees import auto_worktree
from kimaki_tui.bot.errors import explain
from kimaki_tui.bot.message_context import has_more_than_text, message_context, with_context
from kimaki_tui.bot.queued_edits import queued_key
from kimaki_tui.bot.retry import retrying
from kimaki_tui.bot.threads import thread_name
from kimaki_tui.bot.turn_reading import is_context_for, thread_message
from kimaki_tui.core.api import HistoryError, until_stored_async
from kimaki_tui.core.ordering import ArrivalOrder
from kimaki_tui.core.prompts import PromptInput
from kimaki_tui.core.routing import btw_suffix, channel_action, queue_suffix
from kimaki_tui.errors import KimakiError, one_line
from kimaki_tui.opencode.errors import OpenCodeError
from kimaki_tui.presentation.notices import LATE_NOTICE, submit_notice
from kimaki_tui.presentation.shell import shell_command, shell_report
from kimaki_tui.presentation.split import MESSAGE_LIMIT

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

_HANDLED_TYPES = (discord.MessageType.default, discord.MessageType.reply)
_THREAD_EXISTS = 160004  # "A thread has already been created for this message"
NOT_LINKED_TEXT = (
    "This channel is not linked to a project. Use `/add-project` to create a channel for a project "
    "directory, or `/create-new-project` to start a new one; then write there."
)


class IngressCog(commands.Cog):
    def __init__(self, bot: KimakiBot) -> None:
        self.bot = bot
        self.core = bot.core
        self.order = ArrivalOrder()
        self.catch_up = CatchUp(bot)
        self._told_late: set[str] = set()  # threads told "picked up late" by this catch-up
        self._opening: set[asyncio.Task[None]] = set()  # threads Discord is still creating

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*voice.DYNAMIC_ITEMS)

    @commands.Cog.listener()
    async def on_connect(self) -> None:
        # Dispatched at READY only (not RESUMED): Discord will not replay what the gap held.
        self.catch_up.session_started()

    @commands.Cog.listener()
    async def on_resumed(self) -> None:
        self.catch_up.gate.set()  # resumed: Discord replays the missed events itself

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        self._told_late.clear()
        catch_up = self.catch_up
        await catch_up.run(lambda message: self.take(message, late=catch_up.sent_before_session(message)))

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        await self.catch_up.gate.wait()  # messages missed before this session go first
        await self.take(message)

    async def take(self, message: discord.Message, *, late: bool = False) -> None:
        """Handle a message once (live, or `late`: found by the catch-up), in its thread's order."""
        if message.guild is None or message.type not in _HANDLED_TYPES:
            return
        watched = self._watched(message.channel)
        handled = self.core.handled
        if watched is not None and not handled.claim(watched, message.id):
            return  # seen live and by the catch-up: the first one handles it
        if self.bot.user is not None and message.author.id == self.bot.user.id:
            # The bot's own messages are ignored, except those `kimaki send` marked as prompts.
            try:
                await cli_ingress.handle(self.bot, message)
            finally:
                if watched is not None:
                    handled.handled(watched, message.id)
            return
        channel = message.channel
        # One message at a time per thread, in arrival order; a channel message holds the thread
        # it starts (which gets the message's id) until its prompt is submitted.
        key = str(channel.id if isinstance(channel, discord.Thread) else message.id)
        try:
            async with self.order.hold(key):
                await self._handle_until_stored(message, late)
        finally:
            if watched is not None:
                handled.handled(watched, message.id)

    async def _handle_until_stored(self, message: discord.Message, late: bool) -> None:
        """Handle the message, again while another program holds the database: a delay, not a drop."""
        await until_stored_async(functools.partial(self._handle, message, late), f"message {message.id}")

    def _watched(self, channel: object) -> str | None:
        """The channel whose watermark a message counts for: linked channels and their threads."""
        projects = self.core.projects
        if isinstance(channel, discord.TextChannel):
            return str(channel.id) if projects.directory_of(str(channel.id)) is not None else None
        if isinstance(channel, discord.Thread):
            parent = str(channel.parent_id)
            known = self.core.conversations.get(str(channel.id)) is not None
            return str(channel.id) if known or projects.directory_of(parent) is not None else None
        return None

    async def _handle(self, message: discord.Message, late: bool = False) -> None:
        channel = message.channel
        if isinstance(channel, discord.Thread):
            known = self.core.conversations.get(str(channel.id)) is not None
            if not known and not cli_ingress.adopt(self.bot, channel):
                return
            directory = None
        elif isinstance(channel, discord.TextChannel):
            directory = self.core.projects.directory_of(str(channel.id))
            if not await self._starts_thread(message, channel, directory):
                return
        else:
            return
        if not in_scope(channel, self.bot.settings.discord):
            return
        decision = check(message.author, self.bot.user, self.bot.settings.discord)
        if not decision.allowed:
            if decision.reply:
                await message.reply(decision.reply, mention_author=False, silent=True)
            return
        if not message.content and not message.attachments and not has_more_than_text(message):
            return  # stickers only: nothing to prompt with
        if isinstance(channel, discord.Thread):
            command = shell_command(message.content)
            if late:
                self._tell_late(str(channel.id))
            if command is not None:
                await self._shell(str(channel.id), command)
            else:
                await self._in_thread(message, channel)
        elif directory is not None:
            await self._new_thread(message, channel, directory, late)

    def _tell_late(self, thread_id: str) -> None:
        if thread_id not in self._told_late:
            self._told_late.add(thread_id)
            self._say(thread_id, LATE_NOTICE)

    async def _starts_thread(
        self, message: discord.Message, channel: discord.TextChannel, directory: str | None
    ) -> bool:
        """The channel rule (core.routing.channel_action): a mention in a channel not linked here
        gets how to link it; in mention mode other messages are left alone, before any access
        check, so nobody gets a refusal for a message that was not for the bot."""
        mention_mode = self.core.preferences.mention_mode(
            str(channel.id), default=self.bot.settings.discord.mention_mode
        )
        action = channel_action(
            thread_message(message, self.bot.user), linked=directory is not None, mention_mode=mention_mode
        )
        discord_settings = self.bot.settings.discord
        if (
            action == "explain"
            and in_scope(channel, discord_settings)
            and check(message.author, self.bot.user, discord_settings).allowed
        ):
            await message.reply(NOT_LINKED_TEXT, mention_author=False, silent=True)
        return action == "start"

    async def _new_thread(
        self, message: discord.Message, channel: discord.TextChannel, directory: str, late: bool = False
    ) -> None:
        # A thread started from a message has the message's id: attachments can be saved under it now.
        prepared = await self._prepare(message, str(message.id))
        audio = voice.audio_attachment(message)
        if prepared.empty and audio is None:
            # Nothing usable (only refused files): say why here rather than open an empty thread.
            if prepared.problems:
                await message.reply(_left_out(prepared), mention_author=False)
            return
        first_file = message.attachments[0].filename if message.attachments else ""
        pending = audio is not None and not message.content.strip()  # named after the transcript later
        said = message.content or first_file or prepared.text  # a forward or poll: its context
        name = voice.PENDING_THREAD_NAME if pending else thread_name(said)
        thread_id = str(message.id)
        try:
            placed = await self.core.sandboxes.place(thread_id, str(channel.id), directory)
        except KimakiError as exc:
            refusal = f"Could not start a sandbox for this thread: {one_line(exc)}"
            await message.reply(refusal, mention_author=False)
            return
        if placed == directory and self._auto_worktree(channel):
            try:
                placed, name = await auto_worktree(directory, name, thread_id, self.bot.settings.data_dir)
            except KimakiError as exc:
                await message.reply(
                    f"Could not make a worktree for this thread: {one_line(exc)}", mention_author=False
                )
                return
        directory = placed
        if self.bot.output is not None and not pending:
            # Named from the message: the session's title wins. A voice thread keeps its transcript
            # (the session's title would describe the transcription wrapper instead).
            self.bot.output.titles.follow(thread_id)
        if audio is not None:
            thread = await self._create_thread(message, name)
            if thread is not None:
                self._opened(thread_id, channel, directory, late)
                await self._voice(message, audio, thread, prepared, rename=pending)
            return
        # The prompt goes to OpenCode while Discord creates the thread; posts wait for the thread.
        self.bot.opening_threads.begin(thread_id)
        self._opened(thread_id, channel, directory, late)
        creating = asyncio.ensure_future(self._create_thread(message, name))
        try:
            await self._submit(message, thread_id, prepared)
        finally:
            # Not awaited here: the thread's next messages wait for this prompt, not for Discord.
            finishing = self._finish_opening(thread_id, creating)
            task = asyncio.create_task(finishing, name=f"kimaki-open-{thread_id}")
            self._opening.add(task)
            task.add_done_callback(self._opening.discard)

    def _auto_worktree(self, channel: discord.TextChannel) -> bool:
        default = self.bot.settings.discord.use_worktrees
        return self.core.preferences.worktrees(str(channel.id), default=default)

    async def _finish_opening(self, thread_id: str, creating: asyncio.Future[discord.Thread | None]) -> None:
        thread = await creating
        self.bot.opening_threads.finish(thread_id, created=thread is not None)
        if thread is None:
            await self.core.conversations.abort(thread_id, by="kimaki", origin="discord")

    def _opened(self, thread_id: str, channel: discord.TextChannel, directory: str, late: bool) -> None:
        self.core.conversations.open(thread_id, str(channel.id), directory)
        self.core.handled.start_from(thread_id, int(thread_id))  # what is said in it from now on counts
        if late:
            self._tell_late(thread_id)

    async def _create_thread(self, message: discord.Message, name: str) -> discord.Thread | None:
        try:
            return await retrying(lambda: self._start_thread(message, name), "starting a thread")
        except discord.HTTPException as exc:
            log.warning("could not start a thread in #%s: %s", message.channel, exc)
            await message.reply(f"I could not start a thread here: {exc.text or exc}", mention_author=False)
            return None

    async def _start_thread(self, message: discord.Message, name: str) -> discord.Thread:
        existing = self.bot.get_channel(message.id)
        if isinstance(existing, discord.Thread):
            return existing  # an earlier try made it (handling is retried while the database is locked)
        try:
            return await message.create_thread(name=name, auto_archive_duration=1440)
        except discord.HTTPException as exc:
            if exc.code != _THREAD_EXISTS:
                raise
        # An earlier try made it but its answer was lost: the thread has the message's id.
        found = self.bot.get_channel(message.id) or await self.bot.fetch_channel(message.id)
        if not isinstance(found, discord.Thread):
            raise TypeError(f"channel {message.id} is not a thread")
        return found

    async def _in_thread(self, message: discord.Message, thread: discord.Thread) -> None:
        thread_id = str(thread.id)
        audio = voice.audio_attachment(message)
        question, aside = btw_suffix(message.clean_content)
        if aside and audio is None:
            await self._aside(message, thread, question)
            return
        if audio is None and await self._answer_question(message, thread_id, message.clean_content):
            return
        prepared = await self._prepare(message, thread_id)
        if audio is not None:
            await self._voice(message, audio, thread, prepared, rename=False)
            return
        if await is_context_for(self.bot, thread_message(message, self.bot.user), thread_id):
            await self.core.conversations.note(thread_id, self._prompt(message, prepared))
            return
        await self._submit(message, thread_id, prepared)

    async def _voice(
        self,
        message: discord.Message,
        audio: discord.Attachment,
        thread: discord.Thread,
        prepared: attachments.Prepared,
        *,
        rename: bool,
        status: discord.Message | None = None,
    ) -> None:
        """Transcribe, then prompt with the transcript (and what else the message had). If that fails
        nothing is sent: the reason is in the thread, and a retry sends the whole message."""
        transcript = await voice.transcribe_message(
            self.bot, message, audio, thread, rename=rename, status=status
        )
        if transcript is None:
            return
        if await self._answer_question(message, str(thread.id), transcript):
            return
        prepared.text = voice.prompt_text(transcript, prepared.text)
        await self._submit(message, str(thread.id), prepared)

    async def retry_voice(self, message: discord.Message, *, status: discord.Message | None = None) -> bool:
        """Transcribe a voice message again (its Gemini key was just set), editing `status`;
        False when its thread is gone."""
        audio = voice.audio_attachment(message)
        channel = message.channel
        # A message in a project channel started the thread that has the message's id.
        thread = channel if isinstance(channel, discord.Thread) else message.thread
        if thread is None:
            try:
                found = self.bot.get_channel(message.id) or await self.bot.fetch_channel(message.id)
            except discord.HTTPException:
                return False
            thread = found if isinstance(found, discord.Thread) else None
        if audio is None or thread is None or self.core.conversations.get(str(thread.id)) is None:
            return False
        prepared = await self._prepare(message, str(thread.id))
        rename = thread.id == message.id and thread.name == voice.PENDING_THREAD_NAME
        await self._voice(message, audio, thread, prepared, rename=rename, status=status)
        return True

    async def _aside(self, message: discord.Message, thread: discord.Thread, question: str) -> None:
        """`… . btw`: the question is answered in a fork of the session, in its own thread."""
        try:
            aside = await btw.ask_aside(self.bot, thread, question, message.author)
        except (HistoryError, OpenCodeError, discord.HTTPException) as exc:
            self._say(str(thread.id), f"Could not ask the side question: {exc}")
            return
        self._say(str(thread.id), btw.asked_text(aside))

    async def _answer_question(self, message: discord.Message, thread_id: str, text: str) -> bool:
        """While a question waits, a plain message (or a transcript) is its answer, not a new prompt."""
        result = await self.core.conversations.answer_waiting(
            thread_id, text, by=display_name(message.author), origin="discord"
        )
        if result is None:
            return False
        if not result.ok:
            self._say(thread_id, result.message)
        return True

    async def _prepare(self, message: discord.Message, thread_id: str) -> attachments.Prepared:
        settings = self.bot.settings
        return await attachments.prepare(
            message,
            with_context(message.clean_content, await message_context(message)),
            save_dir=settings.attachments_dir / thread_id,
            max_inline=settings.discord.max_inline_text,
            max_size=settings.discord.max_attachment,
        )

    @staticmethod
    def _prompt(message: discord.Message, prepared: attachments.Prepared) -> PromptInput:
        return PromptInput(
            prepared.text,
            author_id=str(message.author.id),
            author_name=display_name(message.author),
            origin="discord",
            files=tuple(prepared.files),
            external_message_id=str(message.id),
        )

    async def _submit(self, message: discord.Message, thread_id: str, prepared: attachments.Prepared) -> None:
        if prepared.problems:
            self._say(thread_id, _left_out(prepared))
        if prepared.empty:
            return
        prepared.text, wait = queue_suffix(prepared.text)
        prompt = self._prompt(message, prepared)
        conversations = self.core.conversations
        try:
            result = await (conversations.enqueue if wait else conversations.submit)(thread_id, prompt)
        except OpenCodeError as exc:
            self._say(thread_id, explain(exc) or str(exc))
            return
        notice = submit_notice(result.outcome, result.position)
        if notice:
            # A "Queued" notice is keyed by the message, so that editing or deleting it rewrites it.
            key = queued_key(str(message.id)) if result.outcome == "queued" else None
            self._say(thread_id, notice, key)

    async def _shell(self, thread_id: str, command: str) -> None:
        """`!command`: run it in the session's directory and post what it printed."""
        try:
            result = await self.core.conversations.shell(thread_id, command)
        except OpenCodeError as exc:
            self._say(thread_id, explain(exc) or str(exc))
            return
        self._say(thread_id, shell_report(command, result))

    def _say(self, thread_id: str, text: str, key: str | None = None) -> None:
        if self.bot.output is not None:
            self.bot.output.say(thread_id, text[:MESSAGE_LIMIT], key)


def _left_out(prepared: attachments.Prepared) -> str:
    return ("⚠️ Left out: " + "; ".join(prepared.problems))[:MESSAGE_LIMIT]
