"""Voice messages end to end: a Discord user (the twin) sends an Ogg Opus voice message, the real bot
decodes it and asks the fake Gemini through google-genai's real HTTP path, then the transcript shows
in the thread, names new threads and reaches OpenCode (the scripted model's requests). Without a key
an admin sets one through the button and modal and the message is retried; every bad input gets a
clear reply in its thread and the bot keeps working."""

from __future__ import annotations

import ctypes.util
import io
import sys
import wave
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from functools import cache

import pytest

from kimaki_tui.bot import voice
from kimaki_tui.testing.discord_twin import Actor, Channel, Message
from kimaki_tui.testing.fake_gemini import FakeGemini
from kimaki_tui.testing.scripted_model import ScriptedModel, latest_user_text
from kimaki_tui.voice import decode
from tests.bot.rig import BotRig, custom_ids, is_footer
from tests.bot.test_bot_attachments import user_message
from tests.keyring_backend import MemoryKeyring, use_keyring
from tests.voice.oggopus import encode, ogg_opus, speechlike

pytestmark = [
    pytest.mark.opencode,
    pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession:DeprecationWarning"),
]
MakeRig = Callable[..., AbstractAsyncContextManager[BotRig]]
KEY = "test-gemini-key"


@cache
def voice_ogg(seconds: float) -> bytes:
    return ogg_opus(encode(speechlike(seconds), bitrate=32_000))


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    with use_keyring(MemoryKeyring()) as backend:
        yield backend


@pytest.fixture
async def gemini(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeGemini]:
    async with FakeGemini() as fake:
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.base_url)  # read by the SDK itself
        monkeypatch.setenv("GEMINI_API_KEY", KEY)
        yield fake


async def send_voice(
    actor: Actor, channel: Channel, data: bytes, *, seconds: float = 2.0, voice_message: bool = True
) -> Message:
    name = "voice-message.ogg" if voice_message else "clip.ogg"
    kwargs = {"voice": True, "voice_duration": seconds} if voice_message else {}
    return await actor.send(channel, attachments=[(name, data, "audio/ogg")], **kwargs)  # type: ignore[arg-type]


async def thread_of(rig: BotRig, message: Message) -> Channel:
    return await rig.wait_thread(predicate=lambda t: t.id == message.id)


async def status_reply(rig: BotRig, thread: Channel, start: str, timeout: float = 30.0) -> Message:
    return await rig.wait_bot_message(thread, lambda m: m.content.startswith(start), timeout)


async def test_a_voice_message_becomes_the_prompt_of_a_thread_named_after_it(
    bot_rig: BotRig, gemini: FakeGemini, scripted_model: ScriptedModel
) -> None:
    (bot_rig.project_dir / "settings_loader.py").write_text("def parse_config(): ...\n")
    said = "Please rename parse_config in settings_loader.py VOICE-NEW"
    gemini.reply(said)
    sent = await send_voice(bot_rig.users.owner, bot_rig.channel, voice_ogg(2.0))
    thread = await thread_of(bot_rig, sent)
    shown = await status_reply(bot_rig, thread, "📝")
    assert shown.content == f"📝 **Transcribed message:** {said}"
    await bot_rig.twin.wait_until(lambda: thread.name == said, 10.0, "the thread to be renamed")
    await bot_rig.wait_bot_message(thread, is_footer)
    prompt = latest_user_text([user_message(scripted_model, "VOICE-NEW")])
    assert prompt == f"Voice message transcription from Discord user:\n{said}"
    # What Gemini got: 16 kHz mono WAV of the 2 s message, and the project's files as context.
    [request] = gemini.requests
    assert (request.api_key, request.mime) == (KEY, "audio/wav")
    assert request.audio is not None
    with wave.open(io.BytesIO(request.audio)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getnframes()) == (16_000, 1, 32_000)
    assert "settings_loader.py" in request.text and "README.md" in request.text

    # In an existing thread: "transcribing…" first, then the transcript; the name stays.
    gemini.reply("REPLY: VOICE-FOLLOW second answer", delay=1.0)
    before = bot_rig.twin.messages(thread)[-1]
    await send_voice(bot_rig.users.kimaki_user, thread, voice_ogg(1.0), seconds=1.0)
    status = await bot_rig.wait_bot_message(thread, lambda m: m.content == voice.STATUS_TEXT, after=before)
    answer = await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ VOICE-FOLLOW second answer")
    # The notice was edited in place into the transcript.
    assert status.content == "📝 **Transcribed message:** REPLY: VOICE-FOLLOW second answer"
    assert answer.id > status.id
    assert thread.name == said


async def test_without_a_key_an_admin_sets_it_in_discord_and_the_message_is_retried(
    bot_rig: BotRig, gemini: FakeGemini, scripted_model: ScriptedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GEMINI_API_KEY")
    users = bot_rig.users
    sent = await send_voice(users.kimaki_user, bot_rig.channel, voice_ogg(1.0), seconds=1.0)
    thread = await thread_of(bot_rig, sent)
    notice = await status_reply(bot_rig, thread, "🔑")
    assert "no Gemini API key is set" in notice.content and "Manage Server" in notice.content
    button = f"kimaki:vkey:{bot_rig.channel.id}:{sent.id}"
    assert custom_ids(notice) == [button]
    assert thread.name == voice.PENDING_THREAD_NAME and gemini.requests == []

    refused = await (await users.kimaki_user.click(notice, button)).wait_response()
    assert refused.ephemeral and refused.content == voice.ADMINS_ONLY_TEXT

    gemini.reply("REPLY: VOICE-KEYED after the key")
    opened = await users.manager.click(notice, button)
    await users.manager.submit_modal(opened, values={"kimaki:vkey:value": "AIza-new-key-0123456789"})
    done = await status_reply(bot_rig, thread, "📝")
    assert done.id == notice.id and custom_ids(done) == []  # the notice itself, button gone
    assert bot_rig.secrets.get_gemini_key() == "AIza-new-key-0123456789"
    assert [r.api_key for r in gemini.requests] == ["AIza-new-key-0123456789"]
    await bot_rig.twin.wait_until(lambda: thread.name == "REPLY: VOICE-KEYED after the key", 10.0)
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ VOICE-KEYED after the key")
    assert "VOICE-KEYED" in latest_user_text([user_message(scripted_model, "VOICE-KEYED")])

    # A key Gemini rejects brings the button back; once a key exists, a click retries without a modal.
    gemini.fail(403, "API key not valid. Please pass a valid API key.")
    again = await send_voice(users.owner, thread, voice_ogg(1.0), seconds=1.0)
    rejected = await status_reply(bot_rig, thread, "🔑")
    assert "Gemini rejected the API key" in rejected.content
    gemini.reply("REPLY: VOICE-RETRIED works now")
    click = await users.owner.click(rejected, f"kimaki:vkey:{thread.id}:{again.id}")
    assert await click.wait_callback() == 7  # updated the notice in place, no modal
    await bot_rig.wait_bot_message(thread, lambda m: m.content == "⬥ VOICE-RETRIED works now")


async def test_bad_input_gets_a_clear_reply_and_the_bot_keeps_working(
    make_bot_rig: MakeRig, gemini: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with make_bot_rig(transcription_timeout=0.5, max_voice_seconds=1.2) as rig:
        owner, channel = rig.users.owner, rig.channel
        good = voice_ogg(1.0)

        async def reply_to(data: bytes, **kwargs: object) -> str:
            sent = await send_voice(owner, channel, data, **kwargs)  # type: ignore[arg-type]
            thread = await thread_of(rig, sent)
            shown = await status_reply(rig, thread, "⚠️")
            assert thread.name == voice.PENDING_THREAD_NAME
            return shown.content

        damaged = bytearray(good)
        damaged[len(damaged) // 2] ^= 0x10
        assert (await reply_to(bytes(damaged), seconds=1.0)).startswith(
            "⚠️ The voice message is damaged and cannot be played: Ogg page "
        )
        assert "not audio kimaki can transcribe" in await reply_to(b"\x00" * 400, seconds=1.0)
        too_long = "⚠️ The voice message is too long to transcribe (0:02; the limit is 0:01)."
        assert (await reply_to(voice_ogg(2.0), seconds=2.0)).startswith(too_long)
        # An audio file (not a voice message) has no duration: its Ogg headers tell.
        assert (await reply_to(voice_ogg(2.0), voice_message=False)).startswith(too_long)
        assert gemini.requests == []

        gemini.fail(400, "Request contains an invalid argument.")
        assert await reply_to(good, seconds=1.0) == (
            "⚠️ Transcription failed: Gemini answered 400 INVALID_ARGUMENT: "
            "Request contains an invalid argument."
        )
        gemini.reply("too late", delay=3.0)
        assert await reply_to(good, seconds=1.0) == (
            "⚠️ Transcription failed: Gemini did not answer within 0.5 s. Try again in a moment."
        )

        with monkeypatch.context() as patch:  # libopus is not installed
            patch.setattr(ctypes.util, "find_library", lambda name: None)
            for name in [m for m in sys.modules if m == "opuslib" or m.startswith("opuslib.")]:
                patch.delitem(sys.modules, name)
            patch.setattr(decode, "_LIB", None)
            missing = await reply_to(good, seconds=1.0)
        assert missing.startswith("⚠️ Voice messages need the Opus audio library (libopus)")

        await owner.send(channel, "REPLY: STILL-ALIVE")
        alive = await rig.wait_thread(predicate=lambda t: t.name == "REPLY: STILL-ALIVE")
        await rig.wait_bot_message(alive, lambda m: m.content == "⬥ STILL-ALIVE")
        gemini.reply("REPLY: VOICE-AFTER-ERRORS fine")
        sent = await send_voice(owner, channel, good, seconds=1.0)
        await rig.wait_bot_message(
            await thread_of(rig, sent), lambda m: m.content == "⬥ VOICE-AFTER-ERRORS fine"
        )
