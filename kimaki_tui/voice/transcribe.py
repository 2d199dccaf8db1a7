"""Speech → text with Google Gemini (google-genai, imported on first use: it takes ~0.8 s to import).

The audio goes inline with the project's file tree as context; transient failures (429, 5xx,
dropped connections) are retried by the SDK, and the whole call is bounded by `timeout`. Every
failure becomes a VoiceError with a readable reason. `base_url` (the `voice.gemini_base_url`
setting; the SDK itself also reads `GOOGLE_GEMINI_BASE_URL`) points it at another server, such as
the tests' local fake.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from kimaki_tui.voice.errors import InvalidKey, NoSpeech, TranscriptionFailed, TranscriptionTimeout

log = logging.getLogger(__name__)

DEFAULT_MODEL = "gemini-2.5-flash"
NO_SPEECH = "[no speech]"
RETRY_CODES = (408, 429, 500, 502, 503, 504)
INSTRUCTIONS = (
    "You transcribe voice messages that people send to a coding assistant working on a software "
    "project. Write down exactly what the speaker says, in the language they speak, as plain text: "
    "no commentary, no quotes, no timestamps, no speaker labels, no answer to what they ask. Keep "
    "their wording; leave out only filler sounds (um, uh). Spell file names, paths, functions, "
    "libraries and technical terms as they appear in the project's files listed below, or as "
    "developers write them (React, useEffect, pytest, TypeScript). If there is no intelligible "
    f"speech, answer exactly {NO_SPEECH}"
)
_KEY_REASONS = ("API_KEY_INVALID", "API key not valid", "API key expired", "API_KEY_SERVICE_BLOCKED")


@dataclass(frozen=True, slots=True)
class GeminiSettings:
    api_key: str
    model: str = DEFAULT_MODEL
    timeout: float = 60.0
    base_url: str | None = None  # None: the SDK's choice (GOOGLE_GEMINI_BASE_URL, else Google's)
    attempts: int = 3
    retry_delay: float = 1.0


def prompt_text(tree: str) -> str:
    if not tree:
        return "Transcribe this voice message."
    return f"Transcribe this voice message.\n\nProject file structure:\n{tree}"


async def transcribe(audio: bytes, mime: str, settings: GeminiSettings, *, tree: str = "") -> str:
    """The transcript of `audio` (e.g. 16 kHz WAV as "audio/wav"). Raises TranscriptionFailed,
    InvalidKey, TranscriptionTimeout or NoSpeech."""
    from google.genai import errors, types

    client = _client(settings)
    config = types.GenerateContentConfig(system_instruction=INSTRUCTIONS, temperature=0.2)
    contents: list[Any] = [prompt_text(tree), types.Part.from_bytes(data=audio, mime_type=mime)]
    try:
        async with asyncio.timeout(settings.timeout):
            response = await client.aio.models.generate_content(
                model=settings.model, contents=contents, config=config
            )
    except TimeoutError as exc:
        raise TranscriptionTimeout(settings.timeout) from exc
    except errors.APIError as exc:
        raise _api_failure(exc, settings.model) from exc
    except (OSError, _aiohttp_error()) as exc:
        raise TranscriptionFailed(f"could not reach Gemini ({type(exc).__name__}: {exc})") from exc
    finally:
        await client.aio.aclose()
    return _text_of(response)


def _client(settings: GeminiSettings) -> Any:
    from google import genai
    from google.genai import types

    retry = types.HttpRetryOptions(
        attempts=max(1, settings.attempts),
        initial_delay=settings.retry_delay,
        max_delay=max(settings.retry_delay, 8.0),
        jitter=settings.retry_delay / 2,
        http_status_codes=list(RETRY_CODES),
    )
    options = types.HttpOptions(
        base_url=settings.base_url, retry_options=retry
    )
    return genai.Client(api_key=settings.api_key, http_options=options)


def _aiohttp_error() -> type[Exception]:
    import aiohttp

    return aiohttp.ClientError


def _api_failure(exc: Any, model: str) -> TranscriptionFailed:
    code, status, message = exc.code, exc.status or "", (exc.message or "").strip()
    log.warning("Gemini refused a transcription: %s %s %s", code, status, message)
    if code in (401, 403) or (code == 400 and any(r in f"{message} {exc.details}" for r in _KEY_REASONS)):
        return InvalidKey(f"Gemini rejected the API key ({message.rstrip('.') or status}).")
    if code == 404:
        return TranscriptionFailed(f"Gemini has no model named `{model}` ({message or status}).")
    if code == 429:
        return TranscriptionFailed(f"Gemini's quota or rate limit was reached ({message or status}).")
    return TranscriptionFailed(f"Gemini answered {code} {status}: {message}".strip().rstrip(":"))


def _text_of(response: Any) -> str:
    text = (response.text or "").strip()
    if not text:
        feedback = getattr(response, "prompt_feedback", None)
        blocked = getattr(feedback, "block_reason", None)
        if blocked:
            raise TranscriptionFailed(f"Gemini blocked the request ({blocked}).")
        raise NoSpeech()
    if text.strip("[]. ").lower() == NO_SPEECH.strip("[]"):
        raise NoSpeech()
    return text
