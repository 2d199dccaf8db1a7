"""google-genai's real HTTP path against the local fake Gemini: what is sent (model, key, audio,
the project tree as context), retries of transient errors, and every failure as a clear VoiceError.
Also: importing the bot and the voice package loads neither google-genai, libopus nor numpy."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

from kimaki_tui.testing.fake_gemini import FakeGemini
from kimaki_tui.voice.errors import InvalidKey, NoSpeech, TranscriptionFailed, TranscriptionTimeout
from kimaki_tui.voice.transcribe import DEFAULT_MODEL, GeminiSettings, transcribe

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)


@pytest.fixture
async def gemini() -> AsyncIterator[FakeGemini]:
    async with FakeGemini() as fake:
        yield fake


def settings(gemini: FakeGemini, **changes: object) -> GeminiSettings:
    values: dict[str, object] = {"api_key": "test-key", "base_url": gemini.base_url, "retry_delay": 0.01}
    values.update(changes)
    return GeminiSettings(**values)  # type: ignore[arg-type]


async def test_the_audio_and_the_project_tree_are_sent(gemini: FakeGemini) -> None:
    gemini.reply("  Rename parse_config in settings_loader.py \n")
    text = await transcribe(WAV, "audio/wav", settings(gemini), tree="src/\n  settings_loader.py")
    assert text == "Rename parse_config in settings_loader.py"
    [request] = gemini.requests
    assert (request.model, request.action, request.api_key) == (DEFAULT_MODEL, "generateContent", "test-key")
    assert request.version in ("v1", "v1beta")
    assert (request.audio, request.mime) == (WAV, "audio/wav")
    assert "Project file structure:\nsrc/\n  settings_loader.py" in request.text
    assert "Spell file names" in request.system


async def test_the_model_is_configurable_and_the_base_url_comes_from_the_environment(
    gemini: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gemini.base_url)  # read by the SDK itself
    await transcribe(WAV, "audio/wav", GeminiSettings(api_key="k", model="gemini-flash-latest"))
    assert gemini.requests[0].model == "gemini-flash-latest"


async def test_transient_errors_are_retried(gemini: FakeGemini) -> None:
    gemini.fail(503, "The model is overloaded. Please try again later.")
    gemini.fail(429, "Resource has been exhausted")
    gemini.reply("third time lucky")
    assert await transcribe(WAV, "audio/wav", settings(gemini)) == "third time lucky"
    assert len(gemini.requests) == 3


async def test_a_persistent_server_error_is_reported(gemini: FakeGemini) -> None:
    for _ in range(3):
        gemini.fail(500, "Internal error encountered.")
    with pytest.raises(TranscriptionFailed) as caught:
        await transcribe(WAV, "audio/wav", settings(gemini))
    expected = "Transcription failed: Gemini answered 500 INTERNAL: Internal error encountered."
    assert str(caught.value) == expected
    assert len(gemini.requests) == 3


@pytest.mark.parametrize("status", [400, 403])
async def test_a_rejected_key_is_its_own_error(gemini: FakeGemini, status: int) -> None:
    gemini.fail(status, "API key not valid. Please pass a valid API key.")
    with pytest.raises(
        InvalidKey, match=r"rejected the API key \(API key not valid\. Please pass a valid API key\)"
    ):
        await transcribe(WAV, "audio/wav", settings(gemini))
    assert len(gemini.requests) == 1  # not retried


async def test_an_unknown_model_and_other_client_errors_are_reported(gemini: FakeGemini) -> None:
    gemini.fail(404, "models/gemini-0 is not found for API version v1beta")
    with pytest.raises(TranscriptionFailed, match="no model named `gemini-0`"):
        await transcribe(WAV, "audio/wav", settings(gemini, model="gemini-0"))
    gemini.fail(400, "Request contains an invalid argument.")
    with pytest.raises(
        TranscriptionFailed, match="400 INVALID_ARGUMENT: Request contains an invalid argument"
    ):
        await transcribe(WAV, "audio/wav", settings(gemini))


async def test_a_slow_answer_times_out(gemini: FakeGemini) -> None:
    gemini.reply("too late", delay=5.0)
    with pytest.raises(TranscriptionTimeout, match=r"did not answer within 0\.3 s"):
        await transcribe(WAV, "audio/wav", settings(gemini, timeout=0.3))


@pytest.mark.parametrize("answer", ["[no speech]", "", "  [No speech].  "])
async def test_silence_is_no_speech(gemini: FakeGemini, answer: str) -> None:
    gemini.reply(answer)
    with pytest.raises(NoSpeech):
        await transcribe(WAV, "audio/wav", settings(gemini))


async def test_an_unreachable_server_is_reported() -> None:
    unreachable = GeminiSettings(api_key="k", base_url="http://127.0.0.1:9", attempts=1)
    with pytest.raises(TranscriptionFailed, match="could not reach Gemini"):
        await transcribe(WAV, "audio/wav", unreachable)


def test_the_bot_and_the_voice_package_import_no_heavy_modules() -> None:
    code = (
        "import sys\n"
        "import kimaki_tui.bot.client, kimaki_tui.bot.ingress, kimaki_tui.bot.voice, kimaki_tui.bot.runner\n"
        "import kimaki_tui.voice.pipeline, kimaki_tui.voice.transcribe, kimaki_tui.voice.context\n"
        "print(sorted(m for m in ('numpy', 'opuslib', 'google.genai') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
