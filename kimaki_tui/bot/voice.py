"""Voice messages in Discord: "🎤 Transcribing…" in the thread, the audio through the voice pipeline
and Gemini (with the project's file tree as context), then the transcript in place of that notice,
the thread named after it (new threads) and the transcript handed back to be the prompt.

Every failure (no libopus, a damaged or unsupported file, too long, Gemini refusing or timing out)
replaces the notice with the reason; nothing is sent to OpenCode then. Without a Gemini key the
notice offers a "Set Gemini API key" button (persistent: the custom_id carries the message) that
admins use to enter one in a modal; the voice message is then transcribed again. numpy, libopus
and google-genai load on the first voice message, not with the bot.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any, Protocol, cast

import discord

from kimaki_tui.bot import errors
from kimaki_tui.bot.access import check, display_name, subject_of
from kimaki_tui.bot.attachments import is_audio
from kimaki_tui.bot.threads import thread_name
from kimaki_tui.secrets import GEMINI_API_KEY, SecretsUnavailable
from kimaki_tui.voice.errors import AudioTooLong, InvalidKey, MissingKey, VoiceError

if TYPE_CHECKING:
    from kimaki_tui.bot.client import KimakiBot

log = logging.getLogger(__name__)

STATUS_TEXT = "🎤 Transcribing voice message…"
TRANSCRIPT_PREFIX = "📝 **Transcribed message:** "
PROMPT_PREFIX = "Voice message transcription from Discord user:\n"
PENDING_THREAD_NAME = "🎤 Voice message"
NEEDS_KEY_TEXT = (
    "🔑 Voice messages are transcribed with Google Gemini, and {why}. The server owner, an "
    "Administrator or someone with Manage Server can set a key with the button below (get one at "
    "<https://aistudio.google.com/apikey>); this message is transcribed as soon as it is set. "
    "It can also be set in kimaki's control center (Ctrl+P → Set Gemini API key) or with GEMINI_API_KEY."
)
ADMINS_ONLY_TEXT = (
    "Only the server owner, an Administrator or someone with Manage Server can set the Gemini API key."
)
DOWNLOAD_FAILED_TEXT = "⚠️ Could not download the voice message from Discord ({detail}). Try sending it again."
APOLOGY_TEXT = "⚠️ Transcription failed: something went wrong on kimaki's side. It was logged."
ENV_OVERRIDES_TEXT = (
    "The key was saved, but GEMINI_API_KEY is set in kimaki's environment and overrides it. "
    "Fix or remove GEMINI_API_KEY there and restart kimaki."
)
GONE_TEXT = "⚠️ The voice message is gone (deleted?), so there is nothing to transcribe."
RENAME_TIMEOUT = 5.0  # Discord allows two thread renames per 10 minutes; never wait out a rate limit


class VoiceRetry(Protocol):
    """The ingress cog's entry point for transcribing a message again (after a key was set)."""

    async def retry_voice(
        self, message: discord.Message, *, status: discord.Message | None = None
    ) -> bool: ...


def audio_attachment(message: discord.Message) -> discord.Attachment | None:
    """The voice message or first audio file of a message, if any."""
    return next((a for a in message.attachments if is_audio(a)), None)


def prompt_text(transcript: str, typed: str = "") -> str:
    """The prompt for OpenCode: what was typed along with the audio (if anything), then the transcript."""
    spoken = PROMPT_PREFIX + transcript
    return f"{typed.rstrip()}\n\n{spoken}" if typed.strip() else spoken


async def transcribe_message(
    bot: KimakiBot,
    message: discord.Message,
    attachment: discord.Attachment,
    thread: discord.Thread,
    *,
    rename: bool,
    status: discord.Message | None = None,
) -> str | None:
    """Transcribe into `thread` (editing `status`, or a new notice); the transcript, or None when the
    reason it failed was posted instead."""
    status = await _show(thread, status, STATUS_TEXT)
    try:
        text = await _transcribe(bot, attachment, str(thread.id))
    except (MissingKey, InvalidKey) as exc:
        why = exc.detail.rstrip(".") if isinstance(exc, InvalidKey) else "no Gemini API key is set"
        view = key_view(message.channel.id, message.id)
        await _show(thread, status, NEEDS_KEY_TEXT.format(why=why), view=view)
        return None
    except VoiceError as exc:
        await _show(thread, status, f"⚠️ {exc}")
        return None
    except discord.HTTPException as exc:
        await _show(thread, status, DOWNLOAD_FAILED_TEXT.format(detail=exc.text or exc.status))
        return None
    except Exception:  # the boundary of a transcription: the thread always gets an answer
        log.exception("transcribing voice message %s failed", message.id)
        await _show(thread, status, APOLOGY_TEXT)
        return None
    await _show(thread, status, _clip(TRANSCRIPT_PREFIX + text))
    if rename:
        await _rename(thread, text)
    return text


async def _transcribe(bot: KimakiBot, attachment: discord.Attachment, thread_id: str) -> str:
    from kimaki_tui.voice.context import project_tree
    from kimaki_tui.voice.pipeline import prepare_audio
    from kimaki_tui.voice.transcribe import GeminiSettings, transcribe

    voice, limit = bot.settings.voice, bot.settings.discord.max_attachment
    if attachment.duration is not None and attachment.duration > voice.max_voice_seconds:
        raise AudioTooLong(attachment.duration, voice.max_voice_seconds)
    if attachment.size > limit:
        raise AudioTooLong(attachment.size, limit, what="large")
    key = await asyncio.to_thread(bot.secrets.get_gemini_key)
    if not key:
        raise MissingKey()
    data = await attachment.read()
    audio = await asyncio.to_thread(prepare_audio, data, max_seconds=voice.max_voice_seconds)
    view = bot.core.conversations.get(thread_id)
    if view is None:
        raise VoiceError("This thread has no kimaki session any more.")
    tree = await project_tree(view.directory)
    settings = GeminiSettings(
        key, voice.gemini_model, timeout=voice.transcription_timeout, base_url=voice.gemini_base_url
    )
    return await transcribe(audio.data, audio.mime, settings, tree=tree)


async def _show(
    thread: discord.Thread, status: discord.Message | None, text: str, *, view: discord.ui.View | None = None
) -> discord.Message | None:
    """Post `text` as the status message, or edit it in place (removing a button unless `view`)."""
    try:
        if status is None:
            return await (thread.send(text, view=view) if view is not None else thread.send(text))
        return await status.edit(content=text, view=view)
    except discord.HTTPException as exc:
        log.warning("could not post a voice status in thread %s: %s", thread.id, exc)
        return status


async def _rename(thread: discord.Thread, transcript: str) -> None:
    try:
        async with asyncio.timeout(RENAME_TIMEOUT):
            await thread.edit(name=thread_name(transcript, PENDING_THREAD_NAME))
    except (TimeoutError, discord.HTTPException) as exc:
        log.info("kept the thread name %r (rename failed: %s)", thread.name, exc or "timeout")


def _clip(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- setting the Gemini key from Discord -----------------------------------------------------------


def admin_refusal(bot: KimakiBot, user: discord.User | discord.Member) -> str | None:
    """None for the server owner, Administrators and Manage Server holders (with access), else why not."""
    decision = check(user, bot.user, bot.settings.discord)
    if not decision.allowed:
        return decision.reply or ADMINS_ONLY_TEXT
    subject = subject_of(user, bot.user)
    return None if subject.is_owner or subject.administrator or subject.manage_guild else ADMINS_ONLY_TEXT


def key_view(channel_id: int, message_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(GeminiKeyButton(channel_id, message_id))
    return view


class GeminiKeyButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"kimaki:vkey:(?P<channel>\d+):(?P<message>\d+)"
):
    """On the "needs a key" notice: opens the key modal (or, once a key exists, just retries)."""

    def __init__(self, channel_id: int, message_id: int) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label="Set Gemini API key",
            emoji="🔑",
            style=discord.ButtonStyle.primary,
            custom_id=f"kimaki:vkey:{channel_id}:{message_id}",
        )
        super().__init__(button)
        self.channel_id = channel_id
        self.message_id = message_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> GeminiKeyButton:
        return cls(int(match["channel"]), int(match["message"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = cast("KimakiBot", interaction.client)
        if bot.core.conversations.get(str(interaction.channel_id)) is None:
            return  # another kimaki sharing this server owns the thread
        try:
            refusal = admin_refusal(bot, interaction.user)
            if refusal:
                await interaction.response.send_message(refusal, ephemeral=True)
                return
            if await asyncio.to_thread(bot.secrets.get_gemini_key):
                # Set meanwhile (control center, env): no modal needed.
                await interaction.response.edit_message(content=STATUS_TEXT, view=None)
                await retry(bot, self.channel_id, self.message_id, interaction.message)
                return
            await interaction.response.send_modal(GeminiKeyModal(self.channel_id, self.message_id))
        except Exception as exc:  # a component's boundary: the one handler explains it or logs the bug
            await errors.report(interaction, exc)


class GeminiKeyModal(discord.ui.Modal):
    key: discord.ui.TextInput[GeminiKeyModal] = discord.ui.TextInput(
        label="Gemini API key (aistudio.google.com/apikey)",
        placeholder="AIza…",
        custom_id="kimaki:vkey:value",
        min_length=10,
        max_length=200,
    )

    def __init__(self, channel_id: int, message_id: int) -> None:
        super().__init__(title="Gemini API key for voice messages", custom_id=f"kimaki:vkeym:{message_id}")
        self.channel_id = channel_id
        self.message_id = message_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        bot = cast("KimakiBot", interaction.client)
        refusal = admin_refusal(bot, interaction.user)
        if refusal:
            await interaction.response.send_message(refusal, ephemeral=True)
            return
        try:
            store = bot.secrets
            where = await asyncio.to_thread(store.set_gemini_key, self.key.value)
        except (SecretsUnavailable, ValueError) as exc:
            await interaction.response.send_message(_clip(str(exc), 1900), ephemeral=True)
            return
        log.info(
            "Gemini API key set from Discord by %s (stored in the %s)", display_name(interaction.user), where
        )
        if await asyncio.to_thread(store.source_of, GEMINI_API_KEY) == "env":
            await interaction.response.send_message(ENV_OVERRIDES_TEXT, ephemeral=True)
            return
        if interaction.message is None:
            await interaction.response.send_message("Gemini API key saved.", ephemeral=True)
        else:
            await interaction.response.edit_message(content=STATUS_TEXT, view=None)
        await retry(bot, self.channel_id, self.message_id, interaction.message)

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await errors.report(interaction, error)


async def retry(bot: KimakiBot, channel_id: int, message_id: int, status: discord.Message | None) -> None:
    """Transcribe the voice message again, editing `status` (the notice that had the button)."""
    ingress = cast("VoiceRetry | None", bot.get_cog("IngressCog"))
    try:
        channel = bot.get_channel(channel_id) or await bot.fetch_channel(channel_id)
        message: discord.Message | None = await cast(discord.TextChannel, channel).fetch_message(message_id)
    except discord.HTTPException as exc:
        log.info("voice message %s is gone: %s", message_id, exc)
        message = None
    retried = (
        message is not None and ingress is not None and await ingress.retry_voice(message, status=status)
    )
    if not retried and status is not None:
        await status.edit(content=GONE_TEXT, view=None)


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (GeminiKeyButton,)
